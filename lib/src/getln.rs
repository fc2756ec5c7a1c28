//! Reading lines and NUL-terminated records with a hard limit on their length (getln).

use std::io::{self, BufRead};

/// What one call of [`getln`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    /// a whole record; the separator was consumed but is not in `out`
    Record,
    /// end of input after some bytes without a separator (they are in `out`)
    Partial,
    /// end of input before any byte
    Eof,
    /// more than the limit arrived before a separator; `out` holds the first `max` bytes and
    /// the rest of the record was left unread
    TooLong,
}

/// Reads bytes up to `sep` into `out` (cleared first), at most `max` bytes.
pub fn getln(r: &mut impl BufRead, sep: u8, max: usize, out: &mut Vec<u8>) -> io::Result<Got> {
    out.clear();
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(if out.is_empty() {
                Got::Eof
            } else {
                Got::Partial
            });
        }
        let room = max - out.len();
        let (take, found) = match memchr::memchr(sep, buf) {
            Some(i) if i <= room => (i, true),
            _ => (buf.len().min(room), false),
        };
        out.extend_from_slice(&buf[..take]);
        r.consume(take + usize::from(found));
        if found {
            return Ok(Got::Record);
        }
        if out.len() >= max {
            return Ok(Got::TooLong);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn records_and_limits() {
        let mut r = io::Cursor::new(&b"ab\0cdef\0gh"[..]);
        let mut out = Vec::new();
        assert_eq!(getln(&mut r, 0, 3, &mut out).unwrap(), Got::Record);
        assert_eq!(out, b"ab");
        assert_eq!(getln(&mut r, 0, 3, &mut out).unwrap(), Got::TooLong);
        assert_eq!(out, b"cde");
        assert_eq!(getln(&mut r, 0, 3, &mut out).unwrap(), Got::Record);
        assert_eq!(out, b"f");
        assert_eq!(getln(&mut r, 0, 3, &mut out).unwrap(), Got::Partial);
        assert_eq!(out, b"gh");
        assert_eq!(getln(&mut r, 0, 3, &mut out).unwrap(), Got::Eof);
        let mut r = io::Cursor::new(&b"abc\n"[..]);
        assert_eq!(getln(&mut r, b'\n', 3, &mut out).unwrap(), Got::Record);
        assert_eq!(out, b"abc");
    }
}
