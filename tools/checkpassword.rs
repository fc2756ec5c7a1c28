//! checkpassword — check a login and password against the system's accounts, then run a
//! program as that user (djb's checkpassword 0.90 interface, with Dovecot's conventions).
//!
//! Usage:    checkpassword prog [ arg ... ]
//! Options:  none.
//! Input:    fd 3, read to EOF and then closed: `login\0password\0timestamp\0`, at most 512
//!           bytes. The timestamp, and anything after it, may be missing; a non-empty one
//!           (an APOP or CRAM challenge) is ignored: a crypt hash cannot verify a digest, so
//!           APOP and CRAM-MD5 logins fail (exit 1), as with djb's.
//! Check:    the account from getpwnam_r, its hash from getspnam_r (the passwd field when the
//!           shadow database has no entry), hashed with the system's crypt(3), loaded at run
//!           time from libcrypt.so.1 (libxcrypt: yescrypt, SHA-512, SHA-256, MD5, DES…), and
//!           compared in constant time. An empty hash, or a locked one (`!` or `*` first),
//!           never matches.
//! Success:  initgroups (all the user's groups), setgid, setuid; chdir to the home
//!           directory; `USER`, `HOME`, `SHELL` set from the account (replacing inherited
//!           values; everything else is inherited); prog exec'd, searched in PATH.
//! Dovecot:  when `AUTHORIZED`, `CREDENTIALS_LOOKUP` or `MASTER_USER` is set, or
//!           `CHECKPASSWORD_DOVECOT=1`: exit 3 for an unknown user; no initgroups, setuid or
//!           chdir: `userdb_uid`, `userdb_gid`, `userdb_home` are set and their names
//!           appended to `EXTRA` (space-separated) for Dovecot's checkpassword-reply.
//!           `AUTHORIZED=1` looks the user up without a password and sets `AUTHORIZED=2`.
//!           `CREDENTIALS_LOOKUP=1` asks for the plain credentials, which a hash cannot
//!           give: exit 1, nothing printed (configure Dovecot to verify passwords instead).
//!           `MASTER_USER` only selects the mode: the password checked is the login's.
//!           `SERVICE`, `TCPLOCALIP`, `TCPREMOTEIP` are inherited.
//! Environment: read: `AUTHORIZED`, `CREDENTIALS_LOOKUP`, `MASTER_USER`,
//!           `CHECKPASSWORD_DOVECOT`, `EXTRA`, `PATH`. Set: `USER`, `HOME`, `SHELL`; in
//!           Dovecot's mode also `userdb_uid`, `userdb_gid`, `userdb_home`, `EXTRA`,
//!           `AUTHORIZED`.
//! Exit:     (prog exec'd) accepted; 1 bad password, unknown user (djb's mode), empty or
//!           locked hash, more than 512 bytes on fd 3, APOP/CRAM, a credentials lookup, or
//!           setgroups/setgid/setuid failed; 2 no prog, or malformed input (no NUL after
//!           the login or after the password; empty input); 3 unknown user (Dovecot's mode);
//!           111 fd 3 unreadable, the password or shadow database failed (any error other
//!           than "not found": EIO, ETXTBSY, EACCES…), libcrypt.so.1 cannot be loaded,
//!           crypt ran out of memory, chdir failed, or prog could not be run. Only 111 says
//!           why, on fd 2 (`checkpassword: fatal: …`); no input is ever printed.
//! Runs as:  root, under qmail-popup (or Dovecot's auth process, or an SMTP AUTH patch).
//!           Trusts: its environment, as djb's trusts PATH: `AUTHORIZED=1` skips the
//!           password check, so only a caller such as Dovecot may set it.
//! Differs from djb's: all the user's groups (initgroups), not the primary group alone;
//!           any lookup failure is 111 (djb: only ETXTBSY); no shadow entry falls back to
//!           the passwd field (djb: 1); locked hashes are refused without calling crypt;
//!           constant-time comparison, and an unknown user's password hashed all the same
//!           (the time taken does not tell the two apart); the password is wiped; the
//!           Dovecot mode; messages for 111.
//! Spec:     shared/spec/addons.md §1; decisions.md "checkpassword under Dovecot";
//!           qmail.md §9.1.

use qlib::checkpw::{self, Input, Mode};
use qlib::envedit::Edits;
use qlib::exit::checkpw::{BAD, MISUSE, NOUSER};
use qlib::fail::{Fail, OrFail as _};
use qlib::sys::{crypt, fd, id};
use qlib::{args, env, errtext, prog, prot};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::ffi::OsStrExt as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("checkpassword", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let program = args::none(argv);
    if program.is_empty() {
        return Err(Fail::silent(MISUSE));
    }
    let fd3 = fd::inherited(3).ok_or_else(|| Fail::temp("unable to read fd 3: not open"))?;
    let input = Input::read(File::from(fd3)).or_temp("unable to read fd 3")?;
    if input.oversized() {
        return Err(Fail::silent(BAD));
    }
    let fields = input.fields().ok_or(Fail::silent(MISUSE))?;
    let (dovecot, lookup, credentials) = match checkpw::mode(env::get) {
        Mode::Djb => (false, false, false),
        Mode::Dovecot {
            lookup,
            credentials,
        } => (true, lookup, credentials),
    };
    let Some(pw) = id::getpwnam(fields.login).or_temp("unable to read the password database")?
    else {
        // An unknown login costs a hash too, so that the time taken does not tell an
        // unknown user from a wrong password.
        if !lookup {
            let _ = hash(fields.password, DUMMY);
        }
        return Err(Fail::silent(if dovecot { NOUSER } else { BAD }));
    };
    if credentials || (!lookup && !verify(fields.password, &pw)?) {
        return Err(Fail::silent(BAD));
    }
    drop(input);
    let mut edits = Edits::new();
    checkpw::login_env(&mut edits, &pw);
    if dovecot {
        checkpw::dovecot_env(&mut edits, &pw, env::get("EXTRA").as_deref(), lookup);
    } else {
        prot::login(&pw.name, pw.uid, pw.gid).or_code(BAD)?;
        std::env::set_current_dir(OsStr::from_bytes(&pw.dir))
            .or_temp("unable to chdir to the home directory")?;
    }
    let e = edits.exec(&program);
    Err(Fail::temp(format!(
        "unable to run {}: {}",
        program[0].to_string_lossy(),
        errtext::text(&e)
    )))
}

/// Whether `password` matches the account's stored hash.
fn verify(password: &[u8], pw: &id::Passwd) -> Result<bool, Fail> {
    let stored = id::getspnam(&pw.name)
        .or_temp("unable to read the shadow password database")?
        .unwrap_or_else(|| pw.passwd.clone());
    checkpw::verify(password, &stored, hash)
}

/// A setting of the kind Debian gives new passwords (yescrypt), hashed in place of an
/// unknown user's.
const DUMMY: &[u8] = b"$y$j9T$rqmailcheckpassw";

fn hash(phrase: &[u8], setting: &[u8]) -> Result<Option<Vec<u8>>, Fail> {
    let lib =
        crypt::load(c"libcrypt.so.1").map_err(|_| Fail::temp("unable to load libcrypt.so.1"))?;
    lib.hash(phrase, setting)
        .or_temp("unable to hash the password")
}
