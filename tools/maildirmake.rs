//! maildirmake — create a Maildir.
//!
//! Usage:    maildirmake dir
//! Exit:     0 created; 100 usage; 111 any failure (including `dir` already existing).
//! Runs as:  the user who will own the Maildir.  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §10.8; formats.md §5

use qlib::fail::{Fail, OrFail as _};
use qlib::{args, prog, sys};
use std::ffi::OsString;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "maildirmake name";

fn main() -> ExitCode {
    prog::main("maildirmake", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let dir = PathBuf::from(args::exactly(args::none(argv), 1, USAGE)?.remove(0));
    sys::fs::umask(0o077);
    let mut b = std::fs::DirBuilder::new();
    b.mode(0o700);
    b.create(&dir)
        .or_temp(&format!("unable to mkdir {}", dir.display()))?;
    for sub in ["tmp", "new", "cur"] {
        let p = dir.join(sub);
        b.create(&p)
            .or_temp(&format!("unable to mkdir {}", p.display()))?;
    }
    Ok(0)
}
