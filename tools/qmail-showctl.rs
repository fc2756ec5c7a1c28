//! qmail-showctl — explain the qmail configuration.
//!
//! Usage:    qmail-showctl
//!           prints the compiled-in settings: `qmail home directory: <home>.`,
//!           `user-ext delimiter: <c>.`, `paternalism (in decimal): <n>.`,
//!           `silent concurrency limit: <n>.`, `subdirectory split: <n>.`,
//!           `user ids: <alias>, <qmaild>, <qmaill>, <root>, <qmailp>, <qmailq>, <qmailr>,
//!           <qmails>.` and `group ids: <nofiles>, <qmail>.` (ids looked up at run time; a
//!           missing account shows as 4294967295, qmail's -1). Then, after an empty line each,
//!           one paragraph per control file qmail reads, in qmail's order: `<name>: ` and
//!           either `(Default.) ` with the effective default, or the value read (a list: one
//!           line per entry), or `Oops! Trouble reading this file.`; then whether
//!           `morercpthosts.cdb` exists and is newer than `morercpthosts`; then
//!           `<name>: I have no idea what this file does.` for every other file in control/,
//!           in directory order. Bytes outside 32–126 in values are shown as `?`.
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed; 100 usage; 111 cannot chdir to the home or control/, open control/,
//!           read control/me (said on stdout with `Oops!`, as qmail does), or write the
//!           output (`qmail-showctl: fatal: unable to write output` on stderr).
//! Runs as:  anyone who can read the control files.  Trusts: nothing; it only reads.
//! Spec:     shared/spec/qmail.md §10.13, §6

use qlib::conf::{self, Group, User};
use qlib::control;
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, prog};
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::os::unix::fs::MetadataExt;
use std::process::ExitCode;

const USAGE: &str = "qmail-showctl";

fn main() -> ExitCode {
    prog::main("qmail-showctl", run)
}

/// One control file and how to explain it.
enum Ctl {
    /// a number: default, text before, text after
    Int(&'static str, &'static str, &'static str),
    /// one line: whether `me` is the default, default, text before
    Str(bool, &'static str, &'static str),
    /// a list: text for the default, before and after each entry
    Lst(&'static str, &'static str, &'static str),
}

use Ctl::{Int, Lst, Str};

#[rustfmt::skip]
const CONTROLS: &[(&str, Ctl)] = &[
    ("badmailfrom", Lst("Any MAIL FROM is allowed.", "", " not accepted in MAIL FROM.")),
    ("bouncefrom", Str(false, "MAILER-DAEMON", "Bounce user name is ")),
    ("bouncehost", Str(true, "bouncehost", "Bounce host name is ")),
    ("concurrencylocal", Int("10", "Local concurrency is ", "")),
    ("concurrencyremote", Int("20", "Remote concurrency is ", "")),
    ("databytes", Int("0", "SMTP DATA limit is ", " bytes")),
    ("defaultdomain", Str(true, "defaultdomain", "Default domain name is ")),
    ("defaulthost", Str(true, "defaulthost", "Default host name is ")),
    ("doublebouncehost", Str(true, "doublebouncehost", "2B recipient host: ")),
    ("doublebounceto", Str(false, "postmaster", "2B recipient user: ")),
    ("envnoathost", Str(true, "envnoathost", "Presumed domain name is ")),
    ("helohost", Str(true, "helohost", "SMTP client HELO host name is ")),
    ("idhost", Str(true, "idhost", "Message-ID host name is ")),
    ("localiphost", Str(true, "localiphost", "Local IP address becomes ")),
    ("locals", Lst("Messages for me are delivered locally.", "Messages for ",
                   " are delivered locally.")),
    ("me", Str(false, "undefined! Uh-oh", "My name is ")),
    ("percenthack", Lst("The percent hack is not allowed.",
                        "The percent hack is allowed for user%host@", ".")),
    ("plusdomain", Str(true, "plusdomain", "Plus domain name is ")),
    ("qmqpservers", Lst("No QMQP servers.", "QMQP server: ", ".")),
    ("queuelifetime", Int("604800", "Message lifetime in the queue is ", " seconds")),
];

#[rustfmt::skip]
const AFTER: &[(&str, Ctl)] = &[
    ("smtpgreeting", Str(true, "smtpgreeting", "SMTP greeting: 220 ")),
    ("smtproutes", Lst("No artificial SMTP routes.", "SMTP route: ", "")),
    ("timeoutconnect", Int("60", "SMTP client connection timeout is ", " seconds")),
    ("timeoutremote", Int("1200", "SMTP client data timeout is ", " seconds")),
    ("timeoutsmtpd", Int("1200", "SMTP server data timeout is ", " seconds")),
    ("virtualdomains", Lst("No virtual domains.", "Virtual domain: ", "")),
];

const MORE: [&str; 3] = ["rcpthosts", "morercpthosts", "morercpthosts.cdb"];

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let mut o = Vec::new();
    let users = [
        User::Alias,
        User::Qmaild,
        User::Qmaill,
        User::Root,
        User::Qmailp,
        User::Qmailq,
        User::Qmailr,
        User::Qmails,
    ];
    let uids: Vec<String> = users.iter().map(|&u| id(conf::uid(u))).collect();
    let gids: Vec<String> = [Group::Nofiles, Group::Qmail]
        .iter()
        .map(|&g| id(conf::gid(g)))
        .collect();
    let b = conf::break_char() as char;
    let head = format!(
        "qmail home directory: {}.\nuser-ext delimiter: {b}.\npaternalism (in decimal): {}.\n\
         silent concurrency limit: {}.\nsubdirectory split: {}.\nuser ids: {}.\ngroup ids: {}.\n",
        conf::HOME,
        conf::patrn(),
        conf::spawn(),
        conf::split(),
        uids.join(", "),
        gids.join(", ")
    );
    o.extend_from_slice(head.as_bytes());
    let code = body(&mut o);
    let mut out = io::stdout().lock();
    out.write_all(&o)
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(code)
}

fn id(r: io::Result<u32>) -> String {
    r.unwrap_or(u32::MAX).to_string()
}

/// Everything after the compiled-in settings; the exit code.
fn body(o: &mut Vec<u8>) -> u8 {
    if std::env::set_current_dir(conf::HOME).is_err() {
        o.extend_from_slice(format!("Oops! Unable to chdir to {}.\n", conf::HOME).as_bytes());
        return 111;
    }
    if std::env::set_current_dir("control").is_err() {
        o.extend_from_slice(b"Oops! Unable to chdir to control.\n");
        return 111;
    }
    let Ok(dir) = std::fs::read_dir(".") else {
        o.extend_from_slice(b"Oops! Unable to open current directory.\n");
        return 111;
    };
    let Ok(me) = control::line("me") else {
        o.extend_from_slice(b"Oops! Trouble reading control/me.");
        return 111;
    };
    for (name, c) in CONTROLS {
        show(o, name, c, me.as_deref());
    }
    let rcpt = Lst(
        "SMTP clients may send messages to any recipient.",
        "SMTP clients may send messages to recipients at ",
        ".",
    );
    let more = if show(o, "rcpthosts", &rcpt, None) {
        Lst(
            "No effect.",
            "SMTP clients may send messages to recipients at ",
            ".",
        )
    } else {
        Lst(
            "No rcpthosts; morercpthosts is irrelevant.",
            "No rcpthosts; doesn't matter that morercpthosts has ",
            ".",
        )
    };
    show(o, "morercpthosts", &more, None);
    o.extend_from_slice(b"\nmorercpthosts.cdb: ");
    let mtime = |p: &str| std::fs::metadata(p).map(|m| m.mtime()).ok();
    o.extend_from_slice(match (mtime("morercpthosts"), mtime("morercpthosts.cdb")) {
        (None, None) => b"(Default.) No effect.\n",
        (None, Some(_)) => b"Oops! morercpthosts.cdb exists but morercpthosts doesn't.\n",
        (Some(_), None) => b"Oops! morercpthosts exists but morercpthosts.cdb doesn't.\n",
        (Some(a), Some(b)) if a > b => b"Oops! morercpthosts.cdb is older than morercpthosts.\n",
        _ => b"Modified recently enough; hopefully up to date.\n",
    });
    for (name, c) in AFTER {
        show(o, name, c, me.as_deref());
    }
    let known = |n: &[u8]| {
        CONTROLS.iter().chain(AFTER).any(|(k, _)| k.as_bytes() == n)
            || MORE.iter().any(|k| k.as_bytes() == n)
    };
    for e in dir.flatten() {
        let n = e.file_name();
        if !known(n.as_encoded_bytes()) {
            o.push(b'\n');
            o.extend_from_slice(n.as_encoded_bytes());
            o.extend_from_slice(b": I have no idea what this file does.\n");
        }
    }
    0
}

fn safe(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| if (32..=126).contains(&c) { c } else { b'?' })
        .collect()
}

/// One paragraph; for a list, whether the file exists and was read.
fn show(o: &mut Vec<u8>, name: &str, c: &Ctl, me: Option<&[u8]>) -> bool {
    o.extend_from_slice(format!("\n{name}: ").as_bytes());
    let oops = b"Oops! Trouble reading this file.\n";
    match c {
        Int(dflt, pre, post) => match control::line(name) {
            Ok(Some(v)) if qlib::scan::ulong(&v).1 > 0 => {
                let n = qlib::scan::ulong(&v).0;
                o.extend_from_slice(format!("{pre}{n}{post}.\n").as_bytes());
            }
            Ok(_) => o.extend_from_slice(format!("(Default.) {pre}{dflt}{post}.\n").as_bytes()),
            Err(_) => o.extend_from_slice(oops),
        },
        Str(flagme, dflt, pre) => match control::line(name) {
            Ok(v) => {
                let (mark, v) = match (v, flagme, me) {
                    (Some(v), _, _) => ("", v),
                    (None, true, Some(me)) => ("(Default.) ", me.to_vec()),
                    (None, _, _) => ("(Default.) ", dflt.as_bytes().to_vec()),
                };
                o.extend_from_slice(format!("{mark}{pre}").as_bytes());
                o.extend_from_slice(&safe(&v));
                o.extend_from_slice(b".\n");
            }
            Err(_) => o.extend_from_slice(oops),
        },
        Lst(dflt, pre, post) => match control::list(name) {
            Ok(None) => o.extend_from_slice(format!("(Default.) {dflt}\n").as_bytes()),
            Ok(Some(lines)) => {
                o.push(b'\n');
                for l in lines {
                    o.extend_from_slice(pre.as_bytes());
                    o.extend_from_slice(&safe(&l));
                    o.extend_from_slice(format!("{post}\n").as_bytes());
                }
                return true;
            }
            Err(_) => o.extend_from_slice(oops),
        },
    }
    false
}
