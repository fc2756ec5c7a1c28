//! setlock — run a program while holding a lock on a file (daemontools' setlock).
//!
//! Usage:    setlock [ -nNxX ] file program [ arg ... ]
//! Options:  -n do not wait for the lock: fail if it is held; -N wait (the default);
//!           -x exit 0 without a word if the file cannot be opened or locked; -X complain
//!           and exit 111 (the default). The last of each pair wins.
//! Behaviour: opens file for appending (created, mode 0644 less the umask, if missing),
//!           takes an exclusive flock on it and execs program with the descriptor open, so
//!           the lock lasts as long as program and whatever it starts keep it.
//! Exit:     program's own; 100 usage; 111 unable to open or lock (without -x), or to run
//!           program (`setlock: fatal: unable to … file: reason`).
//! Runs as:  anyone (serialmail's AutoTURN: `setlock -nx dir/seriallock maildirsmtp …`).
//!           Trusts: its arguments.
//! Spec:     shared/spec/addons.md §4 and §6.7 (daemontools 0.76 setlock.c).

use qlib::envedit::Edits;
use qlib::fail::Fail;
use qlib::getopt::{self, Getopt, Opt};
use qlib::sys::{fd, fs};
use qlib::{args, errtext, prog};
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::process::ExitCode;

const USAGE: &str = "setlock [ -nNxX ] file program [ arg ... ]";

fn main() -> ExitCode {
    prog::main("setlock", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let (mut wait, mut quiet) = (true, false);
    let mut g = Getopt::new(&argv, "nNxX");
    while let Some(opt) = g.next_opt() {
        match opt {
            Opt::Found(b'n', _) => wait = false,
            Opt::Found(b'N', _) => wait = true,
            Opt::Found(b'x', _) => quiet = true,
            Opt::Found(b'X', _) => quiet = false,
            Opt::Bad(c) => {
                getopt::complain("nNxX", c);
                return Err(Fail::usage(USAGE));
            }
            Opt::Found(..) => return Err(Fail::usage(USAGE)),
        }
    }
    let rest = args::at_least(g.rest(), 2, USAGE)?;
    let name = rest[0].to_string_lossy().into_owned();
    let failed = |what: &str, e: std::io::Error| {
        if quiet {
            Fail::silent(0)
        } else {
            Fail::temp(format!("unable to {what} {name}: {}", errtext::text(&e)))
        }
    };
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&rest[0])
        .map_err(|e| failed("open", e))?;
    lock(&file, wait).map_err(|e| failed("lock", e))?;
    // The descriptor (and with it the lock) goes across the exec.
    fd::set_cloexec(file.as_fd(), false).map_err(|e| failed("lock", e))?;
    std::mem::forget(file);
    let e = Edits::new().exec(&rest[1..]);
    Err(Fail::temp(format!(
        "unable to run {}: {}",
        rest[1].to_string_lossy(),
        errtext::text(&e)
    )))
}

/// An exclusive flock, waiting for it or not.
fn lock(file: &File, wait: bool) -> std::io::Result<()> {
    if wait {
        return file.lock();
    }
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => std::io::Error::from_raw_os_error(fs::EWOULDBLOCK),
        std::fs::TryLockError::Error(e) => e,
    })
}
