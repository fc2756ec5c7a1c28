//! Sending one query to one server: UDP from a random port with a random id, the answer
//! accepted only from that server with that id and question; TCP (two-byte length prefix)
//! when the UDP answer is truncated. Randomness comes from /dev/urandom, read once per
//! process, stretched by SplitMix64.

use super::packet;
use crate::errtext;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What one attempt came to.
#[derive(Debug)]
pub enum Outcome {
    /// an answer to our query (any rcode)
    Answer(Vec<u8>),
    /// nothing came in time; try again later
    Timeout,
    /// this server cannot help (refused connection, I/O error); the text says why
    Failed(String),
}

static STATE: AtomicU64 = AtomicU64::new(0);
static SEEDED: OnceLock<()> = OnceLock::new();

/// 64 random bits.
pub fn random() -> u64 {
    SEEDED.get_or_init(|| {
        let mut seed = [0u8; 8];
        let ok = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut seed))
            .is_ok();
        let mut s = u64::from_le_bytes(seed);
        if !ok {
            // No urandom: the clock and pid are the best there is.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            s = t ^ (u64::from(std::process::id()) << 32);
        }
        STATE.store(s, Ordering::SeqCst);
    });
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::SeqCst)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn soft(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Outcome::Timeout,
        _ => Outcome::Failed(errtext::text(e)),
    }
}

/// A UDP socket bound to a random port above 1024 (the kernel's choice if ten tries collide).
fn bind(server: &SocketAddr) -> io::Result<UdpSocket> {
    let any: IpAddr = match server {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    for _ in 0..10 {
        let port = 1025 + (random() % (65536 - 1025)) as u16;
        match UdpSocket::bind((any, port)) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => continue,
            Err(e) => return Err(e),
        }
    }
    UdpSocket::bind((any, 0))
}

/// One UDP exchange, waiting at most `wait` for the answer.
pub fn udp(server: SocketAddr, qname: &[u8], qtype: u16, wait: Duration) -> Outcome {
    let id = random() as u16;
    let q = packet::query(id, qname, qtype);
    let sock = match bind(&server).and_then(|s| s.connect(server).map(|()| s)) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(errtext::text(&e)),
    };
    if let Err(e) = sock.send(&q) {
        return soft(&e);
    }
    let end = Instant::now() + wait;
    let mut buf = vec![0u8; 65536];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Outcome::Timeout;
        }
        if let Err(e) = sock.set_read_timeout(Some(left)) {
            return Outcome::Failed(errtext::text(&e));
        }
        // connect() makes the kernel drop datagrams from any other address and port.
        match sock.recv_from(&mut buf) {
            Ok((n, from)) if from == server && packet::answers(&buf[..n], id, qname, qtype) => {
                return Outcome::Answer(buf[..n].to_vec())
            }
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return soft(&e),
        }
    }
}

/// One TCP exchange, the whole of it bounded by `wait`.
pub fn tcp(server: SocketAddr, qname: &[u8], qtype: u16, wait: Duration) -> Outcome {
    let id = random() as u16;
    let q = packet::query(id, qname, qtype);
    let end = Instant::now() + wait;
    let result = (|| -> io::Result<Option<Vec<u8>>> {
        let mut s = TcpStream::connect_timeout(&server, wait)?;
        let left = || {
            let d = end.saturating_duration_since(Instant::now());
            if d.is_zero() {
                Err(io::Error::from(io::ErrorKind::TimedOut))
            } else {
                Ok(Some(d))
            }
        };
        s.set_write_timeout(left()?)?;
        let mut msg = (q.len() as u16).to_be_bytes().to_vec();
        msg.extend_from_slice(&q);
        s.write_all(&msg)?;
        let mut len = [0u8; 2];
        s.set_read_timeout(left()?)?;
        s.read_exact(&mut len)?;
        let mut pkt = vec![0u8; usize::from(u16::from_be_bytes(len))];
        let mut got = 0;
        while got < pkt.len() {
            s.set_read_timeout(left()?)?;
            match s.read(&mut pkt[got..])? {
                0 => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
                n => got += n,
            }
        }
        Ok(packet::answers(&pkt, id, qname, qtype).then_some(pkt))
    })();
    match result {
        Ok(Some(pkt)) => Outcome::Answer(pkt),
        Ok(None) => Outcome::Failed("malformed answer over TCP".into()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Outcome::Failed("connection closed during TCP answer".into())
        }
        Err(e) => soft(&e),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn random_varies() {
        let a: Vec<u64> = (0..8).map(|_| super::random()).collect();
        let mut b = a.clone();
        b.dedup();
        assert_eq!(a.len(), b.len());
    }
}
