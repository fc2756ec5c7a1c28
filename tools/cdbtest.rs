//! cdbtest — check that every record of the constant database on standard input can be found.
//!
//! Usage:    cdbtest < f.cdb
//!           walks the records in file order and looks each key up; prints
//!           `found: N` (the lookup's first answer is this record),
//!           `different record: N` (it is another record with the same key: normal for
//!           the second and later records of a duplicated key),
//!           `bad length: N` (this record, but with another data length),
//!           `not found: N` and `untested: N` (keys over 1024 bytes, as in the original).
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed (whatever the counts); 111 a truncated or unreadable file, a pipe on
//!           standard input, or a write failure.
//! Runs as:  anyone.  Trusts: nothing; every offset in the file is checked against its size.
//! Spec:     shared/spec/formats.md §1.1, §1.3

use qlib::cdb::Cdb;
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, prog};
use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

const USAGE: &str = "cdbtest";
const KEYMAX: u32 = 1024;

fn main() -> ExitCode {
    prog::main("cdbtest", run)
}

fn truncated() -> Fail {
    Fail::temp("unable to read input: truncated file")
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let cdb = Cdb::stdin().or_temp("unable to read input")?;
    if cdb.size() < 2048 {
        return Err(truncated());
    }
    let eod = cdb.end_of_records().or_temp("unable to read input")?;
    let (mut found, mut other, mut badlen, mut notfound, mut untested) = (0u64, 0, 0, 0, 0);
    let mut pos: u64 = 2048;
    while pos < eod {
        let (klen, dlen) = cdb.lengths_at(pos).map_err(|_| truncated())?;
        if klen > KEYMAX {
            untested += 1;
        } else {
            let key = cdb.read_at(pos + 8, klen).map_err(|_| truncated())?;
            match cdb
                .find_iter(&key)
                .next_hit()
                .or_temp("unable to read input")?
            {
                None => notfound += 1,
                Some(hit) if hit.record != pos => other += 1,
                Some(hit) if hit.dlen != dlen => badlen += 1,
                Some(_) => found += 1,
            }
        }
        pos += 8 + u64::from(klen) + u64::from(dlen);
    }
    let text = format!(
        "found: {found}\ndifferent record: {other}\nbad length: {badlen}\n\
         not found: {notfound}\nuntested: {untested}\n"
    );
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
