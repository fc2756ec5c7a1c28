//! qmail-rcptcheck — say whether this host would take mail for an address, before accepting it.
//!
//! Usage:    qmail-rcptcheck address      (run by qmail-smtpd for each RCPT when RCPTCHECK
//!           names it; prints nothing)
//! Options:  none: the one argument is the address, even if it starts with `-`.
//! Decides:  as the delivery path would, reading only local files (no DNS, nothing is
//!           delivered). The domain: qmail-send's rewriting with control/envnoathost (else
//!           me), percenthack, locals (else me) and virtualdomains; a domain that is neither
//!           local nor virtual is not this host's to judge. The account: users/cdb (`=` then
//!           `+` wildcard entries), else qmail-getpw's rules (the longest prefix before a
//!           break character naming a password entry with uid not 0 and a home it owns; else
//!           the alias account with the whole local part as the extension). The `.qmail`
//!           file, as qmail-local picks it in the home: `.qmail-ext`, then `.qmail-…-default`
//!           up the extension, then `.qmail-default`; without an extension `.qmail` or the
//!           default delivery. When the chosen file's first delivery is `|fastforward
//!           [ -nNpPdD ] file.cdb` (or `|…/fastforward …`) without -p, the address
//!           fastforward would see ($DEFAULT@$HOST with -d, the default; the recipient with
//!           -D) is looked up in file.cdb (relative to the home) as fastforward does,
//!           `address`, `@domain`, `local@`.
//! Files:    control/me, envnoathost, percenthack, locals, virtualdomains and users/cdb under
//!           the qmail home; password entries; the account's home, `.qmail` files and the
//!           fastforward database.
//! Environment: none.
//! Exit:     0 delivery would be attempted, or the address is not local, or it cannot be
//!           judged from here: a home or `.qmail` file it may not read, a fastforward
//!           database it may not open, a home or `.qmail` that would defer the delivery
//!           (writable, sticky), a first line that is not plain `fastforward`, or -p;
//!           100 local delivery would bounce it with "no mailbox here by that name": an
//!           extension without a matching `.qmail` file, or an address missing from the
//!           fastforward database; 111 it cannot tell now: the controls or users/cdb cannot
//!           be read, the password database fails, no alias account, the fastforward
//!           database is missing or unreadable, or usage (not one argument: never a refusal).
//! Runs as:  qmaild, under qmail-smtpd (one process per RCPT).  Trusts: the controls, users/cdb
//!           and the password database; the address is hostile and is only looked up.
//! Spec:     shared/spec/qmail.md §3.8, §4.2, §4.4, §4.7; addons.md §2.2. Beyond qmail (the
//!           qmail-rcptcheck idea of decisions.md, "Names"): see qlib::rcptcheck.

use qlib::cdb::Cdb;
use qlib::conf::{self, User};
use qlib::fail::{Fail, OrFail as _};
use qlib::rcptcheck::{self, Verdict};
use qlib::send::controls;
use qlib::{args, prog, sys};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "qmail-rcptcheck address";

fn main() -> ExitCode {
    prog::main("qmail-rcptcheck", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    let addr = args::exactly(args::none(argv), 1, USAGE)
        .map_err(|f| Fail::with(qlib::exit::TEMP, f.text))?
        .remove(0);
    std::env::set_current_dir(conf::HOME).or_temp("unable to chdir to home")?;
    let rewrite = controls::rewrite(Path::new("control")).or_temp("unable to read controls")?;
    let Some((local, domain)) = rcptcheck::local_target(&rewrite, addr.as_bytes()) else {
        return Ok(0);
    };
    let users = match Cdb::open("users/cdb") {
        Ok(db) => Some(db),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Fail::temp(format!(
                "unable to read users/cdb: {}",
                show(&e)
            )))
        }
    };
    let found = rcptcheck::account(
        users.as_ref(),
        &local,
        conf::break_char(),
        conf::user_name(User::Alias).as_bytes(),
        sys::id::getpwnam,
        |dir| std::fs::metadata(OsStr::from_bytes(dir)).map(|m| m.uid()),
    );
    let verdict = match found {
        Ok(a) => rcptcheck::mailbox(&a, &local, &domain, conf::patrn()),
        Err(v) => v,
    };
    Ok(match verdict {
        Verdict::Unsure(why) => return Err(Fail::temp(why)),
        v => v.code(),
    })
}

fn show(e: &std::io::Error) -> String {
    qlib::errtext::text(e)
}
