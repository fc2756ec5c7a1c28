//! The client's side of the connection: a read buffer that flushes the server's pending
//! replies only when it is about to wait for the client (what makes PIPELINING work: the
//! replies to a batch of commands leave in one write), and command lines read with a bound.

use crate::sys::fd::{poll, PollFd};
use crate::timeout;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// A byte source that can tell whether a read would return at once.
pub trait Wire: Read {
    /// true if input (or end of file) is waiting, so reading will not block
    fn ready(&self) -> bool;
}

/// A descriptor read with a time limit on each wait (fd 0 of qmail-smtpd).
pub struct Net {
    inner: timeout::Reader<File>,
    fd: RawFd,
}

impl Net {
    /// Wraps `f`; each read gives up with `TimedOut` after `limit`.
    pub fn new(f: File, limit: Duration) -> Net {
        let fd = f.as_raw_fd();
        Net {
            inner: timeout::Reader::new(f, limit),
            fd,
        }
    }
}

impl Read for Net {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Wire for Net {
    fn ready(&self) -> bool {
        let mut p = [PollFd {
            fd: self.fd,
            read: true,
            ..Default::default()
        }];
        poll(&mut p, 0).is_ok() && p[0].readable
    }
}

/// Why the conversation cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// the client sent nothing for the time limit
    ReadTimeout,
    /// end of input, or a read error
    Gone,
    /// a reply could not be written
    Write,
}

/// What [`Input::command`] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// a line, without its LF, is in the caller's buffer
    Ok,
    /// the line was longer than the bound; it was read to its LF and discarded
    TooLong,
}

/// The read buffer.
pub struct Input<R> {
    r: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl<R: Wire> Input<R> {
    /// A buffer of `size` bytes over `r`.
    pub fn new(r: R, size: usize) -> Input<R> {
        Input {
            r,
            buf: vec![0; size.max(1)].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    /// The buffered bytes not yet consumed (empty: call [`Input::fill`]).
    pub fn chunk(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks `n` buffered bytes as used.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Reads more into an empty buffer, first flushing `out` if the read could block.
    pub fn fill(&mut self, out: &mut impl Write) -> Result<(), Broken> {
        if self.start < self.end {
            return Ok(());
        }
        if !self.r.ready() {
            out.flush().map_err(|_| Broken::Write)?;
        }
        loop {
            match self.r.read(&mut self.buf) {
                Ok(0) => return Err(Broken::Gone),
                Ok(n) => {
                    (self.start, self.end) = (0, n);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return Err(Broken::ReadTimeout),
                Err(_) => return Err(Broken::Gone),
            }
        }
    }

    /// Overwrites the buffer with zeros and forgets what it held (it may hold a password:
    /// qmail-popup wipes it before checkpassword runs).
    pub fn wipe(&mut self) {
        self.buf.fill(0);
        std::hint::black_box(&mut self.buf);
        (self.start, self.end) = (0, 0);
    }

    /// Reads one line up to LF into `line` (cleared first), keeping at most `max` bytes. A
    /// line cut off by the end of input counts as [`Broken::Gone`].
    pub fn command(
        &mut self,
        out: &mut impl Write,
        max: usize,
        line: &mut Vec<u8>,
    ) -> Result<Line, Broken> {
        line.clear();
        let mut too_long = false;
        loop {
            self.fill(out)?;
            let chunk = self.chunk();
            let (take, found) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if line.len() + take > max {
                    too_long = true;
                    line.clear();
                } else {
                    line.extend_from_slice(&chunk[..take]);
                }
            }
            self.consume(take + usize::from(found));
            if found {
                return Ok(if too_long { Line::TooLong } else { Line::Ok });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input arriving in fixed pieces; `ready` is false between pieces.
    struct Pieces {
        parts: Vec<Vec<u8>>,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.parts.is_empty() {
                return Ok(0);
            }
            let p = &mut self.parts[0];
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            p.drain(..n);
            if p.is_empty() {
                self.parts.remove(0);
            }
            Ok(n)
        }
    }

    impl Wire for Pieces {
        fn ready(&self) -> bool {
            false
        }
    }

    struct Counting(Vec<u8>, usize);
    impl Write for Counting {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.1 += 1;
            Ok(())
        }
    }

    fn input(parts: &[&[u8]], size: usize) -> Input<Pieces> {
        Input::new(
            Pieces {
                parts: parts.iter().map(|p| p.to_vec()).collect(),
            },
            size,
        )
    }

    #[test]
    fn lines_across_reads_with_a_bound() {
        let mut i = input(
            &[b"HELO a\r\nNO", b"OP\nxxxxxxxxxxxx", b"xxx\nQUIT\r\nEND"],
            4,
        );
        let mut out = Counting(Vec::new(), 0);
        let mut l = Vec::new();
        assert_eq!(i.command(&mut out, 10, &mut l), Ok(Line::Ok));
        assert_eq!(l, b"HELO a\r");
        assert_eq!(i.command(&mut out, 10, &mut l), Ok(Line::Ok));
        assert_eq!(l, b"NOOP");
        assert_eq!(i.command(&mut out, 10, &mut l), Ok(Line::TooLong));
        assert_eq!(i.command(&mut out, 10, &mut l), Ok(Line::Ok));
        assert_eq!(l, b"QUIT\r");
        assert_eq!(i.command(&mut out, 10, &mut l), Err(Broken::Gone));
        assert_eq!(l, b"END");
        // exactly the bound is fine
        let mut i = input(&[b"0123456789\n"], 64);
        assert_eq!(i.command(&mut out, 10, &mut l), Ok(Line::Ok));
    }

    #[test]
    fn flushes_only_when_a_read_could_block() {
        let mut i = input(&[b"A\nB\nC\n", b"D\n"], 64);
        let mut out = Counting(Vec::new(), 0);
        let mut l = Vec::new();
        for _ in 0..3 {
            i.command(&mut out, 10, &mut l).unwrap();
        }
        assert_eq!(out.1, 1, "one flush before the first read");
        i.command(&mut out, 10, &mut l).unwrap();
        assert_eq!(out.1, 2);
    }
}
