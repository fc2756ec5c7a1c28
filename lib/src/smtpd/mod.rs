//! qmail-smtpd's logic (qmail-smtpd.c): the command reader ([`input`]), address parsing
//! ([`addr`]), the DATA state machine ([`data`]) and the conversation ([`session`]); here,
//! reading the controls and environment it starts from.

pub mod addr;
pub mod data;
pub mod input;
pub mod session;

use crate::child::{self, Wait};
use crate::control::{self, Map};
use crate::rcpthosts::RcptHosts;
use crate::received::Peer;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Why the server cannot start.
#[derive(Debug)]
pub enum Startup {
    /// a control file is unreadable, or neither `smtpgreeting` nor `me` exists
    Controls(io::Error),
}

/// The controls and environment, read from the qmail home (the current directory): the
/// session's [`session::Config`] and the per-read/write timeout in seconds.
pub fn load() -> Result<(session::Config, u64), Startup> {
    let c = Startup::Controls;
    let me = control::line("control/me").map_err(c)?;
    let greeting = match control::line("control/smtpgreeting").map_err(c)? {
        Some(g) => g,
        None => me
            .clone()
            .ok_or_else(|| c(io::ErrorKind::NotFound.into()))?,
    };
    let liphost = control::line("control/localiphost").map_err(c)?.or(me);
    let timeout = control::int("control/timeoutsmtpd", 1200)
        .map_err(c)?
        .max(1);
    let rcpthosts = RcptHosts::open(Path::new(".")).map_err(c)?;
    let badmailfrom = control::list("control/badmailfrom").map_err(c)?;
    let mut databytes = control::int("control/databytes", 0).map_err(c)?;
    if let Some(d) = crate::env::get("DATABYTES") {
        databytes = crate::scan::ulong(&d).0;
    }
    let cfg = session::Config {
        greeting,
        liphost: liphost.map(addr::LocalIp::new),
        rcpthosts,
        badmailfrom: badmailfrom.map(|l| Map::new(&l, false)),
        databytes,
        relayclient: crate::env::get("RELAYCLIENT"),
        peer: Peer::from_env(),
        rcptcheck: crate::env::get("RCPTCHECK")
            .filter(|p| !p.is_empty())
            .map(rcptcheck),
    };
    Ok((cfg, timeout))
}

/// The `RCPTCHECK` program as a check: run directly (no shell) with the address as its one
/// argument, stdin and stdout on /dev/null (never the client's connection), stderr and the
/// environment inherited.
fn rcptcheck(program: Vec<u8>) -> session::RcptCheck {
    Box::new(move |addr| {
        let mut c = Command::new(OsStr::from_bytes(&program));
        c.arg(OsStr::from_bytes(addr))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        match child::run(&mut c) {
            Ok(Wait::Exited(n)) => Some(n),
            _ => None,
        }
    })
}
