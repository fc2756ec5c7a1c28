//! qmail-qstat — count the messages in the queue.
//!
//! Usage:    qmail-qstat
//!           prints `messages in queue: <n>` (files under queue/mess/*) and
//!           `messages in queue but not yet preprocessed: <m>` (files in queue/todo).
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed; 100 usage; 111 cannot chdir to the home or queue, list a directory,
//!           or write the output (`qmail-qstat: fatal: unable to ...`).
//! Runs as:  root, or a member of group qmail (mess/ and todo/ are qmailq 0750).
//!           Trusts: nothing; it only counts.
//! Spec:     shared/spec/qmail.md §10.15 (there a shell script using find and wc).

use qlib::fail::{Fail, OrFail as _};
use qlib::{args, conf, prog};
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::process::ExitCode;

const USAGE: &str = "qmail-qstat";

fn main() -> ExitCode {
    prog::main("qmail-qstat", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    std::env::set_current_dir("queue").or_temp("unable to chdir to queue")?;
    let mut queued = 0;
    for s in 0..conf::split() {
        queued += files(&format!("mess/{s}"))?;
    }
    let todo = files("todo")?;
    let text = format!(
        "messages in queue: {queued}\nmessages in queue but not yet preprocessed: {todo}\n"
    );
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}

/// Regular files in `dir` (as `find dir -type f`, which does not descend here).
fn files(dir: &str) -> Result<u64, Fail> {
    let what = format!("unable to opendir {dir}");
    let mut n = 0;
    for e in std::fs::read_dir(dir).or_temp(&what)? {
        let e = e.or_temp(&what)?;
        if e.file_type().is_ok_and(|t| t.is_file()) {
            n += 1;
        }
    }
    Ok(n)
}
