//! serialqmtp's side of QMTP (formats.md §3): one package per file — the message after its
//! two envelope lines in encoding `\n`, the sender, the one recipient less the prefix — sent
//! back to back, and one response netstring per package, `K`, `Z` or `D` and a text.

use super::Envelope;
use crate::netstring::{self, Error};
use std::io::{self, BufRead, Read, Write};

/// Writes the package for `env`: `len` bytes of `msg` (the file after the envelope lines),
/// its sender, and its recipient less `prefix` (which it must start with). A file that ends
/// before `len` bytes is `UnexpectedEof`.
pub fn package(
    w: &mut impl Write,
    env: &Envelope,
    prefix: &[u8],
    msg: &mut impl Read,
    len: u64,
) -> io::Result<()> {
    let rcpt = env.recipient.strip_prefix(prefix).unwrap_or(&env.recipient);
    writeln!(w, "{}:", len + 1)?; // the length, then the encoding byte: LF line ends
    if io::copy(&mut msg.take(len), w)? != len {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    w.write_all(b",")?;
    w.write_all(&netstring::encode(&env.sender))?;
    w.write_all(&netstring::encode(&netstring::encode(rcpt)))
}

/// Reads one response: its status byte (`K`, `Z` or `D`, else [`Error::Proto`]) and the
/// first `keep` bytes of its text.
pub fn response(r: &mut impl BufRead, keep: usize) -> Result<(u8, Vec<u8>), Error> {
    let n = netstring::read_len(r)?;
    if n == 0 {
        return Err(Error::Proto);
    }
    let status = netstring::byte(r)?;
    if !matches!(status, b'K' | b'Z' | b'D') {
        return Err(Error::Proto);
    }
    let mut text = Vec::new();
    netstring::copy(r, n - 1, |b| {
        let room = keep.saturating_sub(text.len()).min(b.len());
        text.extend_from_slice(&b[..room]);
    })?;
    netstring::read_comma(r)?;
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_as_serialmail_sends_them() {
        let env = Envelope {
            sender: b"Sender".to_vec(),
            recipient: b"Account-Whatever".to_vec(),
            head_len: 0,
        };
        let mut out = Vec::new();
        package(
            &mut out,
            &env,
            b"Account-",
            &mut &b"This is a test.\n"[..],
            16,
        )
        .unwrap();
        assert_eq!(out, b"17:\nThis is a test.\n,6:Sender,11:8:Whatever,,");
        let e = package(&mut Vec::new(), &env, b"", &mut &b"short"[..], 16).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn responses() {
        let mut r = &b"7:Kthanks,18:Ztemporary failure,2:Dx,"[..];
        assert_eq!(response(&mut r, 100).unwrap(), (b'K', b"thanks".to_vec()));
        assert_eq!(response(&mut r, 4).unwrap(), (b'Z', b"temp".to_vec()));
        assert_eq!(response(&mut r, 4).unwrap(), (b'D', b"x".to_vec()));
        assert!(matches!(response(&mut r, 4), Err(Error::Eof)));
        for bad in [&b"0:,"[..], b"2:Xy,", b"2:Ky;", b"x:"] {
            assert!(
                matches!(response(&mut &bad[..], 9), Err(Error::Proto)),
                "{bad:?}"
            );
        }
    }
}
