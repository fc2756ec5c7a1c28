//! addcr — turn every LF into CR LF, fd 0 to fd 1.
//!
//! Usage:    addcr
//! Exit:     0 at the end of input; 111 on a read or write error.
//! Runs as:  any user.  Trusts: nothing (any bytes pass).
//! Spec:     shared/spec/ucspi.md §7.2

use qlib::crlf::{self, Failed};
use qlib::fail::{Fail, OrFail as _};
use qlib::prog;
use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("addcr", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    match crlf::filter(|chunk, out| crlf::addcr(chunk.unwrap_or_default(), out)) {
        Ok(()) => Ok(0),
        Err(Failed::Read(e)) => Err(e).or_temp("unable to read input"),
        Err(Failed::Write(e)) => Err(e).or_temp("unable to write output"),
    }
}
