//! qmail-check — check an installation and say how to fix each problem found.
//!
//! Usage:    qmail-check
//! Checks:   accounts: every qmail account and group exists, and none but root's has uid 0.
//!           The tree under the qmail home, against the install table it was built with
//!           (package/hier): each directory, program, named pipe and file exists, with its
//!           owner, group and mode (qmail-queue setuid qmailq: 4711), the queue's split
//!           subdirectories all there and no others. Controls: me and rcpthosts exist
//!           (without rcpthosts qmail-smtpd takes mail for every domain); the numeric ones
//!           (concurrencylocal, concurrencyremote, queuelifetime, databytes, timeoutconnect,
//!           timeoutremote, timeoutsmtpd, timeoutpop3, bouncemaxbytes) are numbers, the
//!           concurrencies within conf/spawn; every smtproutes and qmtproutes line parses;
//!           users/cdb, morercpthosts.cdb and each control/tcp.NAME.cdb are not older than
//!           their sources. The queue: no todo/ or info/ entry without its message, no
//!           local/ or remote/ entry without its info/, every file in the split directory
//!           its id belongs in. Queue entries younger than ten minutes are not judged:
//!           qmail-send may be working on them.
//! Output:   on stdout, for each problem `problem: <what>` and `   fix: <how>`, then
//!           `qmail-check: no problems` or `qmail-check: N problems`.
//! Exit:     0 no problems; 100 usage; 111 problems found.
//! Runs as:  root, to read the queue and every file; as another user what it cannot read
//!           is a problem (with the fix: run it as root). Changes nothing.
//! Spec:     qmail.md §3 (queue), §6 (controls), §11 (accounts, tree); package/hier.

use qlib::check::{self, names, newer, Entry, Report};
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, conf, prog};
use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HIER: &str = include_str!("../package/hier");
const USAGE: &str = "qmail-check";

fn main() -> ExitCode {
    prog::main("qmail-check", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let home = PathBuf::from(conf::HOME);
    let mut r = Report::default();
    accounts(&mut r);
    for e in check::hier(HIER) {
        entry(&mut r, &home, &e);
    }
    check::controls(&mut r, &home.join("control"));
    newer(
        &mut r,
        &home.join("users/assign"),
        &home.join("users/cdb"),
        "run qmail-newu",
    );
    check::queue(&mut r, &home.join("queue"));
    let mut text = String::new();
    for (what, fix) in &r.0 {
        text += &format!("problem: {what}\n   fix: {fix}\n");
    }
    text += &match r.0.len() {
        0 => "qmail-check: no problems\n".to_string(),
        1 => "qmail-check: 1 problem\n".to_string(),
        n => format!("qmail-check: {n} problems\n"),
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(if r.0.is_empty() { 0 } else { 111 })
}

fn accounts(r: &mut Report) {
    for role in [
        "alias", "qmaild", "qmaill", "root", "qmailp", "qmailq", "qmailr", "qmails",
    ] {
        let Some(u) = check::user(role) else { continue };
        let name = conf::user_name(u);
        match conf::passwd(u) {
            Ok(p) if p.uid == 0 && role != "root" => r.add(
                format!("account {name} ({role}) has uid 0"),
                "give it a uid of its own: qmail runs nothing as root",
            ),
            Ok(_) => {}
            Err(_) => r.add(
                format!("account {name} ({role}) is missing"),
                "run package/users as root",
            ),
        }
    }
    for role in ["qmail", "nofiles"] {
        let Some(g) = check::group(role) else {
            continue;
        };
        if conf::gid(g).is_err() {
            let name = conf::group_name(g);
            r.add(
                format!("group {name} ({role}) is missing"),
                "run package/users as root",
            );
        }
    }
}

fn entry(r: &mut Report, home: &Path, e: &Entry) {
    let p = home.join(&e.path);
    let Some(md) = examine(r, &p) else { return };
    let (ok, want) = match e.kind {
        b'd' | b's' => (md.is_dir(), "a directory"),
        b'p' => (md.file_type().is_fifo(), "a named pipe"),
        _ => (md.is_file(), "a file"),
    };
    if !ok {
        let fix = format!("remove {} and run package/upgrade", p.display());
        return r.add(format!("{} is not {want}", p.display()), fix);
    }
    owner_and_mode(r, &p, &md, e);
    if e.kind == b'z' && md.len() != 1024 {
        r.add(
            format!("{} is not 1024 bytes", p.display()),
            "run qmail-tcpok",
        );
    }
    if e.kind == b's' {
        let split = conf::split();
        for i in 0..split {
            let sub = p.join(i.to_string());
            if let Some(md) = examine(r, &sub) {
                owner_and_mode(r, &sub, &md, e);
            }
        }
        for name in names(r, &p) {
            if check::id(&name).is_some_and(|n| n >= split) {
                r.add(
                    format!("{}/{name} is beyond conf/split ({split})", p.display()),
                    "the queue was made with another conf/split: rebuild with that one",
                );
            }
        }
    }
}

/// The path's own metadata; a missing or unreadable path is a problem.
fn examine(r: &mut Report, p: &Path) -> Option<Metadata> {
    match fs::symlink_metadata(p) {
        Ok(md) => Some(md),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            r.add(format!("{} is missing", p.display()), "run package/upgrade");
            None
        }
        Err(e) => {
            r.add(
                format!("cannot examine {}: {e}", p.display()),
                "run qmail-check as root",
            );
            None
        }
    }
}

fn owner_and_mode(r: &mut Report, p: &Path, md: &Metadata, e: &Entry) {
    let user = check::user(&e.owner).map(|u| (conf::user_name(u), conf::uid(u)));
    let group = check::group(&e.group).map(|g| (conf::group_name(g), conf::gid(g)));
    if let (Some((un, Ok(uid))), Some((gn, Ok(gid)))) = (user, group) {
        if md.uid() != uid || md.gid() != gid {
            r.add(
                format!(
                    "{} belongs to {}:{}, not {un}:{gn}",
                    p.display(),
                    md.uid(),
                    md.gid()
                ),
                format!("chown {un}:{gn} {}", p.display()),
            );
        }
    }
    let mode = md.mode() & 0o7777;
    if mode != e.mode {
        r.add(
            format!("{} has mode {mode:04o}, not {:04o}", p.display(), e.mode),
            format!("chmod {:04o} {}", e.mode, p.display()),
        );
    }
}
