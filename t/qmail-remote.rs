//! qmail-remote against t/smtpserver.py (a scriptable SMTP server), our qmail-smtpd and our
//! qmail-qmtpd, inside a private network namespace with the fake DNS server: routes, MX
//! order and fallbacks, ESMTP (EHLO/HELO, SIZE, 8BITMIME, PIPELINING), the server's replies
//! turned into reports, hostile servers, IPv6, QMTP, the timeout table and outgoingip.
//! Reports are shown with `|` for each `\0`.

use crate::common::{fake_queue, home, home_lock, install_tree, netns, run, TmpDir};
use std::path::Path;

const MSG: &[u8] = b"From: a@b.test\nSubject: hi\n\n.leading dot\nline\n";

struct Run<'a> {
    zone: &'a str,
    /// t/smtpserver.py's configuration without "ready" and "log" (JSON object members)
    server: &'a str,
    controls: &'a [(&'a str, &'a str)],
    args: &'a [&'a str],
    msg: &'a [u8],
    /// shell run beside the server before qmail-remote (more servers)
    extra: &'a str,
    /// times qmail-remote is run
    times: usize,
}

impl Default for Run<'_> {
    fn default() -> Self {
        Run {
            zone: "A nothing.test 127.0.0.9\n",
            server: r#""listen": [["127.0.0.1", 2525]]"#,
            controls: &[("smtproutes", "dest.test:[127.0.0.1]:2525\n")],
            args: &["dest.test", "a@b.test", "c@dest.test"],
            msg: MSG,
            extra: "",
            times: 1,
        }
    }
}

/// qmail-remote's reports (each `\0` as `|`, one run a line) and the server's log lines.
fn go(r: Run) -> (String, Vec<String>) {
    install_tree(&home());
    let c = home().join("control");
    std::fs::write(c.join("me"), "client.test\n").unwrap();
    for (name, text) in r.controls {
        std::fs::write(c.join(name), text).unwrap();
    }
    let t = TmpDir::new("remote");
    let (log, ready) = (t.join("log"), t.join("ready"));
    std::fs::write(&log, b"").unwrap();
    t.write(
        "cfg.json",
        format!(
            r#"{{{}, "ready": "{}", "log": "{}"}}"#,
            r.server,
            ready.display(),
            log.display()
        )
        .as_bytes(),
    );
    let msg = t.write("msg", r.msg);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("t/smtpserver.py");
    let sh = format!(
        "/usr/bin/python3 {} {} & {}\n\
         n=0; while [ ! -e {} ]; do n=$((n+1)); [ $n -gt 400 ] && exit 125; sleep 0.05; done\n\
         i=0; while [ $i -lt {} ]; do i=$((i+1)); qmail-remote \"$@\" < {} | tr '\\0' '|'; echo; done",
        script.display(),
        t.join("cfg.json").display(),
        r.extra,
        ready.display(),
        r.times,
        msg.display()
    );
    let o = netns::with_dns(r.zone, run("sh").arg("-c").arg(sh).arg("sh").args(r.args));
    assert_eq!(o.code, 0, "{}", o.stderr());
    let lines = std::fs::read_to_string(&log).unwrap();
    (o.stdout(), lines.lines().map(str::to_string).collect())
}

fn has(log: &[String], text: &str) -> bool {
    log.iter().any(|l| l.contains(text))
}

#[test]
fn a_route_delivers_with_esmtp_and_the_message_arrives_intact() {
    let _l = home_lock();
    let msg = b"Subject: caf\xe9\n\n.dot\n..two\nend\r\n";
    let (out, log) = go(Run {
        server: r#""listen": [["127.0.0.1", 2525]], "ehlo": ["PIPELINING", "8BITMIME", "SIZE 100000"]"#,
        msg,
        ..Run::default()
    });
    assert_eq!(
        out,
        "r|K127.0.0.1 accepted message.\nRemote host said: 250 ok queued\n|\n"
    );
    assert!(has(&log, r#""cmd": "EHLO client.test""#), "{log:?}");
    assert!(
        has(
            &log,
            r#""cmd": "MAIL FROM:<a@b.test> SIZE=37 BODY=8BITMIME""#
        ),
        "{log:?}"
    );
    assert!(has(&log, r#""cmd": "RCPT TO:<c@dest.test>""#), "{log:?}");
    assert!(
        has(
            &log,
            r#""data": "Subject: caf\u00e9\r\n\r\n.dot\r\n..two\r\nend\r\n""#
        ),
        "{log:?}"
    );
}

#[test]
fn commands_are_pipelined_only_when_the_server_offers_it() {
    let _l = home_lock();
    for (ext, pipelined) in [(r#"["PIPELINING"]"#, true), ("[]", false)] {
        let server = format!(r#""listen": [["127.0.0.1", 2525]], "ehlo": {ext}, "slow_mail": 2"#);
        let (out, log) = go(Run {
            server: &server,
            ..Run::default()
        });
        assert!(out.starts_with("r|K127.0.0.1 accepted"), "{out}");
        assert!(
            has(&log, &format!(r#""pipelined": {pipelined}"#)),
            "{ext}: {log:?}"
        );
        assert!(!has(&log, "SIZE=") && !has(&log, "BODY="), "{log:?}");
    }
}

#[test]
fn helo_when_ehlo_is_refused() {
    let _l = home_lock();
    let (out, log) = go(Run {
        server: r#""listen": [["127.0.0.1", 2525]], "ehlo": null"#,
        ..Run::default()
    });
    assert!(out.starts_with("r|K127.0.0.1 accepted"), "{out}");
    assert!(
        has(&log, "EHLO client.test") && has(&log, "HELO client.test"),
        "{log:?}"
    );
    assert!(has(&log, r#""cmd": "MAIL FROM:<a@b.test>""#), "{log:?}");
}

#[test]
fn a_message_over_the_servers_size_limit_is_refused_before_mail() {
    let _l = home_lock();
    let (out, log) = go(Run {
        server: r#""listen": [["127.0.0.1", 2525]], "ehlo": ["SIZE 20"]"#,
        ..Run::default()
    });
    assert_eq!(
        out,
        "DConnected to 127.0.0.1 but the message is larger than its limit of 20 bytes (#5.3.4).\nRemote host said: SIZE 20\n|\n"
    );
    assert!(!has(&log, "MAIL FROM"), "{log:?}");
}

#[test]
fn the_servers_replies_become_reports() {
    let _l = home_lock();
    let rcpts =
        r#""RCPT": {"hard@dest.test": "550 no such user", "soft@dest.test": "450 try later"}"#;
    let server = format!(r#""listen": [["127.0.0.1", 2525]], "replies": {{{rcpts}}}"#);
    let args = [
        "dest.test",
        "a@b.test",
        "ok@dest.test",
        "hard@dest.test",
        "soft@dest.test",
    ];
    let (out, _) = go(Run {
        server: &server,
        args: &args,
        ..Run::default()
    });
    assert_eq!(
        out,
        "r|h127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\n|\
         s127.0.0.1 does not like recipient.\nRemote host said: 450 try later\n|\
         K127.0.0.1 accepted message.\nRemote host said: 250 ok queued\n|\n"
    );
    let cases = [
        (r#""MAIL": "451-greylisted\n451 second line""#, "ZConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 451-greylisted\n451 second line\n|"),
        (r#""MAIL": "553 go away""#, "DConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 553 go away\n|"),
        (r#""RCPT": "550 nobody""#, "h127.0.0.1 does not like recipient.\nRemote host said: 550 nobody\n|DGiving up on 127.0.0.1.\n|"),
        (r#""DATA": "554 no data""#, "rD127.0.0.1 failed on DATA command.\nRemote host said: 554 no data\n|"),
        (r#""DOT": "452 full""#, "rZ127.0.0.1 failed after I sent the message.\nRemote host said: 452 full\n|"),
        (r#""DOT": "554 spam""#, "rD127.0.0.1 failed after I sent the message.\nRemote host said: 554 spam\n|"),
    ];
    for (replies, want) in cases {
        let server = format!(r#""listen": [["127.0.0.1", 2525]], "replies": {{{replies}}}"#);
        let (out, _) = go(Run {
            server: &server,
            ..Run::default()
        });
        assert_eq!(out.replace("r|", "r"), format!("{want}\n"), "{replies}");
    }
}

#[test]
fn hostile_servers_give_deferrals_not_hangs() {
    let _l = home_lock();
    let long = "x".repeat(9000);
    let long_reply = format!(r#""DOT": "250 {long}""#);
    let cases: [(&str, &str, &str); 5] = [
        (
            r#""greeting": "partial:220 no end""#,
            "",
            "ZConnected to 127.0.0.1 but connection died. (#4.4.2)\n|",
        ),
        (
            r#""greeting": "hello there""#,
            "",
            "ZConnected to 127.0.0.1 but greeting failed.\nRemote host said: hello there\n|",
        ),
        (
            r#""replies": {"DOT": "250-first\n25x odd continuation""#,
            "}",
            "rK127.0.0.1 accepted message.\nRemote host said: 250-first\n25x odd continuation\n|",
        ),
        (
            r#""replies": {"DOT": "stall"}"#,
            "",
            "rZConnected to 127.0.0.1 but connection died. Possible duplicate! (#4.4.2)\n|",
        ),
        (
            r#""replies": {"RCPT": "partial:250 ok"}"#,
            "",
            "ZConnected to 127.0.0.1 but connection died. (#4.4.2)\n|",
        ),
    ];
    for (cfg, close, want) in cases {
        let server = format!(r#""listen": [["127.0.0.1", 2525]], {cfg}{close}"#);
        let controls = [
            ("smtproutes", "dest.test:[127.0.0.1]:2525\n"),
            ("timeoutremote", "2\n"),
        ];
        // A hang (past timeoutremote's 2 s) ends in the harness's 30 s kill, which `go`
        // reports as a failure: no clock is read here.
        let (out, _) = go(Run {
            server: &server,
            controls: &controls,
            ..Run::default()
        });
        assert_eq!(out.replace("r|", "r"), format!("{want}\n"), "{cfg}");
    }
    let server = format!(r#""listen": [["127.0.0.1", 2525]], "replies": {{{long_reply}}}"#);
    let (out, _) = go(Run {
        server: &server,
        ..Run::default()
    });
    assert!(
        out.starts_with("r|K127.0.0.1 accepted message.\nRemote host said: 250 xxx"),
        "{out}"
    );
    assert!(out.len() < 5100, "{} bytes", out.len());
}

#[test]
fn a_partial_final_line_is_refused_before_connecting() {
    let _l = home_lock();
    let (out, log) = go(Run {
        msg: b"Subject: x\n\nno end",
        ..Run::default()
    });
    assert_eq!(
        out,
        "DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n|\n"
    );
    assert!(log.is_empty(), "{log:?}");
}

const MXZONE: &str = "\
MX dest.test 10 mx1.test
MX dest.test 20 mx2.test
A mx1.test 127.0.0.2
A mx2.test 127.0.0.3
A plain.test 127.0.0.2
CNAME alias.test mid.test
CNAME mid.test plain.test
MX equal.test 10 mx1.test
MX equal.test 10 mx2.test
MX me.test 10 self.test
A self.test 127.0.0.1
MX null.test 0 .
SERVFAIL broken.test
AAAA relay6.test ::1
";

fn mx_run(host: &str, greeting: &str, times: usize) -> String {
    let server =
        format!(r#""listen": [["127.0.0.2", 25], ["127.0.0.3", 25]], "greeting": {greeting}"#);
    go(Run {
        zone: MXZONE,
        server: &server,
        controls: &[],
        args: &[host, "a@b.test", "c@x.test"],
        times,
        ..Run::default()
    })
    .0
}

#[test]
fn mail_exchangers_in_preference_order_and_the_fallbacks() {
    let _l = home_lock();
    let ok = |ip: &str| format!("r|K{ip} accepted message.\nRemote host said: 250 ok queued\n|\n");
    let fine = r#""220 fine""#;
    assert_eq!(mx_run("dest.test", fine, 3), ok("127.0.0.2").repeat(3));
    assert_eq!(
        mx_run("plain.test", fine, 1),
        ok("127.0.0.2"),
        "no MX: the A record"
    );
    assert_eq!(
        mx_run("alias.test", fine, 1),
        ok("127.0.0.2"),
        "a CNAME chain"
    );
    // A connection-level failure (here a 421 greeting) moves on to the next exchanger.
    assert_eq!(
        mx_run(
            "dest.test",
            r#"{"127.0.0.2": "421 busy", "*": "220 fine"}"#,
            1
        ),
        ok("127.0.0.3")
    );
    assert_eq!(
        mx_run("dest.test", r#""421 busy""#, 1),
        "ZConnected to 127.0.0.3 but greeting failed.\nRemote host said: 421 busy\n|\n"
    );
    assert_eq!(
        mx_run("nosuch.test", fine, 1),
        "DSorry, I couldn't find any host named nosuch.test. (#5.1.2)\n|\n"
    );
    assert_eq!(
        mx_run("broken.test", fine, 1),
        "ZSorry, I couldn't find any host by that name. (#4.1.2)\n|\n"
    );
    assert_eq!(
        mx_run("null.test", fine, 1),
        "DSorry, null.test says (null MX) that it accepts no mail. (#5.1.10)\n|\n"
    );
    assert_eq!(
        mx_run("me.test", fine, 1),
        "DSorry. Although I'm listed as a best-preference MX or A for that host,\n\
         it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n|\n"
    );
    let both = mx_run("equal.test", fine, 20);
    assert!(
        both.contains("127.0.0.2 accepted") && both.contains("127.0.0.3 accepted"),
        "not shuffled: {both}"
    );
}

#[test]
fn a_host_the_timeout_table_marks_down_is_skipped() {
    let _l = home_lock();
    let server = r#""listen": [["127.0.0.2", 25], ["127.0.0.3", 25]]"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let mut table = [0u8; 1024];
    table[..4].copy_from_slice(&[127, 0, 0, 2]);
    table[4] = 2;
    table[8..12].copy_from_slice(&now.to_le_bytes());
    let tcpto = home().join("queue/lock/tcpto");
    let extra = format!(
        "printf '{}' > {}",
        table
            .iter()
            .map(|b| format!("\\{b:03o}"))
            .collect::<String>(),
        tcpto.display()
    );
    let (out, log) = go(Run {
        zone: MXZONE,
        server,
        controls: &[],
        args: &["dest.test", "a@b.test", "c@x.test"],
        extra: &extra,
        ..Run::default()
    });
    assert_eq!(
        out,
        "r|K127.0.0.3 accepted message.\nRemote host said: 250 ok queued\n|\n"
    );
    assert!(!has(&log, r#""local": "127.0.0.2""#), "{log:?}");
}

#[test]
fn outgoingip_is_the_source_address() {
    let _l = home_lock();
    let controls = [
        ("smtproutes", "dest.test:[127.0.0.1]:2525\n"),
        ("outgoingip", "127.0.0.5\n"),
    ];
    let (out, log) = go(Run {
        controls: &controls,
        ..Run::default()
    });
    assert!(out.starts_with("r|K127.0.0.1 accepted"), "{out}");
    assert!(has(&log, r#""peer": "127.0.0.5""#), "{log:?}");
}

#[test]
fn ipv6_by_a_literal_route_and_by_an_aaaa_record() {
    let _l = home_lock();
    let ok = "r|K::1 accepted message.\nRemote host said: 250 ok queued\n|\n";
    for route in ["dest.test:[::1]:2525\n", "dest.test:relay6.test:2525\n"] {
        let controls = [("smtproutes", route)];
        let (out, _) = go(Run {
            zone: MXZONE,
            server: r#""listen": [["::1", 2525]]"#,
            controls: &controls,
            ..Run::default()
        });
        assert_eq!(out, ok, "{route}");
    }
}

#[test]
fn qmtp_by_qmtproutes_to_our_qmail_qmtpd_and_smtp_to_our_qmail_smtpd() {
    let _l = home_lock();
    let t = TmpDir::new("remote-ours");
    let q = fake_queue(&t, 0);
    let servers = format!(
        "tcpserver -R -H -l0 127.0.0.1 2209 env QMAILQUEUE={q} RELAYCLIENT= qmail-qmtpd 2>/dev/null &\n\
         tcpserver -R -H -l0 127.0.0.1 2526 env QMAILQUEUE={q} RELAYCLIENT= qmail-smtpd 2>/dev/null &\n\
         sleep 0.5"
    );
    let cases = [
        ("qmtproutes", "dest.test:[127.0.0.1]:2209\n", "ok "),
        ("smtproutes", "dest.test:[127.0.0.1]:2526\n", "250 ok "),
    ];
    for (file, route, said) in cases {
        let _ = std::fs::remove_file(t.join("q.msg"));
        let controls = [(file, route), ("rcpthosts", "dest.test\n")];
        let (out, _) = go(Run {
            controls: &controls,
            extra: &servers,
            ..Run::default()
        });
        let want = format!("r|K127.0.0.1 accepted message.\nRemote host said: {said}");
        assert!(out.starts_with(&want), "{file}: {out}");
        let got = std::fs::read(t.join("q.msg")).unwrap();
        assert!(got.ends_with(MSG), "{}", String::from_utf8_lossy(&got));
        assert_eq!(
            std::fs::read(t.join("q.env")).unwrap(),
            b"Fa@b.test\0Tc@dest.test\0\0"
        );
    }
}

#[test]
fn bad_invocations_and_missing_controls() {
    let _l = home_lock();
    install_tree(&home());
    run("qmail-remote").args(["a", "b"]).go().expect(
        0,
        "DI (qmail-remote) was invoked improperly. (#5.3.5)\n\0",
        "",
    );
    let _ = std::fs::remove_file(home().join("control/me"));
    run("qmail-remote")
        .args(["a", "b", "c"])
        .stdin("x\n")
        .go()
        .expect(0, "ZUnable to read control files. (#4.3.0)\n\0", "");
    std::fs::write(home().join("control/me"), "client.test\n").unwrap();
    std::fs::write(home().join("control/smtproutes"), "dest.test:[::1\n").unwrap();
    run("qmail-remote")
        .args(["dest.test", "b", "c@dest.test"])
        .stdin("x\n")
        .go()
        .expect(
            0,
            "ZUnable to use the route for dest.test in control/smtproutes. (#4.3.5)\n\0",
            "",
        );
}
