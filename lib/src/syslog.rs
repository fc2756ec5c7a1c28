//! A syslog client without the C library's syslog(3): messages built the way glibc builds them
//! for `openlog(tag, 0, facility)` — `<PRI>Mmm dd hh:mm:ss TAG: text`, local time, no pid, no
//! trailing newline — and sent to the local log socket (`/dev/log` for programs; tests give
//! their own path).
//!
//! Like glibc, it speaks datagrams and falls back to a stream socket (each message followed by
//! a NUL byte) when the socket is of that type. A connection that stops working (the log
//! daemon restarted, the socket was replaced) is dropped, and the message is tried once more on
//! a fresh one. Whatever still fails is the caller's to handle: nothing here sleeps or prints.
//! A program that may meet a stream socket should ignore SIGPIPE, or a daemon that goes away
//! mid-write kills it.

use crate::date;
use std::io::{self, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Severity `alert`.
pub const LOG_ALERT: u8 = 1;
/// Severity `warning`.
pub const LOG_WARNING: u8 = 4;
/// Severity `info`.
pub const LOG_INFO: u8 = 6;
/// Facility `user` (code 1, shifted).
pub const LOG_USER: u16 = 1 << 3;
/// Facility `mail` (code 2, shifted).
pub const LOG_MAIL: u16 = 2 << 3;
/// The highest facility code syslog defines (`local7`).
pub const MAX_FACILITY: u16 = 23;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The header time glibc writes (strftime `%h %e %T`): `Mar  5 09:04:01` for `secs` after the
/// epoch shifted by `offset` seconds (the local zone's distance from UTC).
pub fn header_time(secs: i64, offset: i64) -> String {
    let c = date::civil(secs + offset);
    format!(
        "{} {:2} {:02}:{:02}:{:02}",
        MONTHS[(c.month as usize).saturating_sub(1) % 12],
        c.day,
        c.hour,
        c.min,
        c.sec
    )
}

/// One message: `<pri>` `time` ` ` `tag` `: ` `text`.
pub fn format(pri: u16, time: &str, tag: &[u8], text: &[u8]) -> Vec<u8> {
    let mut m = format!("<{pri}>{time} ").into_bytes();
    m.extend_from_slice(tag);
    m.extend_from_slice(b": ");
    m.extend_from_slice(text);
    m
}

enum Conn {
    Dgram(UnixDatagram),
    Stream(UnixStream),
}

/// An open log: where the socket is, the tag, the facility, and the connection if there is one.
pub struct Syslog {
    path: PathBuf,
    tag: Vec<u8>,
    facility: u16,
    conn: Option<Conn>,
}

impl Syslog {
    /// Like `openlog(tag, 0, facility)` with the socket at `path`; nothing is connected yet.
    /// `facility` is already shifted (`LOG_MAIL`, not 2).
    pub fn new(path: impl Into<PathBuf>, tag: &[u8], facility: u16) -> Syslog {
        Syslog {
            path: path.into(),
            tag: tag.to_vec(),
            facility,
            conn: None,
        }
    }

    /// Sends `text` at severity `level`, stamped with the current local time. Connects first if
    /// needed; if sending fails, reconnects and tries once more. On error nothing is connected.
    pub fn send(&mut self, level: u8, text: &[u8]) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let time = header_time(now, crate::sys::time::utc_offset(now));
        let msg = format(self.facility | u16::from(level & 7), &time, &self.tag, text);
        let had_conn = self.conn.is_some();
        match self.try_send(&msg) {
            Ok(()) => Ok(()),
            Err(_) if had_conn => self.try_send(&msg),
            Err(e) => Err(e),
        }
    }

    fn try_send(&mut self, msg: &[u8]) -> io::Result<()> {
        if self.conn.is_none() {
            self.conn = Some(connect(&self.path)?);
        }
        let r = match &mut self.conn {
            Some(Conn::Dgram(s)) => s.send(msg).map(drop),
            Some(Conn::Stream(s)) => s.write_all(msg).and_then(|()| s.write_all(b"\0")),
            None => Ok(()),
        };
        if r.is_err() {
            self.conn = None;
        }
        r
    }
}

/// A datagram connection to `path`, or a stream one if the socket there is a stream socket.
fn connect(path: &Path) -> io::Result<Conn> {
    let d = UnixDatagram::unbound()?;
    match d.connect(path) {
        Ok(()) => Ok(Conn::Dgram(d)),
        Err(e) if e.raw_os_error() == Some(EPROTOTYPE) => {
            UnixStream::connect(path).map(Conn::Stream)
        }
        Err(e) => Err(e),
    }
}

/// Linux's errno for "socket of the wrong type" (what connecting a datagram socket to a stream
/// socket gives).
const EPROTOTYPE: i32 = 91;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixListener;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("qlib-syslog.{}.{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// `<pri>` and the text after the header time, which must look like `Mmm dd hh:mm:ss `.
    fn strip_time(m: &[u8]) -> (String, String) {
        let s = String::from_utf8(m.to_vec()).unwrap();
        let gt = s.find('>').unwrap();
        let time = &s[gt + 1..gt + 16];
        assert!(MONTHS.contains(&&time[..3]), "{s}");
        assert_eq!(&time[3..4], " ");
        assert_eq!(&s[gt + 16..gt + 17], " ");
        (s[..=gt].to_string(), s[gt + 17..].to_string())
    }

    #[test]
    fn header_time_is_glibc_shape() {
        assert_eq!(header_time(0, 0), "Jan  1 00:00:00");
        // 2026-11-28 23:58:45 UTC, and the same moment two hours east
        assert_eq!(header_time(1_795_910_325, 0), "Nov 28 23:58:45");
        assert_eq!(header_time(1_795_910_325, 7200), "Nov 29 01:58:45");
        assert_eq!(header_time(1_795_910_325, -86_400), "Nov 27 23:58:45");
    }

    #[test]
    fn format_has_no_pid_and_no_newline() {
        assert_eq!(
            format(22, "Jan  1 00:00:00", b"qmail", b"1.000000 hi"),
            b"<22>Jan  1 00:00:00 qmail: 1.000000 hi"
        );
    }

    #[test]
    fn sends_datagrams_and_reconnects_after_the_daemon_restarts() {
        let d = dir("dgram");
        let p = d.join("log");
        let rx = UnixDatagram::bind(&p).unwrap();
        let mut log = Syslog::new(&p, b"tag", LOG_MAIL);
        log.send(LOG_WARNING, b"one").unwrap();
        let mut buf = [0u8; 2048];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(strip_time(&buf[..n]), ("<20>".into(), "tag: one".into()));
        drop(rx);
        std::fs::remove_file(&p).unwrap();
        let rx = UnixDatagram::bind(&p).unwrap();
        log.send(LOG_ALERT, b"two").unwrap();
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(strip_time(&buf[..n]), ("<17>".into(), "tag: two".into()));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_socket_is_an_error_and_later_works() {
        let d = dir("missing");
        let p = d.join("log");
        let mut log = Syslog::new(&p, b"t", LOG_USER);
        let e = log.send(LOG_INFO, b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        let rx = UnixDatagram::bind(&p).unwrap();
        log.send(LOG_INFO, b"x").unwrap();
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(strip_time(&buf[..n]), ("<14>".into(), "t: x".into()));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn stream_socket_gets_nul_terminated_messages() {
        let d = dir("stream");
        let p = d.join("log");
        let l = UnixListener::bind(&p).unwrap();
        let mut log = Syslog::new(&p, b"s", LOG_MAIL);
        log.send(LOG_INFO, b"a").unwrap();
        log.send(LOG_INFO, b"b").unwrap();
        drop(log);
        let (mut c, _) = l.accept().unwrap();
        let mut all = Vec::new();
        c.read_to_end(&mut all).unwrap();
        let parts: Vec<&[u8]> = all.split(|&b| b == 0).collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], b"");
        assert_eq!(strip_time(parts[0]), ("<22>".into(), "s: a".into()));
        assert_eq!(strip_time(parts[1]), ("<22>".into(), "s: b".into()));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
