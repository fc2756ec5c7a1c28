//! serialsmtp's side of SMTP: greeting, EHLO (HELO if refused), then for each file one
//! transaction — `RSET` before every one but the first, `MAIL FROM`, `RCPT TO`, `DATA`, sent
//! together when the server offers PIPELINING, else one at a time — and the message after
//! its two envelope lines, dot-stuffed with CRLF line ends (`remote::blast`). The result of
//! a file is the code and last line of the reply that decided it.
//!
//! A reply that does not start with three digits, an RSET refused, or a pipelined MAIL or
//! RCPT refused while a later command was accepted, is a protocol violation; so the
//! session, not just the message, ends. So does a message whose last line has no end
//! (SMTP cannot carry it).

use super::Envelope;
use crate::quote;
use crate::remote::blast::Dot;
use crate::remote::reply;
use std::io::{self, BufRead, Read, Write};
use std::time::Duration;

/// The longest a whole reply may take (each read is bounded by the caller's stream).
const REPLY_LIMIT: Duration = Duration::from_secs(3600);

/// Why a session ended early.
#[derive(Debug)]
pub enum Error {
    /// reading from the server (end of file is `UnexpectedEof`)
    Read(io::Error),
    /// writing to the server
    Write(io::Error),
    /// the server broke the protocol
    Proto,
    /// the greeting was not 220
    Greeting,
    /// EHLO and HELO were refused
    Name,
    /// the message's last line has no end
    Partial,
    /// reading the message file
    File(io::Error),
}

/// A server's verdict on one message: the code and the reply's last line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// the reply code
    pub code: u16,
    /// its last line, CRs dropped
    pub line: Vec<u8>,
}

impl Verdict {
    /// `K` below 400, `Z` below 500, else `D`.
    pub fn status(&self) -> u8 {
        match self.code {
            0..=399 => b'K',
            400..=499 => b'Z',
            _ => b'D',
        }
    }
}

/// An SMTP session on a reader and a writer.
pub struct Session<R, W> {
    rd: R,
    wr: W,
    pipelining: bool,
    need_rset: bool,
    /// replies still to come that must be refusals (those after a refused pipelined command)
    owed: usize,
}

impl<R: BufRead, W: Write> Session<R, W> {
    /// Reads the greeting and says hello as `helo`.
    pub fn start(rd: R, wr: W, helo: &[u8]) -> Result<Self, Error> {
        let mut s = Session {
            rd,
            wr,
            pipelining: false,
            need_rset: false,
            owed: 0,
        };
        if s.reply()?.code != 220 {
            s.quit();
            return Err(Error::Greeting);
        }
        s.command(&[b"EHLO ", helo].concat())?;
        let r = s.reply()?;
        if r.code == 250 {
            s.pipelining = r
                .lines
                .iter()
                .any(|l| l.eq_ignore_ascii_case(b"PIPELINING"));
        } else {
            s.command(&[b"HELO ", helo].concat())?;
            if s.reply()?.code != 250 {
                s.quit();
                return Err(Error::Name);
            }
        }
        Ok(s)
    }

    /// Whether the server offered PIPELINING.
    pub fn pipelining(&self) -> bool {
        self.pipelining
    }

    fn reply(&mut self) -> Result<reply::Reply, Error> {
        let r = reply::read(&mut self.rd, REPLY_LIMIT).map_err(Error::Read)?;
        if r.code == 0 {
            return Err(Error::Proto);
        }
        Ok(r)
    }

    fn code(&mut self) -> Result<Verdict, Error> {
        let r = self.reply()?;
        let line = match memchr::memrchr(b'\n', &r.text) {
            Some(i) => r.text[i + 1..].to_vec(),
            None => r.text,
        };
        Ok(Verdict { code: r.code, line })
    }

    fn put(&mut self, b: &[u8]) -> Result<(), Error> {
        self.wr.write_all(b).map_err(Error::Write)
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.wr.flush().map_err(Error::Write)
    }

    fn command(&mut self, c: &[u8]) -> Result<(), Error> {
        self.put(c)?;
        self.put(b"\r\n")?;
        self.flush()
    }

    /// Sends `c`; without pipelining, also flushes and reads its reply.
    fn step(&mut self, c: &[u8]) -> Result<Option<Verdict>, Error> {
        self.put(c)?;
        self.put(b"\r\n")?;
        if self.pipelining {
            return Ok(None);
        }
        self.flush()?;
        self.code().map(Some)
    }

    /// Sends the message in `msg` (positioned after its envelope lines, which are `env`) to
    /// its recipient less `prefix`; `None` if the recipient does not start with `prefix`.
    pub fn send(
        &mut self,
        env: &Envelope,
        prefix: &[u8],
        msg: &mut impl Read,
    ) -> Result<Option<Verdict>, Error> {
        self.settle()?;
        let Some(rcpt) = env.recipient.strip_prefix(prefix) else {
            return Ok(None);
        };
        let rset = std::mem::replace(&mut self.need_rset, true);
        if rset {
            if let Some(v) = self.step(b"RSET")? {
                if v.code >= 400 {
                    return Err(Error::Proto);
                }
            }
        }
        let mail = [b"MAIL FROM:<", &quote::address(&env.sender)[..], b">"].concat();
        if let Some(v) = self.step(&mail)?.filter(|v| v.code >= 400) {
            return Ok(Some(v));
        }
        let rcpt = [b"RCPT TO:<", &quote::address(rcpt)[..], b">"].concat();
        if let Some(v) = self.step(&rcpt)?.filter(|v| v.code >= 400) {
            return Ok(Some(v));
        }
        self.command(b"DATA")?;
        if self.pipelining {
            if rset && self.code()?.code >= 400 {
                return Err(Error::Proto);
            }
            for later in [2, 1] {
                let v = self.code()?;
                if v.code >= 400 {
                    self.owed = later;
                    return Ok(Some(v));
                }
            }
        }
        let v = self.code()?;
        if v.code >= 400 {
            return Ok(Some(v));
        }
        self.blast(msg)?;
        self.code().map(Some)
    }

    /// Reads the replies owed after a pipelined command was refused (to be called once its
    /// verdict is reported): each must be a refusal too, else [`Error::Proto`].
    pub fn settle(&mut self) -> Result<(), Error> {
        while self.owed > 0 {
            self.owed -= 1;
            if self.code()?.code < 400 {
                return Err(Error::Proto);
            }
        }
        Ok(())
    }

    fn blast(&mut self, msg: &mut impl Read) -> Result<(), Error> {
        let (mut buf, mut out, mut dot) = (vec![0u8; 16384], Vec::new(), Dot::default());
        loop {
            let n = match msg.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::File(e)),
            };
            out.clear();
            dot.feed(&buf[..n], &mut out);
            self.put(&out)?;
        }
        out.clear();
        let ended = dot.finish(&mut out);
        self.put(&out)?;
        if ended.is_err() {
            return Err(Error::Partial);
        }
        self.flush()
    }

    /// Says QUIT without waiting for the reply (errors ignored: the session is over).
    pub fn quit(&mut self) {
        let _ = self.command(b"QUIT");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(sender: &[u8], rcpt: &[u8]) -> Envelope {
        Envelope {
            sender: sender.to_vec(),
            recipient: rcpt.to_vec(),
            head_len: 0,
        }
    }

    /// Runs a session against `server` sending `msgs`: the verdicts' status and line, or
    /// the error, and what the client wrote.
    fn session(server: &str, msgs: &[(&[u8], &[u8], &[u8])]) -> (Vec<String>, String) {
        let mut wr = Vec::new();
        let mut got = Vec::new();
        match Session::start(server.as_bytes(), &mut wr, b"Host") {
            Err(e) => got.push(format!("{e:?}")),
            Ok(mut s) => {
                for (sender, rcpt, body) in msgs {
                    match s.send(&env(sender, rcpt), b"Account-", &mut &body[..]) {
                        Ok(Some(v)) => {
                            got.push(format!(
                                "{}{}",
                                v.status() as char,
                                String::from_utf8_lossy(&v.line)
                            ));
                            if let Err(e) = s.settle() {
                                got.push(format!("{e:?}"));
                                break;
                            }
                        }
                        Ok(None) => got.push("skipped".into()),
                        Err(e) => {
                            got.push(format!("{e:?}"));
                            break;
                        }
                    }
                }
                s.quit();
            }
        }
        (got, String::from_utf8_lossy(&wr).replace("\r\n", "|"))
    }

    const ONE: (&[u8], &[u8], &[u8]) = (b"Sender", b"Account-Whatever", b"This is a test.\n");

    #[test]
    fn pipelined_transactions() {
        let srv = "220 Hi\n250-Silly\n250 PipeLining\n250 ok\n250 ok\n354 go ahead\n250 thanks\n\
            250 ok\n250 ok\n250 ok\n354 go\n451 later\n";
        let two = (&b""[..], &b"Account-You@Virt.Dom"[..], &b".dot\n"[..]);
        let (got, wrote) = session(srv, &[ONE, two]);
        assert_eq!(got, ["K250 thanks", "Z451 later"]);
        assert_eq!(
            wrote,
            "EHLO Host|MAIL FROM:<Sender>|RCPT TO:<Whatever>|DATA|This is a test.|.|\
RSET|MAIL FROM:<>|RCPT TO:<You@Virt.Dom>|DATA|..dot|.|QUIT|"
        );
    }

    #[test]
    fn refusals_and_violations() {
        let pipe = "220 Hi\n250-x\n250 PIPELINING\n";
        let s = |rest: &str| session(&format!("{pipe}{rest}"), &[ONE]).0;
        assert_eq!(s("451 bad MAIL\n503 a\n503 b\n"), ["Z451 bad MAIL"]);
        assert_eq!(s("451 bad MAIL\n250 ok\n"), ["Z451 bad MAIL", "Proto"]);
        assert_eq!(
            s("451 bad MAIL\n503 a\n354 go\n"),
            ["Z451 bad MAIL", "Proto"]
        );
        assert_eq!(s("250 ok\n551 bad RCPT\n503 a\n"), ["D551 bad RCPT"]);
        assert_eq!(
            s("250 ok\n551 bad RCPT\n354 go\n"),
            ["D551 bad RCPT", "Proto"]
        );
        assert_eq!(s("250 ok\n250 ok\n554 no\n"), ["D554 no"]);
        assert!(s("250 ok\n").first().unwrap().starts_with("Read("));
        let partial = (&b"a"[..], &b"Account-b"[..], &b"x\nno end"[..]);
        let (got, _) = session(&format!("{pipe}250 ok\n250 ok\n354 go\n"), &[partial]);
        assert_eq!(got, ["Partial"]);
        let (got, _) = session(pipe, &[(b"a", b"Other-b", b"x\n")]);
        assert_eq!(got, ["skipped"]);
    }

    #[test]
    fn one_at_a_time_without_pipelining() {
        let srv = "220-a\n220 b\n502 no\n250 hi\n550 no MAIL\n250 reset\n250 ok\n250 ok\n354 go\n\
            250-yes\n250 done\n";
        let (got, wrote) = session(srv, &[ONE, ONE]);
        assert_eq!(got, ["D550 no MAIL", "K250 done"]);
        assert!(wrote.starts_with("EHLO Host|HELO Host|MAIL FROM:<Sender>|RSET|MAIL"));
        let (got, wrote) = session("554 go away\n", &[ONE]);
        assert_eq!((got, wrote), (vec!["Greeting".to_string()], "QUIT|".into()));
        let (got, _) = session("220 hi\n500 no\n501 no\n", &[ONE]);
        assert_eq!(got, ["Name"]);
        let (got, _) = session("220 hi\n250 ok\n451 x\n554 no\n", &[ONE, ONE]);
        assert_eq!(got, ["Z451 x", "Proto"]);
        let (got, _) = session("hello\n", &[ONE]);
        assert_eq!(got, ["Proto"]);
    }
}
