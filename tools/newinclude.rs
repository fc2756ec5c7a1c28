//! newinclude — compile a Sendmail `:include:` list into a binary list for fastforward.
//!
//! Usage:    newinclude list
//! Input:    `list`: any number of RFC 822 addresses per line, separated by commas; lines
//!           starting with `#` are comments; `:include:path` names a nested list. Bare names
//!           are qualified as qmail-inject does (`@defaulthost`, `host+` → `host.plusdomain`,
//!           dotless host → `.defaultdomain`). `/dev/null` adds nothing.
//! Output:   `list.tmp` (mode 0644), fsynced and renamed to `list.bin`: `&address` items (each
//!           line's addresses right to left, as the original stores them) and, for a nested
//!           list, `path.bin` (`./` in front of a relative path) — the original wrote the
//!           text file's own name there, which fastforward cannot read as a list.
//! Environment: QMAILDEFAULTDOMAIN, QMAILDEFAULTHOST, QMAILPLUSDOMAIN override the controls
//!           defaultdomain, defaulthost, plusdomain (each defaulting to `me`).
//! Exit:     0 done; 100 usage; 111 unreadable list or controls, a line that does not parse,
//!           a program or `/file` entry (not supported), an address over 800 bytes, a write
//!           failure. On failure `list.bin` is untouched and `list.tmp` removed.
//! Runs as:  the list's owner.  Trusts: nothing in the list.
//! Spec:     shared/spec/addons.md §2.6

use qlib::addrlist;
use qlib::fail::{Fail, OrFail as _};
use qlib::fastforward::aliases::{self, Error};
use qlib::fastforward::{rewrite, write_file};
use qlib::{args, prog};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "newinclude list";

fn main() -> ExitCode {
    prog::main("newinclude", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    let names = args::exactly(args::none(argv), 1, USAGE)?;
    let list = PathBuf::from(&names[0]);
    let with = |ext: &str| {
        let mut v = names[0].clone().into_vec();
        v.extend_from_slice(ext.as_bytes());
        PathBuf::from(OsString::from_vec(v))
    };
    let rw = rewrite(true).map_err(Fail::temp)?;
    let text = std::fs::read(&list).or_temp(&format!("unable to read {}", list.display()))?;
    if text.contains(&0) {
        return Err(Fail::temp(format!("NUL in {}", list.display())));
    }
    let mut out = Vec::new();
    for line in text.split(|&c| c == b'\n') {
        if line.first() == Some(&b'#') {
            continue;
        }
        let items = addrlist::parse(line)
            .ok_or(Error::Syntax)
            .and_then(|t| aliases::recipients(t, &rw))
            .and_then(|items| aliases::encode(&items, false));
        out.extend(items.map_err(|e| explain(e, line))?);
    }
    let bin = with(".bin");
    write_file(&bin, &with(".tmp"), &out)
        .or_temp(&format!("unable to create {}", bin.display()))?;
    Ok(0)
}

fn explain(e: Error, line: &[u8]) -> Fail {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Fail::temp(match e {
        Error::Syntax => format!("unable to parse this line: {}", text(line)),
        Error::TooLong => format!("address over 800 bytes: {}", text(line)),
        Error::Program(p) => format!("program delivery |{} not supported", text(&p)),
        Error::File(f) => format!("file delivery {} not supported", text(&f)),
    })
}
