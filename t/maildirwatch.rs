//! maildirwatch: MAILDIR checks, and the first screen for a Maildir with new messages
//! (clear-screen sequence, one entry per message of new/ oldest first, cur/ and `.` files
//! and messages of the current second left out, unprintable bytes replaced, text cut at
//! 158 bytes); it keeps running until killed.
//! Not tested here: the 30-second refresh (too slow for a test).

use crate::common::{run, wait_for, TmpDir};
use std::fs::File;
use std::time::{Duration, UNIX_EPOCH};

#[test]
fn needs_a_maildir() {
    run("maildirwatch")
        .go()
        .expect(111, "", "maildirwatch: fatal: MAILDIR not set\n");
    let t = TmpDir::new("mdw-env");
    let gone = t.join("nope");
    run("maildirwatch").env("MAILDIR", &gone).go().expect(
        111,
        "",
        &format!(
            "maildirwatch: fatal: unable to chdir to {}: file does not exist\n",
            gone.display()
        ),
    );
    run("maildirwatch").env("MAILDIR", &t.0).go().expect(
        111,
        "",
        "maildirwatch: fatal: unable to scan $MAILDIR/new: file does not exist\n",
    );
}

fn message(t: &TmpDir, rel: &str, secs: Option<u64>, data: &[u8]) {
    let p = t.write(&format!("Maildir/{rel}"), data);
    if let Some(secs) = secs {
        let f = File::options().write(true).open(&p).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    }
}

#[test]
fn shows_the_new_messages_and_keeps_running() {
    let t = TmpDir::new("mdw");
    std::fs::create_dir_all(t.join("Maildir/tmp")).unwrap();
    std::fs::create_dir_all(t.join("Maildir/cur")).unwrap();
    message(
        &t,
        "new/2",
        Some(2_000),
        b"Return-Path: <a@b.test>\nDelivered-To: joe@x.test\nFrom: A\n  <a@b.test>\n\
          Subject: hi\n\nbody\x01\n",
    );
    let long = format!("Subject: {}\n\n", "s".repeat(300));
    message(&t, "new/1", Some(1_000), long.as_bytes());
    message(&t, "new/.x", Some(1_000), b"Subject: hidden\n\n");
    message(&t, "cur/3:2,", Some(1_000), b"Subject: old\n\n");
    message(&t, "new/now", None, b"Subject: now\n\n");
    let out = t.join("out");
    let mut c = run("maildirwatch").env("MAILDIR", t.join("Maildir"));
    c.raw().stdout(File::create(&out).unwrap());
    let mut bg = c.spawn();
    let want = format!(
        "\x1b[;H\x1b[;JFROM ? TO <?>\n{}\n\n\
         FROM <a@b.test> TO <joe@x.test>\n\x1b[1mFrom: A/  <a@b.test>\x1b[0m\nhi//body//\n\n",
        &format!("{}/", "s".repeat(300))[..158]
    );
    let got = || std::fs::read_to_string(&out).unwrap_or_default();
    assert!(wait_for(10, || got() == want), "{:?}", got());
    std::thread::sleep(Duration::from_millis(300));
    assert!(bg.0.try_wait().unwrap().is_none(), "it should keep running");
    assert_eq!(got(), want);
}
