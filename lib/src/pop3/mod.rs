//! POP3 (RFC 1939) as qmail serves it: qmail-popup's AUTHORIZATION state and its handover to
//! checkpassword ([`auth`], qmail-popup.c), qmail-pop3d's TRANSACTION and UPDATE states
//! ([`transaction`], qmail-pop3d.c) over a Maildir ([`mailbox`], maildir.c), messages sent
//! with [`blast`]. Here, what both programs share: reading a command line with a bound,
//! splitting it into verb and argument (commands.c), the replies, the idle timeout
//! (`control/timeoutpop3`, shared/spec/decisions.md) and CAPA (RFC 2449).
//!
//! Beyond qmail (the originals and the spec are silent; these are the choices):
//! - A command line may be [`MAX_LINE`] = 1024 bytes long, its CR LF included (qmail: no
//!   bound; RFC 2449 allows 255 octets, which a long password can exceed, and checkpassword
//!   takes at most 512 bytes anyway). A longer line is read to its LF in bounded memory,
//!   thrown away and answered `-ERR line too long`; the session goes on, as qmail-smtpd
//!   does with its `500 line too long`: a client that sent one is confused, not hostile
//!   enough to be worth a disconnect, and the idle timeout still bounds it.
//! - A NUL byte anywhere in a command line gets `-ERR syntax error` and the line is ignored
//!   (qmail cut the line at the NUL, so `USER a\0b` logged in as `a`; passing the NUL on
//!   would add a field to checkpassword's fd 3).
//! - `CAPA` (RFC 2449) in both states. The lists name only what is implemented: `TOP`,
//!   `UIDL`, `USER` (RFC 2449 §6: what the AUTHORIZATION state announces must be announced
//!   in both), `IMPLEMENTATION rqmail`, and in the TRANSACTION state `PIPELINING`:
//!   qmail-pop3d answers a batch of commands in order and writes the replies when it is
//!   about to wait for the client. qmail-popup does not announce it: input it has read
//!   ahead past `PASS` would be lost when checkpassword and qmail-pop3d take over fd 0.
//!   No `SASL`, `STLS`, `RESP-CODES`, `LOGIN-DELAY` or `EXPIRE`: none is implemented.

pub mod auth;
pub mod blast;
pub mod mailbox;
pub mod transaction;

use crate::smtpd::input::{Broken, Input, Line, Wire};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

/// The longest command line accepted, in bytes, CR LF included.
pub const MAX_LINE: usize = 1024;

/// The read buffer for commands.
pub const INPUT_BUF: usize = 4096;

/// The idle timeout when `control/timeoutpop3` does not say (qmail's hard-coded 20 minutes).
pub const DEFAULT_TIMEOUT: u64 = 1200;

/// The capabilities both states announce (each line without CR LF), after the `+OK`.
const CAPA_BOTH: &[&str] = &["TOP", "UIDL", "USER"];

/// The idle (read and write) timeout from `home/control/timeoutpop3`; 0 counts as 1.
pub fn timeout(home: &Path) -> io::Result<Duration> {
    let secs = crate::control::int(home.join("control/timeoutpop3"), DEFAULT_TIMEOUT)?;
    Ok(Duration::from_secs(secs.max(1)))
}

/// Writes `bytes`; a failure ends the conversation.
pub fn put(out: &mut impl Write, bytes: &[u8]) -> Result<(), Broken> {
    out.write_all(bytes).map_err(|_| Broken::Write)
}

/// Writes `-ERR <text>` and CR LF.
pub fn err(out: &mut impl Write, text: &str) -> Result<(), Broken> {
    put(out, format!("-ERR {text}\r\n").as_bytes())
}

/// Writes the positive reply without text, `+OK ` and CR LF.
pub fn ok(out: &mut impl Write) -> Result<(), Broken> {
    put(out, b"+OK \r\n")
}

/// Writes the CAPA reply; `pipelining` in the TRANSACTION state.
pub fn capa(out: &mut impl Write, pipelining: bool) -> Result<(), Broken> {
    let mut r = b"+OK capability list follows\r\n".to_vec();
    for c in CAPA_BOTH {
        r.extend_from_slice(c.as_bytes());
        r.extend_from_slice(b"\r\n");
    }
    if pipelining {
        r.extend_from_slice(b"PIPELINING\r\n");
    }
    r.extend_from_slice(b"IMPLEMENTATION rqmail\r\n.\r\n");
    put(out, &r)
}

/// Reads the next command line into `line` (without CR LF). `Ok(false)`: the line was too
/// long or held a NUL, and has been answered; read the next one.
pub fn command<R: Wire>(
    input: &mut Input<R>,
    out: &mut impl Write,
    line: &mut Vec<u8>,
) -> Result<bool, Broken> {
    if input.command(out, MAX_LINE - 1, line)? == Line::TooLong {
        err(out, "line too long")?;
        return Ok(false);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    if memchr::memchr(0, line).is_some() {
        err(out, "syntax error")?;
        return Ok(false);
    }
    Ok(true)
}

/// A command line split as commands.c does: the verb up to the first space, and the
/// argument after the spaces that follow it (trailing spaces are kept).
pub fn split(line: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memchr(b' ', line) {
        None => (line, &[]),
        Some(i) => {
            let rest = &line[i..];
            let skip = rest.iter().take_while(|&&c| c == b' ').count();
            (&line[..i], &rest[skip..])
        }
    }
}

/// Overwrites `b` with zeros in a way the optimiser keeps (it may hold a password).
pub fn wipe(b: &mut [u8]) {
    b.fill(0);
    std::hint::black_box(b);
}

#[cfg(test)]
pub(crate) mod testio {
    //! Input arriving in fixed pieces, for the session tests.
    use crate::smtpd::input::{Input, Wire};
    use std::io::{self, Read};

    /// The pieces still to be read; `ready` is false between pieces.
    pub struct Pieces(pub Vec<Vec<u8>>);

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(p) = self.0.first_mut() else {
                return Ok(0);
            };
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            p.drain(..n);
            if p.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    impl Wire for Pieces {
        fn ready(&self) -> bool {
            false
        }
    }

    /// An input that yields `parts` one read at a time, then end of file.
    pub fn input(parts: &[&[u8]]) -> Input<Pieces> {
        Input::new(Pieces(parts.iter().map(|p| p.to_vec()).collect()), 64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_commands_c() {
        assert_eq!(split(b"USER joe"), (&b"USER"[..], &b"joe"[..]));
        assert_eq!(split(b"PASS   a b "), (&b"PASS"[..], &b"a b "[..]));
        assert_eq!(split(b"NOOP"), (&b"NOOP"[..], &b""[..]));
        assert_eq!(split(b"NOOP "), (&b"NOOP"[..], &b""[..]));
        assert_eq!(split(b"USER\tx"), (&b"USER\tx"[..], &b""[..]));
        assert_eq!(split(b""), (&b""[..], &b""[..]));
    }

    #[test]
    fn lines_long_lines_and_nuls() {
        let long = [vec![b'x'; MAX_LINE - 1], b"\n".to_vec()].concat();
        let too_long = [vec![b'x'; MAX_LINE], b"\r\n".to_vec()].concat();
        let mut i = testio::input(&[b"USER a\r\nNOOP\n", &long, &too_long, b"US\0ER\r\nLAST\r"]);
        let mut out = Vec::new();
        let mut l = Vec::new();
        assert_eq!(command(&mut i, &mut out, &mut l), Ok(true));
        assert_eq!(l, b"USER a");
        assert_eq!(command(&mut i, &mut out, &mut l), Ok(true));
        assert_eq!(l, b"NOOP");
        assert_eq!(command(&mut i, &mut out, &mut l), Ok(true));
        assert_eq!(l.len(), MAX_LINE - 1);
        assert_eq!(command(&mut i, &mut out, &mut l), Ok(false));
        assert_eq!(command(&mut i, &mut out, &mut l), Ok(false));
        assert_eq!(command(&mut i, &mut out, &mut l), Err(Broken::Gone));
        assert_eq!(out, b"-ERR line too long\r\n-ERR syntax error\r\n");
    }

    #[test]
    fn capa_lists() {
        let mut out = Vec::new();
        capa(&mut out, false).unwrap();
        assert_eq!(
            out,
            b"+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nIMPLEMENTATION rqmail\r\n.\r\n"
        );
        out.clear();
        capa(&mut out, true).unwrap();
        assert!(out.ends_with(b"USER\r\nPIPELINING\r\nIMPLEMENTATION rqmail\r\n.\r\n"));
    }

    #[test]
    fn timeout_from_control() {
        let d = std::env::temp_dir().join(format!("qlib-pop3.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("control")).unwrap();
        assert_eq!(timeout(&d).unwrap(), Duration::from_secs(1200));
        std::fs::write(d.join("control/timeoutpop3"), "7\n").unwrap();
        assert_eq!(timeout(&d).unwrap(), Duration::from_secs(7));
        std::fs::write(d.join("control/timeoutpop3"), "0\n").unwrap();
        assert_eq!(timeout(&d).unwrap(), Duration::from_secs(1));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
