//! qmail-queue: the order of operations of spec §3.4, its exit codes, and that it cannot be
//! redirected. Each test builds a fresh private queue in the compiled-in home.
//! Not tested here: the setuid bit and "by uid"/"from network"/"for bounce" trace lines (every
//! conf account is the test user in the private build, so the caller is always "alias"; the
//! root tests of t/install.rs cover the real accounts); the 24 h timer.

use crate::common::{home, home_lock, install_tree, ls, TmpDir};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Runs qmail-queue with `msg` on fd 0 and `env` on fd 1 (both files), plus extra args/env.
fn qq(t: &TmpDir, msg: &[u8], env: &[u8], args: &[&str], vars: &[(&str, &str)]) -> i32 {
    let m = t.write("msg", msg);
    let e = t.write("env", env);
    let mut c = Command::new(crate::common::bin("qmail-queue"));
    c.env_clear()
        .args(args)
        .stdin(std::fs::File::open(m).unwrap())
        .stdout(std::fs::File::open(e).unwrap());
    c.stderr(Stdio::piped());
    for (k, v) in vars {
        c.env(k, v);
    }
    let o = c.output().expect("run qmail-queue");
    assert_eq!(o.stderr, b"", "qmail-queue never prints");
    o.status.code().unwrap_or(-1)
}

fn queue() -> PathBuf {
    home().join("queue")
}

/// Every file in the queue's message directories, as relative paths.
fn files() -> Vec<String> {
    let mut v = Vec::new();
    for d in ["pid", "intd", "todo"] {
        v.extend(ls(queue().join(d)).into_iter().map(|f| format!("{d}/{f}")));
    }
    for s in ls(queue().join("mess")) {
        v.extend(
            ls(queue().join("mess").join(&s))
                .into_iter()
                .map(|f| format!("mess/{s}/{f}")),
        );
    }
    v
}

#[test]
fn queues_message_and_envelope() {
    let _l = home_lock();
    install_tree(&home());
    let t = TmpDir::new("qq1");
    let code = qq(
        &t,
        b"Subject: hi\n\nbody\n",
        b"Fjoe@a.example\0Tx@b.example\0Ty@c.example\0\0trailing junk",
        &[],
        &[],
    );
    assert_eq!(code, 0);
    let todo = ls(queue().join("todo"));
    assert_eq!(todo.len(), 1);
    let id: u64 = todo[0].parse().unwrap();
    let split = qlib::conf::split();
    let mess = queue().join(format!("mess/{}/{id}", id % split));
    assert_eq!(
        std::fs::metadata(&mess).unwrap().ino(),
        id,
        "message id is the inode number"
    );
    assert_eq!(
        std::fs::metadata(queue().join(format!("intd/{id}")))
            .unwrap()
            .ino(),
        std::fs::metadata(queue().join(format!("todo/{id}")))
            .unwrap()
            .ino()
    );
    let body = std::fs::read(&mess).unwrap();
    let text = String::from_utf8_lossy(&body);
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(
        first.starts_with("Received: (qmail ")
            && first.contains(" invoked by alias); ")
            && first.ends_with(" -0000"),
        "{first}"
    );
    assert_eq!(rest, "Subject: hi\n\nbody\n");
    let env = std::fs::read(queue().join(format!("todo/{id}"))).unwrap();
    let uid = qlib::sys::id::getuid();
    let tail = "\0Fjoe@a.example\0Tx@b.example\0Ty@c.example\0";
    assert!(env.starts_with(format!("u{uid}\0p").as_bytes()), "{env:?}");
    assert!(env.ends_with(tail.as_bytes()), "{env:?}");
    assert_eq!(ls(queue().join("pid")), Vec::<String>::new());
    assert_eq!(std::fs::metadata(&mess).unwrap().mode() & 0o777, 0o644);
}

#[test]
fn zero_recipients_and_longest_address_are_accepted() {
    let _l = home_lock();
    install_tree(&home());
    let t = TmpDir::new("qq2");
    assert_eq!(qq(&t, b"", b"F\0\0", &[], &[]), 0);
    let long = format!("F{}\0T{}\0\0", "a".repeat(1002), "b".repeat(1002));
    assert_eq!(qq(&t, b"x", long.as_bytes(), &[], &[]), 0);
    assert_eq!(ls(queue().join("todo")).len(), 2);
}

#[test]
fn bad_envelopes_leave_nothing_behind() {
    let _l = home_lock();
    let t = TmpDir::new("qq3");
    let cases: &[(&[u8], i32)] = &[
        (b"Tx@y\0\0", 91),
        (b"Fa@b\0Xoops\0\0", 91),
        (b"\0", 91),
        (b"", 54),
        (b"Fa@b\0Tx@y\0", 54),
        (b"Fa@b\0Tx@y", 54),
        (b"Fa@b", 54),
    ];
    for (env, want) in cases {
        install_tree(&home());
        assert_eq!(
            qq(&t, b"message\n", env, &[], &[]),
            *want,
            "envelope {env:?}"
        );
        assert_eq!(files(), Vec::<String>::new(), "envelope {env:?} left files");
    }
    install_tree(&home());
    let long = format!("Fa@b\0T{}\0\0", "b".repeat(1003));
    assert_eq!(qq(&t, b"x", long.as_bytes(), &[], &[]), 11);
    let long = format!("F{}\0\0", "a".repeat(1003));
    assert_eq!(qq(&t, b"x", long.as_bytes(), &[], &[]), 11);
    assert_eq!(files(), Vec::<String>::new());
}

#[test]
fn unreadable_message_is_54_and_leaves_nothing() {
    let _l = home_lock();
    install_tree(&home());
    let t = TmpDir::new("qq4");
    let e = t.write("env", b"Fa@b\0Tc@d\0\0");
    let mut c = Command::new(crate::common::bin("qmail-queue"));
    // A directory on fd 0: read() fails with EISDIR.
    c.env_clear()
        .stdin(std::fs::File::open(&t.0).unwrap())
        .stdout(std::fs::File::open(e).unwrap());
    assert_eq!(c.status().unwrap().code(), Some(54));
    assert_eq!(files(), Vec::<String>::new());
}

#[test]
fn cannot_be_redirected_by_arguments_or_environment() {
    let _l = home_lock();
    install_tree(&home());
    let t = TmpDir::new("qq5");
    let elsewhere = t.join("elsewhere");
    install_tree(&elsewhere);
    let e = elsewhere.display().to_string();
    let vars = [
        ("QMAILHOME", e.as_str()),
        ("QUEUEDIR", e.as_str()),
        ("HOME", e.as_str()),
        ("QMAILQUEUE", "/bin/false"),
    ];
    assert_eq!(qq(&t, b"m", b"Fa@b\0Tc@d\0\0", &[&e, "-f", "x"], &vars), 0);
    assert_eq!(ls(queue().join("todo")).len(), 1);
    assert_eq!(ls(elsewhere.join("queue/todo")), Vec::<String>::new());
}

#[test]
fn missing_queue_is_62() {
    let _l = home_lock();
    install_tree(&home());
    std::fs::remove_dir_all(queue()).unwrap();
    let t = TmpDir::new("qq6");
    assert_eq!(qq(&t, b"m", b"Fa@b\0\0", &[], &[]), 62);
    install_tree(&home());
}

#[test]
fn pulls_the_trigger() {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let _l = home_lock();
    install_tree(&home());
    let t = TmpDir::new("qq7");
    let mut fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(qlib::sys::fs::O_NONBLOCK)
        .open(queue().join("lock/trigger"))
        .unwrap();
    assert_eq!(qq(&t, b"m", b"Fa@b\0Tc@d\0\0", &[], &[]), 0);
    let mut got = Vec::new();
    let _ = fifo.read_to_end(&mut got);
    assert_eq!(got, vec![0u8]);
    // With nobody reading, qmail-queue still succeeds.
    drop(fifo);
    assert_eq!(qq(&t, b"m", b"Fa@b\0Tc@d\0\0", &[], &[]), 0);
}
