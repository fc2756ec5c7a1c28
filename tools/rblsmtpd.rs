//! rblsmtpd — block SMTP clients listed in an RBL, or let them through to the real server.
//!
//! Usage:    rblsmtpd [ -bBcC ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]
//! Options:  Acted on left to right; once a decision exists, later -r/-a do nothing.
//!           -r base  TXT lookup of <reversed client IP>.base; a non-empty answer blocks the
//!                    client with that text.
//!           -a base  A (AAAA for an IPv6 client) lookup of <reversed IP>.base; an address lets
//!                    the client through.
//!           -b / -B  later listings answer 553 / 451 (default 451).
//!           -c / -C  later temporary lookup failures block ("temporary RBL lookup error") /
//!                    let through (default). Either way a failure keeps the code at 451.
//!           -t n     the fake dialogue lasts at most n seconds (default 60); 0: no dialogue,
//!                    the error line alone is written as the greeting.
//!           There is no default list.
//! Environment: RBLSMTPD: unset, look up; empty, let through without lookups; `-text`, block
//!           with 553 text; `text`, block with 451 text. TCPREMOTEIP (TCP6REMOTEIP when
//!           PROTO=TCP6): the client. DNSCACHEIP: resolvers (see qlib::dns).
//!           A blocked client gets the fake SMTP dialogue: 220 greeting, 250 to HELO, EHLO,
//!           MAIL, RSET, NOOP, 221 to QUIT, `<code> <text>` to everything else; text cut to 200
//!           bytes, bytes outside 32–126 shown as `?`. One log line on stderr:
//!           `rblsmtpd: <ip> pid <pid>: <code> <text>`. Otherwise smtpd is run (PATH search)
//!           with the environment and arguments unchanged.
//! Exit:     0 after a dialogue (also on timeout or a write error); 100 usage; 111 smtpd
//!           could not be run. Otherwise whatever smtpd exits with.
//! Runs as:  the SMTP daemon's user, under tcpserver.  Trusts: nothing the client or the DNS
//!           sends (answers parsed strictly; hostile text made printable).
//! Spec:     shared/spec/ucspi.md §6; decisions.md §DNS

use qlib::dns::{DnsError, Resolver};
use qlib::fail::Fail;
use qlib::getopt::{self, Getopt, Opt};
use qlib::rbl::{self, Decision};
use qlib::{env, errtext, exit, prog, scan, sys};
use std::ffi::OsString;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

const USAGE: &str = "rblsmtpd [ -bBcC ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]";

fn main() -> ExitCode {
    prog::main("rblsmtpd", run)
}

/// The client and a resolver made on first use.
struct Client {
    text: Vec<u8>,
    ip: Option<IpAddr>,
    reversed: Vec<u8>,
    resolver: Option<Result<Resolver, String>>,
}

impl Client {
    fn name(&self, base: &[u8]) -> Vec<u8> {
        [&self.reversed[..], base].concat()
    }
    fn resolver(&mut self) -> Result<&Resolver, DnsError> {
        let r = self
            .resolver
            .get_or_insert_with(|| Resolver::from_env().map_err(|e| errtext::text(&e)));
        r.as_ref().map_err(|e| DnsError::Soft(e.clone()))
    }
    fn txt(&mut self, base: &[u8]) -> Result<Vec<Vec<u8>>, DnsError> {
        let q = self.name(base);
        self.resolver()?.txt(&q)
    }
    fn any_address(&mut self, base: &[u8]) -> Result<bool, DnsError> {
        let q = self.name(base);
        match self.ip {
            Some(IpAddr::V6(_)) => self.resolver()?.ip6(&q).map(|v| !v.is_empty()),
            _ => self.resolver()?.ip4(&q).map(|v| !v.is_empty()),
        }
    }
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let text = rbl::remote_ip(
        env::get("PROTO").as_deref(),
        env::get("TCP6REMOTEIP"),
        env::get("TCPREMOTEIP"),
    );
    let mut client = Client {
        ip: rbl::parse_ip(&text),
        reversed: rbl::reversed(&text),
        text,
        resolver: None,
    };
    let mut decision = Decision::from_env(env::get("RBLSMTPD").as_deref());
    let (mut bounce, mut closed, mut timeout) = (false, false, 60u32);
    let mut opts = Getopt::new(&argv, "bBcCt:r:a:");
    while let Some(opt) = opts.next_opt() {
        match opt {
            Opt::Found(b'b', _) => bounce = true,
            Opt::Found(b'B', _) => bounce = false,
            Opt::Found(b'c', _) => closed = true,
            Opt::Found(b'C', _) => closed = false,
            Opt::Found(b't', Some(v)) => {
                timeout = scan::ulong_exact(&v)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| Fail::usage(USAGE))?;
            }
            Opt::Found(b'r', Some(base)) if decision.undecided() => {
                decision.listed(client.txt(&base), bounce, closed);
            }
            Opt::Found(b'a', Some(base)) if decision.undecided() => {
                decision.allowed(client.any_address(&base), closed);
            }
            Opt::Found(b'r' | b'a', _) => {}
            Opt::Bad(c) => {
                getopt::complain("bBcCt:r:a:", c);
                return Err(Fail::usage(USAGE));
            }
            Opt::Found(..) => return Err(Fail::usage(USAGE)),
        }
    }
    let rest = opts.rest();
    let Some(program) = rest.first() else {
        return Err(Fail::usage(USAGE));
    };
    match decision.message() {
        Some(message) => {
            block(&client.text, message, timeout);
            Ok(exit::OK)
        }
        None => {
            let e = Command::new(program).args(&rest[1..]).exec();
            Err(Fail::temp(format!(
                "unable to run {}: {}",
                program.to_string_lossy(),
                errtext::text(&e)
            )))
        }
    }
}

/// Logs the block and holds the client in the fake dialogue (or just says no, with `-t 0`).
fn block(ip: &[u8], message: Vec<u8>, timeout: u32) {
    let ip = String::from_utf8_lossy(&qlib::log::safe(ip)).into_owned();
    prog::say(&format!(
        "{ip} pid {}: {}",
        std::process::id(),
        String::from_utf8_lossy(&message)
    ));
    let reply = [&message[..], b"\r\n"].concat();
    let mut out = std::io::stdout().lock();
    if timeout == 0 {
        let _ = out.write_all(&reply).and_then(|()| out.flush());
        return;
    }
    // When the time is up the client is simply dropped, as any write error drops it.
    let _ = sys::sig::exit_on(sys::sig::SIGALRM, 0);
    sys::sig::alarm(timeout);
    let _ = rbl::dialogue(&mut std::io::stdin().lock(), &mut out, &reply);
}
