//! User and group ids: queries, changes, and the password/group database.

use super::cvt;
use std::ffi::{CStr, CString};
use std::io;

/// [`getuid()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/getuid.html)
pub fn getuid() -> u32 {
    // SAFETY: always succeeds.
    unsafe { libc::getuid() }
}

/// [`geteuid()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/geteuid.html)
pub fn geteuid() -> u32 {
    // SAFETY: always succeeds.
    unsafe { libc::geteuid() }
}

/// [`getgid()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/getgid.html)
pub fn getgid() -> u32 {
    // SAFETY: always succeeds.
    unsafe { libc::getgid() }
}

/// [`getegid()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/getegid.html)
pub fn getegid() -> u32 {
    // SAFETY: always succeeds.
    unsafe { libc::getegid() }
}

/// `setgroups(gids)` — replaces the supplementary groups (needs root).
pub fn setgroups(gids: &[u32]) -> io::Result<()> {
    // SAFETY: gids is a valid slice of gid_t of the given length.
    cvt(unsafe { libc::setgroups(gids.len(), gids.as_ptr()) }).map(drop)
}

/// [`setgid(gid)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/setgid.html)
pub fn setgid(gid: u32) -> io::Result<()> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::setgid(gid) }).map(drop)
}

/// [`setuid(uid)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/setuid.html)
pub fn setuid(uid: u32) -> io::Result<()> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::setuid(uid) }).map(drop)
}

/// One entry of the password database.
#[derive(Clone, Debug)]
pub struct Passwd {
    /// login name
    pub name: Vec<u8>,
    /// encrypted password field (often `x`)
    pub passwd: Vec<u8>,
    /// user id
    pub uid: u32,
    /// primary group id
    pub gid: u32,
    /// home directory
    pub dir: Vec<u8>,
    /// login shell
    pub shell: Vec<u8>,
}

fn bytes(p: *const libc::c_char) -> Vec<u8> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: p is a NUL-terminated string inside the buffer getpwnam_r filled.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

/// [`getpwnam_r(name)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/getpwnam.html):
/// `Ok(None)` when there is no such user; `Err` on a lookup failure (e.g. ETXTBSY).
pub fn getpwnam(name: &[u8]) -> io::Result<Option<Passwd>> {
    let Ok(cname) = CString::new(name) else {
        return Ok(None);
    };
    lookup_r(1 << 20, false, |buf| {
        // SAFETY: zeroed passwd is a valid out-parameter; all pointers are valid for the call.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: buffer and out-parameters live across the call.
        let r = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pw,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut res,
            )
        };
        (r, (r == 0 && !res.is_null()).then(|| passwd_of(&pw)))
    })
}

/// [`getpwuid_r(uid)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/getpwuid.html):
/// the account's entry, `Ok(None)` when no account has that uid.
pub fn getpwuid(uid: u32) -> io::Result<Option<Passwd>> {
    lookup_r(1 << 20, false, |buf| {
        // SAFETY: zeroed passwd is a valid out-parameter; all pointers are valid for the call.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: buffer and out-parameters live across the call.
        let r =
            unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr().cast(), buf.len(), &mut res) };
        (r, (r == 0 && !res.is_null()).then(|| passwd_of(&pw)))
    })
}

/// The loop every `get*_r` call needs: `call(buf)` makes the call into `buf` and gives its
/// result code with, on success, what it found (`None`: no entry). ERANGE retries with a
/// buffer four times larger, up to `max` bytes; EINTR retries. With `secret`, the buffer is
/// zeroed after each call (it held a shadow entry).
fn lookup_r<T>(
    max: usize,
    secret: bool,
    mut call: impl FnMut(&mut [u8]) -> (libc::c_int, Option<T>),
) -> io::Result<Option<T>> {
    let mut buf = vec![0u8; 16384];
    loop {
        let (r, found) = call(&mut buf);
        if secret {
            super::crypt::wipe(&mut buf);
        }
        match r {
            libc::ERANGE if buf.len() < max => buf.resize(buf.len() * 4, 0),
            libc::EINTR => {}
            0 => return Ok(found),
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
}

fn passwd_of(pw: &libc::passwd) -> Passwd {
    Passwd {
        name: bytes(pw.pw_name),
        passwd: bytes(pw.pw_passwd),
        uid: pw.pw_uid,
        gid: pw.pw_gid,
        dir: bytes(pw.pw_dir),
        shell: bytes(pw.pw_shell),
    }
}

/// [`getgrnam_r(name)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/getgrnam.html):
/// the group's id, `Ok(None)` when there is no such group.
pub fn getgrnam(name: &[u8]) -> io::Result<Option<u32>> {
    let Ok(cname) = CString::new(name) else {
        return Ok(None);
    };
    lookup_r(1 << 22, false, |buf| {
        // SAFETY: zeroed group is a valid out-parameter.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::group = std::ptr::null_mut();
        // SAFETY: buffer and out-parameters live across the call.
        let r = unsafe {
            libc::getgrnam_r(
                cname.as_ptr(),
                &mut gr,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut res,
            )
        };
        (r, (r == 0 && !res.is_null()).then_some(gr.gr_gid))
    })
}

/// `getgrouplist(name, gid)` — every group `name` belongs to, `gid` included (for initgroups).
pub fn grouplist(name: &[u8], gid: u32) -> io::Result<Vec<u32>> {
    let cname = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut n: libc::c_int = 64;
    loop {
        let mut groups = vec![0 as libc::gid_t; n as usize];
        let want = n;
        // SAFETY: groups has room for n entries; n is updated with the real count.
        let r = unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if r >= 0 {
            groups.truncate(n as usize);
            return Ok(groups);
        }
        if n <= want {
            n = want * 2;
        }
        if n > 65536 {
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        }
    }
}

/// [`getspnam_r(name)`](https://man7.org/linux/man-pages/man3/getspnam.3.html): the
/// encrypted password from the shadow database, `Ok(None)` when it has no entry for `name`;
/// `Err` when the lookup itself failed (EACCES for an unprivileged caller with the files
/// backend alone, EIO, ETXTBSY…). The buffer holding the entry is zeroed afterwards.
pub fn getspnam(name: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let Ok(cname) = CString::new(name) else {
        return Ok(None);
    };
    lookup_r(1 << 20, true, |buf| {
        // SAFETY: zeroed spwd is a valid out-parameter.
        let mut sp: libc::spwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::spwd = std::ptr::null_mut();
        // SAFETY: buffer and out-parameters live across the call.
        let r = unsafe {
            libc::getspnam_r(
                cname.as_ptr(),
                &mut sp,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut res,
            )
        };
        (r, (r == 0 && !res.is_null()).then(|| bytes(sp.sp_pwdp)))
    })
}
