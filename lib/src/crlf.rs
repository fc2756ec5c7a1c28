//! Line-ending filters of ucspi-tcp (ucspi.md §7.2, §7.3), fed chunk by chunk so a CR at the
//! end of one read and an LF at the start of the next are handled as one pair:
//! `addcr` (every LF → CR LF), `delcr` (every CR LF → LF; other CRs kept), `fixcr` (an LF
//! not already after a CR gets one; nothing removed).

/// addcr: every LF becomes CR LF (an existing CR LF becomes CR CR LF).
pub fn addcr(chunk: &[u8], out: &mut Vec<u8>) {
    for &c in chunk {
        if c == b'\n' {
            out.push(b'\r');
        }
        out.push(c);
    }
}

/// delcr's state: whether the last byte seen was a CR not yet written.
#[derive(Clone, Copy, Debug, Default)]
pub struct DelCr {
    held: bool,
}

impl DelCr {
    /// Filters one chunk.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        for &c in chunk {
            if self.held && c != b'\n' {
                out.push(b'\r');
            }
            self.held = c == b'\r';
            if !self.held {
                out.push(c);
            }
        }
    }

    /// End of input: a CR held back is written after all.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.held) {
            out.push(b'\r');
        }
    }
}

/// fixcr's state for one direction: whether the last byte passed was a CR.
#[derive(Clone, Copy, Debug, Default)]
pub struct FixCr {
    after_cr: bool,
}

impl FixCr {
    /// Filters one chunk.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        for &c in chunk {
            if c == b'\n' && !self.after_cr {
                out.push(b'\r');
            }
            out.push(c);
            self.after_cr = c == b'\r';
        }
    }
}

/// Why [`filter`] stopped.
#[derive(Debug)]
pub enum Failed {
    /// reading fd 0
    Read(std::io::Error),
    /// writing fd 1
    Write(std::io::Error),
}

/// Copies fd 0 to fd 1 through `feed`, which gets each chunk read and then `None` at the end;
/// what it puts in its second argument is written (and flushed) before the next read.
pub fn filter(mut feed: impl FnMut(Option<&[u8]>, &mut Vec<u8>)) -> Result<(), Failed> {
    use std::io::{Read, Write};
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let (mut buf, mut out) = (vec![0u8; 8192], Vec::new());
    loop {
        let n = match input.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => r.map_err(Failed::Read)?,
        };
        out.clear();
        feed((n > 0).then(|| &buf[..n]), &mut out);
        output.write_all(&out).map_err(Failed::Write)?;
        output.flush().map_err(Failed::Write)?;
        if n == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn del(chunks: &[&[u8]]) -> Vec<u8> {
        let (mut d, mut out) = (DelCr::default(), Vec::new());
        for c in chunks {
            d.feed(c, &mut out);
        }
        d.finish(&mut out);
        out
    }

    fn fix(chunks: &[&[u8]]) -> Vec<u8> {
        let (mut f, mut out) = (FixCr::default(), Vec::new());
        for c in chunks {
            f.feed(c, &mut out);
        }
        out
    }

    #[test]
    fn addcr_table() {
        let mut out = Vec::new();
        addcr(b"a\nb\r\nc", &mut out);
        assert_eq!(out, b"a\r\nb\r\r\nc");
    }

    #[test]
    fn delcr_table_and_boundaries() {
        assert_eq!(del(&[b"a\r\nb\rc\r\r\nd\r"]), b"a\nb\rc\r\nd\r");
        assert_eq!(del(&[b"a\r", b"\nb\r", b"\r", b"\n", b"\r"]), b"a\nb\r\n\r");
        assert_eq!(del(&[b"\r", b"x"]), b"\rx");
        assert_eq!(del(&[b""]), b"");
        assert_eq!(del(&[b"\n\n"]), b"\n\n");
    }

    #[test]
    fn fixcr_table_and_boundaries() {
        assert_eq!(fix(&[b"a\nb\r\nc\r\r\n\n"]), b"a\r\nb\r\nc\r\r\n\r\n");
        assert_eq!(fix(&[b"a\r", b"\n", b"\n"]), b"a\r\n\r\n");
        assert_eq!(fix(&[b"\n"]), b"\r\n");
        assert_eq!(fix(&[b"\r", b"x\n"]), b"\rx\r\n");
    }
}
