//! QMQP, both sides: the server reads one package (qmail-qmqpd.c) and the client turns a
//! qmail-queue envelope into one and reads the verdict (qmail-qmqpc.c).

use crate::getln::{getln, Got};
use crate::netstring::{self, Bounded};
use crate::qmtp::{answer, End, Pending, Sink, ADDR_MAX};
use crate::received::{self, Peer};
use std::io::{self, BufRead};
use std::net::IpAddr;

/// The QMQP port.
pub const PORT: u16 = 628;

const BAD_ADDR: &str = "Dsorry, I can't accept addresses like that (#5.1.3)";

/// Reads one package from `r` into the sink `open` starts, and returns the answer text
/// (`K…`, `Z…` or `D…`) to send back as a netstring. Every read is bounded by the outer
/// length; an address of [`ADDR_MAX`] bytes or more, or with a NUL, aborts the message.
pub fn serve<S: Sink>(
    r: &mut impl BufRead,
    peer: &Peer,
    open: &mut dyn FnMut() -> io::Result<S>,
) -> Result<String, End> {
    let outer = netstring::read_len(r)?;
    let mut pkg = Bounded::new(r, outer);
    let inner = |b: &Bounded<_>, e| End::from(b.blame(e));
    let len = netstring::read_len(&mut pkg).map_err(|e| inner(&pkg, e))?;
    let mut q = Pending::new(open().map_err(|_| End::Resources)?);
    let qp = q.get().qp();
    let now = crate::date::secs(std::time::SystemTime::now());
    q.get().put(&received::line("QMQP", peer, None, now));
    netstring::copy(&mut pkg, len, |piece| q.get().put(piece)).map_err(|e| inner(&pkg, e))?;
    netstring::read_comma(&mut pkg).map_err(|e| inner(&pkg, e))?;
    let mut ok = true;
    let mut first = true;
    while first || !pkg.spent() {
        let n = netstring::read_len(&mut pkg).map_err(|e| inner(&pkg, e))?;
        let addr = netstring::payload(&mut pkg, n, ADDR_MAX).map_err(|e| inner(&pkg, e))?;
        netstring::read_comma(&mut pkg).map_err(|e| inner(&pkg, e))?;
        let addr = addr.filter(|a| !a.contains(&0));
        ok &= addr.is_some();
        let addr = addr.unwrap_or_default();
        if std::mem::take(&mut first) {
            q.get().from(&addr);
        } else {
            q.get().to(&addr);
        }
    }
    netstring::read_comma(r)?;
    if !ok {
        return Ok(BAD_ADDR.into());
    }
    Ok(answer(q.close(), qp))
}

/// Why an envelope could not be taken.
#[derive(Debug)]
pub enum EnvError {
    /// it could not be read: exit 54
    Read(io::Error),
    /// it is not `F…\0` `T…\0`… `\0`: exit 91
    Format,
}

/// Reads a qmail-queue envelope: the sender and the recipients.
pub fn envelope(r: &mut impl BufRead) -> Result<(Vec<u8>, Vec<Vec<u8>>), EnvError> {
    let mut rec = Vec::new();
    let mut next = |rec: &mut Vec<u8>| match getln(r, 0, usize::MAX, rec) {
        Ok(Got::Record) => Ok(()),
        Ok(_) => Err(EnvError::Format),
        Err(e) => Err(EnvError::Read(e)),
    };
    next(&mut rec)?;
    let sender = match rec.split_first() {
        Some((b'F', s)) => s.to_vec(),
        _ => return Err(EnvError::Format),
    };
    let mut recips = Vec::new();
    loop {
        next(&mut rec)?;
        match rec.split_first() {
            None => return Ok((sender, recips)),
            Some((b'T', t)) => recips.push(t.to_vec()),
            Some(_) => return Err(EnvError::Format),
        }
    }
}

/// The package around a message of `message_len` bytes: what goes before the message and
/// what goes after it (the message itself is sent as it is, not copied).
pub fn package(message_len: usize, sender: &[u8], recips: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
    let mut after = b",".to_vec();
    netstring::put(&mut after, sender);
    for r in recips {
        netstring::put(&mut after, r);
    }
    let inner = format!("{message_len}:");
    let outer = inner.len() + message_len + after.len();
    let before = format!("{outer}:{inner}").into_bytes();
    after.push(b',');
    (before, after)
}

/// The servers of `control/qmqpservers`: each line an IPv4 dotted quad or (rqmail) an IPv6
/// address, optionally in brackets; other lines are ignored.
pub fn servers(lines: &[Vec<u8>]) -> Vec<IpAddr> {
    lines
        .iter()
        .filter_map(|l| {
            let s = std::str::from_utf8(l).ok()?;
            let s = s
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .unwrap_or(s);
            s.parse().ok()
        })
        .collect()
}

/// The exit code for the first verdict byte in a server's answer: `K` 0, `Z` 71, `D` 31;
/// other bytes (the netstring's length) are passed over.
pub fn verdict(b: u8) -> Option<u8> {
    match b {
        b'K' => Some(0),
        b'Z' => Some(71),
        b'D' => Some(31),
        _ => None,
    }
}

/// The exit code for a failed connection: 56 if no socket could be made (out of
/// descriptors or memory), 72 on timeout, else 73 (refused, unreachable: try the next).
pub fn connect_code(e: &io::Error) -> u8 {
    match e.raw_os_error() {
        // ENFILE EMFILE ENOBUFS ENOMEM
        Some(23 | 24 | 105 | 12) => 56,
        _ if e.kind() == io::ErrorKind::TimedOut => 72,
        _ => 73,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qmail::Refused;
    use crate::qmtp::tests::{Rec, Seen};
    use std::cell::RefCell;
    use std::rc::Rc;

    fn peer() -> Peer {
        Peer {
            ip: b"10.0.0.2".to_vec(),
            host: b"unknown".to_vec(),
            info: Some(b"joe".to_vec()),
            local: b"hub".to_vec(),
        }
    }

    fn serve_on(input: &[u8]) -> (Result<String, End>, Seen) {
        let seen = Rc::new(RefCell::new(Seen::default()));
        let s = seen.clone();
        let r = serve(&mut &input[..], &peer(), &mut || Ok(Rec(s.clone(), Ok(()))));
        drop(s);
        (r, Rc::try_unwrap(seen).unwrap().into_inner())
    }

    #[test]
    fn one_package() {
        let (r, seen) = serve_on(b"24:5:hi\nyo,3:a@b,3:c@d,1:e,,");
        assert!(r.unwrap().starts_with("Kok "));
        assert!(seen
            .mess
            .starts_with(b"Received: from unknown (joe@10.0.0.2)\n  by hub with QMQP; "));
        assert!(seen.mess.ends_with(b" -0000\nhi\nyo"));
        assert_eq!(seen.env, b"Fa@b\0Tc@d\0Te\0");
        assert_eq!(seen.closed, 1);
    }

    #[test]
    fn bad_addresses_abort() {
        let long = "x".repeat(1000);
        let inner = format!("1:m,3:a@b,1000:{long},");
        let (r, seen) = serve_on(format!("{}:{inner},", inner.len()).as_bytes());
        assert_eq!(r.unwrap(), BAD_ADDR);
        assert_eq!((seen.closed, seen.aborted), (0, 1));
        let (r, _) = serve_on(b"14:1:m,3:a\0b,1:c,,");
        assert_eq!(r.unwrap(), BAD_ADDR);
    }

    #[test]
    fn protocol_errors_and_ends() {
        for bad in [
            &b"x:"[..],
            b"13:1:m,3:a@b,1:c,,",
            b"15:1:m,3:a@b,1:c,,",
            b"14:1:m;3:a@b,1:c,,",
            b"14:1:m,3:a@b,1:c,;",
            b"14:1:m,3:a@b,1:c;,",
            b"4:1:m,,",
            b"9:1:m,3:a@b,",
        ] {
            let (r, seen) = serve_on(bad);
            assert_eq!(r, Err(End::Proto), "{bad:?}");
            assert_eq!(seen.closed, 0, "{bad:?}");
        }
        assert_eq!(serve_on(b"300000000:").0, Err(End::Resources));
        assert_eq!(serve_on(b"14:1:m,3:a@b").0, Err(End::Eof));
        let (r, seen) = serve_on(b"14:1:m,3:a@b,1:c,");
        assert_eq!((r, seen.aborted), (Err(End::Eof), 1));
    }

    #[test]
    fn queue_refusal() {
        let seen = Rc::new(RefCell::new(Seen::default()));
        let refused = Refused {
            perm: true,
            text: "qq permanent problem (#5.3.0)".into(),
        };
        let r = serve(&mut &b"10:1:m,0:,0:,,"[..], &peer(), &mut || {
            Ok(Rec(seen.clone(), Err(refused.clone())))
        });
        assert_eq!(r.unwrap(), "Dqq permanent problem (#5.3.0)");
    }

    #[test]
    fn envelopes() {
        let env = |b: &[u8]| envelope(&mut &b[..]);
        let (s, r) = env(b"Fa@b\0Tc@d\0T\0\0junk").unwrap();
        assert_eq!((s, r), (b"a@b".to_vec(), vec![b"c@d".to_vec(), vec![]]));
        assert_eq!(env(b"F\0\0").unwrap(), (vec![], vec![]));
        for bad in [
            &b""[..],
            b"\0",
            b"Ta\0\0",
            b"Fa\0Xb\0\0",
            b"Fa\0Tb\0",
            b"Fa\0Tb",
            b"Fa",
        ] {
            assert!(matches!(env(bad), Err(EnvError::Format)), "{bad:?}");
        }
    }

    #[test]
    fn packages_round_trip_through_the_server() {
        let msg = b"Subject: x\n\nbody\n";
        let (before, after) = package(msg.len(), b"a@b", &[b"c@d".to_vec(), b"e@f".to_vec()]);
        let wire = [&before[..], msg, &after[..]].concat();
        assert_eq!(wire, b"39:17:Subject: x\n\nbody\n,3:a@b,3:c@d,3:e@f,,");
        let (r, seen) = serve_on(&wire);
        assert!(r.unwrap().starts_with("Kok "));
        assert!(seen.mess.ends_with(msg));
        assert_eq!(seen.env, b"Fa@b\0Tc@d\0Te@f\0");
    }

    #[test]
    fn server_lines() {
        let lines: Vec<Vec<u8>> = ["127.0.0.1", "host.example", "::1", "[2001:db8::5]", "1.2.3"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let got: Vec<String> = servers(&lines).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["127.0.0.1", "::1", "2001:db8::5"]);
        let codes: Vec<Option<u8>> = b"12:KZD".iter().map(|&b| verdict(b)).collect();
        assert_eq!(codes, [None, None, None, Some(0), Some(71), Some(31)]);
        let refused = io::Error::from_raw_os_error(111);
        assert_eq!(connect_code(&refused), 73);
        assert_eq!(connect_code(&io::Error::from(io::ErrorKind::TimedOut)), 72);
        assert_eq!(connect_code(&io::Error::from_raw_os_error(24)), 56);
    }
}
