//! serialmail's shared pieces (serialmail 0.75: maildirserial.c, serialsmtp.c, serialqmtp.c):
//! the envelope a Maildir file carries in its first two lines, the scan of a Maildir oldest
//! first, the result records a client prints for maildirserial, and the bounce maildirserial
//! -b sends. The SMTP and QMTP client sides are in [`smtp`] and [`qmtp`].
//!
//! The client protocol: maildirserial writes each file name, relative to the Maildir, ended
//! by `\0`, on the client's stdin; the client prints, for each file it dealt with, the name
//! and its `\0`, a status byte (`K` accepted, `Z` temporary failure, `D` permanent failure),
//! a text and `\n` on its stdout.

pub mod bounce;
pub mod qmtp;
pub mod smtp;

use crate::getln::{getln, Got};
use std::fs;
use std::io::{self, BufRead};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

/// Longest first or second line read from a message file (a longer one is not an envelope).
pub const LINE_MAX: usize = 100_000;
/// Longest result line a client prints: the status byte and the text (serialmail's 2000).
pub const RESULT_MAX: usize = 2000;
/// Longest file name read from a client.
pub const NAME_MAX: usize = 4096;
/// tmp/ files not accessed for this long are removed (maildir.5's 36 hours).
pub const TMP_AGE: i64 = 36 * 3600;

/// The envelope at the top of a file qmail-local delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// from `Return-Path: <sender>`
    pub sender: Vec<u8>,
    /// from `Delivered-To: recipient`
    pub recipient: Vec<u8>,
    /// the bytes the two lines take
    pub head_len: u64,
}

/// One line ended by `\n`, without it; `None` at a partial, overlong or missing line.
fn line(r: &mut impl BufRead, out: &mut Vec<u8>) -> io::Result<Option<usize>> {
    match getln(r, b'\n', LINE_MAX, out)? {
        Got::Record => Ok(Some(out.len() + 1)),
        _ => Ok(None),
    }
}

/// Reads `Return-Path: <sender>\n` and `Delivered-To: recipient\n`; `Ok(None)` if the file
/// does not start so (or either address holds a NUL). `r` is left after the two lines.
pub fn envelope(r: &mut impl BufRead) -> io::Result<Option<Envelope>> {
    let mut l = Vec::new();
    let Some(n1) = line(r, &mut l)? else {
        return Ok(None);
    };
    let sender = match l.strip_prefix(b"Return-Path: <") {
        Some(s) if s.last() == Some(&b'>') => s[..s.len() - 1].to_vec(),
        _ => return Ok(None),
    };
    let Some(n2) = line(r, &mut l)? else {
        return Ok(None);
    };
    let Some(recipient) = l.strip_prefix(b"Delivered-To: ") else {
        return Ok(None);
    };
    if sender.contains(&0) || recipient.contains(&0) {
        return Ok(None);
    }
    Ok(Some(Envelope {
        sender,
        recipient: recipient.to_vec(),
        head_len: (n1 + n2) as u64,
    }))
}

/// maildirserial's choice: the second line is `Delivered-To: ` and a recipient starting with
/// `prefix` (the first line is not examined).
pub fn has_prefix(r: &mut impl BufRead, prefix: &[u8]) -> io::Result<bool> {
    let mut l = Vec::new();
    if line(r, &mut l)?.is_none() || line(r, &mut l)?.is_none() {
        return Ok(false);
    }
    Ok(l.strip_prefix(b"Delivered-To: ")
        .is_some_and(|r| r.starts_with(prefix)))
}

/// A client's result record for file `name`: `name\0`, the status byte, `IP said: ` when the
/// server's address is known, the server's text; cut to [`RESULT_MAX`] bytes, every byte
/// outside 32–126 shown as `?`, then `\n`.
pub fn result(name: &[u8], status: u8, ip: Option<&[u8]>, text: &[u8]) -> Vec<u8> {
    let mut l = vec![status];
    if let Some(ip) = ip {
        l.extend_from_slice(ip);
        l.extend_from_slice(b" said: ");
    }
    l.extend_from_slice(text);
    l.truncate(RESULT_MAX);
    for c in &mut l {
        if !(32..=126).contains(c) {
            *c = b'?';
        }
    }
    [name, b"\0", &l, b"\n"].concat()
}

/// One result as maildirserial reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// the file name, as the client gave it
    pub name: Vec<u8>,
    /// `K`, `Z`, `D` (anything else counts as `Z`)
    pub status: u8,
    /// the text, its `\n` removed
    pub text: Vec<u8>,
}

/// The next whole result from a client; `None` at the end of its output or at a record cut
/// short (as serialmail, the rest is ignored).
pub fn read_outcome(r: &mut impl BufRead) -> io::Result<Option<Outcome>> {
    let mut name = Vec::new();
    if getln(r, 0, NAME_MAX, &mut name)? != Got::Record {
        return Ok(None);
    }
    let mut rest = Vec::new();
    if getln(r, b'\n', RESULT_MAX + 100, &mut rest)? != Got::Record || rest.is_empty() {
        return Ok(None);
    }
    let status = rest.remove(0);
    Ok(Some(Outcome {
        name,
        status,
        text: rest,
    }))
}

/// The files in `new/` and `cur/` of the Maildir in the current directory, as `new/NAME` and
/// `cur/NAME`, oldest first (by mtime, then name); names starting with `.` are skipped, and
/// so are files that vanish while being looked at.
pub fn scan() -> io::Result<Vec<Vec<u8>>> {
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        for e in fs::read_dir(sub)? {
            let e = e?;
            let name = e.file_name();
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            let rel = [sub.as_bytes(), b"/", name.as_bytes()].concat();
            match fs::metadata(std::ffi::OsStr::from_bytes(&rel)) {
                Ok(md) => found.push(((md.mtime(), md.mtime_nsec()), rel)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, n)| n).collect())
}

/// Removes the files in `tmp/` not accessed for 36 hours before `now` (errors ignored).
pub fn clean_tmp(now: i64) {
    let Ok(dir) = fs::read_dir("tmp") else {
        return;
    };
    for e in dir.flatten() {
        let p = e.path();
        if let Ok(md) = fs::metadata(&p) {
            if md.is_file() && now > md.atime() + TMP_AGE {
                let _ = fs::remove_file(&p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(b: &[u8]) -> Option<Envelope> {
        envelope(&mut &b[..]).unwrap()
    }

    #[test]
    fn envelopes() {
        let e = env(b"Return-Path: <a@b>\nDelivered-To: p-c@d\nbody").unwrap();
        assert_eq!(
            (&e.sender[..], &e.recipient[..]),
            (&b"a@b"[..], &b"p-c@d"[..])
        );
        assert_eq!(e.head_len, 39);
        assert_eq!(
            env(b"Return-Path: <>\nDelivered-To: x\n").unwrap().sender,
            b""
        );
        assert_eq!(env(b"Return-Path: <a>\nDelivered-To: x"), None);
        assert_eq!(env(b"Return-Path: a\nDelivered-To: x\n"), None);
        assert_eq!(env(b"Return-Path: <a>\nDelivered-to: x\n"), None);
        assert_eq!(env(b"Return-Path: <a\0>\nDelivered-To: x\n"), None);
        assert_eq!(env(b""), None);
    }

    #[test]
    fn prefixes() {
        let p = |b: &[u8], pre: &[u8]| has_prefix(&mut &b[..], pre).unwrap();
        assert!(p(b"anything\nDelivered-To: Account-x\n", b"Account-"));
        assert!(!p(b"anything\nDelivered-To: Account-x\n", b"Wrong-"));
        assert!(!p(b"anything\nDelivered-To: Account-x", b"Account-"));
        assert!(p(b"x\nDelivered-To: \n", b""));
    }

    #[test]
    fn results_both_ways() {
        let r = result(b"new/1", b'K', Some(b"1.2.3.4"), b"250 th\0nks");
        assert_eq!(r, b"new/1\0K1.2.3.4 said: 250 th?nks\n");
        let long = result(b"n", b'D', None, &[b'x'; 5000]);
        assert_eq!(long.len(), 2 + RESULT_MAX + 1);
        let mut input = &[&r[..], b"new/2\0Zlater\n", b"new/3\0K"].concat()[..];
        let o = read_outcome(&mut input).unwrap().unwrap();
        assert_eq!((o.name, o.status), (b"new/1".to_vec(), b'K'));
        assert_eq!(o.text, b"1.2.3.4 said: 250 th?nks");
        assert_eq!(read_outcome(&mut input).unwrap().unwrap().text, b"later");
        assert_eq!(read_outcome(&mut input).unwrap(), None);
    }
}
