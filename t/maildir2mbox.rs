//! maildir2mbox: MAIL/MAILTMP/MAILDIR checks, the mbox written (From_ lines from
//! Return-Path, mtime order, mboxrd quoting, old contents kept), the Maildir emptied only
//! once the mbox is in place, and a lock held on the mbox making it wait.
//! Not tested here: an unlink failure after the rename (needs a directory we can read but
//! not write while owning the files: not possible as an ordinary user without races).

use crate::common::{ls, run, wait_for, Cmd, TmpDir};
use std::fs::File;
use std::time::{Duration, UNIX_EPOCH};

fn maildir(t: &TmpDir) -> std::path::PathBuf {
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(t.join(&format!("Maildir/{sub}"))).unwrap();
    }
    t.join("Maildir")
}

fn message(t: &TmpDir, rel: &str, secs: u64, data: &[u8]) {
    let p = t.write(&format!("Maildir/{rel}"), data);
    let f = File::options().write(true).open(&p).unwrap();
    f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn cmd(t: &TmpDir) -> Cmd {
    run("maildir2mbox")
        .env("MAILDIR", t.join("Maildir"))
        .env("MAIL", t.join("mbox"))
        .env("MAILTMP", t.join("mbox.tmp"))
}

#[test]
fn needs_its_environment() {
    let t = TmpDir::new("m2m-env");
    let md = maildir(&t);
    let m = t.join("mbox");
    run("maildir2mbox")
        .env("MAILDIR", &md)
        .env("MAILTMP", &m)
        .go()
        .expect(111, "", "maildir2mbox: fatal: MAIL not set\n");
    run("maildir2mbox")
        .env("MAILDIR", &md)
        .env("MAIL", &m)
        .go()
        .expect(111, "", "maildir2mbox: fatal: MAILTMP not set\n");
    run("maildir2mbox")
        .env("MAIL", &m)
        .env("MAILTMP", &m)
        .go()
        .expect(111, "", "maildir2mbox: fatal: MAILDIR not set\n");
    let gone = t.join("nope");
    cmd(&t).env("MAILDIR", &gone).go().expect(
        111,
        "",
        &format!(
            "maildir2mbox: fatal: unable to chdir to {}: file does not exist\n",
            gone.display()
        ),
    );
    std::fs::remove_dir(md.join("cur")).unwrap();
    cmd(&t).go().expect(
        111,
        "",
        "maildir2mbox: fatal: unable to scan $MAILDIR/cur: file does not exist\n",
    );
}

#[test]
fn nothing_to_do_touches_nothing() {
    let t = TmpDir::new("m2m-empty");
    maildir(&t);
    cmd(&t).go().expect(0, "", "");
    assert!(!t.join("mbox").exists());
}

#[test]
fn appends_in_mtime_order_with_quoting() {
    let t = TmpDir::new("m2m-main");
    maildir(&t);
    t.write("mbox", b"From old Thu Jan 01 00:00:00 1970\nold\n\n");
    message(
        &t,
        "cur/b:2,S",
        1_000_000_060,
        b"Return-Path: <>\nSubject: b\n\n>From x\n",
    );
    message(
        &t,
        "new/a",
        1_000_000_000,
        b"Return-Path: <j o\te@x.test>\nFrom: j\n\nFrom here\n>>From there\nFrom:x\n",
    );
    message(&t, "new/c", 1_000_000_120, b"Subject: c\n\nno newline");
    message(&t, "new/.hidden", 1_000_000_000, b"x\n");
    cmd(&t).go().expect(0, "", "");
    let want = "From old Thu Jan 01 00:00:00 1970\nold\n\n\
        From j-o-e@x.test Sun Sep 09 01:46:40 2001\n\
        Return-Path: <j o\te@x.test>\nFrom: j\n\n>From here\n>>>From there\nFrom:x\n\n\
        From MAILER-DAEMON Sun Sep 09 01:47:40 2001\nReturn-Path: <>\nSubject: b\n\n>>From x\n\n\
        From XXX Sun Sep 09 01:48:40 2001\nSubject: c\n\nno newline\n\n";
    assert_eq!(std::fs::read_to_string(t.join("mbox")).unwrap(), want);
    assert_eq!(ls(t.join("Maildir/new")), [".hidden"]);
    assert!(ls(t.join("Maildir/cur")).is_empty());
    assert!(!t.join("mbox.tmp").exists());
    // relative MAIL and MAILTMP are inside the Maildir, as in qmail
    message(&t, "new/d", 1_000_000_000, b"d\n");
    cmd(&t)
        .env("MAIL", "mb")
        .env("MAILTMP", "mb.tmp")
        .go()
        .expect(0, "", "");
    assert_eq!(
        std::fs::read_to_string(t.join("Maildir/mb")).unwrap(),
        "From XXX Sun Sep 09 01:46:40 2001\nd\n\n"
    );
}

#[test]
fn a_failure_leaves_maildir_and_mbox_alone() {
    let t = TmpDir::new("m2m-fail");
    maildir(&t);
    t.write("mbox", b"old\n");
    message(&t, "new/a", 1_000_000_000, b"a\n");
    let bad = t.join("no/tmp");
    cmd(&t).env("MAILTMP", &bad).go().expect(
        111,
        "",
        &format!(
            "maildir2mbox: fatal: unable to create {}: file does not exist\n",
            bad.display()
        ),
    );
    assert_eq!(ls(t.join("Maildir/new")), ["a"]);
    assert_eq!(std::fs::read(t.join("mbox")).unwrap(), b"old\n");
}

#[test]
fn waits_for_a_lock_on_the_mbox() {
    let t = TmpDir::new("m2m-lock");
    maildir(&t);
    t.write("mbox", b"");
    message(&t, "new/a", 1_000_000_000, b"a\n");
    let holder = File::open(t.join("mbox")).unwrap();
    holder.lock().unwrap();
    let mut bg = cmd(&t).spawn();
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        bg.0.try_wait().unwrap().is_none(),
        "did not wait for the lock"
    );
    assert_eq!(ls(t.join("Maildir/new")), ["a"]);
    assert_eq!(std::fs::read(t.join("mbox")).unwrap(), b"");
    drop(holder);
    assert!(wait_for(10, || bg.0.try_wait().unwrap().is_some()));
    assert!(bg.0.wait().unwrap().success());
    assert_eq!(
        std::fs::read_to_string(t.join("mbox")).unwrap(),
        "From XXX Sun Sep 09 01:46:40 2001\na\n\n"
    );
    assert!(ls(t.join("Maildir/new")).is_empty());
}
