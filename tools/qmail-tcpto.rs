//! qmail-tcpto — print the remote-timeout table.
//!
//! Usage:    qmail-tcpto
//!           prints, for each record of QMAILHOME/queue/lock/tcpto (IPv4, qmail's table) and
//!           then of queue/lock/tcpto6 (IPv6, rqmail's; see lib/src/tcpto.rs) whose count is
//!           at least 1, in slot order:
//!           `<ip> timed out <seconds> seconds ago; # recent timeouts: <count>`
//!           (`<ip>` dotted for IPv4, compact hex for IPv6; a timeout in the future shows 0
//!           seconds). A missing tcpto6 lists nothing; a short or damaged file lists its
//!           whole records only. Both tables are read, each under its lock, before anything
//!           is printed.
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed; 100 usage; 111 cannot chdir to the home or queue/lock, open, lock or
//!           read a table, or write the output. Unlike qmail's, whose messages went to
//!           standard output without the program's name, failures are said on stderr as
//!           `qmail-tcpto: fatal: unable to ...`.
//! Runs as:  root or qmailr (locking opens the table for writing).  Trusts: nothing in the
//!           tables; every byte pattern is shown as it is.
//! Spec:     shared/spec/qmail.md §5.6, §10.16

use qlib::fail::{Fail, OrFail as _};
use qlib::tcpto::{self, Family, Table};
use qlib::{args, conf, ip, prog};
use std::ffi::OsString;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "qmail-tcpto";

fn main() -> ExitCode {
    prog::main("qmail-tcpto", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let dir = format!("{}/{}", conf::HOME, tcpto::DIR);
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    std::env::set_current_dir(tcpto::DIR).or_temp(&format!("unable to chdir to {dir}"))?;
    let mut entries = Vec::new();
    for fam in Family::ALL {
        let path = format!("{dir}/{}", fam.file());
        let Some(t) =
            Table::open(Path::new("."), fam).or_temp(&format!("unable to open {path}"))?
        else {
            continue;
        };
        t.lock().or_temp(&format!("unable to lock {path}"))?;
        let table = t.read().or_temp(&format!("unable to read {path}"))?;
        drop(t);
        entries.extend(tcpto::entries(&table, fam));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut text = String::new();
    for e in &entries {
        text.push_str(&format!(
            "{} timed out {} seconds ago; # recent timeouts: {}\n",
            ip::text(e.ip),
            e.age(now),
            e.count
        ));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
