//! bouncesaying — bounce the message with a fixed text, perhaps only if a program says so.
//!
//! Usage:    bouncesaying error [ program [ arg ... ] ]
//! Exit:     100 (after printing `error`) without a program, or when program exits 0;
//!           111 if program exits 111 or crashes; 0 otherwise (any other code, or not runnable).
//! Runs as:  the .qmail owner, under qmail-local.  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.3

use qlib::child::{self, Wait};
use qlib::fail::Fail;
use qlib::{args, exit, prog};
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, ExitCode};

const USAGE: &str = "bouncesaying error [ program [ arg ... ] ]";

fn main() -> ExitCode {
    prog::main("bouncesaying", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::at_least(args::none(argv), 1, USAGE)?;
    if rest.len() > 1 {
        match child::run_or_exec_code(Command::new(&rest[1]).args(&rest[2..])) {
            Wait::Exited(0) => {}
            Wait::Exited(111) => return Err(Fail::temp("temporary child error")),
            Wait::Exited(_) => return Ok(exit::OK),
            Wait::Crashed(_) => return Err(Fail::temp("child crashed")),
        }
    }
    // The text alone, without the program's name (strerr_die1x): qmail-local shows it to
    // the sender in the bounce.
    let mut line = rest[0].as_bytes().to_vec();
    line.push(b'\n');
    let _ = std::io::stderr().write_all(&line);
    Ok(exit::PERM)
}
