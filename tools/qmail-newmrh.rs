//! qmail-newmrh — compile `control/morercpthosts` into `control/morercpthosts.cdb`.
//!
//! Usage:    qmail-newmrh
//!           reads QMAILHOME/control/morercpthosts (one domain or `.suffix` per line, as in
//!           rcpthosts; trailing blanks removed, lower-cased; empty lines and lines starting
//!           with `#` skipped), writes control/morercpthosts.tmp (umask 033) with each entry
//!           as a key with empty data, fsyncs it, renames it to control/morercpthosts.cdb
//!           and fsyncs control/. qmail-smtpd and qmail-qmtpd read the new table on their
//!           next connection (only while control/rcpthosts exists).
//! Options:  none.
//! Environment: none.
//! Exit:     0 morercpthosts.cdb replaced; 100 usage; 111 cannot chdir to the home, read
//!           morercpthosts, write the temporary file, or rename it (morercpthosts.cdb is
//!           left as it was, morercpthosts.tmp is removed).
//! Runs as:  root (mode 0700).  Trusts: control/morercpthosts, which only root can write.
//! Spec:     shared/spec/qmail.md §6.2 (morercpthosts), §4.3 (cdb)

use qlib::cdbmake::Make;
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, conf, prog, sys};
use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "qmail-newmrh";
const TMP: &str = "control/morercpthosts.tmp";

fn main() -> ExitCode {
    prog::main("qmail-newmrh", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    sys::fs::umask(0o033);
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    let text =
        std::fs::read("control/morercpthosts").or_temp("unable to read control/morercpthosts")?;
    let written = write(&text);
    if written.is_err() {
        let _ = std::fs::remove_file(TMP);
    }
    written.map(|()| 0)
}

/// The keys: each line without trailing blanks, lower-cased, unless empty or a comment.
fn keys(text: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    text.split(|&c| c == b'\n').filter_map(|l| {
        let end = l
            .iter()
            .rposition(|&c| !matches!(c, b' ' | b'\t'))
            .map_or(0, |i| i + 1);
        let l = &l[..end];
        (!l.is_empty() && l[0] != b'#').then(|| l.to_ascii_lowercase())
    })
}

fn write(text: &[u8]) -> Result<(), Fail> {
    let what = "unable to write to control/morercpthosts.tmp";
    let file = File::create(TMP).or_temp(what)?;
    let mut m = Make::new(file).or_temp(what)?;
    for k in keys(text) {
        m.add(&k, b"").or_temp(what)?;
    }
    let file = m.finish().or_temp(what)?;
    file.sync_all().or_temp(what)?;
    drop(file);
    std::fs::rename(TMP, "control/morercpthosts.cdb")
        .or_temp("unable to move control/morercpthosts.tmp to control/morercpthosts.cdb")?;
    qlib::fsync_dir(Path::new("control")).or_temp("unable to fsync control")
}
