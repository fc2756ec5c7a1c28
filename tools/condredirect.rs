//! condredirect — redirect the message to another address if a program says so.
//!
//! Usage:    condredirect newaddress program [ arg ... ]
//! Environment: SENDER (the envelope sender of the redirected copy), DTLINE (put on top).
//! Exit:     99 after `condredirect: qp <pid>` when program exits 0 and the message is queued;
//!           0 when program exits anything else or cannot be run; 111 when it exits 111,
//!           crashes, or queueing fails temporarily; 100 for usage, a missing SENDER or DTLINE,
//!           or a permanent refusal by qmail-queue.
//! Runs as:  the .qmail owner, under qmail-local.  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.2

use qlib::child::{self, Wait};
use qlib::fail::{Fail, OrFail as _};
use qlib::sys::{fd, sig};
use qlib::{args, env, exit, prog, qmail};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, ExitCode};

const USAGE: &str = "condredirect newaddress program [ arg ... ]";

fn main() -> ExitCode {
    prog::main("condredirect", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::at_least(args::none(argv), 2, USAGE)?;
    match child::run_or_exec_code(Command::new(&rest[1]).args(&rest[2..])) {
        Wait::Exited(0) => {}
        Wait::Exited(111) => return Err(Fail::temp("temporary child error")),
        Wait::Exited(_) => return Ok(exit::OK),
        Wait::Crashed(_) => return Err(Fail::temp("child crashed")),
    }
    let mut input = fd::inherited(0)
        .map(File::from)
        .ok_or_else(|| io::Error::from_raw_os_error(9))
        .or_temp("unable to rewind")?;
    input.seek(SeekFrom::Start(0)).or_temp("unable to rewind")?;
    // As condredirect.c: a dead qmail-queue shows up in its exit status, not as SIGPIPE.
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let sender = env::get("SENDER").ok_or_else(|| Fail::perm("SENDER not set"))?;
    let dtline = env::get("DTLINE").ok_or_else(|| Fail::perm("DTLINE not set"))?;
    let mut qq = qmail::Queue::open().or_temp("unable to fork")?;
    qq.put(&dtline);
    qq.copy_from(&mut input).or_temp("unable to read message")?;
    let pid = qq.pid();
    qq.from(&sender);
    qq.to(rest[0].as_bytes());
    match qq.close() {
        Ok(()) => Err(Fail::with(exit::SKIP, format!("qp {pid}"))),
        Err(r) => Err(Fail::with(
            if r.perm { exit::PERM } else { exit::TEMP },
            format!("fatal: {}", r.text),
        )),
    }
}
