//! qbiff — announce a new message on the recipient's terminals.
//!
//! Usage:    qbiff
//! Environment: `USER`, `SENDER`, `LOCAL` (set by qmail-local); any of them unset: do nothing.
//! Exit:     0 always, silently (a notice that cannot be given is not a delivery failure).
//! Runs as:  the .qmail owner, under qmail-local (`|qbiff`). Trusts: nothing; the message,
//!           SENDER and LOCAL are hostile and reach a terminal only as printable bytes.
//! Spec:     shared/spec/qmail.md §10.10.
//!
//! Writes `\r\n\a*** TO <LOCAL> FROM <SENDER>\r\n` (bytes outside 32–126 shown as `_`), then
//! four spaces + the Subject: text + the start of the body, cut at 78 bytes with every byte
//! outside 32–126 (newlines included) shown as `/`, then `\r\n` — to every terminal in utmp
//! logged in as `$USER` whose device (under /dev, no `.` in its name) is owned by the real
//! uid and has the owner execute bit set (`biff y`).
//! Beyond qmail: only utmp records of type USER_PROCESS count (Linux keeps the name in
//! other records too); the terminal is opened without O_CREAT. utmp is read in the Linux
//! glibc layout (384-byte records).

use qlib::fail::Fail;
use qlib::header;
use qlib::{env, prog, sys};
use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::process::ExitCode;

const UTMP: &str = "/var/run/utmp";
/// `struct utmp` on Linux: type at 0 (i16), line at 8 (32 bytes), user at 44 (32 bytes).
const RECORD: usize = 384;
const USER_PROCESS: i16 = 7;
const WIDTH: usize = 78;

fn main() -> ExitCode {
    prog::main("qbiff", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    if std::env::set_current_dir("/dev").is_err() {
        return Ok(0);
    }
    let (Some(user), Some(sender), Some(local)) =
        (env::get("USER"), env::get("SENDER"), env::get("LOCAL"))
    else {
        return Ok(0);
    };
    if user.len() > 32 {
        return Ok(0);
    }
    let mut tofrom = [b"*** TO <", &local[..], b"> FROM <", &sender, b">"].concat();
    header::printable(&mut tofrom, b'_');
    let Some(mut text) = summary(&mut BufReader::new(io::stdin().lock())) else {
        return Ok(0);
    };
    header::printable(&mut text, b'/');
    let woof = [b"\r\n\x07", &tofrom[..], b"\r\n", &text, b"\r\n"].concat();

    let Ok(utmp) = std::fs::File::open(UTMP) else {
        return Ok(0);
    };
    let uid = sys::id::getuid();
    let mut utmp = BufReader::new(utmp);
    let mut rec = [0u8; RECORD];
    while utmp.read_exact(&mut rec).is_ok() {
        let kind = i16::from_ne_bytes([rec[0], rec[1]]);
        if kind != USER_PROCESS || field(&rec[44..76]) != user {
            continue;
        }
        let line = field(&rec[8..40]);
        if line.is_empty() || line[0] == b'/' || line.contains(&b'.') {
            continue;
        }
        tell(OsStr::from_bytes(line), uid, &woof);
    }
    Ok(0)
}

/// A NUL-padded utmp string.
fn field(b: &[u8]) -> &[u8] {
    &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
}

/// Four spaces, the Subject: contents, then the body from its separating line on, cut at
/// [`WIDTH`]. `None` if the input cannot be read.
fn summary(r: &mut impl BufRead) -> Option<Vec<u8>> {
    header::glimpse(r, b"    ".to_vec(), WIDTH, |_| {})
}

/// Writes `woof` to the terminal `/dev/<line>` if it is ours and biff is on for it.
fn tell(line: &OsStr, uid: u32, woof: &[u8]) {
    let Ok(mut tty) = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(sys::fs::O_NONBLOCK)
        .open(line)
    else {
        return;
    };
    match tty.metadata() {
        Ok(md) if md.mode() & 0o100 != 0 && md.uid() == uid => {
            let _ = tty.write_all(woof);
        }
        _ => {}
    }
}
