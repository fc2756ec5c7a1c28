//! One SMTP conversation (qmail-smtpd.c's commands and their replies), from the greeting to
//! QUIT or the client's disappearance. The queue is reached through [`Job`], so the whole
//! dialogue can be tested without running qmail-queue.

use super::addr::{self, LocalIp};
use super::data::{Blast, Step};
use super::input::{Broken, Input, Line, Wire};
use crate::control::Map;
use crate::qmail::{Queue, Refused};
use crate::rcpthosts::RcptHosts;
use crate::received::{self, Peer};
use std::io::{self, Write};

/// The longest command line accepted, without its CR LF (qmail had no bound).
pub const LINE_MAX: usize = 4096;
/// A message with this many `Received`/`Delivered` header lines is looping.
pub const MAX_HOPS: u32 = 100;
/// Recipients accepted in one transaction (qmail had no bound).
pub const MAX_RCPTS: usize = 10_000;
/// The read buffer; DATA passes through it in pieces of this size.
pub const INPUT_BUF: usize = 65536;

/// A recipient check (`RCPTCHECK`): its exit code for one address, `None` if it could not
/// be run or was killed. 0 accepts, 100 refuses, anything else defers.
pub type RcptCheck = Box<dyn FnMut(&[u8]) -> Option<u8>>;

/// Everything the conversation depends on, read once at the start.
pub struct Config {
    /// `smtpgreeting`, else `me`
    pub greeting: Vec<u8>,
    /// `localiphost` (else `me`) with this host's addresses; `None`: the feature is off
    pub liphost: Option<LocalIp>,
    /// relay control
    pub rcpthosts: RcptHosts,
    /// `badmailfrom`, if the file exists
    pub badmailfrom: Option<Map>,
    /// the size limit in stored bytes; 0: none
    pub databytes: u64,
    /// `RELAYCLIENT`, if set: relay for anyone, and append it to every recipient
    pub relayclient: Option<Vec<u8>>,
    /// the connection, for the Received line
    pub peer: Peer,
    /// asked about each recipient that may be accepted; `None`: every one is
    pub rcptcheck: Option<RcptCheck>,
}

/// One run of the queue, as DATA uses it.
pub trait Job {
    /// the queue program's pid, for the `qp` in the reply
    fn pid(&self) -> u32;
    /// message bytes
    fn put(&mut self, b: &[u8]);
    /// the envelope sender
    fn from(&mut self, sender: &[u8]);
    /// one envelope recipient
    fn to(&mut self, recip: &[u8]);
    /// make sure nothing is queued
    fn abort(&mut self);
    /// finish and wait for the verdict
    fn close(self: Box<Self>) -> Result<(), Refused>;
}

impl Job for Queue {
    fn pid(&self) -> u32 {
        Queue::pid(self)
    }
    fn put(&mut self, b: &[u8]) {
        Queue::put(self, b);
    }
    fn from(&mut self, sender: &[u8]) {
        Queue::from(self, sender);
    }
    fn to(&mut self, recip: &[u8]) {
        Queue::to(self, recip);
    }
    fn abort(&mut self) {
        Queue::abort(self);
    }
    fn close(self: Box<Self>) -> Result<(), Refused> {
        Queue::close(*self)
    }
}

/// Starts a queue run.
pub type Opener<'a> = &'a mut dyn FnMut() -> io::Result<Box<dyn Job>>;

/// How a conversation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// QUIT was answered
    Quit,
    /// the client went away (or a read failed)
    Gone,
    /// a reply could not be written
    Write,
    /// the client was silent too long; `451 timeout` was sent
    Timeout,
    /// a bare LF in DATA; the refusal was sent
    BareLf,
    /// a control file could not be read mid-session; `421` was sent
    Controls,
    /// this host's addresses could not be listed (for `localiphost`); `421` was sent
    Ips,
}

impl From<Broken> for End {
    fn from(b: Broken) -> End {
        match b {
            Broken::ReadTimeout => End::Timeout,
            Broken::Gone => End::Gone,
            Broken::Write => End::Write,
        }
    }
}

/// The conversation's state.
pub struct Session<'a, R, W: Write> {
    cfg: Config,
    input: Input<R>,
    out: W,
    queue: Opener<'a>,
    now: fn() -> i64,
    /// the HELO/EHLO argument, once given
    helo: Option<Vec<u8>>,
    /// the sender, between MAIL and DATA (qmail's seenmail)
    mail: Option<Vec<u8>>,
    /// whether that sender is in badmailfrom
    barf: bool,
    rcpts: Vec<Vec<u8>>,
}

fn put(out: &mut impl Write, parts: &[&[u8]]) -> Result<(), End> {
    for p in parts {
        out.write_all(p).map_err(|_| End::Write)?;
    }
    Ok(())
}

impl<'a, R: Wire, W: Write> Session<'a, R, W> {
    /// A conversation reading `input`, replying on `out` (flushed only before waiting for
    /// input, and at the end), queueing through `queue`, with the clock `now`.
    pub fn new(cfg: Config, input: R, out: W, queue: Opener<'a>, now: fn() -> i64) -> Self {
        Session {
            cfg,
            input: Input::new(input, INPUT_BUF),
            out,
            queue,
            now,
            helo: None,
            mail: None,
            barf: false,
            rcpts: Vec::new(),
        }
    }

    /// Greets and answers commands until the end, which it returns.
    pub fn run(mut self) -> End {
        let mut line = Vec::new();
        let mut r = put(&mut self.out, &[b"220 ", &self.cfg.greeting, b" ESMTP\r\n"]);
        while r.is_ok() {
            r = self.command(&mut line);
        }
        let end = r.err().unwrap_or(End::Gone);
        let last: &[&[u8]] = match end {
            End::Quit => &[b"221 ", &self.cfg.greeting, b"\r\n"],
            End::Timeout => &[b"451 timeout (#4.4.2)\r\n"],
            End::BareLf => &[b"451 See https://cr.yp.to/docs/smtplf.html.\r\n"],
            End::Controls => &[b"421 unable to read controls (#4.3.0)\r\n"],
            End::Ips => &[b"421 unable to figure out my IP addresses (#4.3.0)\r\n"],
            End::Gone | End::Write => &[],
        };
        if end != End::Write && put(&mut self.out, last).is_ok() {
            let _ = self.out.flush();
        }
        end
    }

    fn reply(&mut self, text: &[u8]) -> Result<(), End> {
        put(&mut self.out, &[text])
    }

    fn command(&mut self, line: &mut Vec<u8>) -> Result<(), End> {
        let got = self.input.command(&mut self.out, LINE_MAX + 1, line)?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if got == Line::TooLong || line.len() > LINE_MAX {
            return self.reply(b"500 line too long (#5.5.2)\r\n");
        }
        let sp = memchr::memchr(b' ', line).unwrap_or(line.len());
        let (verb, mut arg) = line.split_at(sp);
        while let [b' ', rest @ ..] = arg {
            arg = rest;
        }
        match verb.to_ascii_lowercase().as_slice() {
            b"helo" => {
                put(&mut self.out, &[b"250 ", &self.cfg.greeting, b"\r\n"])?;
                self.hello(arg);
                Ok(())
            }
            b"ehlo" => {
                let size = match self.cfg.databytes {
                    0 => "250 SIZE\r\n".to_string(),
                    n => format!("250 SIZE {n}\r\n"),
                };
                put(
                    &mut self.out,
                    &[
                        b"250-",
                        &self.cfg.greeting,
                        b"\r\n250-PIPELINING\r\n250-8BITMIME\r\n",
                        size.as_bytes(),
                    ],
                )?;
                self.hello(arg);
                Ok(())
            }
            b"mail" => self.mail(arg),
            b"rcpt" => self.rcpt(arg),
            b"data" => self.data(),
            b"rset" => {
                self.mail = None;
                self.reply(b"250 flushed\r\n")
            }
            b"noop" => self.reply(b"250 ok\r\n"),
            b"vrfy" => self.reply(b"252 send some mail, i'll try my best\r\n"),
            b"help" => self.reply(b"214 notqmail home page: https://notqmail.org\r\n"),
            b"quit" => Err(End::Quit),
            _ => self.reply(b"502 unimplemented (#5.5.1)\r\n"),
        }
    }

    fn hello(&mut self, arg: &[u8]) {
        self.mail = None;
        self.helo = Some(arg.to_vec());
    }

    /// [`addr::parse`], listing this host's addresses first when the argument has a `[`
    /// (an address literal that `localiphost` may rewrite); qmail listed them at startup.
    fn parse<'x>(&self, arg: &'x [u8]) -> Result<Option<addr::Parsed<'x>>, End> {
        if let Some(l) = self.cfg.liphost.as_ref().filter(|_| arg.contains(&b'[')) {
            l.load().map_err(|_| End::Ips)?;
        }
        Ok(addr::parse(arg, self.cfg.liphost.as_ref()))
    }

    fn mail(&mut self, arg: &[u8]) -> Result<(), End> {
        let Some((sender, params)) = self.parse(arg)? else {
            return self.reply(b"555 syntax error (#5.5.4)\r\n");
        };
        let limit = self.cfg.databytes;
        if limit > 0 && addr::size_param(params).is_some_and(|n| n > limit) {
            return self
                .reply(b"552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n");
        }
        self.barf =
            (self.cfg.badmailfrom.as_ref()).is_some_and(|m| addr::bad_mail_from(m, &sender));
        self.mail = Some(sender);
        self.rcpts.clear();
        self.reply(b"250 ok\r\n")
    }

    fn rcpt(&mut self, arg: &[u8]) -> Result<(), End> {
        if self.mail.is_none() {
            return self.reply(b"503 MAIL first (#5.5.1)\r\n");
        }
        let Some((mut recip, _)) = self.parse(arg)? else {
            return self.reply(b"555 syntax error (#5.5.4)\r\n");
        };
        if self.barf {
            return self
                .reply(b"553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n");
        }
        if let Some(rc) = &self.cfg.relayclient {
            recip.extend_from_slice(rc);
        } else if !self
            .cfg
            .rcpthosts
            .allows(&recip)
            .map_err(|_| End::Controls)?
        {
            return self.reply(
                b"553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n",
            );
        }
        if self.rcpts.len() >= MAX_RCPTS {
            return self.reply(b"452 sorry, too many recipients (#4.5.3)\r\n");
        }
        match self.cfg.rcptcheck.as_mut().map(|check| check(&recip)) {
            None | Some(Some(0)) => {}
            Some(Some(100)) => {
                return self.reply(b"550 sorry, no mailbox here by that name (#5.1.1)\r\n")
            }
            Some(_) => {
                return self.reply(b"451 temporary failure checking the recipient (#4.3.0)\r\n")
            }
        }
        self.rcpts.push(recip);
        self.reply(b"250 ok\r\n")
    }

    fn data(&mut self) -> Result<(), End> {
        if self.mail.is_none() {
            return self.reply(b"503 MAIL first (#5.5.1)\r\n");
        }
        if self.rcpts.is_empty() {
            return self.reply(b"503 RCPT first (#5.5.1)\r\n");
        }
        let sender = self.mail.take().unwrap_or_default();
        let rcpts = std::mem::take(&mut self.rcpts);
        let Ok(mut job) = (self.queue)() else {
            return self.reply(b"451 qqt failure (#4.3.0)\r\n");
        };
        let qp = job.pid();
        let received = received::line("SMTP", &self.cfg.peer, self.helo.as_deref(), (self.now)());
        job.put(&received);
        let mut blast = Blast::new(self.cfg.databytes);
        let got = self
            .reply(b"354 go ahead\r\n")
            .and_then(|()| self.blast(&mut blast, &mut *job));
        if let Err(end) = got {
            job.abort();
            let _ = job.close();
            return Err(end);
        }
        let looping = blast.hops() >= MAX_HOPS;
        if looping {
            job.abort();
        }
        job.from(&sender);
        for r in &rcpts {
            job.to(r);
        }
        match job.close() {
            Ok(()) => {
                let t = format!("250 ok {} qp {qp}\r\n", (self.now)());
                self.reply(t.as_bytes())
            }
            Err(_) if looping => {
                self.reply(b"554 too many hops, this message is looping (#5.4.6)\r\n")
            }
            Err(_) if blast.overflowed() => {
                self.reply(b"552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n")
            }
            Err(Refused { perm, text }) => {
                let code: &[u8] = if perm { b"554 " } else { b"451 " };
                let text: Vec<u8> = text
                    .bytes()
                    .map(|c| if c < b' ' { b'?' } else { c })
                    .collect();
                put(&mut self.out, &[code, &text, b"\r\n"])
            }
        }
    }

    /// Streams the message from the client into `job` up to the final dot.
    fn blast(&mut self, blast: &mut Blast, job: &mut dyn Job) -> Result<(), End> {
        let mut stored = Vec::new();
        loop {
            self.input.fill(&mut self.out)?;
            let (n, step) = blast.feed(self.input.chunk(), &mut stored);
            self.input.consume(n);
            if blast.overflowed() {
                job.abort();
            } else {
                job.put(&stored);
            }
            stored.clear();
            match step {
                Step::More => {}
                Step::End => return Ok(()),
                Step::BareLf => return Err(End::BareLf),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::io::Read;
    use std::rc::Rc;

    struct Client(io::Cursor<Vec<u8>>);
    impl Read for Client {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.0.read(b)
        }
    }
    impl Wire for Client {
        fn ready(&self) -> bool {
            true
        }
    }

    /// What the fake queue saw: message, envelope, aborted.
    #[derive(Default, Debug)]
    struct Seen {
        mess: Vec<u8>,
        env: Vec<u8>,
        aborted: bool,
        closed: u32,
    }

    struct Fake(Rc<RefCell<Seen>>, Result<(), Refused>);
    impl Job for Fake {
        fn pid(&self) -> u32 {
            77
        }
        fn put(&mut self, b: &[u8]) {
            self.0.borrow_mut().mess.extend_from_slice(b);
        }
        fn from(&mut self, s: &[u8]) {
            self.0.borrow_mut().env.extend([b"F", s, b"\0"].concat());
        }
        fn to(&mut self, r: &[u8]) {
            self.0.borrow_mut().env.extend([b"T", r, b"\0"].concat());
        }
        fn abort(&mut self) {
            self.0.borrow_mut().aborted = true;
        }
        fn close(self: Box<Self>) -> Result<(), Refused> {
            let mut s = self.0.borrow_mut();
            s.closed += 1;
            if s.aborted {
                return Err(Refused {
                    perm: false,
                    text: "qq read error (#4.3.0)".into(),
                });
            }
            self.1.clone()
        }
    }

    fn config(databytes: u64) -> Config {
        let dir = std::env::temp_dir().join(format!("qlib-smtpd-{}", std::process::id()));
        Config {
            greeting: b"mx.example ready".to_vec(),
            liphost: None,
            rcpthosts: RcptHosts::open(&dir).unwrap(),
            badmailfrom: Some(Map::new(&[b"@spam.example".to_vec()], false)),
            databytes,
            relayclient: None,
            peer: Peer {
                ip: b"192.0.2.9".to_vec(),
                host: b"client.example".to_vec(),
                info: None,
                local: b"mx.example".to_vec(),
            },
            rcptcheck: None,
        }
    }

    fn talk(cfg: Config, input: &[u8], verdict: Result<(), Refused>) -> (String, End, Seen) {
        let seen = Rc::new(RefCell::new(Seen::default()));
        let s2 = seen.clone();
        let mut open =
            move || -> io::Result<Box<dyn Job>> { Ok(Box::new(Fake(s2.clone(), verdict.clone()))) };
        let mut out = Vec::new();
        let end = Session::new(
            cfg,
            Client(io::Cursor::new(input.to_vec())),
            &mut out,
            &mut open,
            || 1000,
        )
        .run();
        let s = std::mem::take(&mut *seen.borrow_mut());
        (String::from_utf8_lossy(&out).into_owned(), end, s)
    }

    const GREET: &str = "220 mx.example ready ESMTP\r\n";

    #[test]
    fn a_whole_transaction() {
        let (out, end, seen) = talk(
            config(0),
            b"EHLO pc\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: hi\r\n\r\n..x\r\n.\r\nQUIT\r\n",
            Ok(()),
        );
        assert_eq!(
            out,
            format!("{GREET}250-mx.example ready\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n250 ok 1000 qp 77\r\n221 mx.example ready\r\n")
        );
        assert_eq!(end, End::Quit);
        assert_eq!(
            String::from_utf8_lossy(&seen.mess),
            "Received: from client.example (HELO pc) (192.0.2.9)\n  by mx.example with SMTP; 1 Jan 1970 00:16:40 -0000\nSubject: hi\n\n.x\n"
        );
        assert_eq!(seen.env, b"Fa@b\0Tc@d\0Tc@d\0");
        assert!(!seen.aborted);
    }

    #[test]
    fn order_and_unknown_commands() {
        let (out, end, seen) = talk(
            config(0),
            b"RCPT TO:<a@b>\r\nDATA\r\nMAIL <x@y>\r\nDATA\r\nRSET\r\nRCPT TO:<a@b>\r\nEXPN x\r\n\r\nvrfy x\r\nnoop\r\nhelp\r\n",
            Ok(()),
        );
        assert_eq!(
            out,
            format!("{GREET}503 MAIL first (#5.5.1)\r\n503 MAIL first (#5.5.1)\r\n250 ok\r\n503 RCPT first (#5.5.1)\r\n250 flushed\r\n503 MAIL first (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n502 unimplemented (#5.5.1)\r\n252 send some mail, i'll try my best\r\n250 ok\r\n214 notqmail home page: https://notqmail.org\r\n")
        );
        assert_eq!((end, seen.closed), (End::Gone, 0));
    }

    #[test]
    fn badmailfrom_relay_and_syntax() {
        let mut cfg = config(0);
        cfg.relayclient = Some(b"@fixme".to_vec());
        let (out, _, seen) = talk(
            cfg,
            b"MAIL FROM:<x@SPAM.example>\r\nRCPT TO:<a@b>\r\nMAIL FROM:<ok@b>\r\nRCPT TO:<a\0b>\r\nRCPT TO:<a@b>\r\nDATA\r\nx\r\n.\r\n",
            Ok(()),
        );
        assert_eq!(
            out,
            format!("{GREET}250 ok\r\n553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n250 ok\r\n555 syntax error (#5.5.4)\r\n250 ok\r\n354 go ahead\r\n250 ok 1000 qp 77\r\n")
        );
        assert_eq!(seen.env, b"Fok@b\0Ta@b@fixme\0");
    }

    #[test]
    fn rcptcheck_verdicts_in_order() {
        let mut cfg = config(0);
        cfg.relayclient = Some(b"".to_vec());
        let asked = Rc::new(RefCell::new(Vec::new()));
        let a2 = asked.clone();
        cfg.rcptcheck = Some(Box::new(move |r: &[u8]| {
            a2.borrow_mut()
                .push(String::from_utf8_lossy(r).into_owned());
            match r {
                b"no@x" => Some(100),
                b"later@x" => Some(111),
                b"crash@x" => None,
                _ => Some(0),
            }
        }));
        let (out, _, seen) = talk(
            cfg,
            b"MAIL FROM:<a@b>\r\nRCPT TO:<no@x>\r\nRCPT TO:<ok@x>\r\nRCPT TO:<later@x>\r\nRCPT TO:<crash@x>\r\nDATA\r\n.\r\n",
            Ok(()),
        );
        assert_eq!(
            out,
            format!("{GREET}250 ok\r\n550 sorry, no mailbox here by that name (#5.1.1)\r\n250 ok\r\n451 temporary failure checking the recipient (#4.3.0)\r\n451 temporary failure checking the recipient (#4.3.0)\r\n354 go ahead\r\n250 ok 1000 qp 77\r\n")
        );
        assert_eq!(seen.env, b"Fa@b\0Tok@x\0");
        assert_eq!(*asked.borrow(), ["no@x", "ok@x", "later@x", "crash@x"]);
    }

    #[test]
    fn size_is_advertised_and_enforced() {
        let (out, _, _) = talk(
            config(10),
            b"EHLO x\r\nMAIL FROM:<a@b> SIZE=11\r\nRCPT TO:<c@d>\r\nMAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<c@d>\r\nDATA\r\n0123456789\r\n.\r\n",
            Ok(()),
        );
        assert_eq!(
            out,
            format!("{GREET}250-mx.example ready\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10\r\n552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n503 MAIL first (#5.5.1)\r\n250 ok\r\n250 ok\r\n354 go ahead\r\n552 sorry, that message size exceeds my databytes limit (#5.3.4)\r\n")
        );
    }

    #[test]
    fn data_failures() {
        let tx = b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n";
        let (out, end, seen) = talk(config(0), &[&tx[..], b"a\nb\r\n.\r\n"].concat(), Ok(()));
        assert!(out.ends_with("354 go ahead\r\n451 See https://cr.yp.to/docs/smtplf.html.\r\n"));
        assert_eq!((end, seen.aborted, seen.closed), (End::BareLf, true, 1));
        let (out, end, seen) = talk(config(0), &[&tx[..], b"abc"].concat(), Ok(()));
        assert!(out.ends_with("354 go ahead\r\n"));
        assert_eq!((end, seen.aborted, seen.closed), (End::Gone, true, 1));
        let hops = "Received: x\r\n".repeat(100);
        let (out, _, _) = talk(
            config(0),
            &[&tx[..], hops.as_bytes(), b".\r\n"].concat(),
            Ok(()),
        );
        assert!(out.ends_with("554 too many hops, this message is looping (#5.4.6)\r\n"));
        let hops = "Received: x\r\n".repeat(99);
        let (out, _, _) = talk(
            config(0),
            &[&tx[..], hops.as_bytes(), b".\r\n"].concat(),
            Ok(()),
        );
        assert!(out.ends_with("250 ok 1000 qp 77\r\n"));
        let refused = Err(Refused {
            perm: true,
            text: "no\r (#5.3.0)".into(),
        });
        let (out, _, _) = talk(config(0), &[&tx[..], b".\r\n"].concat(), refused);
        assert!(out.ends_with("554 no? (#5.3.0)\r\n"));
    }

    #[test]
    fn long_lines_and_helo_into_received() {
        let long = vec![b'x'; LINE_MAX + 1];
        let mut input = [&long[..], b"\r\nNOOP\r\n"].concat();
        input
            .extend_from_slice(b"HELO client.EXAMPLE\r\nMAIL <a@b>\r\nRCPT <c@d>\r\nDATA\r\n.\r\n");
        let (out, _, seen) = talk(config(0), &input, Ok(()));
        assert!(out.starts_with(&format!("{GREET}500 line too long (#5.5.2)\r\n250 ok\r\n")));
        assert!(seen
            .mess
            .starts_with(b"Received: from client.example (192.0.2.9)\n"));
    }
}
