//! The remote-timeout table (tcpto.c, tcpto_clean.c, and what qmail-tcpto.c and qmail-tcpok.c
//! know of its layout): the remote IPs whose connect recently timed out, so that qmail-remote
//! skips them for a while instead of waiting on each again (spec §5.6).
//!
//! Two files in `queue/lock` ([`DIR`]) of the qmail home. The functions without a directory
//! argument ([`is_down`], [`record_ok`], [`record_timeout`], [`clear`]) expect the current
//! directory to be the home, as qmail-remote's is.
//! * `tcpto`, IPv4, byte for byte qmail's: 64 records × 16 bytes; 0–3 the address (network
//!   order), 4 the count of recent timeouts (0–10, 0 = free slot), 8–11 the time of the last
//!   recorded timeout (little-endian seconds); the other bytes unused and left as found.
//! * `tcpto6`, IPv6, rqmail's own (qmail had none): 64 records × 32 bytes; 0–15 the address,
//!   16 the count, 24–27 the time; the same rules. An IPv4-mapped IPv6 address
//!   (`::ffff:a.b.c.d`) is IPv4 and goes in `tcpto`. package/hier installs `tcpto6` empty and
//!   it grows as records are written; if it is missing (a home installed before it existed)
//!   it reads as empty, nothing is recorded there, and clearing it does nothing. Nothing
//!   creates either file (`queue/lock` is not writable by qmailr).
//!
//! Every access holds an exclusive `flock` on the open file (qmail's `lock_ex` on its write
//! descriptor), released when it is closed. A file shorter than the table reads as free slots
//! past its end; a trailing partial record is ignored (read as a free slot), as qmail's
//! `r >>= 4` ignores it. Unlike qmail, whose table had only as many slots as the file had whole
//! records, a short file still has all 64 slots: writing one beyond its end extends it.
//! Changes are written one record in place, as qmail's seek and write.

use crate::ip;
use std::fs::{File, OpenOptions};
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The directory of both tables, relative to the qmail home.
pub const DIR: &str = "queue/lock";
/// Records in each table.
pub const SLOTS: usize = 64;
/// Counts stop here.
const MAX_COUNT: u8 = 10;
/// A further timeout this soon after the last one recorded is not counted.
const QUIET_SECS: u64 = 120;

/// Which table an address belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `tcpto`, qmail's table
    V4,
    /// `tcpto6`, rqmail's
    V6,
}

impl Family {
    /// Both, in the order they are listed and cleared.
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    /// The table's file name in [`DIR`].
    pub fn file(self) -> &'static str {
        match self {
            Family::V4 => "tcpto",
            Family::V6 => "tcpto6",
        }
    }

    /// Bytes in one record.
    pub fn record_len(self) -> usize {
        match self {
            Family::V4 => 16,
            Family::V6 => 32,
        }
    }

    /// Bytes in the whole table (1024 or 2048).
    pub fn size(self) -> usize {
        SLOTS * self.record_len()
    }

    fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }

    /// Offset of the count byte.
    fn count_at(self) -> usize {
        self.addr_len()
    }

    /// Offset of the 4 bytes of time.
    fn time_at(self) -> usize {
        match self {
            Family::V4 => 8,
            Family::V6 => 24,
        }
    }
}

/// The table of `ip` and its address bytes as stored (first 4 or all 16).
fn key(ip: IpAddr) -> (Family, [u8; 16]) {
    let mut k = [0u8; 16];
    match ip::unmapped(ip) {
        IpAddr::V4(v4) => {
            k[..4].copy_from_slice(&v4.octets());
            (Family::V4, k)
        }
        IpAddr::V6(v6) => (Family::V6, v6.octets()),
    }
}

/// One record with a count of at least 1, as qmail-tcpto shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// the remote address
    pub ip: IpAddr,
    /// recent timeouts, 1–10 (more only in a damaged file)
    pub count: u8,
    /// time of the last recorded timeout, seconds since the epoch
    pub when: u64,
}

impl Entry {
    /// Seconds from the last timeout to `now` (0 if it lies in the future).
    pub fn age(&self, now: u64) -> u64 {
        now.saturating_sub(self.when)
    }
}

fn record(table: &[u8], fam: Family, i: usize) -> &[u8] {
    &table[i * fam.record_len()..][..fam.record_len()]
}

fn count(r: &[u8], fam: Family) -> u8 {
    r[fam.count_at()]
}

fn when(r: &[u8], fam: Family) -> u64 {
    let t = fam.time_at();
    u64::from(u32::from_le_bytes([r[t], r[t + 1], r[t + 2], r[t + 3]]))
}

fn set(table: &mut [u8], fam: Family, i: usize, count: u8, when: u64) {
    let r = &mut table[i * fam.record_len()..][..fam.record_len()];
    let t = fam.time_at();
    r[fam.count_at()] = count;
    // qmail keeps the low 32 bits
    r[t..t + 4].copy_from_slice(&(when as u32).to_le_bytes());
}

/// The slot holding `addr` (whatever its count), if any.
fn find(table: &[u8], fam: Family, addr: &[u8]) -> Option<usize> {
    (0..SLOTS).find(|&i| &record(table, fam, i)[..fam.addr_len()] == addr)
}

/// How long process `pid` skips an address: `(60 + pid mod 32) × 64` seconds, so that not every
/// qmail-remote tries a down host again at the same moment.
fn skip_secs(pid: u32) -> u64 {
    (60 + u64::from(pid & 31)) << 6
}

/// Whether to skip `addr`: its count is at least 2 and its last timeout less than `limit`
/// seconds before `now` (one in the future is not recent, as in qmail's unsigned arithmetic).
fn skip(table: &[u8], fam: Family, addr: &[u8], now: u64, limit: u64) -> bool {
    find(table, fam, addr).is_some_and(|i| {
        let r = record(table, fam, i);
        count(r, fam) >= 2 && now.checked_sub(when(r, fam)).is_some_and(|age| age < limit)
    })
}

/// After a successful connect: `addr`'s count back to 0. Returns the slot changed, if any.
fn mark_ok(table: &mut [u8], fam: Family, addr: &[u8]) -> Option<usize> {
    let i = find(table, fam, addr)?;
    let r = record(table, fam, i);
    if count(r, fam) == 0 {
        return None;
    }
    let t = when(r, fam);
    set(table, fam, i, 0, t);
    Some(i)
}

/// After a connect timeout at `now`. A known address: ignored if its count is nonzero and its
/// last timeout less than 120 s ago, else count + 1 (at most 10) and time = now. A new one: the
/// first free slot, else the one with the smallest `time + count × 1024` (the first of equals),
/// with count 1. Returns the slot changed, if any.
fn mark_timeout(table: &mut [u8], fam: Family, addr: &[u8], now: u64) -> Option<usize> {
    if let Some(i) = find(table, fam, addr) {
        let r = record(table, fam, i);
        let c = count(r, fam);
        if c != 0 && now < when(r, fam) + QUIET_SECS {
            return None;
        }
        set(table, fam, i, c.saturating_add(1).min(MAX_COUNT), now);
        return Some(i);
    }
    let weight = |i: usize| {
        let r = record(table, fam, i);
        when(r, fam) + (u64::from(count(r, fam)) << 10)
    };
    let i = (0..SLOTS)
        .find(|&i| count(record(table, fam, i), fam) == 0)
        .or_else(|| (0..SLOTS).min_by_key(|&i| weight(i)))?;
    let n = fam.record_len();
    table[i * n..][..fam.addr_len()].copy_from_slice(addr);
    set(table, fam, i, 1, now);
    Some(i)
}

/// The records with a count of at least 1, in slot order.
pub fn entries(table: &[u8], fam: Family) -> Vec<Entry> {
    (0..SLOTS)
        .map(|i| record(table, fam, i))
        .filter(|r| count(r, fam) >= 1)
        .map(|r| Entry {
            ip: match fam {
                Family::V4 => IpAddr::from([r[0], r[1], r[2], r[3]]),
                Family::V6 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(&r[..16]);
                    IpAddr::from(a)
                }
            },
            count: count(r, fam),
            when: when(r, fam),
        })
        .collect()
}

/// One table file, open for reading and writing.
pub struct Table {
    file: File,
    fam: Family,
}

impl Table {
    /// Opens `dir/tcpto` or `dir/tcpto6` for reading and writing, never creating it.
    /// `Ok(None)`: `tcpto6` does not exist (see the module notes); a missing `tcpto` is an error.
    pub fn open(dir: &Path, fam: Family) -> io::Result<Option<Table>> {
        match OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(fam.file()))
        {
            Ok(file) => Ok(Some(Table { file, fam })),
            Err(e) if fam == Family::V6 && e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits for the exclusive lock that serialises every access; held until the drop.
    pub fn lock(&self) -> io::Result<()> {
        self.file.lock()
    }

    /// The whole table, [`Family::size`] bytes (see the module notes for a short file).
    pub fn read(&self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; self.fam.size()];
        let mut n = 0;
        while n < buf.len() {
            match self.file.read_at(&mut buf[n..], n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf[n - n % self.fam.record_len()..].fill(0);
        Ok(buf)
    }

    /// Writes record `slot` of `table` back in place.
    fn put(&self, table: &[u8], slot: usize) -> io::Result<()> {
        let n = self.fam.record_len();
        self.file
            .write_all_at(&table[slot * n..][..n], (slot * n) as u64)
    }

    /// Frees every slot: [`Family::size`] NUL bytes from the start, as qmail-tcpok writes.
    pub fn clear(&self) -> io::Result<()> {
        self.file.write_all_at(&vec![0u8; self.fam.size()], 0)
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `ip`'s table, open, locked and read; `None` if it cannot be had.
fn load(dir: &Path, fam: Family) -> Option<(Table, Vec<u8>)> {
    let t = Table::open(dir, fam).ok()??;
    t.lock().ok()?;
    let table = t.read().ok()?;
    Some((t, table))
}

fn is_down_in(dir: &Path, ip: IpAddr, now: u64, pid: u32) -> bool {
    let (fam, k) = key(ip);
    load(dir, fam)
        .is_some_and(|(_t, table)| skip(&table, fam, &k[..fam.addr_len()], now, skip_secs(pid)))
}

/// Applies `mark` to `ip`'s table under the lock and writes back the slot it changed; errors
/// are ignored, as qmail ignores them (the table is advice).
fn update_in(dir: &Path, ip: IpAddr, mark: impl FnOnce(&mut [u8], Family, &[u8]) -> Option<usize>) {
    let (fam, k) = key(ip);
    if let Some((t, mut table)) = load(dir, fam) {
        if let Some(slot) = mark(&mut table, fam, &k[..fam.addr_len()]) {
            let _ = t.put(&table, slot);
        }
    }
}

/// Before connecting to `ip`: whether the table says to skip it (count ≥ 2 and the last timeout
/// less than `(60 + pid mod 32) × 64` seconds ago). A table that cannot be read says no.
/// Expects the current directory to be the qmail home.
pub fn is_down(ip: IpAddr) -> bool {
    is_down_in(Path::new(DIR), ip, now(), std::process::id())
}

/// After a successful connect to `ip`: if it has a record, its count goes back to 0.
/// Expects the current directory to be the qmail home.
pub fn record_ok(ip: IpAddr) {
    update_in(Path::new(DIR), ip, mark_ok);
}

/// After a connect to `ip` timed out (only a timeout, not a refusal): counts it, by the rules
/// of spec §5.6. Expects the current directory to be the qmail home.
pub fn record_timeout(ip: IpAddr) {
    let now = now();
    update_in(Path::new(DIR), ip, |t, fam, a| mark_timeout(t, fam, a, now));
}

/// Frees every slot of both tables in `queue/lock` of the current directory (the home).
pub fn clear() -> io::Result<()> {
    clear_at(Path::new(DIR))
}

/// Frees every slot of both tables in `dir` (qmail-rspawn's start gives `../lock` from
/// `queue/mess`), each under its lock. A missing `tcpto6` is left missing. Both are tried;
/// the first error is returned.
pub fn clear_at(dir: &Path) -> io::Result<()> {
    let clear = |fam| match Table::open(dir, fam)? {
        Some(t) => t.lock().and_then(|()| t.clear()),
        None => Ok(()),
    };
    let v4 = clear(Family::V4);
    v4.and(clear(Family::V6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::path::PathBuf;

    const V4: Family = Family::V4;
    const A: [u8; 4] = [192, 0, 2, 1];
    const B: [u8; 4] = [192, 0, 2, 2];

    fn table(fam: Family) -> Vec<u8> {
        vec![0u8; fam.size()]
    }

    fn rec(t: &[u8], fam: Family, i: usize) -> (Vec<u8>, u8, u64) {
        let r = record(t, fam, i);
        (r[..fam.addr_len()].to_vec(), count(r, fam), when(r, fam))
    }

    fn put(t: &mut [u8], fam: Family, i: usize, addr: &[u8], c: u8, w: u64) {
        t[i * fam.record_len()..][..addr.len()].copy_from_slice(addr);
        set(t, fam, i, c, w);
    }

    #[test]
    fn the_ipv4_layout_is_qmails() {
        let mut t = table(V4);
        assert_eq!(t.len(), 1024);
        put(&mut t, V4, 1, &A, 3, 0x0403_0201);
        assert_eq!(
            &t[16..32],
            &[192, 0, 2, 1, 3, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0]
        );
        let mut t6 = table(Family::V6);
        assert_eq!(t6.len(), 2048);
        put(&mut t6, Family::V6, 0, &[0xfe; 16], 2, 0x0403_0201);
        assert_eq!(
            &t6[16..32],
            &[2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0]
        );
    }

    #[test]
    fn mapped_addresses_are_ipv4() {
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        let (fam, k) = key(mapped);
        assert_eq!((fam, &k[..4]), (V4, &A[..]));
        let (fam, k) = key(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!((fam, k[15]), (Family::V6, 1));
    }

    #[test]
    fn skip_needs_two_timeouts_and_a_recent_one() {
        let mut t = table(V4);
        put(&mut t, V4, 0, &A, 1, 1000);
        assert!(!skip(&t, V4, &A, 1001, 3840), "count 1");
        put(&mut t, V4, 0, &A, 2, 1000);
        assert!(skip(&t, V4, &A, 1000 + 3839, 3840));
        assert!(!skip(&t, V4, &A, 1000 + 3840, 3840), "long enough ago");
        assert!(!skip(&t, V4, &A, 999, 3840), "in the future");
        assert!(!skip(&t, V4, &B, 1001, 3840), "unknown address");
        assert_eq!(skip_secs(0), 3840);
        assert_eq!(skip_secs(31), 91 * 64);
        assert_eq!(skip_secs(32), 3840);
    }

    #[test]
    fn ok_resets_the_count_only() {
        let mut t = table(V4);
        put(&mut t, V4, 3, &A, 5, 1000);
        assert_eq!(mark_ok(&mut t, V4, &A), Some(3));
        assert_eq!(rec(&t, V4, 3), (A.to_vec(), 0, 1000));
        assert_eq!(mark_ok(&mut t, V4, &A), None, "already 0");
        assert_eq!(mark_ok(&mut t, V4, &B), None, "no record: nothing added");
        let mut want = table(V4);
        put(&mut want, V4, 3, &A, 0, 1000);
        assert_eq!(t, want);
    }

    #[test]
    fn a_new_address_takes_the_first_free_slot() {
        let mut t = table(V4);
        put(&mut t, V4, 0, &B, 4, 500);
        assert_eq!(mark_timeout(&mut t, V4, &A, 1000), Some(1));
        assert_eq!(rec(&t, V4, 1), (A.to_vec(), 1, 1000));
        // a reset record (count 0) is free for another address
        put(&mut t, V4, 0, &B, 0, 500);
        assert_eq!(mark_timeout(&mut t, V4, &[10, 0, 0, 1], 1000), Some(0));
        assert_eq!(rec(&t, V4, 0), (vec![10, 0, 0, 1], 1, 1000));
    }

    #[test]
    fn timeouts_within_120_seconds_count_once() {
        let mut t = table(V4);
        assert_eq!(mark_timeout(&mut t, V4, &A, 1000), Some(0));
        assert_eq!(mark_timeout(&mut t, V4, &A, 1119), None);
        assert_eq!(rec(&t, V4, 0), (A.to_vec(), 1, 1000));
        assert_eq!(mark_timeout(&mut t, V4, &A, 1120), Some(0));
        assert_eq!(rec(&t, V4, 0), (A.to_vec(), 2, 1120));
        // after a reset the next timeout counts at once
        mark_ok(&mut t, V4, &A);
        assert_eq!(mark_timeout(&mut t, V4, &A, 1121), Some(0));
        assert_eq!(rec(&t, V4, 0), (A.to_vec(), 1, 1121));
    }

    #[test]
    fn the_count_stops_at_ten() {
        let mut t = table(V4);
        for k in 0..15 {
            mark_timeout(&mut t, V4, &A, 1000 + 200 * k);
        }
        assert_eq!(rec(&t, V4, 0), (A.to_vec(), 10, 1000 + 200 * 14));
        put(&mut t, V4, 0, &A, 255, 0);
        mark_timeout(&mut t, V4, &A, 1000);
        assert_eq!(rec(&t, V4, 0).1, 10, "a damaged count does not wrap");
    }

    #[test]
    fn a_full_table_replaces_the_smallest_time_plus_count_times_1024() {
        let mut t = table(V4);
        for i in 0..SLOTS {
            put(&mut t, V4, i, &[10, 0, 0, i as u8], 1, 100_000 + i as u64);
        }
        // slot 7: older but count 3 → 99_000 + 3072; slot 9: 100_500 + 1024 = 101_524;
        // slot 0: 100_000 + 1024 = 101_024 is the smallest
        put(&mut t, V4, 7, &[10, 0, 0, 7], 3, 99_000);
        put(&mut t, V4, 9, &[10, 0, 0, 9], 1, 100_500);
        assert_eq!(mark_timeout(&mut t, V4, &A, 200_000), Some(0));
        assert_eq!(rec(&t, V4, 0), (A.to_vec(), 1, 200_000));
        // the first of equals
        put(&mut t, V4, 5, &[10, 0, 0, 5], 1, 100_001);
        put(&mut t, V4, 6, &[10, 0, 0, 6], 1, 100_001);
        assert_eq!(mark_timeout(&mut t, V4, &B, 200_000), Some(1));
        assert_eq!(mark_timeout(&mut t, V4, &[1, 1, 1, 1], 200_000), Some(5));
    }

    #[test]
    fn entries_list_counts_of_one_or_more() {
        let mut t = table(V4);
        put(&mut t, V4, 0, &A, 3, 900);
        put(&mut t, V4, 1, &B, 0, 950);
        put(&mut t, V4, 63, &[10, 0, 0, 1], 10, 10);
        let e = entries(&t, V4);
        assert_eq!(
            e,
            vec![
                Entry {
                    ip: IpAddr::from(A),
                    count: 3,
                    when: 900
                },
                Entry {
                    ip: IpAddr::from([10, 0, 0, 1]),
                    count: 10,
                    when: 10
                },
            ]
        );
        assert_eq!((e[0].age(1000), e[0].age(800)), (100, 0));
        let mut t6 = table(Family::V6);
        put(&mut t6, Family::V6, 2, &Ipv6Addr::LOCALHOST.octets(), 1, 5);
        assert_eq!(
            entries(&t6, Family::V6),
            vec![Entry {
                ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
                count: 1,
                when: 5
            }]
        );
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("qlib-tcpto.{}.{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn files_short_garbage_and_missing() {
        let d = tmpdir("short");
        // 1 whole record, then 10 bytes of the next (its count byte 7 is ignored)
        let mut short = vec![192, 0, 2, 1, 2, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0];
        short.extend_from_slice(&[192, 0, 2, 2, 7, 0, 0, 0, 9, 9]);
        std::fs::write(d.join("tcpto"), &short).unwrap();
        let t = Table::open(&d, V4).unwrap().unwrap();
        let buf = t.read().unwrap();
        assert_eq!(buf.len(), 1024);
        assert_eq!(entries(&buf, V4).len(), 1);
        drop(t);
        // a record written past the end extends the file (slot 0 is kept)
        update_in(&d, IpAddr::from([10, 0, 0, 9]), |t, f, a| {
            mark_timeout(t, f, a, 5000)
        });
        let f = std::fs::read(d.join("tcpto")).unwrap();
        assert_eq!(f.len(), 32);
        assert_eq!(&f[16..26], &[10, 0, 0, 9, 1, 0, 0, 0, 0x88, 0x13]);
        // no tcpto6: nothing read, nothing recorded, nothing created, clear still works
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert!(Table::open(&d, Family::V6).unwrap().is_none());
        record_in_twice(&d, v6);
        assert!(!is_down_in(&d, v6, 5000, 0));
        assert!(!d.join("tcpto6").exists());
        clear_at(&d).unwrap();
        assert_eq!(std::fs::read(d.join("tcpto")).unwrap(), vec![0u8; 1024]);
        // no tcpto: an error for clear, "not down" for qmail-remote
        std::fs::remove_file(d.join("tcpto")).unwrap();
        assert!(clear_at(&d).is_err());
        assert!(!is_down_in(&d, IpAddr::from(A), 5000, 0));
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn record_in_twice(d: &Path, ip: IpAddr) {
        update_in(d, ip, |t, f, a| mark_timeout(t, f, a, 1000));
        update_in(d, ip, |t, f, a| mark_timeout(t, f, a, 2000));
    }

    #[test]
    fn a_host_is_down_after_two_timeouts_and_up_after_a_connect() {
        let d = tmpdir("down");
        std::fs::write(d.join("tcpto"), [0u8; 1024]).unwrap();
        std::fs::write(d.join("tcpto6"), b"").unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        for ip in [IpAddr::from(A), v6] {
            record_in_twice(&d, ip);
            assert!(is_down_in(&d, ip, 2001, 7));
            assert!(!is_down_in(&d, ip, 2000 + skip_secs(7), 7));
            update_in(&d, ip, mark_ok);
            assert!(!is_down_in(&d, ip, 2001, 7));
        }
        let f6 = std::fs::read(d.join("tcpto6")).unwrap();
        assert_eq!(f6.len(), 32);
        assert_eq!(&f6[..16], &v6_octets(v6));
        assert_eq!(&f6[16..28], &[0, 0, 0, 0, 0, 0, 0, 0, 0xd0, 0x07, 0, 0]);
        clear_at(&d).unwrap();
        assert_eq!(std::fs::read(d.join("tcpto6")).unwrap(), vec![0u8; 2048]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    fn v6_octets(ip: IpAddr) -> [u8; 16] {
        match ip {
            IpAddr::V6(v6) => v6.octets(),
            IpAddr::V4(_) => [0; 16],
        }
    }
}
