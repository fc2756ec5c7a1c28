//! `control/smtproutes` and `control/qmtproutes`: `domain:relay[:port]` lines, looked up
//! by the whole domain, then each parent at a dot (longest first), then the empty key.
//! An IPv6 relay is bracketed (`example.org:[2001:db8::25]:2525`, shared/spec/decisions.md);
//! an IPv4 relay may be bare or bracketed; anything else is a host name.

use crate::control::Map;
use std::net::IpAddr;

/// Where a route sends a domain's mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relay {
    /// a literal address
    Ip(IpAddr),
    /// a host name, resolved to its addresses (not its MX)
    Name(Vec<u8>),
}

/// A route's destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// the host
    pub relay: Relay,
    /// the port (25 for SMTP, 209 for QMTP unless the route says)
    pub port: u16,
}

/// The route table's value for `host`: whole name, then `.parent` suffixes from the
/// longest, then the empty default (qmail's lookup order).
pub fn find<'a>(table: &'a Map, host: &[u8]) -> Option<&'a [u8]> {
    if let Some(v) = table.get(host) {
        return Some(v);
    }
    for (i, &c) in host.iter().enumerate() {
        if c == b'.' {
            if let Some(v) = table.get(&host[i..]) {
                return Some(v);
            }
        }
    }
    table.get(b"")
}

/// A route value that cannot be used (a bad port, an unclosed bracket, a bad literal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadRoute;

/// Parses a route's value (after `domain:`). `Ok(None)`: the relay is empty, so the domain
/// goes by MX as usual.
pub fn parse(value: &[u8], default_port: u16) -> Result<Option<Route>, BadRoute> {
    let (relay, rest) = if value.first() == Some(&b'[') {
        let end = memchr::memchr(b']', value).ok_or(BadRoute)?;
        let ip = crate::ip::parse(&value[1..end]).ok_or(BadRoute)?;
        (Some(Relay::Ip(ip)), &value[end + 1..])
    } else {
        let end = memchr::memchr(b':', value).unwrap_or(value.len());
        let name = &value[..end];
        let relay = match crate::ip::parse(name) {
            _ if name.is_empty() => None,
            Some(IpAddr::V4(a)) => Some(Relay::Ip(IpAddr::V4(a))),
            Some(IpAddr::V6(_)) | None => Some(Relay::Name(name.to_ascii_lowercase())),
        };
        (relay, &value[end..])
    };
    let port = match rest {
        [] => default_port,
        [b':', digits @ ..] => std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|&p| p != 0)
            .ok_or(BadRoute)?,
        _ => return Err(BadRoute),
    };
    Ok(relay.map(|relay| Route { relay, port }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    fn table(lines: &[&str]) -> Map {
        let v: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        Map::new(&v, true)
    }

    #[test]
    fn lookup_order() {
        let t = table(&[
            "a.b.example:one",
            ".b.example:two",
            ".example:three",
            ":four",
        ]);
        assert_eq!(find(&t, b"a.b.example"), Some(&b"one"[..]));
        assert_eq!(find(&t, b"A.B.EXAMPLE"), Some(&b"one"[..]));
        assert_eq!(find(&t, b"x.a.b.example"), Some(&b"two"[..]));
        assert_eq!(find(&t, b"c.example"), Some(&b"three"[..]));
        assert_eq!(find(&t, b"example"), Some(&b"four"[..]));
        assert_eq!(find(&table(&["x.org:y"]), b"z.org"), None);
    }

    #[test]
    fn values() {
        let ip = |s: &str| Relay::Ip(s.parse().unwrap());
        let r = |relay, port| Ok(Some(Route { relay, port }));
        assert_eq!(parse(b"", 25), Ok(None));
        assert_eq!(parse(b":2525", 25), Ok(None));
        assert_eq!(parse(b"1.2.3.4", 25), r(ip("1.2.3.4"), 25));
        assert_eq!(parse(b"[1.2.3.4]:26", 25), r(ip("1.2.3.4"), 26));
        assert_eq!(
            parse(b"Relay.Example:587", 25),
            r(Relay::Name(b"relay.example".to_vec()), 587)
        );
        assert_eq!(
            parse(b"[2001:db8::25]:2525", 25),
            r(
                Relay::Ip(IpAddr::V6("2001:db8::25".parse::<Ipv6Addr>().unwrap())),
                2525
            )
        );
        assert_eq!(parse(b"[::1]", 209), r(ip("::1"), 209));
        for bad in [&b"[::1"[..], b"[x]", b"h:0", b"h:99999", b"h:2x", b"[::1]x"] {
            assert_eq!(
                parse(bad, 25),
                Err(BadRoute),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
