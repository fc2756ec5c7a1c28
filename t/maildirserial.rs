//! maildirserial with shell-script clients: serialmail's own rts cases (the client rerun
//! while it makes progress, then "making no progress"; K removes, Z and D leave the file and
//! it is not offered again; files without the prefix never offered), a client exiting 100 or
//! crashing, names the client was not given; -b bounces (to the sender, double, triple, a
//! failing qmail-queue) with their exact text; -t turning old deferrals into failures; old
//! tmp/ files removed. The helpers here (Maildir files, a queue that keeps every message)
//! serve the maildirsmtp and maildirqmtp tests too.
//! Not tested here: a file that cannot be removed (needs a directory we cannot write while
//! running as root in CI); the warning for an unreadable file (root reads everything).

use crate::common::{home, home_lock, install_tree, ls, recorder, run, Out, TmpDir};
use std::fs::{self, File, FileTimes};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// An empty Maildir `t/name`.
pub(crate) fn maildir(t: &TmpDir, name: &str) -> PathBuf {
    let d = t.join(name);
    for s in ["tmp", "new", "cur"] {
        fs::create_dir_all(d.join(s)).expect("maildir");
    }
    d
}

/// Writes `dir/rel` with the envelope lines and `body`, its mtime `age` seconds ago.
pub(crate) fn put(dir: &Path, rel: &str, sender: &str, rcpt: &str, body: &str, age: u64) {
    let p = dir.join(rel);
    let text = format!("Return-Path: <{sender}>\nDelivered-To: {rcpt}\n{body}");
    fs::write(&p, text).expect("write message");
    let when = SystemTime::now() - Duration::from_secs(age);
    let f = File::options().write(true).open(&p).expect("open");
    f.set_times(FileTimes::new().set_modified(when).set_accessed(when))
        .expect("set mtime");
}

/// A stand-in qmail-queue that keeps every message it gets as `$Q_DIR/q.*.msg` and its
/// envelope as `….env`, and exits 53 (temporary) for a message containing `FAIL-TEMP`; a
/// message without an envelope (its sender gave up on it) is not kept, as qmail-queue would.
/// Written once per test process (see common::fake_queue for why).
pub(crate) fn keeper() -> PathBuf {
    static K: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    K.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::var_os("T_TMP").map_or_else(std::env::temp_dir, PathBuf::from);
        let p = base.join(format!("queue-keeper.{}", std::process::id()));
        let script = "#!/bin/sh\nf=$(mktemp \"$Q_DIR/q.XXXXXXXX\") || exit 53\n\
            cat > \"$f.msg\" && cat <&1 > \"$f.env\" || exit 54\nrm -f \"$f\"\n\
            [ -s \"$f.env\" ] || { rm -f \"$f.msg\" \"$f.env\"; exit 54; }\n\
            if grep -q FAIL-TEMP \"$f.msg\"; then rm -f \"$f.msg\" \"$f.env\"; exit 53; fi\n";
        fs::write(&p, script).expect("write keeper");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    })
    .clone()
}

/// What a keeper in `dir` kept: (envelope with each NUL as `|`, message), sorted.
pub(crate) fn kept(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = ls(dir)
        .iter()
        .filter_map(|f| f.strip_suffix(".msg"))
        .map(|f| {
            let env = fs::read(dir.join(format!("{f}.env"))).expect("envelope");
            let msg = fs::read(dir.join(format!("{f}.msg"))).expect("message");
            (
                String::from_utf8_lossy(&env).replace('\0', "|"),
                String::from_utf8_lossy(&msg).into_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// maildirserial with `args`, QMAILQUEUE the recorder writing into `q`.
fn serial(q: &Path, args: &[&str]) -> Out {
    run("maildirserial")
        .args(args)
        .env("QMAILQUEUE", recorder())
        .env("Q_DIR", q)
        .go()
}

/// serialmail's rts.tests messages.
fn rts_maildir(t: &TmpDir) -> PathBuf {
    let d = maildir(t, "dir");
    put(
        &d,
        "new/10000",
        "Sender",
        "Account-Whatever",
        "This is a test.\n",
        30,
    );
    put(
        &d,
        "new/20000",
        "",
        "Account-You@Virt.Dom",
        "This is a test.\n",
        20,
    );
    put(
        &d,
        "new/30000",
        "x@y",
        "Account-more@Virt.Dom",
        "This\n",
        10,
    );
    d
}

/// A client: appends what it is given to ../files; the first time, prints `results`
/// (`x` stands for the NUL).
fn once(results: &str) -> String {
    format!("cat >> ../files; [ -f ../first ] && printf '{results}' | tr x '\\0'; rm -f ../first")
}

#[test]
fn the_client_protocol_as_in_serialmails_rts() {
    let t = TmpDir::new("mdserial-rts");
    let d = rts_maildir(&t);
    let dir = d.to_str().unwrap();
    let q = t.join("q");
    let usage = "maildirserial: usage: maildirserial [ -b ] [ -t lifetime ] dir prefix client \
        [ arg ... ]\n";
    serial(&q, &[dir, "prefix"]).expect(100, "", usage);
    serial(&q, &["-t", "soon", dir, "p", "true"]).expect(100, "", usage);
    serial(&q, &["-t-5", dir, "p", "true"]).expect(100, "", usage);
    let bad = format!("maildirserial: illegal option -- x\n{usage}");
    serial(&q, &["-x", dir, "p", "true"]).expect(100, "", &bad);
    let missing = t.join("nonexistent");
    serial(&q, &[missing.to_str().unwrap(), "p", "true"]).expect(
        111,
        "",
        &format!(
            "maildirserial: fatal: unable to chdir to {}: file does not exist\n",
            missing.display()
        ),
    );
    // no file has the prefix: the client is never started
    serial(&q, &[dir, "Wrong-", "sh", "-c", "echo wrong >&2"]).expect(0, "", "");
    let no_progress = "maildirserial: fatal: making no progress, giving up\n";
    let all3 = "new/10000|new/20000|new/30000|";
    let cases = [
        ("", String::new(), all3.repeat(3)),
        (
            "new/10000xZtemporary failure\\n",
            "maildirserial: info: new/10000 failed temporarily: temporary failure\n".to_string(),
            format!("{all3}{}", "new/20000|new/30000|".repeat(3)),
        ),
        (
            "new/10000xDpermanent failure\\n",
            "maildirserial: info: new/10000 failed: permanent failure\n".to_string(),
            format!("{all3}{}", "new/20000|new/30000|".repeat(3)),
        ),
        // a name it was not given, and a record cut short, are ignored
        (
            "../dirxKthanks\\nnew/20000xK",
            String::new(),
            all3.repeat(3),
        ),
        (
            "new/10000xKthanks\\n",
            "maildirserial: info: new/10000 succeeded: thanks\n".to_string(),
            format!("{all3}{}", "new/20000|new/30000|".repeat(3)),
        ),
    ];
    for (results, info, fed) in cases {
        let _ = fs::remove_file(t.join("files"));
        fs::write(t.join("first"), b"").unwrap();
        let o = serial(&q, &[dir, "Account-", "sh", "-c", &once(results)]);
        o.expect(111, "", &format!("{info}{no_progress}"));
        let files = fs::read(t.join("files")).unwrap();
        assert_eq!(String::from_utf8_lossy(&files).replace('\0', "|"), fed);
    }
    assert_eq!(ls(d.join("new")), ["20000", "30000"]);
    // every file accepted: exit 0; the client exiting 100 or crashing ends it at once
    let ok_all = "tr '\\0' '\\n' | while read f; do printf '%s\\0Kok\\n' \"$f\"; done";
    let o = serial(&q, &[dir, "Account-", "sh", "-c", ok_all]);
    let info = "maildirserial: info: new/20000 succeeded: ok\n\
        maildirserial: info: new/30000 succeeded: ok\n";
    o.expect(0, "", info);
    assert!(ls(d.join("new")).is_empty());
    put(&d, "cur/1:2,S", "a", "Account-b", "x\n", 0);
    serial(&q, &[dir, "Account-", "sh", "-c", "exit 100"]).expect(100, "", "");
    let crash = "maildirserial: fatal: client crashed\n";
    serial(&q, &[dir, "Account-", "sh", "-c", "kill -9 $$"]).expect(111, "", crash);
    assert_eq!(ls(d.join("cur")), ["1:2,S"]);
    assert!(!q.exists(), "nothing was bounced");
}

/// The bounce's text with the Date line's value as DATE.
fn mask_date(m: &str) -> String {
    let (date, rest) = m.split_once('\n').unwrap();
    assert!(
        date.starts_with("Date: ") && date.ends_with(" -0000"),
        "{date}"
    );
    format!("Date: DATE\n{rest}")
}

/// `returned … qp N` → `qp QP`.
fn mask_qp(e: &str) -> String {
    e.lines()
        .map(|l| match l.split_once(": qp ") {
            Some((a, n)) if n.parse::<u32>().is_ok() => format!("{a}: qp QP\n"),
            _ => format!("{l}\n"),
        })
        .collect()
}

#[test]
fn b_bounces_refused_messages_and_removes_them() {
    let _l = home_lock();
    install_tree(&home());
    fs::write(home().join("control/me"), "leaf.example\n").unwrap();
    let t = TmpDir::new("mdserial-b");
    let d = maildir(&t, "dir");
    let dir = d.to_str().unwrap();
    let q = t.join("q");
    fs::create_dir(&q).unwrap();
    let refuse = "printf 'new/1\\0D553 sorry, no mailbox here by that name (#5.1.1)\\n'";
    let cases = [
        // sender, (envelope, To, the intro's end, the break line)
        (
            "joe@leaf.example",
            Some((
                "F|Tjoe@leaf.example||",
                "joe@leaf.example",
                "I'm afraid I wasn't able to deliver your message to the following address.\n\
                 This is a permanent error; I've given up. Sorry it didn't work out.\n",
                "--- Below this line is a copy of the message.",
            )),
        ),
        (
            "",
            Some((
                "F#@[]|Tpostmaster@leaf.example||",
                "postmaster@leaf.example",
                "I tried to deliver a bounce message to this address, but the bounce bounced!\n",
                "--- Below this line is the original bounce.",
            )),
        ),
        ("#@[]", None),
    ];
    for (sender, bounce) in cases {
        for f in ls(&q) {
            fs::remove_file(q.join(f)).unwrap();
        }
        let body = "Subject: hi\n\nbody\n";
        put(&d, "new/1", sender, "autoturn-x-bob@dest.example", body, 0);
        let o = serial(&q, &["-b", dir, "autoturn-x-", "sh", "-c", refuse]);
        let said = "maildirserial: info: new/1 bounced: 553 sorry, no mailbox here by that name \
            (#5.1.1)\n";
        assert!(ls(d.join("new")).is_empty(), "bounced and removed");
        let Some((env, to, intro, brk)) = bounce else {
            let triple = "maildirserial: info: discarding new/1: triple bounce\n";
            o.expect(0, "", &format!("{said}{triple}"));
            assert!(ls(&q).is_empty(), "no bounce of a bounce of a bounce");
            continue;
        };
        let returned = "maildirserial: info: returned new/1: qp QP\n";
        assert_eq!(
            (o.code, mask_qp(&o.stderr())),
            (0, format!("{said}{returned}"))
        );
        let got = String::from_utf8(fs::read(q.join("qenv")).unwrap()).unwrap();
        assert_eq!(got.replace('\0', "|"), env);
        let msg = String::from_utf8(fs::read(q.join("qmsg")).unwrap()).unwrap();
        let want = format!(
            "Date: DATE\nFrom: MAILER-DAEMON@leaf.example\nTo: {to}\nSubject: failure notice\n\n\
             Hi. This is the maildirbounce program at leaf.example.\n{intro}\n\
             <bob@dest.example>:\n553 sorry, no mailbox here by that name (#5.1.1)\n\n\
             {brk}\n\nReturn-Path: <{sender}>\n{body}"
        );
        assert_eq!(mask_date(&msg), want);
    }
    // qmail-queue fails: the message stays (and is not offered again)
    put(
        &d,
        "new/1",
        "joe@x",
        "autoturn-x-bob@dest.example",
        "x\n",
        0,
    );
    let o = run("maildirserial")
        .args(["-b", dir, "autoturn-x-", "sh", "-c", refuse])
        .env("QMAILQUEUE", recorder())
        .env("Q_DIR", &q)
        .env("Q_EXIT", "53")
        .go();
    let warn = "maildirserial: warning: unable to bounce new/1: qq failed: qq write error or \
        disk full (#4.3.0)\n";
    assert_eq!(o.code, 111);
    assert!(o.stderr().ends_with(warn), "{}", o.stderr());
    assert_eq!(ls(d.join("new")), ["1"]);
}

#[test]
fn t_makes_old_deferrals_failures() {
    let _l = home_lock();
    install_tree(&home());
    fs::write(home().join("control/me"), "leaf.example\n").unwrap();
    let t = TmpDir::new("mdserial-t");
    let d = maildir(&t, "dir");
    let dir = d.to_str().unwrap();
    let q = t.join("q");
    fs::create_dir(&q).unwrap();
    let defer = "printf 'new/old\\0Zlater\\nnew/young\\0Zlater\\n'";
    for bounce in [false, true] {
        put(&d, "new/old", "joe@x", "p-bob@y", "old\n", 10 * 86400);
        put(&d, "new/young", "joe@x", "p-bob@y", "young\n", 0);
        let mut args = vec!["-t", "86400", dir, "p-", "sh", "-c", defer];
        if bounce {
            args.insert(0, "-b");
        }
        let o = serial(&q, &args);
        let first = if bounce { "bounced" } else { "failed" };
        let mut want = format!("maildirserial: info: new/old {first}: later\n");
        if bounce {
            want.push_str("maildirserial: info: returned new/old: qp QP\n");
        }
        want.push_str("maildirserial: info: new/young failed temporarily: later\n");
        assert_eq!((o.code, mask_qp(&o.stderr())), (111, want));
        let left: &[&str] = if bounce {
            &["young"]
        } else {
            &["old", "young"]
        };
        assert_eq!(ls(d.join("new")), left);
    }
    let msg = String::from_utf8(fs::read(q.join("qmsg")).unwrap()).unwrap();
    assert!(
        msg.contains("\n<bob@y>:\nlater\nThis message is too old. Giving up.\n\n--- Below"),
        "{msg}"
    );
}

#[test]
fn tmp_files_unread_for_36_hours_are_removed() {
    let t = TmpDir::new("mdserial-tmp");
    let d = maildir(&t, "dir");
    put(&d, "tmp/old", "a", "b", "", 37 * 3600);
    put(&d, "tmp/recent", "a", "b", "", 35 * 3600);
    put(&d, "new/.hidden", "a", "p-b", "", 0);
    let o = serial(
        &t.join("q"),
        &[d.to_str().unwrap(), "p-", "sh", "-c", "echo wrong"],
    );
    o.expect(0, "", "");
    assert_eq!(ls(d.join("tmp")), ["recent"]);
    assert_eq!(ls(d.join("new")), [".hidden"]);
}
