//! The TCP environment a UCSPI client or tcp-env hands its program (ucspi.md §1.3, §1.4):
//! `PROTO`, `TCPLOCALPORT`, `TCPLOCALIP`, `TCPLOCALHOST`, `TCPREMOTEPORT`, `TCPREMOTEIP`,
//! `TCPREMOTEHOST`, `TCPREMOTEINFO`, queued in that order (tcpclient.c's order). An absent
//! name or ident answer removes the variable. An IPv6 connection gets `PROTO=TCP6` and, after
//! each `TCP…` variable, its `TCP6…` twin with the same value (the Debian IPv6 patch's set).

use crate::envedit::Edits;
use crate::ip;
use std::net::{IpAddr, SocketAddr};

/// What is known about one connection.
#[derive(Clone, Debug)]
pub struct Conn {
    /// our end
    pub local: SocketAddr,
    /// the peer's end
    pub remote: SocketAddr,
    /// `TCPLOCALHOST`, or `None` to remove it
    pub local_host: Option<Vec<u8>>,
    /// `TCPREMOTEHOST`, or `None` to remove it
    pub remote_host: Option<Vec<u8>>,
    /// `TCPREMOTEINFO`, or `None` to remove it
    pub remote_info: Option<Vec<u8>>,
}

/// Whether the connection is IPv6 (a v4-mapped peer counts as IPv4).
pub fn is6(addr: &SocketAddr) -> bool {
    matches!(ip::unmapped(addr.ip()), IpAddr::V6(_))
}

/// The address text of one end: dotted decimal, or ucspi-tcp6's compact IPv6 form.
pub fn ip_text(addr: &SocketAddr) -> String {
    ip::text(ip::unmapped(addr.ip()))
}

/// The edits for `c`, in tcpclient's order.
pub fn edits(c: &Conn) -> Edits {
    let six = is6(&c.remote);
    let mut e = Edits::new();
    e.set(b"PROTO", if six { b"TCP6" } else { b"TCP" });
    let mut put = |name: &str, value: Option<&[u8]>| {
        e.put(format!("TCP{name}").as_bytes(), value);
        if six {
            e.put(format!("TCP6{name}").as_bytes(), value);
        }
    };
    put("LOCALPORT", Some(c.local.port().to_string().as_bytes()));
    put("LOCALIP", Some(ip_text(&c.local).as_bytes()));
    put("LOCALHOST", c.local_host.as_deref());
    put("REMOTEPORT", Some(c.remote.port().to_string().as_bytes()));
    put("REMOTEIP", Some(ip_text(&c.remote).as_bytes()));
    put("REMOTEHOST", c.remote_host.as_deref());
    put("REMOTEINFO", c.remote_info.as_deref());
    e
}

/// `A`–`Z` folded to lower case (names from DNS; a `-l` name is kept verbatim).
pub fn lower(name: &[u8]) -> Vec<u8> {
    name.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn env_after(c: &Conn, inherited: &[(&str, &str)]) -> String {
        let mut cmd = Command::new("/usr/bin/env");
        cmd.env_clear();
        for (k, v) in inherited {
            cmd.env(k, v);
        }
        edits(c).apply(&mut cmd);
        String::from_utf8(cmd.output().unwrap().stdout).unwrap()
    }

    #[test]
    fn ipv4_sets_and_removes() {
        let c = Conn {
            local: "127.0.0.1:4000".parse().unwrap(),
            remote: "127.0.0.2:25".parse().unwrap(),
            local_host: Some(b"0".to_vec()),
            remote_host: None,
            remote_info: Some(Vec::new()),
        };
        let got = env_after(&c, &[("TCPREMOTEHOST", "stale"), ("X", "y")]);
        assert_eq!(
            got,
            "PROTO=TCP\nTCPLOCALHOST=0\nTCPLOCALIP=127.0.0.1\nTCPLOCALPORT=4000\n\
             TCPREMOTEINFO=\nTCPREMOTEIP=127.0.0.2\nTCPREMOTEPORT=25\nX=y\n"
        );
    }

    #[test]
    fn ipv6_gets_twins_and_mapped_is_ipv4() {
        let c = Conn {
            local: "[::1]:4000".parse().unwrap(),
            remote: "[2001:db8:0:0:0:0:0:1]:25".parse().unwrap(),
            local_host: None,
            remote_host: Some(b"mx.example".to_vec()),
            remote_info: None,
        };
        let got = env_after(&c, &[]);
        assert_eq!(
            got,
            "PROTO=TCP6\nTCP6LOCALIP=::1\nTCP6LOCALPORT=4000\nTCP6REMOTEHOST=mx.example\n\
             TCP6REMOTEIP=2001:db8::1\nTCP6REMOTEPORT=25\nTCPLOCALIP=::1\nTCPLOCALPORT=4000\n\
             TCPREMOTEHOST=mx.example\nTCPREMOTEIP=2001:db8::1\nTCPREMOTEPORT=25\n"
        );
        let m: SocketAddr = "[::ffff:10.0.0.1]:9".parse().unwrap();
        assert!(!is6(&m));
        assert_eq!(ip_text(&m), "10.0.0.1");
        assert_eq!(lower(b"MX.Example"), b"mx.example");
    }
}
