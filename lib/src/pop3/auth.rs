//! qmail-popup's side (qmail-popup.c): the AUTHORIZATION state up to the first PASS or APOP,
//! and the handover to a checkpassword program (shared/spec/addons.md §1.3): a pipe on its
//! fd 3 carrying `user\0password\0<timestamp>\0`, fd 0/1 still the client, fd 2 inherited.
//! The secrets are wiped from memory once written.

use super::{command, err, ok, put, split, wipe};
use crate::child::Wait;
use crate::smtpd::input::{Broken, Input, Wire};
use crate::sys::{fd, proc};
use std::ffi::OsString;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::Duration;

/// How long a failed login waits before its `-ERR` (qmail: no wait). RFC 1939 §13
/// suggests a delay; with one attempt per connection this bounds guessing to one password
/// per 2 s per connection, and a person mistyping barely notices.
pub const FAIL_DELAY: Duration = Duration::from_secs(2);

/// Bytes that are wiped when dropped: a user name, a password, a line holding them.
#[derive(Default)]
pub struct Secret(pub Vec<u8>);

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// How the AUTHORIZATION state ended.
pub enum End {
    /// QUIT was answered
    Quit,
    /// the client left, was silent too long, or a reply could not be written
    Broken(Broken),
    /// PASS or APOP: the name and the password (or APOP digest) to check
    Login(Secret, Secret),
}

/// The APOP timestamp, `<pid.secs@host>` (the greeting is `+OK ` and this).
pub fn stamp(pid: u32, secs: u64, host: &[u8]) -> Vec<u8> {
    [format!("<{pid}.{secs}@").as_bytes(), host, b">"].concat()
}

/// Answers commands until QUIT, a login attempt, or the end of the conversation.
pub fn authorize<R: Wire, W: Write>(input: &mut Input<R>, out: &mut W) -> End {
    match session(input, out) {
        Ok(end) => end,
        Err(b) => End::Broken(b),
    }
}

fn session<R: Wire, W: Write>(input: &mut Input<R>, out: &mut W) -> Result<End, Broken> {
    let mut line = Secret::default();
    let mut user: Option<Secret> = None;
    loop {
        if !command(input, out, &mut line.0)? {
            continue;
        }
        let (verb, arg) = split(&line.0);
        match verb.to_ascii_lowercase().as_slice() {
            b"user" if arg.is_empty() => err(out, "syntax error")?,
            b"user" => {
                ok(out)?;
                user = Some(Secret(arg.to_vec()));
            }
            b"pass" => match user.take() {
                None => err(out, "USER first")?,
                Some(u) if arg.is_empty() => {
                    err(out, "syntax error")?;
                    user = Some(u);
                }
                Some(u) => return Ok(End::Login(u, Secret(arg.to_vec()))),
            },
            b"apop" => match memchr::memchr(b' ', arg) {
                None => err(out, "syntax error")?,
                Some(i) => {
                    let (name, digest) = (arg[..i].to_vec(), arg[i + 1..].to_vec());
                    return Ok(End::Login(Secret(name), Secret(digest)));
                }
            },
            b"quit" => {
                ok(out)?;
                return Ok(End::Quit);
            }
            b"noop" => ok(out)?,
            b"capa" => super::capa(out, false)?,
            _ => err(out, "authorization first")?,
        }
    }
}

/// Why the handover failed before the checkpassword program could decide.
#[derive(Debug)]
pub enum Handover {
    /// no pipe
    Pipe(io::Error),
    /// the program could not be started (fork, or exec: not found, not executable …)
    Spawn(io::Error),
}

/// Runs `prog` (searched in PATH, like execvp) with the credentials on fd 3, and waits for
/// it. Everything written is wiped afterwards. A program that exits without reading fd 3
/// makes the write fail (EPIPE); unlike qmail (`-ERR unable to write pipe`, at once), that
/// is not a failure of its own: the program's exit status decides, as for any other.
pub fn check(prog: &[OsString], user: &[u8], pass: &[u8], stamp: &[u8]) -> Result<Wait, Handover> {
    let (r, w) = fd::pipe().map_err(Handover::Pipe)?;
    let mut cmd = Command::new(&prog[0]);
    cmd.args(&prog[1..]);
    let setup = proc::Setup {
        fds: vec![(r.as_raw_fd(), 3)],
        ..Default::default()
    };
    proc::setup(&mut cmd, setup);
    let mut child = cmd.spawn().map_err(Handover::Spawn)?;
    drop(r);
    let data = Secret([user, b"\0", pass, b"\0", stamp, b"\0"].concat());
    let mut pipe = std::fs::File::from(w);
    let _ = pipe.write_all(&data.0);
    drop((pipe, data));
    // (std retries EINTR; an error means there is nothing to wait for: as if it crashed)
    Ok(child.wait().map_or(Wait::Crashed(0), Wait::from))
}

/// What the client is told after the checkpassword program ended, and whether the reply
/// waits [`FAIL_DELAY`] first. `None`: it succeeded (the session was served); say nothing.
pub fn verdict(result: &Result<Wait, Handover>) -> Option<(&'static str, bool)> {
    match result {
        Ok(Wait::Exited(0)) => None,
        Ok(Wait::Exited(_)) => Some(("authorization failed", true)),
        Ok(Wait::Crashed(_)) => Some(("aack, child crashed", true)),
        Err(Handover::Pipe(_)) => Some(("unable to open pipe", false)),
        // qmail's child exited 1 when execvp failed; fork failures are temporary
        Err(Handover::Spawn(e)) if crate::errtext::is_temp(e) => Some(("unable to fork", false)),
        Err(Handover::Spawn(_)) => Some(("authorization failed", true)),
    }
}

/// Writes the verdict (after the delay, if any) and flushes.
pub fn tell(out: &mut impl Write, result: &Result<Wait, Handover>) -> Result<(), Broken> {
    if let Some((text, delay)) = verdict(result) {
        if delay {
            std::thread::sleep(FAIL_DELAY);
        }
        err(out, text)?;
    }
    out.flush().map_err(|_| Broken::Write)
}

/// The greeting line.
pub fn greet(out: &mut impl Write, stamp: &[u8]) -> Result<(), Broken> {
    put(out, &[b"+OK ", stamp, b"\r\n"].concat())
}

#[cfg(test)]
mod tests {
    use super::super::testio::input;
    use super::*;

    /// The name and password of a login.
    type Login = Option<(Vec<u8>, Vec<u8>)>;

    /// What the session wrote, the login it ended in, and whether it ended in QUIT.
    fn auth(parts: &[&[u8]]) -> (String, Login, bool) {
        let mut i = input(parts);
        let mut out = Vec::new();
        let end = authorize(&mut i, &mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        match end {
            End::Login(u, p) => (text, Some((u.0.clone(), p.0.clone())), false),
            End::Quit => (text, None, true),
            End::Broken(_) => (text, None, false),
        }
    }

    #[test]
    fn commands_and_replies() {
        let (out, login, quit) = auth(&[
            b"NOOP\r\nnoop extra\r\nSTAT\r\nPASS x\r\nUSER\r\nUSER   \r\nApop joe\r\n",
            b"USER joe\r\nPASS\r\nRETR 1\r\nquit\r\n",
        ]);
        assert_eq!(
            out,
            "+OK \r\n+OK \r\n-ERR authorization first\r\n-ERR USER first\r\n\
             -ERR syntax error\r\n-ERR syntax error\r\n-ERR syntax error\r\n\
             +OK \r\n-ERR syntax error\r\n-ERR authorization first\r\n+OK \r\n"
        );
        assert!(login.is_none() && quit);
    }

    #[test]
    fn logins() {
        let (out, login, _) = auth(&[b"user joe \r\npass  se cret \r\nNOOP\r\n"]);
        assert_eq!(out, "+OK \r\n");
        assert_eq!(login, Some((b"joe ".to_vec(), b"se cret ".to_vec())));
        let (_, login, _) = auth(&[b"USER a\r\nUSER b\nPASS p\r\n"]);
        assert_eq!(login, Some((b"b".to_vec(), b"p".to_vec())));
        let (out, login, _) = auth(&[b"APOP joe c4c9334bac560ecc979e58001b3e22fb\r\n"]);
        assert_eq!(out, "");
        assert_eq!(
            login,
            Some((
                b"joe".to_vec(),
                b"c4c9334bac560ecc979e58001b3e22fb".to_vec()
            ))
        );
        // a NUL cannot smuggle a field into fd 3
        let (out, login, _) = auth(&[b"USER joe\0x\r\nPASS p\r\n"]);
        assert_eq!(out, "-ERR syntax error\r\n-ERR USER first\r\n");
        assert!(login.is_none());
    }

    #[test]
    fn capa_and_the_end_of_input() {
        let (out, login, quit) = auth(&[b"CAPA\r\nNOOP"]);
        assert_eq!(
            out,
            "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nIMPLEMENTATION rqmail\r\n.\r\n"
        );
        assert!(login.is_none() && !quit);
    }

    #[test]
    fn stamps_and_verdicts() {
        assert_eq!(stamp(12, 345, b"pop.example"), b"<12.345@pop.example>");
        assert_eq!(verdict(&Ok(Wait::Exited(0))), None);
        assert_eq!(
            verdict(&Ok(Wait::Exited(1))),
            Some(("authorization failed", true))
        );
        assert_eq!(
            verdict(&Ok(Wait::Crashed(9))),
            Some(("aack, child crashed", true))
        );
        let enoent = io::Error::from_raw_os_error(2);
        assert_eq!(
            verdict(&Err(Handover::Spawn(enoent))),
            Some(("authorization failed", true))
        );
        let eagain = io::Error::from_raw_os_error(11);
        assert_eq!(
            verdict(&Err(Handover::Spawn(eagain))),
            Some(("unable to fork", false))
        );
    }

    #[test]
    fn the_data_on_fd_3() {
        let d = std::env::temp_dir().join(format!("qlib-pop3-auth.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let got = d.join("got");
        let sh = format!("cat <&3 > {}; exit 3", got.display());
        let prog: Vec<OsString> = ["/bin/sh", "-c", &sh].iter().map(Into::into).collect();
        let r = check(&prog, b"joe", b"pw", b"<1.2@h>");
        assert_eq!(r.unwrap(), Wait::Exited(3));
        assert_eq!(std::fs::read(&got).unwrap(), b"joe\0pw\0<1.2@h>\0");
        // exiting without reading fd 3: its exit code still decides
        let quick: Vec<OsString> = ["/bin/sh", "-c", "exit 1"].iter().map(Into::into).collect();
        assert_eq!(check(&quick, b"a", b"b", b"c").unwrap(), Wait::Exited(1));
        let nope: Vec<OsString> = vec!["/nonexistent/checkpassword".into()];
        assert!(matches!(
            check(&nope, b"a", b"b", b"c"),
            Err(Handover::Spawn(_))
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
