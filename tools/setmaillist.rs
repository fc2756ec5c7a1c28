//! setmaillist — make a binary mailing list for fastforward.
//!
//! Usage:    setmaillist list.bin list.tmp        (the list on standard input)
//! Input:    one entry per line; trailing spaces and tabs are dropped; blank lines and lines
//!           starting with `#` are skipped. A line starting with `.` or `/` names another
//!           binary list, one starting with `&` is an address after the `&`, any other line
//!           is an address as a whole. Addresses should be fully qualified.
//! Output:   `list.tmp` (mode 0644) holding each entry NUL-terminated (`&address`, `/file`,
//!           `./file`), fsynced and renamed to `list.bin`.
//! Exit:     0 done; 100 usage; 111 `NUL in input`, `addresses must be under 800 bytes`, or
//!           a read or write failure (then `list.bin` is untouched and `list.tmp` removed).
//! Runs as:  the list's owner.  Trusts: nothing in the input.
//! Spec:     shared/spec/addons.md §2.6

use qlib::fail::{Fail, OrFail as _};
use qlib::fastforward::{maillist, write_file, ListError};
use qlib::{args, prog};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "setmaillist list.bin list.tmp";

fn main() -> ExitCode {
    prog::main("setmaillist", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    let names = args::exactly(args::none(argv), 2, USAGE)?;
    let (bin, tmp) = (Path::new(&names[0]), Path::new(&names[1]));
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .or_temp("unable to read input")?;
    let list = maillist(&input).map_err(|e| match e {
        ListError::Nul => Fail::temp("NUL in input"),
        ListError::TooLong => Fail::temp("addresses must be under 800 bytes"),
    })?;
    write_file(bin, tmp, &list).or_temp(&format!("unable to create {}", bin.display()))?;
    Ok(0)
}
