//! tcp-env — set up the TCP environment from the socket on fd 0 and run a program.
//!
//! Usage:    tcp-env [ -rR ] [ -t timeout ] program [ arg ... ]
//! Options:  -r  ident query for TCPREMOTEINFO (default); -R  none.
//!           -t n  ident timeout in seconds (default 30). Unknown options are ignored, as
//!           qmail's tcp-env does.
//! Environment: if PROTO is already TCP (or TCP6), execs the program untouched. Otherwise
//!           reads DNSCACHEIP (else /etc/resolv.conf) for PTR lookups and sets PROTO=TCP,
//!           TCPLOCALPORT, TCPLOCALIP, TCPLOCALHOST, TCPREMOTEPORT, TCPREMOTEIP, TCPREMOTEHOST
//!           (PTR names, lower-cased; `softdnserror` on a temporary DNS failure; removed when
//!           there is none) and TCPREMOTEINFO (removed unless the ident query
//!           succeeded). An IPv6 socket gets PROTO=TCP6 and TCP6* twins (ucspi.md §1.4).
//! Exit:     111, silently, on any failure (fd 0 not a socket, no program, exec failure);
//!           otherwise the program's own.
//! Runs as:  qmaild, under inetd or tcpserver.  Trusts: nothing from the network.
//! Spec:     shared/spec/qmail.md §7.5; ucspi.md §1.3, §1.4

use qlib::dns::{DnsError, Resolver};
use qlib::envedit::Edits;
use qlib::fail::{Fail, OrFail as _};
use qlib::getopt::{self, Getopt, Opt};
use qlib::tcpenv::{self, Conn};
use qlib::{ident, prog, scan};
use std::ffi::OsString;
use std::net::{IpAddr, TcpStream};
use std::os::fd::AsFd;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    prog::main("tcp-env", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let (mut flag_ident, mut timeout) = (true, 30);
    let mut g = Getopt::new(&argv, "rRt:");
    while let Some(o) = g.next_opt() {
        match o {
            Opt::Found(b'r', _) => flag_ident = true,
            Opt::Found(b'R', _) => flag_ident = false,
            Opt::Found(b't', Some(v)) => timeout = scan::ulong(&v).0,
            // As the original: said, and otherwise ignored.
            Opt::Bad(c) => getopt::complain("rRt:", c),
            Opt::Found(..) => {}
        }
    }
    let program = g.rest();
    if program.is_empty() {
        return Err(Fail::silent(111));
    }
    let mut edits = Edits::new();
    let proto = std::env::var_os("PROTO");
    if !matches!(
        proto.as_ref().and_then(|p| p.to_str()),
        Some("TCP" | "TCP6")
    ) {
        let sock = std::io::stdin().as_fd().try_clone_to_owned().or_code(111)?;
        let sock = TcpStream::from(sock);
        let local = sock.local_addr().or_code(111)?;
        let remote = sock.peer_addr().or_code(111)?;
        let r = Resolver::from_env().or_code(111)?;
        let conn = Conn {
            local,
            remote,
            local_host: name_of(&r, local.ip()),
            remote_host: name_of(&r, remote.ip()),
            remote_info: flag_ident
                .then(|| ident::query(local, remote, Duration::from_secs(timeout), 998))
                .flatten(),
        };
        edits = tcpenv::edits(&conn);
    }
    // Silent, as qmail's: under inetd fd 2 may be the connection itself.
    let _ = edits.exec(&program);
    Err(Fail::silent(111))
}

/// The PTR name of `ip`, lower-cased; `softdnserror` on a temporary failure.
fn name_of(r: &Resolver, ip: IpAddr) -> Option<Vec<u8>> {
    match r.ptr(ip) {
        Ok(name) => name.map(|n| tcpenv::lower(&n)),
        Err(DnsError::Soft(_)) => Some(b"softdnserror".to_vec()),
        Err(DnsError::Hard) => None,
    }
}
