//! mailsubj: hands `home/bin/qmail-inject` (no arguments) a Subject line, a To line with the
//! recipients joined by spaces, an empty line and stdin; exits with qmail-inject's code;
//! no recipients at all; a missing qmail-inject.  qmail-inject is a stand-in script.
//! Not tested here: the real qmail-inject turning the spaces into commas (t/qmail-inject.rs).

use crate::common::{home, home_lock, install_tree, run};
use std::os::unix::fs::PermissionsExt;
use std::sync::MutexGuard;

fn fake_home(with_inject: bool) -> MutexGuard<'static, ()> {
    let g = home_lock();
    install_tree(&home());
    let b = home().join("bin");
    std::fs::remove_file(&b).expect("unlink bin");
    std::fs::create_dir(&b).expect("mkdir bin");
    if with_inject {
        let s = b.join("qmail-inject");
        std::fs::write(
            &s,
            "#!/bin/sh\nprintf '[%s]' \"$0\" \"$@\"\necho\ncat\nexit 3\n",
        )
        .expect("script");
        std::fs::set_permissions(&s, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    g
}

#[test]
fn builds_the_header() {
    let _g = fake_home(true);
    let inject = home().join("bin/qmail-inject");
    run("mailsubj")
        .args(["weekly report", "joe@example.com", "Bob <bob@example.org>"])
        .stdin("all is well\n")
        .go()
        .expect(
            3,
            &format!(
                "[{}]\nSubject: weekly report\nTo: joe@example.com Bob <bob@example.org>\n\n\
                 all is well\n",
                inject.display()
            ),
            "",
        );
    run("mailsubj").arg("lonely").go().expect(
        3,
        &format!("[{}]\nSubject: lonely\nTo:\n\n", inject.display()),
        "",
    );
}

#[test]
fn no_qmail_inject() {
    let _g = fake_home(false);
    let inject = home().join("bin/qmail-inject");
    run("mailsubj").args(["s", "a@b"]).go().expect(
        111,
        "",
        &format!(
            "mailsubj: fatal: unable to run {}: file does not exist\n",
            inject.display()
        ),
    );
}
