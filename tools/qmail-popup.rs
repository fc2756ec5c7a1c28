//! qmail-popup — read a POP3 user name and password, and hand them to a checkpassword
//! program that runs the POP3 session.
//!
//! Usage:    qmail-popup hostname subprogram [ arg ... ]
//!           (run by tcpserver per connection: `tcpserver 0 110 qmail-popup pop.example
//!           checkpassword qmail-pop3d Maildir`)
//! Input:    fd 0: the client's commands; fd 1: the replies. Greeting `+OK <pid.time@hostname>`
//!           (the APOP timestamp). Commands, case-insensitive: USER name, PASS password,
//!           APOP name digest, QUIT, NOOP, CAPA; anything else gets `-ERR authorization first`.
//! Handover: at PASS or APOP, runs `subprogram arg ...` (searched in PATH, as execvp does)
//!           with fd 0/1 still the client, fd 2 inherited, and a pipe on fd 3 carrying
//!           `name\0password\0<pid.time@hostname>\0` (for APOP the digest in place of the
//!           password); the copies of the password in memory are then wiped. It waits: a
//!           crash gets `-ERR aack, child crashed`, a nonzero exit `-ERR authorization
//!           failed`, each after a 2 s delay (qlib::pop3::auth::FAIL_DELAY); exit 0 means the
//!           subprogram served the session, and nothing more is said. One login per connection.
//! Controls: control/timeoutpop3 in the qmail home: the idle timeout, seconds (1200; 0 is
//!           1). Unreadable: `-ERR unable to read controls` instead of the greeting.
//! Environment: passed on untouched to the subprogram.
//! Exit:     1 always, as qmail's (after QUIT, after the subprogram, on a timeout, when the
//!           client leaves, on a usage error: `-ERR usage: popup hostname subprogram`).
//! Runs as:  root (so that checkpassword can become the user), with SIGPIPE ignored; the
//!           subprogram gets SIGPIPE back at its default.
//! Trusts:   nothing from the client; the subprogram's exit code.
//! Spec:     shared/spec/qmail.md §9.1; addons.md §1.3; decisions.md (POP3).
//!
//! Beyond qmail: the failure delay; CAPA; a command line over 1024 bytes gets
//! `-ERR line too long` and a NUL in one `-ERR syntax error` (see qlib::pop3); the read
//! buffer is wiped too; a subprogram that cannot be executed (not found, not executable)
//! is a failed login as in qmail, but with a warning on fd 2, and a temporary failure to
//! start it gets `-ERR unable to fork`; one that exits without reading fd 3 is judged by its
//! exit code (qmail: `-ERR unable to write pipe`). Not PIPELINING: commands a client sends
//! after PASS without waiting for the reply are lost, as in qmail (see qlib::pop3).

use qlib::fail::{Fail, OrFail as _};
use qlib::pop3::auth::{self, End, Handover};
use qlib::smtpd::input::{Broken, Input, Net};
use qlib::sys::{fd, sig};
use qlib::{conf, date, errtext, pop3, prog, timeout};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

fn main() -> ExitCode {
    prog::main("qmail-popup", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let input = fd::inherited(0).ok_or_else(|| Fail::silent(1))?;
    let output = fd::inherited(1).ok_or_else(|| Fail::silent(1))?;
    if argv.len() < 3 {
        return Err(refuse(output, "usage: popup hostname subprogram"));
    }
    let Ok(limit) = pop3::timeout(Path::new(conf::HOME)) else {
        return Err(refuse(output, "unable to read controls"));
    };
    let mut out = BufWriter::with_capacity(1024, timeout::Writer::new(File::from(output), limit));
    let mut input = Input::new(Net::new(File::from(input), limit), pop3::INPUT_BUF);
    let now = date::secs(SystemTime::now());
    let stamp = auth::stamp(std::process::id(), now.max(0) as u64, argv[1].as_bytes());
    let _ = auth::greet(&mut out, &stamp);
    let end = auth::authorize(&mut input, &mut out);
    input.wipe();
    // replies to commands sent before the client shut its side down are still written
    let flushed = !matches!(end, End::Broken(Broken::Write)) && out.flush().is_ok();
    if let (End::Login(user, pass), true) = (end, flushed) {
        let result = auth::check(&argv[2..], &user.0, &pass.0, &stamp);
        drop((user, pass));
        if let Err(Handover::Spawn(e)) = &result {
            let what = argv[2].to_string_lossy();
            prog::warn(&format!("unable to run {what}: {}", errtext::text(e)));
        }
        let _ = auth::tell(&mut out, &result);
    }
    // Replies that could not be written are dropped: BufWriter's drop would try again and
    // wait out another timeout.
    let _ = out.into_parts();
    Ok(1)
}

/// Sends `-ERR <text>` and gives up (exit 1), as qmail-popup does before its greeting.
fn refuse(output: std::os::fd::OwnedFd, text: &str) -> Fail {
    let mut out = timeout::Writer::new(File::from(output), Duration::from_secs(60));
    let _ = out.write_all(format!("-ERR {text}\r\n").as_bytes());
    Fail::silent(1)
}
