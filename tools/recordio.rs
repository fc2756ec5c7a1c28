//! recordio — run a program and log everything it reads and writes on fd 2.
//!
//! Usage:    recordio program [ arg ... ]
//! The program keeps recordio's pid; a forked child relays fd 0 to the program and the
//! program's output to fd 1, logging each chunk (at most 256 bytes) as it passes: one line
//! `<pid> < <bytes>` (input) or `<pid> > <bytes>` (output) per piece split after each LF,
//! the LF written as ` \n`, a last piece without LF ended by `+\n`; `<pid> < [EOF]` and
//! `<pid> > [EOF]` at the end of each stream. Bytes are logged verbatim (CRs included).
//! Exit:     100 usage; 111 if the pipes, the fork or the exec fail; otherwise the program's.
//!           The relay ends when the program's output ends.
//! Runs as:  any user (typically between tcpserver and a server, for debugging).
//! Trusts:   nothing; the log holds the raw bytes.
//! Spec:     shared/spec/ucspi.md §7.1

use qlib::fail::{Fail, OrFail as _};
use qlib::relay::{self, Event, Side};
use qlib::{args, prog};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "recordio program [ arg ... ]";

fn main() -> ExitCode {
    prog::main("recordio", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let program = args::at_least(args::none(argv), 1, USAGE)?;
    let pid = std::process::id();
    match relay::split().or_temp("unable to fork")? {
        Side::Program { stdin, stdout } => Err(relay::exec_program(&program, stdin, stdout)),
        Side::Relay { to_prog, from_prog } => {
            let log = |line: Vec<u8>| {
                let _ = std::io::stderr().write_all(&line);
            };
            let r = relay::relay(to_prog, from_prog, |ev, pass| match ev {
                Event::In(c) | Event::Out(c) => {
                    let dir = if matches!(ev, Event::In(_)) {
                        b'<'
                    } else {
                        b'>'
                    };
                    log(relay::record(pid, dir, c));
                    pass.extend_from_slice(c);
                }
                Event::InEof => log(relay::record_eof(pid, b'<')),
                Event::OutEof => log(relay::record_eof(pid, b'>')),
            });
            r.or_temp("unable to relay").map(|()| 0)
        }
    }
}
