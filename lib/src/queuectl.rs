//! Requests to a running qmail-send (beyond qmail): delete, expire, hold or release queued
//! messages chosen by id, sender pattern or recipient pattern. The tools never touch the
//! queue's message files; they leave a request in `queue/req/` (qmails, mode 0700: only root
//! and qmails can write there), pull `lock/trigger`, and wait for qmail-send's answer.
//! qmail-send carries a request out when no delivery of the chosen messages is in progress,
//! logs it, and answers. Holds are marked by an empty `queue/hold/ID` that qmail-send keeps.
//!
//! Files in `req/`, for a request named `N` (`<pid>.<nanoseconds>`):
//! `N.new` being written by the tool; `N.req` submitted; `N.run` taken by qmail-send;
//! `N.out` answer being written; `N.ans` the answer, which the tool reads and removes.
//! A request is NUL-terminated records: `A<action>` first (`delete`, `expire`, `hold`,
//! `release`), then any of `I<id>`, `S<sender pattern>`, `R<recipient pattern>`. An answer
//! is records `+<id>` (done), `=<id>` (nothing to do: already held, or not held), `-<id>`
//! (a listed id that is not in the queue); a lone `x` means the request was malformed.
//!
//! Patterns are shell-like: `*` matches any bytes, `?` one byte, every other byte itself,
//! ASCII case-insensitively; the whole address must match (`''` matches the empty sender
//! of bounces).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The requests directory, relative to the queue.
pub const REQ_DIR: &str = "req";
/// The hold marks directory, relative to the queue.
pub const HOLD_DIR: &str = "hold";
/// Longest request qmail-send reads.
pub const MAX_REQUEST: usize = 65536;

/// What to do with the chosen messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// remove silently
    Delete,
    /// bounce every pending recipient now, as the queue lifetime would
    Expire,
    /// no delivery attempts until released
    Hold,
    /// end a hold; the message is due at once
    Release,
}

impl Action {
    fn word(self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Expire => "expire",
            Action::Hold => "hold",
            Action::Release => "release",
        }
    }
}

/// Which messages, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// the action
    pub action: Action,
    /// messages chosen by id
    pub ids: Vec<u64>,
    /// with `recipient`: messages whose sender matches
    pub sender: Option<Vec<u8>>,
    /// with `sender`: messages with a pending recipient that matches
    pub recipient: Option<Vec<u8>>,
}

impl Request {
    /// The request's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = format!("A{}\0", self.action.word()).into_bytes();
        for id in &self.ids {
            v.extend_from_slice(format!("I{id}\0").as_bytes());
        }
        for (t, p) in [(b'S', &self.sender), (b'R', &self.recipient)] {
            if let Some(p) = p {
                v.push(t);
                v.extend_from_slice(p);
                v.push(0);
            }
        }
        v
    }

    /// Parses a request; `None` if malformed (no action first, an unknown record, a bad id,
    /// a repeated pattern, bytes after the last NUL).
    pub fn parse(data: &[u8]) -> Option<Request> {
        let body = data.strip_suffix(b"\0")?;
        let mut recs = body.split(|&c| c == 0);
        let action = match recs.next()? {
            b"Adelete" => Action::Delete,
            b"Aexpire" => Action::Expire,
            b"Ahold" => Action::Hold,
            b"Arelease" => Action::Release,
            _ => return None,
        };
        let mut r = Request {
            action,
            ids: Vec::new(),
            sender: None,
            recipient: None,
        };
        for rec in recs {
            match rec.split_first()? {
                (b'I', id) => r.ids.push(crate::scan::ulong_exact(id)?),
                (b'S', p) if r.sender.is_none() => r.sender = Some(p.to_vec()),
                (b'R', p) if r.recipient.is_none() => r.recipient = Some(p.to_vec()),
                _ => return None,
            }
        }
        Some(r)
    }

    /// Whether a message is chosen by the patterns (not by id): at least one pattern given,
    /// the sender matches the sender pattern, and some pending recipient the recipient one.
    pub fn matches(&self, sender: &[u8], pending: &[&[u8]]) -> bool {
        if self.sender.is_none() && self.recipient.is_none() {
            return false;
        }
        self.sender.as_ref().is_none_or(|p| glob(p, sender))
            && self
                .recipient
                .as_ref()
                .is_none_or(|p| pending.iter().any(|r| glob(p, r)))
    }
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// done
    Done(u64),
    /// nothing to do (already held, or not held)
    Unchanged(u64),
    /// a listed id that is not in the queue
    Unknown(u64),
}

/// An answer's bytes; `None` for a malformed request.
pub fn encode_answer(answer: Option<&[Outcome]>) -> Vec<u8> {
    let Some(outcomes) = answer else {
        return b"x\0".to_vec();
    };
    let mut v = Vec::new();
    for o in outcomes {
        let (c, id) = match *o {
            Outcome::Done(id) => ('+', id),
            Outcome::Unchanged(id) => ('=', id),
            Outcome::Unknown(id) => ('-', id),
        };
        v.extend_from_slice(format!("{c}{id}\0").as_bytes());
    }
    v
}

/// Parses an answer: `Some(outcomes)`, or `None` if qmail-send found the request malformed
/// or the answer cannot be read.
pub fn parse_answer(data: &[u8]) -> Option<Vec<Outcome>> {
    if data == b"x\0" {
        return None;
    }
    let mut out = Vec::new();
    for rec in data.strip_suffix(b"\0").unwrap_or(data).split(|&c| c == 0) {
        if rec.is_empty() && data.is_empty() {
            break;
        }
        let (&c, id) = rec.split_first()?;
        let id = crate::scan::ulong_exact(id)?;
        out.push(match c {
            b'+' => Outcome::Done(id),
            b'=' => Outcome::Unchanged(id),
            b'-' => Outcome::Unknown(id),
            _ => return None,
        });
    }
    Some(out)
}

/// What a tool says about each outcome of `action`, one line each (`msg <id>: deleted`,
/// `... expired`, `... held`, `... released`, `... already held`, `... not held`,
/// `... not changed (see the log)`, `... not in the queue`); and whether some listed id
/// was not in the queue.
pub fn describe(action: Action, outcomes: &[Outcome]) -> (Vec<u8>, bool) {
    let mut text = String::new();
    let mut unknown = false;
    for o in outcomes {
        let (id, what) = match (*o, action) {
            (Outcome::Done(id), Action::Delete) => (id, "deleted"),
            (Outcome::Done(id), Action::Expire) => (id, "expired"),
            (Outcome::Done(id), Action::Hold) => (id, "held"),
            (Outcome::Done(id), Action::Release) => (id, "released"),
            (Outcome::Unchanged(id), Action::Hold) => (id, "already held"),
            (Outcome::Unchanged(id), Action::Release) => (id, "not held"),
            (Outcome::Unchanged(id), _) => (id, "not changed (see the log)"),
            (Outcome::Unknown(id), _) => {
                unknown = true;
                (id, "not in the queue")
            }
        };
        text.push_str(&format!("msg {id}: {what}\n"));
    }
    (text.into_bytes(), unknown)
}

/// Shell-style match of the whole of `s`: `*` any bytes, `?` one byte, ASCII case folded.
pub fn glob(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&s[i]) => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p.min(pat.len())..].iter().all(|&c| c == b'*')
}

/// How a submitted request ended, from the tool's side.
#[derive(Debug, PartialEq, Eq)]
pub enum Submitted {
    /// qmail-send answered (`None`: it found the request malformed)
    Answer(Option<Vec<Outcome>>),
    /// nobody took the request in time; it was withdrawn
    NotTaken,
    /// qmail-send took it but did not answer in time (it will still be carried out)
    NotAnswered,
}

fn path(name: &str, ext: &str) -> PathBuf {
    Path::new(REQ_DIR).join(format!("{name}.{ext}"))
}

/// Leaves `req` for qmail-send, wakes it, and waits up to `timeout` for the answer. The
/// working directory must be the queue.
pub fn submit(req: &Request, timeout: Duration) -> io::Result<Submitted> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!("{}.{nanos}", std::process::id());
    let (new, sub, ans) = (path(&name, "new"), path(&name, "req"), path(&name, "ans"));
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&new)?;
        f.write_all(&req.encode())?;
        std::fs::rename(&new, &sub)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&new);
        return Err(e);
    }
    trigger();
    let end = Instant::now() + timeout;
    loop {
        if let Some(a) = take_answer(&ans)? {
            return Ok(Submitted::Answer(a));
        }
        if Instant::now() >= end {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    match std::fs::remove_file(&sub) {
        Ok(()) => Ok(Submitted::NotTaken),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match take_answer(&ans)? {
            Some(a) => Ok(Submitted::Answer(a)),
            None => Ok(Submitted::NotAnswered),
        },
        Err(e) => Err(e),
    }
}

fn take_answer(ans: &Path) -> io::Result<Option<Option<Vec<Outcome>>>> {
    match std::fs::read(ans) {
        Ok(data) => {
            let _ = std::fs::remove_file(ans);
            Ok(Some(parse_answer(&data)))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Wakes qmail-send: one byte into `lock/trigger` if somebody is reading it (qmail-queue's
/// way). The working directory must be the queue.
pub fn trigger() {
    let fifo = OpenOptions::new()
        .write(true)
        .custom_flags(crate::sys::fs::O_NONBLOCK)
        .open("lock/trigger");
    if let Ok(mut f) = fifo {
        let _ = f.write(&[0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(glob(b"*", b""));
        assert!(glob(b"", b""));
        assert!(!glob(b"", b"a"));
        assert!(glob(b"joe@*", b"joe@example.org"));
        assert!(glob(b"*@EXAMPLE.org", b"ann@example.ORG"));
        assert!(!glob(b"*@example.org", b"ann@example.org.evil"));
        assert!(glob(b"a?c", b"abc"));
        assert!(!glob(b"a?c", b"ac"));
        assert!(glob(b"*a*b*", b"xxaxxbxx"));
        assert!(!glob(b"*a*b", b"xxaxxbxxc"));
        assert!(glob(b"**x", b"x"));
        assert!(glob(b"#@[]", b"#@[]"));
        assert!(glob(b"*spam*", b"\xffspam\x00"));
    }

    #[test]
    fn requests_round_trip() {
        let r = Request {
            action: Action::Expire,
            ids: vec![12, 7],
            sender: Some(b"".to_vec()),
            recipient: Some(b"*@x".to_vec()),
        };
        let b = r.encode();
        assert_eq!(b, b"Aexpire\0I12\0I7\0S\0R*@x\0");
        assert_eq!(Request::parse(&b), Some(r));
        let h = Request::parse(b"Ahold\0").unwrap();
        assert_eq!((h.action, h.ids.len()), (Action::Hold, 0));
        for bad in [
            &b""[..],
            b"Ahold",
            b"Anuke\0",
            b"I1\0",
            b"Adelete\0Ix\0",
            b"Adelete\0I1\0junk",
            b"Adelete\0Sa\0Sb\0",
            b"Adelete\0Q\0",
            b"Adelete\0\0",
        ] {
            assert_eq!(Request::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn choosing_by_pattern() {
        let mut r = Request::parse(b"Adelete\0I5\0").unwrap();
        assert!(
            !r.matches(b"a@b", &[b"c@d"]),
            "ids only: patterns choose nothing"
        );
        r.sender = Some(b"*@spam.example".to_vec());
        assert!(r.matches(b"x@SPAM.example", &[]));
        assert!(!r.matches(b"x@ham.example", &[b"c@d"]));
        r.recipient = Some(b"joe@*".to_vec());
        assert!(
            !r.matches(b"x@spam.example", &[b"ann@x"]),
            "both must match"
        );
        assert!(r.matches(b"x@spam.example", &[b"ann@x", b"joe@y"]));
        r.sender = None;
        assert!(r.matches(b"", &[b"joe@y"]));
    }

    #[test]
    fn answers_round_trip() {
        let a = [
            Outcome::Done(3),
            Outcome::Unchanged(4),
            Outcome::Unknown(99),
        ];
        let b = encode_answer(Some(&a));
        assert_eq!(b, b"+3\0=4\0-99\0");
        assert_eq!(parse_answer(&b), Some(a.to_vec()));
        assert_eq!(parse_answer(&encode_answer(Some(&[]))), Some(vec![]));
        assert_eq!(parse_answer(&encode_answer(None)), None);
        assert_eq!(parse_answer(b"?3\0"), None);
        let (t, unknown) = describe(Action::Hold, &a);
        assert_eq!(
            String::from_utf8(t).unwrap(),
            "msg 3: held\nmsg 4: already held\nmsg 99: not in the queue\n"
        );
        assert!(unknown);
        assert_eq!(
            describe(Action::Delete, &a[..1]),
            (b"msg 3: deleted\n".to_vec(), false)
        );
    }
}
