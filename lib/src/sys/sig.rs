//! Signal dispositions, the signal mask and alarm. A caught signal sets a flag and, when a
//! wake pipe exists, writes a byte to it so a `poll` loop notices at once (self-pipe trick).

use super::cvt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicU8, Ordering};

pub use libc::{
    SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
};
/// Signals a crash produces (qmail-queue turns them into exit 81).
pub const CRASH: [i32; 6] = [
    libc::SIGILL,
    libc::SIGABRT,
    libc::SIGFPE,
    libc::SIGBUS,
    libc::SIGSEGV,
    libc::SIGSYS,
];
/// Signals qmail-queue ignores.
pub const QUEUE_IGNORED: [i32; 8] = [
    libc::SIGPIPE,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGQUIT,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGXCPU,
    libc::SIGXFSZ,
];

static PENDING: AtomicU64 = AtomicU64::new(0);
static WAKE: AtomicI32 = AtomicI32::new(-1);
static EXIT_CODE: [AtomicU8; 65] = [const { AtomicU8::new(0) }; 65];

extern "C" fn on_catch(sig: libc::c_int) {
    PENDING.fetch_or(1 << sig, Ordering::SeqCst);
    let fd = WAKE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; a full pipe just drops the byte.
        unsafe { libc::write(fd, b"!".as_ptr().cast(), 1) };
    }
}

extern "C" fn on_exit(sig: libc::c_int) {
    let code = EXIT_CODE[sig as usize & 63].load(Ordering::SeqCst);
    // SAFETY: _exit is async-signal-safe.
    unsafe { libc::_exit(code as libc::c_int) };
}

fn set(sig: i32, handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: a zeroed sigaction with an empty mask is valid; handler is SIG_DFL, SIG_IGN or ours.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = handler;
        libc::sigemptyset(&mut sa.sa_mask);
        cvt(libc::sigaction(sig, &sa, std::ptr::null_mut())).map(drop)
    }
}

/// [`sigaction`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/sigaction.html): default action.
pub fn default(sig: i32) -> io::Result<()> {
    set(sig, libc::SIG_DFL)
}

/// Ignore `sig`.
pub fn ignore(sig: i32) -> io::Result<()> {
    set(sig, libc::SIG_IGN)
}

/// Catch `sig`: [`take`] reports it afterwards; the wake pipe (if any) gets a byte.
pub fn catch(sig: i32) -> io::Result<()> {
    set(sig, on_catch as *const () as libc::sighandler_t)
}

/// On `sig`, `_exit(code)` at once, with no cleanup.
pub fn exit_on(sig: i32, code: u8) -> io::Result<()> {
    EXIT_CODE[sig as usize & 63].store(code, Ordering::SeqCst);
    set(sig, on_exit as *const () as libc::sighandler_t)
}

/// Whether `sig` was caught since the last call (and forget it).
pub fn take(sig: i32) -> bool {
    PENDING.fetch_and(!(1 << sig), Ordering::SeqCst) & (1 << sig) != 0
}

/// A pipe whose read end becomes readable whenever a caught signal arrives. Both ends are
/// non-blocking and close-on-exec; the write end stays open for the life of the process.
pub fn wake_pipe() -> io::Result<OwnedFd> {
    let (r, w) = super::fd::pipe()?;
    super::fd::set_nonblock(std::os::fd::AsFd::as_fd(&r), true)?;
    super::fd::set_nonblock(std::os::fd::AsFd::as_fd(&w), true)?;
    WAKE.store(w.as_raw_fd(), Ordering::SeqCst);
    std::mem::forget(w);
    Ok(r)
}

/// [`sigprocmask`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/sigprocmask.html):
/// unblock every signal.
pub fn unblock_all() -> io::Result<()> {
    // SAFETY: an emptied sigset is valid input.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        cvt(libc::sigprocmask(
            libc::SIG_SETMASK,
            &set,
            std::ptr::null_mut(),
        ))
        .map(drop)
    }
}

/// [`alarm(secs)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/alarm.html); 0 cancels.
pub fn alarm(secs: u32) {
    // SAFETY: always succeeds.
    unsafe { libc::alarm(secs) };
}

/// [`kill(pid, sig)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/kill.html)
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: plain system call.
    cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}
