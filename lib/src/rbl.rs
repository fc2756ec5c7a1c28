//! rblsmtpd's logic (ucspi-tcp `rblsmtpd.c` and `commands.c`): the decision built from
//! `RBLSMTPD` and the RBL answers, the one-line message, and the fake SMTP dialogue that
//! holds a blocked client until it quits.

use crate::dns::{self, DnsError};
use std::io::{self, BufRead, Write};
use std::net::IpAddr;

/// Where the decision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// no decision yet: later `-r`/`-a` options still look
    Undecided,
    /// let the client through to the real SMTP server
    Accept,
    /// answer 451
    Reject,
    /// answer 553 (unless a lookup failed temporarily)
    Bounce,
}

/// The decision so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// where it stands
    pub verdict: Verdict,
    /// the reply text
    pub text: Vec<u8>,
    /// a lookup failed temporarily, so a block must be 451, never 553
    pub must_not_bounce: bool,
}

/// The text when `-c` turns a failed RBL lookup into a block.
const TEMP_TEXT: &[u8] = b"temporary RBL lookup error";
/// Longest reply text kept.
const MAX_TEXT: usize = 200;
/// Longest command line kept (the rest of a longer line is read and dropped).
const MAX_LINE: usize = 1024;

impl Decision {
    /// Step one: the `RBLSMTPD` variable. Empty: accept; `-text`: bounce; `text`: reject.
    pub fn from_env(value: Option<&[u8]>) -> Decision {
        let (verdict, text) = match value {
            None => (Verdict::Undecided, &b""[..]),
            Some(b"") => (Verdict::Accept, &b""[..]),
            Some([b'-', rest @ ..]) => (Verdict::Bounce, rest),
            Some(v) => (Verdict::Reject, v),
        };
        Decision {
            verdict,
            text: text.to_vec(),
            must_not_bounce: false,
        }
    }

    /// Whether `-r`/`-a` options should still look.
    pub fn undecided(&self) -> bool {
        self.verdict == Verdict::Undecided
    }

    /// A `-r` answer: the TXT records of the listing (empty or NXDOMAIN: not listed).
    pub fn listed(&mut self, answer: Result<Vec<Vec<u8>>, DnsError>, bounce: bool, closed: bool) {
        match answer {
            Ok(records) => {
                let text = records.concat();
                if !text.is_empty() {
                    self.text = text;
                    self.verdict = if bounce {
                        Verdict::Bounce
                    } else {
                        Verdict::Reject
                    };
                }
            }
            Err(DnsError::Hard) => {}
            Err(DnsError::Soft(_)) => {
                self.must_not_bounce = true;
                if closed {
                    self.text = TEMP_TEXT.to_vec();
                    self.verdict = Verdict::Reject;
                }
            }
        }
    }

    /// An `-a` answer: whether the allowlist has an address for the client.
    pub fn allowed(&mut self, answer: Result<bool, DnsError>, closed: bool) {
        match answer {
            Ok(true) => self.verdict = Verdict::Accept,
            Ok(false) | Err(DnsError::Hard) => {}
            Err(DnsError::Soft(_)) => {
                self.must_not_bounce = true;
                if !closed {
                    self.verdict = Verdict::Accept;
                }
            }
        }
    }

    /// The reply line without CRLF, `<code> <text>`, text cut to 200 bytes and every byte
    /// outside 32–126 made `?`; `None` when the client is to be let through.
    pub fn message(&self) -> Option<Vec<u8>> {
        let code: &[u8] = match self.verdict {
            Verdict::Undecided | Verdict::Accept => return None,
            Verdict::Reject => b"451 ",
            Verdict::Bounce if self.must_not_bounce => b"451 ",
            Verdict::Bounce => b"553 ",
        };
        let text = &self.text[..self.text.len().min(MAX_TEXT)];
        let mut m = [code, text].concat();
        for c in &mut m {
            if !(32..=126).contains(c) {
                *c = b'?';
            }
        }
        Some(m)
    }
}

/// The client's address as the environment gives it: `TCP6REMOTEIP` when `PROTO` is `TCP6`
/// (and it is set), else `TCPREMOTEIP`, else empty.
pub fn remote_ip(proto: Option<&[u8]>, tcp6: Option<Vec<u8>>, tcp: Option<Vec<u8>>) -> Vec<u8> {
    match (proto, tcp6) {
        (Some(b"TCP6"), Some(ip)) => ip,
        _ => tcp.unwrap_or_default(),
    }
}

/// The address parsed (an IPv4-mapped IPv6 address as IPv4), if it is one.
pub fn parse_ip(text: &[u8]) -> Option<IpAddr> {
    let ip: IpAddr = std::str::from_utf8(text).ok()?.parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// The reversed name to put before an RBL base: `4.3.2.1.` or IPv6 nibbles. Text that is not
/// an address has its dot-separated parts reversed, as rblsmtpd.c always did.
pub fn reversed(text: &[u8]) -> Vec<u8> {
    if let Some(ip) = parse_ip(text) {
        return dns::reverse_name(ip);
    }
    let mut out = Vec::with_capacity(text.len() + 1);
    if text.is_empty() {
        return out;
    }
    for part in text.rsplit(|&c| c == b'.') {
        out.extend_from_slice(part);
        out.push(b'.');
    }
    out
}

/// The fake SMTP server: greet, answer HELO/EHLO/MAIL/RSET/NOOP with 250, QUIT with 221 (and
/// stop), everything else with `reply` (the message plus CRLF); stop at end of input. A NUL
/// byte counts as LF inside a line; one trailing CR is dropped; verbs ignore case.
pub fn dialogue(input: &mut impl BufRead, out: &mut impl Write, reply: &[u8]) -> io::Result<()> {
    out.write_all(b"220 rblsmtpd.local\r\n")?;
    out.flush()?;
    loop {
        let Some(mut line) = read_line(input)? else {
            return Ok(());
        };
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let verb = line.split(|&c| c == b' ').next().unwrap_or(&[]);
        let verb = verb.to_ascii_lowercase();
        match &verb[..] {
            b"helo" | b"ehlo" | b"mail" | b"rset" | b"noop" => {
                out.write_all(b"250 rblsmtpd.local\r\n")?
            }
            b"quit" => {
                out.write_all(b"221 rblsmtpd.local\r\n")?;
                return out.flush();
            }
            _ => out.write_all(reply)?,
        }
        out.flush()?;
    }
}

/// One line without its LF (NULs turned into LF, at most `MAX_LINE` bytes kept); `None` at
/// end of input, including after a last line without LF.
fn read_line(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(None);
        }
        let (chunk, used, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend(
            chunk[..chunk.len().min(room)]
                .iter()
                .map(|&c| if c == 0 { b'\n' } else { c }),
        );
        input.consume(used);
        if done {
            return Ok(Some(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(env: Option<&[u8]>) -> Decision {
        Decision::from_env(env)
    }

    #[test]
    fn environment() {
        assert_eq!(d(None).verdict, Verdict::Undecided);
        assert_eq!(d(Some(b"")).verdict, Verdict::Accept);
        assert_eq!(d(Some(b"")).message(), None);
        assert_eq!(
            d(Some(b"-go away")).message(),
            Some(b"553 go away".to_vec())
        );
        assert_eq!(d(Some(b"later")).message(), Some(b"451 later".to_vec()));
        assert_eq!(d(Some(b"-")).message(), Some(b"553 ".to_vec()));
    }

    #[test]
    fn rbl_answers() {
        let soft = || Err(DnsError::Soft("timed out".into()));
        let mut x = d(None);
        x.listed(Ok(vec![]), false, false);
        x.listed(Err(DnsError::Hard), false, false);
        x.listed(Ok(vec![b"".to_vec()]), true, false);
        assert!(x.undecided());
        x.listed(Ok(vec![b"a ".to_vec(), b"b".to_vec()]), true, false);
        assert_eq!(x.message(), Some(b"553 a b".to_vec()));

        let mut x = d(None);
        x.listed(soft(), true, false);
        assert!(x.undecided() && x.must_not_bounce);
        x.listed(Ok(vec![b"listed".to_vec()]), true, false);
        assert_eq!(
            x.message(),
            Some(b"451 listed".to_vec()),
            "no bounce after a failure"
        );

        let mut x = d(None);
        x.listed(soft(), false, true);
        assert_eq!(
            x.message(),
            Some(b"451 temporary RBL lookup error".to_vec())
        );
    }

    #[test]
    fn allow_answers() {
        let mut x = d(None);
        x.allowed(Ok(false), false);
        x.allowed(Err(DnsError::Hard), false);
        assert!(x.undecided());
        x.allowed(Ok(true), true);
        assert_eq!(x.verdict, Verdict::Accept);
        let mut x = d(None);
        x.allowed(Err(DnsError::Soft("x".into())), true);
        assert!(x.undecided() && x.must_not_bounce);
        x.allowed(Err(DnsError::Soft("x".into())), false);
        assert_eq!(x.verdict, Verdict::Accept);
    }

    #[test]
    fn message_is_cut_and_cleaned() {
        let mut x = d(Some(b"x"));
        x.text = [b"a\tb\r\n\x00\x7f\xff ".to_vec(), vec![b'z'; 300]].concat();
        let m = x.message().expect("blocked");
        assert_eq!(m.len(), 204);
        assert_eq!(&m[..13], b"451 a?b????? ");
        assert!(m[13..].iter().all(|&c| c == b'z'));
    }

    #[test]
    fn addresses() {
        assert_eq!(
            remote_ip(Some(b"TCP6"), Some(b"::1".to_vec()), Some(b"x".to_vec())),
            b"::1"
        );
        assert_eq!(
            remote_ip(Some(b"TCP"), Some(b"::1".to_vec()), Some(b"x".to_vec())),
            b"x"
        );
        assert_eq!(remote_ip(Some(b"TCP6"), None, Some(b"x".to_vec())), b"x");
        assert_eq!(remote_ip(None, None, None), b"");
        assert_eq!(reversed(b"127.0.0.2"), b"2.0.0.127.");
        assert_eq!(reversed(b"::ffff:10.1.2.3"), b"3.2.1.10.");
        assert_eq!(reversed(b"::1"), [&b"1."[..], &b"0.".repeat(31)].concat());
        assert_eq!(reversed(b"a.b.c"), b"c.b.a.");
        assert_eq!(reversed(b""), b"");
    }

    fn talk(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        dialogue(&mut &input[..], &mut out, b"451 no\r\n").expect("dialogue");
        out
    }

    #[test]
    fn fake_smtp() {
        let greet = "220 rblsmtpd.local\r\n";
        let ok = "250 rblsmtpd.local\r\n";
        let no = "451 no\r\n";
        let bye = "221 rblsmtpd.local\r\n";
        assert_eq!(talk(b""), greet.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&talk(
                b"helo x\r\nEhLo\nMAIL FROM:<a>\nrcpt to:<b>\nQUIT\0junk\n\0\nnoop\r\r\n\r\nrset\nquit\nhelo\n"
            )),
            [greet, ok, ok, ok, no, no, no, no, no, ok, bye].concat()
        );
        assert_eq!(
            talk(b"data\nquit"),
            [greet, no].concat().as_bytes(),
            "partial line at EOF"
        );
        let long = [vec![b'x'; 5000], b"\nquit\n".to_vec()].concat();
        assert_eq!(talk(&long), [greet, no, bye].concat().as_bytes());
    }
}
