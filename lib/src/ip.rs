//! IP address text as the ucspi-tcp family writes it (TCPREMOTEIP, log lines, rules keys).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an IPv4 dotted quad or an IPv6 address (brackets allowed around IPv6).
pub fn parse(b: &[u8]) -> Option<IpAddr> {
    let b = match b {
        [b'[', inner @ .., b']'] => inner,
        _ => b,
    };
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// An IPv4 peer seen on a dual-stack socket (`::ffff:a.b.c.d`) as plain IPv4.
pub fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// Dotted decimal for IPv4; for IPv6 the compact form of ucspi-tcp6: lower-case hex, the
/// longest run of zero groups (the first on a tie, even a single group) written `::`,
/// and a v4-mapped address as `::ffff:a.b.c.d`.
pub fn text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => text6(v6),
    }
}

fn text6(v6: Ipv6Addr) -> String {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return format!("::ffff:{v4}");
    }
    let g = v6.segments();
    let (mut best, mut best_len, mut i) = (0, 0, 0);
    while i < 8 {
        let start = i;
        while i < 8 && g[i] == 0 {
            i += 1;
        }
        if i - start > best_len {
            (best, best_len) = (start, i - start);
        }
        i += 1;
    }
    let hex = |gs: &[u16]| {
        gs.iter()
            .map(|x| format!("{x:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best_len == 0 {
        return hex(&g);
    }
    format!("{}::{}", hex(&g[..best]), hex(&g[best + best_len..]))
}

/// The fully expanded IPv6 form used in rules keys: eight groups of four upper-case hex digits.
pub fn expanded(v6: Ipv6Addr) -> String {
    let g = v6.segments().map(|x| format!("{x:04X}"));
    g.join(":")
}

/// The loopback address of the family of `ip`.
pub fn loopback_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> String {
        text(parse(s.as_bytes()).unwrap())
    }

    #[test]
    fn compact_ipv6_text() {
        assert_eq!(t("2001:db8:0:0:0:0:0:1"), "2001:db8::1");
        assert_eq!(t("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
        assert_eq!(t("2001:0:0:1:0:0:1:1"), "2001::1:0:0:1:1");
        assert_eq!(t("2001:db8:1:1:1:1:0:1"), "2001:db8:1:1:1:1::1");
        assert_eq!(t("::"), "::");
        assert_eq!(t("::1"), "::1");
        assert_eq!(t("1::"), "1::");
        assert_eq!(t("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
        assert_eq!(t("::FFFF:192.0.2.1"), "::ffff:192.0.2.1");
        assert_eq!(t("[::1]"), "::1");
        assert_eq!(t("192.0.2.1"), "192.0.2.1");
    }

    #[test]
    fn expanded_and_unmapped() {
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(expanded(v6), "2001:0DB8:0000:0000:0000:0000:0000:0001");
        let m = parse(b"::ffff:10.0.0.1").unwrap();
        assert_eq!(unmapped(m), parse(b"10.0.0.1").unwrap());
        assert!(parse(b"1.2.3").is_none());
        assert!(parse(b"1.2.3.4 ").is_none());
    }
}
