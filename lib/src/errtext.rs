//! errno → short lowercase text in D. J. Bernstein's wording (error_str.c), and the
//! temporary/permanent classification of error_temp.c.

use std::io;

/// The text for an error: DJB's wording for the errnos he named, the OS text otherwise.
pub fn text(e: &io::Error) -> String {
    let Some(n) = e.raw_os_error() else {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof => "unexpected end of file".into(),
            io::ErrorKind::TimedOut => "timed out".into(),
            io::ErrorKind::OutOfMemory => "out of memory".into(),
            _ => e.to_string(),
        };
    };
    let s = match n {
        1 => "permission denied",
        2 => "file does not exist",
        3 => "no such process",
        4 => "interrupted system call",
        5 => "input/output error",
        6 => "device not configured",
        7 => "argument list too long",
        8 => "exec format error",
        9 => "file descriptor not open",
        10 => "no child processes",
        11 => "temporary failure",
        12 => "out of memory",
        13 => "access denied",
        14 => "bad address",
        16 => "device busy",
        17 => "file already exists",
        18 => "cross-device link",
        19 => "device does not support operation",
        20 => "not a directory",
        21 => "is a directory",
        22 => "invalid argument",
        23 => "system cannot open more files",
        24 => "process cannot open more files",
        25 => "not a tty",
        26 => "text busy",
        27 => "file too big",
        28 => "out of disk space",
        29 => "unseekable descriptor",
        30 => "read-only file system",
        31 => "too many links",
        32 => "broken pipe",
        36 => "file name too long",
        39 => "directory not empty",
        40 => "too many levels of symbolic links",
        71 => "protocol error",
        98 => "address already used",
        99 => "address not available",
        100 => "network down",
        101 => "network unreachable",
        104 => "connection reset",
        110 => "timed out",
        111 => "connection refused",
        113 => "host unreachable",
        116 => "stale NFS file handle",
        122 => "disk quota exceeded",
        _ => {
            return e
                .to_string()
                .split(" (os error")
                .next()
                .unwrap_or("")
                .to_lowercase()
        }
    };
    s.to_string()
}

/// Whether an error is temporary (retry later) rather than permanent (error_temp.c).
pub fn is_temp(e: &io::Error) -> bool {
    match e.raw_os_error() {
        // EINTR ENOMEM ETXTBSY EIO EAGAIN ENFILE EMFILE ENOSPC EBUSY ESTALE EDQUOT
        // ENETDOWN ENETUNREACH ECONNRESET ETIMEDOUT ECONNREFUSED EHOSTUNREACH EHOSTDOWN EPROTO
        Some(
            4 | 12 | 26 | 5 | 11 | 23 | 24 | 28 | 16 | 116 | 122 | 100 | 101 | 104 | 110 | 111
            | 113 | 112 | 71,
        ) => true,
        Some(_) => false,
        None => !matches!(
            e.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn djb_wording() {
        assert_eq!(
            text(&io::Error::from_raw_os_error(2)),
            "file does not exist"
        );
        assert_eq!(text(&io::Error::from_raw_os_error(13)), "access denied");
        assert!(is_temp(&io::Error::from_raw_os_error(28)));
        assert!(!is_temp(&io::Error::from_raw_os_error(2)));
    }
}
