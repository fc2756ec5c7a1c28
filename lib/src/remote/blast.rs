//! The message as SMTP DATA carries it (qmail-remote's `blast`, notqmail's line ends): LF
//! becomes CRLF, a CRLF stays as it is, a CR not followed by LF ends a line too, a `.` that
//! starts a line is doubled, and the data ends with `.` on a line of its own. A message
//! whose last line has no end cannot be sent (#5.6.2); a lone CR at the very end counts as
//! a line end. 8-bit bytes and long lines go as they are.

use std::io::{self, Read};

/// The converter's state between pieces of the message.
#[derive(Clone, Copy, Debug)]
pub struct Dot {
    /// at the start of a line
    bol: bool,
    /// a CR seen, its line end not yet written
    cr: bool,
}

impl Default for Dot {
    fn default() -> Self {
        Dot {
            bol: true,
            cr: false,
        }
    }
}

/// The last line of the message has no end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partial;

impl Dot {
    /// Appends `piece`, converted, to `out`.
    pub fn feed(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        for &c in piece {
            if std::mem::take(&mut self.cr) {
                out.extend_from_slice(b"\r\n");
                self.bol = true;
                if c == b'\n' {
                    continue;
                }
            }
            match c {
                b'\r' => self.cr = true,
                b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.bol = true;
                }
                _ => {
                    if self.bol && c == b'.' {
                        out.push(b'.');
                    }
                    out.push(c);
                    self.bol = false;
                }
            }
        }
    }

    /// Appends the end of the data (`.` CRLF) to `out`.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), Partial> {
        if std::mem::take(&mut self.cr) {
            out.extend_from_slice(b"\r\n");
            self.bol = true;
        }
        if !self.bol {
            return Err(Partial);
        }
        out.extend_from_slice(b".\r\n");
        Ok(())
    }
}

/// What the client needs to know of a message before sending it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Survey {
    /// its size with CRLF line ends, as RFC 1870's SIZE counts it, plus the doubled dots
    /// (an estimate from above, which the RFC allows)
    pub size: u64,
    /// it has a byte above 127 (BODY=8BITMIME is declared where the server offers it)
    pub eight_bit: bool,
    /// its last line has no end
    pub partial: bool,
    /// its size as it is (QMTP sends it so)
    pub bytes: u64,
}

/// Reads `r` to its end, handing `each` every piece as read and as converted; the state
/// at the end (for [`Dot::finish`]).
pub fn convert(
    r: &mut impl Read,
    mut each: impl FnMut(&[u8], &[u8]) -> io::Result<()>,
) -> io::Result<Dot> {
    let (mut buf, mut dot, mut out) = (vec![0u8; 32768], Dot::default(), Vec::with_capacity(40000));
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(dot),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.clear();
        dot.feed(&buf[..n], &mut out);
        each(&buf[..n], &out)?;
    }
}

/// Reads the whole message once to survey it.
pub fn survey(r: &mut impl Read) -> io::Result<Survey> {
    let mut s = Survey::default();
    let mut dot = convert(r, |raw, converted| {
        s.eight_bit |= raw.iter().any(|&c| c >= 0x80);
        s.bytes += raw.len() as u64;
        s.size += converted.len() as u64;
        Ok(())
    })?;
    s.partial = dot.finish(&mut Vec::new()).is_err();
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blast(input: &[u8]) -> Result<Vec<u8>, Partial> {
        let mut out = Vec::new();
        let mut d = Dot::default();
        for piece in input.chunks(3) {
            d.feed(piece, &mut out);
        }
        d.finish(&mut out).map(|()| out)
    }

    #[test]
    fn line_ends_and_dots() {
        assert_eq!(blast(b"a\nb\n").unwrap(), b"a\r\nb\r\n.\r\n");
        assert_eq!(blast(b"a\r\nb\r\n").unwrap(), b"a\r\nb\r\n.\r\n");
        assert_eq!(blast(b"cr\rlf\n").unwrap(), b"cr\r\nlf\r\n.\r\n");
        assert_eq!(
            blast(b".\n..x\nx.\n").unwrap(),
            b"..\r\n...x\r\nx.\r\n.\r\n"
        );
        assert_eq!(blast(b"a\r\n.b\r\n").unwrap(), b"a\r\n..b\r\n.\r\n");
        assert_eq!(blast(b"").unwrap(), b".\r\n");
        assert_eq!(blast(b"end\r").unwrap(), b"end\r\n.\r\n");
        assert_eq!(blast(b"\xff\n").unwrap(), b"\xff\r\n.\r\n");
        assert_eq!(blast(b"no end"), Err(Partial));
        assert_eq!(blast(b"a\nno end"), Err(Partial));
    }

    #[test]
    fn surveys() {
        let s = survey(&mut &b"a\nb\n"[..]).unwrap();
        assert_eq!(
            s,
            Survey {
                size: 6,
                eight_bit: false,
                partial: false,
                bytes: 4
            }
        );
        let s = survey(&mut &b"\xe9t\xe9\nx"[..]).unwrap();
        assert!(s.eight_bit && s.partial);
    }
}
