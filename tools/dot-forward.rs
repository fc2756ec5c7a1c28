//! dot-forward — obey a sendmail-style `.forward` file, from a line of `.qmail`.
//!
//! Usage:    dot-forward [ -nN ] file ...      (typically `|dot-forward .forward`, followed
//!           by `./Maildir/` or `./Mailbox` on the next line of `~/.qmail`)
//! Options:  -n  only say on stderr what would be done: `forward <addr>`,
//!               `pipe through <command>`, `direct delivery`, `skipping empty file <fn>`;
//!               run nothing, queue nothing, leave stdin unread, exit 0.
//!           -N  act (the default). The last of -n/-N wins.
//! Files:    tried in order, relative to the current directory (the home under
//!           qmail-local); a missing file, or one with no entries, is skipped; the first with
//!           an entry is used. Lines starting with `#` are comments; every other line holds
//!           RFC 822 addresses separated by commas. A bare name is qualified with
//!           qmail-inject's rules; `$USER` or `$USER@$HOST` (any case, `\user` too) means
//!           direct delivery; `"|command"` runs `/bin/sh -c command` with UFLINE, RPLINE,
//!           DTLINE and the message on stdin. `/file` and `:include:` are not supported.
//! Environment: NEWSENDER (sender of the forwarded copy; empty if unset), DTLINE, RPLINE,
//!           UFLINE, USER, HOST, QMAILQUEUE. Controls: me, defaultdomain, defaulthost,
//!           plusdomain under the qmail home.
//! Exit:     0 no usable file, or a direct-delivery entry (the next `.qmail` line delivers),
//!           or -n; 99 everything was forwarded or piped (qmail-local stops there);
//!           100 usage, a command exited 64 65 70 76 77 78 100 or 112, or a permanent queue
//!           refusal; 111 an unreadable file, a syntax error, a `/file` or `:include:` entry,
//!           any other command exit or crash, a temporary queue failure. On success the
//!           forward prints `qp <pid>` on stdout.
//! Runs as:  the user, under qmail-local: fd 0 is the message and must be seekable.
//!           Trusts: the user's own file (its commands run as the user, as they would from
//!           `.qmail`); the message and sender reach commands only on stdin and in the
//!           environment. SIGPIPE is ignored: a command that stops reading is judged by its
//!           exit code.
//! Spec:     shared/spec/addons.md §3; qmail.md §4.10, §4.13. Beyond the original: the whole
//!           file is parsed before anything runs, so a bad line defers without side effects.

use qlib::dotforward::{self, Action, Error, Names};
use qlib::fail::{Fail, OrFail as _};
use qlib::fastforward::{self, deliver};
use qlib::{args, env, exit, prog, sys};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "dot-forward [ -nN ] file ...";

fn main() -> ExitCode {
    prog::main("dot-forward", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    let mut o = getopts::Options::new();
    o.optflagmulti("n", "", "print only")
        .optflagmulti("N", "", "act");
    o.parsing_style(getopts::ParsingStyle::StopAtFirstFree);
    let p = args::parse(&o, argv, USAGE)?;
    let doit = last_wins(&p.opts);
    let files = args::at_least(p.rest, 1, USAGE)?;
    let _ = sys::sig::ignore(sys::sig::SIGPIPE);

    let (user, host) = (var("USER"), var("HOST"));
    let rewrite = fastforward::rewrite(false).map_err(Fail::temp)?;
    let names = Names {
        user: &user,
        host: &host,
        rewrite: &rewrite,
    };
    let mut actions = Vec::new();
    for f in &files {
        let text = match std::fs::read(f) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).or_temp(&format!("unable to read {}", f.display())),
        };
        actions = dotforward::parse(&text, &names).map_err(|e| bad(f.as_ref(), e))?;
        if !actions.is_empty() {
            break;
        }
        if !doit {
            prog::say(&format!("skipping empty file {}", f.display()));
        }
    }
    if !doit {
        for a in &actions {
            prog::say(&match a {
                Action::Forward(r) => format!("forward {}", String::from_utf8_lossy(r)),
                Action::Program(c) => format!("pipe through {}", String::from_utf8_lossy(c)),
                Action::Direct => "direct delivery".into(),
            });
        }
        return Ok(exit::OK);
    }
    if actions.is_empty() {
        return Ok(exit::OK);
    }
    let mut mess = File::from(sys::fd::inherited(0).ok_or_else(|| Fail::temp("no message"))?);
    for a in &actions {
        if let Action::Program(cmd) = a {
            deliver::program(&mut mess, cmd, true)?;
        }
    }
    let recips: Vec<&[u8]> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Forward(r) => Some(r.as_slice()),
            _ => None,
        })
        .collect();
    if !recips.is_empty() {
        let pid = deliver::forward(&mut mess, &var("NEWSENDER"), &recips)?;
        let mut out = io::stdout().lock();
        out.write_all(format!("qp {pid}\n").as_bytes())
            .and_then(|()| out.flush())
            .or_temp("unable to write output")?;
    }
    if actions.contains(&Action::Direct) {
        Ok(exit::OK)
    } else {
        Ok(exit::SKIP)
    }
}

/// Whether to act: -N unless the last of -n/-N given was -n.
fn last_wins(m: &getopts::Matches) -> bool {
    let last = |o: &str| m.opt_positions(o).last().copied();
    match (last("n"), last("N")) {
        (Some(n), Some(big)) => big > n,
        (Some(_), None) => false,
        _ => true,
    }
}

fn var(name: &str) -> Vec<u8> {
    env::get(name).unwrap_or_default()
}

fn bad(f: &OsStr, e: Error) -> Fail {
    let f = Path::new(f).display();
    match e {
        Error::Syntax(n) => Fail::temp(format!("unable to parse {f} line {n}")),
        Error::Include(n) => Fail::temp(format!(":include: is not supported: {f} line {n}")),
        Error::File(p) => Fail::temp(format!(
            "delivery to files is not supported: {}",
            String::from_utf8_lossy(&p)
        )),
    }
}
