//! A small stub resolver (the part of djbdns' `dns_*` library qmail and ucspi-tcp use): ask a
//! recursive server for A, AAAA, MX, PTR, TXT and CNAME records and read its answer strictly.
//!
//! Servers come from `DNSCACHEIP` (IPv4/IPv6 addresses separated by spaces or commas), else
//! the `nameserver` lines of /etc/resolv.conf, else 127.0.0.1; port 53. Each query goes out
//! over UDP from a random port with a random id; only an answer from that server with that id
//! and question counts. A truncated answer is asked again over TCP. Servers are tried in turn,
//! round after round, with growing timeouts (1, 3, 11, 45 s), the whole lookup bounded by
//! their sum. Names are bytes, with or without a trailing dot; names handed back are host-name
//! text (ucspi.md §1.3): lower case, no trailing dot, unusual bytes as `\ooo`.
//!
//! Errors: [`DnsError::Hard`] only for NXDOMAIN (or a name too long to exist); everything else
//! that goes wrong — timeouts, SERVFAIL, REFUSED, I/O, a malformed or hostile answer — is
//! [`DnsError::Soft`]. A name that exists but has no records of the type is `Ok` and empty.
//! Addresses come back in the order of the answer; callers that want spreading shuffle.

mod name;
mod packet;
mod transport;

/// 64 random bits from the resolver's generator (seeded from /dev/urandom): ids, ports, and
/// qmail-remote's shuffle of equal mail exchangers.
pub use transport::random;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};
use transport::Outcome;

/// A lookup that did not give an answer.
#[derive(Clone, PartialEq, Eq)]
pub enum DnsError {
    /// the name does not exist (NXDOMAIN): permanent
    Hard,
    /// a temporary failure; the text says which
    Soft(String),
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::Hard => f.write_str("name does not exist"),
            DnsError::Soft(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::Hard => f.write_str("Hard"),
            DnsError::Soft(t) => write!(f, "Soft({t:?})"),
        }
    }
}

/// An answer that breaks the rules of the format (internal; surfaces as `Soft`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Malformed;

fn malformed(_: Malformed) -> DnsError {
    DnsError::Soft("malformed answer".into())
}

/// Most servers used from a list.
const MAX_SERVERS: usize = 16;
/// Most queries one lookup makes while following a CNAME chain out of an answer.
const MAX_QUERIES: usize = 8;
/// Most CNAMEs followed in one lookup.
const MAX_CNAMES: usize = 16;

/// Where and how patiently to ask.
#[derive(Debug, Clone)]
pub struct Resolver {
    servers: Vec<IpAddr>,
    /// server port (53; tests change it)
    pub port: u16,
    /// the wait for each round over all servers; a lookup is bounded by their sum
    pub timeouts: Vec<Duration>,
    /// the wait for a whole TCP exchange after a truncated UDP answer
    pub tcp_timeout: Duration,
}

impl Resolver {
    /// Servers from `DNSCACHEIP`, else /etc/resolv.conf, else 127.0.0.1. A `DNSCACHEIP` with
    /// something other than addresses in it is an error, as is an unreadable resolv.conf
    /// (a missing one is not).
    pub fn from_env() -> io::Result<Resolver> {
        if let Some(v) = crate::env::get("DNSCACHEIP") {
            let list = parse_list(&v)?;
            if !list.is_empty() {
                return Ok(Resolver::with_servers(list));
            }
        }
        let conf = match std::fs::read("/etc/resolv.conf") {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(Resolver::with_servers(resolv_conf(&conf)))
    }

    /// These servers (127.0.0.1 if none), port 53, the usual timeouts.
    pub fn with_servers(mut servers: Vec<IpAddr>) -> Resolver {
        servers.truncate(MAX_SERVERS);
        if servers.is_empty() {
            servers.push(Ipv4Addr::LOCALHOST.into());
        }
        Resolver {
            servers,
            port: 53,
            timeouts: [1, 3, 11, 45].map(Duration::from_secs).to_vec(),
            tcp_timeout: Duration::from_secs(10),
        }
    }

    /// The servers asked, in order.
    pub fn servers(&self) -> &[IpAddr] {
        &self.servers
    }

    /// IPv4 addresses of `name`, following CNAMEs. A dotted quad is returned as it is.
    pub fn ip4(&self, name: &[u8]) -> Result<Vec<Ipv4Addr>, DnsError> {
        if let Some(ip) = literal(name).and_then(|s| s.parse::<Ipv4Addr>().ok()) {
            return Ok(vec![ip]);
        }
        let (pkt, rrs) = self.lookup(name, packet::A)?;
        rrs.iter()
            .map(|r| r.ip4(&pkt).map(Ipv4Addr::from).map_err(malformed))
            .collect()
    }

    /// IPv6 addresses of `name`, following CNAMEs. An IPv6 literal is returned as it is.
    pub fn ip6(&self, name: &[u8]) -> Result<Vec<Ipv6Addr>, DnsError> {
        if let Some(ip) = literal(name).and_then(|s| s.parse::<Ipv6Addr>().ok()) {
            return Ok(vec![ip]);
        }
        let (pkt, rrs) = self.lookup(name, packet::AAAA)?;
        rrs.iter()
            .map(|r| r.ip6(&pkt).map(Ipv6Addr::from).map_err(malformed))
            .collect()
    }

    /// Mail exchangers of `name`: (preference, host-name text), in answer order.
    pub fn mx(&self, name: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, DnsError> {
        let (pkt, rrs) = self.lookup(name, packet::MX)?;
        rrs.iter()
            .map(|r| {
                r.mx(&pkt)
                    .map(|(p, n)| (p, name::to_dot(&n)))
                    .map_err(malformed)
            })
            .collect()
    }

    /// The first PTR name of `ip` (in-addr.arpa, or nibbles under ip6.arpa; an IPv4-mapped
    /// IPv6 address is looked up as IPv4), as host-name text.
    pub fn ptr(&self, ip: IpAddr) -> Result<Option<Vec<u8>>, DnsError> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let mut q = reverse_name(ip);
        q.extend_from_slice(match ip {
            IpAddr::V4(_) => b"in-addr.arpa",
            IpAddr::V6(_) => b"ip6.arpa",
        });
        let (pkt, rrs) = self.lookup(&q, packet::PTR)?;
        match rrs.first() {
            Some(r) => Ok(Some(name::to_dot(&r.name(&pkt).map_err(malformed)?))),
            None => Ok(None),
        }
    }

    /// The TXT records of `name`, each one's strings concatenated.
    pub fn txt(&self, name: &[u8]) -> Result<Vec<Vec<u8>>, DnsError> {
        let (pkt, rrs) = self.lookup(name, packet::TXT)?;
        rrs.iter().map(|r| r.txt(&pkt).map_err(malformed)).collect()
    }

    /// The target of `name`'s CNAME, as host-name text; `None` if it has none.
    pub fn cname(&self, name: &[u8]) -> Result<Option<Vec<u8>>, DnsError> {
        let (pkt, rrs) = self.lookup(name, packet::CNAME)?;
        match rrs.first() {
            Some(r) => Ok(Some(name::to_dot(&r.name(&pkt).map_err(malformed)?))),
            None => Ok(None),
        }
    }

    /// The answer packet and its records of `qtype` for `name`, after the CNAME chain.
    fn lookup(&self, text: &[u8], qtype: u16) -> Result<(Vec<u8>, Vec<packet::Record>), DnsError> {
        let mut cur = name::from_dot(text).ok_or(DnsError::Hard)?;
        let end = Instant::now() + self.timeouts.iter().sum::<Duration>();
        let mut followed = 0;
        for _ in 0..MAX_QUERIES {
            let pkt = self.exchange(&cur, qtype, end)?;
            let rrs = packet::answer_section(&pkt).map_err(malformed)?;
            let asked = cur.clone();
            loop {
                let hits: Vec<packet::Record> = rrs
                    .iter()
                    .filter(|r| r.rtype == qtype && name::equal(&r.owner, &cur))
                    .cloned()
                    .collect();
                if !hits.is_empty() {
                    return Ok((pkt, hits));
                }
                if qtype == packet::CNAME {
                    break;
                }
                let Some(c) = rrs
                    .iter()
                    .find(|r| r.rtype == packet::CNAME && name::equal(&r.owner, &cur))
                else {
                    break;
                };
                cur = c.name(&pkt).map_err(malformed)?;
                followed += 1;
                if followed > MAX_CNAMES {
                    return Err(DnsError::Soft("CNAME chain too long".into()));
                }
            }
            if packet::rcode(&pkt) == 3 {
                return Err(DnsError::Hard);
            }
            if name::equal(&cur, &asked) {
                return Ok((pkt, Vec::new()));
            }
        }
        Err(DnsError::Soft("CNAME chain too long".into()))
    }

    /// Asks the servers in rounds until one gives NOERROR or NXDOMAIN, every server has
    /// failed outright, the rounds are over, or `end` comes.
    fn exchange(&self, qname: &[u8], qtype: u16, end: Instant) -> Result<Vec<u8>, DnsError> {
        let mut done = vec![false; self.servers.len()];
        let mut last = DnsError::Soft("timed out".into());
        for &round in &self.timeouts {
            for (i, ip) in self.servers.iter().enumerate() {
                if done[i] {
                    continue;
                }
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(last);
                }
                let server = SocketAddr::new(*ip, self.port);
                let mut got = transport::udp(server, qname, qtype, round.min(left));
                if let Outcome::Answer(pkt) = &got {
                    if packet::truncated(pkt) {
                        let wait = self.tcp_timeout.min(left);
                        got = match transport::tcp(server, qname, qtype, wait) {
                            Outcome::Timeout => Outcome::Failed("timed out over TCP".into()),
                            other => other,
                        };
                    }
                }
                match got {
                    Outcome::Answer(pkt) => match packet::rcode(&pkt) {
                        0 | 3 => return Ok(pkt),
                        rc => {
                            last = DnsError::Soft(rcode_text(rc));
                            done[i] = true;
                        }
                    },
                    Outcome::Timeout => last = DnsError::Soft("timed out".into()),
                    Outcome::Failed(t) => {
                        last = DnsError::Soft(t);
                        done[i] = true;
                    }
                }
            }
            if done.iter().all(|&d| d) {
                break;
            }
        }
        Err(last)
    }
}

fn rcode_text(rc: u8) -> String {
    match rc {
        1 => "format error reported by server".into(),
        2 => "server failure".into(),
        4 => "query not implemented by server".into(),
        5 => "query refused".into(),
        n => format!("response code {n}"),
    }
}

/// `name` without one trailing dot, if it is UTF-8 (an address literal must be).
fn literal(name: &[u8]) -> Option<&str> {
    std::str::from_utf8(name.strip_suffix(b".").unwrap_or(name)).ok()
}

/// Addresses separated by spaces, tabs, newlines or commas.
fn parse_list(v: &[u8]) -> io::Result<Vec<IpAddr>> {
    v.split(|c| matches!(c, b' ' | b',' | b'\t' | b'\n'))
        .filter(|w| !w.is_empty())
        .map(|w| {
            std::str::from_utf8(w)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "bad address in DNSCACHEIP")
                })
        })
        .collect()
}

/// The addresses on `nameserver` lines (ones that do not parse, such as scoped IPv6, skipped).
fn resolv_conf(text: &[u8]) -> Vec<IpAddr> {
    text.split(|&c| c == b'\n')
        .filter_map(|line| {
            let mut w = line
                .split(|c| c.is_ascii_whitespace())
                .filter(|w| !w.is_empty());
            if w.next()? != b"nameserver" {
                return None;
            }
            std::str::from_utf8(w.next()?).ok()?.parse().ok()
        })
        .collect()
}

/// The labels of `ip` reversed, each followed by a dot: `4.3.2.1.` for 1.2.3.4, 32 nibbles
/// (lower-case hex, last first) for IPv6. Append `in-addr.arpa`, `ip6.arpa` or an RBL base.
pub fn reverse_name(ip: IpAddr) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    match ip {
        IpAddr::V4(v4) => {
            for b in v4.octets().iter().rev() {
                out.extend_from_slice(b.to_string().as_bytes());
                out.push(b'.');
            }
        }
        IpAddr::V6(v6) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for b in v6.octets().iter().rev() {
                out.extend_from_slice(&[
                    HEX[usize::from(b & 15)],
                    b'.',
                    HEX[usize::from(b >> 4)],
                    b'.',
                ]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
