//! The server side of QMTP (qmail-qmtpd.c): packages read one after another from a
//! pipelined connection, each streamed into qmail-queue, answered with one netstring per
//! recipient in order. Also what the QMTP and QMQP servers share: the queue as a [`Sink`]
//! that is aborted unless explicitly closed, and the connection whose replies go out only
//! when more input is needed.

use crate::netstring::{self, Bounded, Error};
use crate::qmail::{Queue, Refused};
use crate::rcpthosts::RcptHosts;
use crate::received::{self, Peer};
use std::io::{self, BufReader, BufWriter, Read, Write};

/// Longest address the servers take, exclusive (qmail-qmtpd's and qmail-qmqpd's buffers).
pub const ADDR_MAX: usize = 1000;

/// Where an accepted message goes: qmail-queue, or a recorder in the tests.
pub trait Sink: Sized {
    /// message bytes
    fn put(&mut self, b: &[u8]);
    /// the envelope sender
    fn from(&mut self, s: &[u8]);
    /// one envelope recipient
    fn to(&mut self, r: &[u8]);
    /// the number shown as `qp` in the answer (qmail-queue's pid)
    fn qp(&self) -> u32;
    /// commits the message
    fn close(self) -> Result<(), Refused>;
    /// gives the message up: nothing is queued
    fn abort(self);
}

impl Sink for Queue {
    fn put(&mut self, b: &[u8]) {
        Queue::put(self, b)
    }
    fn from(&mut self, s: &[u8]) {
        Queue::from(self, s)
    }
    fn to(&mut self, r: &[u8]) {
        Queue::to(self, r)
    }
    fn qp(&self) -> u32 {
        self.pid()
    }
    fn close(self) -> Result<(), Refused> {
        Queue::close(self)
    }
    fn abort(mut self) {
        Queue::abort(&mut self);
        let _ = self.close();
    }
}

/// A sink that is aborted when dropped, so that every early return (end of input, protocol
/// error) leaves nothing queued.
pub struct Pending<S: Sink>(Option<S>);

impl<S: Sink> Pending<S> {
    /// Wraps an open sink.
    pub fn new(s: S) -> Self {
        Pending(Some(s))
    }
    /// The sink, while it is open.
    pub fn get(&mut self) -> &mut S {
        self.0
            .as_mut()
            .unwrap_or_else(|| unreachable!("sink used after close"))
    }
    /// Commits it.
    pub fn close(mut self) -> Result<(), Refused> {
        match self.0.take() {
            Some(s) => s.close(),
            None => unreachable!("sink closed twice"),
        }
    }
}

impl<S: Sink> Drop for Pending<S> {
    fn drop(&mut self) {
        if let Some(s) = self.0.take() {
            s.abort();
        }
    }
}

/// How a session ended, and so the server's exit code.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// end of input, or a read or write error: exit 0
    Eof,
    /// the peer broke the protocol: exit 100
    Proto,
    /// out of resources (qmail-queue would not start, a length beyond 200000000, unreadable
    /// morercpthosts.cdb): exit 111
    Resources,
}

impl End {
    /// The exit code.
    pub fn code(&self) -> u8 {
        match self {
            End::Eof => 0,
            End::Proto => 100,
            End::Resources => 111,
        }
    }
}

impl From<Error> for End {
    fn from(e: Error) -> End {
        match e {
            Error::Eof | Error::Io(_) => End::Eof,
            Error::Proto => End::Proto,
            Error::TooLong => End::Resources,
        }
    }
}

/// The connection: reads `input`; every read first flushes the replies buffered for
/// `output`, so pipelined packages are answered in one write when the client waits.
pub struct Net<R, W: Write> {
    input: R,
    /// the replies
    pub output: BufWriter<W>,
}

impl<R: Read, W: Write> Net<R, W> {
    /// A buffered connection.
    pub fn new(input: R, output: W) -> BufReader<Net<R, W>> {
        BufReader::with_capacity(
            8192,
            Net {
                input,
                output: BufWriter::with_capacity(1024, output),
            },
        )
    }
}

impl<R: Read, W: Write> Read for Net<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.output.flush()?;
        self.input.read(buf)
    }
}

/// What the QMTP server is told by its environment and control files.
pub struct Config {
    /// `$RELAYCLIENT`: appended to every recipient, which then skips rcpthosts
    pub relayclient: Option<Vec<u8>>,
    /// `$DATABYTES` or `control/databytes`; 0 = no limit
    pub databytes: u64,
    /// `control/rcpthosts`, `control/morercpthosts.cdb`
    pub rcpthosts: RcptHosts,
    /// for the Received field
    pub peer: Peer,
}

/// CRLF → LF across pieces of input; a CR not followed by LF stays (QMTP encoding `\r`).
#[derive(Default)]
pub struct Crlf {
    cr: bool,
}

impl Crlf {
    /// Converts one piece into `out`.
    pub fn feed(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        for &c in piece {
            if self.cr && c != b'\n' {
                out.push(b'\r');
            }
            self.cr = c == b'\r';
            if !self.cr {
                out.push(c);
            }
        }
    }
    /// The end: a CR still held is kept.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.cr) {
            out.push(b'\r');
        }
    }
}

const NO_RELAY: &[u8] = b"66:Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1),";
const BAD_RCPT: &[u8] = b"46:Dsorry, I can't handle that recipient (#5.1.3),";
const BAD_SENDER: &str = "Dunacceptable sender (#5.1.7)";
const TOO_BIG: &str = "Dsorry, that message size exceeds my databytes limit (#5.3.4)";

/// The answer text for a closed queue: `Kok <time> qp <pid>`, or `D`/`Z` and the reason.
pub fn answer(r: Result<(), Refused>, qp: u32) -> String {
    match r {
        Ok(()) => format!(
            "Kok {} qp {qp}",
            crate::date::secs(std::time::SystemTime::now())
        ),
        Err(Refused { perm, text }) => format!("{}{text}", if perm { 'D' } else { 'Z' }),
    }
}

/// Serves packages until the client stops or breaks the protocol; `open` starts the queue
/// for each package.
pub fn serve<R: Read, W: Write, S: Sink>(
    conn: &mut BufReader<Net<R, W>>,
    cfg: &Config,
    open: &mut dyn FnMut() -> io::Result<S>,
) -> End {
    loop {
        if let Err(end) = package(conn, cfg, open) {
            return end;
        }
    }
}

fn package<R: Read, W: Write, S: Sink>(
    conn: &mut BufReader<Net<R, W>>,
    cfg: &Config,
    open: &mut dyn FnMut() -> io::Result<S>,
) -> Result<(), End> {
    let len = netstring::read_len(conn)?;
    if len == 0 {
        return Err(End::Proto);
    }
    let mut q = Pending::new(open().map_err(|_| End::Resources)?);
    let qp = q.get().qp();
    let dos = match netstring::byte(conn)? {
        b'\n' => false,
        b'\r' => true,
        _ => return Err(End::Proto),
    };
    let now = crate::date::secs(std::time::SystemTime::now());
    q.get().put(&received::line("QMTP", &cfg.peer, None, now));
    let limit = cfg.databytes;
    let mut stored = 0u64;
    if dos {
        let (mut crlf, mut out) = (Crlf::default(), Vec::new());
        netstring::copy(conn, len - 1, |piece| {
            out.clear();
            crlf.feed(piece, &mut out);
            stored += out.len() as u64;
            if limit == 0 || stored <= limit {
                q.get().put(&out);
            }
        })?;
        out.clear();
        crlf.finish(&mut out);
        stored += out.len() as u64;
        q.get().put(&out);
    } else {
        stored = len - 1;
        let fits = limit == 0 || stored <= limit;
        netstring::copy(conn, len - 1, |piece| {
            if fits {
                q.get().put(piece)
            }
        })?;
    }
    let too_big = limit > 0 && stored > limit;
    netstring::read_comma(conn)?;

    let n = netstring::read_len(conn)?;
    let sender = netstring::payload(conn, n, ADDR_MAX)?.filter(|s| !s.contains(&0));
    netstring::read_comma(conn)?;
    q.get().from(sender.as_deref().unwrap_or(b""));

    let relay = cfg.relayclient.as_deref();
    let keep = ADDR_MAX.saturating_sub(relay.map_or(0, <[u8]>::len));
    let mut verdicts: Vec<Option<&'static [u8]>> = Vec::new();
    let biglen = netstring::read_len(conn)?;
    let mut list = Bounded::new(conn, biglen);
    while !list.spent() {
        let n = netstring::read_len(&mut list).map_err(|e| list.blame(e))?;
        if n >= list.left() {
            return Err(End::Proto);
        }
        let rcpt = netstring::payload(&mut list, n, keep)?;
        netstring::read_comma(&mut list)?;
        let verdict = match rcpt {
            Some(r) if !r.contains(&0) => match relay {
                Some(rc) => {
                    q.get().to(&[&r[..], rc].concat());
                    None
                }
                None if cfg.rcpthosts.allows(&r).map_err(|_| End::Resources)? => {
                    q.get().to(&r);
                    None
                }
                None => Some(NO_RELAY),
            },
            _ => Some(BAD_RCPT),
        };
        verdicts.push(verdict);
    }
    netstring::read_comma(conn)?;

    let any = verdicts.iter().any(Option::is_none);
    let result = if too_big {
        TOO_BIG.to_string()
    } else if sender.is_none() {
        BAD_SENDER.to_string()
    } else if !any {
        String::new()
    } else {
        answer(q.close(), qp)
    };
    let reply = netstring::encode(result.as_bytes());
    let out = &mut conn.get_mut().output;
    for v in verdicts {
        out.write_all(v.unwrap_or(&reply)).map_err(|_| End::Eof)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// What a test sink saw: (message, envelope, closed).
    #[derive(Default, Debug)]
    pub struct Seen {
        pub mess: Vec<u8>,
        pub env: Vec<u8>,
        pub closed: usize,
        pub aborted: usize,
    }

    pub struct Rec(pub Rc<RefCell<Seen>>, pub Result<(), Refused>);

    impl Sink for Rec {
        fn put(&mut self, b: &[u8]) {
            self.0.borrow_mut().mess.extend_from_slice(b)
        }
        fn from(&mut self, s: &[u8]) {
            let mut r = self.0.borrow_mut();
            r.env.push(b'F');
            r.env.extend_from_slice(s);
            r.env.push(0);
        }
        fn to(&mut self, t: &[u8]) {
            let mut r = self.0.borrow_mut();
            r.env.push(b'T');
            r.env.extend_from_slice(t);
            r.env.push(0);
        }
        fn qp(&self) -> u32 {
            77
        }
        fn close(self) -> Result<(), Refused> {
            self.0.borrow_mut().closed += 1;
            self.1
        }
        fn abort(self) {
            self.0.borrow_mut().aborted += 1;
        }
    }

    fn cfg(relay: Option<&str>, databytes: u64, rcpthosts: Option<&str>) -> Config {
        let home = std::env::temp_dir().join(format!("qlib-qmtp-{}", std::process::id()));
        let _ = std::fs::create_dir_all(home.join("control"));
        let f = home.join("control/rcpthosts");
        let _ = std::fs::remove_file(&f);
        if let Some(r) = rcpthosts {
            std::fs::write(&f, r).unwrap();
        }
        let rcpthosts = RcptHosts::open(&home).unwrap();
        let _ = std::fs::remove_dir_all(&home);
        Config {
            relayclient: relay.map(|r| r.as_bytes().to_vec()),
            databytes,
            rcpthosts,
            peer: Peer {
                ip: b"192.0.2.1".to_vec(),
                host: b"c.example".to_vec(),
                info: None,
                local: b"s.example".to_vec(),
            },
        }
    }

    /// Runs a session on `input`: (end, replies with times masked, what the sink saw).
    fn session(cfg: &Config, input: &[u8]) -> (End, String, Seen) {
        let seen = Rc::new(RefCell::new(Seen::default()));
        let mut out = Vec::new();
        let end = {
            let mut conn = Net::new(input, &mut out);
            let s = seen.clone();
            let end = serve(&mut conn, cfg, &mut || Ok(Rec(s.clone(), Ok(()))));
            conn.get_mut().output.flush().unwrap();
            end
        };
        let text = String::from_utf8_lossy(&out).into_owned();
        let masked = mask_time(&text);
        let s = Rc::try_unwrap(seen).unwrap().into_inner();
        (end, masked, s)
    }

    fn mask_time(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("Kok ") {
            out.push_str(&rest[..i + 4]);
            out.push('T');
            rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
        }
        out.push_str(rest);
        out
    }

    /// The message after the two-line Received field.
    fn body(mess: &[u8]) -> &[u8] {
        let first = mess.iter().position(|&c| c == b'\n').unwrap() + 1;
        let second = first + mess[first..].iter().position(|&c| c == b'\n').unwrap() + 1;
        &mess[second..]
    }

    #[test]
    fn lf_package_with_two_recipients() {
        let c = cfg(None, 0, None);
        let (end, out, seen) = session(&c, b"6:\nHi\nyo,3:a@b,16:5:x@y.z,5:u@v.w,,");
        assert_eq!(end, End::Eof);
        assert_eq!(out, "20:Kok T qp 77,20:Kok T qp 77,");
        assert!(seen
            .mess
            .starts_with(b"Received: from c.example (192.0.2.1)\n  by s.example with QMTP; "));
        assert_eq!(body(&seen.mess), b"Hi\nyo");
        assert_eq!(seen.env, b"Fa@b\0Tx@y.z\0Tu@v.w\0");
        assert_eq!((seen.closed, seen.aborted), (1, 0));
    }

    #[test]
    fn crlf_encoding() {
        let mut v = Vec::new();
        let mut c = Crlf::default();
        for piece in [&b"a\r\nb\r"[..], b"\nc\rd\r\r\n", b"e\r"] {
            c.feed(piece, &mut v);
        }
        c.finish(&mut v);
        assert_eq!(v, b"a\nb\nc\rd\r\ne\r");
        let cfg = cfg(None, 0, None);
        let (end, out, seen) = session(&cfg, b"8:\rA\r\nB\rC\r,0:,4:1:x,,");
        assert_eq!((end, out.as_str()), (End::Eof, "20:Kok T qp 77,"));
        assert_eq!(body(&seen.mess), b"A\nB\rC\r");
        assert_eq!(seen.env, b"F\0Tx\0");
    }

    #[test]
    fn per_recipient_verdicts_in_order() {
        let c = cfg(None, 0, Some("ok.example\n"));
        let long = "a".repeat(1000);
        let list = format!("6:a@nope,12:b@ok.example,5:c\0@ok,1000:{long},");
        let input = format!("2:\nx,0:,{}:{list},", list.len());
        let (end, out, seen) = session(&c, input.as_bytes());
        assert_eq!(end, End::Eof);
        assert_eq!(
            out,
            format!(
                "{}20:Kok T qp 77,{}{}",
                std::str::from_utf8(NO_RELAY).unwrap(),
                std::str::from_utf8(BAD_RCPT).unwrap(),
                std::str::from_utf8(BAD_RCPT).unwrap()
            )
        );
        assert_eq!(seen.env, b"F\0Tb@ok.example\0");
    }

    #[test]
    fn relayclient_is_appended_and_counts_towards_the_limit() {
        let c = cfg(Some("@relay"), 0, Some("ok.example\n"));
        let a = "a".repeat(993);
        let list = format!("6:x@nope,993:{a},994:{a}b,");
        let input = format!("2:\nx,0:,{}:{list},", list.len());
        let (_, out, seen) = session(&c, input.as_bytes());
        assert_eq!(
            out,
            format!(
                "20:Kok T qp 77,20:Kok T qp 77,{}",
                std::str::from_utf8(BAD_RCPT).unwrap()
            )
        );
        assert_eq!(
            seen.env,
            format!("F\0Tx@nope@relay\0T{a}@relay\0").as_bytes()
        );
    }

    #[test]
    fn bad_sender_too_big_and_no_recipient_abort() {
        let c = cfg(None, 3, None);
        let (_, out, seen) = session(&c, b"3:\nab,3:a\0b,4:1:x,,");
        assert_eq!(out, "29:Dunacceptable sender (#5.1.7),");
        assert_eq!((seen.closed, seen.aborted), (0, 1));
        let (_, out, _) = session(&c, b"5:\nabcd,3:a\0b,4:1:x,,");
        assert_eq!(out, format!("{}:{TOO_BIG},", TOO_BIG.len()));
        let (_, out, _) = session(&c, b"5:\rab\r\n,0:,4:1:x,,6:\rab\r\nc,0:,4:1:y,,");
        assert_eq!(out, format!("20:Kok T qp 77,{}:{TOO_BIG},", TOO_BIG.len()));
        let (end, out, seen) = session(&c, b"2:\nx,0:,0:,");
        assert_eq!((end, out.as_str()), (End::Eof, ""));
        assert_eq!((seen.closed, seen.aborted), (0, 1));
    }

    #[test]
    fn protocol_errors() {
        let c = cfg(None, 0, None);
        for bad in [
            &b"0:,"[..],
            b"x:",
            b"2:xx,0:,3:1:x,,",
            b"2:\nx;",
            b"2:\nx,0:,4:1:x;,",
            b"2:\nx,0:,4:1:x,;",
            b"2:\nx,0:,4:2:x,,",
            b"2:\nx,0:,4:3:x,,",
            b"2:\nx,0:,2:1:x,,",
            b"2:\nx,0:,4:a:x,,",
        ] {
            let (end, out, seen) = session(&c, bad);
            assert_eq!((end, out.as_str()), (End::Proto, ""), "{bad:?}");
            assert_eq!(seen.closed, 0);
        }
        let (end, _, seen) = session(&c, b"200000001:\n");
        assert_eq!((end, seen.aborted), (End::Resources, 0));
        let (end, _, seen) = session(&c, b"2:\nx,0:,4:1:x,");
        assert_eq!((end, seen.closed, seen.aborted), (End::Eof, 0, 1));
    }

    #[test]
    fn queue_refusal_goes_to_every_accepted_recipient() {
        let c = cfg(None, 0, None);
        let seen = Rc::new(RefCell::new(Seen::default()));
        let mut out = Vec::new();
        {
            let mut conn = Net::new(&b"2:\nx,0:,8:1:a,1:b,,"[..], &mut out);
            let refused = Refused {
                perm: false,
                text: "qq write error or disk full (#4.3.0)".into(),
            };
            let end = serve(&mut conn, &c, &mut || {
                Ok(Rec(seen.clone(), Err(refused.clone())))
            });
            assert_eq!(end, End::Eof);
        }
        let one = "37:Zqq write error or disk full (#4.3.0),";
        assert_eq!(String::from_utf8(out).unwrap(), format!("{one}{one}"));
    }
}
