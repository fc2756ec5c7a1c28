//! splogger — hand the lines of standard input to syslog, one message per line.
//!
//! Usage:    splogger [ tag [ facility ] ]
//! Options:  none. `tag` (default `splogger`) names the sender in every message; `facility` is
//!           a decimal syslog facility code from 0 to 23 (default 2, mail), shifted left by 3.
//!           0 (kern) gives user, as glibc's openlog makes of it.
//!           Each line becomes `<sec>.<usec6> <line>` (the time it was read) at severity alert
//!           if it starts with `alert:`, warning for `warning:`, info otherwise; bytes outside
//!           32–126 become `?`; empty lines are skipped; a longer line than 799 bytes goes out
//!           in 799-byte pieces, the later ones as `<sec>.<usec6>+<piece>` with the first
//!           piece's stamp and severity. A last line without a newline is logged too.
//!           Messages go to the datagram (or stream) socket /dev/log in glibc's local format
//!           `<PRI>Mmm dd hh:mm:ss tag: text`.
//! Environment: TZ, read by the C library for the local time in each message's header.
//! Exit:     0 at end of input; 100 usage; 111 if standard input cannot be read.
//!           While /dev/log cannot take a message (no daemon, socket missing, no permission),
//!           splogger keeps that message, says `warning: unable to log to /dev/log: <error>;
//!           will try again` once on stderr, and retries every second, reading no further
//!           input meanwhile: a line is never dropped (qmail's splogger dropped it silently),
//!           and the writer is held back by the full pipe instead. End of input does not end
//!           the retrying; kill splogger to give up.
//! Runs as:  qmaill/nofiles, started by qmail-start for qmail-send's log (fds 2–6 closed; std
//!           puts /dev/null on a closed 0–2), or anyone.  Trusts: nothing; input is sanitised.
//! Spec:     shared/spec/qmail.md §10.12

use qlib::fail::{Fail, OrFail as _};
use qlib::syslog::Syslog;
use qlib::{args, errtext, prog, splog, sys};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

const USAGE: &str = "splogger [tag [facility]]";
const SOCKET: &str = "/dev/log";

fn main() -> ExitCode {
    prog::main("splogger", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::none(argv);
    if rest.len() > 2 {
        return Err(Fail::usage(USAGE));
    }
    let tag = rest.first().map_or(&b"splogger"[..], |t| t.as_bytes());
    let facility =
        splog::facility(rest.get(1).map(|f| f.as_bytes())).ok_or_else(|| Fail::usage(USAGE))?;
    // a stream-socket daemon that goes away mid-write must give EPIPE, not kill us
    let _ = sys::sig::ignore(sys::sig::SIGPIPE);
    let mut log = Syslog::new(SOCKET, tag, facility);
    let mut input = std::io::stdin().lock();
    splog::copy(&mut input, SystemTime::now, |level, msg| {
        deliver(&mut log, level, msg)
    })
    .or_temp("unable to read input")?;
    Ok(0)
}

/// Sends one message, retrying every second until syslog takes it; warns once if it has to wait.
fn deliver(log: &mut Syslog, level: u8, msg: &[u8]) {
    let mut warned = false;
    while let Err(e) = log.send(level, msg) {
        if !warned {
            prog::warn(&format!(
                "unable to log to {SOCKET}: {}; will try again",
                errtext::text(&e)
            ));
            warned = true;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
