//! printforward — print a fastforward database as setforward input.
//!
//! Usage:    printforward < data.cdb
//! Output:   for each record in file order: `target:` and then one `, command` line per
//!           command and `;` for a command record; `target: ?owner;` for an owner record.
//!           Bytes up to space and `, : ; \ #` are escaped with `\`, so setforward reads the
//!           output back into the same records.
//! Exit:     0 printed; 100 usage or `bad database format` (the records are not a cdb's, a
//!           key is neither `:` nor `?`, a command list does not end with NUL); 111 read or
//!           write failure.
//! Runs as:  anyone.  Trusts: nothing in the file; every length is checked.
//! Spec:     shared/spec/addons.md §2.1, §2.4

use qlib::fail::{Fail, OrFail as _};
use qlib::fastforward::{print_record, records};
use qlib::{args, prog};
use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "printforward < data.cdb";

fn main() -> ExitCode {
    prog::main("printforward", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let mut image = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut image)
        .or_temp("unable to read input")?;
    let bad = || Fail::perm("bad database format");
    let mut text = Vec::new();
    for (key, data) in records(&image).ok_or_else(bad)? {
        text.extend(print_record(key, data).ok_or_else(bad)?);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
