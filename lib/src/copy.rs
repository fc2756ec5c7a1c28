//! Copying a message behind a few header lines into a file through one buffer on the stack:
//! a small message costs one read and one write, and no heap buffer is mapped and unmapped
//! per message (a 64 KiB allocation is an mmap of its own in musl's allocator).

use std::io::{self, Read, Write};

/// Which side of a copy failed.
#[derive(Debug)]
pub enum Failed {
    /// reading the message
    Read(io::Error),
    /// writing the output
    Write(io::Error),
}

/// The buffer size: large enough that most messages take one read.
const BUF: usize = 32768;

/// Writes `head`, then everything `input` holds, to `out`; the bytes copied from `input`.
pub fn with_head(head: &[u8], input: &mut impl Read, out: &mut impl Write) -> Result<u64, Failed> {
    let mut buf = [0u8; BUF];
    let mut fill = 0;
    if head.len() <= BUF / 2 {
        buf[..head.len()].copy_from_slice(head);
        fill = head.len();
    } else {
        out.write_all(head).map_err(Failed::Write)?;
    }
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf[fill..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failed::Read(e)),
        };
        total += n as u64;
        fill += n;
        if fill == BUF {
            out.write_all(&buf).map_err(Failed::Write)?;
            fill = 0;
        }
    }
    out.write_all(&buf[..fill]).map_err(Failed::Write)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read, with an EINTR first.
    struct Trickle<'a>(&'a [u8], usize, bool);

    impl Read for Trickle<'_> {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            if !self.2 {
                self.2 = true;
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = self.0.len().min(self.1).min(b.len());
            b[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn head_then_body_byte_for_byte() {
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for head in [&b""[..], b"Delivered-To: a@b\n", &[b'h'; BUF][..]] {
            for step in [1, 7, 4096, BUF, 1 << 20] {
                let mut out = Vec::new();
                let n = with_head(head, &mut Trickle(&body, step, false), &mut out).unwrap();
                assert_eq!(n, body.len() as u64);
                assert_eq!(
                    out,
                    [head, &body[..]].concat(),
                    "head {} step {step}",
                    head.len()
                );
            }
        }
    }

    #[test]
    fn failures_say_which_side() {
        struct Bad;
        impl Read for Bad {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        assert!(matches!(
            with_head(b"h", &mut Bad, &mut Vec::new()),
            Err(Failed::Read(_))
        ));
        let mut full = [0u8; 4];
        let r = with_head(b"header", &mut &b"x"[..], &mut &mut full[..]);
        assert!(matches!(r, Err(Failed::Write(_))));
    }
}
