//! The spawner side of qmail-send's delivery protocol (spawn.c), shared by qmail-lspawn and
//! qmail-rspawn: one concurrency byte at start; requests `slot path\0 sender\0 recipient\0` on
//! fd 0; for each, a delivery child with fd 0 = the message and fd 1 = fd 2 = a pipe; when the
//! pipe ends and the child exits, one report `slot status text\0` on fd 1, in completion order.

use crate::child::Wait;
use crate::sys::fd::{self, PollFd};
use crate::sys::sig;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

/// Longest request accepted; anything longer means the peer is broken.
const REQUEST_MAX: usize = 1 << 20;
/// Most output kept from one delivery child.
const OUTPUT_MAX: usize = 10000;

/// One delivery request, validated.
pub struct Request<'a> {
    /// the message, open on `queue/mess/S/ID`
    pub message: File,
    /// envelope sender (VERP already expanded)
    pub sender: &'a [u8],
    /// recipient, contains `@`
    pub recipient: &'a [u8],
}

/// A report: status letter (`K`, `Z`, `D`) and text.
pub type Report = (u8, Vec<u8>);

/// What differs between the local and the remote spawner.
pub trait Channel {
    /// Starts a delivery child whose stdout and stderr both go to `out` and returns its pid
    /// (the spawner reaps it), or reports at once.
    fn start(&mut self, req: Request<'_>, out: OwnedFd) -> Result<i32, Report>;
    /// The report for a child that ended with `wait` after writing `output`.
    fn report(&self, wait: Wait, output: &[u8]) -> Report;
}

struct Slot {
    pid: i32,
    pipe: Option<File>,
    output: Vec<u8>,
}

/// Runs the spawner until fd 0 reaches end of file and every delivery has been reported.
/// `owner` is the uid every message file must belong to (qmailq).
pub fn run(chan: &mut dyn Channel, limit: u8, owner: u32) -> io::Result<()> {
    let mut input = File::from(fd::inherited(0).ok_or_else(|| io::Error::from_raw_os_error(9))?);
    let mut output = File::from(fd::inherited(1).ok_or_else(|| io::Error::from_raw_os_error(9))?);
    output.write_all(&[limit])?;
    // A child's exit wakes the poll below: its pipe reaches end of file a moment before the
    // child can be reaped, and polling on a timer for that moment cost up to 50 ms a delivery.
    let mut wake = File::from(sig::wake_pipe()?);
    sig::catch(sig::SIGCHLD)?;
    let mut slots: Vec<Option<Slot>> = (0..limit).map(|_| None).collect();
    let mut buf: Vec<u8> = Vec::new();
    let mut eof = false;
    loop {
        let busy = slots.iter().filter(|s| s.is_some()).count();
        if eof && busy == 0 {
            return Ok(());
        }
        let mut polls = vec![PollFd {
            fd: if eof { -1 } else { input.as_raw_fd() },
            read: true,
            ..Default::default()
        }];
        let mut waiting_exit = false;
        for s in &slots {
            let fd = match s {
                Some(Slot { pipe: Some(p), .. }) => p.as_raw_fd(),
                Some(_) => {
                    waiting_exit = true;
                    -1
                }
                None => -1,
            };
            polls.push(PollFd {
                fd,
                read: true,
                ..Default::default()
            });
        }
        polls.push(PollFd {
            fd: wake.as_raw_fd(),
            read: true,
            ..Default::default()
        });
        fd::poll(&mut polls, if waiting_exit { 1000 } else { -1 })?;
        if polls.pop().is_some_and(|p| p.readable) {
            let _ = wake.read(&mut [0u8; 64]);
            sig::take(sig::SIGCHLD);
        }
        if polls[0].readable {
            let mut chunk = [0u8; 4096];
            match input.read(&mut chunk) {
                Ok(0) => eof = true,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            while let Some((slot, path, sender, recip, used)) = parse(&buf) {
                let report = begin(chan, &mut slots, slot, path, sender, recip, owner);
                if let Some((status, text)) = report {
                    send(&mut output, slot, status, &text)?;
                }
                buf.drain(..used);
            }
            if buf.len() > REQUEST_MAX {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "request too long",
                ));
            }
        }
        for (i, p) in polls[1..].iter().enumerate() {
            if let Some(s) = slots[i].as_mut() {
                if p.readable {
                    drain(s);
                }
            }
        }
        for (i, cell) in slots.iter_mut().enumerate() {
            let done = match cell {
                Some(s) if s.pipe.is_none() => {
                    crate::sys::proc::try_wait(s.pid)?.map(Wait::from_raw)
                }
                _ => None,
            };
            if let Some(wait) = done {
                let output_text = cell.take().map(|s| s.output).unwrap_or_default();
                let (status, text) = chan.report(wait, &output_text);
                send(&mut output, i as u8, status, &text)?;
            }
        }
    }
}

/// Reads what the child wrote; closes the pipe at end of file.
fn drain(s: &mut Slot) {
    let Some(p) = s.pipe.as_mut() else { return };
    let mut chunk = [0u8; 4096];
    match p.read(&mut chunk) {
        Ok(0) | Err(_) => s.pipe = None,
        Ok(n) => {
            let room = OUTPUT_MAX.saturating_sub(s.output.len());
            s.output.extend_from_slice(&chunk[..n.min(room)]);
        }
    }
}

type Parsed<'a> = (u8, &'a [u8], &'a [u8], &'a [u8], usize);

/// One complete request at the start of `buf`, and its length.
fn parse(buf: &[u8]) -> Option<Parsed<'_>> {
    let (&slot, rest) = buf.split_first()?;
    let mut fields = rest.splitn(4, |&c| c == 0);
    let (path, sender, recip) = (fields.next()?, fields.next()?, fields.next()?);
    fields.next()?; // the third NUL was present
    Some((
        slot,
        path,
        sender,
        recip,
        1 + path.len() + sender.len() + recip.len() + 3,
    ))
}

/// Whether a message path is digits with one non-leading `/`, at most 100 bytes.
fn path_ok(p: &[u8]) -> bool {
    !p.is_empty()
        && p.len() <= 100
        && p[0] != b'/'
        && p.iter().all(|&c| c.is_ascii_digit() || c == b'/')
        && p.iter().filter(|&&c| c == b'/').count() <= 1
}

fn begin(
    chan: &mut dyn Channel,
    slots: &mut [Option<Slot>],
    slot: u8,
    path: &[u8],
    sender: &[u8],
    recip: &[u8],
    owner: u32,
) -> Option<Report> {
    let z = |t: &str| Some((b'Z', t.as_bytes().to_vec()));
    let d = |t: &str| Some((b'D', t.as_bytes().to_vec()));
    match slots.get(slot as usize) {
        Some(None) => {}
        _ => return z("Internal error: slot out of range or busy. (#4.3.5)\n"),
    }
    if !path_ok(path) {
        return d("Internal error: bad message path. (#5.3.5)\n");
    }
    if memchr::memchr(b'@', recip).is_none() {
        return d("Sorry, address must include host name. (#5.1.3)\n");
    }
    let file = match File::open(std::ffi::OsStr::new(
        std::str::from_utf8(path).unwrap_or("-"),
    )) {
        Ok(f) => f,
        Err(_) => return z("Unable to open message. (#4.3.0)\n"),
    };
    match file.metadata() {
        Err(_) => return z("Unable to stat message. (#4.3.0)\n"),
        Ok(m) if !m.is_file() => return z("Message is not a regular file. (#4.3.5)\n"),
        Ok(m) if m.uid() != owner => return z("Message has wrong owner. (#4.3.5)\n"),
        Ok(_) => {}
    }
    let (r, w) = match fd::pipe() {
        Ok(p) => p,
        Err(_) => return z("Unable to create pipe. (#4.3.0)\n"),
    };
    let _ = fd::set_cloexec(r.as_fd(), true);
    match chan.start(
        Request {
            message: file,
            sender,
            recipient: recip,
        },
        w,
    ) {
        Ok(pid) => {
            slots[slot as usize] = Some(Slot {
                pid,
                pipe: Some(File::from(r)),
                output: Vec::new(),
            });
            None
        }
        Err(report) => Some(report),
    }
}

fn send(out: &mut File, slot: u8, status: u8, text: &[u8]) -> io::Result<()> {
    let text = text.split(|&c| c == 0).next().unwrap_or(&[]);
    let mut rep = Vec::with_capacity(text.len() + 3);
    rep.push(slot);
    rep.push(status);
    rep.extend_from_slice(text);
    rep.push(0);
    out.write_all(&rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn requests() {
        assert!(parse(b"\x03").is_none());
        assert!(parse(b"\x0319/1054\0a@b\0c@d").is_none());
        let (slot, p, s, r, n) = parse(b"\x0319/1054\0a@b\0c@d\0rest").unwrap();
        assert_eq!(
            (slot, p, s, r, n),
            (3, &b"19/1054"[..], &b"a@b"[..], &b"c@d"[..], 17)
        );
        assert!(path_ok(b"19/1054"));
        assert!(!path_ok(b"/19/1054"));
        assert!(!path_ok(b"19/../1"));
        assert!(!path_ok(b"1/2/3"));
        assert!(!path_ok(b""));
    }
}
