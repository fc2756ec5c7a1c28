//! predate — feed a program its standard input with a local-time Date line on top.
//!
//! Usage:    predate child [ arg ... ]
//! Exit:     child's own code; 100 for usage; 111 if child cannot be run or crashes.
//! Runs as:  any user (datemail, for MUAs).  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.6

use qlib::child::Wait;
use qlib::fail::{Fail, OrFail as _};
use qlib::sys::{sig, time};
use qlib::{args, date, prog};
use std::ffi::OsString;
use std::io::{self, Write};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "predate child";
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn main() -> ExitCode {
    prog::main("predate", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let cmd = args::at_least(args::none(argv), 1, USAGE)?;
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::piped())
        .spawn()
        .or_temp(&format!("unable to run {}", cmd[0].to_string_lossy()))?;
    let now = date::secs(std::time::SystemTime::now());
    if let Some(mut pipe) = child.stdin.take() {
        // As predate.c, a child that stops reading is not an error here: its code says.
        let _ = pipe
            .write_all(date_line(now, time::utc_offset(now)).as_bytes())
            .and_then(|()| io::copy(&mut io::stdin().lock(), &mut pipe).map(drop));
    }
    match child.wait().or_temp("wait failed")?.into() {
        Wait::Exited(code) => Ok(code),
        Wait::Crashed(_) => Err(Fail::temp("child crashed")),
    }
}

/// `Date: 4 Dec 2026 03:16:32 +0100\n`: local time, offset `offset` seconds east of UTC.
fn date_line(now: i64, offset: i64) -> String {
    let c = date::civil(now + offset);
    let minutes = (offset.abs() + 30) / 60;
    format!(
        "Date: {} {} {} {:02}:{:02}:{:02} {}{:02}{:02}\n",
        c.day,
        MONTHS[c.month as usize - 1],
        c.year,
        c.hour,
        c.min,
        c.sec,
        if offset < 0 { '-' } else { '+' },
        minutes / 60,
        minutes % 60
    )
}
