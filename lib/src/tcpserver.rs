//! tcpserver's logic (ucspi-tcp's tcpserver.c): the command line, the listening address,
//! and what each connection's child works out before exec — names, ident, rules, the
//! environment and the `ok`/`deny` log line. The accept loop and exec are in the tool.
//!
//! Log fields are cleaned as djb's `safecats`: bytes outside 33–126 and `%` become `?`, a
//! field of 100 bytes or more is cut to 100 and gets `...`. djb also turns `:` into `?`;
//! that is done here for the name and ident fields but not for the address fields, so that
//! IPv6 addresses stay readable (IPv4 lines are byte for byte djb's).

use crate::dns::Resolver;
use crate::envedit::Edits;
use crate::getopt::{Getopt, Opt};
use crate::{cdb::Cdb, errtext, ip, rules, scan};
use std::ffi::OsString;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::Duration;

/// The usage line (after `tcpserver: usage: `).
pub const USAGE: &str = "tcpserver [ -1UXpPhHrRoOdDqQv46 ] [ -c limit ] [ -x rules.cdb ] \
[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ] \
[ -I interface ] host port program";

/// Everything the command line says.
#[derive(Debug, Clone)]
pub struct Config {
    /// -c: most children at once
    pub limit: u64,
    /// -b: listen backlog
    pub backlog: u64,
    /// -x: rules cdb
    pub rules: Option<OsString>,
    /// -X: a missing rules cdb allows
    pub allow_norules: bool,
    /// -B: banner
    pub banner: Vec<u8>,
    /// -g (0: keep)
    pub gid: u64,
    /// -u (0: keep)
    pub uid: u64,
    /// -1: print the port
    pub print_port: bool,
    /// -l: the local name, not looked up
    pub localname: Option<Vec<u8>>,
    /// -h / -H
    pub remotehost: bool,
    /// -p / -P
    pub paranoid: bool,
    /// -r / -R
    pub remoteinfo: bool,
    /// -t: ident timeout in seconds
    pub timeout: u64,
    /// -d / -D (false: TCP_NODELAY)
    pub delay: bool,
    /// -O / -o
    pub killopts: bool,
    /// 0 (-q), 1 (-Q), 2 (-v)
    pub verbosity: u8,
    /// -4: IPv4 only for a host name; -6 cancels it
    pub only4: bool,
    /// -I: interface whose index becomes the IPv6 scope id
    pub interface: Option<Vec<u8>>,
    /// host argument
    pub host: Vec<u8>,
    /// port argument
    pub port: Vec<u8>,
    /// program and its arguments
    pub program: Vec<OsString>,
}

/// Reads the command line (name first). `Err` holds the lines to print before exit 100.
pub fn parse(argv: &[OsString], env: impl Fn(&str) -> Option<Vec<u8>>) -> Result<Config, String> {
    let mut c = Config {
        limit: 40,
        backlog: 20,
        rules: None,
        allow_norules: false,
        banner: Vec::new(),
        gid: 0,
        uid: 0,
        print_port: false,
        localname: None,
        remotehost: true,
        paranoid: false,
        remoteinfo: true,
        timeout: 26,
        delay: true,
        killopts: true,
        verbosity: 1,
        only4: false,
        interface: None,
        host: Vec::new(),
        port: Vec::new(),
        program: Vec::new(),
    };
    const SPEC: &str = "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO46I:";
    let usage = |pre: String| Err(format!("{pre}tcpserver: usage: {USAGE}"));
    let mut g = Getopt::new(argv, SPEC);
    while let Some(o) = g.next_opt() {
        let (opt, val) = match o {
            Opt::Found(opt, val) => (opt, val.unwrap_or_default()),
            Opt::Bad(b) if b != b':' && SPEC.as_bytes().contains(&b) => {
                return usage(format!(
                    "tcpserver: option requires an argument -- {}\n",
                    b as char
                ))
            }
            Opt::Bad(b) => {
                return usage(format!(
                    "tcpserver: illegal option -- {}\n",
                    String::from_utf8_lossy(&[b])
                ))
            }
        };
        let num = scan::ulong(&val).0;
        match opt {
            b'b' => c.backlog = num,
            b'c' => c.limit = num,
            b'X' => c.allow_norules = true,
            b'x' => c.rules = Some(OsString::from_vec(val)),
            b'B' => c.banner = val,
            b'd' => c.delay = true,
            b'D' => c.delay = false,
            b'v' => c.verbosity = 2,
            b'q' => c.verbosity = 0,
            b'Q' => c.verbosity = 1,
            b'P' => c.paranoid = false,
            b'p' => c.paranoid = true,
            b'O' => c.killopts = true,
            b'o' => c.killopts = false,
            b'H' => c.remotehost = false,
            b'h' => c.remotehost = true,
            b'R' => c.remoteinfo = false,
            b'r' => c.remoteinfo = true,
            b't' => c.timeout = num,
            b'U' => {
                if let Some(v) = env("UID") {
                    c.uid = scan::ulong(&v).0;
                }
                if let Some(v) = env("GID") {
                    c.gid = scan::ulong(&v).0;
                }
            }
            b'u' => c.uid = num,
            b'g' => c.gid = num,
            b'1' => c.print_port = true,
            b'l' => c.localname = Some(val),
            b'4' => c.only4 = true,
            b'6' => c.only4 = false,
            _ => c.interface = Some(val),
        }
    }
    let rest = g.rest();
    if rest.len() < 3 {
        return usage(String::new());
    }
    c.host = rest[0].as_bytes().to_vec();
    c.port = rest[1].as_bytes().to_vec();
    c.program = rest[2..].to_vec();
    Ok(c)
}

/// Where to listen: the address and the IPV6_V6ONLY choice. `0` and the empty host are
/// 0.0.0.0, `::` is IPv6 only, `:0` is `::` dual stack; other names are looked up.
pub fn bind_address(c: &Config) -> Result<(IpAddr, Option<bool>), String> {
    let host = String::from_utf8_lossy(&c.host).into_owned();
    match &c.host[..] {
        b"" | b"0" => return Ok((Ipv4Addr::UNSPECIFIED.into(), None)),
        b":0" if !c.only4 => return Ok((Ipv6Addr::UNSPECIFIED.into(), Some(false))),
        _ => {}
    }
    if let Some(a) = ip::parse(&c.host) {
        return match a {
            IpAddr::V6(_) if c.only4 => Err(format!("no IP address for {host}")),
            IpAddr::V6(_) => Ok((a, Some(true))),
            v4 => Ok((v4, None)),
        };
    }
    let temp = |e: String| format!("temporarily unable to figure out IP address for {host}: {e}");
    let r = Resolver::from_env().map_err(|e| temp(errtext::text(&e)))?;
    fn soft<T>(e: crate::dns::DnsError, temp: impl Fn(String) -> String) -> Result<Vec<T>, String> {
        match e {
            crate::dns::DnsError::Hard => Ok(Vec::new()),
            crate::dns::DnsError::Soft(t) => Err(temp(t)),
        }
    }
    let v4 = r.ip4(&c.host).or_else(|e| soft(e, temp))?;
    if let Some(a) = v4.first() {
        return Ok(((*a).into(), None));
    }
    if !c.only4 {
        let v6 = r.ip6(&c.host).or_else(|e| soft(e, temp))?;
        if let Some(a) = v6.first() {
            return Ok(((*a).into(), Some(true)));
        }
    }
    Err(format!("no IP address for {host}"))
}

/// The port argument: decimal (leading digits, the rest ignored only if there are digits
/// and nothing else, as djb), else a name from /etc/services.
pub fn port_number(arg: &[u8]) -> Option<u16> {
    let (n, len) = scan::ulong(arg);
    if len == arg.len() {
        return Some(n as u16);
    }
    let services = std::fs::read("/etc/services").ok()?;
    services.split(|&b| b == b'\n').find_map(|line| {
        let line = line.split(|&b| b == b'#').next().unwrap_or_default();
        let mut words = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        let name = words.next()?;
        let spec = words.next()?;
        let slash = memchr::memchr(b'/', spec)?;
        if &spec[slash + 1..] != b"tcp" || (name != arg && !words.any(|w| w == arg)) {
            return None;
        }
        scan::ulong_exact(&spec[..slash]).map(|p| p as u16)
    })
}

/// The index of network interface `name` (from /sys/class/net).
pub fn interface_index(name: &[u8]) -> Option<u32> {
    if name.is_empty() || name.contains(&b'/') || name.starts_with(b".") {
        return None;
    }
    let mut p = std::path::PathBuf::from("/sys/class/net");
    p.push(std::ffi::OsStr::from_bytes(name));
    p.push("ifindex");
    let t = std::fs::read(p).ok()?;
    scan::ulong_exact(t.trim_ascii()).map(|n| n as u32)
}

/// The name of the interface with index `index`.
pub fn interface_name(index: u32) -> Option<Vec<u8>> {
    std::fs::read_dir("/sys/class/net")
        .ok()?
        .filter_map(Result::ok)
        .find(|e| interface_index(e.file_name().as_bytes()) == Some(index))
        .map(|e| e.file_name().into_vec())
}

/// djb's `safecats`; `colon` also turns `:` into `?`.
pub fn safe(out: &mut Vec<u8>, field: &[u8], colon: bool) {
    for &c in field.iter().take(100) {
        let bad = !(33..=126).contains(&c) || c == b'%' || (colon && c == b':');
        out.push(if bad { b'?' } else { c });
    }
    if field.len() >= 100 {
        out.extend_from_slice(b"...");
    }
}

/// Why a child drops its connection (`tcpserver: warning: dropping connection, <why>`).
pub struct Dropped(pub String);

/// What a connection's child decided.
pub struct Decision {
    /// environment edits to apply before exec
    pub env: Edits,
    /// a rule said deny
    pub deny: bool,
    /// the `ok`/`deny` log line after the pid, with its newline
    tail: Vec<u8>,
}

impl Decision {
    /// The `ok`/`deny` log line of the child `pid`.
    pub fn line(&self, pid: u32) -> Vec<u8> {
        let head = if self.deny { "deny" } else { "ok" };
        [format!("tcpserver: {head} {pid}").as_bytes(), &self.tail].concat()
    }
}

/// The `pid` log line of the child `pid` serving `remote` (IPv4 peers on a dual-stack
/// socket shown as IPv4).
pub fn pid_line(pid: u32, remote: SocketAddr) -> Vec<u8> {
    let from = ip::text(ip::unmapped(remote.ip()));
    format!("tcpserver: pid {pid} from {from}\n").into_bytes()
}

/// Whether a connection can be decided without anything that may wait on the network (a
/// name or ident lookup, the banner), so that tcpserver itself can do it and start the
/// program without forking.
pub fn quick(c: &Config) -> bool {
    c.localname.is_some() && !c.remotehost && !c.remoteinfo && c.banner.is_empty()
}

/// The child's work before exec (djb's `doit`, after the `pid` line): socket options,
/// banner, names, ident, rules. `remote` is the peer as accepted.
pub fn decide(c: &Config, sock: &TcpStream, remote: SocketAddr) -> Result<Decision, Dropped> {
    if c.killopts {
        let _ = crate::sys::net::kill_ip_options(std::os::fd::AsFd::as_fd(sock));
    }
    if !c.delay {
        let _ = sock.set_nodelay(true);
    }
    let sys = |what: &str, e: io::Error| Dropped(format!("{what}: {}", errtext::text(&e)));
    if !c.banner.is_empty() {
        let mut s: &TcpStream = sock;
        s.write_all(&c.banner)
            .map_err(|e| sys("unable to print banner", e))?;
    }
    let local = sock
        .local_addr()
        .map_err(|e| sys("unable to get local address", e))?;
    let (local, remote) = (unmap(local), unmap(remote));
    let v6 = remote.is_ipv6();
    let resolver = || Resolver::from_env().ok();
    let mut dns = None;
    let mut env = Edits::new();
    let mut put = |name: &str, value: Option<&[u8]>| {
        env.put(name.as_bytes(), value);
        let six = format!("TCP6{}", &name[3..]);
        env.put(six.as_bytes(), if v6 { value } else { None });
    };
    let localip = ip::text(local.ip()).into_bytes();
    let localport = local.port().to_string().into_bytes();
    let localhost = match &c.localname {
        Some(n) => Some(n.clone()),
        None => dns
            .get_or_insert_with(resolver)
            .as_ref()
            .and_then(|r| r.ptr(local.ip()).ok().flatten())
            .filter(|n| !n.is_empty()),
    };
    put("TCPLOCALIP", Some(&localip));
    put("TCPLOCALPORT", Some(&localport));
    put("TCPLOCALHOST", localhost.as_deref());
    let remoteip = ip::text(remote.ip()).into_bytes();
    let remoteport = remote.port().to_string().into_bytes();
    let mut remotehost = None;
    if c.remotehost {
        if let Some(r) = dns.get_or_insert_with(resolver).as_ref() {
            remotehost = r.ptr(remote.ip()).ok().flatten().filter(|n| !n.is_empty());
            if c.paranoid {
                remotehost = remotehost.filter(|n| confirms(r, n, remote.ip()));
            }
        }
    }
    put("TCPREMOTEIP", Some(&remoteip));
    put("TCPREMOTEPORT", Some(&remoteport));
    put("TCPREMOTEHOST", remotehost.as_deref());
    let info = if c.remoteinfo {
        crate::ident::query(local, remote, Duration::from_secs(c.timeout), 256)
    } else {
        None
    };
    put("TCPREMOTEINFO", info.as_deref());
    let scope = match remote {
        SocketAddr::V6(a) if a.scope_id() != 0 => interface_name(a.scope_id()),
        _ => None,
    };
    env.put(b"TCP6INTERFACE", scope.as_deref());
    env.set(b"PROTO", if v6 { b"TCP6" } else { b"TCP" });
    let mut deny = false;
    if let Some(file) = &c.rules {
        let unable = |e: io::Error| {
            Dropped(format!(
                "unable to read {}: {}",
                file.to_string_lossy(),
                errtext::text(&e)
            ))
        };
        match Cdb::open(file) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && c.allow_norules => {}
            Err(e) => return Err(unable(e)),
            Ok(cdb) => {
                let found = rules::find(&cdb, &remoteip, remotehost.as_deref(), info.as_deref())
                    .map_err(unable)?;
                for item in found
                    .as_ref()
                    .map(|(_, d)| rules::items(d))
                    .unwrap_or_default()
                {
                    match item {
                        rules::Item::Deny => deny = true,
                        rules::Item::Set(t) => {
                            if let Some(eq) = memchr::memchr(b'=', t) {
                                env.set(&t[..eq], &t[eq + 1..]);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut line = vec![b' '];
    safe(&mut line, localhost.as_deref().unwrap_or_default(), true);
    line.push(b':');
    safe(&mut line, &localip, false);
    line.push(b':');
    safe(&mut line, &localport, false);
    line.push(b' ');
    safe(&mut line, remotehost.as_deref().unwrap_or_default(), true);
    line.push(b':');
    safe(&mut line, &remoteip, false);
    line.push(b':');
    safe(&mut line, info.as_deref().unwrap_or_default(), true);
    line.push(b':');
    safe(&mut line, &remoteport, false);
    line.push(b'\n');
    Ok(Decision {
        env,
        deny,
        tail: line,
    })
}

/// An IPv4 peer on a dual-stack socket, as IPv4.
fn unmap(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(ip::unmapped(a.ip()), a.port())
}

/// `-p`: whether `name`'s addresses (AAAA and A for an IPv6 peer, A for IPv4) include `ip`.
fn confirms(r: &Resolver, name: &[u8], ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => r.ip4(name).is_ok_and(|v| v.contains(&a)),
        IpAddr::V6(a) => r.ip6(name).is_ok_and(|v| v.contains(&a)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn options() {
        let env = |k: &str| match k {
            "UID" => Some(b"123".to_vec()),
            _ => None,
        };
        let a = argv(&[
            "tcpserver",
            "-vRHl0",
            "-c",
            "10x",
            "-Ux",
            "r.cdb",
            "-B",
            "hi",
            "0",
            "25",
            "prog",
            "-v",
        ]);
        let c = parse(&a, env).unwrap();
        assert_eq!((c.verbosity, c.remoteinfo, c.remotehost), (2, false, false));
        assert_eq!(c.localname.as_deref(), Some(&b"0"[..]));
        assert_eq!((c.limit, c.uid, c.gid), (10, 123, 0));
        assert_eq!(c.rules, Some(OsString::from("r.cdb")));
        assert_eq!(
            (c.host.as_slice(), c.port.as_slice()),
            (&b"0"[..], &b"25"[..])
        );
        assert_eq!(c.program, argv(&["prog", "-v"]));
        let e = parse(&argv(&["tcpserver", "-z", "0", "1", "p"]), env).unwrap_err();
        assert!(e.starts_with("tcpserver: illegal option -- z\ntcpserver: usage: tcpserver ["));
        let e = parse(&argv(&["tcpserver", "-c"]), env).unwrap_err();
        assert!(e.starts_with("tcpserver: option requires an argument -- c\n"));
        assert!(parse(&argv(&["tcpserver", "0", "1"]), env).is_err());
        let c = parse(
            &argv(&["tcpserver", "-q", "-c", "x", "--", "0", "1", "p"]),
            env,
        )
        .unwrap();
        assert_eq!((c.verbosity, c.limit), (0, 0));
    }

    #[test]
    fn addresses_and_ports() {
        let a = argv(&["tcpserver", "0", "1", "p"]);
        let mut c = parse(&a, |_| None).unwrap();
        for (host, want) in [
            ("0", ("0.0.0.0", None)),
            ("", ("0.0.0.0", None)),
            ("::", ("::", Some(true))),
            (":0", ("::", Some(false))),
            ("127.0.0.1", ("127.0.0.1", None)),
            ("[::1]", ("::1", Some(true))),
        ] {
            c.host = host.as_bytes().to_vec();
            let (ip, only) = bind_address(&c).unwrap();
            assert_eq!((ip.to_string().as_str(), only), want, "{host}");
        }
        c.only4 = true;
        c.host = b"::1".to_vec();
        assert_eq!(bind_address(&c).unwrap_err(), "no IP address for ::1");
        assert_eq!(port_number(b"25"), Some(25));
        assert_eq!(port_number(b"0"), Some(0));
        assert_eq!(port_number(b"no-such-service-x"), None);
        if std::path::Path::new("/etc/services").exists() {
            assert_eq!(port_number(b"smtp"), Some(25));
        }
        assert_eq!(interface_index(b"lo"), Some(1));
        assert_eq!(interface_name(1).as_deref(), Some(&b"lo"[..]));
        assert_eq!(interface_index(b"../x"), None);
    }

    #[test]
    fn safe_fields() {
        let mut v = Vec::new();
        safe(&mut v, b"a b%c:d\xff", true);
        assert_eq!(v, b"a?b?c?d?");
        v.clear();
        safe(&mut v, b"::1", false);
        assert_eq!(v, b"::1");
        v.clear();
        safe(&mut v, &[b'x'; 100], true);
        assert_eq!(v.len(), 103);
        assert!(v.ends_with(b"x..."));
        v.clear();
        safe(&mut v, &[b'x'; 99], true);
        assert_eq!(v.len(), 99);
    }
}
