//! Descriptor plumbing std lacks: dup2 onto a fixed number, pipes without CLOEXEC, flags, poll.

use super::{cvt, retry};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// [`dup2(old, new)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/dup2.html):
/// makes descriptor `new` a copy of `old`; the copy is not close-on-exec.
pub fn dup2(old: RawFd, new: RawFd) -> io::Result<()> {
    // SAFETY: dup2 only manipulates the descriptor table; bad numbers give EBADF.
    retry(|| unsafe { libc::dup2(old, new) }).map(drop)
}

/// [`close(fd)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/close.html) on a
/// raw number this process does not hold as an `OwnedFd` (inherited descriptors); errors ignored.
pub fn close_raw(fd: RawFd) {
    // SAFETY: closing a descriptor number; no Rust object owns it (callers' contract).
    unsafe { libc::close(fd) };
}

/// [`pipe()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/pipe.html) with both
/// ends close-on-exec: (read end, write end).
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-element array for pipe2 to fill.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 succeeded, so both numbers are fresh descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Takes ownership of an inherited descriptor by number, if it is open.
pub fn inherited(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: F_GETFD only queries the descriptor.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return None;
    }
    // SAFETY: the descriptor is open and, by the caller's contract, owned by nobody else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets or clears O_NONBLOCK on `fd`.
pub fn set_nonblock(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFL/F_SETFL on a borrowed, open descriptor.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    let flags = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) }).map(drop)
}

/// Sets or clears FD_CLOEXEC on `fd`.
pub fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    let flag = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: F_SETFD on a borrowed, open descriptor.
    cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flag) }).map(drop)
}

/// What to wait for on one descriptor, and what happened to it.
#[derive(Clone, Copy, Debug, Default)]
pub struct PollFd {
    /// the descriptor (negative: ignored)
    pub fd: RawFd,
    /// wait until it can be read
    pub read: bool,
    /// wait until it can be written
    pub write: bool,
    /// set by [`poll`]: readable, or hung up / in error (a read will not block)
    pub readable: bool,
    /// set by [`poll`]: writable, or in error (a write will not block)
    pub writable: bool,
}

/// [`poll()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/poll.html) for at
/// most `timeout_ms` (negative: forever). EINTR returns `Ok(0)` so signal flags get checked.
pub fn poll(fds: &mut [PollFd], timeout_ms: i32) -> io::Result<usize> {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|f| libc::pollfd {
            fd: f.fd,
            events: (if f.read { libc::POLLIN } else { 0 })
                | (if f.write { libc::POLLOUT } else { 0 }),
            revents: 0,
        })
        .collect();
    // SAFETY: p is a valid array of p.len() pollfd structures.
    let r = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) };
    if r == -1 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(0)
        } else {
            Err(e)
        };
    }
    for (f, q) in fds.iter_mut().zip(&p) {
        let bad = q.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0;
        f.readable = f.read && (q.revents & libc::POLLIN != 0 || bad);
        f.writable = f.write && (q.revents & libc::POLLOUT != 0 || bad);
    }
    Ok(r as usize)
}
