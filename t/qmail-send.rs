//! qmail-send, run directly with its seven descriptors wired by the test: the log on fd 0,
//! fake qmail-lspawn/qmail-rspawn threads speaking the spawn protocol on fds 1–4, and the real
//! qmail-clean on fds 5/6. Messages (and qmail-send's own bounces) are queued by the real
//! qmail-queue in the private home. Shown: the log lines, one bounce per message after all
//! recipients finish, double and triple bounces, deferral and SIGALRM, the queue lifetime,
//! SIGTERM persistence, restart after SIGKILL, remote routing, the mutex, controls and SIGHUP,
//! VERP; a local message delivered from memory (todo/ its only record until it is done) and
//! written out as info/, local/ and bounce/ when a recipient is deferred.
//! Not tested here: the 36 h mess/ cleanup and the 25 min todo rescan (they need a clock that
//! moves days); qmail-start's uid changes (it is not involved here).

use crate::common::{bin, home, home_lock, install_tree, ls, path_env, wait_for, TmpDir};
use qlib::sys::{fd, proc, sig};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request a fake spawner received.
#[derive(Clone, Debug)]
struct Req {
    slot: u8,
    sender: String,
    recip: String,
    body: String,
    /// the queue's files when the request arrived
    queue: Vec<String>,
}

/// How a fake spawner answers a recipient on its n-th attempt (from 1).
#[derive(Clone, Copy)]
enum Reply {
    Now(u8, &'static str),
    After(u64, u8, &'static str),
    Never,
    /// a report for slot 250 (never in use), then `K`
    Stray,
}

type Rule = fn(&str, usize) -> Reply;

/// Recipients containing `fail` → D, `defer` → Z, `once` → Z then K, `slow` → K after
/// 700 ms, `hold` → no answer, `mangle` → a bad status byte then K, `stray` → a report for
/// an unused slot then K; anything else → K.
fn standard(recip: &str, n: usize) -> Reply {
    if recip.contains("fail") {
        Reply::Now(b'D', "Sorry, no mailbox here by that name. (#5.1.1)\n")
    } else if recip.contains("defer") || (recip.contains("once") && n == 1) {
        Reply::Now(b'Z', "Try again later.\n\nReally. (#4.2.2)\n")
    } else if recip.contains("slow") {
        Reply::After(700, b'K', "did 1+0+0\n")
    } else if recip.contains("hold") {
        Reply::Never
    } else if recip.contains("mangle") && n == 1 {
        Reply::Now(b'?', "what")
    } else if recip.contains("stray") {
        Reply::Stray
    } else {
        Reply::Now(b'K', "did 1+0+0\n")
    }
}

fn everything_succeeds(_: &str, _: usize) -> Reply {
    Reply::Now(b'K', "did 1+0+0\n")
}

fn remote_rule(_: &str, _: usize) -> Reply {
    Reply::Now(
        b'K',
        "192.0.2.7 accepted message.\nRemote host said: 250 ok 1234\n",
    )
}

type Reqs = Arc<Mutex<Vec<Req>>>;

fn read_field(r: &mut impl BufRead) -> Option<String> {
    let mut v = Vec::new();
    r.read_until(0, &mut v).ok()?;
    (v.pop() == Some(0)).then(|| String::from_utf8_lossy(&v).into_owned())
}

/// A fake spawner thread; returns the ends qmail-send gets (its fd 1/3 and fd 2/4).
fn fake(limit: Option<u8>, rule: Rule, reqs: Reqs) -> (OwnedFd, OwnedFd) {
    let (req_r, req_w) = fd::pipe().unwrap();
    let (rep_r, rep_w) = fd::pipe().unwrap();
    std::thread::spawn(move || {
        let out = Arc::new(Mutex::new(File::from(rep_w)));
        match limit {
            Some(l) => out.lock().unwrap().write_all(&[l]).unwrap(),
            None => return,
        }
        let mut input = BufReader::new(File::from(req_r));
        let mut tries: HashMap<String, usize> = HashMap::new();
        loop {
            let mut slot = [0u8];
            if input.read_exact(&mut slot).is_err() {
                return;
            }
            let (Some(mess), Some(sender), Some(recip)) = (
                read_field(&mut input),
                read_field(&mut input),
                read_field(&mut input),
            ) else {
                return;
            };
            let body = std::fs::read(home().join("queue/mess").join(&mess)).unwrap_or_default();
            let body = String::from_utf8_lossy(&body).into_owned();
            let n = tries.entry(recip.clone()).or_default();
            *n += 1;
            let reply = rule(&recip, *n);
            reqs.lock().unwrap().push(Req {
                slot: slot[0],
                sender,
                recip,
                body,
                queue: leftovers(),
            });
            let report = |st: u8, text: &str| [&[slot[0], st], text.as_bytes(), b"\0"].concat();
            match reply {
                Reply::Now(st, text) => out.lock().unwrap().write_all(&report(st, text)).unwrap(),
                Reply::After(ms, st, text) => {
                    let (out, r) = (out.clone(), report(st, text));
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_millis(ms));
                        let _ = out.lock().unwrap().write_all(&r);
                    });
                }
                Reply::Never => {}
                Reply::Stray => {
                    let stray = [&[250, b'K'][..], b"stray\0"].concat();
                    let mut o = out.lock().unwrap();
                    o.write_all(&stray).unwrap();
                    o.write_all(&report(b'K', "did 1+0+0\n")).unwrap();
                }
            }
        }
    });
    (req_w, rep_r)
}

/// A running qmail-send with its fakes, its log and qmail-clean.
struct Send {
    child: Child,
    clean: Child,
    log: Arc<Mutex<Vec<u8>>>,
    local: Reqs,
    remote: Reqs,
}

impl Send {
    fn start(local: Rule, remote: Rule) -> Send {
        Send::start_with(Some(120), local, remote)
    }

    fn start_with(limit: Option<u8>, local: Rule, remote: Rule) -> Send {
        let (lreqs, rreqs) = (Reqs::default(), Reqs::default());
        let (l_to, l_from) = fake(limit, local, lreqs.clone());
        let (r_to, r_from) = fake(limit, remote, rreqs.clone());
        let (c_req_r, c_req_w) = fd::pipe().unwrap();
        let (c_rep_r, c_rep_w) = fd::pipe().unwrap();
        let clean = Command::new(bin("qmail-clean"))
            .env_clear()
            .stdin(Stdio::from(c_req_r))
            .stdout(Stdio::from(c_rep_w))
            .spawn()
            .unwrap();
        let (log_r, log_w) = fd::pipe().unwrap();
        let mut cmd = Command::new(bin("qmail-send"));
        cmd.env_clear().env("PATH", path_env()).stdin(Stdio::null());
        let fds = [&log_w, &l_to, &l_from, &r_to, &r_from, &c_req_w, &c_rep_r];
        proc::setup(
            &mut cmd,
            proc::Setup {
                fds: fds
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (f.as_raw_fd(), i as i32))
                    .collect(),
                ..Default::default()
            },
        );
        let child = cmd.spawn().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        std::thread::spawn(move || {
            let mut r = File::from(log_r);
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = r.read(&mut buf) {
                l.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Send {
            child,
            clean,
            log,
            local: lreqs,
            remote: rreqs,
        }
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    fn wait_log(&self, needle: &str, times: usize) {
        let ok = wait_for(20, || self.log().matches(needle).count() >= times);
        assert!(ok, "log never had {times}× {needle:?}:\n{}", self.log());
    }

    fn signal(&self, s: i32) {
        sig::kill(self.child.id() as i32, s).unwrap();
    }

    fn exit(&mut self) -> i32 {
        let mut code = None;
        assert!(wait_for(20, || {
            code = self
                .child
                .try_wait()
                .unwrap()
                .map(|s| s.code().unwrap_or(-1));
            code.is_some()
        }));
        code.unwrap_or(-1)
    }

    fn kill9(&self) {
        let _ = sig::kill(self.child.id() as i32, sig::SIGKILL);
    }

    fn stop(mut self) -> String {
        self.signal(sig::SIGTERM);
        assert_eq!(self.exit(), 0, "{}", self.log());
        wait_for(5, || self.log().ends_with("status: exiting\n"));
        self.log()
    }
}

impl Drop for Send {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.clean.wait();
    }
}

/// A fresh private tree with control/me and locals.
fn setup(controls: &[(&str, &str)]) -> TmpDir {
    install_tree(&home());
    let mut all = vec![
        ("me", "me.example\n"),
        ("locals", "me.example\nlocalhost\n"),
    ];
    all.extend_from_slice(controls);
    for (name, text) in all {
        std::fs::write(home().join("control").join(name), text).unwrap();
    }
    TmpDir::new("send")
}

/// Queues a message with the real qmail-queue.
fn inject(t: &TmpDir, sender: &str, recips: &[&str], body: &str) {
    let mut env = format!("F{sender}\0");
    for r in recips {
        env.push_str(&format!("T{r}\0"));
    }
    env.push('\0');
    let m = t.write("msg", body.as_bytes());
    let e = t.write("env", env.as_bytes());
    let st = Command::new(bin("qmail-queue"))
        .env_clear()
        .stdin(File::open(m).unwrap())
        .stdout(File::open(e).unwrap())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0), "qmail-queue");
}

fn q(rel: &str) -> PathBuf {
    home().join("queue").join(rel)
}

/// Every file left in the queue (not counting lock/).
fn leftovers() -> Vec<String> {
    let mut v = Vec::new();
    for d in ["pid", "intd", "todo", "bounce"] {
        v.extend(ls(q(d)).into_iter().map(|f| format!("{d}/{f}")));
    }
    for d in ["mess", "info", "local", "remote"] {
        for s in ls(q(d)) {
            v.extend(
                ls(q(d).join(&s))
                    .into_iter()
                    .map(|f| format!("{d}/{s}/{f}")),
            );
        }
    }
    v
}

/// Waits for the queue to be empty (the last files go just after `end msg`).
fn assert_empty(s: &Send) {
    let ok = wait_for(20, || leftovers().is_empty());
    assert!(ok, "left in the queue: {:?}\n{}", leftovers(), s.log());
}

/// Message ids → A, B, …; qp, uid and byte counts masked.
fn mask(log: &str) -> String {
    let mut ids: Vec<String> = Vec::new();
    let mut out = String::new();
    for line in log.lines() {
        let mut words: Vec<String> = Vec::new();
        let mut prev = "";
        for w in line.split(' ') {
            let (num, rest) = w.split_at(w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len()));
            let bounce = w
                .strip_prefix("bounce/")
                .filter(|n| n.parse::<u64>().is_ok());
            let m = match (prev, num.is_empty(), bounce) {
                (_, _, Some(n)) => format!("bounce/{}", letter(&mut ids, n)),
                ("msg", false, _) => format!("{}{rest}", letter(&mut ids, num)),
                ("qp" | "uid" | "bytes", false, _) => format!("N{rest}"),
                _ => w.to_string(),
            };
            words.push(m);
            prev = w;
        }
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

fn letter(ids: &mut Vec<String>, n: &str) -> char {
    let i = ids.iter().position(|x| x == n).unwrap_or_else(|| {
        ids.push(n.to_string());
        ids.len() - 1
    });
    (b'A' + i as u8) as char
}

/// Received and Date lines masked.
fn mask_body(b: &str) -> String {
    b.lines()
        .map(|l| {
            if l.starts_with("Received: (qmail ") {
                "Received: X"
            } else if l.starts_with("Date: ") {
                "Date: X"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn delivers_and_logs() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["alice@me.example"],
        "Subject: hi\n\nhello\n",
    );
    s.wait_log("end msg", 1);
    let reqs = s.local.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].slot, reqs[0].sender.as_str()),
        (0, "joe@me.example")
    );
    assert_eq!(reqs[0].recip, "alice@me.example");
    assert_eq!(
        mask_body(&reqs[0].body),
        "Received: X\nSubject: hi\n\nhello\n"
    );
    assert_empty(&s);
    let log = s.stop();
    assert_eq!(
        mask(&log),
        "status: local 0/10 remote 0/20\n\
         new msg A\n\
         info msg A: bytes N from <joe@me.example> qp N uid N\n\
         starting delivery 1: msg A to local alice@me.example\n\
         status: local 1/10 remote 0/20\n\
         delivery 1: success: did_1+0+0/\n\
         status: local 0/10 remote 0/20\n\
         end msg A\n\
         status: exiting\n"
    );
}

/// The files of message `id` (its number) among `files`.
fn of(files: &[String], id: &str) -> Vec<String> {
    let mut v: Vec<String> = files
        .iter()
        .filter(|f| f.rsplit('/').next() == Some(id))
        .map(|f| f.split('/').next().unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}

fn msg_id(log: &str) -> String {
    let at = log.find("new msg ").expect("new msg") + 8;
    log[at..].split('\n').next().unwrap().to_string()
}

#[test]
fn a_local_message_is_delivered_from_its_todo_entry() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["alice@me.example", "fail@me.example"],
        "Subject: hi\n\nhello\n",
    );
    s.wait_log("end msg", 1);
    let id = msg_id(&s.log());
    let reqs = s.local.lock().unwrap().clone();
    for r in reqs.iter().filter(|r| r.recip != "joe@me.example") {
        assert_eq!(
            of(&r.queue, &id),
            ["intd", "mess", "todo"],
            "during the first pass: {:?}",
            r.queue
        );
    }
    let b = reqs
        .iter()
        .find(|r| r.recip == "joe@me.example")
        .expect("bounce");
    assert!(b.body.contains("<fail@me.example>:\nSorry, no mailbox"));
    assert!(!b.body.contains("alice"), "{}", b.body);
    assert_empty(&s);
    inject(&t, "joe@me.example", &["bob@far.example"], "S: x\n\nb\n");
    s.wait_log("end msg", 3);
    let reqs = s.remote.lock().unwrap().clone();
    let id = reqs[0]
        .queue
        .iter()
        .find(|f| f.starts_with("remote/"))
        .expect("remote/");
    let id = id.rsplit('/').next().unwrap();
    assert_eq!(
        of(&reqs[0].queue, id),
        ["info", "mess", "remote"],
        "remote recipients are preprocessed as in qmail"
    );
    let many: Vec<String> = (0..65).map(|i| format!("m{i}@me.example")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    inject(&t, "joe@me.example", &many, "S: x\n\nb\n");
    s.wait_log("end msg", 4);
    let reqs = s.local.lock().unwrap().clone();
    let first = reqs
        .iter()
        .find(|r| r.recip == "m0@me.example")
        .expect("m0");
    let local = first.queue.iter().find(|f| f.starts_with("local/"));
    let id = local
        .expect("over 64 recipients: local/ as in qmail")
        .rsplit('/')
        .next()
        .unwrap();
    assert_eq!(of(&first.queue, id), ["info", "local", "mess"]);
}

#[test]
fn a_deferral_writes_the_message_out_with_its_marks() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["alice@me.example", "fail@me.example", "once@me.example"],
        "Subject: hi\n\nhello\n",
    );
    s.wait_log("delivery 3: deferral", 1);
    let id = msg_id(&s.log());
    let ok = wait_for(20, || {
        of(&leftovers(), &id) == ["bounce", "info", "local", "mess"]
    });
    assert!(ok, "{:?}\n{}", leftovers(), s.log());
    let n: u64 = id.parse().unwrap();
    let split = |d: &str| q(&format!("{d}/{}/{id}", n % qlib::conf::split()));
    assert_eq!(
        std::fs::read(split("local")).unwrap(),
        b"Dalice@me.example\0Dfail@me.example\0Tonce@me.example\0"
    );
    assert_eq!(std::fs::read(split("info")).unwrap(), b"Fjoe@me.example\0");
    let birth = std::fs::metadata(split("info")).unwrap().mtime();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - 5..=now).contains(&birth), "birth {birth}, now {now}");
    let para = std::fs::read_to_string(q(&format!("bounce/{id}"))).unwrap();
    assert!(para.starts_with("<fail@me.example>:\nSorry"), "{para}");
    s.signal(sig::SIGALRM);
    s.wait_log("end msg", 2);
    let reqs = s.local.lock().unwrap().clone();
    let got: Vec<&str> = reqs.iter().map(|r| r.recip.as_str()).collect();
    assert_eq!(
        got,
        [
            "alice@me.example",
            "fail@me.example",
            "once@me.example",
            "once@me.example",
            "joe@me.example"
        ]
    );
    assert!(reqs[4].body.contains("<fail@me.example>:\nSorry"));
    assert!(!reqs[4].body.contains("<once@"), "{}", reqs[4].body);
    assert_empty(&s);
}

#[test]
fn one_bounce_after_all_recipients() {
    let _l = home_lock();
    let t = setup(&[("bouncefrom", "bounces\n"), ("bouncehost", "bh.example\n")]);
    let s = Send::start(standard, remote_rule);
    let rcpts = ["fail1@me.example", "slow@me.example", "fail2@me.example"];
    inject(&t, "joe@me.example", &rcpts, "Subject: x\n\nbody\n");
    s.wait_log("end msg", 2);
    let log = mask(&s.log());
    let bounce_at = log.find("bounce msg A qp N").expect("bounce logged");
    let slow_done = log.find("success: did_1+0+0/").expect("slow delivery");
    assert!(
        slow_done < bounce_at,
        "bounce only after every recipient:\n{log}"
    );
    assert_eq!(log.matches("bounce msg").count(), 1);
    assert!(log.contains("delivery 1: failure: Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/\n"));
    let reqs = s.local.lock().unwrap().clone();
    let b: Vec<&Req> = reqs
        .iter()
        .filter(|r| r.recip == "joe@me.example")
        .collect();
    assert_eq!(b.len(), 1, "exactly one bounce");
    assert_eq!(b[0].sender, "");
    assert_eq!(
        mask_body(&b[0].body),
        "Received: X\n\
         Date: X\n\
         From: bounces@bh.example\n\
         To: joe@me.example\n\
         Subject: failure notice\n\
         \n\
         Hi. This is the qmail-send program at bh.example.\n\
         Your message could not be delivered to the addresses below.\n\
         This is a permanent error; no further attempts will be made.\n\
         \n\
         <fail1@me.example>:\n\
         Sorry, no mailbox here by that name. (#5.1.1)\n\
         \n\
         <fail2@me.example>:\n\
         Sorry, no mailbox here by that name. (#5.1.1)\n\
         \n\
         --- A copy of the message follows.\n\
         \n\
         Return-Path: <joe@me.example>\n\
         Received: X\n\
         Subject: x\n\
         \n\
         body\n"
    );
    assert!(
        b[0].body.contains("invoked by alias"),
        "queued through qmail-queue"
    );
    assert_empty(&s);
}

#[test]
fn bounce_of_a_bounce_goes_to_doublebounceto() {
    let _l = home_lock();
    let t = setup(&[
        ("doublebounceto", "dbl\n"),
        ("doublebouncehost", "dbh.example\n"),
    ]);
    let s = Send::start(standard, remote_rule);
    inject(&t, "", &["fail@me.example"], "Subject: bounce\n\nb\n");
    s.wait_log("end msg", 2);
    let reqs = s.remote.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].sender.as_str(), reqs[0].recip.as_str()),
        ("#@[]", "dbl@dbh.example")
    );
    let body = mask_body(&reqs[0].body);
    assert!(body.contains("To: dbl@dbh.example\n"), "{body}");
    assert!(
        body.contains("\nHi. This is the qmail-send program at me.example.\n"),
        "{body}"
    );
    assert!(body.contains("<fail@me.example>:\n"), "{body}");
    assert!(body.contains("--- The original bounce message follows.\n\nReturn-Path: <>\n"));
}

#[test]
fn triple_bounce_is_discarded() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(&t, "#@[]", &["fail@me.example"], "Subject: dbl\n\nb\n");
    s.wait_log("end msg", 1);
    assert_empty(&s);
    let log = mask(&s.stop());
    assert!(log.contains("delivery 1: failure: "), "{log}");
    assert!(
        log.contains("\ntriple bounce: discarding bounce/A\nend msg A\n"),
        "{log}"
    );
    assert_eq!(log.matches("new msg").count(), 1, "nothing queued:\n{log}");
}

#[test]
fn deferral_waits_and_alarm_retries_now() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["once@me.example"],
        "Subject: x\n\nb\n",
    );
    s.wait_log("delivery 1: deferral: Try_again_later./", 1);
    assert!(s
        .log()
        .contains("deferral: Try_again_later.//Really._(#4.2.2)/\n"));
    let files = leftovers();
    assert!(files.iter().any(|f| f.starts_with("local/")), "{files:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !s.log().contains("starting delivery 2"),
        "no retry before it is due"
    );
    s.signal(sig::SIGALRM);
    s.wait_log("delivery 2: success", 1);
    s.wait_log("end msg", 1);
    assert_empty(&s);
}

#[test]
fn past_the_lifetime_a_deferral_bounces() {
    let _l = home_lock();
    let t = setup(&[("queuelifetime", "3600\n")]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["defer@me.example"],
        "Subject: x\n\nb\n",
    );
    s.wait_log("delivery 1: deferral", 1);
    let info = leftovers()
        .into_iter()
        .find(|f| f.starts_with("info/"))
        .unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    let f = File::options().write(true).open(q(&info)).unwrap();
    f.set_modified(old).unwrap();
    s.signal(sig::SIGALRM);
    s.wait_log("end msg", 2);
    let log = s.log();
    assert!(log.contains("delivery 2: failure: Try_again_later.//Really._(#4.2.2)/Giving_up:"));
    let reqs = s.local.lock().unwrap().clone();
    let b = reqs
        .iter()
        .find(|r| r.recip == "joe@me.example")
        .expect("bounce");
    assert!(b
        .body
        .contains("<defer@me.example>:\nTry again later.\n/Really. (#4.2.2)\nGiving up:"));
}

#[test]
fn sigterm_waits_persists_and_exits() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["defer@me.example"],
        "Subject: x\n\nb\n",
    );
    s.wait_log("delivery 1: deferral", 1);
    inject(
        &t,
        "joe@me.example",
        &["slow@me.example"],
        "Subject: y\n\nb\n",
    );
    s.wait_log("starting delivery 2", 1);
    let log = mask(&s.stop());
    assert!(
        log.ends_with("delivery 2: success: did_1+0+0/\nstatus: local 0/10 remote 0/20 exitasap\nend msg B\nstatus: exiting\n"),
        "{log}"
    );
    let files = leftovers();
    let local = files
        .iter()
        .find(|f| f.starts_with("local/"))
        .expect("deferred message");
    let info = local.replacen("local/", "info/", 1);
    let birth = std::fs::metadata(q(&info)).unwrap().mtime();
    let retry = std::fs::metadata(q(local)).unwrap().mtime() - birth;
    assert!(
        retry == 100 || retry == 121,
        "retry {retry} s after birth (pass within 1 s)"
    );
}

#[test]
fn restart_after_sigkill_finishes_the_job() {
    let _l = home_lock();
    let t = setup(&[]);
    let mut s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["hold@me.example", "r1@me.example"],
        "Subject: x\n\nb\n",
    );
    s.wait_log("starting delivery 2", 1);
    s.child.kill().unwrap();
    assert_eq!(s.exit(), -1);
    let id = msg_id(&s.log());
    assert_eq!(
        of(&leftovers(), &id),
        ["intd", "mess", "todo"],
        "killed in its first pass, the message is still in todo/"
    );
    for i in 0..8 {
        inject(
            &t,
            "joe@me.example",
            &[&format!("k{i}@me.example")],
            "Subject: z\n\nb\n",
        );
    }
    drop(s);
    let s = Send::start(everything_succeeds, remote_rule);
    s.wait_log("end msg", 9);
    let got: Vec<String> = s
        .local
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.recip.clone())
        .collect();
    assert!(got.contains(&"hold@me.example".to_string()), "{got:?}");
    assert!(
        got.contains(&"r1@me.example".to_string()),
        "delivered again: {got:?}"
    );
    for i in 0..8 {
        assert!(got.contains(&format!("k{i}@me.example")), "{got:?}");
    }
    assert_empty(&s);
}

#[test]
fn killed_anywhere_nothing_is_lost() {
    let _l = home_lock();
    let t = setup(&[]);
    let mut seen: Vec<String> = Vec::new();
    let mut want: Vec<String> = Vec::new();
    let mut logs = String::new();
    for round in 0..4u64 {
        let s = Send::start(everything_succeeds, remote_rule);
        for i in 0..5 {
            want.push(format!("m{round}.{i}@me.example"));
            inject(&t, "joe@me.example", &[want.last().unwrap()], "S: x\n\nb\n");
        }
        std::thread::sleep(Duration::from_millis(3 * round));
        s.kill9();
        let mut s = s;
        s.exit();
        seen.extend(s.local.lock().unwrap().iter().map(|r| r.recip.clone()));
        logs.push_str(&s.log());
    }
    let s = Send::start(everything_succeeds, remote_rule);
    // A kill between `end msg` and qmail-clean's removal leaves a mess/ file without info/
    // or todo/, which the 36-hour cleanup removes; nothing else may stay.
    let settled = || {
        leftovers().iter().all(|f| {
            let id = f.rsplit('/').next().unwrap_or("");
            f.starts_with("mess/") && logs.contains(&format!("end msg {id}\n"))
        })
    };
    assert!(
        wait_for(20, settled),
        "left: {:?}\n{logs}{}",
        leftovers(),
        s.log()
    );
    seen.extend(s.local.lock().unwrap().iter().map(|r| r.recip.clone()));
    for w in &want {
        assert!(seen.contains(w), "{w} never delivered:\n{logs}{}", s.log());
    }
}

#[test]
fn remote_recipients_reach_rspawn() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "joe@me.example",
        &["bob@far.example"],
        "Subject: x\n\nb\n",
    );
    s.wait_log("end msg", 1);
    let reqs = s.remote.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].sender.as_str(), reqs[0].recip.as_str()),
        ("joe@me.example", "bob@far.example")
    );
    let log = mask(&s.log());
    assert!(log.contains(
        "starting delivery 1: msg A to remote bob@far.example\nstatus: local 0/10 remote 1/20\n"
    ));
    assert!(log.contains(
        "delivery 1: success: 192.0.2.7_accepted_message./Remote_host_said:_250_ok_1234/\n"
    ));
}

#[test]
fn second_instance_is_refused() {
    let _l = home_lock();
    let _t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    s.wait_log("status: local 0/10", 1);
    let mut two = Send::start(standard, remote_rule);
    assert_eq!(two.exit(), 111);
    wait_for(5, || two.log().ends_with('\n'));
    assert_eq!(
        two.log(),
        "alert: cannot start: qmail-send is already running\n"
    );
    drop(s);
}

#[test]
fn no_concurrency_byte_no_start() {
    let _l = home_lock();
    let _t = setup(&[]);
    let mut s = Send::start_with(None, standard, remote_rule);
    assert_eq!(s.exit(), 111);
    wait_for(5, || s.log().ends_with('\n'));
    assert_eq!(
        s.log(),
        "alert: cannot start: hath the daemon spawn no fire?\n"
    );
}

#[test]
fn no_locals_no_start() {
    let _l = home_lock();
    let _t = setup(&[]);
    std::fs::remove_file(home().join("control/locals")).unwrap();
    std::fs::remove_file(home().join("control/me")).unwrap();
    let mut s = Send::start(standard, remote_rule);
    assert_eq!(s.exit(), 111);
    wait_for(5, || s.log().ends_with('\n'));
    assert_eq!(s.log(), "alert: cannot start: unable to read controls\n");
}

#[test]
fn unreadable_control_no_start() {
    use std::os::unix::fs::PermissionsExt;
    let _l = home_lock();
    let _t = setup(&[]);
    let v = home().join("control/virtualdomains");
    std::fs::write(&v, "example.net:joe\n").unwrap();
    std::fs::set_permissions(&v, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut s = Send::start(standard, remote_rule);
    assert_eq!(s.exit(), 111);
    wait_for(5, || s.log().ends_with('\n'));
    assert_eq!(s.log(), "alert: cannot start: unable to read controls\n");
}

#[test]
fn routing_by_controls_and_hup() {
    let _l = home_lock();
    let t = setup(&[
        (
            "virtualdomains",
            "virt.example:vuser\nsome@far.example:caught\n",
        ),
        ("percenthack", "pct.example\n"),
        ("concurrencylocal", "3\n"),
    ]);
    let s = Send::start(standard, remote_rule);
    s.wait_log("status: local 0/3 remote 0/20", 1);
    let rcpts = [
        "x@virt.example",
        "y%far.example@pct.example",
        "z",
        "some@far.example",
        "fail@virt.example",
    ];
    inject(&t, "joe@me.example", &rcpts, "Subject: r\n\nb\n");
    s.wait_log("end msg", 2);
    let local: Vec<String> = s
        .local
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.recip.clone())
        .collect();
    let remote: Vec<String> = s
        .remote
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.recip.clone())
        .collect();
    assert_eq!(
        local[..4],
        [
            "vuser-x@virt.example",
            "z@me.example",
            "caught-some@far.example",
            "vuser-fail@virt.example"
        ]
    );
    assert_eq!(remote, ["y@far.example"]);
    let b = s
        .local
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.recip == "joe@me.example")
        .cloned()
        .unwrap();
    assert!(
        b.body.contains("\n<fail@virt.example>:\n"),
        "prefix removed: {}",
        b.body
    );
    std::fs::write(home().join("control/virtualdomains"), "new.example:nu\n").unwrap();
    std::fs::write(home().join("control/locals"), "me.example\nloc2.example\n").unwrap();
    s.signal(sig::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    inject(
        &t,
        "joe@me.example",
        &["q@new.example", "w@loc2.example", "x@virt.example"],
        "S: h\n\nb\n",
    );
    s.wait_log("end msg", 3);
    let local: Vec<String> = s
        .local
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.recip.clone())
        .collect();
    assert!(
        local.ends_with(&["nu-q@new.example".to_string(), "w@loc2.example".to_string()]),
        "{local:?}"
    );
    let remote: Vec<String> = s
        .remote
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.recip.clone())
        .collect();
    assert_eq!(remote, ["y@far.example", "x@virt.example"]);
}

#[test]
fn verp_per_recipient_and_reduced_for_the_bounce() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(
        &t,
        "list-@me.example-@[]",
        &["ann@me.example", "fail@me.example", "b@far.example"],
        "S: v\n\nb\n",
    );
    s.wait_log("end msg", 2);
    let local = s.local.lock().unwrap().clone();
    assert_eq!(local[0].sender, "list-ann=me.example@me.example");
    assert_eq!(local[1].sender, "list-fail=me.example@me.example");
    let remote = s.remote.lock().unwrap().clone();
    assert_eq!(remote[0].sender, "list-b=far.example@me.example");
    let b = local
        .iter()
        .find(|r| r.recip == "list-@me.example")
        .expect("bounce to P@H");
    assert!(b.body.contains("\nTo: list-@me.example\n"));
    assert!(b.body.contains("\nReturn-Path: <list-@me.example>\n"));
}

#[test]
fn odd_reports_and_empty_envelopes() {
    let _l = home_lock();
    let t = setup(&[]);
    let s = Send::start(standard, remote_rule);
    inject(&t, "joe@me.example", &[], "Subject: nobody\n\nb\n");
    s.wait_log("end msg", 1);
    inject(
        &t,
        "joe@me.example",
        &["stray@me.example"],
        "Subject: s\n\nb\n",
    );
    s.wait_log("end msg", 2);
    inject(
        &t,
        "joe@me.example",
        &["mangle@me.example"],
        "Subject: m\n\nb\n",
    );
    s.wait_log("delivery 2: report mangled, will defer\n", 1);
    s.signal(sig::SIGALRM);
    s.wait_log("end msg", 3);
    assert_empty(&s);
    let log = mask(&s.stop());
    assert!(
        log.starts_with(
            "status: local 0/10 remote 0/20\n\
             new msg A\n\
             info msg A: bytes N from <joe@me.example> qp N uid N\n\
             end msg A\n"
        ),
        "{log}"
    );
    assert!(
        log.contains("warning: internal error: delivery report out of range\n"),
        "{log}"
    );
    assert!(log.contains("delivery 3: success: did_1+0+0/\n"), "{log}");
}
