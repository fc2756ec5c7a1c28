//! qmail-getpw — find the account, dash and extension for a local part from the password
//! database, for qmail-lspawn when `users/cdb` has no answer.
//!
//! Usage:    qmail-getpw local
//!           prints `user\0uid\0gid\0home\0dash\0ext\0`. Tries the longest prefix of `local`
//!           ending at its end or before a break character (conf break), lowercased, as an
//!           account name: uid not 0, home directory owned by the account. No match: the
//!           alias account, dash `-`, the whole local part as the extension.
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed; 100 no argument; 115 a home directory could not be stat'ed for a
//!           temporary reason; 116 no alias account; 118 the password database failed;
//!           111 the output could not be written. Prints nothing on failure.
//! Runs as:  qmailp, gid nofiles (qmail-lspawn drops to it).  Trusts: the password database.
//! Spec:     shared/spec/qmail.md §4.4

use qlib::conf::{self, User};
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, getpw, prog, sys};
use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("qmail-getpw", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let words = args::none(argv);
    let Some(local) = words.first() else {
        return Err(Fail::silent(getpw::code::USAGE));
    };
    let found = getpw::find(
        local.as_bytes(),
        conf::break_char(),
        conf::user_name(User::Alias).as_bytes(),
        sys::id::getpwnam,
        |dir| std::fs::metadata(OsStr::from_bytes(dir)).map(|m| m.uid()),
    )
    .map_err(Fail::silent)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&getpw::output(&found))
        .and_then(|()| out.flush())
        .or_code(qlib::exit::TEMP)?;
    Ok(0)
}
