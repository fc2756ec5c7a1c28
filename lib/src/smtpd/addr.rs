//! The envelope address in a MAIL or RCPT argument (qmail-smtpd's addrparse), the ESMTP
//! `SIZE=` parameter after it, and the badmailfrom test (bmfcheck).

use crate::control::Map;
use std::net::Ipv4Addr;

/// The longest stored address, counting qmail's terminating NUL.
pub const ADDR_MAX: usize = 900;

/// What `localiphost` needs: the name to put in, and the addresses that count as this host.
#[derive(Clone, Debug, Default)]
pub struct LocalIp {
    /// `control/localiphost` (else `me`)
    pub host: Vec<u8>,
    /// this host's IPv4 addresses, listed by [`LocalIp::load`] the first time an address
    /// needs them (most sessions never do); 0.0.0.0 always counts as well
    pub ips: std::cell::OnceCell<Vec<Ipv4Addr>>,
}

impl LocalIp {
    /// `localiphost` for `host`; the addresses are listed when first needed.
    pub fn new(host: Vec<u8>) -> LocalIp {
        LocalIp {
            host,
            ips: std::cell::OnceCell::new(),
        }
    }

    /// Lists this host's IPv4 addresses, once.
    pub fn load(&self) -> std::io::Result<()> {
        if self.ips.get().is_none() {
            let ips = crate::sys::ifaddr::local_ips()?;
            let v4 = ips.into_iter().filter_map(|ip| match ip {
                std::net::IpAddr::V4(v4) => Some(v4),
                std::net::IpAddr::V6(_) => None,
            });
            let _ = self.ips.set(v4.collect());
        }
        Ok(())
    }
}

/// A parsed address and the ESMTP parameters after it.
pub type Parsed<'a> = (Vec<u8>, &'a [u8]);

/// Parses `arg` (the text after the verb). `Some((address, parameters))` with quoting
/// undone and the source route removed; `None` is a syntax error (address too long, or NUL
/// in it). The parameters are whatever followed the address's terminator.
pub fn parse<'a>(arg: &'a [u8], liphost: Option<&LocalIp>) -> Option<Parsed<'a>> {
    let (mut rest, terminator) = match memchr::memchr(b'<', arg) {
        Some(i) => (&arg[i + 1..], b'>'),
        None => {
            // no brackets (the client should read RFC 821): after the first colon, to a space
            let mut r = match memchr::memchr(b':', arg) {
                Some(i) => &arg[i + 1..],
                None => &arg[arg.len()..],
            };
            while let [b' ', tail @ ..] = r {
                r = tail;
            }
            (r, b' ')
        }
    };
    if rest.first() == Some(&b'@') {
        rest = match memchr::memchr(b':', rest) {
            Some(i) => &rest[i + 1..],
            None => &rest[rest.len()..],
        };
    }
    let mut addr = Vec::new();
    let (mut esc, mut quoted) = (false, false);
    let mut end = rest.len();
    for (i, &c) in rest.iter().enumerate() {
        if esc {
            addr.push(c);
            esc = false;
        } else if !quoted && c == terminator {
            end = i + 1;
            break;
        } else {
            match c {
                b'\\' => esc = true,
                b'"' => quoted = !quoted,
                _ => addr.push(c),
            }
        }
        if addr.len() >= ADDR_MAX {
            return None;
        }
    }
    if addr.contains(&0) {
        return None;
    }
    if let Some(l) = liphost {
        local_ip_host(&mut addr, l);
    }
    if addr.len() >= ADDR_MAX {
        return None;
    }
    Some((addr, &rest[end..]))
}

/// `user@[d.d.d.d]` where d.d.d.d is this host → `user@localiphost`.
fn local_ip_host(addr: &mut Vec<u8>, l: &LocalIp) {
    let Some(at) = memchr::memrchr(b'@', addr) else {
        return;
    };
    let Some(inner) = addr[at + 1..]
        .strip_prefix(b"[")
        .and_then(|r| r.strip_suffix(b"]"))
    else {
        return;
    };
    let Some(ip) = std::str::from_utf8(inner)
        .ok()
        .and_then(|s| s.parse::<Ipv4Addr>().ok())
    else {
        return;
    };
    if ip.is_unspecified() || l.ips.get().is_some_and(|ips| ips.contains(&ip)) {
        addr.truncate(at + 1);
        addr.extend_from_slice(&l.host);
    }
}

/// The value of an ESMTP `SIZE=n` parameter among `params` (space separated, keyword in any
/// case); a number too big to hold counts as `u64::MAX`. Without digits it is ignored.
pub fn size_param(params: &[u8]) -> Option<u64> {
    params
        .split(|&c| c == b' ')
        .filter(|p| p.len() > 5 && p[..5].eq_ignore_ascii_case(b"size="))
        .find_map(|p| match crate::scan::ulong(&p[5..]) {
            (_, 0) => None,
            (n, _) => Some(n),
        })
}

/// Whether `sender` is in badmailfrom: the whole address, or `@domain` for the part from
/// its last `@` on; case-insensitive.
pub fn bad_mail_from(bmf: &Map, sender: &[u8]) -> bool {
    if bmf.contains(sender) {
        return true;
    }
    memchr::memrchr(b'@', sender).is_some_and(|at| bmf.contains(&sender[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(arg: &[u8]) -> Option<Vec<u8>> {
        parse(arg, None).map(|(a, _)| a)
    }

    #[test]
    fn brackets_and_rfc821_violators() {
        assert_eq!(p(b"FROM:<a@b.c>"), Some(b"a@b.c".to_vec()));
        assert_eq!(p(b"FROM: <a@b.c> SIZE=10"), Some(b"a@b.c".to_vec()));
        assert_eq!(p(b"<a@b>"), Some(b"a@b".to_vec()));
        assert_eq!(p(b"FROM:<>"), Some(Vec::new()));
        assert_eq!(p(b"FROM:  a@b.c SIZE=10"), Some(b"a@b.c".to_vec()));
        assert_eq!(p(b"FROM:a@b.c"), Some(b"a@b.c".to_vec()));
        assert_eq!(p(b"junk"), Some(Vec::new()));
        assert_eq!(p(b"TO:<a@b"), Some(b"a@b".to_vec()));
        let (_, params) = parse(b"FROM:<a@b> SIZE=10 BODY=8BITMIME", None).unwrap();
        assert_eq!(params, b" SIZE=10 BODY=8BITMIME");
        let (_, params) = parse(b"FROM:a@b SIZE=10", None).unwrap();
        assert_eq!(params, b"SIZE=10");
    }

    #[test]
    fn quoting_and_source_routes() {
        assert_eq!(p(b"TO:<\"a b\"@c>"), Some(b"a b@c".to_vec()));
        assert_eq!(p(b"TO:<\"a>b\"@c>"), Some(b"a>b@c".to_vec()));
        assert_eq!(p(b"TO:<a\\>b@c>"), Some(b"a>b@c".to_vec()));
        assert_eq!(p(b"TO:<a\\\\b@c>"), Some(b"a\\b@c".to_vec()));
        assert_eq!(p(b"TO:<@x.y,@z:u@v>"), Some(b"u@v".to_vec()));
        assert_eq!(p(b"TO:<@x.y>"), Some(Vec::new()));
        assert_eq!(p(b"TO:\"a b\"@c d"), Some(b"a b@c".to_vec()));
    }

    #[test]
    fn length_and_nul() {
        let long = |n: usize| [b"<".as_slice(), &vec![b'x'; n], b">"].concat();
        assert_eq!(p(&long(899)).map(|a| a.len()), Some(899));
        assert_eq!(p(&long(900)), None);
        assert_eq!(p(&long(100_000)), None);
        assert_eq!(p(b"<a\0b@c>"), None);
        assert_eq!(p(b"<a@c> \0"), Some(b"a@c".to_vec()));
    }

    #[test]
    fn local_ip_becomes_the_name() {
        let l = LocalIp {
            host: b"here.example".to_vec(),
            ips: vec![Ipv4Addr::new(192, 0, 2, 1)].into(),
        };
        let q = |a: &[u8]| parse(a, Some(&l)).map(|(a, _)| a);
        assert_eq!(q(b"<u@[192.0.2.1]>"), Some(b"u@here.example".to_vec()));
        assert_eq!(q(b"<u@[0.0.0.0]>"), Some(b"u@here.example".to_vec()));
        assert_eq!(q(b"<u@[192.0.2.2]>"), Some(b"u@[192.0.2.2]".to_vec()));
        assert_eq!(q(b"<u@[192.0.2.1]x>"), Some(b"u@[192.0.2.1]x".to_vec()));
        assert_eq!(q(b"<u@192.0.2.1>"), Some(b"u@192.0.2.1".to_vec()));
        let big = LocalIp {
            host: vec![b'h'; 898],
            ..l
        };
        assert_eq!(parse(b"<u@[0.0.0.0]>", Some(&big)), None);
    }

    #[test]
    fn size_parameter() {
        assert_eq!(size_param(b" SIZE=1000"), Some(1000));
        assert_eq!(size_param(b" body=8bitmime size=12"), Some(12));
        assert_eq!(size_param(b" SIZE=x"), None);
        assert_eq!(size_param(b" SIZE="), None);
        assert_eq!(size_param(b" XSIZE=5"), None);
        assert_eq!(size_param(b" SIZE=99999999999999999999999"), Some(u64::MAX));
        assert_eq!(size_param(b""), None);
    }

    #[test]
    fn badmailfrom_exact_and_domain() {
        let m = Map::new(
            &[b"Spam@Example.com".to_vec(), b"@bad.example".to_vec()],
            false,
        );
        assert!(bad_mail_from(&m, b"spam@example.COM"));
        assert!(bad_mail_from(&m, b"anyone@BAD.example"));
        assert!(bad_mail_from(&m, b"x@y@bad.example"));
        assert!(!bad_mail_from(&m, b"anyone@sub.bad.example"));
        assert!(!bad_mail_from(&m, b"ham@example.com"));
        assert!(!bad_mail_from(&m, b""));
    }
}
