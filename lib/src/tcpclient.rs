//! tcpclient's logic (ucspi.md §5): its options (getopt semantics, djb's number scanning), the
//! host and port arguments, and the two connect rounds of `-T x+y` (tcpclient.c).

use crate::getopt::{Getopt, Opt};
use crate::scan;
use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

/// tcpclient's getopt string.
pub const OPTS: &str = "46dDvqQhHrRi:p:t:T:l:";

/// Which address families to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4 addresses first, then IPv6 ones
    Any,
    /// `-4`: IPv4 only
    V4,
    /// `-6`: IPv6 only
    V6,
}

/// The settings the options make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `-T x+y`: seconds per address in the first and the second round
    pub timeouts: (u64, u64),
    /// `-i`
    pub local_ip: Option<IpAddr>,
    /// `-p` (0: any)
    pub local_port: u16,
    /// `-D`
    pub nodelay: bool,
    /// `-h` (default) / `-H`
    pub remote_host: bool,
    /// `-l name`
    pub local_name: Option<Vec<u8>>,
    /// `-r` (default) / `-R`
    pub ident: bool,
    /// `-t`, seconds
    pub ident_timeout: u64,
    /// 0 `-q`, 1 `-Q` (default), 2 `-v`
    pub verbosity: u8,
    /// `-4` / `-6`
    pub family: Family,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            timeouts: (2, 58),
            local_ip: None,
            local_port: 0,
            nodelay: false,
            remote_host: true,
            local_name: None,
            ident: true,
            ident_timeout: 26,
            verbosity: 1,
            family: Family::Any,
        }
    }
}

/// Why the options were refused (each ends in the usage message, exit 100).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bad {
    /// a letter not in [`OPTS`]: `illegal option -- x`
    Illegal(u8),
    /// an option without its value: `option requires an argument -- x`
    NeedsArg(u8),
    /// a value that does not parse (`-i` not an address)
    Usage,
}

/// Parses the options of `argv` (program name first); returns them and the operands.
pub fn parse(argv: &[OsString]) -> Result<(Config, Vec<OsString>), Bad> {
    let mut c = Config::default();
    let mut g = Getopt::new(argv, OPTS);
    while let Some(o) = g.next_opt() {
        let (letter, value) = match o {
            Opt::Found(l, v) => (l, v.unwrap_or_default()),
            Opt::Bad(l) if OPTS.as_bytes().windows(2).any(|w| w == [l, b':']) => {
                return Err(Bad::NeedsArg(l))
            }
            Opt::Bad(l) => return Err(Bad::Illegal(l)),
        };
        let num = || scan::ulong(&value).0;
        match letter {
            b'4' => c.family = Family::V4,
            b'6' => c.family = Family::V6,
            b'd' => c.nodelay = false,
            b'D' => c.nodelay = true,
            b'q' => c.verbosity = 0,
            b'Q' => c.verbosity = 1,
            b'v' => c.verbosity = 2,
            b'h' => c.remote_host = true,
            b'H' => c.remote_host = false,
            b'r' => c.ident = true,
            b'R' => c.ident = false,
            b'i' => c.local_ip = Some(crate::ip::parse(&value).ok_or(Bad::Usage)?),
            b'p' => c.local_port = num() as u16,
            b't' => c.ident_timeout = num(),
            b'T' => c.timeouts = timeouts(&value),
            _ => c.local_name = Some(value),
        }
    }
    Ok((c, g.rest()))
}

/// `-T x+y` as djb scans it: leading digits, an optional `+`, leading digits (missing = 0).
pub fn timeouts(v: &[u8]) -> (u64, u64) {
    let (x, n) = scan::ulong(v);
    let rest = &v[n..];
    let rest = rest.strip_prefix(b"+").unwrap_or(rest);
    (x, scan::ulong(rest).0)
}

/// The host argument when it is a literal: `0` and the empty string mean 127.0.0.1.
pub fn literal(host: &[u8]) -> Option<IpAddr> {
    match host {
        b"" | b"0" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        _ => crate::ip::parse(host),
    }
}

/// Whether `ip` may be used under `family`.
pub fn allowed(family: Family, ip: &IpAddr) -> bool {
    match family {
        Family::Any => true,
        Family::V4 => ip.is_ipv4(),
        Family::V6 => ip.is_ipv6(),
    }
}

/// The port argument: all digits (djb: the empty string is 0), else a `tcp` name from
/// `services` (the text of /etc/services).
pub fn port(arg: &[u8], services: &[u8]) -> Option<u16> {
    let (n, len) = scan::ulong(arg);
    if len == arg.len() {
        return Some(n as u16);
    }
    services.split(|&b| b == b'\n').find_map(|line| {
        let line = line.split(|&b| b == b'#').next().unwrap_or(b"");
        let mut words = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        let name = words.next()?;
        let (num, proto) = {
            let w = words.next()?;
            let slash = w.iter().position(|&b| b == b'/')?;
            (&w[..slash], &w[slash + 1..])
        };
        if proto != b"tcp" || !(name == arg || words.any(|a| a == arg)) {
            return None;
        }
        scan::ulong_exact(num).map(|n| n as u16)
    })
}

/// An operand as bytes.
pub fn bytes(s: &OsString) -> &[u8] {
    s.as_bytes()
}

/// Tries `addrs` as tcpclient does: each with `x` seconds (all of `x+y` when there is only
/// one address); then, with `y` seconds each, those that timed out. `attempt` connects (outer
/// error: fatal, stop at once; inner error: this address failed); `warn` hears of each
/// failure that will not be retried. `Ok(None)`: no address could be connected.
pub fn rounds<S, F>(
    addrs: &[IpAddr],
    (x, y): (u64, u64),
    mut attempt: impl FnMut(IpAddr, Duration) -> Result<io::Result<S>, F>,
    mut warn: impl FnMut(IpAddr, &io::Error),
) -> Result<Option<(IpAddr, S)>, F> {
    let t = if addrs.len() == 1 { [x + y, 0] } else { [x, y] };
    let mut todo = addrs.to_vec();
    for (round, secs) in t.into_iter().enumerate() {
        let mut again = Vec::new();
        for ip in todo {
            match attempt(ip, Duration::from_secs(secs))? {
                Ok(s) => return Ok(Some((ip, s))),
                Err(e) if round == 0 && t[1] > 0 && e.kind() == io::ErrorKind::TimedOut => {
                    again.push(ip)
                }
                Err(e) => warn(ip, &e),
            }
        }
        todo = again;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(w: &[&str]) -> Vec<OsString> {
        w.iter().map(OsString::from).collect()
    }

    #[test]
    fn options_bundled_and_stop_at_operand() {
        let (c, rest) = parse(&argv(&["tcpclient", "-RHl0", "--", "h", "25", "p", "-v"])).unwrap();
        assert!(!c.ident && !c.remote_host);
        assert_eq!(c.local_name.as_deref(), Some(&b"0"[..]));
        assert_eq!(rest, argv(&["h", "25", "p", "-v"]));
        let (c, rest) = parse(&argv(&[
            "t", "-vqD", "-T", "5", "-p99999", "-t3x", "-i", "::1", "-6", "h", "-q",
        ]))
        .unwrap();
        assert_eq!((c.verbosity, c.nodelay, c.timeouts), (0, true, (5, 0)));
        assert_eq!((c.local_port, c.ident_timeout), (34463, 3));
        assert_eq!(c.local_ip, crate::ip::parse(b"::1"));
        assert_eq!((c.family, rest), (Family::V6, argv(&["h", "-q"])));
        assert_eq!(parse(&argv(&["t", "-x"])), Err(Bad::Illegal(b'x')));
        assert_eq!(parse(&argv(&["t", "-T"])), Err(Bad::NeedsArg(b'T')));
        assert_eq!(parse(&argv(&["t", "-i", "1.2.3"])), Err(Bad::Usage));
        assert_eq!(parse(&argv(&["t"])).unwrap().0, Config::default());
    }

    #[test]
    fn timeouts_hosts_ports() {
        assert_eq!(timeouts(b"2+58"), (2, 58));
        assert_eq!(timeouts(b"7"), (7, 0));
        assert_eq!(timeouts(b"+3"), (0, 3));
        assert_eq!(timeouts(b"1x+3"), (1, 0));
        assert_eq!(literal(b"0"), literal(b"127.0.0.1"));
        assert_eq!(literal(b""), literal(b"127.0.0.1"));
        assert_eq!(literal(b"[::1]"), literal(b"::1"));
        assert_eq!(literal(b"mx.example"), None);
        let services = b"# x\nsmtp\t\t25/tcp\t\tmail\nfoo 7/udp\nfoo 8/tcp # c\n";
        assert_eq!(port(b"25", services), Some(25));
        assert_eq!(port(b"", services), Some(0));
        assert_eq!(port(b"65561", services), Some(25));
        assert_eq!(port(b"smtp", services), Some(25));
        assert_eq!(port(b"mail", services), Some(25));
        assert_eq!(port(b"foo", services), Some(8));
        assert_eq!(port(b"bar", services), None);
        assert_eq!(port(b"25x", services), None);
    }

    fn ips(n: u8) -> Vec<IpAddr> {
        (1..=n)
            .map(|i| IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)))
            .collect()
    }

    fn err(k: io::ErrorKind) -> io::Error {
        io::Error::from(k)
    }

    #[test]
    fn two_rounds_retry_only_timeouts() {
        let mut log = Vec::new();
        let mut warned = Vec::new();
        let r: Result<Option<(IpAddr, ())>, ()> = rounds(
            &ips(3),
            (2, 58),
            |ip, t| {
                log.push((ip, t.as_secs()));
                Ok(Err(match ip {
                    IpAddr::V4(v) if v.octets()[3] == 2 => err(io::ErrorKind::ConnectionRefused),
                    _ => err(io::ErrorKind::TimedOut),
                }))
            },
            |ip, e| warned.push((ip, e.kind())),
        );
        assert_eq!(r, Ok(None));
        let a = ips(3);
        assert_eq!(
            log,
            vec![(a[0], 2), (a[1], 2), (a[2], 2), (a[0], 58), (a[2], 58)]
        );
        assert_eq!(
            warned,
            vec![
                (a[1], io::ErrorKind::ConnectionRefused),
                (a[0], io::ErrorKind::TimedOut),
                (a[2], io::ErrorKind::TimedOut)
            ]
        );
    }

    #[test]
    fn one_address_gets_the_sum_and_fatal_stops() {
        let mut log = Vec::new();
        let r: Result<Option<(IpAddr, u8)>, ()> = rounds(
            &ips(1),
            (2, 58),
            |ip, t| {
                log.push((ip, t.as_secs()));
                Ok(Err(err(io::ErrorKind::TimedOut)))
            },
            |_, _| {},
        );
        assert_eq!((r, log), (Ok(None), vec![(ips(1)[0], 60)]));
        let mut n = 0;
        let r: Result<Option<(IpAddr, u8)>, &str> = rounds(
            &ips(3),
            (1, 0),
            |_, _| {
                n += 1;
                if n == 2 {
                    return Err("bind");
                }
                Ok(Err(err(io::ErrorKind::TimedOut)))
            },
            |_, _| {},
        );
        assert_eq!((r, n), (Err("bind"), 2));
        let r: Result<Option<(IpAddr, u8)>, ()> =
            rounds(&ips(2), (1, 1), |_, _| Ok(Ok(7)), |_, _| {});
        assert_eq!(r, Ok(Some((ips(2)[0], 7))));
    }
}
