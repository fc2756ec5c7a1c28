//! The trace field the network receivers put on top of a message (qmail's received.c).
//!
//! Every value comes from the network or from DNS, so each byte outside a small safe set is
//! written as `?`: a peer can put neither a line break nor a second header field into it.

/// What the receiver knows about the connection, as tcpserver left it in the environment.
#[derive(Clone, Debug, Default)]
pub struct Peer {
    /// `TCPREMOTEIP`, else `unknown`
    pub ip: Vec<u8>,
    /// `TCPREMOTEHOST`, else `unknown`
    pub host: Vec<u8>,
    /// `TCPREMOTEINFO` when set
    pub info: Option<Vec<u8>>,
    /// `TCPLOCALHOST`, else `TCPLOCALIP`, else `unknown`
    pub local: Vec<u8>,
}

impl Peer {
    /// Reads the UCSPI variables (`TCP*`) with qmail's defaults.
    pub fn from_env() -> Peer {
        let unknown = || b"unknown".to_vec();
        Peer {
            ip: crate::env::get("TCPREMOTEIP").unwrap_or_else(unknown),
            host: crate::env::get("TCPREMOTEHOST").unwrap_or_else(unknown),
            info: crate::env::get("TCPREMOTEINFO"),
            local: crate::env::first(&["TCPLOCALHOST", "TCPLOCALIP"]).unwrap_or_else(unknown),
        }
    }
}

fn safe(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".@%+/=:-[]".contains(&c)
}

fn put(out: &mut Vec<u8>, text: &[u8]) {
    out.extend(text.iter().map(|&c| if safe(c) { c } else { b'?' }));
}

/// The two-line field, ending in LF: `Received: from HOST (HELO x) (info@IP)` and
/// `  by LOCAL with PROTOCOL; DATE`. The HELO part appears only when `helo` is given and
/// differs from the peer's host name, case-insensitively.
pub fn line(protocol: &str, peer: &Peer, helo: Option<&[u8]>, secs: i64) -> Vec<u8> {
    let mut out = b"Received: from ".to_vec();
    put(&mut out, &peer.host);
    if let Some(h) = helo.filter(|h| !h.eq_ignore_ascii_case(&peer.host)) {
        out.extend_from_slice(b" (HELO ");
        put(&mut out, h);
        out.push(b')');
    }
    out.extend_from_slice(b" (");
    if let Some(info) = &peer.info {
        put(&mut out, info);
        out.push(b'@');
    }
    put(&mut out, &peer.ip);
    out.extend_from_slice(b")\n  by ");
    put(&mut out, &peer.local);
    out.extend_from_slice(b" with ");
    out.extend_from_slice(protocol.as_bytes());
    out.extend_from_slice(b"; ");
    out.extend_from_slice(crate::date::rfc822(secs).as_bytes());
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(info: Option<&[u8]>) -> Peer {
        Peer {
            ip: b"192.0.2.7".to_vec(),
            host: b"mx.example.net".to_vec(),
            info: info.map(<[u8]>::to_vec),
            local: b"mail.example.org".to_vec(),
        }
    }

    #[test]
    fn smtp_with_helo_and_info() {
        let l = line("SMTP", &peer(Some(b"joe")), Some(b"pc.lan"), 0);
        assert_eq!(
            l,
            b"Received: from mx.example.net (HELO pc.lan) (joe@192.0.2.7)\n  by mail.example.org with SMTP; 1 Jan 1970 00:00:00 -0000\n"
        );
    }

    #[test]
    fn helo_equal_to_host_or_absent_is_left_out() {
        let want = b"Received: from mx.example.net (192.0.2.7)\n  by mail.example.org with QMTP; 1 Jan 1970 00:00:00 -0000\n";
        assert_eq!(line("QMTP", &peer(None), None, 0), want);
        let l = line("QMTP", &peer(None), Some(b"MX.Example.NET"), 0);
        assert_eq!(l, want);
    }

    #[test]
    fn hostile_bytes_become_question_marks() {
        let mut p = peer(Some(b"a b\r\nX-Evil: 1"));
        p.host = b"h\0st_".to_vec();
        let l = line("SMTP", &p, Some(b"[1.2.3.4]\n"), 0);
        assert!(
            l.starts_with(b"Received: from h?st? (HELO [1.2.3.4]?) (a?b??X-Evil:?1@192.0.2.7)\n")
        );
        assert_eq!(l.iter().filter(|&&c| c == b'\n').count(), 2);
    }
}
