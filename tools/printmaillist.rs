//! printmaillist — print a binary mailing list as setmaillist input.
//!
//! Usage:    printmaillist < list.bin
//! Output:   one line per entry: `&address`, `/file` or `./file`.
//! Exit:     0 printed; 100 usage or `bad mailing list format` (an empty entry, one starting
//!           with anything else, or a list not ending with NUL); 111 read or write failure.
//! Runs as:  anyone.  Trusts: nothing in the file.
//! Spec:     shared/spec/addons.md §2.6

use qlib::fail::{Fail, OrFail as _};
use qlib::fastforward::print_maillist;
use qlib::{args, prog};
use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "printmaillist < list.bin";

fn main() -> ExitCode {
    prog::main("printmaillist", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let mut list = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut list)
        .or_temp("unable to read input")?;
    let text = print_maillist(&list).ok_or_else(|| Fail::perm("bad mailing list format"))?;
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
