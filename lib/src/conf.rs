//! Build-time settings from `conf/` (compiled in), and the ids of the qmail accounts, looked
//! up by name at run time.

use crate::sys::id;
use std::io;

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/conf.rs"));
}
pub use compiled::{ALIASES, HOME};

/// The qmail accounts, in `conf/users` order.
#[derive(Clone, Copy, Debug)]
pub enum User {
    /// owns addresses nobody else owns
    Alias = 0,
    /// network daemons
    Qmaild,
    /// logger
    Qmaill,
    /// owner of binaries
    Root,
    /// password lookups
    Qmailp,
    /// queue owner
    Qmailq,
    /// remote delivery
    Qmailr,
    /// queue manager
    Qmails,
}

/// The qmail groups, in `conf/groups` order.
#[derive(Clone, Copy, Debug)]
pub enum Group {
    /// shared by the queue accounts
    Qmail = 0,
    /// owns no files
    Nofiles,
}

/// The account's name.
pub fn user_name(u: User) -> &'static str {
    compiled::USERS
        .split_whitespace()
        .nth(u as usize)
        .unwrap_or("")
}

/// The group's name.
pub fn group_name(g: Group) -> &'static str {
    compiled::GROUPS
        .split_whitespace()
        .nth(g as usize)
        .unwrap_or("")
}

fn missing(what: &str, name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{what} {name} does not exist"),
    )
}

/// The account's uid; an error if it does not exist.
pub fn uid(u: User) -> io::Result<u32> {
    passwd(u).map(|p| p.uid)
}

/// The account's password entry; an error if it does not exist.
pub fn passwd(u: User) -> io::Result<id::Passwd> {
    let name = user_name(u);
    id::getpwnam(name.as_bytes())?.ok_or_else(|| missing("user", name))
}

/// The group's gid; an error if it does not exist.
pub fn gid(g: Group) -> io::Result<u32> {
    let name = group_name(g);
    id::getgrnam(name.as_bytes())?.ok_or_else(|| missing("group", name))
}

/// Number of split subdirectories of the queue.
pub fn split() -> u64 {
    crate::scan::ulong(compiled::SPLIT.as_bytes()).0.max(1)
}

/// Maximum concurrent deliveries per channel (1–255).
pub fn spawn() -> u8 {
    crate::scan::ulong(compiled::SPAWN.as_bytes())
        .0
        .clamp(1, 255) as u8
}

/// The user/extension delimiter of qmail-getpw.
pub fn break_char() -> u8 {
    compiled::BREAK.bytes().next().unwrap_or(b'-')
}

/// Permission bits a home directory or .qmail file must not have.
pub fn patrn() -> u32 {
    crate::scan::octal(compiled::PATRN.as_bytes()).0 as u32
}
