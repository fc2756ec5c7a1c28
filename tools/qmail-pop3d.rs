//! qmail-pop3d — serve a Maildir over POP3 (RFC 1939) once the user has logged in.
//!
//! Usage:    qmail-pop3d maildirname
//!           (the last link of `qmail-popup host checkpassword qmail-pop3d Maildir`:
//!           checkpassword has become the user and made their home the current directory)
//! Input:    fd 0: the client's commands; fd 1: the replies. Commands, case-insensitive:
//!           STAT, LIST [n], UIDL [n], RETR n, TOP n [lines], DELE n, RSET, LAST, NOOP,
//!           CAPA, QUIT; anything else gets `-ERR unimplemented`.
//! Maildir:  at the start, files in tmp/ not accessed for 36 hours are removed; new/ and
//!           cur/ are listed, oldest first (see qlib::pop3::mailbox for what is skipped).
//!           Changes are made only at QUIT: deleted messages are unlinked, the others in
//!           new/ move to cur/ with `:2,`. A session that ends otherwise changes nothing.
//!           UIDL is the file name up to its `:`, the same in new/ and cur/ whatever flags.
//! Controls: control/timeoutpop3 in the qmail home: the idle timeout, seconds (1200; 0 is
//!           1). Unreadable: `-ERR unable to read controls` instead of the greeting.
//! Exit:     0, whatever happened, so that qmail-popup adds nothing (no maildirname, or
//!           one it cannot enter: `-ERR this user has no $HOME/Maildir`; new/ or cur/
//!           unreadable: `-ERR unable to scan $HOME/Maildir`; the client left or was silent
//!           for the timeout: no reply). 1 when run as uid 0, with
//!           `qmail-pop3d: invoked as uid 0, terminating` on fd 2, which qmail-popup turns
//!           into a failed login (notqmail; netqmail served root's mail).
//! Runs as:  the user whose Maildir it serves, with SIGPIPE ignored.
//! Trusts:   nothing from the client; the Maildir's files are the user's own.
//! Spec:     shared/spec/qmail.md §9.2; formats.md §5; decisions.md (POP3).
//!
//! Beyond qmail: CAPA with PIPELINING, replies written when about to wait for the client;
//! command lines over 1024 bytes and NUL bytes (see qlib::pop3); messages are streamed
//! (memory does not grow with a message or a line); UIDLs of odd file names are escaped,
//! and only regular files are listed (see qlib::pop3::mailbox).

use qlib::fail::{Fail, OrFail as _};
use qlib::pop3::{mailbox, transaction::Session};
use qlib::smtpd::input::{Input, Net};
use qlib::sys::{fd, id, sig};
use qlib::{conf, date, pop3, prog, timeout};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

/// The reply buffer: messages go out in pieces of this size.
const OUT_BUF: usize = 65536;

fn main() -> ExitCode {
    prog::main("qmail-pop3d", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    if id::getuid() == 0 {
        return Err(Fail::with(1, "invoked as uid 0, terminating"));
    }
    let input = fd::inherited(0).ok_or_else(|| Fail::silent(0))?;
    let output = fd::inherited(1).ok_or_else(|| Fail::silent(0))?;
    let Ok(limit) = pop3::timeout(Path::new(conf::HOME)) else {
        return Ok(refuse(output, "unable to read controls"));
    };
    let Some(maildir) = argv.get(1) else {
        return Ok(refuse(output, "this user has no $HOME/Maildir"));
    };
    if std::env::set_current_dir(maildir).is_err() {
        return Ok(refuse(output, "this user has no $HOME/Maildir"));
    }
    let now = date::secs(SystemTime::now());
    let here = Path::new(".");
    mailbox::clean_tmp(here, now);
    let Ok(msgs) = mailbox::scan(here, now) else {
        return Ok(refuse(output, "unable to scan $HOME/Maildir"));
    };
    let out = BufWriter::with_capacity(OUT_BUF, timeout::Writer::new(File::from(output), limit));
    let input = Input::new(Net::new(File::from(input), limit), pop3::INPUT_BUF);
    let mut session = Session::new(input, out, PathBuf::from("."), msgs);
    session.run();
    // Replies still pending after a timeout or a write error are dropped, not written:
    // BufWriter's drop would try again and wait out another timeout.
    let _ = session.into_output().into_parts();
    Ok(0)
}

/// Sends `-ERR <text>`; the session is over (exit 0).
fn refuse(output: OwnedFd, text: &str) -> u8 {
    let limit = std::time::Duration::from_secs(pop3::DEFAULT_TIMEOUT);
    let mut out = timeout::Writer::new(File::from(output), limit);
    let _ = out.write_all(format!("-ERR {text}\r\n").as_bytes());
    0
}
