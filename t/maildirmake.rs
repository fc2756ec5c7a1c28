//! maildirmake: creates dir, tmp, new, cur with mode 0700; refuses an existing name.
//! Not tested here: nothing skipped.

use crate::common::{run, TmpDir};
use std::os::unix::fs::PermissionsExt;

#[test]
fn creates_a_private_maildir() {
    let t = TmpDir::new("maildirmake");
    let md = t.join("Maildir");
    run("maildirmake").arg(&md).go().expect(0, "", "");
    for sub in ["", "tmp", "new", "cur"] {
        let m = std::fs::metadata(md.join(sub)).expect("exists");
        assert!(m.is_dir());
        assert_eq!(m.permissions().mode() & 0o7777, 0o700, "{sub}");
    }
}

#[test]
fn refuses_an_existing_directory() {
    let t = TmpDir::new("maildirmake2");
    let md = t.join("Maildir");
    std::fs::create_dir(&md).expect("mkdir");
    let o = run("maildirmake").arg(&md).go();
    o.expect(
        111,
        "",
        &format!(
            "maildirmake: fatal: unable to mkdir {}: file already exists\n",
            md.display()
        ),
    );
}

#[test]
fn usage() {
    run("maildirmake")
        .go()
        .expect(100, "", "maildirmake: usage: maildirmake name\n");
    run("maildirmake").args(["a", "b"]).go().expect(
        100,
        "",
        "maildirmake: usage: maildirmake name\n",
    );
}
