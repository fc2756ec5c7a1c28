//! Reading and writing a descriptor with a time limit on each call (timeoutread.c,
//! timeoutwrite.c). Wrap them in `BufReader`/`BufWriter` for buffered I/O with timeouts:
//! network servers give up on a silent peer instead of waiting forever.

use crate::sys::fd::{poll, PollFd};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Waits until `fd` is ready or `limit` passes (then `TimedOut`).
fn wait(fd: i32, write: bool, limit: Duration) -> io::Result<()> {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        let mut p = [PollFd {
            fd,
            read: !write,
            write,
            ..Default::default()
        }];
        poll(&mut p, ms)?;
        if p[0].readable || p[0].writable {
            return Ok(());
        }
        if left.is_zero() {
            return Err(io::Error::from(io::ErrorKind::TimedOut));
        }
    }
}

/// A reader whose every `read` fails with `TimedOut` after `limit` without data.
pub struct Reader<R> {
    inner: R,
    limit: Duration,
}

impl<R: Read + AsRawFd> Reader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, limit: Duration) -> Self {
        Reader { inner, limit }
    }
}

impl<R: Read + AsRawFd> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        wait(self.inner.as_raw_fd(), false, self.limit)?;
        self.inner.read(buf)
    }
}

/// A writer whose every `write` fails with `TimedOut` after `limit` without room.
pub struct Writer<W> {
    inner: W,
    limit: Duration,
}

impl<W: Write + AsRawFd> Writer<W> {
    /// Wraps `inner`.
    pub fn new(inner: W, limit: Duration) -> Self {
        Writer { inner, limit }
    }
}

impl<W: Write + AsRawFd> Write for Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        wait(self.inner.as_raw_fd(), true, self.limit)?;
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    #[test]
    fn silent_peer_times_out_and_data_passes() {
        let (r, w) = crate::sys::fd::pipe().unwrap();
        let mut rd = io::BufReader::new(Reader::new(File::from(r), Duration::ZERO));
        let mut line = String::new();
        let e = io::BufRead::read_line(&mut rd, &mut line).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let mut wr = Writer::new(File::from(w), Duration::from_secs(5));
        wr.write_all(b"hello\n").unwrap();
        io::BufRead::read_line(&mut rd, &mut line).unwrap();
        assert_eq!(line, "hello\n");
    }

    #[test]
    fn full_pipe_times_out_on_write() {
        let (_r, w) = crate::sys::fd::pipe().unwrap();
        crate::sys::fd::set_nonblock(std::os::fd::AsFd::as_fd(&w), true).unwrap();
        let mut wr = Writer::new(File::from(w), Duration::ZERO);
        let chunk = [0u8; 65536];
        let e = loop {
            match wr.write(&chunk) {
                Ok(n) => assert!(n > 0),
                Err(e) => break e,
            }
        };
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
}
