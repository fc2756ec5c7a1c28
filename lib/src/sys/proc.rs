//! What a child needs done between fork and exec that std's `Command` cannot do safely:
//! descriptors put on fixed numbers, inherited descriptors closed, groups and ids changed.
//! Also fork, reaping, and execve for programs that exec without std's `Command`.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The most descriptors [`Setup::fds`] may place.
pub const MAX_FDS: usize = 16;

/// Work done in the child just before exec, in this order.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// (source, target): `target` becomes a copy of `source`
    pub fds: Vec<(RawFd, RawFd)>,
    /// descriptors to close afterwards
    pub close: Vec<RawFd>,
    /// supplementary groups to set (needs root)
    pub groups: Option<Vec<u32>>,
    /// gid to set
    pub gid: Option<u32>,
    /// uid to set, last
    pub uid: Option<u32>,
}

/// Installs `setup` to run in the child of `cmd` before exec.
pub fn setup(cmd: &mut Command, setup: Setup) {
    assert!(
        setup.fds.len() <= MAX_FDS,
        "proc::setup: too many descriptors"
    );
    let hook = move || -> std::io::Result<()> {
        // First move every source out of the way of every target, then place them.
        // No allocation here: the child of a fork may not call malloc.
        let mut moved = [0 as RawFd; MAX_FDS];
        for (slot, &(src, _)) in moved.iter_mut().zip(&setup.fds) {
            // SAFETY: F_DUPFD_CLOEXEC only creates a descriptor; async-signal-safe.
            *slot = super::cvt(unsafe { libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 64) })?;
        }
        for (&(_, target), &fd) in setup.fds.iter().zip(&moved) {
            // SAFETY: dup2 is async-signal-safe; the copy at `target` is not close-on-exec.
            super::cvt(unsafe { libc::dup2(fd, target) })?;
        }
        for &fd in &setup.close {
            // SAFETY: closing a descriptor number in the child.
            unsafe { libc::close(fd) };
        }
        if let Some(groups) = &setup.groups {
            // SAFETY: valid slice; setgroups is a plain system call.
            super::cvt(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
        }
        if let Some(gid) = setup.gid {
            // SAFETY: plain system call.
            super::cvt(unsafe { libc::setgid(gid) })?;
        }
        if let Some(uid) = setup.uid {
            // SAFETY: plain system call.
            super::cvt(unsafe { libc::setuid(uid) })?;
        }
        Ok(())
    };
    // SAFETY: the hook only makes async-signal-safe system calls and does not allocate.
    unsafe { cmd.pre_exec(hook) };
}

/// [`fork()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/fork.html):
/// `Some(pid)` in the parent, `None` in the child. Only for single-threaded programs
/// (tcpserver's per-connection child runs ordinary Rust code before it execs).
pub fn fork() -> std::io::Result<Option<i32>> {
    // SAFETY: the callers are single-threaded, so the child's copy of the heap and locks is sane.
    let pid = super::cvt(unsafe { libc::fork() })?;
    Ok((pid != 0).then_some(pid))
}

/// Reaps one exited child without blocking: `(pid, raw wait status)`, or `None` when no
/// child has exited (or there are no children).
pub fn reap() -> Option<(i32, i32)> {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer; WNOHANG never blocks.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    (pid > 0).then_some((pid, status))
}

/// [`waitpid(pid, WNOHANG)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/waitpid.html):
/// the raw wait status once child `pid` has ended, `None` while it runs.
pub fn try_wait(pid: i32) -> std::io::Result<Option<i32>> {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer; WNOHANG never blocks.
    let r = super::retry(|| unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) })?;
    Ok((r == pid).then_some(status))
}

/// [`_exit(code)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/_exit.html):
/// ends a forked child at once, without running the parent's exit handlers.
pub fn exit_now(code: u8) -> ! {
    // SAFETY: _exit never returns and is always safe to call.
    unsafe { libc::_exit(code as i32) }
}

/// [`execve(path, argv, envp)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/execve.html):
/// replaces this process; returns only the error.
pub fn execve(path: &CStr, argv: &[&CStr], envp: &[&CStr]) -> std::io::Error {
    let ptrs = |v: &[&CStr]| -> Vec<*const libc::c_char> {
        v.iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect()
    };
    let (a, e) = (ptrs(argv), ptrs(envp));
    // SAFETY: path, and both null-terminated pointer arrays, point into live C strings.
    unsafe { libc::execve(path.as_ptr(), a.as_ptr(), e.as_ptr()) };
    std::io::Error::last_os_error()
}

extern "C" {
    #[link_name = "environ"]
    static C_ENVIRON: *const *const libc::c_char;
}

/// This process's environment as the C library holds it (`NAME=value` strings), without
/// copying. Only for a single-threaded program about to exec: nothing may change the
/// environment while the result lives.
pub fn environ() -> Vec<&'static CStr> {
    // SAFETY: environ is a null-terminated array of C strings that lives as long as the
    // process; the caller's contract rules out concurrent changes.
    unsafe {
        let mut n = 0;
        while !C_ENVIRON.is_null() && !(*C_ENVIRON.add(n)).is_null() {
            n += 1;
        }
        // Counted first: one allocation of the final size, not a series of doublings.
        (0..n).map(|i| CStr::from_ptr(*C_ENVIRON.add(i))).collect()
    }
}

/// [`posix_spawn`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/posix_spawn.html):
/// starts `path` (not searched in PATH; relative to `dir` when given) with `argv` and `envp`
/// (`None`: this process's environment), each `(source, target)` of `fds` placed on
/// `target`, SIGPIPE at its default and no signal blocked. Unlike a fork, the C library's
/// spawn shares this process's memory until the exec, so nothing is copied. An exec
/// failure is the error.
pub fn spawn(
    path: &CStr,
    argv: &[&CStr],
    envp: Option<&[&CStr]>,
    fds: &[(RawFd, RawFd)],
    dir: Option<&CStr>,
) -> std::io::Result<i32> {
    // Sources first moved above every target, so that placing one cannot clobber another.
    // One copy per distinct source (tcpserver puts one socket on both 0 and 1).
    let mut high: Vec<(RawFd, std::os::fd::OwnedFd)> = Vec::with_capacity(fds.len());
    for &(src, _) in fds {
        if high.iter().any(|(s, _)| *s == src) {
            continue;
        }
        // SAFETY: F_DUPFD_CLOEXEC only creates a descriptor.
        match super::cvt(unsafe { libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 64) }) {
            // SAFETY: a fresh descriptor we now own.
            Ok(fd) => high.push((src, unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })),
            Err(e) => return Err(e),
        }
    }
    let own;
    let env = match envp {
        Some(e) => e,
        None => {
            own = environ();
            &own[..]
        }
    };
    let ptrs = |v: &[&CStr]| -> Vec<*mut libc::c_char> {
        v.iter()
            .map(|s| s.as_ptr() as *mut libc::c_char)
            .chain(std::iter::once(std::ptr::null_mut()))
            .collect()
    };
    let (a, e) = (ptrs(argv), ptrs(env));
    // SAFETY: the attribute and action objects are initialised before use and destroyed
    // after; every pointer handed over points into live C strings or arrays.
    unsafe {
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        let check = |r: libc::c_int| match r {
            0 => Ok(()),
            n => Err(std::io::Error::from_raw_os_error(n)),
        };
        check(libc::posix_spawn_file_actions_init(&mut actions))?;
        check(libc::posix_spawnattr_init(&mut attr))?;
        let mut setup = || -> std::io::Result<()> {
            for &(src, target) in fds {
                let h = high
                    .iter()
                    .find(|(s, _)| *s == src)
                    .map(|(_, h)| h.as_raw_fd());
                let h = h.ok_or_else(|| std::io::Error::from_raw_os_error(libc::EBADF))?;
                check(libc::posix_spawn_file_actions_adddup2(
                    &mut actions,
                    h,
                    target,
                ))?;
            }
            if let Some(d) = dir {
                check(libc::posix_spawn_file_actions_addchdir_np(
                    &mut actions,
                    d.as_ptr(),
                ))?;
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            check(libc::posix_spawnattr_setsigmask(&mut attr, &set))?;
            libc::sigaddset(&mut set, libc::SIGPIPE);
            check(libc::posix_spawnattr_setsigdefault(&mut attr, &set))?;
            let flags = libc::POSIX_SPAWN_SETSIGMASK | libc::POSIX_SPAWN_SETSIGDEF;
            check(libc::posix_spawnattr_setflags(&mut attr, flags as _))
        };
        let mut pid: libc::pid_t = 0;
        let r = setup().and_then(|()| {
            check(libc::posix_spawn(
                &mut pid,
                path.as_ptr(),
                &actions,
                &attr,
                a.as_ptr(),
                e.as_ptr(),
            ))
        });
        libc::posix_spawn_file_actions_destroy(&mut actions);
        libc::posix_spawnattr_destroy(&mut attr);
        r.map(|()| pid)
    }
}

/// Waits for child `pid` to end: its raw wait status.
pub fn wait(pid: i32) -> std::io::Result<i32> {
    let mut status = 0;
    // SAFETY: status is a valid out-pointer.
    super::retry(|| unsafe { libc::waitpid(pid, &mut status, 0) })?;
    Ok(status)
}
