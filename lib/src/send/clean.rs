//! The clean protocol (qmail-clean.c, and qmail-send's side of it). qmail-send may not touch
//! `mess/`, `intd/` or `todo/`, so it asks qmail-clean, one request at a time:
//! `foop/ID\0` removes intd/ID and mess/S/ID; `todo/ID\0` removes intd/ID and todo/ID. The
//! answer is one byte: `+` done, `!` an unlink failed, `x` malformed request.
//! Paths are relative to the queue directory.

use crate::queue;
use std::fs::File;
use std::io::{self, Read, Write};
use std::time::SystemTime;

/// Shortest and longest request, counting the final NUL.
pub const REQ_MIN: usize = 7;
/// See [`REQ_MIN`].
pub const REQ_MAX: usize = 100;
/// pid/ files whose access time is older than this are removed.
pub const PID_STALE: i64 = 129600;

/// What to clean up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// a finished message: intd/ID and mess/S/ID
    Foop,
    /// a preprocessed envelope: intd/ID and todo/ID
    Todo,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Foop => "foop/",
            Kind::Todo => "todo/",
        }
    }
}

/// The request bytes, NUL included.
pub fn request(kind: Kind, id: u64) -> Vec<u8> {
    format!("{}{id}\0", kind.prefix()).into_bytes()
}

/// A request without its NUL → what to do; `None` if malformed (answer `x`, do nothing).
/// The id must be plain decimal without leading zeros.
pub fn parse(req: &[u8]) -> Option<(Kind, u64)> {
    if req.len() + 1 < REQ_MIN || req.len() + 1 > REQ_MAX {
        return None;
    }
    let (kind, digits) = if let Some(d) = req.strip_prefix(b"foop/") {
        (Kind::Foop, d)
    } else {
        (Kind::Todo, req.strip_prefix(b"todo/")?)
    };
    if (digits.len() > 1 && digits[0] == b'0') || digits.len() > 19 {
        return None;
    }
    crate::scan::ulong_exact(digits).map(|id| (kind, id))
}

fn unlink(p: &std::path::Path) -> bool {
    match std::fs::remove_file(p) {
        Ok(()) => true,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

/// Carries out a request; the answer byte (`+` or `!`).
pub fn perform(kind: Kind, id: u64) -> u8 {
    let other = match kind {
        Kind::Foop => queue::path("mess", id),
        Kind::Todo => queue::path("todo", id),
    };
    let a = unlink(&queue::path("intd", id));
    let b = unlink(&other);
    if a && b {
        b'+'
    } else {
        b'!'
    }
}

/// Removes pid/ files not accessed for [`PID_STALE`] seconds (left by a qmail-queue that died).
pub fn stale_pids(now: SystemTime) {
    let Ok(dir) = std::fs::read_dir("pid") else {
        return;
    };
    for e in dir.flatten() {
        let Ok(m) = e.metadata() else { continue };
        let Ok(at) = m.accessed() else { continue };
        let old = now
            .duration_since(at)
            .map(|d| d.as_secs() as i64 > PID_STALE)
            .unwrap_or(false);
        if m.is_file() && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// qmail-send's end of the connection.
pub struct Client {
    /// requests go here (qmail-send fd 5)
    pub to: File,
    /// answers come from here (qmail-send fd 6)
    pub from: File,
}

impl Client {
    /// Sends one request and waits for its answer byte; an error means the connection is lost.
    pub fn ask(&mut self, kind: Kind, id: u64) -> io::Result<u8> {
        self.to.write_all(&request(kind, id))?;
        let mut b = [0u8; 1];
        loop {
            match self.from.read(&mut b) {
                Ok(1) => return Ok(b[0]),
                Ok(_) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(request(Kind::Foop, 1054), b"foop/1054\0");
        assert_eq!(request(Kind::Todo, 7), b"todo/7\0");
        assert_eq!(parse(b"foop/1054"), Some((Kind::Foop, 1054)));
        assert_eq!(parse(b"todo/7"), Some((Kind::Todo, 7)));
        assert_eq!(parse(b"todo/0"), Some((Kind::Todo, 0)));
        for bad in [
            &b"todo/"[..],
            b"todo",
            b"mess/12",
            b"todo/12x",
            b"todo/x12",
            b"todo/012",
            b"todo/-1",
            b"todo/1/2",
            b"TODO/12",
            b"todo/99999999999999999999",
            b"",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let long = format!("todo/{}", "1".repeat(94));
        assert_eq!(parse(long.as_bytes()), None);
    }
}
