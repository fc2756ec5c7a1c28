//! qmail-qmtpd: a QMTP client written here talks to it over pipes and, through Debian's
//! tcpserver, over 127.0.0.1; messages land in a private queue (real qmail-queue) or, through
//! a running instance, in a Maildir. Per-recipient answers, both encodings, pipelining,
//! rcpthosts, RELAYCLIENT, databytes, protocol violations. The helpers here (queue reading,
//! netstrings, tcpserver guard) serve the QMQP tests too.
//! Not tested here: the one-hour alarm (an hour); morercpthosts.cdb (lib/src/rcpthosts.rs
//! tests it); TCPREMOTEHOST and TCPREMOTEINFO from a real lookup (-H -R keep them unset).

use crate::common::{
    assign_users, home, home_lock, install_tree, ls, maildir_messages, printed_port, run, wait_for,
    Instance, Out, TmpDir,
};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};
use std::sync::MutexGuard;
use std::time::Duration;

/// A fresh private queue on the compiled-in home, with these control files.
pub(crate) fn fresh(controls: &[(&str, &str)]) -> MutexGuard<'static, ()> {
    let l = home_lock();
    install_tree(&home());
    for (name, text) in controls {
        std::fs::write(home().join("control").join(name), text).expect("control");
    }
    l
}

/// `len:payload,`
pub(crate) fn ns(payload: &[u8]) -> Vec<u8> {
    [format!("{}:", payload.len()).as_bytes(), payload, b","].concat()
}

/// A QMTP package: `enc` is the encoding byte.
pub(crate) fn qmtp(enc: u8, msg: &[u8], sender: &[u8], rcpts: &[&[u8]]) -> Vec<u8> {
    let list: Vec<u8> = rcpts.iter().flat_map(|r| ns(r)).collect();
    [ns(&[&[enc], msg].concat()), ns(sender), ns(&list)].concat()
}

/// The netstrings of a reply stream, `Kok <time> qp <pid>` shown as `K`.
pub(crate) fn replies(mut b: &[u8]) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(colon) = b.iter().position(|&c| c == b':') {
        let n: usize = std::str::from_utf8(&b[..colon]).unwrap().parse().unwrap();
        let text = String::from_utf8_lossy(&b[colon + 1..colon + 1 + n]).into_owned();
        assert_eq!(b[colon + 1 + n], b',', "reply ends with a comma");
        b = &b[colon + 2 + n..];
        let words: Vec<&str> = text.split(' ').collect();
        let is_k = words.len() == 4
            && words[0] == "Kok"
            && words[2] == "qp"
            && [words[1], words[3]]
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_digit()));
        v.push(if is_k { "K".into() } else { text });
    }
    assert!(b.is_empty(), "trailing bytes {b:?}");
    v
}

/// What is in the private queue: (message without qmail-queue's own Received line and with
/// the receiver's date as DATE, envelope after the uid and pid records with NUL as `|`),
/// sorted by message.
pub(crate) fn queued() -> Vec<(String, String)> {
    let q = home().join("queue");
    let split = qlib::conf::split();
    let mut v: Vec<(String, String)> = ls(q.join("todo"))
        .iter()
        .map(|id| {
            let n: u64 = id.parse().expect("id");
            let m = std::fs::read(q.join(format!("mess/{}/{id}", n % split))).expect("mess");
            let m = String::from_utf8_lossy(&m);
            let (first, rest) = m.split_once('\n').expect("qmail-queue's line");
            assert!(first.starts_with("Received: (qmail "), "{first}");
            let e = std::fs::read(q.join("todo").join(id)).expect("todo");
            let e = String::from_utf8_lossy(&e).replace('\0', "|");
            let e = e.splitn(3, '|').nth(2).unwrap_or_default().to_string();
            (mask_date(rest), e)
        })
        .collect();
    v.sort();
    v
}

/// `  by X with PROTO; <date>` → `  by X with PROTO; DATE` on every line.
pub(crate) fn mask_date(m: &str) -> String {
    m.split_inclusive('\n')
        .map(|l| match l.split_once(" with QM") {
            Some((a, b)) if l.starts_with("  by ") && b.contains("P; ") => {
                let proto = b.split_once("; ").map_or("", |x| x.0);
                format!("{a} with QM{proto}; DATE\n")
            }
            _ => l.to_string(),
        })
        .collect()
}

/// A stand-in for qmail-queue that swallows its input and exits with `code`.
pub(crate) fn failing_queue(t: &TmpDir, code: u8) -> std::path::PathBuf {
    let p = t.write(
        "qq",
        format!("#!/bin/sh\ncat >/dev/null; cat <&1 >/dev/null; exit {code}\n").as_bytes(),
    );
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

fn qmtpd(env: &[(&str, &str)], input: &[u8]) -> Out {
    let mut c = run("qmail-qmtpd").stdin(input);
    for (k, v) in env {
        c = c.env(k, v);
    }
    c.go()
}

const PEER: [(&str, &str); 4] = [
    ("TCPREMOTEIP", "192.0.2.9"),
    ("TCPREMOTEHOST", "client.example"),
    ("TCPREMOTEINFO", "ident"),
    ("TCPLOCALHOST", "mx.example"),
];
const RECEIVED: &str =
    "Received: from client.example (ident@192.0.2.9)\n  by mx.example with QMTP; DATE\n";
const NO_RELAY: &str = "Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)";
const BAD_RCPT: &str = "Dsorry, I can't handle that recipient (#5.1.3)";
const TOO_BIG: &str = "Dsorry, that message size exceeds my databytes limit (#5.3.4)";

#[test]
fn both_encodings_pipelined_into_the_queue() {
    let _l = fresh(&[]);
    let input = [
        qmtp(b'\n', b"Subject: a\n\nline\n", b"a@x", &[b"b@y", b"c@z"]),
        qmtp(b'\r', b"Subject: b\r\n\r\nx\ry\r\r\nend", b"", &[b"d@w"]),
    ]
    .concat();
    let o = qmtpd(&PEER, &input);
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    assert_eq!(replies(&o.out), ["K", "K", "K"]);
    assert_eq!(
        queued(),
        [
            (
                format!("{RECEIVED}Subject: a\n\nline\n"),
                "Fa@x|Tb@y|Tc@z|".into()
            ),
            (
                format!("{RECEIVED}Subject: b\n\nx\ry\r\nend"),
                "F|Td@w|".into()
            ),
        ]
    );
}

#[test]
fn each_recipient_gets_its_own_answer_in_order() {
    let _l = fresh(&[("rcpthosts", "ok.example\n.sub.example\n")]);
    let long = format!("{}@ok.example", "u".repeat(988));
    let longer = format!("{}@ok.example", "u".repeat(989));
    let rcpts: [&[u8]; 7] = [
        b"u@ok.example",
        b"u@nope.example",
        b"u@a.sub.example",
        b"u@sub.example",
        long.as_bytes(),
        longer.as_bytes(),
        b"n\0l@ok.example",
    ];
    let o = qmtpd(&PEER, &qmtp(b'\n', b"hi\n", b"s@x", &rcpts));
    assert_eq!(o.code, 0);
    assert_eq!(
        replies(&o.out),
        ["K", NO_RELAY, "K", NO_RELAY, "K", BAD_RCPT, BAD_RCPT]
    );
    let q = queued();
    assert_eq!(q.len(), 1);
    assert_eq!(
        q[0].1,
        format!("Fs@x|Tu@ok.example|Tu@a.sub.example|T{long}|")
    );
}

#[test]
fn relayclient_is_appended_and_skips_rcpthosts() {
    let _l = fresh(&[("rcpthosts", "ok.example\n")]);
    let fits = "a".repeat(993);
    let over = "a".repeat(994);
    let rcpts: [&[u8]; 3] = [b"u@nope.example", fits.as_bytes(), over.as_bytes()];
    let env = [PEER[0], ("RELAYCLIENT", "@relay")];
    let o = qmtpd(&env, &qmtp(b'\n', b"hi\n", b"s@x", &rcpts));
    assert_eq!(replies(&o.out), ["K", "K", BAD_RCPT]);
    assert_eq!(
        queued()[0].1,
        format!("Fs@x|Tu@nope.example@relay|T{fits}@relay|")
    );
}

#[test]
fn bad_sender_and_databytes_refuse_the_whole_message() {
    let _l = fresh(&[("rcpthosts", "ok.example\n"), ("databytes", "5\n")]);
    let rcpts: [&[u8]; 2] = [b"u@ok.example", b"u@nope.example"];
    let sender = "s".repeat(1000);
    let input = [
        qmtp(b'\n', b"hi", b"a\0b", &rcpts),
        qmtp(b'\n', b"hi", sender.as_bytes(), &rcpts),
        qmtp(b'\n', b"12345", b"", &rcpts[..1]),
        qmtp(b'\n', b"123456", b"", &rcpts[..1]),
        qmtp(b'\r', b"1234\r\n", b"", &rcpts[..1]),
        qmtp(b'\r', b"1234\r\r\n", b"", &rcpts[..1]),
    ]
    .concat();
    let o = qmtpd(&PEER, &input);
    let sender_bad = "Dunacceptable sender (#5.1.7)";
    assert_eq!(
        replies(&o.out),
        [sender_bad, NO_RELAY, sender_bad, NO_RELAY, "K", TOO_BIG, "K", TOO_BIG]
    );
    assert_eq!(queued().len(), 2);
    // $DATABYTES overrides the control file; 0 means no limit.
    let o = qmtpd(
        &[("DATABYTES", "3")],
        &qmtp(b'\n', b"1234", b"", &rcpts[..1]),
    );
    assert_eq!(replies(&o.out), [TOO_BIG]);
    let o = qmtpd(
        &[("DATABYTES", "0")],
        &qmtp(b'\n', b"123456", b"", &rcpts[..1]),
    );
    assert_eq!(replies(&o.out), ["K"]);
    assert_eq!(queued().len(), 3);
}

#[test]
fn protocol_violations_exit_100_and_queue_nothing() {
    let good = qmtp(b'\n', b"ok\n", b"", &[b"r@x"]);
    let cases: [&[u8]; 10] = [
        b"x:",
        b"1x:",
        b" 2:\nx,0:,4:1:r,,",
        b"0:,",
        b"2:yx,0:,4:1:r,,",
        b"2:\nx;0:,4:1:r,,",
        b"2:\nx,0:,4:9:r,,",
        b"2:\nx,0:,4:1:r;,",
        b"2:\nx,0:,4:1:r,;",
        b"2:\nx,0:,4:-:r,,",
    ];
    for bad in cases {
        let _l = fresh(&[]);
        let o = qmtpd(&[], &[&good[..], bad].concat());
        assert_eq!((o.code, o.stderr()), (100, String::new()), "{bad:?}");
        assert_eq!(
            replies(&o.out),
            ["K"],
            "answers before the violation go out"
        );
        assert_eq!(queued().len(), 1, "{bad:?}");
    }
    let _l = fresh(&[]);
    let o = qmtpd(&[], b"200000001:\n");
    assert_eq!((o.code, o.out.len()), (111, 0), "a length beyond 200000000");
    let o = qmtpd(&[], b"2:\nx,0:,200000001:");
    assert_eq!((o.code, o.out.len()), (111, 0));
    let o = qmtpd(&[], &[&good[..], b"2:\nx,0:,4:1:r,"].concat());
    assert_eq!(o.code, 0, "a package cut short is dropped, not an error");
    assert_eq!(replies(&o.out), ["K"]);
    assert_eq!(queued().len(), 1);
}

#[test]
fn queue_failure_reaches_every_accepted_recipient() {
    let _l = fresh(&[("rcpthosts", "ok.example\n")]);
    let t = TmpDir::new("qmtpd-qq");
    let qq = failing_queue(&t, 53);
    let rcpts: [&[u8]; 3] = [b"a@ok.example", b"b@nope.example", b"c@ok.example"];
    let o = run("qmail-qmtpd")
        .env("QMAILQUEUE", &qq)
        .stdin(qmtp(b'\n', b"x", b"", &rcpts))
        .go();
    let z = "Zqq write error or disk full (#4.3.0)";
    assert_eq!(
        (o.code, replies(&o.out)),
        (0, vec![z.into(), NO_RELAY.into(), z.into()])
    );
    let o = run("qmail-qmtpd")
        .env("QMAILQUEUE", t.join("missing"))
        .stdin(qmtp(b'\n', b"x", b"", &rcpts))
        .go();
    assert_eq!(
        (o.code, o.out.len()),
        (111, 0),
        "qmail-queue will not start"
    );
}

/// Debian's tcpserver on 127.0.0.1 and a free port, running `prog`; killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// the port it listens on
    pub port: u16,
}

impl Server {
    pub(crate) fn start(prog: &str, env: &[(&str, &str)]) -> Server {
        let mut c = Command::new("/usr/bin/tcpserver");
        c.args(["-1", "-R", "-H", "-l0", "127.0.0.1", "0"])
            .arg(crate::common::bin(prog))
            .env_clear()
            .env("PATH", crate::common::path_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("tcpserver");
        let port = printed_port(&mut child);
        Server { child, port }
    }

    pub(crate) fn connect(&self) -> TcpStream {
        let c = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        c
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `n` netstrings from `c`.
fn read_replies(c: &mut TcpStream, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while got.iter().filter(|&&x| x == b',').count() < n {
        assert_eq!(c.read(&mut b).expect("reply"), 1, "server closed early");
        got.push(b[0]);
    }
    replies(&got)
}

#[test]
fn over_tcp_replies_go_out_when_the_server_waits_for_input() {
    let _l = fresh(&[]);
    let s = Server::start("qmail-qmtpd", &[]);
    let mut c = s.connect();
    c.write_all(&qmtp(b'\n', b"one\n", b"a@x", &[b"b@y"]))
        .unwrap();
    // The connection stays open: the answer comes because the server needs more input.
    assert_eq!(read_replies(&mut c, 1), ["K"]);
    let two = [
        qmtp(b'\n', b"two\n", b"a@x", &[b"c@y", b"d@y"]),
        qmtp(b'\r', b"three\r\n", b"a@x", &[b"e@y"]),
    ]
    .concat();
    c.write_all(&two).unwrap();
    assert_eq!(read_replies(&mut c, 3), ["K", "K", "K"]);
    c.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"");
    let r = "Received: from unknown (127.0.0.1)\n  by 0 with QMTP; DATE\n";
    assert_eq!(
        queued(),
        [
            (format!("{r}one\n"), "Fa@x|Tb@y|".into()),
            (format!("{r}three\n"), "Fa@x|Te@y|".into()),
            (format!("{r}two\n"), "Fa@x|Tc@y|Td@y|".into()),
        ]
    );
}

#[test]
fn over_tcp_into_a_maildir() {
    let _l = home_lock();
    let t = TmpDir::new("qmtpd-md");
    let q = Instance::fresh("./Maildir/");
    let joe = assign_users(&t.0, &["joe"]).remove(0);
    let s = Server::start("qmail-qmtpd", &[]);
    let mut c = s.connect();
    let msg = b"Subject: by QMTP\r\n\r\nbody\r\n";
    c.write_all(&qmtp(
        b'\r',
        msg,
        b"ann@far.example",
        &[b"joe@test.example"],
    ))
    .unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).unwrap();
    assert_eq!(replies(&out), ["K"]);
    let md = joe.join("Maildir");
    assert!(
        wait_for(20, || ls(md.join("new")).len() == 1),
        "{}",
        q.log_text()
    );
    let m = String::from_utf8(maildir_messages(&md).remove(0)).unwrap();
    let want =
        "Received: from unknown (127.0.0.1)\n  by 0 with QMTP; DATE\nSubject: by QMTP\n\nbody\n";
    assert!(
        m.starts_with("Return-Path: <ann@far.example>\nDelivered-To: joe@test.example\n"),
        "{m}"
    );
    assert!(mask_date(&m).ends_with(want), "{m}");
}
