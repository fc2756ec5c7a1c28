//! delcr — turn every CR LF into LF, fd 0 to fd 1; other CRs (even a last one) are kept.
//!
//! Usage:    delcr
//! Exit:     0 at the end of input; 111 on a read or write error.
//! Runs as:  any user.  Trusts: nothing (any bytes pass).
//! Spec:     shared/spec/ucspi.md §7.2

use qlib::crlf::{self, DelCr, Failed};
use qlib::fail::{Fail, OrFail as _};
use qlib::prog;
use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("delcr", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    let mut d = DelCr::default();
    let r = crlf::filter(|chunk, out| match chunk {
        Some(c) => d.feed(c, out),
        None => d.finish(out),
    });
    match r {
        Ok(()) => Ok(0),
        Err(Failed::Read(e)) => Err(e).or_temp("unable to read input"),
        Err(Failed::Write(e)) => Err(e).or_temp("unable to write output"),
    }
}
