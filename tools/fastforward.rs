//! fastforward — forward mail as a database made by newaliases or setforward says.
//!
//! Usage:    fastforward [ -nNpPdD ] data.cdb     (`| fastforward -d /etc/aliases.cdb` in
//!           ~alias/.qmail-default; a second line there handles what the database does not)
//! Options:  -n  only say on stderr what would be done (`run <program>`, then `no forwarding`
//!               or `from <sender>` and `to <address>` lines); run and queue nothing.
//!           -N  act (default).  -p  pass through: an unknown address exits 0 so the next
//!               .qmail line gets it, a known one exits 99 after forwarding.
//!           -P  an unknown address bounces (default).  -d  the address is $DEFAULT@$HOST
//!               ($EXT@$HOST without DEFAULT).  -D  the address is $RECIPIENT (default).
//!           For each pair the last one given wins.
//! Lookup:   `?` (owner) then `:` (commands) records for the address, `@host`, `user@` in
//!           turn, lower-cased. Programs `|prog` (message on stdin) and `!prog` (through
//!           preline) run first, in database order; addresses and binary lists expand with
//!           every string handled once; an address with its own owner record goes on as it
//!           is. One copy (`$DTLINE` + message) goes to all addresses, from the owner if
//!           there is one and $SENDER is neither empty nor `#@[]`, else from $SENDER.
//! Environment: RECIPIENT or DEFAULT/EXT and HOST; SENDER (`original envelope sender` if
//!           unset); DTLINE, UFLINE, RPLINE for programs and the copy; QMAILQUEUE.
//! Exit:     0 forwarded (`fastforward: qp <pid>` on stderr), or nothing to forward, or -p
//!           with an unknown address; 99 with -p after forwarding; 100 usage, a missing
//!           variable, an unknown address (`Sorry, no mailbox here by that name. (#5.1.1)`),
//!           a program exiting 64 65 70 76 77 78 100 112, a permanent queue refusal; 111 an
//!           unreadable database or list (lists must be world-readable), a program's other
//!           exit or crash, a temporary queue failure. Nothing runs before the whole
//!           expansion has been read, so a deferral has no side effects.
//! Runs as:  the alias user under qmail-local; fd 0 is the message and must be seekable.
//!           Trusts: the database and its lists (their owners choose what runs); the message
//!           reaches programs only on stdin. A list file owned by another user lets that
//!           user make fastforward read any file the alias user can read.
//! Spec:     shared/spec/addons.md §2.2

use qlib::cdb::Cdb;
use qlib::fail::Fail;
use qlib::fastforward::deliver;
use qlib::fastforward::resolve::{self, printable, Error, Plan, Source};
use qlib::{args, env, errtext, exit, prog, sys};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "fastforward [ -nNpPdD ] data.cdb";

fn main() -> ExitCode {
    prog::main("fastforward", run)
}

/// Whether the last of `-lower`/`-upper` given was `-upper` (`default` if neither).
fn last(m: &getopts::Matches, lower: &str, upper: &str, default: bool) -> bool {
    let pos = |o: &str| m.opt_positions(o).last().copied();
    match (pos(lower), pos(upper)) {
        (Some(l), Some(u)) => u > l,
        (Some(_), None) => false,
        (None, Some(_)) => true,
        (None, None) => default,
    }
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    let mut o = getopts::Options::new();
    for f in ["n", "N", "p", "P", "d", "D"] {
        o.optflagmulti(f, "", "");
    }
    let p = args::parse(&o, argv, USAGE)?;
    let (doit, bounce, from_env) = (
        last(&p.opts, "n", "N", true),
        last(&p.opts, "p", "P", true),
        last(&p.opts, "d", "D", true),
    );
    let db = args::exactly(p.rest, 1, USAGE)?.remove(0);
    let _ = sys::sig::ignore(sys::sig::SIGPIPE);
    let target = if from_env {
        env::get("RECIPIENT").ok_or_else(|| Fail::perm("$RECIPIENT must be set"))?
    } else {
        let local = env::first(&["DEFAULT", "EXT"])
            .ok_or_else(|| Fail::perm("$DEFAULT or $EXT must be set"))?;
        let host = env::get("HOST").ok_or_else(|| Fail::perm("$HOST must be set"))?;
        [&local[..], b"@", &host[..]].concat()
    };
    let sender = env::get("SENDER").unwrap_or_else(|| b"original envelope sender".to_vec());
    let path = Path::new(&db);
    let unreadable = |e: io::Error| {
        Fail::temp(format!(
            "unable to read {}: {}",
            path.display(),
            errtext::text(&e)
        ))
    };
    let mut src = Db(Cdb::open(path).map_err(unreadable)?);
    let plan = match resolve::resolve(&mut src, &target, &sender) {
        Ok(p) => p,
        Err(Error::Db(kind)) => return Err(unreadable(kind.into())),
        Err(Error::List(why)) => return Err(Fail::temp(why)),
    };
    let Some(plan) = plan else {
        if !bounce {
            return Ok(exit::OK);
        }
        let _ = io::stderr().write_all(b"Sorry, no mailbox here by that name. (#5.1.1)\n");
        return Ok(exit::PERM);
    };
    let from = plan.owner.clone().unwrap_or(sender);
    if doit {
        act(&plan, &from)?;
    } else {
        show(&plan, &from);
    }
    Ok(if bounce { exit::OK } else { exit::SKIP })
}

fn show(plan: &Plan, from: &[u8]) {
    let mut text = String::new();
    for p in &plan.programs {
        text += &format!("run {}\n", printable(p));
    }
    if plan.recipients.is_empty() {
        text += "no forwarding\n";
    } else {
        text += &format!("from <{}>\n", printable(from));
        for r in &plan.recipients {
            text += &format!("to <{}>\n", printable(r));
        }
    }
    let _ = io::stderr().write_all(text.as_bytes());
}

fn act(plan: &Plan, from: &[u8]) -> Result<(), Fail> {
    let mut mess = File::from(sys::fd::inherited(0).ok_or_else(|| Fail::temp("no message"))?);
    for p in &plan.programs {
        deliver::program(&mut mess, &p[1..], p[0] == b'!')?;
    }
    if !plan.recipients.is_empty() {
        let recips: Vec<&[u8]> = plan.recipients.iter().map(Vec::as_slice).collect();
        let pid = deliver::forward(&mut mess, from, &recips)?;
        prog::say(&format!("qp {pid}"));
    }
    Ok(())
}

/// The database, and list files read from the current directory (the alias user's home).
struct Db(Cdb);

impl Source for Db {
    fn get(&mut self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.0.find(key)
    }
    fn list(&mut self, path: &[u8]) -> Result<Vec<u8>, String> {
        let name = Path::new(OsStr::from_bytes(path));
        let fail =
            |e: io::Error| format!("unable to read {}: {}", name.display(), errtext::text(&e));
        let mut f = File::open(name).map_err(fail)?;
        let mode = f.metadata().map_err(fail)?.permissions().mode();
        if mode & 0o444 != 0o444 {
            return Err(format!(
                "unable to read {}: not world-readable",
                name.display()
            ));
        }
        let mut data = Vec::new();
        f.read_to_end(&mut data).map_err(fail)?;
        Ok(data)
    }
}
