//! qmail-qread — list the messages in the queue and their recipients.
//!
//! Usage:    qmail-qread
//!           for each preprocessed message (one with an info/ file), in increasing id order:
//!           `<D Mon YYYY HH:MM:SS> GMT  #<id>  <size>  <<sender>> ` and then ` bouncing`
//!           if failure paragraphs wait in bounce/ID and ` held` if the message is held
//!           (qmail-qhold); then one line per recipient, local ones first, in file order:
//!           `<TAB>local<TAB><address>` or `<TAB>remote<TAB><address>` when pending, the
//!           same after `  done` when delivered or failed. Date = when the message was
//!           queued (info/ mtime), in GMT; size = bytes of the stored message. Bytes outside
//!           32–126 are shown as `_`. A message that cannot be read is reported on stdout
//!           as `warning: trouble with #<id>: <reason>` and skipped. Messages still in
//!           todo/ (not yet preprocessed) are not listed; qmail-qstat counts them.
//! Options:  none.
//! Environment: none.
//! Exit:     0 listed; 100 usage; 111 cannot chdir to the home or queue, list info/, or
//!           write the output (`qmail-qread: fatal: unable to ...` on stderr; qmail printed
//!           these on stdout without the program's name).
//! Runs as:  root, or qmails (the queue's info/, local/, remote/ are qmails 0700).
//!           Trusts: nothing in the queue files; addresses are shown sanitised.
//! Spec:     shared/spec/qmail.md §10.14, §3.6. Beyond qmail: ` held`, and id order
//!           instead of directory order.

use qlib::fail::{Fail, OrFail as _};
use qlib::{args, conf, errtext, prog, qread};
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::process::ExitCode;

const USAGE: &str = "qmail-qread";

fn main() -> ExitCode {
    prog::main("qmail-qread", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    std::env::set_current_dir("queue").or_temp("unable to chdir to queue")?;
    let ids = qread::ids().or_temp("unable to opendir info")?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for id in ids {
        let text = match qread::read(id) {
            Ok(e) => qread::format(&e),
            Err(e) if e.kind() == io::ErrorKind::NotFound && gone(id) => continue,
            Err(e) => format!("warning: trouble with #{id}: {}\n", errtext::text(&e)).into_bytes(),
        };
        out.write_all(&text).or_temp("unable to write output")?;
    }
    out.flush().or_temp("unable to write output")?;
    Ok(0)
}

/// Finished between the listing and the reading: not an error.
fn gone(id: u64) -> bool {
    !qlib::queue::path("info", id).exists()
}
