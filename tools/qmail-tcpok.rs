//! qmail-tcpok — clear the remote-timeout table, so that qmail-remote tries every host again.
//!
//! Usage:    qmail-tcpok
//!           overwrites QMAILHOME/queue/lock/tcpto (IPv4, qmail's table) with 1024 NUL bytes
//!           and then queue/lock/tcpto6 (IPv6, rqmail's; see lib/src/tcpto.rs) with 2048,
//!           each under its exclusive lock. A missing tcpto6 is left missing (nothing can
//!           have been recorded there). Neither file is created or truncated.
//! Options:  none.
//! Environment: none.
//! Exit:     0 cleared; 100 usage; 111 with qmail's messages:
//!           `qmail-tcpok: fatal: unable to chdir to <home>[/queue/lock]: <reason>`,
//!           `unable to write <file>: <reason>` (cannot open it), `unable to lock <file>: …`,
//!           `unable to clear <file>: …` (the write failed). tcpto is cleared before tcpto6
//!           is tried.
//! Runs as:  root or qmailr.  Trusts: nothing; it only writes.
//! Spec:     shared/spec/qmail.md §5.6, §10.16

use qlib::fail::{Fail, OrFail as _};
use qlib::tcpto::{self, Family, Table};
use qlib::{args, conf, prog};
use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "qmail-tcpok";

fn main() -> ExitCode {
    prog::main("qmail-tcpok", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let dir = format!("{}/{}", conf::HOME, tcpto::DIR);
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    std::env::set_current_dir(tcpto::DIR).or_temp(&format!("unable to chdir to {dir}"))?;
    for fam in Family::ALL {
        let path = format!("{dir}/{}", fam.file());
        let Some(t) =
            Table::open(Path::new("."), fam).or_temp(&format!("unable to write {path}"))?
        else {
            continue;
        };
        t.lock().or_temp(&format!("unable to lock {path}"))?;
        t.clear().or_temp(&format!("unable to clear {path}"))?;
    }
    Ok(0)
}
