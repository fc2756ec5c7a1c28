//! Netstrings (`12:hello world!,`): strict reading of lengths, bounded reading of payloads,
//! writing. The QMTP and QMQP servers and the QMQP client speak them (netstring.html, and
//! the `getlen`/`getcomma` loops of qmail-qmtpd.c and qmail-qmqpd.c).
//!
//! Every byte read here comes from the network. A length is digits only, with no leading
//! zero, no sign, no blank, and at most [`MAX_LEN`]; anything else is a protocol error. A
//! payload is read into memory only when the caller bounds it; longer ones are skipped or
//! streamed.

use std::io::{self, BufRead};

/// The longest netstring a server takes (qmail-qmtpd's limit; beyond it: out of resources).
pub const MAX_LEN: u64 = 200_000_000;

/// Why a netstring could not be read.
#[derive(Debug)]
pub enum Error {
    /// the input ended (or a bounded input ran out: see [`Bounded`])
    Eof,
    /// not a netstring: a non-digit or leading zero in the length, or a missing comma
    Proto,
    /// a length above [`MAX_LEN`] or above what the caller allows
    TooLong,
    /// the read failed
    Io(io::Error),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::Eof
        } else {
            Error::Io(e)
        }
    }
}

/// One byte of input.
pub fn byte(r: &mut impl BufRead) -> Result<u8, Error> {
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let Some(&c) = buf.first() else {
            return Err(Error::Eof);
        };
        r.consume(1);
        return Ok(c);
    }
}

/// Reads `digits ":"` and returns the length. The first byte must be a digit; `0` must be
/// followed by the colon at once; the value must stay at most [`MAX_LEN`].
pub fn read_len(r: &mut impl BufRead) -> Result<u64, Error> {
    let first = byte(r)?;
    if !first.is_ascii_digit() {
        return Err(Error::Proto);
    }
    let mut n = u64::from(first - b'0');
    loop {
        let c = byte(r)?;
        if c == b':' {
            return Ok(n);
        }
        if !c.is_ascii_digit() || n == 0 {
            return Err(Error::Proto);
        }
        n = n * 10 + u64::from(c - b'0');
        if n > MAX_LEN {
            return Err(Error::TooLong);
        }
    }
}

/// Reads the `,` that ends a netstring.
pub fn read_comma(r: &mut impl BufRead) -> Result<(), Error> {
    match byte(r)? {
        b',' => Ok(()),
        _ => Err(Error::Proto),
    }
}

/// Passes the next `n` bytes, in pieces, to `each`.
pub fn copy(r: &mut impl BufRead, mut n: u64, mut each: impl FnMut(&[u8])) -> Result<(), Error> {
    while n > 0 {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if buf.is_empty() {
            return Err(Error::Eof);
        }
        let k = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        each(&buf[..k]);
        r.consume(k);
        n -= k as u64;
    }
    Ok(())
}

/// Reads the next `n` bytes into memory if `n < keep`, else skips them and returns `None`
/// (qmail's servers read an over-long address to the end and then refuse it).
pub fn payload(r: &mut impl BufRead, n: u64, keep: usize) -> Result<Option<Vec<u8>>, Error> {
    if n >= keep as u64 {
        copy(r, n, |_| ())?;
        return Ok(None);
    }
    let mut v = Vec::with_capacity(n as usize);
    copy(r, n, |b| v.extend_from_slice(b))?;
    Ok(Some(v))
}

/// A whole netstring whose payload is at most `max` bytes (else [`Error::TooLong`], before
/// reading the payload).
pub fn read(r: &mut impl BufRead, max: usize) -> Result<Vec<u8>, Error> {
    let n = read_len(r)?;
    if n > max as u64 {
        return Err(Error::TooLong);
    }
    let v = payload(r, n, max + 1)?.unwrap_or_default();
    read_comma(r)?;
    Ok(v)
}

/// Appends the netstring of `payload` to `out`.
pub fn put(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(payload);
    out.push(b',');
}

/// The netstring of `payload`.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 12);
    put(&mut v, payload);
    v
}

/// A reader that holds at most `left` more bytes of `inner`: the inside of an outer
/// netstring. Running out of it reads as end of input; [`Bounded::spent`] tells that apart
/// from the real end.
pub struct Bounded<'a, R> {
    inner: &'a mut R,
    left: u64,
}

impl<'a, R: BufRead> Bounded<'a, R> {
    /// The next `left` bytes of `inner`.
    pub fn new(inner: &'a mut R, left: u64) -> Self {
        Bounded { inner, left }
    }
    /// How many bytes are left.
    pub fn left(&self) -> u64 {
        self.left
    }
    /// Whether all of it was read.
    pub fn spent(&self) -> bool {
        self.left == 0
    }
    /// `e`, except that an end of input met because the bound was spent is a protocol error
    /// (the outer netstring promised fewer bytes than its inside needs).
    pub fn blame(&self, e: Error) -> Error {
        match e {
            Error::Eof if self.spent() => Error::Proto,
            e => e,
        }
    }
}

impl<R: BufRead> io::Read for Bounded<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let k = buf.len().min(out.len());
        out[..k].copy_from_slice(&buf[..k]);
        self.consume(k);
        Ok(k)
    }
}

impl<R: BufRead> BufRead for Bounded<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.left == 0 {
            return Ok(&[]);
        }
        let buf = self.inner.fill_buf()?;
        let k = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        Ok(&buf[..k])
    }
    fn consume(&mut self, k: usize) {
        self.inner.consume(k);
        self.left -= k as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_of(s: &[u8]) -> Result<u64, Error> {
        read_len(&mut &s[..])
    }

    #[test]
    fn lengths() {
        assert_eq!(len_of(b"0:").unwrap(), 0);
        assert_eq!(len_of(b"12:hello").unwrap(), 12);
        assert_eq!(len_of(b"200000000:").unwrap(), 200_000_000);
        for bad in [
            &b":"[..],
            b"x1:",
            b" 1:",
            b"+1:",
            b"-1:",
            b"1 :",
            b"1x:",
            b"01:",
            b"00:",
        ] {
            assert!(matches!(len_of(bad), Err(Error::Proto)), "{bad:?}");
        }
        for long in [
            &b"200000001:"[..],
            b"99999999999999999999999999:",
            b"2000000000",
        ] {
            assert!(matches!(len_of(long), Err(Error::TooLong)), "{long:?}");
        }
        for short in [&b""[..], b"1", b"123"] {
            assert!(matches!(len_of(short), Err(Error::Eof)), "{short:?}");
        }
    }

    #[test]
    fn whole_netstrings() {
        let mut r = &b"12:hello world!,0:,3:a\0b,5:abc"[..];
        assert_eq!(read(&mut r, 100).unwrap(), b"hello world!");
        assert_eq!(read(&mut r, 100).unwrap(), b"");
        assert_eq!(read(&mut r, 3).unwrap(), b"a\0b");
        assert!(matches!(read(&mut r, 100), Err(Error::Eof)));
        assert!(matches!(read(&mut &b"4:abcd;"[..], 9), Err(Error::Proto)));
        assert!(matches!(read(&mut &b"3:abc;"[..], 9), Err(Error::Proto)));
        assert!(matches!(read(&mut &b"3:abc"[..], 9), Err(Error::Eof)));
        assert!(matches!(read(&mut &b"4:abcd,"[..], 3), Err(Error::TooLong)));
    }

    #[test]
    fn long_payloads_are_skipped_not_kept() {
        let mut r = &b"xxxxxyz"[..];
        assert_eq!(payload(&mut r, 5, 5).unwrap(), None);
        assert_eq!(r, b"yz");
        assert_eq!(payload(&mut r, 2, 5).unwrap(), Some(b"yz".to_vec()));
        assert!(matches!(payload(&mut r, 1, 5), Err(Error::Eof)));
    }

    #[test]
    fn writing() {
        assert_eq!(encode(b""), b"0:,");
        assert_eq!(encode(b"hello world!"), b"12:hello world!,");
        let mut v = encode(b"a");
        put(&mut v, b"bc");
        assert_eq!(v, b"1:a,2:bc,");
        let mut r = &v[..];
        assert_eq!(read(&mut r, 9).unwrap(), b"a");
        assert_eq!(read(&mut r, 9).unwrap(), b"bc");
    }

    #[test]
    fn bounded_input_ends_as_a_protocol_error() {
        let mut src = &b"3:abc,2:de,rest"[..];
        let mut b = Bounded::new(&mut src, 9);
        assert_eq!(read(&mut b, 9).unwrap(), b"abc");
        assert_eq!(b.left(), 3);
        let e = read(&mut b, 9).unwrap_err();
        assert!(matches!(b.blame(e), Error::Proto));
        assert_eq!(src, b"e,rest");
        let mut src = &b"3:ab"[..];
        let mut b = Bounded::new(&mut src, 9);
        let e = read(&mut b, 9).unwrap_err();
        assert!(matches!(b.blame(e), Error::Eof));
    }

    #[test]
    fn hostile_bytes_in_lengths() {
        let mut all = Vec::new();
        for c in 0..=255u8 {
            if !c.is_ascii_digit() {
                all.push(c);
            }
        }
        for c in all {
            assert!(matches!(len_of(&[c, b':']), Err(Error::Proto)), "{c}");
            assert!(matches!(
                len_of(&[b'1', c, b':']),
                Err(Error::Proto) | Ok(1)
            ));
        }
        assert!(matches!(len_of(b"1\0:"), Err(Error::Proto)));
        assert!(matches!(len_of(b"1\n:"), Err(Error::Proto)));
    }
}
