//! setforward — compile a forwarding table into a database for fastforward.
//!
//! Usage:    setforward data.cdb data.tmp        (the table on standard input)
//! Input:    instructions `target: command, command, …;` where a command is an address
//!           (`&` optional), `?owner`, `|program`, `!program` (fed through preline) or a
//!           binary list `/file` / `./file` from setmaillist or newinclude. `#` starts a
//!           comment to the end of the line; spaces, tabs and newlines are ignored; `\` quotes
//!           the next byte. Targets are `user@host`, `@host` or `user@`, any case.
//! Output:   `data.tmp` (mode 0644), fsynced, renamed to `data.cdb`: `?target` records with
//!           the owner, then a `:target` record of NUL-terminated commands, per instruction.
//!           An instruction with a colon and nothing after it gives an empty, discarding
//!           record (the original gave none), so printforward's output always reads back.
//! Exit:     0 done; 100 usage or bad input (a NUL, `double colons are not permitted`,
//!           `commas are not permitted before colons`, `final instruction must end with
//!           semicolon`, an address over 800 bytes); 111 read or write failure. On failure
//!           `data.cdb` is untouched and `data.tmp` removed.
//! Runs as:  the database's owner.  Trusts: nothing in the table.
//! Spec:     shared/spec/addons.md §2.1, §2.3

use qlib::fail::{Fail, OrFail as _};
use qlib::fastforward::{table, write_cdb};
use qlib::{args, prog};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "setforward data.cdb data.tmp";

fn main() -> ExitCode {
    prog::main("setforward", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    let names = args::exactly(args::none(argv), 2, USAGE)?;
    let (cdb, tmp) = (Path::new(&names[0]), Path::new(&names[1]));
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .or_temp("unable to read input")?;
    let records = table::parse(&input).map_err(|e| Fail::perm(e.message()))?;
    write_cdb(cdb, tmp, &records).or_temp(&format!("unable to create {}", cdb.display()))?;
    Ok(0)
}
