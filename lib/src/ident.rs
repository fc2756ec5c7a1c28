//! The RFC 1413 ident query behind `TCPREMOTEINFO` (tcpserver -r, tcpclient -r, tcp-env -r).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Asks the peer's ident server (port 113) who owns the connection `local`↔`remote`, from
/// `local`'s address, all within `timeout`. The answer is the text after the reply's third
/// `:` with spaces, tabs and CRs dropped, at most `limit` bytes; `None` if the query failed.
pub fn query(
    local: SocketAddr,
    remote: SocketAddr,
    timeout: Duration,
    limit: usize,
) -> Option<Vec<u8>> {
    query_port(local, remote, 113, timeout, limit)
}

fn query_port(
    local: SocketAddr,
    remote: SocketAddr,
    port: u16,
    timeout: Duration,
    limit: usize,
) -> Option<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut from = local;
    from.set_port(0);
    let mut to = remote;
    to.set_port(port);
    let mut s = crate::sys::net::connect(to, Some(from), timeout).ok()?;
    let left = || {
        Some(
            deadline
                .checked_duration_since(Instant::now())?
                .max(Duration::from_millis(1)),
        )
    };
    s.set_write_timeout(left()).ok()?;
    s.write_all(format!("{} , {}\r\n", remote.port(), local.port()).as_bytes())
        .ok()?;
    let (mut answer, mut colons, mut buf) = (Vec::new(), 0, [0u8; 256]);
    loop {
        s.set_read_timeout(left()).ok()?;
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        for &c in &buf[..n] {
            match c {
                b'\n' => return Some(answer),
                b' ' | b'\t' | b'\r' => {}
                b':' if colons < 3 => colons += 1,
                _ if colons < 3 => {}
                _ if answer.len() < limit => answer.push(c),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;

    fn serve(reply: &'static [u8]) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut r = std::io::BufReader::new(s);
            let mut line = Vec::new();
            r.read_until(b'\n', &mut line).unwrap();
            r.get_mut().write_all(reply).unwrap();
            line
        });
        (port, t)
    }

    #[test]
    fn answer_after_third_colon() {
        let (port, t) = serve(b"40112 , 25 : USERID : UNIX : joe doe\r\nrest");
        let local = "127.0.0.1:25".parse().unwrap();
        let remote = "127.0.0.1:40112".parse().unwrap();
        let got = query_port(local, remote, port, Duration::from_secs(5), 256);
        assert_eq!(got.as_deref(), Some(&b"joedoe"[..]));
        assert_eq!(t.join().unwrap(), b"40112 , 25\r\n");
    }

    #[test]
    fn error_reply_is_empty_and_no_server_is_none() {
        let (port, t) = serve(b"1 , 2 : ERROR : NO-USER\r\n");
        let a = "127.0.0.1:1".parse().unwrap();
        assert_eq!(
            query_port(a, a, port, Duration::from_secs(5), 256).as_deref(),
            Some(&b""[..])
        );
        t.join().unwrap();
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let dead = l.local_addr().unwrap().port();
        drop(l);
        assert_eq!(query_port(a, a, dead, Duration::from_secs(5), 256), None);
    }
}
