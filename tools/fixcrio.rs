//! fixcrio — run a program, inserting CR before each bare LF in both directions.
//!
//! Usage:    fixcrio program [ arg ... ]
//! The program keeps fixcrio's pid; a forked child relays fd 0 to the program and the
//! program's output to fd 1. In each direction an LF not right after a CR (even one at the
//! end of the previous chunk) gets a CR inserted before it; nothing is removed.
//! Exit:     100 usage; 111 if the pipes, the fork or the exec fail; otherwise the program's.
//!           The relay ends when the program's output ends.
//! Runs as:  any user.  Trusts: nothing (any bytes pass).
//! Spec:     shared/spec/ucspi.md §7.3

use qlib::crlf::FixCr;
use qlib::fail::{Fail, OrFail as _};
use qlib::relay::{self, Event, Side};
use qlib::{args, prog};
use std::ffi::OsString;
use std::process::ExitCode;

const USAGE: &str = "fixcrio program [ arg ... ]";

fn main() -> ExitCode {
    prog::main("fixcrio", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let program = args::at_least(args::none(argv), 1, USAGE)?;
    match relay::split().or_temp("unable to fork")? {
        Side::Program { stdin, stdout } => Err(relay::exec_program(&program, stdin, stdout)),
        Side::Relay { to_prog, from_prog } => {
            let (mut inward, mut outward) = (FixCr::default(), FixCr::default());
            let r = relay::relay(to_prog, from_prog, |ev, pass| match ev {
                Event::In(c) => inward.feed(c, pass),
                Event::Out(c) => outward.feed(c, pass),
                Event::InEof | Event::OutEof => {}
            });
            r.or_temp("unable to relay").map(|()| 0)
        }
    }
}
