//! Reading an SMTP server's reply, as a hostile peer may send it.
//!
//! The code is the three digits that start the first line; the reply goes on while a
//! line's fourth byte is `-` (the digits of continuation lines are not checked, as in
//! qmail). CRs are dropped from the kept text and NULs shown as `?`; at most 5000 bytes of
//! text are kept. Beyond qmail: a first line that does not start with three digits is a
//! broken server, reported as code 0 (the caller treats it as a temporary failure, where
//! qmail would have read whatever the bytes made and might have taken it for success); and a
//! reply may not go on for ever: more than 1 MB, or longer than `limit` in all, is a
//! timeout, so that a server trickling a byte at a time cannot hold a delivery past
//! `timeoutremote`.

use std::io::{self, BufRead};
use std::time::{Duration, Instant};

/// Most text kept of one reply.
pub const KEPT: usize = 5000;
/// Most bytes read for one reply before giving up on the server.
const MAX_BYTES: usize = 1 << 20;

/// A server's reply: its code (0 if it had none) and text (lines joined with `\n`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// the first line's code; 0 if it did not start with three digits
    pub code: u16,
    /// at most KEPT bytes, CRs dropped, NULs as `?`
    pub text: Vec<u8>,
    /// the lines after the first, without their code and separator (EHLO keywords)
    pub lines: Vec<Vec<u8>>,
}

/// Reads one reply; `UnexpectedEof` if the connection ends first, `TimedOut` if the whole
/// reply takes longer than `limit` (each read is also bounded by the stream's own timeout).
pub fn read(r: &mut impl BufRead, limit: Duration) -> io::Result<Reply> {
    let start = Instant::now();
    let mut reply = Reply::default();
    let (mut total, mut first, mut line) = (0usize, true, Vec::new());
    loop {
        line.clear();
        loop {
            if start.elapsed() > limit || total > MAX_BYTES {
                return Err(io::Error::from(io::ErrorKind::TimedOut));
            }
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            let (take, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            // Only the start of an overlong line is kept; the rest is read and dropped.
            let room = (KEPT + 8).saturating_sub(line.len()).min(take);
            line.extend_from_slice(&buf[..room]);
            r.consume(take);
            total += take;
            if done {
                break;
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        line.retain(|&c| c != b'\r');
        if first {
            let digits = line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit);
            reply.code = if digits {
                line[..3]
                    .iter()
                    .fold(0, |n, &d| n * 10 + u16::from(d - b'0'))
            } else {
                0
            };
            first = false;
        } else {
            reply.lines.push(line.get(4..).unwrap_or_default().to_vec());
        }
        if !reply.text.is_empty() {
            reply.text.push(b'\n');
        }
        reply
            .text
            .extend(line.iter().map(|&c| if c == 0 { b'?' } else { c }));
        reply.text.truncate(KEPT);
        if line.get(3) != Some(&b'-') {
            return Ok(reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &[u8]) -> io::Result<Reply> {
        read(&mut io::BufReader::new(input), Duration::from_secs(5))
    }

    #[test]
    fn codes_and_continuations() {
        let r = one(b"250-mx.example hello\r\n250-SIZE 1000\r\n250 PIPELINING\r\nrest").unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(
            r.text,
            b"250-mx.example hello\n250-SIZE 1000\n250 PIPELINING"
        );
        assert_eq!(r.lines, [&b"SIZE 1000"[..], b"PIPELINING"]);
        // A continuation line with another code is read, its code ignored.
        assert_eq!(one(b"451-a\r\n999 b\r\n").unwrap().code, 451);
        assert_eq!(one(b"554\r\n").unwrap().text, b"554");
    }

    #[test]
    fn hostile_replies() {
        assert_eq!(one(b"xyz nonsense\r\n").unwrap().code, 0);
        assert_eq!(one(b"25\r\n").unwrap().code, 0);
        assert_eq!(one(b"250 a\0b\r\n").unwrap().text, b"250 a?b");
        let e = one(b"250 no newline").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let e = one(b"250-more\r\n").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let mut long = b"550 ".to_vec();
        long.extend(std::iter::repeat_n(b'x', 100_000));
        long.extend_from_slice(b"\r\n");
        let r = one(&long).unwrap();
        assert_eq!((r.code, r.text.len()), (550, KEPT));
        let endless: Vec<u8> = b"250-x\r\n".repeat(200_000);
        assert_eq!(one(&endless).unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
