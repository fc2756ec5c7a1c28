//! What dot-forward and fastforward do with a message on fd 0 (seekable, under qmail-local):
//! feed it to a `/bin/sh -c` command, and queue one forwarded copy.

use crate::child::Wait;
use crate::env;
use crate::fail::{Fail, OrFail as _};
use crate::qmail::Queue;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

fn var(name: &str) -> Vec<u8> {
    env::get(name).unwrap_or_default()
}

fn rewind(mess: &mut File) -> Result<(), Fail> {
    mess.rewind().map(drop).or_temp("unable to rewind message")
}

/// Runs `/bin/sh -c cmd` with the message on stdin — after `$UFLINE`, `$RPLINE` and
/// `$DTLINE` if `preline` — and judges its exit as qmail-local judges a `|` line: 0 goes
/// on; 64, 65, 70, 76, 77, 78, 100 and 112 are permanent; anything else, or a crash, is
/// temporary. SIGPIPE should be ignored by the caller: a command that stops reading is
/// judged by its exit code alone.
pub fn program(mess: &mut File, cmd: &[u8], preline: bool) -> Result<(), Fail> {
    rewind(mess)?;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(OsStr::from_bytes(cmd))
        .stdin(Stdio::piped())
        .spawn()
        .or_temp("unable to run /bin/sh")?;
    if let Some(mut w) = child.stdin.take() {
        let _ = feed(&mut w, mess, preline);
    }
    let status = child.wait().or_temp("unable to wait for command")?;
    match Wait::from(status) {
        Wait::Exited(0) => Ok(()),
        Wait::Exited(c @ (64 | 65 | 70 | 76 | 77 | 78 | 100 | 112)) => {
            Err(Fail::perm(format!("command exited {c}")))
        }
        Wait::Exited(c) => Err(Fail::temp(format!("command exited {c}"))),
        Wait::Crashed(_) => Err(Fail::temp("command crashed")),
    }
}

fn feed(w: &mut impl Write, mess: &mut File, preline: bool) -> io::Result<()> {
    if preline {
        for v in ["UFLINE", "RPLINE", "DTLINE"] {
            w.write_all(&var(v))?;
        }
    }
    io::copy(mess, w)?;
    w.flush()
}

/// Queues one copy to all `recips` from `sender`: `$DTLINE`, then the message. Returns the
/// qmail-queue process id (the `qp` of the log line).
pub fn forward(mess: &mut File, sender: &[u8], recips: &[&[u8]]) -> Result<u32, Fail> {
    rewind(mess)?;
    let mut qq = Queue::open().or_temp("unable to run qmail-queue")?;
    qq.put(&var("DTLINE"));
    if let Err(e) = qq.copy_from(mess) {
        qq.abort();
        let _ = qq.close();
        return Err(e).or_temp("unable to read message");
    }
    qq.from(sender);
    for r in recips {
        qq.to(r);
    }
    let pid = qq.pid();
    match qq.close() {
        Ok(()) => Ok(pid),
        Err(r) if r.perm => Err(Fail::perm(r.text)),
        Err(r) => Err(Fail::temp(r.text)),
    }
}
