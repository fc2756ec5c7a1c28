//! qmail-qmqpd: one package per connection, over pipes and through Debian's tcpserver on
//! 127.0.0.1, into the private queue (real qmail-queue); one answer; bad addresses abort;
//! protocol violations exit 100 with nothing queued.
//! Not tested here: the one-hour alarm (an hour). The trip from qmail-qmqpc through
//! qmail-qmqpd into a Maildir is in t/qmail-qmqpc.rs.

use crate::common::{run, Out, TmpDir};
use crate::qmail_qmtpd::{failing_queue, fresh, ns, queued, replies, Server};
use std::io::{Read, Write};

/// A QMQP package.
pub(crate) fn qmqp(msg: &[u8], sender: &[u8], rcpts: &[&[u8]]) -> Vec<u8> {
    let mut inner = [ns(msg), ns(sender)].concat();
    for r in rcpts {
        inner.extend(ns(r));
    }
    ns(&inner)
}

fn qmqpd(input: &[u8]) -> Out {
    run("qmail-qmqpd")
        .env("TCPREMOTEIP", "10.0.0.7")
        .env("TCPREMOTEHOST", "mini.example")
        .env("TCPLOCALIP", "10.0.0.1")
        .stdin(input)
        .go()
}

const BAD: &str = "Dsorry, I can't accept addresses like that (#5.1.3)";

#[test]
fn one_message_one_answer() {
    let _l = fresh(&[("rcpthosts", "elsewhere.example\n"), ("databytes", "1\n")]);
    let msg = b"Subject: q\n\nno\r\nconversion\n";
    let o = qmqpd(&qmqp(msg, b"a@mini.example", &[b"b@far.example", b"c@x"]));
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    assert_eq!(replies(&o.out), ["K"], "relays anything, no databytes");
    let r = "Received: from mini.example (10.0.0.7)\n  by 10.0.0.1 with QMQP; DATE\n";
    assert_eq!(
        queued(),
        [(
            format!("{r}Subject: q\n\nno\r\nconversion\n"),
            "Fa@mini.example|Tb@far.example|Tc@x|".into()
        )]
    );
}

#[test]
fn a_bad_address_aborts_the_message() {
    let _l = fresh(&[]);
    let long = "l".repeat(1000);
    let just = "j".repeat(999);
    for (sender, rcpt) in [
        (&b"a\0b"[..], &b"r@x"[..]),
        (b"s@x", b"r\0@x"),
        (long.as_bytes(), b"r@x"),
        (b"s@x", long.as_bytes()),
    ] {
        let o = qmqpd(&qmqp(b"m\n", sender, &[b"ok@x", rcpt]));
        assert_eq!((o.code, replies(&o.out)), (0, vec![BAD.to_string()]));
    }
    assert_eq!(queued(), []);
    let o = qmqpd(&qmqp(b"m\n", just.as_bytes(), &[just.as_bytes()]));
    assert_eq!(replies(&o.out), ["K"], "999 bytes pass");
    assert_eq!(queued().len(), 1);
}

#[test]
fn protocol_violations_exit_100_and_queue_nothing() {
    let cases: [&[u8]; 9] = [
        b"x:",
        b"013:2:m\n,1:s,1:r,,",
        b"12:2:m\n,1:s,1:r,,",
        b"14:2:m\n,1:s,1:r,,",
        b"13:2:m\n;1:s,1:r,,",
        b"13:2:m\n,1:s,1:r;,",
        b"13:2:m\n,1:s,1:r,;",
        b"13:9:m\n,1:s,1:r,,",
        b"5:2:m\n,,",
    ];
    for bad in cases {
        let _l = fresh(&[]);
        let o = qmqpd(bad);
        assert_eq!(
            (o.code, o.out.len(), o.stderr()),
            (100, 0, String::new()),
            "{bad:?}"
        );
        assert_eq!(queued(), [], "{bad:?}");
    }
    let _l = fresh(&[]);
    assert_eq!(qmqpd(b"13:2:m\n,1:s,1:r,,").code, 0, "the well-formed one");
    assert_eq!(queued().len(), 1);
    let o = qmqpd(b"200000001:");
    assert_eq!((o.code, o.out.len()), (111, 0), "a length beyond 200000000");
    let o = qmqpd(b"13:2:m\n,1:s,1:r,");
    assert_eq!((o.code, o.out.len()), (0, 0), "cut short: discarded");
    assert_eq!(queued().len(), 1);
}

#[test]
fn queue_refusals_are_the_answer() {
    let _l = fresh(&[]);
    let t = TmpDir::new("qmqpd-qq");
    for (code, answer) in [
        (31, "Dmail server permanently rejected message (#5.3.0)"),
        (71, "Zmail server temporarily rejected message (#4.3.0)"),
    ] {
        let o = run("qmail-qmqpd")
            .env("QMAILQUEUE", failing_queue(&t, code))
            .stdin(qmqp(b"m", b"", &[b"r@x"]))
            .go();
        assert_eq!((o.code, replies(&o.out)), (0, vec![answer.to_string()]));
    }
}

#[test]
fn over_tcp() {
    let _l = fresh(&[]);
    let s = Server::start("qmail-qmqpd", &[]);
    let mut c = s.connect();
    c.write_all(&qmqp(b"Subject: t\n\nhi\n", b"a@b", &[b"c@d"]))
        .unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    assert_eq!(replies(&out), ["K"], "one answer, then the server closes");
    let r = "Received: from unknown (127.0.0.1)\n  by 0 with QMQP; DATE\n";
    assert_eq!(
        queued(),
        [(format!("{r}Subject: t\n\nhi\n"), "Fa@b|Tc@d|".into())]
    );
}
