//! Appending one message to an mbox file the way qmail-local does (mailfile in
//! qmail-local.c, mbox.5): exclusive `flock` bounded in time, the From_ line, mboxrd quoting
//! of `^>*From ` lines, a newline added to an unterminated last line, one empty line at the
//! end, fsync — and on any failure the file cut back to where it ended before.
//!
//! Also the reader's side of mboxrd ([`unquote`]) and the From_ line itself ([`from_line`]).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long qmail-local waits for the lock.
pub const LOCK_SECS: u64 = 30;

/// Why a delivery failed (all temporary).
#[derive(Debug)]
pub enum Error {
    /// the file could not be opened or created
    Open(io::Error),
    /// someone else held the lock for the whole wait
    Locked,
    /// the message could not be read
    Read(io::Error),
    /// writing or fsyncing failed (the file was cut back if it was locked)
    Write(io::Error),
}

impl Error {
    /// qmail-local's report text for a delivery to `file`, ending in `(#x.y.z)`.
    pub fn report(&self, file: &[u8]) -> String {
        let file = String::from_utf8_lossy(file);
        let (what, e, code) = match self {
            Error::Locked => {
                return "File has been locked for 30 seconds straight. (#4.3.0)".to_string()
            }
            Error::Open(e) => (format!("Unable to open {file}"), e, "4.2.1"),
            Error::Read(e) => ("Unable to read message".to_string(), e, "4.3.0"),
            Error::Write(e) => (format!("Unable to write {file}"), e, "4.3.0"),
        };
        format!("{what}: {}. (#{code})", crate::errtext::text(e))
    }
}

/// `From <sender> <date>\n`: an empty sender is `MAILER-DAEMON`; space, tab and newline in
/// it become `-`; the date is GMT with a zero-padded day (see [`crate::date::mbox`]).
pub fn from_line(sender: &[u8], secs: i64) -> Vec<u8> {
    let mut l = b"From ".to_vec();
    if sender.is_empty() {
        l.extend_from_slice(b"MAILER-DAEMON");
    } else {
        l.extend(sender.iter().map(|&c| match c {
            b' ' | b'\t' | b'\n' => b'-',
            _ => c,
        }));
    }
    l.push(b' ');
    l.extend_from_slice(crate::date::mbox(secs).as_bytes());
    l.push(b'\n');
    l
}

/// mboxrd quoting, fed in chunks of any size: every line matching `^>*From ` gets one more
/// `>` in front; nothing else changes. [`Quote::finish`] adds a newline to an unterminated
/// last line.
#[derive(Debug, Default)]
pub struct Quote {
    /// inside a line (past the point where quoting is decided)
    body: bool,
    /// leading `>` seen at the start of the current line
    gts: u64,
    /// bytes of `From ` matched after them
    matched: usize,
    /// the last byte fed
    last: Option<u8>,
}

const FROM: &[u8] = b"From ";

impl Quote {
    /// A quoter at the start of a message.
    pub fn new() -> Quote {
        Quote::default()
    }

    fn flush_pending(&mut self, out: &mut impl Write, extra: bool) -> io::Result<()> {
        let mut n = self.gts + u64::from(extra);
        let chunk = [b'>'; 256];
        while n > 0 {
            let k = n.min(256) as usize;
            out.write_all(&chunk[..k])?;
            n -= k as u64;
        }
        out.write_all(&FROM[..self.matched])?;
        self.gts = 0;
        self.matched = 0;
        Ok(())
    }

    /// Quotes `data`, writing to `out`.
    pub fn feed(&mut self, mut data: &[u8], out: &mut impl Write) -> io::Result<()> {
        if let Some(&c) = data.last() {
            self.last = Some(c);
        }
        while !data.is_empty() {
            if self.body {
                match memchr::memchr(b'\n', data) {
                    Some(i) => {
                        out.write_all(&data[..=i])?;
                        data = &data[i + 1..];
                        self.body = false;
                    }
                    None => {
                        out.write_all(data)?;
                        return Ok(());
                    }
                }
                continue;
            }
            let c = data[0];
            if self.matched == 0 && c == b'>' {
                self.gts += 1;
                data = &data[1..];
            } else if c == FROM[self.matched] {
                self.matched += 1;
                data = &data[1..];
                if self.matched == FROM.len() {
                    self.flush_pending(out, true)?;
                    self.body = true;
                }
            } else {
                self.flush_pending(out, false)?;
                self.body = true;
            }
        }
        Ok(())
    }

    /// Writes what is pending, and a newline if the message did not end with one.
    pub fn finish(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.flush_pending(out, false)?;
        if matches!(self.last, Some(c) if c != b'\n') {
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// The reader's side of mboxrd: every line matching `^>+From ` loses one leading `>`.
pub fn unquote(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|&c| c == b'\n') {
        let gts = line.iter().take_while(|&&c| c == b'>').count();
        if gts > 0 && line[gts..].starts_with(FROM) {
            out.extend_from_slice(&line[1..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Takes an exclusive `flock` on `f`, waiting at most `secs`: `Ok(true)` locked,
/// `Ok(false)` the lock call failed for another reason (qmail then writes unlocked),
/// `Err(Locked)` on timeout.
fn lock(f: &File, secs: u64) -> Result<bool, Error> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut nap = Duration::from_millis(5);
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(_)) => return Ok(false),
        }
        let now = Instant::now();
        if now >= end {
            return Err(Error::Locked);
        }
        std::thread::sleep(nap.min(end - now));
        nap = (nap * 2).min(Duration::from_millis(250));
    }
}

/// Appends `head` (the From_, Return-Path and Delivered-To lines), then `msg` quoted, then
/// the final empty line, to the mbox `path`, waiting at most `lock_secs` for the lock.
pub fn deliver(path: &Path, head: &[u8], msg: &mut impl Read, lock_secs: u64) -> Result<(), Error> {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(crate::sys::fs::O_NONBLOCK)
        .open(path)
        .map_err(Error::Open)?;
    let locked = lock(&f, lock_secs)?;
    let pos = f.seek(SeekFrom::End(0)).map_err(Error::Write)?;
    let result = append(&mut f, head, msg);
    if result.is_err() && locked {
        let _ = f.set_len(pos);
    }
    result
}

fn append(f: &mut File, head: &[u8], msg: &mut impl Read) -> Result<(), Error> {
    let mut out = io::BufWriter::with_capacity(65536, &mut *f);
    out.write_all(head).map_err(Error::Write)?;
    let mut q = Quote::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match msg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Read(e)),
        };
        q.feed(&buf[..n], &mut out).map_err(Error::Write)?;
    }
    q.finish(&mut out).map_err(Error::Write)?;
    out.write_all(b"\n").map_err(Error::Write)?;
    out.flush().map_err(Error::Write)?;
    drop(out);
    f.sync_all().map_err(Error::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote_in_chunks(m: &[u8], chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut q = Quote::new();
        for c in m.chunks(chunk.max(1)) {
            q.feed(c, &mut out).unwrap();
        }
        q.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn mboxrd_examples() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"From x\n", b">From x\n"),
            (b">From x\n", b">>From x\n"),
            (b">>>From x\n", b">>>>From x\n"),
            (b"From: x\n", b"From: x\n"),
            (b" From x\n", b" From x\n"),
            (b"a\nFrom \n>Fro\n>>\nFrom", b"a\n>From \n>Fro\n>>\nFrom\n"),
            (b"", b""),
            (b"x", b"x\n"),
            (b">", b">\n"),
            (b"\n>From", b"\n>From\n"),
        ];
        for &(m, want) in cases {
            for chunk in [1, 2, 3, 7, 1000] {
                assert_eq!(quote_in_chunks(m, chunk), want, "{m:?} by {chunk}");
            }
            let mut back = unquote(want);
            if !m.is_empty() && !m.ends_with(b"\n") {
                back.pop();
            }
            assert_eq!(back, m);
        }
    }

    #[test]
    fn from_lines() {
        assert_eq!(
            from_line(b"", 0),
            b"From MAILER-DAEMON Thu Jan 01 00:00:00 1970\n"
        );
        assert_eq!(
            from_line(b"a b\tc\nd@x", 951_782_400),
            b"From a-b-c-d@x Tue Feb 29 00:00:00 2000\n"
        );
    }

    fn tmpfile(tag: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("qlib-mbox.{}.{tag}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn appends_and_cuts_back() {
        let p = tmpfile("append");
        deliver(&p, b"H\n", &mut &b"From a\nb"[..], 1).unwrap();
        deliver(&p, b"H\n", &mut &b"c\n"[..], 1).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"H\n>From a\nb\n\nH\nc\n\n");
        struct Bad(bool);
        impl Read for Bad {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Err(io::Error::from_raw_os_error(5));
                }
                b[..3].copy_from_slice(b"xyz");
                Ok(3)
            }
        }
        assert!(matches!(
            deliver(&p, b"H\n", &mut Bad(false), 1),
            Err(Error::Read(_))
        ));
        assert_eq!(std::fs::read(&p).unwrap(), b"H\n>From a\nb\n\nH\nc\n\n");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn lock_wait_is_bounded() {
        let p = tmpfile("lock");
        std::fs::write(&p, b"old\n").unwrap();
        let holder = File::open(&p).unwrap();
        holder.lock().unwrap();
        let e = deliver(&p, b"H\n", &mut &b"m\n"[..], 0).unwrap_err();
        assert!(matches!(e, Error::Locked));
        assert_eq!(
            e.report(b"x"),
            "File has been locked for 30 seconds straight. (#4.3.0)"
        );
        drop(holder);
        deliver(&p, b"H\n", &mut &b"m\n"[..], 0).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"old\nH\nm\n\n");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn refuses_a_directory() {
        let d = std::env::temp_dir();
        assert!(matches!(
            deliver(&d, b"", &mut &b""[..], 0),
            Err(Error::Open(_))
        ));
    }
}
