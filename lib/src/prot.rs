//! Dropping privileges in the right order: groups, then gid, then uid (prot.c).

use crate::sys::id;
use std::io;

/// `setgroups([gid])`, `setgid(gid)`: the only group is `gid`.
pub fn gid(gid: u32) -> io::Result<()> {
    id::setgroups(&[gid])?;
    id::setgid(gid)
}

/// `setuid(uid)`.
pub fn uid(uid: u32) -> io::Result<()> {
    id::setuid(uid)
}

/// Both, in order. Skipped when already running as exactly that uid and gid (so an ordinary
/// user can run a private instance, where setgroups would fail with EPERM).
pub fn drop_to(uid: u32, gid: u32) -> io::Result<()> {
    if id::getuid() == uid && id::geteuid() == uid && id::getgid() == gid && id::getegid() == gid {
        return Ok(());
    }
    self::gid(gid)?;
    self::uid(uid)
}

/// Becomes login user `name` with all its groups: `setgroups` to its group list (what
/// `initgroups(name, gid)` does, through the C library's group database), then
/// `setgid(gid)`, then `setuid(uid)`.
pub fn login(name: &[u8], uid: u32, gid: u32) -> io::Result<()> {
    id::setgroups(&id::grouplist(name, gid)?)?;
    id::setgid(gid)?;
    id::setuid(uid)
}
