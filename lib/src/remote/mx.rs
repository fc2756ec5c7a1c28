//! The addresses to try for a domain: a literal, or its mail exchangers in preference
//! order (equal preferences shuffled), or, without MX records, the domain's own addresses
//! (the implicit MX, preference 0); then qmail's check that this host is not itself the
//! best exchanger. Beyond qmail: IPv6 addresses (AAAA) as well as IPv4, each host's IPv6
//! addresses first; and RFC 7505's null MX (`0 .`), a domain that takes no mail.

use crate::dns::{DnsError, Resolver};
use std::net::IpAddr;

/// One address to try, with its exchanger's preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// the exchanger's preference (0 for an implicit MX or a literal)
    pub pref: u32,
    /// the address
    pub ip: IpAddr,
}

/// Why there is nothing to try.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// a temporary DNS failure (#4.1.2)
    Temp,
    /// the domain does not exist (#5.1.2)
    NoHost,
    /// no exchanger and no address (#5.4.4)
    NoMx,
    /// the domain's null MX says it takes no mail
    NullMx,
}

/// An address literal as a domain: `[1.2.3.4]`, `[IPv6:2001:db8::1]`, `[::1]`, or a bare
/// dotted quad.
pub fn literal(host: &[u8]) -> Option<IpAddr> {
    let inner = match host {
        [b'[', inner @ .., b']'] => inner,
        _ => return crate::ip::parse(host).filter(IpAddr::is_ipv4),
    };
    let inner = match inner {
        [b'I' | b'i', b'P' | b'p', b'v' | b'V', b'6', b':', rest @ ..] => rest,
        _ => inner,
    };
    crate::ip::parse(inner)
}

/// A host's addresses, IPv6 first. `Err(Temp)` only if a lookup failed temporarily and
/// gave nothing; a name that does not exist is `Err(NoHost)`.
pub fn host_ips(dns: &Resolver, name: &[u8]) -> Result<Vec<IpAddr>, Lookup> {
    let six = dns.ip6(name);
    let four = dns.ip4(name);
    let mut ips: Vec<IpAddr> = Vec::new();
    ips.extend(six.iter().flatten().map(|&a| IpAddr::V6(a)));
    ips.extend(four.iter().flatten().map(|&a| IpAddr::V4(a)));
    if !ips.is_empty() {
        return Ok(ips);
    }
    match (six, four) {
        (Err(DnsError::Soft(_)), _) | (_, Err(DnsError::Soft(_))) => Err(Lookup::Temp),
        (Err(DnsError::Hard), _) | (_, Err(DnsError::Hard)) => Err(Lookup::NoHost),
        _ => Ok(ips),
    }
}

/// Everything to try for `host`, best first.
pub fn targets(
    dns: &Resolver,
    host: &[u8],
    mut random: impl FnMut() -> u64,
) -> Result<Vec<Target>, Lookup> {
    if let Some(ip) = literal(host) {
        return Ok(vec![Target { pref: 0, ip }]);
    }
    let mut mxs = match dns.mx(host) {
        Ok(list) => list,
        Err(DnsError::Soft(_)) => return Err(Lookup::Temp),
        Err(DnsError::Hard) => Vec::new(),
    };
    if mxs.len() == 1 && matches!(mxs[0].1.as_slice(), b"" | b".") {
        return Err(Lookup::NullMx);
    }
    if mxs.is_empty() {
        let ips = host_ips(dns, host)?;
        if ips.is_empty() {
            return Err(Lookup::NoMx);
        }
        return Ok(ips.into_iter().map(|ip| Target { pref: 0, ip }).collect());
    }
    // Random keys first, then a stable sort by preference: equal ones end up shuffled.
    let mut keyed: Vec<(u64, u16, Vec<u8>)> =
        mxs.drain(..).map(|(p, n)| (random(), p, n)).collect();
    keyed.sort_by_key(|k| k.0);
    keyed.sort_by_key(|k| k.1);
    let (mut out, mut temp) = (Vec::new(), false);
    for (_, pref, name) in keyed {
        match host_ips(dns, &name) {
            Ok(ips) => out.extend(ips.into_iter().map(|ip| Target {
                pref: u32::from(pref),
                ip,
            })),
            Err(Lookup::Temp) => temp = true,
            Err(_) => {}
        }
    }
    match (out.is_empty(), temp) {
        (true, true) => Err(Lookup::Temp),
        (true, false) => Err(Lookup::NoMx),
        _ => Ok(out),
    }
}

/// qmail's am-I-the-MX rule: only exchangers better than the best one that is this host
/// (one of `mine`, or the unspecified address) are eligible. `None`: this host is the best.
pub fn eligible(targets: Vec<Target>, mine: &[IpAddr]) -> Option<Vec<Target>> {
    let me = |ip: &IpAddr| ip.is_unspecified() || mine.contains(&crate::ip::unmapped(*ip));
    let prefme = targets.iter().filter(|t| me(&t.ip)).map(|t| t.pref).min();
    let out: Vec<Target> = match prefme {
        Some(p) => targets.into_iter().filter(|t| t.pref < p).collect(),
        None => targets,
    };
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pref: u32, ip: &str) -> Target {
        Target {
            pref,
            ip: ip.parse().unwrap(),
        }
    }

    #[test]
    fn literals() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(literal(b"[1.2.3.4]"), ip("1.2.3.4"));
        assert_eq!(literal(b"1.2.3.4"), ip("1.2.3.4"));
        assert_eq!(literal(b"[IPv6:2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(literal(b"[::1]"), ip("::1"));
        assert_eq!(literal(b"::1"), None);
        assert_eq!(literal(b"example.org"), None);
        assert_eq!(literal(b"[example.org]"), None);
    }

    #[test]
    fn am_i_the_mx() {
        let mine: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap()];
        let list = vec![t(5, "10.0.0.9"), t(10, "10.0.0.1"), t(20, "10.0.0.7")];
        assert_eq!(eligible(list, &mine), Some(vec![t(5, "10.0.0.9")]));
        assert_eq!(
            eligible(vec![t(0, "10.0.0.1"), t(10, "10.0.0.2")], &mine),
            None
        );
        assert_eq!(eligible(vec![t(0, "0.0.0.0")], &mine), None);
        assert_eq!(eligible(vec![t(3, "::ffff:10.0.0.1")], &mine), None);
        assert_eq!(
            eligible(vec![t(3, "10.0.0.3")], &mine),
            Some(vec![t(3, "10.0.0.3")])
        );
    }
}
