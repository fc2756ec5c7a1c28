//! mconnect — talk SMTP by hand: connect with tcpclient and run mconnect-io.
//!
//! Usage:    mconnect [ host [ port ] ]   (defaults: host 0, i.e. 127.0.0.1; port 25)
//! Runs `tcpclient -RHl0 -- host port mconnect-io`, both taken from the directory this
//! program is in: no ident, no name lookups, TCPLOCALHOST=0. Lines typed get CR LF.
//! Exit:     100 usage; 111 if tcpclient cannot be run; otherwise tcpclient's (and so
//!           mconnect-io's).
//! Runs as:  any user.  Trusts: nothing.
//! Spec:     shared/spec/ucspi.md §7.5

use qlib::fail::{Fail, OrFail as _};
use qlib::{args, errtext, prog};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

const USAGE: &str = "mconnect [ host [ port ] ]";

fn main() -> ExitCode {
    prog::main("mconnect", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::none(argv);
    if rest.len() > 2 {
        return Err(Fail::usage(USAGE));
    }
    let host = rest.first().cloned().unwrap_or_else(|| "0".into());
    let port = rest.get(1).cloned().unwrap_or_else(|| "25".into());
    let exe = std::env::current_exe().or_temp("unable to find my own directory")?;
    let dir = exe.parent().unwrap_or(std::path::Path::new("/"));
    let tcpclient = dir.join("tcpclient");
    let e = Command::new(&tcpclient)
        .args([OsString::from("-RHl0"), "--".into(), host, port])
        .arg(dir.join("mconnect-io"))
        .exec();
    Err(Fail::temp(format!(
        "unable to run {}: {}",
        tcpclient.display(),
        errtext::text(&e)
    )))
}
