//! qmail-rspawn — run qmail-remote for each remote delivery qmail-send asks for.
//!
//! Usage:    qmail-rspawn       (started by qmail-start; takes no arguments)
//! Input:    the spawn protocol on fd 0 (requests) and fd 1 (reports); see lib/src/spawn.rs.
//! Environment: QMAILREMOTE, if set, names the program run instead of `qmail-remote` (found
//!           through PATH).
//! Exit:     0 when fd 0 ends and every delivery has been reported; 111 on trouble.
//! Runs as:  qmailr.  Trusts: qmail-send's requests only as far as lib/src/spawn.rs checks them.
//!           At start it clears the remote-timeout tables queue/lock/tcpto and tcpto6.
//! Spec:     shared/spec/qmail.md §2.3, §5.1, §5.3, §5.6.
//!
//! Unlike qmail, a qmail-remote that cannot be run at all gives a deferral even for a
//! permanent errno: a missing or broken program is the installation's fault, not the
//! message's, and bouncing every remote message for it would lose mail.

use qlib::child::Wait;
use qlib::fail::{Fail, OrFail as _};
use qlib::spawn::{self, Channel, Report, Request};
use qlib::{conf, errtext, prog, tcpto};
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    prog::main("qmail-rspawn", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    std::env::set_current_dir(conf::HOME).or_temp("unable to chdir to home")?;
    std::env::set_current_dir("queue/mess").or_temp("unable to chdir to queue/mess")?;
    // A fresh start forgets the remote-timeout tables (tcpto_clean); trouble is ignored.
    let _ = tcpto::clear_at(std::path::Path::new("../lock"));
    let owner = conf::uid(conf::User::Qmailq).or_temp("unable to find qmailq")?;
    let program = std::env::var_os("QMAILREMOTE").unwrap_or_else(|| "qmail-remote".into());
    spawn::run(&mut Remote { program }, conf::spawn(), owner).or_temp("trouble in spawn loop")?;
    Ok(0)
}

struct Remote {
    program: OsString,
}

impl Channel for Remote {
    fn start(&mut self, req: Request<'_>, out: OwnedFd) -> Result<i32, Report> {
        let host = req.recipient.rsplit(|&c| c == b'@').next().unwrap_or(b"");
        let err = out
            .try_clone()
            .map_err(|_| (b'Z', b"Unable to duplicate pipe. (#4.3.0)\n".to_vec()))?;
        let os = |b: &[u8]| -> OsString {
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b).to_os_string()
        };
        Command::new(&self.program)
            .arg(os(host))
            .arg(os(req.sender))
            .arg(os(req.recipient))
            .stdin(Stdio::from(req.message))
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map(|child| child.id() as i32) // reaped by the spawner, by pid
            .map_err(|e| {
                (
                    b'Z',
                    format!(
                        "Unable to run qmail-remote: {}. (#4.3.0)\n",
                        errtext::text(&e)
                    )
                    .into_bytes(),
                )
            })
    }

    fn report(&self, wait: Wait, output: &[u8]) -> Report {
        match wait {
            Wait::Crashed(_) => (b'Z', b"qmail-remote crashed.\n".to_vec()),
            Wait::Exited(111) => (b'Z', b"Unable to run qmail-remote.\n".to_vec()),
            Wait::Exited(0) if output.is_empty() => {
                (b'Z', b"qmail-remote produced no output.\n".to_vec())
            }
            Wait::Exited(0) => fold(output),
            Wait::Exited(_) => (b'D', b"Unable to run qmail-remote.\n".to_vec()),
        }
    }
}

/// Folds qmail-remote's recipient and message reports into one report (spec §5.3).
fn fold(output: &[u8]) -> Report {
    let reports: Vec<&[u8]> = output
        .split(|&c| c == 0)
        .filter(|r| !r.is_empty())
        .collect();
    let Some(first) = reports.first() else {
        return (b'Z', b"qmail-remote produced no output.\n".to_vec());
    };
    let message = reports.iter().find(|r| matches!(r[0], b'K' | b'Z' | b'D'));
    let result = message.map_or(b'D', |r| r[0]);
    let status = match first[0] {
        b's' => b'Z',
        b'h' => b'D',
        _ => result,
    };
    let rank = |c: u8| match c {
        b'K' => 2,
        b'Z' => 1,
        _ => 0,
    };
    let mut text = first[1..].to_vec();
    if let Some(m) = message {
        if !std::ptr::eq(*m, *first) && rank(result) <= rank(status) {
            text.extend_from_slice(&m[1..]);
        }
    }
    (status, text)
}
