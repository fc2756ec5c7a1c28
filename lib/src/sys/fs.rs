//! Filesystem calls std lacks: umask, mkfifo, gethostname.

use super::{cvt, retry};
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `O_NONBLOCK`, for `OpenOptionsExt::custom_flags` (opening a fifo without waiting).
pub const O_NONBLOCK: i32 = libc::O_NONBLOCK;

/// [`umask(mask)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/umask.html);
/// returns the previous mask.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: always succeeds.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// [`mkfifo(path, mode)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/mkfifo.html)
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: c is a valid NUL-terminated path.
    retry(|| unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// [`gethostname()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/gethostname.html)
pub fn hostname() -> io::Result<Vec<u8>> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is writable for its whole length.
    cvt(unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) })?;
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(buf[..n].to_vec())
}
