//! except — run a program and invert its result.
//!
//! Usage:    except program [ arg ... ]
//! Exit:     100 if program exits 0; 111 if it exits 111, crashes, or cannot be started for a
//!           temporary reason; 0 otherwise (any other code, or not runnable).
//! Runs as:  the .qmail owner, under qmail-local.  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.4

use qlib::child::{self, Wait};
use qlib::fail::Fail;
use qlib::{args, exit, prog};
use std::ffi::OsString;
use std::process::{Command, ExitCode};

const USAGE: &str = "except program [ arg ... ]";

fn main() -> ExitCode {
    prog::main("except", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let program = args::at_least(args::none(argv), 1, USAGE)?;
    match child::run_or_exec_code(Command::new(&program[0]).args(&program[1..])) {
        Wait::Exited(0) => Ok(exit::PERM),
        Wait::Exited(111) => Err(Fail::temp("temporary child error")),
        Wait::Exited(_) => Ok(exit::OK),
        Wait::Crashed(_) => Err(Fail::temp("child crashed")),
    }
}
