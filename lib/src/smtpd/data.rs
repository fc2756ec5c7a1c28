//! The DATA phase as a state machine fed with whatever the network delivered (qmail-smtpd's
//! blast): CRLF becomes LF, a leading dot is removed, CRLF.CRLF ends the message, a bare LF
//! is refused; header lines starting `Received`/`Delivered` are counted as hops, and the
//! stored bytes are counted against `databytes`. Nothing is buffered here, so a message of
//! any size passes through in the caller's chunks.

/// What [`Blast::feed`] found at the end of the bytes it consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// all input consumed; more is needed
    More,
    /// the final `.` line was consumed
    End,
    /// a LF without CR before it: the client must be refused
    BareLf,
}

/// The state of one DATA phase.
#[derive(Clone, Debug)]
pub struct Blast {
    /// 0 mid-line; 1 after CRLF; 2 after CRLF `.`; 3 after CRLF `.` CR; 4 after CR
    state: u8,
    in_header: bool,
    /// bytes since the last LF (only the first 9 matter)
    pos: usize,
    maybe_received: bool,
    maybe_blank: bool,
    maybe_delivered: bool,
    hops: u32,
    /// bytes that may still be stored plus one; `None`: no limit
    left: Option<u64>,
}

impl Blast {
    /// A new message; `databytes` 0 means no size limit.
    pub fn new(databytes: u64) -> Blast {
        Blast {
            state: 1,
            in_header: true,
            pos: 0,
            maybe_received: true,
            maybe_blank: true,
            maybe_delivered: true,
            hops: 0,
            left: (databytes > 0).then(|| databytes.saturating_add(1)),
        }
    }

    /// `Received`/`Delivered` lines counted in the header so far.
    pub fn hops(&self) -> u32 {
        self.hops
    }

    /// Whether more than `databytes` bytes were stored.
    pub fn overflowed(&self) -> bool {
        self.left == Some(0)
    }

    fn stored(&mut self, n: usize) {
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(n as u64);
        }
    }

    fn count(&mut self, c: u8) {
        let p = self.pos;
        if p < 9 {
            if c.to_ascii_lowercase() != b"delivered"[p] {
                self.maybe_delivered = false;
            }
            if self.maybe_delivered && p == 8 {
                self.hops = self.hops.saturating_add(1);
            }
            if p < 8 && c.to_ascii_lowercase() != b"received"[p] {
                self.maybe_received = false;
            }
            if self.maybe_received && p == 7 {
                self.hops = self.hops.saturating_add(1);
            }
            if p < 2 && c != b"\r\n"[p] {
                self.maybe_blank = false;
            }
            if self.maybe_blank && p == 1 {
                self.in_header = false;
            }
            self.pos += 1;
        }
        if c == b'\n' {
            self.pos = 0;
            self.maybe_received = true;
            self.maybe_blank = true;
            self.maybe_delivered = true;
        }
    }

    /// Consumes a prefix of `input`, appending the bytes to store to `out`. Returns how many
    /// bytes were consumed and why it stopped; after `End` or `BareLf` the rest of `input`
    /// is not this message's.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, Step) {
        let mut i = 0;
        while i < input.len() {
            if self.state == 0 && (!self.in_header || self.pos >= 9) {
                // mid-line with nothing to count: copy up to the next CR or LF at once
                let run = memchr::memchr2(b'\r', b'\n', &input[i..]).unwrap_or(input.len() - i);
                if run > 0 {
                    out.extend_from_slice(&input[i..i + run]);
                    self.stored(run);
                    i += run;
                    continue;
                }
            }
            let c = input[i];
            i += 1;
            if self.in_header {
                self.count(c);
            }
            let before = out.len();
            match self.state {
                0 => {
                    if c == b'\n' {
                        return (i, Step::BareLf);
                    }
                    if c == b'\r' {
                        self.state = 4;
                        continue;
                    }
                }
                1 => {
                    if c == b'\n' {
                        return (i, Step::BareLf);
                    }
                    if c == b'.' {
                        self.state = 2;
                        continue;
                    }
                    if c == b'\r' {
                        self.state = 4;
                        continue;
                    }
                    self.state = 0;
                }
                2 => {
                    if c == b'\n' {
                        return (i, Step::BareLf);
                    }
                    if c == b'\r' {
                        self.state = 3;
                        continue;
                    }
                    self.state = 0;
                }
                3 => {
                    if c == b'\n' {
                        return (i, Step::End);
                    }
                    out.extend_from_slice(b".\r");
                    if c == b'\r' {
                        self.state = 4;
                        self.stored(out.len() - before);
                        continue;
                    }
                    self.state = 0;
                }
                _ => {
                    if c == b'\n' {
                        self.state = 1;
                    } else if c != b'\r' {
                        out.push(b'\r');
                        self.state = 0;
                    }
                }
            }
            out.push(c);
            self.stored(out.len() - before);
        }
        (i, Step::More)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `chunk` bytes: (stored, step, consumed, hops, overflowed).
    fn run(input: &[u8], chunk: usize, databytes: u64) -> (Vec<u8>, Step, usize, u32, bool) {
        let mut b = Blast::new(databytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < input.len() {
            let end = (at + chunk).min(input.len());
            let (n, step) = b.feed(&input[at..end], &mut out);
            at += n;
            if step != Step::More {
                return (out, step, at, b.hops(), b.overflowed());
            }
        }
        (out, Step::More, at, b.hops(), b.overflowed())
    }

    fn stored(input: &[u8]) -> (Vec<u8>, Step) {
        let whole = run(input, input.len().max(1), 0);
        for chunk in [1, 2, 3, 7] {
            let r = run(input, chunk, 0);
            assert_eq!(
                (&r.0, r.1, r.2),
                (&whole.0, whole.1, whole.2),
                "chunk {chunk}"
            );
        }
        (whole.0, whole.1)
    }

    #[test]
    fn crlf_dots_and_the_end() {
        let (out, step) = stored(b"Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n");
        assert_eq!(
            (out.as_slice(), step),
            (&b"Subject: x\n\n.dot\n"[..], Step::End)
        );
        assert_eq!(run(b"a\r\n.\r\nQUIT\r\n", 100, 0).2, 6);
        assert_eq!(stored(b".\r\n"), (Vec::new(), Step::End));
        assert_eq!(
            stored(b"a\rb\r\r\n.\r\n"),
            (b"a\rb\r\n".to_vec(), Step::End)
        );
        assert_eq!(stored(b".\rx\r\n.\r\n"), (b".\rx\n".to_vec(), Step::End));
        assert_eq!(stored(b".\r\r\n.\r\n"), (b".\r\n".to_vec(), Step::End));
        assert_eq!(stored(b"x\r\n.y\r\n"), (b"x\ny\n".to_vec(), Step::More));
        assert_eq!(
            stored(b"\xff\x00\x80\r\n.\r\n"),
            (b"\xff\x00\x80\n".to_vec(), Step::End)
        );
    }

    #[test]
    fn bare_lf_anywhere() {
        for m in [&b"a\nb"[..], b"\n", b"a\r\n\n", b"a\r\n.\n", b"a\r\r\n.\n"] {
            assert_eq!(stored(m).1, Step::BareLf, "{m:?}");
        }
    }

    #[test]
    fn hops_in_the_header_only() {
        let mut m = Vec::new();
        for _ in 0..3 {
            m.extend_from_slice(b"Received: x\r\nDELIVERED-To: y\r\nreceived-spf: z\r\n");
        }
        m.extend_from_slice(b"Receive: no\r\nX-Received: no\r\nReceived\r\n");
        m.extend_from_slice(b"\r\nReceived: body\r\n.\r\n");
        for chunk in [1, 4, 1000] {
            assert_eq!(run(&m, chunk, 0).3, 10, "chunk {chunk}");
        }
        assert_eq!(run(b"Received: a\r\n \r\nReceived: b\r\n.\r\n", 9, 0).3, 2);
    }

    #[test]
    fn databytes_counts_stored_bytes() {
        // "abc\n" is 4 stored bytes from 5 sent
        assert!(!run(b"abc\r\n.\r\n", 3, 4).4);
        assert!(run(b"abc\r\n.\r\n", 3, 3).4);
        assert!(!run(b"..\r\n.\r\n", 1, 2).4);
        let big = vec![b'x'; 100_000];
        let r = run(&[&big[..], b"\r\n.\r\n"].concat(), 4096, 99_999);
        assert_eq!((r.1, r.4), (Step::End, true));
        assert!(!run(&[&big[..], b"\r\n.\r\n"].concat(), 4096, 0).4);
    }
}
