//! Filesystem calls std lacks: umask, mkfifo, gethostname, O_TMPFILE, early writeback.

use super::{cvt, retry};
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `O_NONBLOCK`, for `OpenOptionsExt::custom_flags` (opening a fifo without waiting).
pub const O_NONBLOCK: i32 = libc::O_NONBLOCK;

/// `EWOULDBLOCK`: what flock says of a lock held elsewhere (std's `try_lock` drops the errno).
pub const EWOULDBLOCK: i32 = libc::EWOULDBLOCK;

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

/// `O_TMPFILE`: an unnamed regular file in directory `dir`, open for writing with `mode`;
/// it gets a name only through [`link_open_file`], and vanishes if the system stops first.
/// Filesystems without it give EOPNOTSUPP (or EISDIR on old kernels).
pub fn tmpfile_in(dir: &Path, mode: u32) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(mode)
        .open(dir)
}

/// Gives the open file `f` the name `target` (a hard link made through /proc/self/fd, which
/// needs no privilege, unlike linkat's AT_EMPTY_PATH). EEXIST if `target` exists.
pub fn link_open_file(f: &std::fs::File, target: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let from = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let to = cpath(target)?;
    // SAFETY: both are valid NUL-terminated paths.
    retry(|| unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    })
    .map(drop)
}

/// Starts writing `f`'s dirty pages to the disk without waiting (Linux `sync_file_range`
/// with `SYNC_FILE_RANGE_WRITE`; nothing elsewhere). Not a durability promise, only a head
/// start: a later fsync finds the data on its way, and on a journalling filesystem the
/// blocks it allocates join the transaction the next fsync commits, so that fsyncing two
/// files one after the other needs one commit, not two.
pub fn start_writeback(f: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: only a descriptor and numbers are passed; a failure is harmless here.
        unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}
