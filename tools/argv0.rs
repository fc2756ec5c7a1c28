//! argv0 — run a program under another argv[0].
//!
//! Usage:    argv0 realname argv0name [ arg ... ]
//! Exit:     100 usage; 111 if realname cannot be run; otherwise realname's own (it is exec'd,
//!           found through PATH when it has no slash).
//! Runs as:  any user.  Trusts: nothing.
//! Spec:     shared/spec/ucspi.md §7.4

use qlib::fail::Fail;
use qlib::{args, errtext, prog};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

const USAGE: &str = "argv0 realname program [ arg ... ]";

fn main() -> ExitCode {
    prog::main("argv0", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::at_least(args::none(argv), 2, USAGE)?;
    let e = Command::new(&rest[0])
        .arg0(&rest[1])
        .args(&rest[2..])
        .exec();
    Err(Fail::temp(format!(
        "unable to run {}: {}",
        rest[0].to_string_lossy(),
        errtext::text(&e)
    )))
}
