//! tcprules — compile tcpserver access rules from text into a cdb, replacing it atomically.
//!
//! Usage:    tcprules rules.cdb rules.tmp < rules.txt
//!           Each line: `address:allow` or `address:deny`, then `,NAME=QvalueQ` assignments
//!           (Q any byte). `#` comments, empty lines and lines without `:` are skipped.
//!           Addresses: `1.2.3.4`, `1.2.3.` (prefix), `1.2.3.37-53` / `10.2-3.` (ranges),
//!           `=host`, `=.domain`, `=`, `info@ip`, `info@=host`, empty (default); and, as in
//!           ucspi-tcp6, IPv6 addresses, `info@IPv6`, `a.b.c.d/n` and `IPv6/n` (CIDR).
//!           An IPv6 address ends at the first `:` followed by `allow` or `deny` (see
//!           `qlib::rules`). djb-format input gives the same cdb bytes as ucspi-tcp 0.88.
//! Options:  none.
//! Environment: none.
//! Exit:     0 rules.cdb replaced; 100 usage, or a line that does not parse
//!           (`tcprules: fatal: unable to parse this line: <line>`; rules.tmp removed,
//!           rules.cdb untouched); 111 unable to create/write rules.tmp, read the input or
//!           move rules.tmp to rules.cdb (rules.cdb untouched).
//! Runs as:  the administrator.  Trusts: nothing; the input is only compiled.
//! Spec:     shared/spec/ucspi.md §3

use qlib::cdbmake::Make;
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, exit, prog, rules};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "tcprules rules.cdb rules.tmp";

fn main() -> ExitCode {
    prog::main("tcprules", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let words = args::none(argv);
    let [cdb, tmp, ..] = words.as_slice() else {
        return Err(Fail::usage(USAGE));
    };
    let (cdb, tmp) = (Path::new(cdb), Path::new(tmp));
    let file = File::create(tmp).or_temp(&format!("unable to create {}", tmp.display()))?;
    let result = build(file, tmp, cdb);
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

fn build(file: File, tmp: &Path, cdb: &Path) -> Result<u8, Fail> {
    let write = format!("unable to write to {}", tmp.display());
    let mut make = Make::new(file).or_temp(&write)?;
    let mut input = std::io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .or_temp("unable to read input")?
            == 0
        {
            break;
        }
        let records = rules::compile_line(&line).map_err(|()| parse_error(&line))?;
        for (key, data) in records {
            make.add(&key, &data).or_temp(&write)?;
        }
    }
    let file = make.finish().or_temp(&write)?;
    file.sync_all().or_temp(&write)?;
    drop(file);
    std::fs::rename(tmp, cdb).or_temp(&format!(
        "unable to move {} to {}",
        tmp.display(),
        cdb.display()
    ))?;
    qlib::fsync_dir_of(cdb).or_temp(&format!(
        "unable to sync the directory of {}",
        cdb.display()
    ))?;
    Ok(0)
}

fn parse_error(line: &[u8]) -> Fail {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t' | b'\n') {
        end -= 1;
    }
    let mut msg = b"tcprules: fatal: unable to parse this line: ".to_vec();
    msg.extend_from_slice(&line[..end]);
    msg.push(b'\n');
    let _ = std::io::stderr().write_all(&msg);
    Fail::silent(exit::PERM)
}
