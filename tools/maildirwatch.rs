//! maildirwatch — keep a full-screen summary of the new messages in a Maildir.
//!
//! Usage:    maildirwatch
//! Environment: `MAILDIR` (the Maildir to watch).
//! Exit:     never on success (it runs until killed); 111 `MAILDIR` unset, the Maildir or its
//!           `new/` unreadable, or a message that cannot be read.
//! Runs as:  the Maildir owner, on a VT100-compatible terminal. Trusts: nothing; message
//!           bytes reach the terminal only as printable ASCII.
//! Spec:     shared/spec/qmail.md §1.7 (netqmail 1.06; maildirwatch(1)); formats.md §5.4.
//!
//! Every 30 seconds: old `tmp/` files are cleaned, the screen is cleared (`ESC [;H ESC [;J`)
//! and each message of `new/` (oldest first; not `.…`, not delivered this very second) is
//! shown as `FROM <Return-Path> TO <<Delivered-To>>`, the `From:` field in bold if there is
//! one, then the Subject: text and the start of the body cut at 158 bytes, then an empty
//! line. `?` stands for a missing Return-Path or Delivered-To and for unprintable bytes in
//! them; unprintable bytes elsewhere (newlines included) are shown as `/`.
//! Beyond qmail: a header field over 1 MB or a header over 16 MB counts as "trouble reading
//! new message" (qmail grew its buffers until memory ran out).

use qlib::fail::{Fail, OrFail as _};
use qlib::header::{self, Field};
use qlib::pop3::mailbox;
use qlib::{args, date, env, prog};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

const WIDTH: usize = 158;

fn main() -> ExitCode {
    prog::main("maildirwatch", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = args::none(argv);
    let maildir = env::get("MAILDIR").ok_or_else(|| Fail::temp("MAILDIR not set"))?;
    std::env::set_current_dir(OsStr::from_bytes(&maildir)).or_temp(&format!(
        "unable to chdir to {}",
        String::from_utf8_lossy(&maildir)
    ))?;
    let mut out = io::stdout().lock();
    loop {
        let now = date::secs(SystemTime::now());
        mailbox::clean_tmp(".".as_ref(), now);
        let names = scan_new(now).or_temp("unable to scan $MAILDIR/new")?;
        let _ = out.write_all(b"\x1b[;H\x1b[;J").and_then(|()| out.flush());
        let mut screen = Vec::new();
        for name in names {
            let Ok(f) = fs::File::open(OsStr::from_bytes(&name)) else {
                continue;
            };
            let s = summary(&mut BufReader::new(f))
                .ok_or_else(|| Fail::temp("trouble reading new message"))?;
            screen.extend_from_slice(&s);
        }
        let _ = out.write_all(&screen).and_then(|()| out.flush());
        std::thread::sleep(Duration::from_secs(30));
    }
}

/// `new/NAME` for the messages of `new/` older than the second `now`, oldest first.
fn scan_new(now: i64) -> io::Result<Vec<Vec<u8>>> {
    let mut found = Vec::new();
    for e in fs::read_dir("new")? {
        let name = e?.file_name();
        if name.as_bytes().first() == Some(&b'.') {
            continue;
        }
        let path = [b"new/", name.as_bytes()].concat();
        if let Ok(md) = fs::metadata(OsStr::from_bytes(&path)) {
            if md.mtime() < now {
                found.push(((md.mtime(), md.mtime_nsec()), path));
            }
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// The lines shown for one message; `None` if it cannot be read.
fn summary(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let (mut sender, mut recipient) = (b"?".to_vec(), b"?".to_vec());
    let mut from = Vec::new();
    let mut text = header::glimpse(r, Vec::new(), WIDTH, |f| {
        let i = header::skip_name(f);
        let value = || f[i..f.len() - 1].to_vec();
        match header::known(f) {
            Some(Field::DeliveredTo) if i < f.len() => recipient = value(),
            Some(Field::ReturnPath) if i < f.len() => sender = value(),
            Some(Field::From) => from = f[..f.len() - 1].to_vec(),
            _ => {}
        }
    })?;
    header::printable(&mut sender, b'?');
    header::printable(&mut recipient, b'?');
    header::printable(&mut from, b'/');
    header::printable(&mut text, b'/');
    let mut s = [b"FROM ", &sender[..], b" TO <", &recipient, b">\n"].concat();
    if !from.is_empty() {
        s.extend_from_slice(&[b"\x1b[1m", &from[..], b"\x1b[0m\n"].concat());
    }
    s.extend_from_slice(&text);
    s.extend_from_slice(b"\n\n");
    Some(s)
}
