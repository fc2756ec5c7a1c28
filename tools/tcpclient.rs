//! tcpclient — connect to a TCP server and run a program with the connection on fd 6 and 7.
//!
//! Usage:    tcpclient [ -46hHrRdDqQv ] [ -i localip ] [ -p localport ] [ -T timeoutconn ]
//!           [ -l localname ] [ -t timeoutinfo ] host port program [ arg ... ]
//! Options:  -T x+y  connect timeouts: x seconds per address, then y seconds for each address
//!                   that timed out (one address: x+y at once); default 2+58.
//!           -i ip   connect from this local address; -p port  from this local port.
//!           -d/-D   Nagle on (default) / TCP_NODELAY.  -h/-H  look up TCPREMOTEHOST or not.
//!           -l name TCPLOCALHOST=name, no lookup.  -r/-R  ident query or not; -t n its timeout.
//!           -q/-Q/-v  nothing / errors (default) / errors and `connected to` on stderr.
//!           -4/-6   IPv4 / IPv6 addresses only (default: IPv4 then IPv6).
//!           A host name is looked up (A, then AAAA records; no search-list qualification)
//!           and every address is tried in the order of the answers.
//!           Options are getopt's: bundled (`-RHl0`), ending at `--` or the first operand.
//!           host `0` or empty is 127.0.0.1; IPv6 literals are allowed; port is a number or a
//!           tcp name from /etc/services.
//! Environment: reads DNSCACHEIP (else /etc/resolv.conf) for lookups. Sets PROTO, TCPLOCALPORT, TCPLOCALIP, TCPLOCALHOST, TCPREMOTEPORT,
//!           TCPREMOTEIP, TCPREMOTEHOST, TCPREMOTEINFO (PROTO=TCP6 and TCP6* twins for IPv6);
//!           an unknown name or failed ident query removes its variable.
//! Exit:     100 usage; 111 no address connected, or any setup or exec failure; otherwise the
//!           program's own (it is exec'd, with fds 0, 1, 2 untouched and 6/7 the socket).
//! Runs as:  any user.  Trusts: nothing from the network (names and ident text are passed on).
//! Spec:     shared/spec/ucspi.md §1, §5

use qlib::dns::{DnsError, Resolver};
use qlib::fail::{Fail, OrFail as _};
use qlib::sys::net::{self, Stage};
use qlib::sys::{fd, sig};
use qlib::tcpclient::{self as tc, Bad, Config, Family};
use qlib::tcpenv::{self, Conn};
use qlib::{errtext, ident, ip, prog};
use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "tcpclient [ -46hHrRdDqQv ] [ -i localip ] [ -p localport ] \
[ -T timeoutconn ] [ -l localname ] [ -t timeoutinfo ] host port program";

fn main() -> ExitCode {
    prog::main("tcpclient", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let (cfg, rest) = tc::parse(&argv).map_err(|b| {
        match b {
            Bad::Illegal(c) => prog::say(&format!("illegal option -- {}", c as char)),
            Bad::NeedsArg(c) => prog::say(&format!("option requires an argument -- {}", c as char)),
            Bad::Usage => {}
        }
        Fail::usage(USAGE)
    })?;
    // -q: from here on nothing is printed (djb closes the error output).
    let quiet = cfg.verbosity == 0;
    connect_and_exec(&cfg, &rest).map_err(|f| if quiet { Fail::silent(f.code) } else { f })
}

fn connect_and_exec(cfg: &Config, rest: &[OsString]) -> Result<u8, Fail> {
    fd::close_raw(6);
    fd::close_raw(7);
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let host = rest.first().ok_or_else(|| Fail::usage(USAGE))?;
    let port_arg = rest.get(1).ok_or_else(|| Fail::usage(USAGE))?;
    let services = std::fs::read("/etc/services").unwrap_or_default();
    let port = tc::port(tc::bytes(port_arg), &services).ok_or_else(|| {
        Fail::temp(format!(
            "unable to figure out port number for {}",
            port_arg.to_string_lossy()
        ))
    })?;
    let program = rest
        .get(2..)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Fail::usage(USAGE))?;
    let addrs = addresses(tc::bytes(host), cfg)?;
    let stream = connect(cfg, &addrs, port)?.ok_or(Fail::silent(111))?;
    if cfg.nodelay {
        let _ = stream.set_nodelay(true);
    }
    let local = stream.local_addr().or_temp("unable to get local address")?;
    let remote = stream.peer_addr().or_temp("unable to get remote address")?;
    if cfg.verbosity >= 2 {
        prog::say(&format!(
            "connected to {} port {}",
            tcpenv::ip_text(&remote),
            remote.port()
        ));
    }
    let conn = Conn {
        local,
        remote,
        local_host: match &cfg.local_name {
            Some(n) => Some(n.clone()),
            None => name_of(local.ip()),
        },
        remote_host: cfg.remote_host.then(|| name_of(remote.ip())).flatten(),
        remote_info: cfg
            .ident
            .then(|| ident::query(local, remote, Duration::from_secs(cfg.ident_timeout), 256))
            .flatten(),
    };
    exec(&stream, &tcpenv::edits(&conn), program)
}

/// The addresses to try: a literal, or the host's IPv4 then IPv6 addresses from DNS.
fn addresses(host: &[u8], cfg: &Config) -> Result<Vec<IpAddr>, Fail> {
    let text = String::from_utf8_lossy(host);
    let mut found = Vec::new();
    let mut soft = None;
    match tc::literal(host) {
        Some(ip) => found.push(ip),
        None => {
            let r = Resolver::from_env().or_temp("unable to read the DNS configuration")?;
            if cfg.family != Family::V6 {
                match r.ip4(host) {
                    Ok(v) => found.extend(v.into_iter().map(IpAddr::V4)),
                    Err(DnsError::Soft(e)) => soft = Some(e),
                    Err(DnsError::Hard) => {}
                }
            }
            if cfg.family != Family::V4 {
                match r.ip6(host) {
                    Ok(v) => found.extend(v.into_iter().map(IpAddr::V6)),
                    Err(DnsError::Soft(e)) => soft = soft.or(Some(e)),
                    Err(DnsError::Hard) => {}
                }
            }
        }
    }
    found.retain(|ip| tc::allowed(cfg.family, ip));
    match soft {
        Some(e) if found.is_empty() => Err(Fail::temp(format!(
            "temporarily unable to figure out IP address for {text}: {e}"
        ))),
        _ if found.is_empty() => Err(Fail::temp(format!("no IP address for {text}"))),
        _ => Ok(found),
    }
}

/// The host name of `ip` from DNS, lower-cased; `None` if there is none or DNS fails.
fn name_of(ip: IpAddr) -> Option<Vec<u8>> {
    let name = Resolver::from_env().ok()?.ptr(ip).ok()??;
    Some(tcpenv::lower(&name))
}

fn connect(cfg: &Config, addrs: &[IpAddr], port: u16) -> Result<Option<TcpStream>, Fail> {
    let from = |to: IpAddr| match (cfg.local_ip, cfg.local_port, to) {
        (Some(ip), p, _) => Some(SocketAddr::new(ip, p)),
        (None, 0, _) => None,
        (None, p, IpAddr::V4(_)) => Some(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), p)),
        (None, p, IpAddr::V6(_)) => Some(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), p)),
    };
    let attempt =
        |to: IpAddr, t: Duration| match net::connect_staged(SocketAddr::new(to, port), from(to), t)
        {
            Ok(s) => Ok(Ok(s)),
            Err((Stage::Connect, e)) => Ok(Err(e)),
            Err((Stage::Socket, e)) => Err(e).or_temp("unable to create socket"),
            Err((Stage::Bind, e)) => Err(e).or_temp("unable to bind socket"),
        };
    let warn = |to: IpAddr, e: &std::io::Error| {
        if cfg.verbosity >= 1 {
            prog::say(&format!(
                "unable to connect to {} port {port}: {}",
                ip::text(to),
                errtext::text(e)
            ));
        }
    };
    Ok(tc::rounds(addrs, cfg.timeouts, attempt, warn)?.map(|(_, s)| s))
}

fn exec(
    stream: &TcpStream,
    edits: &qlib::envedit::Edits,
    program: &[OsString],
) -> Result<u8, Fail> {
    let s = stream.as_raw_fd();
    let e = match fd::dup2(s, 6).and_then(|()| fd::dup2(s, 7)) {
        Ok(()) => edits.exec(program),
        Err(e) => e,
    };
    Err(Fail::temp(format!(
        "unable to run {}: {}",
        program[0].to_string_lossy(),
        errtext::text(&e)
    )))
}
