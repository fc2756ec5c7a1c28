//! qmail-lspawn: users/cdb lookup, qmail-local runs, the report mapping of spec §2.3.
//! Not tested here: switching to other users (needs root: t/install.rs does it) and the
//! qmail-getpw fallback for real accounts (t/qmail-getpw.rs covers getpw itself).

use crate::common::{
    bin, home, home_lock, install_tree, run, spawn_report, start_spawner, whoami, TmpDir,
};
use std::io::Write;
use std::process::{Child, ChildStdout, Command};

fn start(dd: &str) -> (Child, ChildStdout) {
    let mut c = Command::new(bin("qmail-lspawn"));
    c.arg(dd).env_clear();
    start_spawner(c)
}

/// A home with a Maildir, users/assign mapping `joe` and `joe-*` to it, compiled.
fn setup(t: &TmpDir, uid: u32) -> std::path::PathBuf {
    install_tree(&home());
    let (user, _, gid) = whoami();
    let h = t.join("joe");
    std::fs::create_dir(&h).unwrap();
    run("maildirmake")
        .arg(h.join("Maildir"))
        .go()
        .expect(0, "", "");
    let assign = format!(
        "=joe:{user}:{uid}:{gid}:{0}:::\n+joe-:{user}:{uid}:{gid}:{0}:-::\n.\n",
        h.display()
    );
    std::fs::write(home().join("users/assign"), assign).unwrap();
    run("qmail-newu").go().expect(0, "", "");
    std::fs::write(home().join("queue/mess/0/23"), b"Subject: x\n\nhello\n").unwrap();
    h
}

#[test]
fn delivers_through_qmail_local_and_reports() {
    let _l = home_lock();
    let t = TmpDir::new("lspawn1");
    let (_, uid, _) = whoami();
    let h = setup(&t, uid);
    std::fs::write(h.join(".qmail-bad"), b"|echo no such thing; exit 100\n").unwrap();
    std::fs::write(h.join(".qmail-later"), b"|echo try later; exit 111\n").unwrap();
    let (mut c, mut out) = start("./Maildir/");
    let mut inp = c.stdin.take().unwrap();
    inp.write_all(b"\x070/23\0sender@a.example\0Joe@x.example\0")
        .unwrap();
    assert_eq!(spawn_report(&mut out), (7, b'K', "did 1+0+0\n".into()));
    let new = crate::common::ls(h.join("Maildir/new"));
    assert_eq!(new.len(), 1);
    let got = std::fs::read(h.join("Maildir/new").join(&new[0])).unwrap();
    assert_eq!(
        got,
        b"Return-Path: <sender@a.example>\nDelivered-To: Joe@x.example\nSubject: x\n\nhello\n"
    );
    inp.write_all(b"\x010/23\0s@a\0joe-bad@x.example\0\x020/23\0s@a\0joe-later@x.example\0")
        .unwrap();
    let mut two = [spawn_report(&mut out), spawn_report(&mut out)];
    two.sort();
    assert_eq!(two[0], (1, b'D', "no such thing\n".into()));
    assert_eq!(two[1], (2, b'Z', "try later\n".into()));
    inp.write_all(b"\x030/23\0s@a\0joe-none@x.example\0")
        .unwrap();
    let (slot, status, text) = spawn_report(&mut out);
    assert_eq!((slot, status), (3, b'D'), "{text}");
    assert!(text.contains("(#5.1.1)"), "{text}");
    // The trash address: an empty local part is delivered nowhere.
    inp.write_all(b"\x040/23\0s@a\0@x.example\0").unwrap();
    assert_eq!(spawn_report(&mut out), (4, b'K', "".into()));
    drop(inp);
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

#[test]
fn refuses_to_deliver_as_root() {
    let _l = home_lock();
    let t = TmpDir::new("lspawn2");
    setup(&t, 0);
    let (mut c, mut out) = start("./Maildir/");
    let mut inp = c.stdin.take().unwrap();
    inp.write_all(b"\x000/23\0s@a\0joe@x.example\0").unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (
            0,
            b'Z',
            "Not allowed to perform deliveries as root. (#4.3.0)\n".into()
        )
    );
    drop(inp);
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

#[test]
fn corrupt_users_cdb_defers() {
    let _l = home_lock();
    let t = TmpDir::new("lspawn3");
    let (_, uid, _) = whoami();
    setup(&t, uid);
    std::fs::write(home().join("users/cdb"), b"garbage").unwrap();
    let (mut c, mut out) = start("./Maildir/");
    let mut inp = c.stdin.take().unwrap();
    inp.write_all(b"\x000/23\0s@a\0joe@x.example\0").unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (
            0,
            b'Z',
            "Trouble reading users/cdb in qmail-lspawn.\n".into()
        )
    );
    drop(inp);
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

#[test]
fn usage() {
    run("qmail-lspawn").go().expect(
        100,
        "",
        "qmail-lspawn: usage: qmail-lspawn defaultdelivery\n",
    );
}
