//! maildirqmtp — send a Maildir to a host over QMTP, in one connection.
//!
//! Usage:    maildirqmtp dir prefix host
//! Behaviour: execs `QMAILHOME/bin/maildirserial -b -t 1209600 -- dir prefix
//!           QMAILHOME/bin/tcpclient -RHl0 -- host 209 QMAILHOME/bin/serialqmtp prefix`: the
//!           messages in dir whose recipient starts with prefix go to host with prefix
//!           removed. Those host accepts are removed; those it refuses for good, or for now
//!           when over two weeks old, are bounced to their senders and removed; the rest
//!           stay. A host that cannot be reached refuses nothing: no message is removed or
//!           bounced.
//! Exit:     maildirserial's (0 the Maildir was emptied of such messages, 111 some remain);
//!           100 usage; 111 maildirserial cannot be run.
//! Runs as:  the Maildir's owner (cron, or AutoTURN under setlock after qmail-smtpd).
//!           Trusts: its arguments.
//! Spec:     shared/spec/addons.md §4 (serialmail 0.75 maildirqmtp, a shell script there).

use qlib::fail::Fail;
use qlib::{args, conf, errtext, prog};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};

const USAGE: &str = "maildirqmtp dir prefix host";

fn main() -> ExitCode {
    prog::main("maildirqmtp", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let a = args::exactly(args::none(argv), 3, USAGE)?;
    let bin = Path::new(conf::HOME).join("bin");
    let serial = bin.join("maildirserial");
    let e = Command::new(&serial)
        .args(["-b", "-t", "1209600", "--"])
        .args([&a[0], &a[1]])
        .arg(bin.join("tcpclient"))
        .args(["-RHl0", "--"])
        .args([&a[2], &OsString::from("209")])
        .arg(bin.join("serialqmtp"))
        .arg(&a[1])
        .exec();
    Err(Fail::temp(format!(
        "unable to run {}: {}",
        serial.display(),
        errtext::text(&e)
    )))
}
