//! cdbget — print one value of a key from the constant database on standard input.
//!
//! Usage:    cdbget key [skip] < f.cdb
//!           prints the (skip+1)-th value stored under `key` (default: the first), raw.
//!           `skip` is read as leading decimal digits (none: 0), as the original does.
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed; 100 no such record (nothing printed) or usage; 111 read or write
//!           failure (a corrupt file, a pipe on standard input).
//! Runs as:  anyone.  Trusts: nothing; every offset in the file is checked against its size.
//! Spec:     shared/spec/formats.md §1.3

use qlib::cdb::Cdb;
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, prog, scan};
use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::process::ExitCode;

const USAGE: &str = "cdbget key [skip]";

fn main() -> ExitCode {
    prog::main("cdbget", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let words = args::none(argv);
    let (key, skip) = match words.as_slice() {
        [key] => (key.as_bytes(), 0),
        [key, skip, ..] => (key.as_bytes(), scan::ulong(skip.as_bytes()).0),
        [] => return Err(Fail::usage(USAGE)),
    };
    let cdb = Cdb::stdin().or_temp("unable to read input")?;
    let mut find = cdb.find_iter(key);
    let mut left = skip;
    let hit = loop {
        match find.next_hit().or_temp("unable to read input")? {
            None => return Ok(100),
            Some(hit) if left == 0 => break hit,
            Some(_) => left -= 1,
        }
    };
    let data = cdb
        .read_at(hit.data, hit.dlen)
        .or_temp("unable to read input")?;
    let mut out = std::io::stdout().lock();
    out.write_all(&data)
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
