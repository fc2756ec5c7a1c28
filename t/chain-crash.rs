//! Crash safety of the local chain: a burst of injections while qmail-send, qmail-queue and
//! the local deliveries (qmail-lspawn's forked children, which run qmail-local's code in the
//! recipient's home) are killed with SIGKILL at random instants. After a restart every injection
//! that got exit 0 is delivered, and nothing is delivered truncated; duplicates (allowed by
//! qmail's design: done-marks are not synced) are counted and printed.
//! Not tested here: power loss (fsync itself), which a process kill cannot show.

use crate::common::{
    assign_users, bin_dir, home, home_lock, ls, maildir_messages, run, wait_for, Instance, TmpDir,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// This test's processes running program `name`: matched by executable path and by working
/// directory (qmail-queue works in the home's queue/, a delivery in the user's home), so
/// tests running beside this one are never hit.
fn pids_of(name: &str, cwd: &std::path::Path) -> Vec<i32> {
    let want = bin_dir().join(name).canonicalize().unwrap_or_default();
    let cwd = cwd.canonicalize().unwrap_or_default();
    ls("/proc")
        .iter()
        .filter_map(|p| p.parse::<i32>().ok())
        .filter(|p| std::fs::read_link(format!("/proc/{p}/exe")).is_ok_and(|e| e == want))
        .filter(|p| std::fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|d| d.starts_with(&cwd)))
        .collect()
}

fn kill9(pid: i32) {
    let _ = qlib::sys::sig::kill(pid, qlib::sys::sig::SIGKILL);
}

fn message(n: usize) -> String {
    let filler = "0123456789abcdef".repeat(16 + (n * 37) % 400);
    format!("Subject: crash {n}\n\nSTART {n}\n{filler}\nEND {n}\n")
}

#[test]
fn burst_with_random_sigkills_loses_nothing() {
    let _l = home_lock();
    let t = TmpDir::new("crash");
    let q = Arc::new(Mutex::new(Instance::fresh("./Maildir/")));
    let joe = assign_users(&t.0, &["joe"]).remove(0);
    let total = 400;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    eprintln!("crash test: {total} injections, seed {seed}");

    let done = Arc::new(AtomicBool::new(false));
    let (stop, qk, joe_home) = (done.clone(), q.clone(), joe.clone());
    let killer = std::thread::spawn(move || {
        let mut r = seed;
        let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
        while !stop.load(Ordering::SeqCst) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            std::thread::sleep(Duration::from_millis(5 + r % 40));
            let victim = [
                "qmail-queue",
                "delivery",
                "qmail-send",
                "qmail-queue",
                "delivery",
            ][(r >> 20) as usize % 5];
            if victim == "qmail-send" && !(r >> 30).is_multiple_of(2) {
                continue; // restarting qmail-send takes a while; kill it less often
            }
            let pids = match victim {
                // qmail-lspawn delivers in a forked child that moves into the user's home;
                // qmail-local, should a delivery exec it, works there too.
                "delivery" => [
                    pids_of("qmail-lspawn", &joe_home),
                    pids_of("qmail-local", &joe_home),
                ]
                .concat(),
                _ => pids_of(victim, &home().join("queue")),
            };
            for pid in pids {
                kill9(pid);
                *kills.entry(victim).or_default() += 1;
            }
            if victim == "qmail-send" {
                let mut i = qk.lock().unwrap();
                i.kill();
                *i = Instance::start("./Maildir/");
            }
        }
        kills
    });

    let accepted = Arc::new(Mutex::new(Vec::new()));
    let injectors: Vec<_> = (0..3)
        .map(|k| {
            let acc = accepted.clone();
            std::thread::spawn(move || {
                for n in (k..total).step_by(3) {
                    let o = run("qmail-inject")
                        .arg("joe@test.example")
                        .env("USER", "tester")
                        .stdin(message(n))
                        .go();
                    if o.code == 0 {
                        acc.lock().unwrap().push(n);
                    }
                }
            })
        })
        .collect();
    for i in injectors {
        i.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let kills = killer.join().unwrap();
    let accepted = accepted.lock().unwrap().clone();

    // Everything due now, repeatedly, until every accepted message is there.
    let md = joe.join("Maildir");
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut delivered: BTreeMap<usize, usize> = BTreeMap::new();
    while Instant::now() < deadline {
        if let Some(c) = q.lock().unwrap().send.as_mut() {
            assert!(
                matches!(c.try_wait(), Ok(None)),
                "qmail-send died after the last restart"
            );
            let _ = qlib::sys::sig::kill(c.id() as i32, qlib::sys::sig::SIGALRM);
        }
        delivered.clear();
        for m in maildir_messages(&md) {
            let text = String::from_utf8_lossy(&m).into_owned();
            let n: usize = text
                .split("Subject: crash ")
                .nth(1)
                .and_then(|s| s.split('\n').next())
                .and_then(|s| s.parse().ok())
                .expect("a crash-test message");
            assert!(
                text.ends_with(&message(n)[message(n).find("\n\n").unwrap()..]),
                "message {n} delivered truncated or altered"
            );
            *delivered.entry(n).or_default() += 1;
        }
        if accepted.iter().all(|n| delivered.contains_key(n)) {
            break;
        }
        wait_for(1, || false);
    }
    let missing: Vec<_> = accepted
        .iter()
        .filter(|n| !delivered.contains_key(n))
        .collect();
    let dups: usize = delivered.values().map(|c| c - 1).sum();
    // Written to fd 2 directly, not with eprintln!, so that package/test shows it even when the
    // test passes (the test harness captures only the print macros).
    let summary = format!(
        "crash test: kills {kills:?}; {} of {total} injections accepted; {} distinct delivered; {dups} duplicates; {} delivered though refused",
        accepted.len(),
        delivered.len(),
        delivered.keys().filter(|n| !accepted.contains(n)).count()
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{summary}\n").as_bytes());
    assert!(
        missing.is_empty(),
        "accepted but never delivered: {missing:?}\nlog:\n{}",
        q.lock().unwrap().log_text()
    );
    assert!(
        accepted.len() > total / 4,
        "too few injections succeeded to show anything"
    );
    assert_eq!(q.lock().unwrap().stop(), Some(0));
}
