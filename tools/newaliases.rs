//! newaliases — compile Sendmail's aliases file into fastforward's database.
//!
//! Usage:    newaliases          (reads conf/aliases' file, normally /etc/aliases)
//! Input:    `name: recipient, recipient, …` (the colon may be left out); a line starting
//!           with space or tab, or an empty line, continues the one before; `#` lines are
//!           comments (their continuations too). Names are `user` (any host), `user@host` or
//!           `@host`, any case; recipients are RFC 822 addresses qualified as qmail-inject
//!           does, `"|command"` (stored as `!command`: run through preline, so it gets the
//!           From_ line Sendmail gave it), `:include:path` (stored as `path.bin`, made by
//!           newinclude) and `/dev/null` (discards). An alias `owner-X` also makes X's owner
//!           record, so mail forwarded through X has envelope sender `owner-X@…`. The first
//!           of several lines for one name wins.
//! Output:   `/etc/aliases.tmp` (mode 0644), fsynced, renamed to `/etc/aliases.cdb`.
//! Controls: me, defaulthost, defaultdomain, plusdomain under the qmail home.
//! Exit:     0 done; 100 usage; 111 any error: unreadable file or controls, a line that does
//!           not parse, a delivery to a file other than /dev/null (refused, with how to move
//!           it to a .qmail file: fastforward runs as the alias user, so Sendmail's file
//!           appends have no safe place in the database), an address over 800 bytes, a write
//!           failure. On failure `/etc/aliases.cdb` is untouched and the tmp file removed.
//! Runs as:  root or whoever owns /etc/aliases.cdb.  Trusts: nothing in the file.
//! Spec:     shared/spec/addons.md §2.5

use qlib::fail::{Fail, OrFail as _};
use qlib::fastforward::aliases::{self, Error};
use qlib::fastforward::{rewrite, write_cdb};
use qlib::{args, conf, prog};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "newaliases";

fn main() -> ExitCode {
    prog::main("newaliases", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let src = conf::ALIASES;
    let text = std::fs::read(src).or_temp(&format!("unable to read {src}"))?;
    let rw = rewrite(false).map_err(Fail::temp)?;
    if text.contains(&0) {
        return Err(Fail::temp(format!("NUL in {src}")));
    }
    let mut records = Vec::new();
    for (line, ins) in aliases::instructions(&text) {
        let bad = |e| explain(e, line, &ins);
        let a = aliases::alias(&ins, &rw).map_err(bad)?;
        let data = aliases::encode(&a.items, true).map_err(bad)?;
        if let Some((of, owner)) = a.owner {
            records.push(([b"?", &of[..]].concat(), owner));
        }
        records.push(([b":", &a.name[..]].concat(), data));
    }
    let (cdb, tmp) = (PathBuf::from(format!("{src}.cdb")), format!("{src}.tmp"));
    write_cdb(&cdb, tmp.as_ref(), &records)
        .or_temp(&format!("unable to create {}", cdb.display()))?;
    Ok(0)
}

fn explain(e: Error, line: usize, ins: &[u8]) -> Fail {
    let text = |b: &[u8]| String::from_utf8_lossy(b.trim_ascii_end()).replace('\n', " ");
    let at = format!("{} line {line}", conf::ALIASES);
    Fail::temp(match e {
        Error::Syntax => format!("unable to parse {at}: {}", text(ins)),
        Error::TooLong => format!("address over 800 bytes at {at}"),
        Error::Program(p) => format!("program delivery |{} not supported", text(&p)),
        Error::File(f) => format!(
            "file delivery {f} not supported ({at}): give the alias its own .qmail file \
             under ~alias containing the line {f}, and remove it here",
            f = text(&f)
        ),
    })
}
