//! datemail — sendmail, with a Date line in local time put on top by predate.
//!
//! Usage:    datemail [ sendmail arguments ]
//! Exit:     that of `QMAILHOME/bin/predate QMAILHOME/bin/sendmail args...` (exec'd);
//!           111 if predate cannot be run.
//! Runs as:  any user (a mail user agent's sendmail).  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.6

use qlib::fail::Fail;
use qlib::{args, conf, errtext, prog};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    prog::main("datemail", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::none(argv);
    let bin = Path::new(conf::HOME).join("bin");
    let predate = bin.join("predate");
    let e = Command::new(&predate)
        .arg(bin.join("sendmail"))
        .args(&rest)
        .exec();
    Err(Fail::temp(format!(
        "unable to run {}: {}",
        predate.display(),
        errtext::text(&e)
    )))
}
