//! Sending one message the POP3 way (qmail-pop3d.c `blast`), streamed in fixed-size pieces
//! so that a 100 MB message, or a 100 MB line, costs no more memory than a small one.
//!
//! Each line goes out with CR LF in place of its LF (a CR already before the LF stays, as in
//! qmail); a line starting with `.` gets another `.`; a last line without LF is completed;
//! and an empty line is sent before the terminating `.` (`…\r\n\r\n.\r\n`), which qmail does
//! to get around client bugs. With a limit (TOP), the header, the empty line after it, and
//! that many body lines are sent. A header ends at the first empty line: a line holding only
//! CR does not end it, as in qmail.

use std::io::{self, Read, Write};

/// The piece of the message read at a time.
const CHUNK: usize = 65536;

/// Sends all of `msg` (`body_lines` = `None`) or its header and that many body lines.
pub fn blast(msg: &mut impl Read, out: &mut impl Write, body_lines: Option<u64>) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut at_start = true;
    let mut in_header = true;
    let mut left = body_lines;
    'read: loop {
        let n = match msg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut piece = &buf[..n];
        while !piece.is_empty() {
            if at_start {
                if !in_header {
                    if let Some(l) = left.as_mut() {
                        if *l == 0 {
                            break 'read;
                        }
                        *l -= 1;
                    }
                }
                match piece[0] {
                    b'\n' => {
                        in_header = false;
                        out.write_all(b"\r\n")?;
                        piece = &piece[1..];
                        continue;
                    }
                    b'.' => out.write_all(b".")?,
                    _ => {}
                }
                at_start = false;
            }
            match memchr::memchr(b'\n', piece) {
                Some(i) => {
                    out.write_all(&piece[..i])?;
                    out.write_all(b"\r\n")?;
                    piece = &piece[i + 1..];
                    at_start = true;
                }
                None => {
                    out.write_all(piece)?;
                    piece = &[];
                }
            }
        }
    }
    if !at_start {
        out.write_all(b"\r\n")?;
    }
    out.write_all(b"\r\n.\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per read: every piece boundary gets exercised.
    struct Dribble<'a>(&'a [u8]);
    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                None => Ok(0),
                Some((&c, rest)) => {
                    buf[0] = c;
                    self.0 = rest;
                    Ok(1)
                }
            }
        }
    }

    fn sent(msg: &[u8], limit: Option<u64>) -> String {
        let mut whole = Vec::new();
        blast(&mut &msg[..], &mut whole, limit).unwrap();
        let mut bytewise = Vec::new();
        blast(&mut Dribble(msg), &mut bytewise, limit).unwrap();
        assert_eq!(whole, bytewise);
        String::from_utf8(whole).unwrap()
    }

    const M: &[u8] = b"A: 1\nB: 2\n\n.one\nline 2\n..three\n.\nfive";

    #[test]
    fn whole_messages() {
        assert_eq!(
            sent(M, None),
            "A: 1\r\nB: 2\r\n\r\n..one\r\nline 2\r\n...three\r\n..\r\nfive\r\n\r\n.\r\n"
        );
        assert_eq!(sent(b"", None), "\r\n.\r\n");
        assert_eq!(sent(b"x\n", None), "x\r\n\r\n.\r\n");
        assert_eq!(sent(b"\n\n", None), "\r\n\r\n\r\n.\r\n");
        assert_eq!(sent(b"a\r\n.\r\n", None), "a\r\r\n..\r\r\n\r\n.\r\n");
    }

    #[test]
    fn top_counts_body_lines() {
        assert_eq!(sent(M, Some(0)), "A: 1\r\nB: 2\r\n\r\n\r\n.\r\n");
        assert_eq!(
            sent(M, Some(2)),
            "A: 1\r\nB: 2\r\n\r\n..one\r\nline 2\r\n\r\n.\r\n"
        );
        assert_eq!(sent(M, Some(5)), sent(M, None));
        assert_eq!(sent(M, Some(99)), sent(M, None));
        // empty body lines count; a CR-only line does not end the header
        assert_eq!(sent(b"h\n\n\n\nx\n", Some(2)), "h\r\n\r\n\r\n\r\n\r\n.\r\n");
        assert_eq!(
            sent(b"h\n\r\nb\n\nx\n", Some(0)),
            "h\r\n\r\r\nb\r\n\r\n\r\n.\r\n"
        );
        assert_eq!(sent(b"no body", Some(0)), "no body\r\n\r\n.\r\n");
    }

    #[test]
    fn a_long_line_streams() {
        let line = [&b"."[..], &vec![b'y'; 3 * CHUNK + 5], b"\nend"].concat();
        let mut out = Vec::new();
        blast(&mut &line[..], &mut out, None).unwrap();
        assert_eq!(out.len(), line.len() + 1 + 1 + 2 + 5);
        assert!(out.starts_with(b"..yy") && out.ends_with(b"y\r\nend\r\n\r\n.\r\n"));
    }
}
