//! preline — feed a program the message with qmail-local's envelope lines on top.
//!
//! Usage:    preline [ -frdFRD ] command [ arg ... ]
//! Options:  -f no `From ` line (UFLINE); -r no Return-Path (RPLINE); -d no Delivered-To
//!           (DTLINE); -F, -R, -D put them back.  The last of a pair wins.
//! Environment: UFLINE, RPLINE, DTLINE, all required (set by qmail-local).
//! Exit:     command's own code; 100 for usage or a permanent exec error; 111 for temporary
//!           problems or a crash.
//! Runs as:  the .qmail owner, under qmail-local.  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.5

use qlib::child::Wait;
use qlib::fail::{Fail, OrFail as _};
use qlib::getopt::{self, Getopt, Opt};
use qlib::sys::sig;
use qlib::{args, env, prog};
use std::ffi::OsString;
use std::io::{self, Write};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "preline cmd [ arg ... ]";

fn main() -> ExitCode {
    prog::main("preline", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let usage = || Fail::usage(USAGE);
    let ufline = env::get("UFLINE").ok_or_else(usage)?;
    let rpline = env::get("RPLINE").ok_or_else(usage)?;
    let dtline = env::get("DTLINE").ok_or_else(usage)?;
    // qlib::getopt, not getopts: the later of -f and -F wins even inside one cluster (-Ff).
    let mut on = [true; 3];
    let mut g = Getopt::new(&argv, "frdFRD");
    while let Some(opt) = g.next_opt() {
        match opt {
            Opt::Found(c, _) => {
                let i = b"frd".iter().position(|&l| l == c.to_ascii_lowercase());
                on[i.unwrap_or(0)] = c.is_ascii_uppercase();
            }
            Opt::Bad(c) => {
                getopt::complain("frdFRD", c);
                return Err(usage());
            }
        }
    }
    let cmd = args::at_least(g.rest(), 1, USAGE)?;
    let mut head = Vec::new();
    for (line, on) in [(&ufline, on[0]), (&rpline, on[1]), (&dtline, on[2])] {
        if on {
            head.extend_from_slice(line);
        }
    }
    let mut child = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::piped())
        .spawn()
        .or_classify(&format!("unable to run {}", cmd[0].to_string_lossy()))?;
    let mut pipe = child.stdin.take().ok_or_else(|| Fail::temp("no pipe"))?;
    pipe.write_all(&head)
        .and_then(|()| io::copy(&mut io::stdin().lock(), &mut pipe).map(drop))
        .or_temp("unable to copy input")?;
    drop(pipe);
    match child.wait().or_temp("wait failed")?.into() {
        Wait::Exited(code) => Ok(code),
        Wait::Crashed(_) => Err(Fail::temp("child crashed")),
    }
}
