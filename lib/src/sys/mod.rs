//! The only place with `unsafe` or `libc::`. Each wrapper is thin: one libc call, its `-1`
//! turned into `io::Error`, EINTR retried where the call may be interrupted.
#![allow(unsafe_code)]

pub mod crypt;
pub mod fd;
pub mod fs;
pub mod id;
pub mod ifaddr;
pub mod net;
pub mod proc;
pub mod sig;
pub mod time;

use std::io;

/// `-1` → the current `errno` as `io::Error`; anything else is returned.
pub(crate) fn cvt<T: Into<i64> + Copy>(r: T) -> io::Result<T> {
    if r.into() == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Calls `f` until it does not fail with EINTR.
pub(crate) fn retry<T: Into<i64> + Copy>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
