//! Handing a message to qmail-queue (qmail.c): the message on one pipe, the envelope on
//! another, notqmail's error channel on fd 6, and the exit status turned into a verdict.

use crate::child::Wait;
use crate::sys::{fd, proc};
use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

/// A running qmail-queue.
pub struct Queue {
    pid: i32,
    mess: io::BufWriter<File>,
    env: Option<OwnedFd>,
    err: OwnedFd,
    envelope: Vec<u8>,
    write_failed: bool,
    aborted: bool,
}

/// Why a message was not queued: permanent (`D`) or temporary (`Z`), with qmail's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// permanent failure: the sender should get a bounce, not a retry
    pub perm: bool,
    /// the reason, e.g. `qq write error or disk full (#4.3.0)`
    pub text: String,
}

impl Queue {
    /// Starts `$QMAILQUEUE` (relative to the qmail home) or `bin/qmail-queue`.
    pub fn open() -> io::Result<Queue> {
        let prog = std::env::var_os("QMAILQUEUE").unwrap_or_else(|| "bin/qmail-queue".into());
        let c = |s: OsString| {
            CString::new(s.into_vec()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
        };
        let (prog, home) = (c(prog)?, c(crate::conf::HOME.into())?);
        let (mess_r, mess_w) = fd::pipe()?;
        let (env_r, env_w) = fd::pipe()?;
        let (err_r, err_w) = fd::pipe()?;
        // Spawned, not forked: a fork would copy this process's page tables and make its
        // next writes copy pages, once for every message.
        let fds = [
            (mess_r.as_raw_fd(), 0),
            (env_r.as_raw_fd(), 1),
            (err_w.as_raw_fd(), 6),
        ];
        let pid = proc::spawn(&prog, &[&prog], None, &fds, Some(&home))?;
        drop((mess_r, env_r, err_w));
        Ok(Queue {
            pid,
            mess: io::BufWriter::with_capacity(16384, File::from(mess_w)),
            env: Some(env_w),
            err: err_r,
            envelope: Vec::new(),
            write_failed: false,
            aborted: false,
        })
    }

    /// The child's pid (qmail-local prints it as `qp`).
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Appends message bytes; a write error is remembered and reported by [`Queue::close`].
    pub fn put(&mut self, b: &[u8]) {
        if !self.write_failed && self.mess.write_all(b).is_err() {
            self.write_failed = true;
        }
    }

    /// Appends everything `r` still has; a read error is returned (the queue run should then
    /// be dropped unfinished, so nothing is queued).
    pub fn copy_from(&mut self, r: &mut impl Read) -> io::Result<()> {
        let mut buf = vec![0u8; 65536];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.put(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sabotages this queue run (qmail_fail): nothing more is written, and [`Queue::close`]
    /// sends no envelope, so qmail-queue gives up and removes what it had written.
    pub fn abort(&mut self) {
        self.write_failed = true;
        self.aborted = true;
    }

    /// The envelope sender.
    pub fn from(&mut self, sender: &[u8]) {
        self.envelope.push(b'F');
        self.envelope.extend_from_slice(sender);
        self.envelope.push(0);
    }

    /// One envelope recipient.
    pub fn to(&mut self, recip: &[u8]) {
        self.envelope.push(b'T');
        self.envelope.extend_from_slice(recip);
        self.envelope.push(0);
    }

    /// Finishes the message and the envelope and waits: `Ok(())` if it was queued.
    pub fn close(mut self) -> Result<(), Refused> {
        let flushed = !self.write_failed && self.mess.flush().is_ok();
        if self.aborted {
            // The buffered message bytes go unwritten; without an envelope qmail-queue fails.
            let (_, _) = self.mess.into_parts();
            self.env = None;
        } else {
            drop(self.mess);
        }
        self.envelope.push(0);
        let env_ok = match self.env.take() {
            Some(w) => std::fs::File::from(w).write_all(&self.envelope).is_ok(),
            None => false,
        };
        let mut custom = Vec::new();
        let _ = std::fs::File::from(self.err)
            .take(1024)
            .read_to_end(&mut custom);
        let status = proc::wait(self.pid).ok().map(Wait::from_raw);
        let verdict = verdict(status, &custom);
        match verdict {
            Ok(()) if !flushed || !env_ok => Err(Refused {
                perm: false,
                text: "qq write error or disk full (#4.3.0)".into(),
            }),
            v => v,
        }
    }
}

/// The caller's verdict on how qmail-queue ended (qmail_close).
pub fn verdict(status: Option<Wait>, custom: &[u8]) -> Result<(), Refused> {
    let temp = |t: &str| {
        Err(Refused {
            perm: false,
            text: t.into(),
        })
    };
    let perm = |t: &str| {
        Err(Refused {
            perm: true,
            text: t.into(),
        })
    };
    match status {
        None => temp("qq waitpid surprise (#4.3.0)"),
        Some(Wait::Crashed(_)) => temp("qq crashed (#4.3.0)"),
        Some(Wait::Exited(code)) => match code {
            0 => Ok(()),
            115 | 11 => perm("envelope address too long for qq (#5.1.3)"),
            31 => perm("mail server permanently rejected message (#5.3.0)"),
            51 => temp("qq out of memory (#4.3.0)"),
            52 => temp("qq timeout (#4.3.0)"),
            53 => temp("qq write error or disk full (#4.3.0)"),
            54 => temp("qq read error (#4.3.0)"),
            55 => temp("qq unable to read configuration (#4.3.0)"),
            56 => temp("qq trouble making network connection (#4.3.0)"),
            61 => temp("qq trouble in home directory (#4.3.0)"),
            62..=66 => temp("qq trouble creating files in queue (#4.3.0)"),
            67 => temp("qq trouble getting uids/gids (#4.3.0)"),
            71 => temp("mail server temporarily rejected message (#4.3.0)"),
            72 => temp("connection to mail server timed out (#4.4.1)"),
            73 => temp("connection to mail server rejected (#4.4.1)"),
            74 => temp("communication with mail server failed (#4.4.2)"),
            81 | 91 => temp("qq internal bug (#4.3.0)"),
            82 => {
                let text = custom
                    .split(|&c| c == 0 || c == b'\n')
                    .next()
                    .unwrap_or(&[]);
                let text = &text[..text.len().min(255)];
                match text.first() {
                    Some(b'D') if text.len() > 2 => Err(Refused {
                        perm: true,
                        text: String::from_utf8_lossy(&text[1..]).into(),
                    }),
                    Some(b'Z') if text.len() > 2 => Err(Refused {
                        perm: false,
                        text: String::from_utf8_lossy(&text[1..]).into(),
                    }),
                    _ => temp("qq temporary problem (#4.3.0)"),
                }
            }
            120 => temp("unable to exec qq (#4.3.0)"),
            12..=40 => perm("qq permanent problem (#5.3.0)"),
            _ => temp("qq temporary problem (#4.3.0)"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn verdicts() {
        assert_eq!(verdict(Some(Wait::Exited(0)), b""), Ok(()));
        assert!(verdict(Some(Wait::Exited(11)), b"").unwrap_err().perm);
        assert!(!verdict(Some(Wait::Exited(53)), b"").unwrap_err().perm);
        assert!(!verdict(Some(Wait::Exited(91)), b"").unwrap_err().perm);
        let e = verdict(Some(Wait::Exited(82)), b"Dno thanks (#5.7.1)").unwrap_err();
        assert_eq!((e.perm, e.text.as_str()), (true, "no thanks (#5.7.1)"));
        assert!(!verdict(Some(Wait::Crashed(9)), b"").unwrap_err().perm);
    }
}
