//! qmail-clean — remove queue files on qmail-send's behalf.
//!
//! Usage:    qmail-clean        (started by qmail-start; arguments are ignored)
//! Input:    fd 0: requests `foop/ID\0` (remove intd/ID and mess/S/ID: message finished) and
//!           `todo/ID\0` (remove intd/ID and todo/ID: envelope preprocessed). ID is decimal.
//! Output:   fd 1: one byte per request: `+` done (a missing file is fine), `!` an unlink
//!           failed, `x` malformed request (nothing is done). Also removes pid/ files not
//!           accessed for 36 hours, at startup and after every 30 requests.
//! Exit:     0 at end of input; 111 cannot reach the queue, or a read/write error.
//! Runs as:  qmailq (the queue's owner), started by qmail-start.  Trusts: nothing it reads;
//!           only the two fixed request shapes with numeric ids are acted on.
//! Spec:     shared/spec/qmail.md §2.4, §3.9 (cleanups).

use qlib::fail::{Fail, OrFail as _};
use qlib::getln::{getln, Got};
use qlib::send::clean;
use qlib::sys::fd;
use qlib::{conf, prog};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, Write};
use std::process::ExitCode;
use std::time::SystemTime;

/// Requests between two sweeps of pid/.
const SWEEP_EVERY: u32 = 30;

fn main() -> ExitCode {
    prog::main("qmail-clean", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    std::env::set_current_dir(conf::HOME).or_temp("unable to switch to home directory")?;
    std::env::set_current_dir("queue").or_temp("unable to switch to queue directory")?;
    let input = fd::inherited(0).ok_or_else(|| Fail::temp("no requests on fd 0"))?;
    let mut output = fd::inherited(1)
        .map(File::from)
        .ok_or_else(|| Fail::temp("no reply channel on fd 1"))?;
    let mut input = BufReader::new(File::from(input));
    clean::stale_pids(SystemTime::now());
    let mut req = Vec::new();
    let mut count = 0u32;
    loop {
        let reply = match getln(&mut input, 0, clean::REQ_MAX, &mut req) {
            Ok(Got::Record) => {
                clean::parse(&req).map_or(b'x', |(kind, id)| clean::perform(kind, id))
            }
            Ok(Got::TooLong) => loop {
                match getln(&mut input, 0, clean::REQ_MAX, &mut req) {
                    Ok(Got::TooLong) => continue,
                    Ok(Got::Record) => break b'x',
                    Ok(_) => return Ok(0),
                    Err(_) => return Err(Fail::temp("unable to read requests")),
                }
            },
            Ok(Got::Partial | Got::Eof) => return Ok(0),
            Err(_) => return Err(Fail::temp("unable to read requests")),
        };
        output
            .write_all(&[reply])
            .or_temp("unable to write reply")?;
        count += 1;
        if count.is_multiple_of(SWEEP_EVERY) {
            clean::stale_pids(SystemTime::now());
        }
    }
}
