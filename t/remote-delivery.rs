//! Remote delivery through the queue, as an operator runs it: qmail-inject → qmail-queue →
//! qmail-send → qmail-rspawn → qmail-remote → an SMTP server on 127.0.0.1 (Postfix's
//! smtp-sink, which dumps what it receives), reached by a control/smtproutes entry for the
//! non-local domain remote.example. Shown: every message reaches the server with its envelope
//! and body and leaves the queue; a 4xx reply is a deferral, retried at once on SIGALRM; a 5xx
//! reply is a bounce to the local sender quoting the server; a refused connection is a deferral
//! that leaves the timeout table alone; a connect timeout is a deferral that enters it.
//! Not tested here: MX lookups and the am-I-the-MX check (t/qmail-remote.rs, with the fake DNS);
//! port 25 and IPv6 (plain 127.0.0.1 and a free high port are enough for the chain); the retry
//! schedule itself (the second remote attempt is due 400 s after birth; t/qmail-send.rs checks
//! the schedule); hosts skipped after two timeouts (t/qmail-remote.rs owns the table's rules).

use crate::common::{
    assign_users, home, home_lock, ls, maildir_messages, run, wait_for, Bg, Instance, TmpDir,
};
use qlib::sys::sig;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Postfix's test server (package postfix; .ci/run installs it).
const SMTP_SINK: &str = "/usr/sbin/smtp-sink";

/// A loopback port nobody listens on (bound, then let go).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A running smtp-sink, killed and reaped on drop; what it received goes to `dump`.
struct Sink {
    server: Bg,
    dump: PathBuf,
}

impl Sink {
    /// smtp-sink on 127.0.0.1:`port` with the extra options `opts`, once it accepts connections.
    fn start(t: &TmpDir, tag: &str, port: u16, opts: &[&str]) -> Sink {
        assert!(
            std::path::Path::new(SMTP_SINK).exists(),
            "{SMTP_SINK} is missing: these tests need Postfix's smtp-sink \
             (apt-get install postfix; .ci/run does it)"
        );
        let (dump, err) = (
            t.join(&format!("{tag}.dump")),
            t.join(&format!("{tag}.err")),
        );
        let mut cmd = Command::new(SMTP_SINK);
        if qlib::sys::id::geteuid() == 0 {
            cmd.args(["-u", "root"]); // smtp-sink refuses to run as root without -u
        }
        let child = cmd
            .arg("-D")
            .arg(&dump)
            .args(opts)
            .arg(format!("127.0.0.1:{port}"))
            .arg("16")
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err).expect("sink stderr"))
            .spawn()
            .expect("start smtp-sink");
        let mut sink = Sink {
            server: Bg(child),
            dump,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let up = wait_for(5, || {
            sink.server.0.try_wait().is_ok_and(|s| s.is_none())
                && TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        });
        let why = std::fs::read_to_string(&err).unwrap_or_default();
        assert!(up, "smtp-sink did not start on port {port}: {why}");
        sink
    }

    /// The transactions received so far, each as the sink wrote it (X-* lines, its Received
    /// line, then the message).
    fn messages(&self) -> Vec<String> {
        let d = std::fs::read_to_string(&self.dump).unwrap_or_default();
        d.split("X-Client-Addr: ")
            .skip(1)
            .map(|m| format!("X-Client-Addr: {m}"))
            .collect()
    }
}

/// A private instance delivering locally to Maildirs, with remote.example routed to `port`.
fn instance(port: u16) -> Instance {
    let q = Instance::fresh("./Maildir/");
    route(port);
    q
}

/// control/smtproutes sending remote.example to 127.0.0.1:`port` (read by every qmail-remote).
fn route(port: u16) {
    let r = format!("remote.example:127.0.0.1:{port}\n");
    std::fs::write(home().join("control/smtproutes"), r).expect("smtproutes");
}

fn inject(args: &[&str], msg: &str) {
    let o = run("qmail-inject")
        .args(args)
        .env("USER", "tester")
        .stdin(msg)
        .go();
    assert_eq!(o.code, 0, "qmail-inject: {}", o.stderr());
}

/// The files under queue/`dir`/*/ (the split directories).
fn queued(dir: &str) -> Vec<String> {
    let top = home().join("queue").join(dir);
    ls(&top).iter().flat_map(|d| ls(top.join(d))).collect()
}

fn wait_log(q: &Instance, needle: &str, times: usize) {
    let ok = wait_for(20, || q.log_text().matches(needle).count() >= times);
    assert!(ok, "log never had {times}× {needle:?}:\n{}", q.log_text());
}

/// The log's `delivery N: <kind>: ` texts, in order.
fn results(log: &str, kind: &str) -> Vec<String> {
    let tag = format!(": {kind}: ");
    log.lines()
        .filter(|l| l.starts_with("delivery "))
        .filter_map(|l| l.split_once(&tag).map(|(_, t)| t.to_string()))
        .collect()
}

fn alarm(q: &Instance) {
    let pid = q.send.as_ref().expect("qmail-send").id() as i32;
    sig::kill(pid, sig::SIGALRM).expect("kill -ALRM");
}

#[test]
fn every_message_reaches_the_server_and_leaves_the_queue() {
    let _l = home_lock();
    let t = TmpDir::new("remote1");
    let port = free_port();
    let sink = Sink::start(&t, "sink", port, &[]);
    let mut q = instance(port);
    for n in 1..=5 {
        inject(
            &["ann@remote.example", "bob@Remote.Example"],
            &format!("Subject: m{n}\n\nbody {n}\n.a leading dot\nend {n}\n"),
        );
    }
    wait_log(&q, "\nend msg ", 5);
    let log = q.log_text();
    // One SMTP session per recipient, each quoting the sink's reply to the final dot.
    let ok = "127.0.0.1_accepted_message./Remote_host_said:_250_2.0.0_Ok/";
    assert_eq!(results(&log, "success"), vec![ok; 10], "{log}");
    assert!(results(&log, "deferral").is_empty(), "{log}");
    assert_eq!(log.matches(" to remote ann@remote.example\n").count(), 5);
    assert_eq!(log.matches(" to remote bob@Remote.Example\n").count(), 5);
    for dir in ["mess", "info", "remote", "local", "todo", "intd"] {
        assert_eq!(queued(dir), Vec::<String>::new(), "queue/{dir}: {log}");
    }
    assert_eq!(q.stop(), Some(0));

    // The sink wrote each transaction before its 250 reply.
    let got = sink.messages();
    assert_eq!(got.len(), 10, "{got:?}");
    let mut seen = Vec::new();
    for m in &got {
        // helohost defaults to control/me.
        assert!(m.contains("\nX-Helo-Args: test.example\n"), "{m}");
        assert!(m.contains("\nX-Mail-Args: <tester@test.example>\n"), "{m}");
        assert_eq!(
            m.matches("\nX-Rcpt-Args: ").count(),
            1,
            "one recipient each: {m}"
        );
        let rcpt = m
            .split("\nX-Rcpt-Args: ")
            .nth(1)
            .and_then(|r| r.lines().next());
        let subject = m.split("\nSubject: ").nth(1).and_then(|r| r.lines().next());
        let (Some(rcpt), Some(subject)) = (rcpt, subject) else {
            panic!("no recipient or subject: {m}");
        };
        let n = subject.trim_start_matches('m');
        // Headers from qmail-inject and qmail-queue arrive; the body arrives intact, its
        // leading dot unstuffed again, and no CR is left over from the CRLF conversion.
        assert!(m.contains("\nReceived: (qmail "), "{m}");
        assert!(m.contains("\nFrom: tester@test.example\n"), "{m}");
        assert!(
            m.contains(&format!("\n\nbody {n}\n.a leading dot\nend {n}\n")),
            "{m}"
        );
        assert!(!m.contains('\r'), "{m}");
        seen.push(format!("{rcpt} {subject}"));
    }
    seen.sort();
    let mut want: Vec<String> = (1..=5)
        .flat_map(|n| {
            [
                format!("<ann@remote.example> m{n}"),
                format!("<bob@Remote.Example> m{n}"),
            ]
        })
        .collect();
    want.sort();
    assert_eq!(seen, want);
}

#[test]
fn a_temporary_rejection_is_retried_after_sigalrm() {
    let _l = home_lock();
    let t = TmpDir::new("remote2");
    let port = free_port();
    let first = Sink::start(
        &t,
        "refusing",
        port,
        &["-r", "RCPT", "-b", "451 4.7.1 Greylisted, come back later"],
    );
    let mut q = instance(port);
    inject(&["carol@remote.example"], "Subject: later\n\nretried\n");
    wait_log(&q, ": deferral: ", 1);
    let log = q.log_text();
    assert_eq!(
        results(&log, "deferral"),
        ["127.0.0.1_does_not_like_recipient./Remote_host_said:_451_4.7.1_Greylisted,_come_back_later/Giving_up_on_127.0.0.1./"],
        "{log}"
    );
    assert_eq!(queued("remote").len(), 1, "{log}");
    assert!(first.messages().is_empty());
    drop(first);

    // The next attempt would be 400 s after birth; SIGALRM makes it now.
    let second = Sink::start(&t, "accepting", port, &[]);
    alarm(&q);
    wait_log(&q, "\nend msg ", 1);
    let log = q.log_text();
    assert_eq!(
        results(&log, "success"),
        ["127.0.0.1_accepted_message./Remote_host_said:_250_2.0.0_Ok/"],
        "{log}"
    );
    assert_eq!(log.matches(" to remote carol@remote.example\n").count(), 2);
    assert_eq!(queued("mess"), Vec::<String>::new());
    let got = second.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("\nX-Rcpt-Args: <carol@remote.example>\n"),
        "{}",
        got[0]
    );
    assert!(
        got[0].contains("\nSubject: later\n\nretried\n"),
        "{}",
        got[0]
    );
    assert_eq!(q.stop(), Some(0));
}

#[test]
fn a_permanent_rejection_bounces_to_the_local_sender() {
    let _l = home_lock();
    let t = TmpDir::new("remote3");
    let port = free_port();
    let sink = Sink::start(
        &t,
        "sink",
        port,
        &["-f", "RCPT", "-B", "550 5.1.1 No such user here"],
    );
    let mut q = instance(port);
    let joe = assign_users(&t.0, &["joe"]).remove(0);
    inject(
        &["-f", "joe@test.example", "gone@remote.example"],
        "Subject: doomed\n\nnever arrives\n",
    );
    assert!(
        wait_for(20, || ls(joe.join("Maildir/new")).len() == 1),
        "no bounce; log:\n{}",
        q.log_text()
    );
    let log = q.log_text();
    assert_eq!(
        results(&log, "failure"),
        ["127.0.0.1_does_not_like_recipient./Remote_host_said:_550_5.1.1_No_such_user_here/Giving_up_on_127.0.0.1./"],
        "{log}"
    );
    assert!(log.contains("\nbounce msg "), "{log}");
    let b = String::from_utf8(maildir_messages(&joe.join("Maildir")).remove(0)).unwrap();
    // QSBMF (formats.md §8): the marker, one paragraph for the address quoting the server,
    // the break paragraph, then the original message after its Return-Path.
    assert!(
        b.starts_with("Return-Path: <>\nDelivered-To: joe@test.example\n"),
        "{b}"
    );
    assert!(
        b.contains("\nTo: joe@test.example\nSubject: failure notice\n\nHi. This is the "),
        "{b}"
    );
    assert!(
        b.contains(
            "\n\n<gone@remote.example>:\n127.0.0.1 does not like recipient.\n\
             Remote host said: 550 5.1.1 No such user here\nGiving up on 127.0.0.1.\n\n--- "
        ),
        "{b}"
    );
    assert!(
        b.contains("\nReturn-Path: <joe@test.example>\n")
            && b.ends_with("\nSubject: doomed\n\nnever arrives\n"),
        "{b}"
    );
    assert!(sink.messages().is_empty());
    wait_log(&q, "\nend msg ", 2); // the message, then its bounce
    assert_eq!(queued("mess"), Vec::<String>::new(), "{}", q.log_text());
    assert_eq!(q.stop(), Some(0));
}

#[test]
fn a_refused_connection_is_a_deferral_and_not_a_timeout() {
    let _l = home_lock();
    let mut q = instance(free_port()); // nothing listens there
    inject(&["dave@remote.example"], "Subject: refused\n\nbody\n");
    wait_log(&q, ": deferral: ", 1);
    assert_eq!(q.stop(), Some(0));
    let log = q.log_text();
    assert_eq!(
        results(&log, "deferral"),
        ["Sorry,_I_wasn't_able_to_establish_an_SMTP_connection._(#4.4.1)/"],
        "{log}"
    );
    assert!(!log.contains("end msg"), "{log}");
    assert_eq!(queued("remote").len(), 1, "the message stays queued: {log}");
    assert_eq!(queued("mess").len(), 1, "{log}");
    // Only timeouts count against a host.
    run("qmail-tcpto").go().expect(0, "", "");
}

#[test]
fn a_connect_timeout_enters_the_timeout_table() {
    let _l = home_lock();
    // A listener that never accepts, with backlog 0: its accept queue holds one finished
    // connection, and once that is there Linux drops further SYNs, so connect() times out
    // without leaving 127.0.0.1.
    let l = qlib::sys::net::listen("127.0.0.1:0".parse().unwrap(), 0, None).expect("listen");
    let addr = l.local_addr().expect("addr");
    let _held = TcpStream::connect(addr).expect("first connection");
    let probe = TcpStream::connect_timeout(&addr, Duration::from_millis(300));
    assert!(
        probe
            .as_ref()
            .is_err_and(|e| e.kind() == std::io::ErrorKind::TimedOut),
        "a full accept queue should make connect time out on this kernel: {probe:?}"
    );
    let mut q = instance(addr.port());
    std::fs::write(home().join("control/timeoutconnect"), "1\n").expect("timeoutconnect");
    inject(&["erin@remote.example"], "Subject: slow\n\nbody\n");
    wait_log(&q, ": deferral: ", 1);
    let log = q.log_text();
    assert_eq!(
        results(&log, "deferral"),
        ["Sorry,_I_wasn't_able_to_establish_an_SMTP_connection._(#4.4.1)/"],
        "{log}"
    );
    assert_eq!(queued("remote").len(), 1, "{log}");
    let o = run("qmail-tcpto").go();
    let out = o.stdout();
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    let secs = out
        .strip_prefix("127.0.0.1 timed out ")
        .and_then(|r| r.strip_suffix(" seconds ago; # recent timeouts: 1\n"))
        .and_then(|s| s.parse::<u64>().ok());
    assert!(secs.is_some_and(|s| s < 10), "qmail-tcpto said: {out:?}");
    assert_eq!(q.stop(), Some(0));
}
