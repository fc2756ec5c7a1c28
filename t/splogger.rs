//! splogger: each run happens in a private user and mount namespace (`unshare --user
//! --map-root-user --mount`) with a test directory bind-mounted over /dev, so the /dev/log it
//! writes to is a socket this test bound; the datagrams are compared byte for byte, with the
//! header time and the stamp masked (and checked against the clock separately). Covers
//! severities, tag and facility, sanitising, empty and partial lines, 799-byte pieces, the
//! local time zone, a missing /dev/log (warns, waits, loses nothing), a restarted log daemon,
//! a stream socket, usage errors and unreadable input.
//! If user namespaces are not available to the test user these tests fail; they never pass
//! without having looked at real datagrams.
//! Not tested here: `/dev/log` without permission (same path as a missing socket: warn, retry).

use crate::common::{bin, run, Cmd, Out, TmpDir};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const USAGE: &str = "splogger: usage: splogger [tag [facility]]\n";
const BIND: &str = "mount --bind \"$0\" /dev && exec \"$@\"";

/// Fails the test, with the reason, when this user cannot make the namespaces.
fn need_namespaces() {
    let o = run("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .go();
    assert_eq!(
        o.code,
        0,
        "splogger's tests need unprivileged user namespaces (`unshare --user --map-root-user \
         --mount`) to put a test socket at /dev/log, and this user cannot make them: {}",
        o.stderr()
    );
}

/// A test directory with `dev/`, which runs will see as /dev.
fn devdir(tag: &str) -> (TmpDir, PathBuf) {
    need_namespaces();
    let t = TmpDir::new(tag);
    let dev = t.join("dev");
    std::fs::create_dir(&dev).expect("mkdir dev");
    (t, dev)
}

/// splogger with `args`, seeing `dev` as /dev.
fn splogger(dev: &Path, args: &[&str]) -> Cmd {
    run("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "--",
            "sh",
            "-c",
            BIND,
        ])
        .arg(dev)
        .arg(bin("splogger"))
        .args(args)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Runs `work` while a thread collects every datagram arriving on `sock`.
fn gather(sock: &UnixDatagram, work: impl FnOnce() -> Out) -> (Out, Vec<Vec<u8>>) {
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            let (mut got, mut buf) = (Vec::new(), vec![0u8; 1 << 16]);
            loop {
                match sock.recv(&mut buf) {
                    Ok(n) => got.push(buf[..n].to_vec()),
                    Err(_) if done.load(Ordering::SeqCst) => return got,
                    Err(_) => {}
                }
            }
        });
        let out = work();
        done.store(true, Ordering::SeqCst);
        (out, h.join().expect("receiver"))
    })
}

/// A message with its header time replaced by `TIME` and its stamp by `STAMP`, and the two.
/// The header must look like glibc's `Mmm dd hh:mm:ss`, the stamp like `<sec>.<usec6>`.
fn mask(m: &[u8], tag: &str) -> (String, String, String) {
    let s = String::from_utf8(m.to_vec()).expect("ascii message");
    let gt = s.find('>').unwrap_or_else(|| panic!("no <pri>: {s}"));
    let time = s
        .get(gt + 1..gt + 16)
        .unwrap_or_else(|| panic!("short: {s}"));
    let b = time.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    assert!(
        b[3] == b' '
            && (b[4] == b' ' || b[4].is_ascii_digit())
            && digits(5..6)
            && b[6] == b' '
            && digits(7..9)
            && b[9] == b':'
            && digits(10..12)
            && b[12] == b':'
            && digits(13..15),
        "header time {time:?} in {s}"
    );
    let rest = s[gt + 16..]
        .strip_prefix(&format!(" {tag}: "))
        .unwrap_or_else(|| panic!("tag {tag}: {s}"));
    let dot = rest.find('.').unwrap_or_else(|| panic!("stamp: {s}"));
    let end = dot + 7;
    assert!(
        dot > 0
            && rest.len() > end
            && rest[..dot]
                .bytes()
                .chain(rest[dot + 1..end].bytes())
                .all(|c| c.is_ascii_digit()),
        "stamp in {s}"
    );
    let masked = format!("{}TIME {tag}: STAMP{}", &s[..=gt], &rest[end..]);
    (masked, time.to_string(), rest[..end].to_string())
}

fn masked(msgs: &[Vec<u8>], tag: &str) -> Vec<String> {
    msgs.iter().map(|m| mask(m, tag).0).collect()
}

#[test]
fn lines_become_messages_with_severity_stamp_and_tag() {
    let (_t, dev) = devdir("splogger-lines");
    let sock = UnixDatagram::bind(dev.join("log")).expect("bind");
    let input = b"status: local 0/10 remote 0/20\nwarning: trouble\n\nalert: oh no\n\
                  not alert: x\nwarning:x\ntab\there \x01\x7f\xff\xc3\xa9\r\n\n\nlast, no newline";
    let (o, msgs) = gather(&sock, || splogger(&dev, &["qmail"]).stdin(input).go());
    o.expect(0, "", "");
    assert_eq!(
        masked(&msgs, "qmail"),
        [
            "<22>TIME qmail: STAMP status: local 0/10 remote 0/20",
            "<20>TIME qmail: STAMP warning: trouble",
            "<17>TIME qmail: STAMP alert: oh no",
            "<22>TIME qmail: STAMP not alert: x",
            "<20>TIME qmail: STAMP warning:x",
            "<22>TIME qmail: STAMP tab?here ??????",
            "<22>TIME qmail: STAMP last, no newline",
        ]
    );
}

#[test]
fn default_tag_and_facility_codes() {
    let (_t, dev) = devdir("splogger-fac");
    let sock = UnixDatagram::bind(dev.join("log")).expect("bind");
    for (args, tag, want) in [
        (&[][..], "splogger", "<22>TIME splogger: STAMP x"),
        (&["t", "3"][..], "t", "<30>TIME t: STAMP x"),
        (&["t", "2"][..], "t", "<22>TIME t: STAMP x"),
        (&["t", "23"][..], "t", "<190>TIME t: STAMP x"),
        (&["t", "0"][..], "t", "<14>TIME t: STAMP x"),
        (&["a b"][..], "a b", "<22>TIME a b: STAMP x"),
    ] {
        let (o, msgs) = gather(&sock, || splogger(&dev, args).stdin("x\n").go());
        o.expect(0, "", "");
        assert_eq!(masked(&msgs, tag), [want], "{args:?}");
    }
}

#[test]
fn long_lines_go_out_in_799_byte_pieces_with_the_first_stamp() {
    let (_t, dev) = devdir("splogger-long");
    let sock = UnixDatagram::bind(dev.join("log")).expect("bind");
    let long = format!("warning: {}", "w".repeat(1991)); // 2000 bytes
    let exact = "e".repeat(799);
    let input = format!("{long}\n{exact}\nalert: after\n");
    let (o, msgs) = gather(&sock, || splogger(&dev, &["q"]).stdin(&input).go());
    o.expect(0, "", "");
    assert_eq!(
        masked(&msgs, "q"),
        [
            format!("<20>TIME q: STAMP {}", &long[..799]),
            format!("<20>TIME q: STAMP+{}", &long[799..1598]),
            format!("<20>TIME q: STAMP+{}", &long[1598..]),
            format!("<22>TIME q: STAMP {exact}"),
            "<17>TIME q: STAMP alert: after".to_string(),
        ]
    );
    let stamps: Vec<String> = msgs.iter().map(|m| mask(m, "q").2).collect();
    assert_eq!(stamps[0], stamps[1]);
    assert_eq!(stamps[0], stamps[2]);
}

#[test]
fn times_are_the_clock_and_the_header_is_local_time() {
    let (_t, dev) = devdir("splogger-time");
    let sock = UnixDatagram::bind(dev.join("log")).expect("bind");
    let start = now();
    let (o, msgs) = gather(&sock, || {
        splogger(&dev, &["z"])
            .env("TZ", "XXX-5:30")
            .stdin("one\n")
            .go()
    });
    let end = now();
    o.expect(0, "", "");
    assert_eq!(msgs.len(), 1);
    let (_, time, stamp) = mask(&msgs[0], "z");
    let secs: u64 = stamp
        .split('.')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("secs");
    assert!(
        (start..=end).contains(&secs),
        "stamp {stamp} not in {start}..={end}"
    );
    let local: Vec<String> = (start..=end)
        .map(|s| qlib::syslog::header_time(s as i64, 5 * 3600 + 1800))
        .collect();
    assert!(
        local.contains(&time),
        "header {time:?}, expected one of {local:?} (UTC+5:30)"
    );
}

/// A splogger child with piped stdin and stderr, killed and reaped if the test fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dev: &Path, args: &[&str]) -> Running {
    let mut c = splogger(dev, args);
    c.raw()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    Running(c.raw().spawn().expect("spawn splogger"))
}

/// One datagram, waiting up to 30 s.
fn recv1(sock: &UnixDatagram) -> Vec<u8> {
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut buf = vec![0u8; 1 << 16];
    // EINTR is retried: a stop/continue of the test process interrupts a timed recv.
    let n = loop {
        match sock.recv(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => break r.expect("a datagram within 30 s"),
        }
    };
    buf.truncate(n);
    buf
}

/// Closes stdin, waits for the exit; returns the code and the rest of stderr.
fn finish(mut r: Running, mut err: impl Read) -> (Option<i32>, String) {
    drop(r.0.stdin.take());
    let mut rest = String::new();
    err.read_to_string(&mut rest).expect("stderr");
    let code = r.0.wait().expect("wait").code();
    (code, rest)
}

#[test]
fn a_missing_dev_log_is_waited_for_and_no_line_is_lost() {
    let (_t, dev) = devdir("splogger-missing");
    let mut r = start(&dev, &["m"]);
    let mut stdin = r.0.stdin.take().expect("stdin");
    let mut err = BufReader::new(r.0.stderr.take().expect("stderr"));
    stdin.write_all(b"first\n").expect("write");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        let _ = err.read_line(&mut line);
        let _ = tx.send(line);
        err
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a warning within 30 s");
    assert_eq!(
        line,
        "splogger: warning: unable to log to /dev/log: file does not exist; will try again\n"
    );
    let sock = UnixDatagram::bind(dev.join("log")).expect("bind");
    assert_eq!(mask(&recv1(&sock), "m").0, "<22>TIME m: STAMP first");
    stdin.write_all(b"second\n").expect("write");
    drop(stdin);
    assert_eq!(mask(&recv1(&sock), "m").0, "<22>TIME m: STAMP second");
    let err = reader.join().expect("reader");
    assert_eq!(finish(r, err), (Some(0), String::new()));
}

#[test]
fn a_restarted_log_daemon_gets_the_next_line() {
    let (_t, dev) = devdir("splogger-restart");
    let path = dev.join("log");
    let sock = UnixDatagram::bind(&path).expect("bind");
    let mut r = start(&dev, &["r"]);
    let mut stdin = r.0.stdin.take().expect("stdin");
    let err = r.0.stderr.take().expect("stderr");
    stdin.write_all(b"one\n").expect("write");
    assert_eq!(mask(&recv1(&sock), "r").0, "<22>TIME r: STAMP one");
    drop(sock);
    std::fs::remove_file(&path).expect("rm socket");
    let sock = UnixDatagram::bind(&path).expect("rebind");
    stdin.write_all(b"two\n").expect("write");
    assert_eq!(mask(&recv1(&sock), "r").0, "<22>TIME r: STAMP two");
    drop(stdin);
    assert_eq!(finish(r, err), (Some(0), String::new()));
}

#[test]
fn a_stream_socket_gets_nul_terminated_messages() {
    let (_t, dev) = devdir("splogger-stream");
    let l = UnixListener::bind(dev.join("log")).expect("bind");
    let o = splogger(&dev, &["s"]).stdin("a\nwarning: b\n").go();
    o.expect(0, "", "");
    let (mut c, _) = l.accept().expect("accept");
    let mut all = Vec::new();
    c.read_to_end(&mut all).expect("read");
    assert_eq!(all.last(), Some(&0u8), "{all:?}");
    let msgs: Vec<Vec<u8>> = all[..all.len() - 1]
        .split(|&b| b == 0)
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(
        masked(&msgs, "s"),
        ["<22>TIME s: STAMP a", "<20>TIME s: STAMP warning: b"]
    );
}

#[test]
fn usage() {
    for args in [
        &["a", "b", "c"][..],
        &["a", "mail"],
        &["a", "24"],
        &["a", ""],
        &["a", "-1"],
        &["a", "2x"],
    ] {
        run("splogger")
            .args(args)
            .stdin("x\n")
            .go()
            .expect(100, "", USAGE);
    }
}

#[test]
fn unreadable_input() {
    let t = TmpDir::new("splogger-input");
    let mut c = run("splogger");
    c.raw().stdin(std::fs::File::open(&t.0).expect("open dir"));
    c.go().expect(
        111,
        "",
        "splogger: fatal: unable to read input: is a directory\n",
    );
}
