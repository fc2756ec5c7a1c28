//! qreceipt: usage, no notice unless a Notice-Requested-Upon-Delivery-To address equals the
//! argument (and SENDER is a real address), the notice's text and envelope as queued through
//! QMAILQUEUE, unparsable fields, and qmail-queue's refusals.
//! Not tested here: a read error on stdin.

use crate::common::{fake_queue, run, Cmd, TmpDir};

fn cmd(t: &TmpDir, sender: &str, code: u8, msg: &str) -> Cmd {
    run("qreceipt")
        .arg("joe@x.test")
        .env("SENDER", sender)
        .env("QMAILQUEUE", fake_queue(t, code))
        .stdin(msg)
}

const ASKS: &str = "Message-ID: <1@y.test>\n\
    Notice-Requested-Upon-Delivery-To: fred@y.test,\n  Joe <joe@x.test> (me)\n\nbody\n";

#[test]
fn usage() {
    run("qreceipt").env("SENDER", "a@b").go().expect(
        100,
        "",
        "qreceipt: usage: qreceipt deliveryaddress\n",
    );
    run("qreceipt").arg("joe@x.test").go().expect(
        100,
        "",
        "qreceipt: usage: qreceipt deliveryaddress\n",
    );
}

#[test]
fn sends_a_notice_when_asked() {
    let t = TmpDir::new("qreceipt-yes");
    cmd(&t, "the sender@y.test", 0, ASKS).go().expect(0, "", "");
    assert_eq!(
        std::fs::read_to_string(t.join("q.msg")).unwrap(),
        "From: DELIVERY NOTICE SYSTEM <\"the sender\"@y.test>\n\
         To: <\"the sender\"@y.test>\n\
         Subject: success notice\n\
         \n\
         Hi! This is the qreceipt program. Your message was delivered to the\n\
         following address: joe@x.test. Thanks for asking.\n\
         Your Message-ID: <1@y.test>\n"
    );
    assert_eq!(
        std::fs::read(t.join("q.env")).unwrap(),
        b"F\0Tthe sender@y.test\0\0"
    );
}

#[test]
fn no_notice_unless_asked_for_this_address() {
    for (sender, msg) in [
        (
            "a@y.test",
            "Subject: x\n\nNotice-Requested-Upon-Delivery-To: joe@x.test\n",
        ),
        (
            "a@y.test",
            "Notice-Requested-Upon-Delivery-To: Joe@x.test, joe@x.test.\n\n",
        ),
        ("a@y.test", "Return-Receipt-To: joe@x.test\n\n"),
        ("", ASKS),
        ("#@[]", ASKS),
    ] {
        let t = TmpDir::new("qreceipt-no");
        cmd(&t, sender, 0, msg).go().expect(0, "", "");
        assert!(!t.join("q.msg").exists(), "{sender} {msg}");
    }
    // without a Message-ID, the notice has no last line
    let t = TmpDir::new("qreceipt-noid");
    cmd(
        &t,
        "a@y.test",
        0,
        "notice-requested-upon-delivery-to: <joe@x.test>\n",
    )
    .go()
    .expect(0, "", "");
    assert!(std::fs::read_to_string(t.join("q.msg"))
        .unwrap()
        .ends_with("Thanks for asking.\n"));
}

#[test]
fn unparsable_field() {
    let t = TmpDir::new("qreceipt-parse");
    cmd(
        &t,
        "a@y.test",
        0,
        "Notice-Requested-Upon-Delivery-To: (joe\n\n",
    )
    .go()
    .expect(
        100,
        "",
        "qreceipt: fatal: unable to parse this: Notice-Requested-Upon-Delivery-To: (joe\n",
    );
    assert!(!t.join("q.msg").exists());
}

#[test]
fn queue_refusals() {
    let t = TmpDir::new("qreceipt-qq");
    cmd(&t, "a@y.test", 31, ASKS).go().expect(
        100,
        "",
        "qreceipt: fatal: permanent qmail-queue error\n",
    );
    cmd(&t, "a@y.test", 53, ASKS).go().expect(
        111,
        "",
        "qreceipt: fatal: temporary qmail-queue error\n",
    );
}
