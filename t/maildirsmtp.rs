//! maildirsmtp end to end, in a private network namespace (so port 25 can be bound): a leaf
//! host's Maildir of 100 messages goes in one connection to our qmail-smtpd under our
//! tcpserver; the accepted ones arrive intact in the server's queue and leave the Maildir,
//! those its qmail-queue refuses for now stay, those for a domain outside its rcpthosts are
//! bounced (-b) to their senders and removed. A host that is down: nothing removed, nothing
//! bounced. Usage. The helpers here serve t/maildirqmtp.rs too.
//! Not tested here: the two-week lifetime (t/maildirserial.rs tests -t); AutoTURN under
//! setlock (setlock and maildirsmtp are each tested; INSTALL shows the recipe).

use crate::common::{home, home_lock, install_tree, ls, netns, run, Out, TmpDir};
use crate::maildirserial::{keeper, kept, maildir, put};
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

pub(crate) const PREFIX: &str = "autoturn-127.0.0.1-";
pub(crate) const NO_RELAY: &str = "sorry, that domain isn't in my list of allowed rcpthosts";

/// Message `i` of the hundred: (sender, recipient without the prefix, text after the two
/// envelope lines). Every 20th from 7 is for a domain outside rcpthosts, every 20th from 13
/// makes the server's qmail-queue fail for now.
pub(crate) fn message(i: usize) -> (String, String, String) {
    let domain = if i % 20 == 7 {
        "elsewhere.example"
    } else {
        "dest.example"
    };
    let fail = if i % 20 == 13 { "FAIL-TEMP\n" } else { "" };
    (
        format!("sender{i}@leaf.example"),
        format!("user{i}@{domain}"),
        format!("Subject: message {i}\n\n.leading dot {i}\n{fail}body\tend \u{e9}\n"),
    )
}

/// What a run left behind.
pub(crate) struct Leaf {
    /// the client program's run
    pub out: Out,
    /// the files still in the Maildir's new/
    pub left: Vec<String>,
    /// what the server's qmail-queue got: (envelope, message)
    pub arrived: Vec<(String, String)>,
    /// the bounces the leaf queued
    pub bounces: Vec<(String, String)>,
    /// connections the server took
    pub connections: usize,
}

/// A fresh private home (me leaf.example, rcpthosts dest.example) and a Maildir with `n`
/// messages (oldest first), plus one for another customer.
pub(crate) fn setup(t: &TmpDir, n: usize) -> (MutexGuard<'static, ()>, PathBuf) {
    let l = home_lock();
    install_tree(&home());
    let c = home().join("control");
    std::fs::write(c.join("me"), "leaf.example\n").unwrap();
    std::fs::write(c.join("rcpthosts"), "dest.example\n").unwrap();
    let d = maildir(t, "Maildir");
    for i in 0..n {
        let (s, r, body) = message(i);
        put(
            &d,
            &format!("new/m{i:03}"),
            &s,
            &format!("{PREFIX}{r}"),
            &body,
            1000 - i as u64,
        );
    }
    let other = "autoturn-192.0.2.1-x@dest.example";
    put(&d, "new/other", "a@leaf.example", other, "other\n", 0);
    (l, d)
}

/// Runs `server` (if any) under our tcpserver -v on 127.0.0.1:`port`, its qmail-queue a
/// keeper, then `client` with a keeper for the bounces.
pub(crate) fn leaf(t: &TmpDir, d: &Path, server: Option<(&str, u16)>, client: &[&str]) -> Leaf {
    let (sq, bq) = (t.join("server-queue"), t.join("bounces"));
    std::fs::create_dir_all(&sq).unwrap();
    std::fs::create_dir_all(&bq).unwrap();
    let k = keeper();
    let start = match server {
        Some((prog, port)) => format!(
            "QMAILQUEUE={k} Q_DIR={sq} tcpserver -v -1 -R -H -l mx.test 127.0.0.1 {port} {prog} \
             >port 2>tcpserver.log & s=$!\n\
             n=0; while [ ! -s port ]; do n=$((n+1)); [ $n -gt 400 ] && exit 125; sleep 0.05; done\n",
            k = k.display(),
            sq = sq.display()
        ),
        None => String::new(),
    };
    let sh = format!(
        "{start}QMAILQUEUE={} Q_DIR={} \"$@\"; rc=$?\n[ -n \"$s\" ] && kill $s\nexit $rc",
        k.display(),
        bq.display()
    );
    let out = netns::isolated(run("sh").args(["-c", &sh, "sh"]).args(client).cwd(&t.0));
    let log = std::fs::read_to_string(t.join("tcpserver.log")).unwrap_or_default();
    Leaf {
        out,
        left: ls(d.join("new")),
        arrived: kept(&sq),
        bounces: kept(&bq),
        connections: log.matches("tcpserver: pid ").count(),
    }
}

/// Checks a run over the hundred: one connection; what arrived, stayed and bounced.
pub(crate) fn check_hundred(l: &Leaf, temp_text: &str) {
    assert_eq!(l.out.code, 111, "some stay: {}", l.out.stderr());
    assert_eq!(l.connections, 1, "one connection");
    let stay: Vec<String> = (0..100)
        .filter(|i| i % 20 == 13)
        .map(|i| format!("m{i:03}"))
        .collect();
    assert_eq!(l.left, [stay, vec!["other".to_string()]].concat());
    let mut want = Vec::new();
    for i in (0..100).filter(|i| i % 20 != 13 && i % 20 != 7) {
        let (s, r, body) = message(i);
        want.push((format!("F{s}|T{r}||"), body));
    }
    want.sort();
    assert_eq!(l.arrived.len(), 90, "{}", l.out.stderr());
    for ((env, msg), (wenv, body)) in l.arrived.iter().zip(&want) {
        assert_eq!(env, wenv);
        let head = msg
            .strip_suffix(body.as_str())
            .unwrap_or_else(|| panic!("{msg}"));
        assert!(head.starts_with("Received: from "), "{head}");
        assert!(head.lines().skip(1).all(|l| l.starts_with("  ")), "{head}");
    }
    assert_eq!(l.bounces.len(), 5);
    for i in (7..100).step_by(20) {
        let (s, r, body) = message(i);
        let env = format!("F|T{s}||");
        let (_, msg) = l
            .bounces
            .iter()
            .find(|b| b.0 == env)
            .expect("a bounce to the sender");
        assert!(msg.contains(&format!("\n<{r}>:\n")), "{msg}");
        assert!(msg.contains(NO_RELAY), "{msg}");
        assert!(
            msg.ends_with(&format!("Return-Path: <{s}>\n{body}")),
            "{msg}"
        );
    }
    let err = l.out.stderr();
    assert_eq!(err.matches(" succeeded: ").count(), 90, "{err}");
    assert_eq!(err.matches(" bounced: ").count(), 5, "{err}");
    assert!(
        err.contains(&format!("info: new/m013 failed temporarily: {temp_text}")),
        "{err}"
    );
}

#[test]
fn a_hundred_messages_to_our_qmail_smtpd_in_one_connection() {
    let t = TmpDir::new("maildirsmtp");
    let (_l, d) = setup(&t, 100);
    let dir = d.to_str().unwrap();
    let l = leaf(
        &t,
        &d,
        Some(("qmail-smtpd", 25)),
        &["maildirsmtp", dir, PREFIX, "127.0.0.1", "leaf.example"],
    );
    check_hundred(
        &l,
        "127.0.0.1 said: 451 qq write error or disk full (#4.3.0)",
    );
    let err = l.out.stderr();
    assert!(
        err.contains("info: new/m007 bounced: 127.0.0.1 said: 553 sorry"),
        "{err}"
    );
}

#[test]
fn a_host_that_is_down_refuses_nothing() {
    let t = TmpDir::new("maildirsmtp-down");
    let (_l, d) = setup(&t, 3);
    let dir = d.to_str().unwrap();
    let l = leaf(
        &t,
        &d,
        None,
        &["maildirsmtp", dir, PREFIX, "127.0.0.1", "leaf.example"],
    );
    let refused = "tcpclient: unable to connect to 127.0.0.1 port 25: connection refused\n";
    assert_eq!(
        (l.out.code, l.out.stderr()),
        (
            111,
            format!(
                "{}maildirserial: fatal: making no progress, giving up\n",
                refused.repeat(3)
            )
        )
    );
    assert_eq!(l.left, ["m000", "m001", "m002", "other"]);
    assert!(l.bounces.is_empty());
}

#[test]
fn usage() {
    run("maildirsmtp")
        .args(["dir", "prefix", "host"])
        .go()
        .expect(
            100,
            "",
            "maildirsmtp: usage: maildirsmtp dir prefix host helohost\n",
        );
}
