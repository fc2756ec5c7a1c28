//! An RFC 822 message header read field by field, as qmail-inject reads it (headerbody.c,
//! hfield.c): continuation lines joined to their field, an mbox `From ` line kept as an
//! `MBOX-Line:` field, the header ended by an empty line or by the first line that is not a
//! field (a blank line is then inserted), a final line without newline given one, and the
//! names of the fields qmail-inject knows recognised case-insensitively.
//!
//! Input is hostile: a field longer than the reader's limit, or a header longer in total,
//! is refused instead of being held in memory.

use crate::getln::{getln, Got};
use std::io::{self, BufRead, Write};

/// The header fields qmail-inject treats specially.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Field {
    Sender,
    From,
    ReplyTo,
    To,
    Cc,
    Bcc,
    Date,
    MessageId,
    Subject,
    ResentSender,
    ResentFrom,
    ResentReplyTo,
    ResentTo,
    ResentCc,
    ResentBcc,
    ResentDate,
    ResentMessageId,
    ReturnReceiptTo,
    ErrorsTo,
    ApparentlyTo,
    Received,
    ReturnPath,
    DeliveredTo,
    ContentLength,
    ContentType,
    ContentTransferEncoding,
    NoticeRequestedUponDeliveryTo,
    MailFollowupTo,
}

/// Lowercase names, in the order of [`Field`].
const NAMES: [(&str, Field); 28] = [
    ("sender", Field::Sender),
    ("from", Field::From),
    ("reply-to", Field::ReplyTo),
    ("to", Field::To),
    ("cc", Field::Cc),
    ("bcc", Field::Bcc),
    ("date", Field::Date),
    ("message-id", Field::MessageId),
    ("subject", Field::Subject),
    ("resent-sender", Field::ResentSender),
    ("resent-from", Field::ResentFrom),
    ("resent-reply-to", Field::ResentReplyTo),
    ("resent-to", Field::ResentTo),
    ("resent-cc", Field::ResentCc),
    ("resent-bcc", Field::ResentBcc),
    ("resent-date", Field::ResentDate),
    ("resent-message-id", Field::ResentMessageId),
    ("return-receipt-to", Field::ReturnReceiptTo),
    ("errors-to", Field::ErrorsTo),
    ("apparently-to", Field::ApparentlyTo),
    ("received", Field::Received),
    ("return-path", Field::ReturnPath),
    ("delivered-to", Field::DeliveredTo),
    ("content-length", Field::ContentLength),
    ("content-type", Field::ContentType),
    ("content-transfer-encoding", Field::ContentTransferEncoding),
    (
        "notice-requested-upon-delivery-to",
        Field::NoticeRequestedUponDeliveryTo,
    ),
    ("mail-followup-to", Field::MailFollowupTo),
];

/// Which known field `line` is: its name (any case), optional blanks, then `:`.
pub fn known(line: &[u8]) -> Option<Field> {
    NAMES.iter().find_map(|&(name, f)| {
        let n = name.len();
        let head = line.get(..n)?;
        if !head.eq_ignore_ascii_case(name.as_bytes()) {
            return None;
        }
        let rest = &line[n..];
        let colon = rest.iter().position(|&c| c != b' ' && c != b'\t')?;
        (rest[colon] == b':').then_some(f)
    })
}

/// Whether `line` starts a header field: a colon, and before it (blanks trimmed) a
/// non-empty name of bytes 33–126.
pub fn valid(line: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    let mut name = &line[..colon];
    while let [rest @ .., b' ' | b'\t'] = name {
        name = rest;
    }
    !name.is_empty() && name.iter().all(|&c| (33..=126).contains(&c))
}

/// Why the header could not be read.
#[derive(Debug)]
pub enum Error {
    /// reading failed
    Io(io::Error),
    /// a field or the header as a whole is over the limit
    TooLong,
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

/// What [`Reader::next_part`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// a whole field, continuation lines included, ending in `\n`
    Field(Vec<u8>),
    /// the header is over; these bytes begin the body (the empty line, or an inserted
    /// empty line and the line that was not a field; nothing at end of input)
    Body(Vec<u8>),
}

/// Reads a header field by field from a buffered input.
pub struct Reader<R> {
    r: R,
    field: Option<Vec<u8>>,
    queued: Option<Next>,
    max_field: usize,
    left: usize,
    eof: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader that refuses fields over `max_field` bytes and headers over `max_header`.
    pub fn new(r: R, max_field: usize, max_header: usize) -> Reader<R> {
        Reader {
            r,
            field: None,
            queued: None,
            max_field,
            left: max_header,
            eof: false,
        }
    }

    /// The next line, newline added if the input ended without one; `None` at the end.
    fn line(&mut self) -> Result<Option<Vec<u8>>, Error> {
        if self.eof {
            return Ok(None);
        }
        let mut line = Vec::new();
        match getln(&mut self.r, b'\n', self.max_field, &mut line)? {
            Got::Eof => {
                self.eof = true;
                return Ok(None);
            }
            Got::TooLong => return Err(Error::TooLong),
            Got::Partial => self.eof = true,
            Got::Record => {}
        }
        line.push(b'\n');
        self.left = self.left.checked_sub(line.len()).ok_or(Error::TooLong)?;
        Ok(Some(line))
    }

    /// The next field, or the start of the body (after which the rest of the input is the
    /// body: see [`Reader::into_inner`]).
    pub fn next_part(&mut self) -> Result<Next, Error> {
        if let Some(n) = self.queued.take() {
            return Ok(n);
        }
        loop {
            let Some(line) = self.line()? else {
                return Ok(match self.field.take() {
                    Some(f) => {
                        self.queued = Some(Next::Body(Vec::new()));
                        Next::Field(f)
                    }
                    None => Next::Body(Vec::new()),
                });
            };
            if let Some(f) = &mut self.field {
                if line[0] == b' ' || line[0] == b'\t' {
                    if f.len() + line.len() > self.max_field {
                        return Err(Error::TooLong);
                    }
                    f.extend_from_slice(&line);
                    continue;
                }
            }
            let done = self.field.take();
            let body = if line == b"\n" {
                Some(line)
            } else if line.starts_with(b"From ") {
                let mut f = b"MBOX-Line: ".to_vec();
                f.extend_from_slice(&line);
                self.field = Some(f);
                None
            } else if valid(&line) {
                self.field = Some(line);
                None
            } else {
                let mut b = b"\n".to_vec();
                b.extend_from_slice(&line);
                Some(b)
            };
            match (done, body) {
                (Some(f), Some(b)) => {
                    self.queued = Some(Next::Body(b));
                    return Ok(Next::Field(f));
                }
                (Some(f), None) => return Ok(Next::Field(f)),
                (None, Some(b)) => return Ok(Next::Body(b)),
                (None, None) => {}
            }
        }
    }

    /// The input, positioned at the rest of the body.
    pub fn into_inner(self) -> R {
        self.r
    }

    /// Whether the input has ended (the body, if any, was all in [`Next::Body`]).
    pub fn at_end(&self) -> bool {
        self.eof
    }
}

/// A failure while copying the body.
#[derive(Debug)]
pub enum CopyError {
    /// reading the input failed
    Read(io::Error),
    /// writing the output failed
    Write(io::Error),
}

/// Copies the rest of `r` to `w` unchanged, except that a newline is added if the last byte
/// is not one. `last` is the last byte already written as body (if any).
pub fn copy_body(
    r: &mut impl BufRead,
    w: &mut impl Write,
    mut last: Option<u8>,
) -> Result<(), CopyError> {
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        if buf.is_empty() {
            break;
        }
        w.write_all(buf).map_err(CopyError::Write)?;
        last = buf.last().copied();
        let n = buf.len();
        r.consume(n);
    }
    if matches!(last, Some(c) if c != b'\n') {
        w.write_all(b"\n").map_err(CopyError::Write)?;
    }
    Ok(())
}

/// Past a field's name, its colon and the blanks after it (hfield_skipname).
pub fn skip_name(f: &[u8]) -> usize {
    let mut i = f.iter().position(|&c| c == b':').map_or(f.len(), |i| i + 1);
    while i < f.len() && matches!(f[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// Every byte outside printable ASCII (32–126) replaced by `with`, for a terminal.
pub fn printable(b: &mut [u8], with: u8) {
    for c in b.iter_mut().filter(|c| !(32..=126).contains(*c)) {
        *c = with;
    }
}

/// What qbiff and maildirwatch show of a message: after `text`, the Subject: contents, then
/// the body from the line that ends the header on, all cut at `width` bytes; each header
/// field is also handed to `each`. `None` if the message cannot be read.
pub fn glimpse(
    r: &mut impl BufRead,
    mut text: Vec<u8>,
    width: usize,
    mut each: impl FnMut(&[u8]),
) -> Option<Vec<u8>> {
    let add = |text: &mut Vec<u8>, s: &[u8]| {
        text.extend_from_slice(&s[..s.len().min(width.saturating_sub(text.len()))]);
    };
    let mut h = Reader::new(r, 1 << 20, 16 << 20);
    loop {
        match h.next_part().ok()? {
            Next::Field(f) => {
                if known(&f) == Some(Field::Subject) {
                    add(&mut text, &f[skip_name(&f)..]);
                }
                each(&f);
            }
            Next::Body(b) => {
                // qmail's headerbody hands over the line that ended the header as it is;
                // this reader puts an empty line in front of a line that is not a field.
                add(&mut text, if b.len() > 1 { &b[1..] } else { &b });
                break;
            }
        }
    }
    let r = h.into_inner();
    let mut line = Vec::new();
    while text.len() < width {
        line.clear();
        match io::Read::take(&mut *r, width as u64).read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => add(&mut text, &line),
            Err(_) => return None,
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut r = Reader::new(input, 1000, 10_000);
        let mut fields = Vec::new();
        let start = loop {
            match r.next_part().unwrap() {
                Next::Field(f) => fields.push(f),
                Next::Body(b) => break b,
            }
        };
        let mut body = start.clone();
        let mut rest = r.into_inner();
        copy_body(&mut rest, &mut body, start.last().copied()).unwrap();
        (fields, body)
    }

    #[test]
    fn names() {
        assert_eq!(known(b"TO: x"), Some(Field::To));
        assert_eq!(
            known(b"Resent-Message-ID \t: x"),
            Some(Field::ResentMessageId)
        );
        assert_eq!(known(b"to-x: y"), None);
        assert_eq!(known(b"To"), None);
        assert_eq!(known(b"To x: y"), None);
        assert_eq!(known(b"content-length:"), Some(Field::ContentLength));
        assert!(valid(b"X-A_b: c"));
        assert!(valid(b"X \t: c"));
        assert!(!valid(b": c"));
        assert!(!valid(b" X: c"));
        assert!(!valid(b"X Y: c"));
        assert!(!valid(b"X\xff: c"));
        assert!(!valid(b"no colon"));
    }

    #[test]
    fn fields_and_body() {
        let (f, b) = split(b"From joe Mon\nA: 1\n  2\n\tthree\nB:x\n\nbody\nmore");
        assert_eq!(
            f,
            vec![
                b"MBOX-Line: From joe Mon\n".to_vec(),
                b"A: 1\n  2\n\tthree\n".to_vec(),
                b"B:x\n".to_vec()
            ]
        );
        assert_eq!(b, b"\nbody\nmore\n");
        let (f, b) = split(b"A: 1\nnot a field\nB: 2\n");
        assert_eq!(f, vec![b"A: 1\n".to_vec()]);
        assert_eq!(b, b"\nnot a field\nB: 2\n");
        let (f, b) = split(b"A: 1");
        assert_eq!((f, b), (vec![b"A: 1\n".to_vec()], vec![]));
        let (f, b) = split(b"");
        assert_eq!((f.len(), b), (0, vec![]));
        let (f, b) = split(b"\n\n\0\xff");
        assert_eq!((f.len(), b), (0, b"\n\n\0\xff\n".to_vec()));
        let (f, b) = split(b" indented: x\n");
        assert_eq!((f.len(), b), (0, b"\n indented: x\n".to_vec()));
        let (f, b) = split(b"A: 1\r\n\r\nbody\r\n");
        assert_eq!(f, vec![b"A: 1\r\n".to_vec()]);
        assert_eq!(b, b"\n\r\nbody\r\n");
    }

    #[test]
    fn limits() {
        let long = [b"A: ".to_vec(), vec![b'x'; 2000], b"\n\n".to_vec()].concat();
        let mut r = Reader::new(&long[..], 1000, 10_000);
        assert!(matches!(r.next_part(), Err(Error::TooLong)));
        let folded = [b"A: 1\n".to_vec(), b" 2345678\n".repeat(200)].concat();
        let mut r = Reader::new(&folded[..], 1000, 10_000);
        assert!(matches!(r.next_part(), Err(Error::TooLong)));
        let many = b"A: 123456789\n".repeat(1000);
        let mut r = Reader::new(&many[..], 1000, 10_000);
        let mut n = 0;
        let end = loop {
            match r.next_part() {
                Ok(Next::Field(_)) => n += 1,
                other => break other,
            }
        };
        assert!(matches!(end, Err(Error::TooLong)));
        assert!(n < 800);
    }
}
