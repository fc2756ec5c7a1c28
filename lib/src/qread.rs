//! Reading the queue the way qmail-qread does (qmail-qread.c): every preprocessed message,
//! found through `info/S/ID`, with its queue time (the info file's mtime), size (of
//! `mess/S/ID`), sender, whether `bounce/ID` exists, and the records of `local/S/ID` and
//! `remote/S/ID`. Beyond qmail: whether the message is held (`hold/ID`, [`crate::queuectl`]).
//! Paths are relative to the queue directory.

use crate::queue;
use crate::queuectl::HOLD_DIR;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// One recipient record of a channel file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recip {
    /// 0 local, 1 remote
    pub chan: usize,
    /// delivered or failed (`D`), not pending (`T`)
    pub done: bool,
    /// the address as stored
    pub addr: Vec<u8>,
}

/// A queued message as qmail-qread shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// the message id
    pub id: u64,
    /// when it was queued (mtime of info/S/ID)
    pub qtime: i64,
    /// bytes of mess/S/ID
    pub size: u64,
    /// the envelope sender
    pub sender: Vec<u8>,
    /// bounce/ID exists
    pub bouncing: bool,
    /// hold/ID exists
    pub held: bool,
    /// local records, then remote, in file order
    pub recips: Vec<Recip>,
}

impl Entry {
    /// The recipients not yet done.
    pub fn pending(&self) -> Vec<&[u8]> {
        self.recips
            .iter()
            .filter(|r| !r.done)
            .map(|r| r.addr.as_slice())
            .collect()
    }
}

/// The ids with an `info/` file, in increasing order.
pub fn ids() -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for s in 0..crate::conf::split() {
        for e in std::fs::read_dir(format!("info/{s}"))? {
            if let Some(id) = crate::scan::ulong_exact(e?.file_name().as_encoded_bytes()) {
                ids.push(id);
            }
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

fn exists(p: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(p) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads message `id`. A missing channel file is no error; anything else missing is.
pub fn read(id: u64) -> io::Result<Entry> {
    let size = std::fs::metadata(queue::path("mess", id))?.len();
    let bouncing = exists(&queue::path("bounce", id))?;
    let held = exists(&Path::new(HOLD_DIR).join(id.to_string()))?;
    let mut info = std::fs::File::open(queue::path("info", id))?;
    let qtime = info.metadata()?.mtime();
    let mut data = Vec::new();
    info.read_to_end(&mut data)?;
    let sender = match data.split_first() {
        Some((b'F', rest)) => rest.split(|&c| c == 0).next().unwrap_or(&[]).to_vec(),
        _ => Vec::new(),
    };
    let mut recips = Vec::new();
    for (chan, name) in ["local", "remote"].iter().enumerate() {
        let data = match std::fs::read(queue::path(name, id)) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        // A record without its NUL (a file being written) is not shown, as in qmail-qread.
        let whole = memchr::memrchr(0, &data).map_or(&data[..0], |i| &data[..i]);
        for rec in whole.split(|&c| c == 0) {
            if let Some((&t @ (b'T' | b'D'), addr)) = rec.split_first() {
                recips.push(Recip {
                    chan,
                    done: t == b'D',
                    addr: addr.to_vec(),
                });
            }
        }
    }
    Ok(Entry {
        id,
        qtime,
        size,
        sender,
        bouncing,
        held,
        recips,
    })
}

fn printable(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| if (32..=126).contains(&c) { c } else { b'_' })
        .collect()
}

/// qmail-qread's lines for one message:
/// `<D Mon YYYY HH:MM:SS> GMT  #<id>  <size>  <<sender>> [ bouncing][ held]`, then per
/// recipient `[  done]\tlocal|remote\t<addr>`; bytes outside 32–126 shown as `_`.
pub fn format(e: &Entry) -> Vec<u8> {
    let date = crate::date::rfc822(e.qtime);
    let date = date.strip_suffix(" -0000").unwrap_or(&date);
    let mut head = format!("{date} GMT  #{}  {}  <", e.id, e.size).into_bytes();
    head.extend_from_slice(&e.sender);
    head.extend_from_slice(b"> ");
    if e.bouncing {
        head.extend_from_slice(b" bouncing");
    }
    if e.held {
        head.extend_from_slice(b" held");
    }
    let mut out = printable(&head);
    out.push(b'\n');
    for r in &e.recips {
        if r.done {
            out.extend_from_slice(b"  done");
        }
        out.extend_from_slice(if r.chan == 0 {
            b"\tlocal\t"
        } else {
            b"\tremote\t"
        });
        out.extend_from_slice(&printable(&r.addr));
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let mut e = Entry {
            id: 4711,
            qtime: 1_000_000_000,
            size: 321,
            sender: b"joe@example.org".to_vec(),
            bouncing: false,
            held: false,
            recips: vec![
                Recip {
                    chan: 0,
                    done: true,
                    addr: b"ann@test.example".to_vec(),
                },
                Recip {
                    chan: 1,
                    done: false,
                    addr: b"bob\n@x.example".to_vec(),
                },
            ],
        };
        assert_eq!(
            String::from_utf8(format(&e)).unwrap(),
            "9 Sep 2001 01:46:40 GMT  #4711  321  <joe@example.org> \n\
             \x20 done\tlocal\tann@test.example\n\
             \tremote\tbob_@x.example\n"
        );
        assert_eq!(e.pending(), vec![&b"bob\n@x.example"[..]]);
        (e.bouncing, e.held, e.sender, e.recips) = (true, true, b"\x01".to_vec(), vec![]);
        assert_eq!(
            String::from_utf8(format(&e)).unwrap(),
            "9 Sep 2001 01:46:40 GMT  #4711  321  <_>  bouncing held\n"
        );
    }
}
