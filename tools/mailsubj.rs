//! mailsubj — send standard input as a message with the given subject to the given addresses.
//!
//! Usage:    mailsubj subject recipient ...
//! Exit:     that of `QMAILHOME/bin/qmail-inject`, which reads the header it is given
//!           (`Subject: subject`, `To: recipients joined by spaces`, an empty line, then
//!           standard input); 111 if it cannot be run or crashes.
//! Runs as:  any user.  Trusts: nothing (the arguments must already be valid header text).
//! Spec:     shared/spec/qmail.md §10.7

use qlib::child::Wait;
use qlib::fail::{Fail, OrFail as _};
use qlib::sys::sig;
use qlib::{args, conf, prog};
use std::ffi::OsString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    prog::main("mailsubj", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::none(argv);
    // The original is a shell script, `( echo Subject: ...; echo To: ...; echo; cat ) |
    // qmail-inject`: what the pipeline exits with is qmail-inject's code, so a failure to
    // write to it is left for that code to report.
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let mut head = b"Subject: ".to_vec();
    head.extend_from_slice(rest.first().map_or(&b""[..], |s| s.as_bytes()));
    head.extend_from_slice(b"\nTo:");
    for r in rest.iter().skip(1) {
        head.push(b' ');
        head.extend_from_slice(r.as_bytes());
    }
    head.extend_from_slice(b"\n\n");
    let inject = Path::new(conf::HOME).join("bin/qmail-inject");
    let mut child = Command::new(&inject)
        .stdin(Stdio::piped())
        .spawn()
        .or_temp(&format!("unable to run {}", inject.display()))?;
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe
            .write_all(&head)
            .and_then(|()| io::copy(&mut io::stdin().lock(), &mut pipe).map(drop));
    }
    match child.wait().or_temp("wait failed")?.into() {
        Wait::Exited(code) => Ok(code),
        Wait::Crashed(_) => Err(Fail::temp("child crashed")),
    }
}
