//! maildirqmtp end to end, in a private network namespace (so port 209 can be bound): a leaf
//! host's Maildir of 100 messages goes in one connection to our qmail-qmtpd under our
//! tcpserver; the accepted ones arrive intact and leave the Maildir, those its qmail-queue
//! refuses for now stay, those outside its rcpthosts are bounced to their senders and
//! removed (t/maildirsmtp.rs has the helpers). A host that is down: nothing removed or
//! bounced. Usage.
//! Not tested here: the two-week lifetime (t/maildirserial.rs tests -t).

use crate::common::{run, TmpDir};
use crate::maildirsmtp::{check_hundred, leaf, setup, PREFIX};

#[test]
fn a_hundred_messages_to_our_qmail_qmtpd_in_one_connection() {
    let t = TmpDir::new("maildirqmtp");
    let (_l, d) = setup(&t, 100);
    let dir = d.to_str().unwrap();
    let l = leaf(
        &t,
        &d,
        Some(("qmail-qmtpd", 209)),
        &["maildirqmtp", dir, PREFIX, "127.0.0.1"],
    );
    check_hundred(&l, "127.0.0.1 said: qq write error or disk full (#4.3.0)");
}

#[test]
fn a_host_that_is_down_refuses_nothing() {
    let t = TmpDir::new("maildirqmtp-down");
    let (_l, d) = setup(&t, 2);
    let l = leaf(
        &t,
        &d,
        None,
        &["maildirqmtp", d.to_str().unwrap(), PREFIX, "127.0.0.1"],
    );
    assert_eq!(l.out.code, 111);
    assert!(l.out.stderr().ends_with("making no progress, giving up\n"));
    assert_eq!(l.left, ["m000", "m001", "other"]);
    assert!(l.bounces.is_empty());
}

#[test]
fn usage() {
    run("maildirqmtp").args(["dir", "prefix"]).go().expect(
        100,
        "",
        "maildirqmtp: usage: maildirqmtp dir prefix host\n",
    );
}
