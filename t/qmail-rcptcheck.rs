//! qmail-rcptcheck: its exit codes against a real private home (users/assign through
//! qmail-newu, locals, virtualdomains, `.qmail` files, the alias account's `.qmail-default`
//! running fastforward on a database made by setforward); and qmail-smtpd with RCPTCHECK set,
//! behind our tcpserver, refusing unknown users at RCPT time, pipelined and through smtplib.
//! Not tested here: the password-database path of the account lookup as a real user (the
//! tests' accounts are all `nobody`; qlib::rcptcheck's unit tests cover it), and root.

use crate::common::{bin, home, home_lock, install_tree, path_env, printed_port, run, whoami};
use crate::common::{Out, TmpDir};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// A tree with test.example local, virt.test virtual (prefix `vu`), and homes under `t`:
/// joe (`.qmail-default`), ann (`.qmail-list` only), lists (`+list-`), vu (`.qmail-sales`),
/// locked (no files) and alias (`.qmail-postmaster`; `.qmail-default` running fastforward
/// on `t/aliases.cdb`, which knows `info`), the alias account being the `+:` catch-all.
fn setup(t: &TmpDir) {
    install_tree(&home());
    let c = home().join("control");
    for (name, text) in [
        ("me", "test.example\n"),
        ("locals", "test.example\n"),
        ("virtualdomains", "virt.test:vu\n"),
        ("rcpthosts", "test.example\nvirt.test\n"),
    ] {
        std::fs::write(c.join(name), text).unwrap();
    }
    let (user, uid, gid) = whoami();
    let h = |n: &str| t.join(n).display().to_string();
    let files = [
        ("joe/.qmail-default", "./Maildir/\n".to_string()),
        ("ann/.qmail-list", "./Maildir/\n".into()),
        ("lists/.qmail-default", "./Maildir/\n".into()),
        ("vu/.qmail-sales", "./Maildir/\n".into()),
        ("locked/Maildir/x", String::new()),
        ("alias/.qmail-postmaster", "&joe@test.example\n".into()),
        (
            "alias/.qmail-default",
            format!("| fastforward -d {}\n", h("aliases.cdb")),
        ),
    ];
    for (rel, text) in files {
        let p = t.write(rel, text.as_bytes());
        mode(&p, 0o644);
        mode(p.parent().unwrap(), 0o755);
    }
    mode(&t.0, 0o755);
    let o = run("setforward")
        .args([t.join("aliases.cdb"), t.join("aliases.tmp")])
        .stdin("info@: joe@test.example;\n")
        .go();
    assert_eq!(o.code, 0, "{}", o.stderr());
    let line = |kind: &str, key: &str, home: &str, dash: &str| {
        format!("{kind}{key}:{user}:{uid}:{gid}:{}:{dash}::\n", h(home))
    };
    let mut assign = String::new();
    for n in ["joe", "ann", "locked"] {
        assign += &line("=", n, n, "");
        assign += &line("+", &format!("{n}-"), n, "-");
    }
    assign += &line("+", "list-", "lists", "-");
    assign += &line("+", "vu-", "vu", "-");
    assign += &line("+", "", "alias", "-");
    assign += ".\n";
    std::fs::write(home().join("users/assign"), assign).unwrap();
    let o = run("qmail-newu").go();
    assert_eq!(o.code, 0, "{}", o.stderr());
}

fn check(addr: &str) -> Out {
    run("qmail-rcptcheck").arg(addr).go()
}

fn code(addr: &str) -> i32 {
    let o = check(addr);
    assert_eq!(o.stdout(), "", "{addr}");
    o.code
}

#[test]
fn exit_codes_follow_the_delivery_path() {
    let _l = home_lock();
    let t = TmpDir::new("rcptcheck");
    setup(&t);
    for (addr, want) in [
        ("nobody@test.example", 100),
        ("NoBody@Test.Example", 100),
        ("joe@test.example", 0),
        ("JOE@TEST.EXAMPLE", 0),
        ("joe-anything@test.example", 0),
        ("ann-list@test.example", 0),
        ("ann-nothing@test.example", 100),
        ("list-whatever@test.example", 0),
        ("info@test.example", 0),
        ("Info@test.example", 0),
        ("postmaster@test.example", 0),
        ("sales@virt.test", 0),
        ("nobody@virt.test", 100),
        ("someone@elsewhere.test", 0),
        ("-joe@elsewhere.test", 0),
        ("-x@test.example", 100),
        ("locked-x@test.example", 100),
    ] {
        assert_eq!(code(addr), want, "{addr}");
    }
    // a home it cannot read: it cannot tell, so it accepts
    mode(&t.join("locked"), 0o000);
    assert_eq!(code("locked-x@test.example"), 0);
    mode(&t.join("locked"), 0o755);
    // trouble: a missing fastforward database, then a broken users/cdb, then unreadable controls
    std::fs::rename(t.join("aliases.cdb"), t.join("aside.cdb")).unwrap();
    let o = check("nobody@test.example");
    assert_eq!(o.code, 111);
    assert_eq!(
        o.stderr(),
        "qmail-rcptcheck: fatal: unable to read the fastforward database\n"
    );
    assert_eq!(code("joe@test.example"), 0);
    std::fs::write(home().join("users/cdb"), "junk").unwrap();
    let o = check("joe@test.example");
    assert_eq!(o.code, 111);
    assert_eq!(
        o.stderr(),
        "qmail-rcptcheck: fatal: unable to read users/cdb\n"
    );
    mode(&home().join("control/locals"), 0o000);
    let o = check("joe@test.example");
    assert_eq!(o.code, 111);
    assert!(o
        .stderr()
        .starts_with("qmail-rcptcheck: fatal: unable to read controls: "));
    // not one argument: usage, never a refusal
    let o = run("qmail-rcptcheck").go();
    assert_eq!(
        (o.code, o.stderr()),
        (
            111,
            "qmail-rcptcheck: usage: qmail-rcptcheck address\n".into()
        )
    );
}

/// Our tcpserver running qmail-smtpd with RCPTCHECK, queueing through a script that keeps
/// the envelope in `t/env`; killed and reaped on drop.
struct Server(Child, u16);

impl Server {
    fn start(t: &TmpDir) -> Server {
        let q = t.write(
            "queue",
            format!(
                "#!/bin/sh\ncat > {0}/msg; cat <&1 > {0}/env\n",
                t.0.display()
            )
            .as_bytes(),
        );
        mode(&q, 0o755);
        let mut child = Command::new(bin("tcpserver"))
            .env_clear()
            .env("PATH", path_env())
            .env("RCPTCHECK", bin("qmail-rcptcheck"))
            .env("QMAILQUEUE", &q)
            .args(["-1", "-R", "-H", "-l", "mx.test", "127.0.0.1", "0"])
            .arg(bin("qmail-smtpd"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let port = printed_port(&mut child);
        Server(child, port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const CLIENT: &str = r#"
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.test', timeout=20)
try:
    print('refused', sorted(s.sendmail('from@x.test', sys.argv[2:], b'Subject: x\r\n\r\nhi\r\n').items()))
except smtplib.SMTPRecipientsRefused as e:
    print('all refused', sorted(e.recipients.items()))
s.quit()
"#;

#[test]
fn smtpd_refuses_unknown_users_at_rcpt_time() {
    let _l = home_lock();
    let t = TmpDir::new("rcptcheck-smtpd");
    setup(&t);
    let srv = Server::start(&t);
    // pipelined: one write, every reply in order, only the known recipients queued
    let mut s = std::net::TcpStream::connect(("127.0.0.1", srv.1)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let rcpts = [
        "nobody@test.example",
        "joe-x@test.example",
        "info@test.example",
        "ann-nothing@test.example",
        "list-a@test.example",
        "sales@virt.test",
        "nobody@virt.test",
    ];
    let mut batch = String::from("EHLO client.test\r\nMAIL FROM:<from@x.test>\r\n");
    for r in rcpts {
        batch += &format!("RCPT TO:<{r}>\r\n");
    }
    batch += "DATA\r\n";
    s.write_all(batch.as_bytes()).unwrap();
    let got = read_until(&mut s, "354 go ahead\r\n");
    const NO: &str = "550 sorry, no mailbox here by that name (#5.1.1)\r\n";
    let ok = "250 ok\r\n";
    let want = [NO, ok, ok, NO, ok, ok, NO].concat();
    assert!(
        got.ends_with(&format!("250 SIZE\r\n{ok}{want}354 go ahead\r\n")),
        "{got}"
    );
    s.write_all(b"Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n")
        .unwrap();
    let got = read_until(&mut s, "221 ");
    assert!(got.starts_with("250 ok "), "{got}");
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(t.join("env")).unwrap()),
        "Ffrom@x.test\0Tjoe-x@test.example\0Tinfo@test.example\0Tlist-a@test.example\0Tsales@virt.test\0\0"
    );
    // smtplib: the unknown one refused at RCPT with 550, the message sent to the others
    let o = run("/usr/bin/python3")
        .args(["-c", CLIENT, &srv.1.to_string()])
        .args(["ann-nothing@test.example", "postmaster@test.example"])
        .go();
    assert_eq!(
        (o.code, o.stdout()),
        (0, "refused [('ann-nothing@test.example', (550, b'sorry, no mailbox here by that name (#5.1.1)'))]\n".into()),
        "{}",
        o.stderr()
    );
    assert_eq!(
        std::fs::read(t.join("env")).unwrap(),
        b"Ffrom@x.test\0Tpostmaster@test.example\0\0"
    );
    let o = run("/usr/bin/python3")
        .args(["-c", CLIENT, &srv.1.to_string(), "nobody@test.example"])
        .go();
    assert!(
        o.stdout()
            .starts_with("all refused [('nobody@test.example', (550, "),
        "{}",
        o.stdout()
    );
}

/// Reads from `s` until the output ends with `tail` somewhere (or the connection ends).
fn read_until(s: &mut std::net::TcpStream, tail: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(tail) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}
