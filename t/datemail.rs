//! datemail: runs `home/bin/predate home/bin/sendmail args...`, so sendmail gets its
//! arguments untouched and a local-time Date line on top of stdin; sendmail's exit code;
//! a missing predate.  sendmail is a stand-in script in a private `home/bin`.
//! Not tested here: the real sendmail (t/sendmail.rs).

use crate::common::{bin, home, home_lock, install_tree, run};
use std::os::unix::fs::PermissionsExt;
use std::sync::MutexGuard;

fn fake_home(with_predate: bool) -> MutexGuard<'static, ()> {
    let g = home_lock();
    install_tree(&home());
    let b = home().join("bin");
    std::fs::remove_file(&b).expect("unlink bin");
    std::fs::create_dir(&b).expect("mkdir bin");
    if with_predate {
        std::os::unix::fs::symlink(bin("predate"), b.join("predate")).expect("link predate");
    }
    let s = b.join("sendmail");
    std::fs::write(
        &s,
        "#!/bin/sh\nprintf '[%s]' \"$0\" \"$@\"\necho\ncat\nexit 7\n",
    )
    .expect("script");
    std::fs::set_permissions(&s, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    g
}

#[test]
fn sendmail_through_predate() {
    let _g = fake_home(true);
    let o = run("datemail")
        .args(["-t", "-f", "joe@example.com", "a b"])
        .env("TZ", "EST5")
        .stdin("To: x@y\n\nhi\n")
        .go();
    assert_eq!((o.code, o.stderr()), (7, String::new()), "{o:?}");
    let out = o.stdout();
    let mut lines = out.lines();
    let sendmail = home().join("bin/sendmail");
    assert_eq!(
        lines.next(),
        Some(format!("[{}][-t][-f][joe@example.com][a b]", sendmail.display()).as_str())
    );
    let date = lines.next().unwrap();
    assert!(
        date.starts_with("Date: ") && date.ends_with(" -0500"),
        "{date}"
    );
    assert_eq!(lines.collect::<Vec<_>>(), ["To: x@y", "", "hi"]);
}

#[test]
fn no_predate() {
    let _g = fake_home(false);
    let predate = home().join("bin/predate");
    run("datemail").go().expect(
        111,
        "",
        &format!(
            "datemail: fatal: unable to run {}: file does not exist\n",
            predate.display()
        ),
    );
}
