//! Running a child and classifying how it ended.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// exited with this code
    Exited(u8),
    /// killed by this signal
    Crashed(i32),
}

impl From<ExitStatus> for Wait {
    fn from(s: ExitStatus) -> Wait {
        match (s.code(), s.signal()) {
            (Some(c), _) => Wait::Exited(c as u8),
            (None, Some(sig)) => Wait::Crashed(sig),
            (None, None) => Wait::Crashed(0),
        }
    }
}

impl Wait {
    /// From a raw `waitpid` status word.
    pub fn from_raw(status: i32) -> Wait {
        ExitStatus::from_raw(status).into()
    }
}

/// Runs `cmd` to completion.
pub fn run(cmd: &mut Command) -> io::Result<Wait> {
    Ok(cmd.status()?.into())
}

/// Runs `cmd` to completion as qmail's fork + `execvp` children do: a program that cannot be
/// started counts as having exited 111 (temporary errno) or 100 (permanent errno).
pub fn run_or_exec_code(cmd: &mut Command) -> Wait {
    match cmd.status() {
        Ok(s) => s.into(),
        Err(e) if crate::errtext::is_temp(&e) => Wait::Exited(crate::exit::TEMP),
        Err(_) => Wait::Exited(crate::exit::PERM),
    }
}
