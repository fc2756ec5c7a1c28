//! qmail-inject's message logic (qmail-inject.c), kept apart from its input and output so
//! it can be tested: the address rewriting rules, the treatment of each header field, the
//! envelope sender and recipients, and the fields qmail-inject adds in front of the header.
//!
//! Orders follow the original: an address list is read right to left, so within one field
//! the last address becomes the first envelope recipient; argument recipients come before
//! header recipients.
//!
//! Deviations, both on the safe side: an unparsable To/Cc/Bcc/Apparently-To/Resent-* field
//! contributes no recipient at all (the original kept any address it had already found to
//! the right of the error); and carriage returns and newlines in the name, user and host
//! used for the generated From field become spaces, so a full name cannot end the field and
//! start a new one.

use crate::addrlist::{self, Kind, Token};
use crate::control::Map;
use crate::header::{self, Field};
use crate::{date, quote};
use std::collections::HashSet;

/// qmail-inject folds rewritten fields at this column.
pub const LINELEN: usize = 80;

/// The `QMAILINJECT` letters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `c`: `From: user@host (Full Name)` instead of `From: "Full Name" <user@host>`
    pub name_comment: bool,
    /// `s`: ignore (and delete) an incoming Return-Path
    pub delete_return_path: bool,
    /// `f`: delete an incoming From (a new one is generated)
    pub delete_from: bool,
    /// `i`: delete an incoming Message-ID (a new one is generated)
    pub delete_message_id: bool,
    /// `r`: per-recipient VERP
    pub verp_recipient: bool,
    /// `m`: per-message VERP
    pub verp_message: bool,
}

impl Flags {
    /// Reads the letters; others are ignored.
    pub fn parse(letters: &[u8]) -> Flags {
        let mut f = Flags::default();
        for c in letters {
            match c {
                b'c' => f.name_comment = true,
                b's' => f.delete_return_path = true,
                b'f' => f.delete_from = true,
                b'i' => f.delete_message_id = true,
                b'r' => f.verp_recipient = true,
                b'm' => f.verp_message = true,
                _ => {}
            }
        }
        f
    }
}

/// Everything qmail-inject takes from controls and the environment.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// added to addresses without `@`
    pub defaulthost: Vec<u8>,
    /// added to host names without a dot
    pub defaultdomain: Vec<u8>,
    /// replaces a trailing `+` of a host name
    pub plusdomain: Vec<u8>,
    /// right-hand side of generated Message-IDs
    pub idhost: Vec<u8>,
    /// `QMAILINJECT`
    pub flags: Flags,
    /// user part of the default From
    pub user: Vec<u8>,
    /// host part of the default From
    pub host: Option<Vec<u8>>,
    /// full name for the default From
    pub name: Option<Vec<u8>>,
    /// user part of the default envelope sender
    pub suser: Vec<u8>,
    /// host part of the default envelope sender
    pub shost: Option<Vec<u8>>,
    /// mailing lists of `QMAILMFTFILE`
    pub mft: Option<Map>,
    /// start time, seconds since the epoch
    pub start: i64,
    /// this process's id
    pub pid: u32,
}

/// A message refused; [`Error::message`] gives the text after `fatal: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// a field (or setting) that had to parse did not
    Line(Vec<u8>),
    /// a recipient argument that does not parse
    Address(Vec<u8>),
    /// a field that is not a field
    Invalid(Vec<u8>),
}

impl Error {
    /// The diagnostic (its lines after the first show the offending text).
    pub fn message(&self) -> String {
        let trim =
            |b: &[u8]| String::from_utf8_lossy(b.strip_suffix(b"\n").unwrap_or(b)).into_owned();
        match self {
            Error::Line(l) => format!("unable to parse this line:\n{}", trim(l)),
            Error::Address(a) => format!("unable to parse address: {}", trim(a)),
            Error::Invalid(l) => format!("invalid header field: {}", trim(l)),
        }
    }
}

/// The rewriting rules of qmail-inject, applied to one address.
#[derive(Clone, Debug)]
pub struct Rewrite {
    host: Vec<Token>,
    domain: Vec<Token>,
    plus: Vec<Token>,
}

fn tokens_of(prefix: &[u8], value: &[u8]) -> Result<Vec<Token>, Error> {
    let text = [prefix, value].concat();
    addrlist::parse(&text).ok_or(Error::Line(text))
}

impl Rewrite {
    /// Rules with these names (each must parse as address text).
    pub fn new(
        defaulthost: &[u8],
        defaultdomain: &[u8],
        plusdomain: &[u8],
    ) -> Result<Rewrite, Error> {
        Ok(Rewrite {
            host: tokens_of(b"@", defaulthost)?,
            domain: tokens_of(b".", defaultdomain)?,
            plus: tokens_of(b".", plusdomain)?,
        })
    }

    /// Rewrites one address (tokens in natural order): strip a source route, a trailing `.`
    /// and a trailing `@`; add `@defaulthost` if there is no `@`; turn a final `host+` into
    /// `host.plusdomain`; add `.defaultdomain` to a host without a dot or literal. `<>` and
    /// `x@[]` are left alone.
    pub fn address(&self, a: &mut Vec<Token>) {
        let n = a.len();
        if n == 0 {
            return;
        }
        if n >= 2
            && a[n - 1].kind == Kind::Literal
            && a[n - 1].text.is_empty()
            && a[n - 2].kind == Kind::At
        {
            return;
        }
        if a[0].kind == Kind::At {
            match a.iter().position(|t| t.kind == Kind::Colon) {
                Some(p) => drop(a.drain(..=p)),
                None => a.clear(),
            }
        }
        for k in [Kind::Dot, Kind::At] {
            match a.last() {
                None => return,
                Some(t) if t.kind == k => drop(a.pop()),
                Some(_) => {}
            }
        }
        if a.is_empty() {
            return;
        }
        if !a.iter().any(|t| t.kind == Kind::At) {
            a.extend(self.host.iter().cloned());
        }
        if let Some(t) = a.last_mut() {
            if t.kind == Kind::Atom && t.text.last() == Some(&b'+') {
                t.text.pop();
                a.extend(self.plus.iter().cloned());
            }
        }
        let host = a
            .iter()
            .rposition(|t| t.kind == Kind::At)
            .map_or(0, |p| p + 1);
        if !a[host..]
            .iter()
            .any(|t| matches!(t.kind, Kind::Dot | Kind::Literal))
        {
            a.extend(self.domain.iter().cloned());
        }
    }

    /// Rewrites a bare address given as bytes (an argument or `-f`): the local part is
    /// quoted as needed first. `None` if it does not parse.
    pub fn bare(&self, s: &[u8]) -> Option<Vec<u8>> {
        let mut t = addrlist::parse(&quote::address(s))?;
        self.address(&mut t);
        Some(addrlist::unquote(&t))
    }
}

/// A list of envelope addresses kept in one buffer: a header may name millions.
#[derive(Clone, Debug, Default)]
pub struct Addrs {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Addrs {
    /// Appends an address.
    pub fn push(&mut self, a: &[u8]) {
        self.bytes.extend_from_slice(a);
        self.ends.push(self.bytes.len());
    }
    /// Appends all of `other`.
    pub fn append(&mut self, other: &Addrs) {
        for a in other.iter() {
            self.push(a);
        }
    }
    /// The addresses in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(move |i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.bytes[start..self.ends[i]]
        })
    }
    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// An address as the envelope gets it: unquoted, and (as in the original, which handled
/// it as a C string) cut at the first NUL.
fn envelope_address(a: &[Token]) -> Vec<u8> {
    let mut v = addrlist::unquote(a);
    if let Some(nul) = memchr::memchr(0, &v) {
        v.truncate(nul);
    }
    v
}

/// Where a field's addresses go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    ToCc,
    Header,
    Resent,
    ReturnPath,
    Plain,
}

const RESENT: [Field; 8] = [
    Field::ResentSender,
    Field::ResentFrom,
    Field::ResentReplyTo,
    Field::ResentTo,
    Field::ResentCc,
    Field::ResentBcc,
    Field::ResentDate,
    Field::ResentMessageId,
];

/// One message being injected.
pub struct Inject {
    cfg: Config,
    rw: Rewrite,
    sender: Option<Vec<u8>>,
    args: Addrs,
    header: Addrs,
    resent: Addrs,
    tocc: Addrs,
    seen: HashSet<Field>,
    saved: Vec<u8>,
}

impl Inject {
    /// Starts a message; fails if a configured host name does not parse.
    pub fn new(cfg: Config) -> Result<Inject, Error> {
        let rw = Rewrite::new(&cfg.defaulthost, &cfg.defaultdomain, &cfg.plusdomain)?;
        Ok(Inject {
            cfg,
            rw,
            sender: None,
            args: Addrs::default(),
            header: Addrs::default(),
            resent: Addrs::default(),
            tocc: Addrs::default(),
            seen: HashSet::new(),
            saved: Vec::new(),
        })
    }

    /// `-f sender`: rewritten, and beats any Return-Path.
    pub fn sender_option(&mut self, s: &[u8]) -> Result<(), Error> {
        let s = self
            .rw
            .bare(s)
            .ok_or_else(|| Error::Line(quote::address(s)))?;
        self.sender = Some(s);
        Ok(())
    }

    /// A recipient argument.
    pub fn recipient(&mut self, s: &[u8]) -> Result<(), Error> {
        let r = self.rw.bare(s).ok_or_else(|| Error::Address(s.to_vec()))?;
        self.args.push(&r);
        Ok(())
    }

    /// One header field as read (ending in `\n`).
    pub fn field(&mut self, mut f: Vec<u8>) -> Result<(), Error> {
        let kind = header::known(&f);
        let flags = self.cfg.flags;
        match kind {
            Some(Field::From) if flags.delete_from => return Ok(()),
            Some(Field::MessageId) if flags.delete_message_id => return Ok(()),
            Some(Field::ReturnPath) if flags.delete_return_path => return Ok(()),
            Some(k) => drop(self.seen.insert(k)),
            None if !header::valid(&f) => return Err(Error::Invalid(f)),
            None => {}
        }
        let role = match kind {
            Some(Field::To | Field::Cc) => Some(Role::ToCc),
            Some(Field::Bcc | Field::ApparentlyTo) => Some(Role::Header),
            Some(Field::ResentTo | Field::ResentCc | Field::ResentBcc) => Some(Role::Resent),
            Some(Field::ReturnPath) => Some(Role::ReturnPath),
            Some(
                Field::Sender
                | Field::From
                | Field::ReplyTo
                | Field::ReturnReceiptTo
                | Field::ErrorsTo
                | Field::ResentSender
                | Field::ResentFrom
                | Field::ResentReplyTo,
            ) => Some(Role::Plain),
            _ => None,
        };
        if let Some(role) = role {
            let mut found = Addrs::default();
            let rw = &self.rw;
            let done = addrlist::parse(&f).and_then(|t| {
                addrlist::addrlist(t, 2, |a| {
                    rw.address(a);
                    found.push(&envelope_address(a));
                })
            });
            match done {
                Some(t) => {
                    f = addrlist::unparse(&t, LINELEN);
                    self.take(role, found);
                }
                None if matches!(role, Role::ToCc | Role::Header | Role::Resent) => {}
                None => return Err(Error::Line(f)),
            }
        }
        match kind {
            Some(Field::Bcc | Field::ResentBcc | Field::ReturnPath | Field::ContentLength) => {}
            _ => self.saved.extend_from_slice(&f),
        }
        Ok(())
    }

    fn take(&mut self, role: Role, found: Addrs) {
        match role {
            Role::ToCc => {
                if self.cfg.mft.is_some() {
                    self.tocc.append(&found);
                }
                self.header.append(&found);
            }
            Role::Header => self.header.append(&found),
            Role::Resent => self.resent.append(&found),
            Role::ReturnPath => {
                if self.sender.is_none() {
                    if let Some(s) = found.iter().next() {
                        let mut s = s.to_vec();
                        if self.cfg.flags.verp_recipient {
                            s.extend_from_slice(b"-@[]");
                        }
                        self.sender = Some(s);
                    }
                }
            }
            Role::Plain => {}
        }
    }

    /// Bytes of header kept so far.
    pub fn saved_len(&self) -> usize {
        self.saved.len()
    }

    /// Whether the message is a resent one.
    pub fn resent(&self) -> bool {
        RESENT.iter().any(|f| self.seen.contains(f))
    }

    /// Ends the header: settles the envelope sender and returns what goes before the body —
    /// `Return-Path: <sender>` if `return_path`, the added fields, then the kept header.
    pub fn finish(&mut self, return_path: bool) -> Result<Vec<u8>, Error> {
        if self.sender.is_none() {
            self.sender = Some(self.default_sender()?);
        }
        let mut out = Vec::new();
        if return_path {
            out.extend_from_slice(b"Return-Path: <");
            out.extend_from_slice(&quote::address(self.sender()));
            out.extend_from_slice(b">\n");
        }
        let cfg = &self.cfg;
        let date = format!("Date: {}\n", date::rfc822(cfg.start));
        let mut msgid = format!(
            "Message-ID: <{}.{}.qmail@",
            date::compact(cfg.start),
            cfg.pid
        )
        .into_bytes();
        msgid.extend_from_slice(&cfg.idhost);
        msgid.extend_from_slice(b">\n");
        let resent = self.resent();
        let (prefix, date_f, id_f, from_f, to_f, cc_f): (&[u8], _, _, _, _, _) = if resent {
            (
                b"Resent-",
                Field::ResentDate,
                Field::ResentMessageId,
                Field::ResentFrom,
                Field::ResentTo,
                Field::ResentCc,
            )
        } else {
            (
                b"",
                Field::Date,
                Field::MessageId,
                Field::From,
                Field::To,
                Field::Cc,
            )
        };
        let seen = |f| self.seen.contains(&f);
        if !seen(date_f) {
            out.extend_from_slice(prefix);
            out.extend_from_slice(date.as_bytes());
        }
        if !seen(id_f) {
            out.extend_from_slice(prefix);
            out.extend_from_slice(&msgid);
        }
        if !seen(from_f) {
            out.extend_from_slice(prefix);
            out.extend_from_slice(&self.default_from()?);
        }
        if !seen(to_f) && !seen(cc_f) {
            out.extend_from_slice(prefix);
            out.extend_from_slice(b"Cc: recipient list not shown: ;\n");
        }
        if !resent {
            out.extend_from_slice(&self.followup_to());
        }
        out.extend_from_slice(&self.saved);
        Ok(out)
    }

    /// A generated field's tokens, written, read back and rewritten like an incoming one.
    fn generated(
        &self,
        tokens: Vec<Token>,
        mut each: impl FnMut(&[Token]),
    ) -> Result<Vec<u8>, Error> {
        let text = addrlist::unparse(&tokens, LINELEN);
        let t = addrlist::parse(&text).ok_or_else(|| Error::Line(text.clone()))?;
        let t = addrlist::addrlist(t, 2, |a| {
            self.rw.address(a);
            each(a);
        })
        .ok_or_else(|| Error::Line(text.clone()))?;
        Ok(addrlist::unparse(&t, LINELEN))
    }

    fn default_sender(&self) -> Result<Vec<u8>, Error> {
        let cfg = &self.cfg;
        let mut user = cfg.suser.clone();
        if cfg.flags.verp_message {
            user.extend_from_slice(format!("-{}.{}", cfg.start, cfg.pid).as_bytes());
        }
        if cfg.flags.verp_recipient {
            user.push(b'-');
        }
        let mut t = vec![
            Token::new(Kind::Atom, b"Return-Path"),
            Token::mark(Kind::Colon),
            Token::new(Kind::Quote, &user),
        ];
        if let Some(h) = &cfg.shost {
            t.push(Token::mark(Kind::At));
            t.push(Token::new(Kind::Atom, h));
        }
        let mut first = None;
        self.generated(t, |a| {
            first.get_or_insert_with(|| envelope_address(a));
        })?;
        let mut s = first.unwrap_or_default();
        if cfg.flags.verp_recipient {
            s.extend_from_slice(b"-@[]");
        }
        Ok(s)
    }

    fn default_from(&self) -> Result<Vec<u8>, Error> {
        let cfg = &self.cfg;
        let clean = |b: &[u8]| -> Vec<u8> {
            b.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
                .collect()
        };
        let name = cfg.name.as_deref().map(clean);
        let user = clean(&cfg.user);
        let angle = name.is_some() && !cfg.flags.name_comment;
        let mut t = vec![Token::new(Kind::Atom, b"From"), Token::mark(Kind::Colon)];
        if let (Some(n), true) = (&name, angle) {
            t.push(Token::new(Kind::Quote, n));
            t.push(Token::mark(Kind::Left));
        }
        let kind = if quote::local(&user) == user {
            Kind::Atom
        } else {
            Kind::Quote
        };
        t.push(Token::new(kind, &user));
        if let Some(h) = &cfg.host {
            t.push(Token::mark(Kind::At));
            t.push(Token::new(Kind::Atom, &clean(h)));
        }
        match &name {
            Some(_) if angle => t.push(Token::mark(Kind::Right)),
            Some(n) => t.push(Token::new(Kind::Comment, n)),
            None => {}
        }
        self.generated(t, |_| {})
    }

    fn followup_to(&self) -> Vec<u8> {
        let Some(lists) = &self.cfg.mft else {
            return Vec::new();
        };
        if self.seen.contains(&Field::MailFollowupTo)
            || !self.tocc.iter().any(|a| lists.contains(a))
        {
            return Vec::new();
        }
        let mut out = b"Mail-Followup-To: ".to_vec();
        for (i, a) in self.tocc.iter().rev().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n  ");
            }
            out.extend_from_slice(&quote::address(a));
        }
        out.push(b'\n');
        out
    }

    /// The envelope sender (after [`Inject::finish`]).
    pub fn sender(&self) -> &[u8] {
        self.sender.as_deref().unwrap_or_default()
    }

    /// The envelope recipients: the arguments, then (if `from_header`) the header's.
    pub fn recipients(&self, from_header: bool) -> impl Iterator<Item = &[u8]> {
        let hdr = match (from_header, self.resent()) {
            (false, _) => None,
            (true, true) => Some(&self.resent),
            (true, false) => Some(&self.header),
        };
        self.args
            .iter()
            .chain(hdr.into_iter().flat_map(Addrs::iter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config {
            defaulthost: b"dh.test".to_vec(),
            defaultdomain: b"dd.test".to_vec(),
            plusdomain: b"pd.test".to_vec(),
            idhost: b"id.test".to_vec(),
            user: b"joe".to_vec(),
            suser: b"joe".to_vec(),
            start: 1_000_000_000,
            pid: 42,
            ..Config::default()
        }
    }

    fn rewrite(s: &[u8]) -> String {
        let rw = Rewrite::new(b"af.mil", b"af.mil", b"berkeley.edu").unwrap();
        String::from_utf8(rw.bare(s).unwrap()).unwrap()
    }

    #[test]
    fn rewriting_rules() {
        assert_eq!(rewrite(b"joe"), "joe@af.mil");
        assert_eq!(rewrite(b"joe@zippy"), "joe@zippy.af.mil");
        assert_eq!(rewrite(b"eric@mammoth.cs+"), "eric@mammoth.cs.berkeley.edu");
        assert_eq!(rewrite(b"joe@x.org"), "joe@x.org");
        assert_eq!(rewrite(b"joe@x.org."), "joe@x.org");
        assert_eq!(rewrite(b"joe@"), "joe@af.mil");
        assert_eq!(rewrite(b"joe@[1.2.3.4]"), "joe@[1.2.3.4]");
        assert_eq!(rewrite(b"joe-@host-@[]"), "joe-@host-@[]");
        assert_eq!(rewrite(b""), "");
        assert_eq!(rewrite(b"a b"), "a b@af.mil");
        let rw = Rewrite::new(b"af.mil", b"af.mil", b"berkeley.edu").unwrap();
        let mut t = addrlist::parse(b"@r1,@r2:u@h").unwrap();
        rw.address(&mut t);
        assert_eq!(addrlist::unquote(&t), b"u@h.af.mil");
        let mut t = addrlist::parse(b"@r1").unwrap();
        rw.address(&mut t);
        assert!(t.is_empty());
        assert_eq!(rw.bare(b"x@(y"), None);
        assert!(Rewrite::new(b"(", b"x", b"y").is_err());
    }

    #[test]
    fn a_plain_message() {
        let mut m = Inject::new(cfg()).unwrap();
        m.recipient(b"bob").unwrap();
        m.field(b"To: ann, Cy <cy@x.org>\n".to_vec()).unwrap();
        m.field(b"Bcc: hidden\n".to_vec()).unwrap();
        m.field(b"Content-Length: 3\n".to_vec()).unwrap();
        m.field(b"Subject: hi\n".to_vec()).unwrap();
        let out = m.finish(true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Return-Path: <joe@dh.test>\n\
             Date: 9 Sep 2001 01:46:40 -0000\n\
             Message-ID: <20010909014640.42.qmail@id.test>\n\
             From: joe@dh.test\n\
             To: ann@dh.test, Cy <cy@x.org>\n\
             Subject: hi\n"
        );
        let r: Vec<&[u8]> = m.recipients(true).collect();
        assert_eq!(
            r,
            vec![
                &b"bob@dh.test"[..],
                b"cy@x.org",
                b"ann@dh.test",
                b"hidden@dh.test"
            ]
        );
        assert_eq!(m.recipients(false).count(), 1);
    }

    #[test]
    fn resent_and_senders() {
        let mut c = cfg();
        c.name = Some(b"Joe \"Q\"\nBcc: x".to_vec());
        c.host = Some(b"h.test".to_vec());
        c.flags = Flags::parse(b"r");
        let mut m = Inject::new(c).unwrap();
        m.field(b"Return-Path: <a@b.c>, <d@e.f>\n".to_vec())
            .unwrap();
        m.field(b"Resent-To: r\n".to_vec()).unwrap();
        m.field(b"To: t\n".to_vec()).unwrap();
        let out = String::from_utf8(m.finish(false).unwrap()).unwrap();
        assert_eq!(
            out,
            "Resent-Date: 9 Sep 2001 01:46:40 -0000\n\
             Resent-Message-ID: <20010909014640.42.qmail@id.test>\n\
             Resent-From: \"Joe \\\"Q\\\" Bcc: x\" <joe@h.test>\n\
             Resent-To: r@dh.test\n\
             To: t@dh.test\n"
        );
        assert_eq!(m.sender(), b"d@e.f-@[]");
        let r: Vec<&[u8]> = m.recipients(true).collect();
        assert_eq!(r, vec![&b"r@dh.test"[..]]);
    }

    #[test]
    fn default_sender_and_verp() {
        let mut c = cfg();
        c.flags = Flags::parse(b"mrc");
        c.name = Some(b"Joe".to_vec());
        c.shost = Some(b"s.test".to_vec());
        let mut m = Inject::new(c).unwrap();
        m.field(b"Cc: x\n".to_vec()).unwrap();
        let out = String::from_utf8(m.finish(true).unwrap()).unwrap();
        assert_eq!(m.sender(), b"joe-1000000000.42-@s.test-@[]");
        assert!(out.contains("\nFrom: joe@dh.test (Joe)\n"), "{out}");
    }

    #[test]
    fn fatal_and_tolerated_fields() {
        let mut m = Inject::new(cfg()).unwrap();
        assert_eq!(m.field(b"To: (a\n".to_vec()), Ok(()));
        assert_eq!(m.field(b"Cc: a, b>\n".to_vec()), Ok(()));
        assert_eq!(m.recipients(true).count(), 0);
        assert_eq!(
            m.field(b"From: (x\n".to_vec()),
            Err(Error::Line(b"From: (x\n".to_vec()))
        );
        assert_eq!(
            Error::Line(b"From: (x\n".to_vec()).message(),
            "unable to parse this line:\nFrom: (x"
        );
        assert!(m.recipient(b"a@]").is_err());
        assert!(m.field(b"not a field\n".to_vec()).is_err());
    }

    #[test]
    fn address_lists_and_nul() {
        let mut a = Addrs::default();
        assert!(a.is_empty());
        for x in [&b"a@b"[..], b"", b"c"] {
            a.push(x);
        }
        let v: Vec<&[u8]> = a.iter().rev().collect();
        assert_eq!((a.len(), v), (3, vec![&b"c"[..], b"", b"a@b"]));
        let mut m = Inject::new(cfg()).unwrap();
        m.field(b"To: \"a\0b\"@x.org\n".to_vec()).unwrap();
        m.field(b"Return-Path: <r\0s@x.org>\n".to_vec()).unwrap();
        let out = m.finish(false).unwrap();
        assert!(out.ends_with(b"To: \"a\0b\"@x.org\n"));
        let r: Vec<&[u8]> = m.recipients(true).collect();
        assert_eq!((r, m.sender()), (vec![&b"a"[..]], &b"r"[..]));
    }

    #[test]
    fn followup_to() {
        let mut c = cfg();
        c.mft = Some(Map::new(&[b"LIST@x.org".to_vec()], false));
        let mut m = Inject::new(c.clone()).unwrap();
        m.field(b"To: a@x.org, list@x.org\n".to_vec()).unwrap();
        m.field(b"Cc: c@x.org\n".to_vec()).unwrap();
        let out = String::from_utf8(m.finish(false).unwrap()).unwrap();
        assert!(
            out.contains("Mail-Followup-To: c@x.org,\n  a@x.org,\n  list@x.org\nTo:"),
            "{out}"
        );
        let mut m = Inject::new(c).unwrap();
        m.field(b"To: a@x.org\n".to_vec()).unwrap();
        let out = String::from_utf8(m.finish(false).unwrap()).unwrap();
        assert!(!out.contains("Mail-Followup-To"));
    }
}
