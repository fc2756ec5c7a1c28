//! qmail-newu — compile `users/assign` into `users/cdb`, the table qmail-lspawn reads.
//!
//! Usage:    qmail-newu
//!           reads QMAILHOME/users/assign, writes users/cdb.tmp (umask 033), fsyncs it,
//!           renames it to users/cdb and fsyncs users/.
//! Options:  none.
//! Environment: none.
//! Exit:     0 users/cdb replaced; 100 usage; 111 bad format in users/assign, or any read or
//!           write failure (users/cdb is left as it was, users/cdb.tmp is removed).
//! Runs as:  root (mode 0700).  Trusts: users/assign, which only root can write.
//! Spec:     shared/spec/qmail.md §4.2

use qlib::cdbmake::Make;
use qlib::fail::{Fail, OrFail as _};
use qlib::users::{self, BadFormat};
use qlib::{args, conf, prog, sys};
use std::ffi::OsString;
use std::fs::File;
use std::io::Read as _;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "qmail-newu";
const TMP: &str = "users/cdb.tmp";

fn main() -> ExitCode {
    prog::main("qmail-newu", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    sys::fs::umask(0o033);
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    let mut assign = Vec::new();
    File::open("users/assign")
        .or_temp("unable to open users/assign")?
        .read_to_end(&mut assign)
        .or_temp("unable to read users/assign")?;
    let records = users::compile(&assign).map_err(|BadFormat(line)| {
        Fail::temp(format!("bad format in users/assign: line {line}"))
    })?;
    let written = write(&records);
    if written.is_err() {
        let _ = std::fs::remove_file(TMP);
    }
    written.map(|()| 0)
}

fn write(records: &[users::Record]) -> Result<(), Fail> {
    let file = File::create(TMP).or_temp("unable to open users/cdb.tmp")?;
    let what = "unable to write users/cdb.tmp";
    let mut m = Make::new(file).or_temp(what)?;
    for (k, d) in records {
        m.add(k, d).or_temp(what)?;
    }
    let file = m.finish().or_temp(what)?;
    file.sync_all().or_temp(what)?;
    drop(file);
    std::fs::rename(TMP, "users/cdb").or_temp("unable to move users/cdb.tmp to users/cdb")?;
    qlib::fsync_dir(Path::new("users")).or_temp("unable to fsync users")
}
