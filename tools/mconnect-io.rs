//! mconnect-io — the terminal side of mconnect: talk to a server on fd 6/7.
//!
//! Usage:    mconnect-io   (under tcpclient, which puts the connection on fd 6 and fd 7)
//! A forked child copies fd 0 to fd 7, writing CR LF for every LF; the parent copies fd 6 to
//! fd 1 unchanged. When the server closes the connection the parent kills the child and exits.
//! Exit:     0 when the server closed; 111 if the fork fails or fd 6 cannot be read or fd 1
//!           written.
//! Runs as:  any user.  Trusts: nothing (server bytes are shown as they come).
//! Spec:     shared/spec/ucspi.md §7.5

use qlib::crlf;
use qlib::fail::{Fail, OrFail as _};
use qlib::prog;
use qlib::sys::{fd, proc, sig};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("mconnect-io", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    let not_open = || io::Error::from_raw_os_error(9);
    let mut net_in = File::from(
        fd::inherited(6)
            .ok_or_else(not_open)
            .or_temp("unable to read network")?,
    );
    let mut net_out = File::from(
        fd::inherited(7)
            .ok_or_else(not_open)
            .or_temp("unable to write network")?,
    );
    let Some(child) = proc::fork().or_temp("unable to fork")? else {
        drop(net_in);
        return to_server(&mut net_out);
    };
    drop(net_out);
    let r = from_server(&mut net_in);
    let _ = sig::kill(child, sig::SIGTERM);
    r
}

/// The child: fd 0 to the server, LF → CR LF.
fn to_server(net: &mut File) -> Result<u8, Fail> {
    let (mut input, mut buf, mut out) = (io::stdin().lock(), vec![0u8; 8192], Vec::new());
    loop {
        let n = match input.read(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => r.or_temp("unable to read input")?,
        };
        if n == 0 {
            return Ok(0);
        }
        out.clear();
        crlf::addcr(&buf[..n], &mut out);
        net.write_all(&out).or_temp("unable to write network")?;
    }
}

/// The parent: the server's bytes to fd 1, until it closes.
fn from_server(net: &mut File) -> Result<u8, Fail> {
    let (mut output, mut buf) = (io::stdout().lock(), vec![0u8; 8192]);
    loop {
        let n = match net.read(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => r.or_temp("unable to read network")?,
        };
        if n == 0 {
            return Ok(0);
        }
        output
            .write_all(&buf[..n])
            .or_temp("unable to write output")?;
        output.flush().or_temp("unable to write output")?;
    }
}
