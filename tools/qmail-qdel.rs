//! qmail-qdel — delete queued messages, or expire them (bounce them now), through qmail-send.
//!
//! Usage:    qmail-qdel [ -e ] [ -t seconds ] [ -s pattern ] [ -r pattern ] [ id ... ]
//!           chooses every message listed by id (`123` or `#123`, as qmail-qread shows it),
//!           and every preprocessed message whose sender matches -s and which has a pending
//!           recipient matching -r (when both are given, both must match). Patterns match
//!           the whole address as qmail-qread shows it: `*` any bytes, `?` one byte, ASCII
//!           case-insensitively; `-s ''` matches bounces (empty sender). At least one id
//!           or pattern is required. qmail-send carries the request out (a message being
//!           delivered is dealt with after its delivery ends), logs `delete msg <id>: by
//!           request` and `end msg <id>` (or `expire msg <id>: by request`, its bounce, and
//!           `end msg <id>`), and answers; then one line per chosen message is printed:
//!           `msg <id>: deleted`, `msg <id>: expired`, `msg <id>: not in the queue`, or
//!           `msg <id>: not changed (see the log)`.
//! Options:  -e  expire instead of delete: every pending recipient fails with "Giving up:
//!               the message was expired from the queue on request." and the sender gets
//!               the one bounce, as when the queue lifetime runs out.
//!           -t seconds  how long to wait for qmail-send's answer (default 60).
//!           -s pattern  sender pattern.  -r pattern  recipient pattern.
//! Files:    writes queue/req/<pid>.<ns>.req and pulls queue/lock/trigger; qmail-send
//!           answers in queue/req/<pid>.<ns>.ans (lib/src/queuectl.rs has the format).
//! Environment: none.
//! Exit:     0 done; 100 usage, or some listed id is not in the queue; 111 cannot write
//!           the request, or qmail-send did not take it in time (`is qmail-send running?`;
//!           the request is withdrawn and nothing is done), or took it but did not answer
//!           in time (it will still be carried out).
//! Runs as:  root or qmails (queue/req is qmails 0700).  Trusts: nothing; qmail-send checks
//!           the request.
//! Spec:     beyond qmail (issue 7): shared/spec/decisions.md "Names"; qmail.md §3.

use qlib::fail::{Fail, OrFail as _};
use qlib::queuectl::{self, Action, Request, Submitted};
use qlib::{args, conf, prog, scan};
use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "qmail-qdel [ -e ] [ -t seconds ] [ -s pattern ] [ -r pattern ] [ id ... ]";

fn main() -> ExitCode {
    prog::main("qmail-qdel", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let mut o = getopts::Options::new();
    o.optflag("e", "", "expire");
    o.optopt("t", "", "timeout", "SECONDS");
    o.optopt("s", "", "sender pattern", "PATTERN");
    o.optopt("r", "", "recipient pattern", "PATTERN");
    let p = args::parse(&o, argv, USAGE)?;
    let action = if p.opts.opt_present("e") {
        Action::Expire
    } else {
        Action::Delete
    };
    let req = Request {
        action,
        ids: ids(&p.rest).ok_or(Fail::usage(USAGE))?,
        sender: args::value(&p, "s"),
        recipient: args::value(&p, "r"),
    };
    let secs = match args::value(&p, "t") {
        Some(t) => scan::ulong_exact(&t).ok_or(Fail::usage(USAGE))?,
        None => 60,
    };
    if req.ids.is_empty() && req.sender.is_none() && req.recipient.is_none() {
        return Err(Fail::usage(USAGE));
    }
    carry_out(&req, secs)
}

/// The operands as ids (`123` or `#123`).
fn ids(rest: &[OsString]) -> Option<Vec<u64>> {
    rest.iter()
        .map(|a| {
            let b = a.as_encoded_bytes();
            scan::ulong_exact(b.strip_prefix(b"#").unwrap_or(b))
        })
        .collect()
}

/// Hands the request to qmail-send and prints its answer.
fn carry_out(req: &Request, secs: u64) -> Result<u8, Fail> {
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    std::env::set_current_dir("queue").or_temp("unable to chdir to queue")?;
    let got = queuectl::submit(req, Duration::from_secs(secs))
        .or_temp("unable to leave a request in queue/req")?;
    let outcomes = match got {
        Submitted::Answer(Some(o)) => o,
        Submitted::Answer(None) => return Err(Fail::temp("qmail-send refused the request")),
        Submitted::NotTaken => {
            return Err(Fail::temp(format!(
                "no answer from qmail-send in {secs} seconds; is qmail-send running? \
                 (request withdrawn, nothing done)"
            )))
        }
        Submitted::NotAnswered => {
            return Err(Fail::temp(format!(
                "qmail-send took the request but did not answer in {secs} seconds; \
                 it will still be carried out"
            )))
        }
    };
    let (text, unknown) = queuectl::describe(req.action, &outcomes);
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(if unknown { 100 } else { 0 })
}
