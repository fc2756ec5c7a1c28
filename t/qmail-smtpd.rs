//! qmail-smtpd: transcripts over stdin/stdout pipes, byte for byte, for every command and
//! error; what reaches the queue (the real qmail-queue in a private tree, or a QMAILQUEUE
//! script); PIPELINING answered in one write; hostile clients leaving nothing in the queue;
//! and Python's smtplib talking to it through Debian's tcpserver, into a Maildir.
//! Not tested here: running as qmaild under tcpserver -u (needs root); out of memory; a
//! failing getifaddrs; the write timeout (a client that never reads its replies).

use crate::common::{
    assign_users, bin, home, home_lock, install_tree, ls, path_env, printed_port, run, wait_for,
    Instance, Out, TmpDir,
};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const GREET: &str = "220 mx.example ESMTP\r\n";
const TX: &[u8] = b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n";
const TX_OK: &str = "250 ok\r\n250 ok\r\n354 go ahead\r\n";
const TOO_BIG: &str = "552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n";

/// A fresh private tree with `me` = mx.example and the given control files.
fn setup(controls: &[(&str, &str)]) {
    install_tree(&home());
    std::fs::write(home().join("control/me"), "mx.example\n").unwrap();
    for (name, text) in controls {
        std::fs::write(home().join("control").join(name), text).unwrap();
    }
}

/// qmail-smtpd with `input` on stdin (closed after it) and the connection's variables.
fn smtpd(input: &[u8], env: &[(&str, &str)]) -> Out {
    let mut c = run("qmail-smtpd")
        .env("TCPREMOTEIP", "192.0.2.7")
        .env("TCPLOCALIP", "192.0.2.1")
        .stdin(input);
    for (k, v) in env {
        c = c.env(k, v);
    }
    c.go()
}

/// `250 ok <time> qp <pid>` → `250 ok T qp P` (checking the shape).
fn mask(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out).into_owned();
    text.split_inclusive("\r\n")
        .map(|l| match l.strip_prefix("250 ok ") {
            Some(rest) if rest.contains(" qp ") => {
                let (t, p) = rest.trim_end().split_once(" qp ").unwrap();
                assert!(t.parse::<u64>().is_ok() && p.parse::<u32>().is_ok(), "{l}");
                "250 ok T qp P\r\n".to_string()
            }
            _ => l.to_string(),
        })
        .collect()
}

fn q(rel: &str) -> PathBuf {
    home().join("queue").join(rel)
}

/// Every file in the queue's message directories.
fn leftovers() -> Vec<String> {
    let mut v = Vec::new();
    for d in ["pid", "intd", "todo"] {
        v.extend(ls(q(d)).into_iter().map(|f| format!("{d}/{f}")));
    }
    for s in ls(q("mess")) {
        v.extend(
            ls(q("mess").join(&s))
                .into_iter()
                .map(|f| format!("mess/{s}/{f}")),
        );
    }
    v
}

/// The queued messages: (envelope from its `F` on, message).
fn queued() -> Vec<(Vec<u8>, Vec<u8>)> {
    ls(q("todo"))
        .iter()
        .map(|id| {
            let env = std::fs::read(q("todo").join(id)).unwrap();
            let at = env.windows(2).position(|w| w == b"\0F").unwrap() + 1;
            let n: u64 = id.parse().unwrap();
            let mess = std::fs::read(q(&format!("mess/{}", qlib::queue::mess_rel(n))));
            (env[at..].to_vec(), mess.unwrap())
        })
        .collect()
}

/// The message without qmail-queue's own Received line (checked for its shape).
fn after_qq_line(m: &[u8]) -> String {
    let text = String::from_utf8_lossy(m).into_owned();
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(first.starts_with("Received: (qmail "), "{first}");
    rest.to_string()
}

/// The date in a Received line's second line → `DATE`.
fn mask_date(m: &str) -> String {
    m.lines()
        .map(|l| match l.split_once(" with SMTP; ") {
            Some((a, d)) if d.ends_with(" -0000") => format!("{a} with SMTP; DATE\n"),
            _ => format!("{l}\n"),
        })
        .collect()
}

/// An executable script in `t`.
fn script(t: &TmpDir, name: &str, body: &str) -> PathBuf {
    let p = t.write(name, format!("#!/bin/sh\n{body}").as_bytes());
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// qmail-smtpd with stdin kept open: the test writes and reads at its own pace. Killed and
/// reaped on drop (and after 60 s in any case).
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    got: Vec<u8>,
}

impl Live {
    fn start(env: &[(&str, &str)]) -> Live {
        let mut c = Command::new(bin("qmail-smtpd"));
        c.env_clear().env("PATH", path_env());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(60);
            while Instant::now() < end {
                std::thread::sleep(Duration::from_millis(100));
                if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                    return;
                }
            }
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        });
        Live {
            stdin: child.stdin.take(),
            stdout: child.stdout.take().unwrap(),
            child,
            got: Vec::new(),
        }
    }

    fn send(&mut self, b: &[u8]) {
        self.stdin.as_mut().unwrap().write_all(b).unwrap();
    }

    /// Reads until `tail` appears in the output (counting the last bytes already read), or
    /// the end; returns all the output so far.
    fn until(&mut self, tail: &str) -> String {
        let from = self.got.len().saturating_sub(tail.len());
        let mut buf = [0u8; 65536];
        while !self.got[from..]
            .windows(tail.len())
            .any(|w| w == tail.as_bytes())
        {
            match self.stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&self.got).into_owned()
    }

    /// Waits for the exit: the code.
    fn exit(&mut self) -> i32 {
        self.child.wait().unwrap().code().unwrap_or(-1)
    }

    /// write(2) calls made so far (from /proc/PID/io).
    fn writes(&self) -> u64 {
        let io = std::fs::read_to_string(format!("/proc/{}/io", self.child.id())).unwrap();
        io.lines()
            .find_map(|l| l.strip_prefix("syscw: "))
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_command_and_its_reply() {
    let _l = home_lock();
    setup(&[("smtpgreeting", "mx.example\n")]);
    let o = smtpd(
        b"HELO pc.example\r\nEHLO pc.example\r\nehlo\r\nNOOP x y\r\nVRFY root\r\nHELP me\r\nRSET\r\n\
          EXPN staff\r\nTURN\r\nAUTH LOGIN\r\nSTARTTLS\r\nSIZE\r\n\r\n  NOOP\r\nnOoP\nQUIT now\r\nNOOP\r\n",
        &[],
    );
    o.expect(
        0,
        &format!(
            "{GREET}250 mx.example\r\n\
             250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE\r\n\
             250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE\r\n\
             250 ok\r\n252 send some mail, i'll try my best\r\n\
             214 notqmail home page: https://notqmail.org\r\n250 flushed\r\n\
             502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n\
             502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n\
             502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n\
             502 unimplemented (#5.5.1)\r\n250 ok\r\n221 mx.example\r\n"
        ),
        "",
    );
    // the greeting text is smtpgreeting, else me; the client leaving without QUIT exits 1
    setup(&[("smtpgreeting", "mail.example  hello there \t\n")]);
    smtpd(b"HELO x\r\n", &[]).expect(
        1,
        "220 mail.example  hello there ESMTP\r\n250 mail.example  hello there\r\n",
        "",
    );
}

#[test]
fn a_message_reaches_the_queue_with_its_received_line() {
    let _l = home_lock();
    setup(&[]);
    let o = smtpd(
        b"EHLO PC.example\r\nMAIL FROM:<a@b.example> BODY=8BITMIME\r\nRCPT TO:<c@d.example>\r\n\
          RCPT TO:<c@d.example>\r\nRCPT TO:<e@f.example>\r\nDATA\r\nSubject: hi\r\n\r\n\
          ..leading dot\r\n8bit \xe9\xff\r\nCR \r alone\r\n.\r\nQUIT\r\n",
        &[
            ("TCPREMOTEHOST", "pc.example"),
            ("TCPREMOTEINFO", "joe"),
            ("TCPLOCALHOST", "mx.example"),
        ],
    );
    assert_eq!(o.code, 0);
    assert_eq!(
        mask(&o.out),
        format!(
            "{GREET}250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE\r\n\
             250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n250 ok T qp P\r\n\
             221 mx.example\r\n"
        )
    );
    let all = queued();
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].0,
        b"Fa@b.example\0Tc@d.example\0Tc@d.example\0Te@f.example\0"
    );
    assert_eq!(
        mask_date(&after_qq_line(&all[0].1)),
        "Received: from pc.example (joe@192.0.2.7)\n  by mx.example with SMTP; DATE\n\
         Subject: hi\n\n.leading dot\n8bit \u{fffd}\u{fffd}\nCR \r alone\n"
    );
    assert!(all[0].1.ends_with(b"8bit \xe9\xff\nCR \r alone\n"));
    // DATA lines have no length limit
    let line = vec![b'L'; 3 << 20];
    let o = smtpd(&[TX, &line[..], b"\r\n.\r\n"].concat(), &[]);
    assert_eq!(mask(&o.out), format!("{GREET}{TX_OK}250 ok T qp P\r\n"));
    let long = queued()
        .into_iter()
        .find(|(_, m)| m.len() > 3 << 20)
        .unwrap()
        .1;
    assert!(after_qq_line(&long).ends_with(&format!("-0000\n{}\n", "L".repeat(3 << 20))));
}

#[test]
fn received_line_helo_and_hostile_names() {
    let _l = home_lock();
    setup(&[]);
    let o = smtpd(
        &[b"HELO evil\tname\r\n", TX, b".\r\n"].concat(),
        &[("TCPREMOTEHOST", "h\x01st<>"), ("TCPLOCALHOST", "[mx]")],
    );
    assert_eq!(
        mask(&o.out),
        format!("{GREET}250 mx.example\r\n{TX_OK}250 ok T qp P\r\n")
    );
    // no HELO at all: no HELO part; nothing known of the peer: unknown
    let o = run("qmail-smtpd").stdin([TX, b".\r\n"].concat()).go();
    assert_eq!(mask(&o.out), format!("{GREET}{TX_OK}250 ok T qp P\r\n"));
    let mut got: Vec<String> = queued()
        .iter()
        .map(|(_, m)| mask_date(&after_qq_line(m)))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "Received: from h?st?? (HELO evil?name) (192.0.2.7)\n  by [mx] with SMTP; DATE\n",
            "Received: from unknown (unknown)\n  by unknown with SMTP; DATE\n",
        ]
    );
}

#[test]
fn commands_out_of_order_get_503() {
    let _l = home_lock();
    setup(&[]);
    let o = smtpd(
        b"RCPT TO:<a@b>\r\nDATA\r\nMAIL FROM:<x@y>\r\nDATA\r\nRSET\r\nRCPT TO:<a@b>\r\n\
          MAIL FROM:<x@y>\r\nRCPT TO:<a@b>\r\nHELO again\r\nDATA\r\nMAIL FROM:<x@y>\r\n\
          RCPT TO:<a@b>\r\nDATA\r\n.\r\nDATA\r\nRCPT TO:<a@b>\r\n",
        &[],
    );
    assert_eq!(
        mask(&o.out),
        format!(
            "{GREET}503 MAIL first (#5.5.1)\r\n503 MAIL first (#5.5.1)\r\n250 ok\r\n\
             503 RCPT first (#5.5.1)\r\n250 flushed\r\n503 MAIL first (#5.5.1)\r\n250 ok\r\n\
             250 ok\r\n250 mx.example\r\n503 MAIL first (#5.5.1)\r\n250 ok\r\n250 ok\r\n\
             354 go ahead\r\n250 ok T qp P\r\n503 MAIL first (#5.5.1)\r\n503 MAIL first (#5.5.1)\r\n"
        )
    );
    assert_eq!(queued().len(), 1);
}

#[test]
fn addresses_quoting_routes_and_syntax_errors() {
    let _l = home_lock();
    setup(&[("localiphost", "here.example\n")]);
    let long = "x".repeat(893);
    let input = format!(
        "MAIL FROM:<>\r\nRCPT TO:<\"a b\\\"c\"@d.example>\r\nRCPT TO:<@r1.example,@r2.example:u@v.example>\r\n\
         RCPT TO:<a\\>b@c.example> NOTIFY=NEVER\r\nRCPT TO: plain@e.example junk\r\nRCPT <bare@f.example>\r\n\
         RCPT TO:<u@[127.0.0.1]>\r\nRCPT TO:<u@[0.0.0.0]>\r\nRCPT TO:<u@[192.0.2.250]>\r\n\
         RCPT TO:<{long}@g.ex>\r\nRCPT TO:<{long}@gg.exa>\r\nRCPT TO:<nul\0@h.example>\r\n\
         RCPT TO:<unterminated@i.example\r\nDATA\r\n.\r\n"
    );
    let o = smtpd(input.as_bytes(), &[]);
    assert_eq!(
        mask(&o.out),
        format!(
            "{GREET}{}555 syntax error (#5.5.4)\r\n555 syntax error (#5.5.4)\r\n250 ok\r\n\
             354 go ahead\r\n250 ok T qp P\r\n",
            "250 ok\r\n".repeat(10)
        )
    );
    let env = &queued()[0].0;
    assert_eq!(
        String::from_utf8_lossy(env),
        format!(
            "F\0Ta b\"c@d.example\0Tu@v.example\0Ta>b@c.example\0Tplain@e.example\0\
             Tbare@f.example\0Tu@here.example\0Tu@here.example\0Tu@[192.0.2.250]\0\
             T{long}@g.ex\0Tunterminated@i.example\0"
        )
    );
    // without control/localiphost, me is the name
    std::fs::remove_file(home().join("control/localiphost")).unwrap();
    std::fs::remove_file(q(&format!("todo/{}", ls(q("todo"))[0]))).unwrap();
    let o = smtpd(
        b"MAIL FROM:<>\r\nRCPT TO:<u@[127.0.0.1]>\r\nDATA\r\n.\r\n",
        &[],
    );
    assert!(
        mask(&o.out).ends_with("250 ok T qp P\r\n"),
        "{}",
        o.stdout()
    );
    assert_eq!(queued()[0].0, b"F\0Tu@mx.example\0");
}

#[test]
fn rcpthosts_morercpthosts_and_relayclient() {
    let _l = home_lock();
    setup(&[("rcpthosts", "example.org\n.example.net\n")]);
    let mut m = qlib::cdbmake::Make::new(std::io::Cursor::new(Vec::new())).unwrap();
    m.add(b"more.example", b"").unwrap();
    let cdb = m.finish().unwrap().into_inner();
    std::fs::write(home().join("control/morercpthosts.cdb"), cdb).unwrap();
    let input = b"MAIL FROM:<a@b>\r\nRCPT TO:<x@EXAMPLE.org>\r\nRCPT TO:<x@mx.example.net>\r\n\
                  RCPT TO:<x@example.net>\r\nRCPT TO:<x@more.example>\r\nRCPT TO:<x@sub.more.example>\r\n\
                  RCPT TO:<postmaster>\r\nRCPT TO:<x@elsewhere.example>\r\n";
    let nope = "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n";
    smtpd(input, &[]).expect(
        1,
        &format!("{GREET}250 ok\r\n250 ok\r\n250 ok\r\n{nope}250 ok\r\n{nope}250 ok\r\n{nope}"),
        "",
    );
    // RELAYCLIENT (even empty) lets everything through, and is appended to each recipient
    let o = smtpd(
        &[&input[..], b"DATA\r\n.\r\n"].concat(),
        &[("RELAYCLIENT", "@fixme")],
    );
    assert!(
        mask(&o.out).ends_with("250 ok\r\n354 go ahead\r\n250 ok T qp P\r\n"),
        "{}",
        o.stdout()
    );
    assert_eq!(
        String::from_utf8_lossy(&queued()[0].0),
        "Fa@b\0Tx@EXAMPLE.org@fixme\0Tx@mx.example.net@fixme\0Tx@example.net@fixme\0\
         Tx@more.example@fixme\0Tx@sub.more.example@fixme\0Tpostmaster@fixme\0Tx@elsewhere.example@fixme\0"
    );
    let o = smtpd(
        b"MAIL FROM:<a@b>\r\nRCPT TO:<x@elsewhere.example>\r\n",
        &[("RELAYCLIENT", "")],
    );
    o.expect(1, &format!("{GREET}250 ok\r\n250 ok\r\n"), "");
    // without rcpthosts, morercpthosts.cdb is not consulted and everything is accepted
    std::fs::remove_file(home().join("control/rcpthosts")).unwrap();
    smtpd(b"MAIL FROM:<a@b>\r\nRCPT TO:<x@elsewhere.example>\r\n", &[]).expect(
        1,
        &format!("{GREET}250 ok\r\n250 ok\r\n"),
        "",
    );
}

#[test]
fn badmailfrom_is_reported_at_rcpt() {
    let _l = home_lock();
    setup(&[(
        "badmailfrom",
        "# spammers\nSpam@Example.com\n@junk.example\n",
    )]);
    let bad = "553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n";
    smtpd(
        b"MAIL FROM:<spam@example.COM>\r\nRCPT TO:<a@b>\r\nDATA\r\nMAIL FROM:<x@JUNK.example>\r\n\
          RCPT TO:<a@b>\r\nMAIL FROM:<x@sub.junk.example>\r\nRCPT TO:<a@b>\r\nMAIL FROM:<>\r\nRCPT TO:<a@b>\r\n",
        &[("RELAYCLIENT", "")],
    )
    .expect(
        1,
        &format!(
            "{GREET}250 ok\r\n{bad}503 RCPT first (#5.5.1)\r\n250 ok\r\n{bad}250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n"
        ),
        "",
    );
    assert!(leftovers().is_empty());
}

#[test]
fn size_extension_and_databytes() {
    let _l = home_lock();
    setup(&[("databytes", "20\n")]);
    let body = b"0123456789\r\n0123456\r\n.\r\n"; // 19 stored bytes
    let o = smtpd(
        &[
            b"EHLO x\r\nMAIL FROM:<a@b> SIZE=21\r\nRCPT TO:<c@d>\r\nMAIL FROM:<a@b> size=20 BODY=7BIT\r\n",
            &b"RCPT TO:<c@d>\r\nDATA\r\n"[..],
            body,
            TX,
            b"0123456789\r\n01234567\r\n.\r\nQUIT\r\n",
        ]
        .concat(),
        &[],
    );
    assert_eq!(
        mask(&o.out),
        format!(
            "{GREET}250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 20\r\n\
             {TOO_BIG}503 MAIL first (#5.5.1)\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n\
             250 ok T qp P\r\n{TX_OK}250 ok T qp P\r\n221 mx.example\r\n"
        )
    );
    // 21 stored bytes: too many; DATABYTES overrides the control file
    let over = [TX, b"0123456789\r\n012345678\r\n.\r\n"].concat();
    let o = smtpd(&over, &[]);
    assert_eq!(mask(&o.out), format!("{GREET}{TX_OK}{TOO_BIG}"));
    let o = smtpd(&[b"EHLO x\r\n", &over[..]].concat(), &[("DATABYTES", "21")]);
    assert!(mask(&o.out)
        .ends_with("250 SIZE 21\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n250 ok T qp P\r\n"));
    let o = smtpd(
        b"EHLO x\r\nMAIL FROM:<a@b> SIZE=999999999999\r\n",
        &[("DATABYTES", "0")],
    );
    assert!(o.out.ends_with(b"250 SIZE\r\n250 ok\r\n"), "{}", o.stdout());
    assert_eq!(queued().len(), 3);
}

#[test]
fn hop_counting() {
    let _l = home_lock();
    setup(&[]);
    let hops = |n: usize| "Received: x\r\nDelivered-To: y\r\n".repeat(n / 2);
    let msg = |h: &str| [TX, h.as_bytes(), b"\r\nReceived: in body\r\n.\r\n"].concat();
    let o = smtpd(&msg(&hops(100)), &[]);
    assert_eq!(
        mask(&o.out),
        format!("{GREET}{TX_OK}554 too many hops, this message is looping (#5.4.6)\r\n")
    );
    assert!(leftovers().is_empty());
    let o = smtpd(&msg(&hops(98)), &[]);
    assert_eq!(mask(&o.out), format!("{GREET}{TX_OK}250 ok T qp P\r\n"));
    assert_eq!(queued().len(), 1);
}

#[test]
fn bare_lf_in_data_is_refused_and_nothing_queued() {
    let _l = home_lock();
    setup(&[]);
    for data in [
        &b"Subject: x\nbody\r\n.\r\n"[..],
        b"a\r\n\n.\r\n",
        b"ok\r\n.\n",
    ] {
        let o = smtpd(&[TX, data, b"QUIT\r\n"].concat(), &[]);
        o.expect(
            1,
            &format!("{GREET}{TX_OK}451 See https://cr.yp.to/docs/smtplf.html.\r\n"),
            "",
        );
        assert_eq!(leftovers(), Vec::<String>::new());
    }
    // bare LF ending a command line is fine
    smtpd(b"NOOP\nQUIT\n", &[]).expect(0, &format!("{GREET}250 ok\r\n221 mx.example\r\n"), "");
}

#[test]
fn hostile_command_lines() {
    let _l = home_lock();
    setup(&[]);
    let long = vec![b'A'; 5000];
    let exact = [b"NOOP ".as_slice(), &[b'x'; 4091]].concat();
    let mut garbage = Vec::new();
    for i in 0..300 {
        garbage.extend_from_slice(format!("GARBAGE{i} \x00").as_bytes());
        garbage.extend_from_slice(b"\xff\r\n");
    }
    let o = smtpd(
        &[
            &long[..],
            b"\r\n",
            &exact,
            b"\r\n",
            &garbage,
            b"MAIL FROM:<a\0b@c>\r\nQUIT\r\n",
        ]
        .concat(),
        &[],
    );
    o.expect(
        0,
        &format!(
            "{GREET}500 line too long (#5.5.2)\r\n250 ok\r\n{}555 syntax error (#5.5.4)\r\n221 mx.example\r\n",
            "502 unimplemented (#5.5.1)\r\n".repeat(300)
        ),
        "",
    );
    // an endless line is read and dropped in bounded memory, then the session goes on
    let endless = vec![b'x'; 20 << 20];
    let o = smtpd(&[&endless[..], b"\nNOOP\r\n"].concat(), &[]);
    o.expect(
        1,
        &format!("{GREET}500 line too long (#5.5.2)\r\n250 ok\r\n"),
        "",
    );
    // a client leaving in the middle of a line or of DATA: silent exit, nothing queued
    smtpd(b"NOOP\r\nNOO", &[]).expect(1, &format!("{GREET}250 ok\r\n"), "");
    smtpd(&[TX, b"Subject: cut off\r\n"].concat(), &[]).expect(1, &format!("{GREET}{TX_OK}"), "");
    assert!(leftovers().is_empty());
}

#[test]
fn pipelined_replies_leave_in_one_write() {
    let _l = home_lock();
    setup(&[]);
    let mut s = Live::start(&[]);
    assert_eq!(s.until("\r\n"), GREET);
    let before = s.writes();
    s.send(
        b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nNOOP\r\nBOGUS\r\nRSET\r\nVRFY x\r\n\
          MAIL FROM:<g@h>\r\nRCPT TO:<i@j>\r\n",
    );
    let want = format!(
        "{GREET}250-mx.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE\r\n250 ok\r\n250 ok\r\n\
         250 ok\r\n250 ok\r\n502 unimplemented (#5.5.1)\r\n250 flushed\r\n\
         252 send some mail, i'll try my best\r\n250 ok\r\n250 ok\r\n"
    );
    assert_eq!(s.until(&want[want.len() - 16..]), want);
    assert_eq!(s.writes() - before, 1, "all replies in one write(2)");
    // DATA and the message in the same write as the commands, then QUIT
    s.send(&[TX, b"Subject: piped\r\n\r\nbody\r\n.\r\nQUIT\r\n"].concat());
    let all = s.until("221 mx.example\r\n");
    assert_eq!(
        mask(&all.as_bytes()[want.len()..]),
        format!("{TX_OK}250 ok T qp P\r\n221 mx.example\r\n")
    );
    assert_eq!(s.exit(), 0);
    assert_eq!(queued().len(), 1);
}

#[test]
fn a_silent_client_times_out() {
    let _l = home_lock();
    setup(&[("timeoutsmtpd", "1\n")]);
    let mut s = Live::start(&[]);
    assert_eq!(
        s.until("(#4.4.2)\r\n"),
        format!("{GREET}451 timeout (#4.4.2)\r\n")
    );
    assert_eq!(s.exit(), 1);
    // stalled in the middle of DATA: the queue run is abandoned
    let mut s = Live::start(&[]);
    s.send(&[TX, b"Subject: stalled\r\n\r\nhalf a message\r\n"].concat());
    let o = s.until("(#4.4.2)\r\n");
    assert_eq!(o, format!("{GREET}{TX_OK}451 timeout (#4.4.2)\r\n"));
    assert_eq!(s.exit(), 1);
    assert_eq!(leftovers(), Vec::<String>::new());
}

#[test]
fn a_hundred_megabytes_over_databytes_is_read_and_refused() {
    let _l = home_lock();
    setup(&[("databytes", "1000000\n")]);
    let mut s = Live::start(&[]);
    let mut w = s.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let line = [vec![b'y'; 65534], b"\r\n".to_vec()].concat();
        w.write_all(TX)?;
        for _ in 0..1600 {
            w.write_all(&line)?;
        }
        w.write_all(b".\r\nQUIT\r\n")
    });
    let o = s.until("221 mx.example\r\n");
    feeder.join().unwrap().unwrap();
    assert_eq!(o, format!("{GREET}{TX_OK}{TOO_BIG}221 mx.example\r\n"));
    assert_eq!(s.exit(), 0);
    assert_eq!(leftovers(), Vec::<String>::new());
}

#[test]
fn qmailqueue_failures_map_to_replies() {
    let _l = home_lock();
    setup(&[]);
    let t = TmpDir::new("smtpd-qq");
    let cases: [(&str, &str); 7] = [
        (
            "cat >/dev/null; exit 31",
            "554 mail server permanently rejected message (#5.3.0)",
        ),
        (
            "cat >/dev/null; exit 53",
            "451 qq write error or disk full (#4.3.0)",
        ),
        (
            "cat >/dev/null; exit 11",
            "554 envelope address too long for qq (#5.1.3)",
        ),
        (
            "cat >/dev/null; exit 99",
            "451 qq temporary problem (#4.3.0)",
        ),
        (
            "cat >/dev/null; echo 'Dgo away (#5.7.1)' >&6; exit 82",
            "554 go away (#5.7.1)",
        ),
        (
            "cat >/dev/null; printf 'Zlater (#4.3.0)' >&6; exit 82",
            "451 later (#4.3.0)",
        ),
        ("exit 0", "451 qq write error or disk full (#4.3.0)"),
    ];
    for (i, (body, reply)) in cases.iter().enumerate() {
        let qq = script(&t, &format!("qq{i}"), &format!("{body}\n"));
        let o = smtpd(
            &[
                TX,
                b"Subject: big enough to fill a pipe\r\n\r\n",
                &[b'z'; 200_000],
                b"\r\n.\r\nNOOP\r\n",
            ]
            .concat(),
            &[("QMAILQUEUE", qq.to_str().unwrap())],
        );
        o.expect(1, &format!("{GREET}{TX_OK}{reply}\r\n250 ok\r\n"), "");
    }
    // a queue program that cannot be started
    let o = smtpd(
        &[TX, b"NOOP\r\n"].concat(),
        &[("QMAILQUEUE", "/nonexistent/qq")],
    );
    o.expect(
        1,
        &format!("{GREET}250 ok\r\n250 ok\r\n451 qqt failure (#4.3.0)\r\n250 ok\r\n"),
        "",
    );
    assert!(leftovers().is_empty());
}

#[test]
fn ok_only_after_qmail_queue_exited_zero() {
    let _l = home_lock();
    setup(&[]);
    let t = TmpDir::new("smtpd-durable");
    let marker = t.join("exited");
    // a queue program that takes its time, and notes its pid just before exiting 0
    let qq = script(
        &t,
        "slowqq",
        &format!(
            "cat >/dev/null; cat <&1 >/dev/null; sleep 1; echo $$ > {}.tmp; mv {}.tmp {}\nexit 0\n",
            marker.display(),
            marker.display(),
            marker.display()
        ),
    );
    let mut s = Live::start(&[("QMAILQUEUE", qq.to_str().unwrap())]);
    s.send(&[TX, b"x\r\n.\r\n"].concat());
    let o = s.until(" qp ");
    assert!(o.contains("354 go ahead\r\n250 ok "), "{o}");
    let pid = std::fs::read_to_string(&marker).expect("qmail-queue had exited before the 250");
    let o = s.until("\r\n");
    assert!(o.ends_with(&format!(" qp {}\r\n", pid.trim())), "{o}");
    // with the real qmail-queue, the message is committed (todo/) when the 250 arrives
    let mut s = Live::start(&[]);
    s.send(&[TX, b"x\r\n.\r\n"].concat());
    s.until(" qp ");
    assert_eq!(ls(q("todo")).len(), 1);
    assert_eq!(
        leftovers().iter().filter(|f| f.starts_with("pid/")).count(),
        0
    );
}

#[test]
fn unreadable_or_missing_controls_refuse_to_start() {
    let _l = home_lock();
    setup(&[]);
    std::fs::remove_file(home().join("control/me")).unwrap();
    let refuse = "421 unable to read controls (#4.3.0)\r\n";
    smtpd(b"QUIT\r\n", &[]).expect(111, refuse, "");
    std::fs::write(home().join("control/smtpgreeting"), "only.greeting\n").unwrap();
    smtpd(b"QUIT\r\n", &[]).expect(0, "220 only.greeting ESMTP\r\n221 only.greeting\r\n", "");
    // a directory where a control file should be: unreadable
    std::fs::create_dir(home().join("control/badmailfrom")).unwrap();
    smtpd(b"QUIT\r\n", &[]).expect(111, refuse, "");
}

/// Debian's tcpserver and ours.
fn tcpservers() -> [PathBuf; 2] {
    [PathBuf::from("/usr/bin/tcpserver"), bin("tcpserver")]
}

/// A tcpserver (Debian's or ours) running qmail-smtpd on a free port of 127.0.0.1, killed
/// and reaped on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(tcpserver: &PathBuf, rules: Option<&PathBuf>, env: &[(&str, &str)]) -> Server {
        let mut c = Command::new(tcpserver);
        c.env_clear()
            .env("PATH", path_env())
            .args(["-1", "-R", "-H", "-l", "mx.test"]);
        if let Some(r) = rules {
            c.arg("-x").arg(r);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c
            .args(["127.0.0.1", "0"])
            .arg(bin("qmail-smtpd"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port = printed_port(&mut child);
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const CLIENT: &str = r#"
import smtplib, sys
port, sender, rcpt, size = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=20)
s.ehlo()
print('features', sorted(s.esmtp_features.items()))
msg = b'Subject: via smtplib\r\n\r\nhello\r\n' + b'x' * size + b'\r\n.dot\r\n'
try:
    s.sendmail(sender, [rcpt], msg)
    print('sent')
except smtplib.SMTPRecipientsRefused as e:
    for r, (c, m) in e.recipients.items():
        print('refused', r, c, m.decode())
except smtplib.SMTPSenderRefused as e:
    print('sender refused', e.smtp_code, e.smtp_error.decode())
s.quit()
"#;

fn smtplib(port: u16, sender: &str, rcpt: &str, size: usize) -> String {
    let o = run("/usr/bin/python3")
        .args([
            "-c",
            CLIENT,
            &port.to_string(),
            sender,
            rcpt,
            &size.to_string(),
        ])
        .go();
    assert_eq!(o.code, 0, "{}", o.stderr());
    o.stdout()
}

#[test]
fn smtplib_through_tcpserver_into_a_maildir() {
    let _l = home_lock();
    let t = TmpDir::new("smtpd-smtplib");
    let _i = Instance::fresh("./Maildir/");
    let joe = assign_users(&t.0, &["joe"]).remove(0);
    std::fs::write(home().join("control/rcpthosts"), "test.example\n").unwrap();
    std::fs::write(home().join("control/databytes"), "1000\n").unwrap();
    let new = joe.join("Maildir/new");
    for tcpserver in tcpservers() {
        let srv = Server::start(&tcpserver, None, &[]);
        let features = "features [('8bitmime', ''), ('pipelining', ''), ('size', '1000')]\n";
        assert_eq!(
            smtplib(srv.port, "from@x.test", "joe@test.example", 0),
            format!("{features}sent\n")
        );
        assert!(wait_for(20, || ls(&new).len() == 1), "{tcpserver:?}");
        let m = std::fs::read_to_string(new.join(&ls(&new)[0])).unwrap();
        let (head, rest) = m.split_once("Received: (qmail ").unwrap();
        assert_eq!(
            head,
            "Return-Path: <from@x.test>\nDelivered-To: joe@test.example\n"
        );
        let rest = rest.split_once('\n').unwrap().1;
        assert_eq!(
            mask_date(rest),
            "Received: from unknown (HELO client.test) (127.0.0.1)\n  by mx.test with SMTP; DATE\n\
             Subject: via smtplib\n\nhello\n\n.dot\n"
        );
        std::fs::remove_file(new.join(&ls(&new)[0])).unwrap();
        // not in rcpthosts: 553; too big for databytes: refused at MAIL by its SIZE
        assert_eq!(
            smtplib(srv.port, "from@x.test", "someone@elsewhere.test", 0),
            format!("{features}refused someone@elsewhere.test 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\n")
        );
        assert_eq!(
            smtplib(srv.port, "from@x.test", "joe@test.example", 2000),
            format!("{features}sender refused 552 sorry, that message size exceeds my databytes limit (#5.3.4)\n")
        );
    }
}

/// A rule setting RELAYCLIENT lets 127.0.0.1 relay and nothing else does: every pairing of
/// rules compiler and tcpserver, Debian's and ours.
#[test]
fn tcprules_relayclient_lets_the_client_relay() {
    let _l = home_lock();
    setup(&[("rcpthosts", "test.example\n")]);
    let t = TmpDir::new("smtpd-relay");
    let capture = script(
        &t,
        "capture",
        &format!("cat > {0}/msg; cat <&1 > {0}/env\n", t.0.display()),
    );
    let rules = t.write("rules", b"127.0.0.1:allow,RELAYCLIENT=\"\"\n:allow\n");
    let env = [("QMAILQUEUE", capture.to_str().unwrap())];
    for tcprules in [PathBuf::from("/usr/bin/tcprules"), bin("tcprules")] {
        let o = Command::new(&tcprules)
            .arg(t.join("rules.cdb"))
            .arg(t.join("rules.tmp"))
            .stdin(std::fs::File::open(&rules).unwrap())
            .status()
            .unwrap();
        assert!(o.success());
        for tcpserver in tcpservers() {
            let _ = std::fs::remove_file(t.join("env"));
            let srv = Server::start(&tcpserver, Some(&t.join("rules.cdb")), &env);
            let out = smtplib(srv.port, "from@x.test", "someone@elsewhere.test", 0);
            assert!(
                out.ends_with("\nsent\n"),
                "{tcprules:?} {tcpserver:?}: {out}"
            );
            assert_eq!(
                std::fs::read(t.join("env")).unwrap(),
                b"Ffrom@x.test\0Tsomeone@elsewhere.test\0\0"
            );
            drop(srv);
            let srv = Server::start(&tcpserver, None, &env);
            let out = smtplib(srv.port, "from@x.test", "someone@elsewhere.test", 0);
            assert!(out.ends_with("\nrefused someone@elsewhere.test 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\n"), "{out}");
        }
    }
}
