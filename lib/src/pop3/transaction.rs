//! qmail-pop3d's conversation (qmail-pop3d.c): the TRANSACTION state over the messages
//! [`mailbox::scan`] listed, then at QUIT the UPDATE state. Nothing changes on disk before
//! QUIT: a client that leaves, stalls past the timeout, or cannot be written to deletes
//! nothing.
//!
//! Replies are exactly qmail's. `STAT` counts deleted messages in the number but not in
//! the size; `RETR` is `TOP` (so `RETR i n` acts as `TOP i n`); `LAST` is the highest
//! message number deleted so far; anything else (USER, PASS, APOP too) is
//! `-ERR unimplemented`. Beyond qmail: `CAPA` (see [`super`]), and replies are written when
//! the server is about to wait for the client rather than after each one, so that a
//! pipelined batch is answered in few writes.

use super::blast::blast;
use super::mailbox::{self, Message};
use super::{command, err, ok, put, split};
use crate::smtpd::input::{Broken, Input, Wire};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// How the conversation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// QUIT: the update was made and answered
    Quit,
    /// the client left or was silent too long, a reply could not be written, or a message
    /// could not be read in the middle of sending it
    Broken(Broken),
}

/// One session over the Maildir `dir`.
pub struct Session<R, W> {
    input: Input<R>,
    out: W,
    dir: PathBuf,
    msgs: Vec<Message>,
    last: usize,
}

impl<R: Wire, W: Write> Session<R, W> {
    /// A session over `msgs` (from [`mailbox::scan`] of `dir`), the greeting not yet sent.
    pub fn new(input: Input<R>, out: W, dir: PathBuf, msgs: Vec<Message>) -> Self {
        Session {
            input,
            out,
            dir,
            msgs,
            last: 0,
        }
    }

    /// Sends the greeting and answers commands until QUIT or the end. The output is
    /// flushed at the end (replies to the commands a client sent before shutting down its
    /// side still go out) unless writing failed: then it holds what could not be written
    /// (see [`Self::into_output`]).
    pub fn run(&mut self) -> End {
        let end = match ok(&mut self.out).and_then(|()| self.commands()) {
            Ok(()) => End::Quit,
            Err(b) => End::Broken(b),
        };
        if end == End::Broken(Broken::Write) || self.out.flush().is_ok() {
            return end;
        }
        End::Broken(Broken::Write)
    }

    /// The writer, with whatever the session left unwritten.
    pub fn into_output(self) -> W {
        self.out
    }

    fn commands(&mut self) -> Result<(), Broken> {
        let mut line = Vec::new();
        loop {
            if !command(&mut self.input, &mut self.out, &mut line)? {
                continue;
            }
            let (verb, arg) = split(&line);
            match verb.to_ascii_lowercase().as_slice() {
                b"quit" => return self.quit(),
                b"stat" => self.stat()?,
                b"list" => self.listing(arg, false)?,
                b"uidl" => self.listing(arg, true)?,
                b"dele" => self.dele(arg)?,
                b"retr" | b"top" => self.top(arg)?,
                b"rset" => {
                    self.msgs.iter_mut().for_each(|m| m.deleted = false);
                    self.last = 0;
                    ok(&mut self.out)?;
                }
                b"last" => put(&mut self.out, format!("+OK {}\r\n", self.last).as_bytes())?,
                b"noop" => ok(&mut self.out)?,
                b"capa" => super::capa(&mut self.out, true)?,
                _ => err(&mut self.out, "unimplemented")?,
            }
        }
    }

    /// The index of the undeleted message `arg` names, or the error reply sent.
    fn msgno(&mut self, arg: &[u8]) -> Result<Option<usize>, Broken> {
        let (n, len) = crate::scan::ulong(arg);
        let text = if len == 0 {
            "syntax error"
        } else if n == 0 {
            "messages are counted from 1"
        } else if n > self.msgs.len() as u64 {
            "not that many messages"
        } else if self.msgs[n as usize - 1].deleted {
            "already deleted"
        } else {
            return Ok(Some(n as usize - 1));
        };
        err(&mut self.out, text)?;
        Ok(None)
    }

    fn stat(&mut self) -> Result<(), Broken> {
        let total: u64 = self
            .msgs
            .iter()
            .filter(|m| !m.deleted)
            .map(|m| m.size)
            .sum();
        let r = format!("+OK {} {total}\r\n", self.msgs.len());
        put(&mut self.out, r.as_bytes())
    }

    fn entry(&self, i: usize, uidl: bool) -> Vec<u8> {
        let m = &self.msgs[i];
        let second = match uidl {
            true => mailbox::uidl(&m.path),
            false => m.size.to_string().into_bytes(),
        };
        [format!("{} ", i + 1).as_bytes(), &second, b"\r\n"].concat()
    }

    fn listing(&mut self, arg: &[u8], uidl: bool) -> Result<(), Broken> {
        if !arg.is_empty() {
            if let Some(i) = self.msgno(arg)? {
                let e = self.entry(i, uidl);
                put(&mut self.out, &[b"+OK ", &e[..]].concat())?;
            }
            return Ok(());
        }
        ok(&mut self.out)?;
        for i in 0..self.msgs.len() {
            if !self.msgs[i].deleted {
                let e = self.entry(i, uidl);
                put(&mut self.out, &e)?;
            }
        }
        put(&mut self.out, b".\r\n")
    }

    fn dele(&mut self, arg: &[u8]) -> Result<(), Broken> {
        if let Some(i) = self.msgno(arg)? {
            self.msgs[i].deleted = true;
            self.last = self.last.max(i + 1);
            ok(&mut self.out)?;
        }
        Ok(())
    }

    fn top(&mut self, arg: &[u8]) -> Result<(), Broken> {
        let Some(i) = self.msgno(arg)? else {
            return Ok(());
        };
        let rest = &arg[crate::scan::ulong(arg).1..];
        let rest = &rest[rest.iter().take_while(|&&c| c == b' ').count()..];
        let limit = match crate::scan::ulong(rest) {
            (_, 0) => None,
            (n, _) => Some(n),
        };
        // O_NONBLOCK: a FIFO put in place of the file since the scan cannot hang the session
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(crate::sys::fs::O_NONBLOCK)
            .open(self.msgs[i].file(&self.dir));
        let Ok(mut file) = file else {
            return err(&mut self.out, "unable to open that message");
        };
        ok(&mut self.out)?;
        blast(&mut file, &mut self.out, limit).map_err(|_| Broken::Write)
    }

    fn quit(&mut self) -> Result<(), Broken> {
        for _ in 0..mailbox::update(&self.dir, &self.msgs) {
            err(&mut self.out, "unable to unlink all deleted messages")?;
        }
        ok(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testio::{input, Pieces};
    use super::*;
    use std::fs;
    use std::path::Path;

    fn maildir(tag: &str) -> PathBuf {
        let d = crate::maildir::scratch(&format!("pop3s.{tag}"));
        fs::write(d.join("new/1.a"), "Subject: one\n\nbody 1\n.dot\n").unwrap();
        fs::write(
            d.join("new/2.b"),
            "Subject: two\n\nline 1\nline 2\nline 3\n",
        )
        .unwrap();
        fs::write(d.join("cur/3.c:2,S"), "no newline").unwrap();
        d
    }

    fn msgs() -> Vec<Message> {
        [("new/1.a", 26), ("new/2.b", 35), ("cur/3.c:2,S", 10)]
            .iter()
            .map(|(p, s)| Message {
                path: p.as_bytes().to_vec(),
                size: *s,
                deleted: false,
            })
            .collect()
    }

    fn session(d: &Path, parts: &[&[u8]]) -> (End, String) {
        let mut s: Session<Pieces, Vec<u8>> =
            Session::new(input(parts), Vec::new(), d.to_path_buf(), msgs());
        let end = s.run();
        (end, String::from_utf8_lossy(&s.into_output()).into_owned())
    }

    #[test]
    fn listings_and_numbers() {
        let d = maildir("list");
        let (end, out) = session(
            &d,
            &[b"STAT\r\nLIST\r\nlist 2\r\nUIDL\r\nUIDL 3\r\nLIST x\r\nLIST 0\r\nLIST 4\r\n",
              b"LIST 99999999999999999999999\r\nDELE 2\r\nDELE 2\r\nLIST 2\r\nSTAT\r\nLIST\r\nLAST\r\n",
              b"DELE 1\r\nLAST\r\nRSET\r\nLAST\r\nSTAT\r\nUSER x\r\nNOOP\r\n"],
        );
        assert_eq!(end, End::Broken(Broken::Gone));
        assert_eq!(
            out,
            "+OK \r\n+OK 3 71\r\n+OK \r\n1 26\r\n2 35\r\n3 10\r\n.\r\n+OK 2 35\r\n\
             +OK \r\n1 1.a\r\n2 2.b\r\n3 3.c\r\n.\r\n+OK 3 3.c\r\n-ERR syntax error\r\n\
             -ERR messages are counted from 1\r\n-ERR not that many messages\r\n\
             -ERR not that many messages\r\n+OK \r\n-ERR already deleted\r\n\
             -ERR already deleted\r\n+OK 3 36\r\n+OK \r\n1 26\r\n3 10\r\n.\r\n+OK 2\r\n\
             +OK \r\n+OK 2\r\n+OK \r\n+OK 0\r\n+OK 3 71\r\n-ERR unimplemented\r\n+OK \r\n"
        );
        // nothing changed on disk without QUIT
        assert!(d.join("new/2.b").exists() && d.join("new/1.a").exists());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn retr_top_and_quit() {
        let d = maildir("retr");
        let (end, out) = session(
            &d,
            &[b"RETR 1\r\nTOP 2 1\r\nTOP 2 0\r\nRETR 3\r\nTOP 1\r\nretr 2 2\r\nDELE 1\r\nRETR 1\r\n",
              b"CAPA\r\nQUIT\r\nNOOP\r\n"],
        );
        assert_eq!(end, End::Quit);
        assert_eq!(
            out,
            "+OK \r\n+OK \r\nSubject: one\r\n\r\nbody 1\r\n..dot\r\n\r\n.\r\n\
             +OK \r\nSubject: two\r\n\r\nline 1\r\n\r\n.\r\n\
             +OK \r\nSubject: two\r\n\r\n\r\n.\r\n\
             +OK \r\nno newline\r\n\r\n.\r\n\
             +OK \r\nSubject: one\r\n\r\nbody 1\r\n..dot\r\n\r\n.\r\n\
             +OK \r\nSubject: two\r\n\r\nline 1\r\nline 2\r\n\r\n.\r\n\
             +OK \r\n-ERR already deleted\r\n\
             +OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\n\
             IMPLEMENTATION rqmail\r\n.\r\n+OK \r\n"
        );
        assert!(!d.join("new/1.a").exists());
        assert!(d.join("cur/2.b:2,").exists() && d.join("cur/3.c:2,S").exists());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn vanished_files() {
        let d = maildir("gone");
        fs::remove_file(d.join("new/2.b")).unwrap();
        let (end, out) = session(&d, &[b"RETR 2\r\nDELE 2\r\nQUIT\r\n"]);
        assert_eq!(end, End::Quit);
        assert_eq!(
            out,
            "+OK \r\n-ERR unable to open that message\r\n+OK \r\n\
             -ERR unable to unlink all deleted messages\r\n+OK \r\n"
        );
        fs::remove_dir_all(&d).unwrap();
    }
}
