//! qmail-qmsg — show one queued message: its envelope and its text.
//!
//! Usage:    qmail-qmsg id        (`123` or `#123`, as qmail-qread shows it)
//!           prints the message's qmail-qread lines (queue time, id, size, sender,
//!           ` bouncing`, ` held`, then each recipient, pending or `  done`), an empty
//!           line, and the stored message exactly as qmail-queue wrote it (its own
//!           `Received:` line first). The queue is only read, so this is safe while
//!           qmail-send runs; a message finished meanwhile is reported as not in the queue.
//! Options:  none.
//! Environment: none.
//! Exit:     0 shown; 100 usage, or `qmail-qmsg: fatal: no message <id> in the queue`
//!           (no info/ file: not queued, finished, or not yet preprocessed); 111 cannot
//!           chdir to the home or queue, read the message's files, or write the output.
//! Runs as:  root, or qmails (info/, local/, remote/ are qmails 0700).  Trusts: nothing in
//!           the queue; envelope addresses are shown sanitised, the text as it is.
//! Spec:     beyond qmail (issue 7); the envelope lines are qmail-qread's (qmail.md §10.14).

use qlib::fail::{Fail, OrFail as _};
use qlib::{args, conf, prog, qread, queue, scan};
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::process::ExitCode;

const USAGE: &str = "qmail-qmsg id";

fn main() -> ExitCode {
    prog::main("qmail-qmsg", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::exactly(args::none(argv), 1, USAGE)?;
    let b = rest[0].as_encoded_bytes();
    let id = scan::ulong_exact(b.strip_prefix(b"#").unwrap_or(b)).ok_or(Fail::usage(USAGE))?;
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    std::env::set_current_dir("queue").or_temp("unable to chdir to queue")?;
    let missing = || Fail::perm(format!("no message {id} in the queue"));
    if !queue::path("info", id).exists() {
        return Err(missing());
    }
    let what = format!("unable to read message {id}");
    let entry = match qread::read(id) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing()),
        Err(e) => return Err(Fail::temp(format!("{what}: {}", qlib::errtext::text(&e)))),
    };
    let text = std::fs::read(queue::path("mess", id)).or_temp(&what)?;
    let mut out = io::stdout().lock();
    out.write_all(&qread::format(&entry))
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.write_all(&text))
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
