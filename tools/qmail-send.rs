//! qmail-send — the queue manager: preprocesses new messages, schedules deliveries through
//! qmail-lspawn and qmail-rspawn, retries, bounces, and has finished messages removed.
//!
//! Usage:    qmail-send        (started by qmail-start; arguments are ignored)
//! Descriptors: fd 0 the log (one line per write); fd 1/2 requests to and reports from
//!           qmail-lspawn; fd 3/4 the same for qmail-rspawn; fd 5/6 requests to and answers
//!           from qmail-clean. Each spawner first sends one byte, its concurrency limit.
//! Signals:  TERM: stop starting deliveries, wait for those running, write retry times as
//!           mtimes of the channel files, log `status: exiting`, exit 0. ALRM: everything
//!           waiting is due now. HUP: reread control/locals and control/virtualdomains.
//! Environment: QMAILQUEUE (program that queues bounces, relative to the qmail home);
//!           passed on to it otherwise unchanged.
//! Exit:     0 after TERM, or after losing a spawner or qmail-clean once deliveries are done;
//!           111 cannot start (`alert: cannot start: ...` in the log): home or queue directory,
//!           controls, mutex, already running, no concurrency byte from a spawner.
//! Runs as:  qmails, started by qmail-start.  Trusts: the queue files it and qmail-queue wrote;
//!           the requests in queue/req only as far as its mode (only root and qmails may
//!           write there), each read to 64 KiB and parsed strictly; not the spawners'
//!           reports (kept to 10000 bytes, sanitised for the log).
//! Spec:     shared/spec/qmail.md §2.2–2.6, §3, §6 (controls); formats.md §8, §10.
//! Beyond qmail: a new message whose recipients are all local (at most 64) is delivered from
//!           memory: info/ and local/ are written only if a recipient is deferred, until then
//!           todo/ID stays its record (lib/src/send/fresh.rs). A crash in that first pass
//!           delivers it again, already delivered recipients included. Stale bounce/ID files
//!           are removed with info/local/remote when an entry is preprocessed. Requests
//!           from qmail-qdel and qmail-qhold in queue/req (taken on each trigger) delete,
//!           expire, hold or release messages once no delivery of them is in progress,
//!           logged as `delete msg N: by request`, `expire msg N: by request`, `hold msg N`,
//!           `release msg N`; held messages (queue/hold/ID) get no passes, across restarts
//!           too (lib/src/send/requests.rs, lib/src/queuectl.rs).

use qlib::send::clean::Client;
use qlib::send::controls::Controls;
use qlib::send::daemon::{Daemon, Fds};
use qlib::send::logline::Log;
use qlib::sys::{fd, fs, sig};
use qlib::{conf, fail::Fail, prog};
use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("qmail-send", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    let mut log = Log(fd::inherited(0).map(File::from).ok_or(Fail::silent(111))?);
    // Taken before anything else is opened, so no file can land on a missing number.
    let inherited: Vec<Option<File>> = (1..=6).map(|n| fd::inherited(n).map(File::from)).collect();
    let mut die = |text: &str| {
        log.alert(&format!("cannot start: {text}"));
        Fail::silent(111)
    };
    let _ = sig::ignore(sig::SIGPIPE);
    fs::umask(0o077);
    std::env::set_current_dir(conf::HOME).map_err(|_| die("unable to switch to home directory"))?;
    let ctl = Controls::read(Path::new("control")).map_err(|_| die("unable to read controls"))?;
    std::env::set_current_dir("queue").map_err(|_| die("unable to switch to queue directory"))?;
    let mutex = OpenOptions::new()
        .write(true)
        .open("lock/sendmutex")
        .map_err(|_| die("unable to open mutex"))?;
    match mutex.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(die("qmail-send is already running")),
        Err(TryLockError::Error(_)) => return Err(die("unable to open mutex")),
    }
    let mut fds: Vec<File> = Vec::with_capacity(6);
    for f in inherited {
        fds.push(f.ok_or_else(|| die("hath the daemon spawn no fire?"))?);
    }
    let mut limit = [0u8; 2];
    for (c, f) in [&fds[1], &fds[3]].into_iter().enumerate() {
        let mut b = [0u8; 1];
        if !matches!((&*f).read(&mut b), Ok(1)) {
            return Err(die("hath the daemon spawn no fire?"));
        }
        limit[c] = b[0];
    }
    for f in &fds {
        let _ = fd::set_cloexec(std::os::fd::AsFd::as_fd(f), true);
    }
    let wake = sig::wake_pipe().map_err(|_| die("unable to create the signal pipe"))?;
    for s in [sig::SIGTERM, sig::SIGALRM, sig::SIGHUP] {
        let _ = sig::catch(s);
    }
    let trigger = open_trigger().map_err(|_| die("unable to open lock/trigger"))?;
    let mut it = fds.into_iter();
    let mut next = || it.next().ok_or(Fail::silent(111));
    let (l_to, l_from, r_to, r_from) = (next()?, next()?, next()?, next()?);
    let clean = Client {
        to: next()?,
        from: next()?,
    };
    let fds = Fds {
        log: log.0,
        spawn_to: [l_to, r_to],
        spawn_from: [l_from, r_from],
        clean,
        trigger,
        wake: File::from(wake),
    };
    let code = Daemon::new(ctl, limit, fds).run();
    drop(mutex);
    Ok(code)
}

/// The trigger fifo, opened for reading and writing: with a writer of our own it never hangs
/// up, so it is readable exactly when qmail-queue has written its byte, and it never has to be
/// reopened (no window in which a trigger could be missed).
fn open_trigger() -> std::io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open("lock/trigger")?;
    fd::set_nonblock(std::os::fd::AsFd::as_fd(&f), true)?;
    Ok(f)
}
