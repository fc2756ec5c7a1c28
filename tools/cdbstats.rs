//! cdbstats — how far each record of the constant database on standard input lies from the
//! slot its hash points at.
//!
//! Usage:    cdbstats < f.cdb
//!           prints `records N`, then `d0 N` … `d9 N` and `>9 N`: how many records a lookup
//!           finds with 0 … 9, or more than 9, probes beyond the first (a later record with a
//!           duplicate key counts the probes past the earlier ones). Each label is padded to
//!           8 columns and each count right-aligned in 10, as the original prints them.
//!           Records with keys over 1024 bytes are not counted, as in the original.
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed; 111 a record that lookups do not reach ("truncated file", the
//!           original's words), a truncated or corrupt file, a pipe on standard input, or a
//!           write failure.
//! Runs as:  anyone.  Trusts: nothing; every offset in the file is checked against its size.
//! Spec:     shared/spec/formats.md §1.1, §1.3

use qlib::cdb::Cdb;
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, prog};
use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

const USAGE: &str = "cdbstats";
const KEYMAX: u32 = 1024;

fn main() -> ExitCode {
    prog::main("cdbstats", run)
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
    let mut records: u64 = 0;
    let mut dist = [0u64; 11];
    let mut pos: u64 = 2048;
    while pos < eod {
        let (klen, dlen) = cdb.lengths_at(pos).map_err(|_| truncated())?;
        if klen <= KEYMAX {
            let key = cdb.read_at(pos + 8, klen).map_err(|_| truncated())?;
            let mut find = cdb.find_iter(&key);
            let probes = loop {
                match find.next_hit().or_temp("unable to read input")? {
                    Some(hit) if hit.record == pos => break hit.probes,
                    Some(_) => {}
                    None => return Err(truncated()),
                }
            };
            records += 1;
            dist[(probes as usize - 1).min(10)] += 1;
        }
        pos += 8 + u64::from(klen) + u64::from(dlen);
    }
    let mut text = format!("records {records:>10}\n");
    for (i, n) in dist.iter().enumerate() {
        let label = if i < 10 {
            format!("d{i}")
        } else {
            ">9".to_string()
        };
        text.push_str(&format!("{label:<8}{n:>10}\n"));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
