//! maildir2mbox — move the messages of a Maildir to the end of an mbox file.
//!
//! Usage:    maildir2mbox
//! Environment: `MAILDIR` (the Maildir), `MAIL` (the mbox), `MAILTMP` (a scratch file on the
//!           same filesystem as `MAIL`). After `chdir($MAILDIR)`, so relative `MAIL` and
//!           `MAILTMP` are taken inside the Maildir, as in qmail.
//! Exit:     0 done, or nothing to move; 111 a variable unset, or any failure, with the
//!           Maildir untouched. Not being able to unlink a message once the new mbox is in
//!           place is only a warning (the message will be moved again next time).
//! Runs as:  the mailbox owner. umask 077. Trusts: nothing; the messages are copied as bytes.
//! Spec:     shared/spec/qmail.md §10.9; formats.md §5.4, §6.
//!
//! How: old `tmp/` files are cleaned and `new/` + `cur/` listed as qmail-pop3d does; `MAIL`
//! is opened for append (created 0600) and locked with a blocking `flock` (a mailer holding
//! the lock makes us wait, as qmail's `lock_ex`); `MAIL` is copied into `MAILTMP`, each
//! message is appended oldest first with a From_ line (sender from a first line
//! `Return-Path: <addr>`, else `XXX`; date = the file's mtime) and mboxrd quoting, then
//! `MAILTMP` is flushed, fsynced, closed and renamed over `MAIL`; only then are the messages
//! unlinked. Not safe against two simultaneous runs (neither is qmail's).
//! Beyond qmail: an unterminated last line of a message is kept, with a newline added
//! (qmail dropped it).

use qlib::fail::{Fail, OrFail as _};
use qlib::pop3::mailbox;
use qlib::{args, date, env, mbox, prog, sys};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("maildir2mbox", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = args::none(argv);
    sys::fs::umask(0o077);
    let mail = env::get("MAIL").ok_or_else(|| Fail::temp("MAIL not set"))?;
    let mailtmp = env::get("MAILTMP").ok_or_else(|| Fail::temp("MAILTMP not set"))?;
    let (mail_s, tmp_s) = (
        String::from_utf8_lossy(&mail),
        String::from_utf8_lossy(&mailtmp),
    );
    let (mail, mailtmp) = (OsStr::from_bytes(&mail), OsStr::from_bytes(&mailtmp));
    let maildir = env::get("MAILDIR").ok_or_else(|| Fail::temp("MAILDIR not set"))?;
    std::env::set_current_dir(OsStr::from_bytes(&maildir)).or_temp(&format!(
        "unable to chdir to {}",
        String::from_utf8_lossy(&maildir)
    ))?;

    let now = date::secs(std::time::SystemTime::now());
    mailbox::clean_tmp(".".as_ref(), now);
    for sub in ["new", "cur"] {
        fs::read_dir(sub).or_temp(&format!("unable to scan $MAILDIR/{sub}"))?;
    }
    let msgs = mailbox::scan(".".as_ref(), now).or_temp("unable to scan $MAILDIR")?;
    if msgs.is_empty() {
        return Ok(0);
    }

    let lock_err = format!("unable to lock {mail_s}");
    let lock = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(sys::fs::O_NONBLOCK)
        .open(mail)
        .or_temp(&lock_err)?;
    lock.lock().or_temp(&lock_err)?;
    let read_err = format!("unable to read {mail_s}");
    let mut old = File::open(mail).or_temp(&read_err)?;
    let write_err = format!("unable to write to {tmp_s}");
    let new = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(sys::fs::O_NONBLOCK)
        .open(mailtmp)
        .or_temp(&format!("unable to create {tmp_s}"))?;
    let mut out = io::BufWriter::with_capacity(65536, &new);
    copy(&mut old, &mut out, &read_err, &write_err)?;

    for m in &msgs {
        let name = String::from_utf8_lossy(&m.path);
        let rerr = format!("unable to read $MAILDIR/{name}");
        let f = File::open(OsStr::from_bytes(&m.path)).or_temp(&rerr)?;
        let mtime = f.metadata().or_temp(&rerr)?.mtime();
        append(&mut BufReader::new(f), mtime, &mut out).map_err(|e| match e {
            Io::Read(e) => fatal(&rerr, &e),
            Io::Write(e) => fatal(&write_err, &e),
        })?;
    }
    out.flush().or_temp(&write_err)?;
    drop(out);
    new.sync_all().or_temp(&write_err)?;
    drop(new);
    fs::rename(mailtmp, mail).or_temp(&format!("unable to move {tmp_s} to {mail_s}"))?;
    drop(lock);

    for m in &msgs {
        if let Err(e) = fs::remove_file(OsStr::from_bytes(&m.path)) {
            prog::warn(&format!(
                "$MAILDIR/{} will be delivered twice; unable to unlink: {}",
                String::from_utf8_lossy(&m.path),
                qlib::errtext::text(&e)
            ));
        }
    }
    Ok(0)
}

fn fatal(what: &str, e: &io::Error) -> Fail {
    Fail::temp(format!("{what}: {}", qlib::errtext::text(e)))
}

/// Which side of a copy failed.
enum Io {
    Read(io::Error),
    Write(io::Error),
}

fn copy(from: &mut File, to: &mut impl Write, rerr: &str, werr: &str) -> Result<(), Fail> {
    let mut buf = vec![0u8; 65536];
    loop {
        let n = match io::Read::read(from, &mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).or_temp(rerr),
        };
        to.write_all(&buf[..n]).or_temp(werr)?;
    }
}

/// One message as mbox: the From_ line, the quoted message, the empty line.
fn append(msg: &mut impl BufRead, mtime: i64, out: &mut impl Write) -> Result<(), Io> {
    let mut first = Vec::new();
    msg.read_until(b'\n', &mut first).map_err(Io::Read)?;
    let mut from = b"From XXX ".to_vec();
    if first.ends_with(b"\n") && first.starts_with(b"Return-Path: <") {
        if first[14] == b'>' {
            from = b"From MAILER-DAEMON ".to_vec();
        } else {
            // As qmail: the bytes between `<` and the last two (`>\n`), blanks made `-`.
            from = b"From ".to_vec();
            from.extend(first[14..first.len() - 2].iter().map(|&c| match c {
                b' ' | b'\t' => b'-',
                _ => c,
            }));
            from.push(b' ');
        }
    }
    from.extend_from_slice(date::mbox(mtime).as_bytes());
    from.push(b'\n');
    out.write_all(&from).map_err(Io::Write)?;
    let mut q = mbox::Quote::new();
    q.feed(&first, out).map_err(Io::Write)?;
    loop {
        let buf = match msg.fill_buf() {
            Ok([]) => break,
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Io::Read(e)),
        };
        let n = buf.len();
        q.feed(buf, out).map_err(Io::Write)?;
        msg.consume(n);
    }
    q.finish(out).map_err(Io::Write)?;
    out.write_all(b"\n").map_err(Io::Write)
}
