//! forward — forward the message on standard input to the given addresses.
//!
//! Usage:    forward address ...
//! Environment: NEWSENDER (the envelope sender), DTLINE (put on top of the message).
//! Exit:     0 after `forward: qp <pid>`; 100 if NEWSENDER or DTLINE is missing or
//!           qmail-queue refuses permanently; 111 for temporary failures.
//! Runs as:  the .qmail owner, under qmail-local.  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.1

use qlib::fail::{Fail, OrFail as _};
use qlib::sys::sig;
use qlib::{args, env, exit, prog, qmail};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("forward", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let to = args::none(argv);
    // As forward.c: a dead qmail-queue shows up in its exit status, not as SIGPIPE.
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let sender = env::get("NEWSENDER").ok_or_else(|| Fail::perm("NEWSENDER not set"))?;
    let dtline = env::get("DTLINE").ok_or_else(|| Fail::perm("DTLINE not set"))?;
    let mut qq = qmail::Queue::open().or_temp("unable to fork")?;
    qq.put(&dtline);
    qq.copy_from(&mut std::io::stdin().lock())
        .or_temp("unable to read message")?;
    let pid = qq.pid();
    qq.from(&sender);
    for t in &to {
        qq.to(t.as_bytes());
    }
    match qq.close() {
        Ok(()) => Err(Fail::with(exit::OK, format!("qp {pid}"))),
        Err(r) => Err(Fail::with(
            if r.perm { exit::PERM } else { exit::TEMP },
            format!("fatal: {}", r.text),
        )),
    }
}
