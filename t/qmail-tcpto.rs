//! qmail-tcpto: the lines it prints for hand-written tables (qmail's 16-byte IPv4 records in
//! queue/lock/tcpto, rqmail's 32-byte IPv6 records in queue/lock/tcpto6), records with count 0
//! left out, damaged and short files shown as far as their whole records go, and its failures.
//! Not tested here: the lock wait (see t/qmail-tcpok.rs, which shares the lock code); an
//! unreadable table when the tests run as root (root reads anyway).

use crate::common::{home, home_lock, install_tree, run, Out};
use std::net::Ipv6Addr;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// One tcpto record: address, count, little-endian time.
pub fn rec4(ip: [u8; 4], count: u8, when: u64) -> Vec<u8> {
    let mut r = vec![0u8; 16];
    r[..4].copy_from_slice(&ip);
    r[4] = count;
    r[8..12].copy_from_slice(&(when as u32).to_le_bytes());
    r
}

/// One tcpto6 record.
pub fn rec6(ip: &str, count: u8, when: u64) -> Vec<u8> {
    let mut r = vec![0u8; 32];
    r[..16].copy_from_slice(&ip.parse::<Ipv6Addr>().expect("ip6").octets());
    r[16] = count;
    r[24..28].copy_from_slice(&(when as u32).to_le_bytes());
    r
}

/// A table of `size` bytes with the given records at their slots, the rest zero.
pub fn table(size: usize, recs: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut t = vec![0u8; size];
    for (i, r) in recs {
        t[i * r.len()..][..r.len()].copy_from_slice(r);
    }
    t
}

pub fn lock_file(name: &str) -> std::path::PathBuf {
    home().join("queue/lock").join(name)
}

/// Runs qmail-tcpto; its output must equal `lines(t)` for some `t` from before the run to
/// after it (the seconds shown depend on the clock).
fn expect_lines(lines: impl Fn(u64) -> String) -> Out {
    let t0 = now();
    let o = run("qmail-tcpto").go();
    let t1 = now();
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    let got = o.stdout();
    assert!(
        (t0..=t1).any(|t| got == lines(t)),
        "got:\n{got}want:\n{}",
        lines(t1)
    );
    o
}

#[test]
fn lists_records_with_a_count_in_slot_order_ipv4_first() {
    let _l = home_lock();
    install_tree(&home());
    let w = now() - 1000;
    let v4 = table(
        1024,
        &[
            (0, rec4([192, 0, 2, 1], 3, w)),
            (1, rec4([192, 0, 2, 2], 0, w)), // reset after a connect: not shown
            (5, rec4([10, 0, 0, 1], 10, w - 7200)),
            (63, rec4([198, 51, 100, 7], 1, w + 900)),
        ],
    );
    let v6 = table(
        2048,
        &[
            (2, rec6("2001:db8::1", 2, w + 100)),
            (3, rec6("2001:db8::2", 0, w)),
        ],
    );
    std::fs::write(lock_file("tcpto"), &v4).unwrap();
    std::fs::write(lock_file("tcpto6"), &v6).unwrap();
    expect_lines(|t| {
        format!(
            "192.0.2.1 timed out {} seconds ago; # recent timeouts: 3\n\
             10.0.0.1 timed out {} seconds ago; # recent timeouts: 10\n\
             198.51.100.7 timed out {} seconds ago; # recent timeouts: 1\n\
             2001:db8::1 timed out {} seconds ago; # recent timeouts: 2\n",
            t - w,
            t - w + 7200,
            t - w - 900,
            t - w - 100
        )
    });
    // listing changes nothing
    assert_eq!(std::fs::read(lock_file("tcpto")).unwrap(), v4);
    assert_eq!(std::fs::read(lock_file("tcpto6")).unwrap(), v6);
}

#[test]
fn empty_tables_print_nothing() {
    let _l = home_lock();
    install_tree(&home());
    // as installed: tcpto 1024 NUL bytes, tcpto6 empty
    assert_eq!(std::fs::read(lock_file("tcpto")).unwrap(), vec![0u8; 1024]);
    assert_eq!(std::fs::read(lock_file("tcpto6")).unwrap(), b"");
    run("qmail-tcpto").go().expect(0, "", "");
    // a home from before tcpto6: the IPv4 table alone
    std::fs::remove_file(lock_file("tcpto6")).unwrap();
    std::fs::write(
        lock_file("tcpto"),
        table(1024, &[(9, rec4([1, 2, 3, 4], 2, 0))]),
    )
    .unwrap();
    expect_lines(|t| format!("1.2.3.4 timed out {t} seconds ago; # recent timeouts: 2\n"));
}

#[test]
fn short_and_garbage_files_do_not_crash_it() {
    let _l = home_lock();
    install_tree(&home());
    // A partial record at the end is ignored, as qmail's r >>= 4 ignores it: here 20 bytes
    // of the second record, its count byte 9 included, are not shown.
    let w = now() - 50;
    let mut short = rec4([192, 0, 2, 1], 2, w);
    short.extend_from_slice(&rec4([192, 0, 2, 9], 9, w)[..10]);
    let mut short6 = rec6("::1", 1, w);
    short6.extend_from_slice(&rec6("::2", 5, w)[..20]);
    std::fs::write(lock_file("tcpto"), &short).unwrap();
    std::fs::write(lock_file("tcpto6"), &short6).unwrap();
    expect_lines(|t| {
        format!(
            "192.0.2.1 timed out {} seconds ago; # recent timeouts: 2\n\
             ::1 timed out {} seconds ago; # recent timeouts: 1\n",
            t - w,
            t - w
        )
    });
    // Garbage, and files longer than the table: 64 lines each, counts shown as they are.
    let junk: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8 | 1).collect();
    std::fs::write(lock_file("tcpto"), &junk).unwrap();
    std::fs::write(lock_file("tcpto6"), &junk).unwrap();
    let o = run("qmail-tcpto").go();
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    let out = o.stdout();
    assert_eq!(out.lines().count(), 128);
    assert!(out
        .lines()
        .all(|l| l.contains(" seconds ago; # recent timeouts: ")));
}

#[test]
fn failures() {
    let _l = home_lock();
    install_tree(&home());
    let h = home().display().to_string();
    run("qmail-tcpto")
        .arg("x")
        .go()
        .expect(100, "", "qmail-tcpto: usage: qmail-tcpto\n");
    std::fs::remove_file(lock_file("tcpto")).unwrap();
    run("qmail-tcpto").go().expect(
        111,
        "",
        &format!("qmail-tcpto: fatal: unable to open {h}/queue/lock/tcpto: file does not exist\n"),
    );
    std::fs::remove_dir_all(home().join("queue/lock")).unwrap();
    run("qmail-tcpto").go().expect(
        111,
        "",
        &format!("qmail-tcpto: fatal: unable to chdir to {h}/queue/lock: file does not exist\n"),
    );
    install_tree(&home());
}
