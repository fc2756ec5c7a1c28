//! tcpserver — accept TCP connections and run a program for each, with the socket on fd 0/1.
//!
//! Usage:    tcpserver [ -1UXpPhHrRoOdDqQv46 ] [ -c limit ] [ -x rules.cdb ] [ -B banner ]
//!           [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] [ -t timeout ]
//!           [ -I interface ] host port program [ arg ... ]
//!           host: `0` or empty = 0.0.0.0; `::` = IPv6 only; `:0` = `::` dual stack; an
//!           address; or a name (its first A address, else its first AAAA). port: decimal
//!           (`0`: the kernel chooses) or a tcp service name from /etc/services.
//! Options:  (getopt: bundled flags, `-l0`, `--`, options end at the first operand)
//!           -c n at most n children at once (40); at n, stop accepting until one exits.
//!           -b n listen backlog (20).  -x f rules cdb, read anew for every connection.
//!           -X with -x, a missing cdb allows as if no rules.  -B s banner, sent first.
//!           -g gid, -u uid: after binding, setgroups+setgid, then setuid (0 = keep).
//!           -U gid and uid from $GID/$UID.  -1 print the local port on stdout.
//!           -l name TCPLOCALHOST=name, no lookup.  -h/-H look up / don't look up the
//!           remote name (-h).  -p/-P paranoid: the name's A (AAAA for IPv6 peers) records
//!           must hold the peer (-P).  -r/-R ident query (-r), -t n its timeout (26 s).
//!           -d/-D Nagle on (-d) / TCP_NODELAY.  -o/-O keep / strip IP options (-O).
//!           -q/-Q/-v nothing / errors (-Q) / errors and status lines.
//!           -4 names resolve to IPv4 only; -6 cancels -4.
//!           -I if: the index of interface `if` is the scope id of an IPv6 host (for
//!           link-local addresses); SO_BINDTODEVICE is not used.
//! Environment: reads UID/GID (-U), DNSCACHEIP (resolver), PATH (program search).
//!           The program gets PROTO (TCP; TCP6 for IPv6 peers), TCPLOCALIP,
//!           TCPLOCALPORT, TCPLOCALHOST, TCPREMOTEIP, TCPREMOTEPORT, TCPREMOTEHOST,
//!           TCPREMOTEINFO (each unknown one removed), for IPv6 peers the same as TCP6*
//!           and TCP6INTERFACE (link-local), then the rule's variables (later wins).
//!           IPv4 peers on a dual-stack socket are shown as IPv4.
//! Speed:    with -R, -H and -l, and no -B, nothing about a connection can wait on the
//!           network, so tcpserver decides it itself and starts the program with posix_spawn
//!           (nothing copied) instead of forking a child that execs; the environment, log
//!           lines and statuses are the same. A deny or a failure still goes to a forked child.
//! Exit:     0 on SIGTERM (children keep running); 100 usage; 111 fatal (bind, port, uid,
//!           gid …). A child exits 100 when a rule denies, 111 when it drops the connection.
//! Runs as:  whoever starts it; drops to -g/-u after binding.
//! Trusts:   nothing from the network: names, ident answers and rules data only become
//!           environment values and cleaned log fields.
//! Spec:     shared/spec/ucspi.md §1, §2, §9

use qlib::fail::Fail;
use qlib::sys::fd::{self, PollFd};
use qlib::sys::{net, proc, sig};
use qlib::tcpserver::{self, Config, Dropped};
use qlib::{errtext, prog, prot};
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, SocketAddrV6, TcpListener, TcpStream};
use std::os::fd::{AsFd as _, AsRawFd as _, IntoRawFd as _};
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("tcpserver", run)
}

/// Where messages go: nowhere with -q, errors with -Q, everything with -v.
struct Log(u8);

impl Log {
    fn line(&self, min: u8, text: &[u8]) {
        if self.0 >= min {
            let _ = std::io::stderr().write_all(text);
        }
    }
    fn status(&self, children: u64, limit: u64) {
        self.line(
            2,
            format!("tcpserver: status: {children}/{limit}\n").as_bytes(),
        );
    }
    fn fatal(&self, what: &str) -> Fail {
        match self.0 {
            0 => Fail::silent(111),
            _ => Fail::temp(what),
        }
    }
    fn fatal_sys(&self, what: &str, e: &std::io::Error) -> Fail {
        self.fatal(&format!("{what}: {}", errtext::text(e)))
    }
    fn dropped(&self, why: &str) -> Fail {
        self.line(
            1,
            format!("tcpserver: warning: dropping connection, {why}\n").as_bytes(),
        );
        Fail::silent(111)
    }
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let c = match tcpserver::parse(&argv, qlib::env::get) {
        Ok(c) => c,
        Err(text) => {
            let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
            return Err(Fail::silent(100));
        }
    };
    let log = Log(c.verbosity);
    let port = tcpserver::port_number(&c.port).ok_or_else(|| {
        log.fatal(&format!(
            "unable to figure out port number for {}",
            String::from_utf8_lossy(&c.port)
        ))
    })?;
    let wake = sig::wake_pipe().map_err(|e| log.fatal_sys("unable to create pipe", &e))?;
    sig::catch(sig::SIGCHLD)
        .and_then(|()| sig::exit_on(sig::SIGTERM, 0))
        .and_then(|()| sig::ignore(sig::SIGPIPE))
        .map_err(|e| log.fatal_sys("unable to set up signals", &e))?;
    let (host, v6only) = tcpserver::bind_address(&c).map_err(|t| log.fatal(&t))?;
    let mut addr = SocketAddr::new(host, port);
    if let (SocketAddr::V6(a), Some(name)) = (addr, &c.interface) {
        let index = tcpserver::interface_index(name).ok_or_else(|| {
            log.fatal(&format!(
                "unable to find interface {}",
                String::from_utf8_lossy(name)
            ))
        })?;
        addr = SocketAddrV6::new(*a.ip(), a.port(), 0, index).into();
    }
    let backlog = c.backlog.min(i32::MAX as u64) as i32;
    let listener =
        net::listen(addr, backlog, v6only).map_err(|e| log.fatal_sys("unable to bind", &e))?;
    let local = listener
        .local_addr()
        .map_err(|e| log.fatal_sys("unable to get local address", &e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| log.fatal_sys("unable to listen", &e))?;
    if c.gid != 0 {
        prot::gid(c.gid as u32).map_err(|e| log.fatal_sys("unable to set gid", &e))?;
    }
    if c.uid != 0 {
        prot::uid(c.uid as u32).map_err(|e| log.fatal_sys("unable to set uid", &e))?;
    }
    if c.print_port {
        let mut out = std::io::stdout().lock();
        out.write_all(format!("{}\n", local.port()).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| log.fatal_sys("unable to write output", &e))?;
    }
    fd::close_raw(0);
    fd::close_raw(1);
    serve(&c, &log, listener, File::from(wake))
}

/// The accept loop: reap, wait for a connection (or only for children while at the limit),
/// accept, fork. Returns only in a child, with the child's exit.
fn serve(c: &Config, log: &Log, listener: TcpListener, mut wake: File) -> Result<u8, Fail> {
    let mut children: u64 = 0;
    log.status(children, c.limit);
    loop {
        while let Some((pid, status)) = proc::reap() {
            log.line(
                2,
                format!("tcpserver: end {pid} status {status}\n").as_bytes(),
            );
            children = children.saturating_sub(1);
            log.status(children, c.limit);
        }
        let open = children < c.limit;
        let mut fds = [
            PollFd {
                fd: wake.as_raw_fd(),
                read: true,
                ..PollFd::default()
            },
            PollFd {
                fd: if open { listener.as_raw_fd() } else { -1 },
                read: open,
                ..PollFd::default()
            },
        ];
        if fd::poll(&mut fds, -1).is_err() {
            continue;
        }
        if fds[0].readable {
            let mut buf = [0u8; 64];
            while matches!(wake.read(&mut buf), Ok(n) if n > 0) {}
        }
        if !(open && fds[1].readable) {
            continue;
        }
        let Ok((sock, remote)) = listener.accept() else {
            continue;
        };
        children += 1;
        log.status(children, c.limit);
        if tcpserver::quick(c) && started(c, log, &sock, remote) {
            continue;
        }
        match proc::fork() {
            Ok(Some(_)) => {}
            Ok(None) => return child(c, log, listener, sock, remote),
            Err(e) => {
                let _ = log.dropped(&format!("unable to fork: {}", errtext::text(&e)));
                children -= 1;
                log.status(children, c.limit);
            }
        }
    }
}

/// A connection that needs no lookup (`tcpserver::quick`), decided here and its program
/// spawned with the socket on fd 0 and 1: no fork, so none of this process is copied.
/// Whether that worked; if not (a deny, a failure), the forked child goes the usual way.
fn started(c: &Config, log: &Log, sock: &TcpStream, remote: SocketAddr) -> bool {
    let _ = sock.set_nonblocking(false);
    let Ok(d) = tcpserver::decide(c, sock, remote) else {
        return false;
    };
    if d.deny {
        return false;
    }
    let raw = sock.as_raw_fd();
    let Ok(pid) = d.env.spawn(&c.program, &[(raw, 0), (raw, 1)]) else {
        return false;
    };
    log.line(2, &tcpserver::pid_line(pid as u32, remote));
    log.line(2, &d.line(pid as u32));
    true
}

/// One connection: decide, log, then exec the program with the socket on fd 0 and 1.
fn child(
    c: &Config,
    log: &Log,
    listener: TcpListener,
    sock: TcpStream,
    remote: SocketAddr,
) -> Result<u8, Fail> {
    drop(listener);
    let _ = sig::default(sig::SIGCHLD);
    let pid = std::process::id();
    log.line(2, &tcpserver::pid_line(pid, remote));
    let _ = sock.set_nonblocking(false);
    let d = tcpserver::decide(c, &sock, remote).map_err(|Dropped(why)| log.dropped(&why))?;
    log.line(2, &d.line(pid));
    if d.deny {
        return Err(Fail::silent(100));
    }
    let descriptors = || -> std::io::Result<()> {
        let raw = sock.as_raw_fd();
        if raw == 0 {
            fd::set_cloexec(sock.as_fd(), false)?;
            let _ = sock.into_raw_fd();
        } else {
            fd::dup2(raw, 0)?;
            drop(sock);
        }
        fd::dup2(0, 1)
    };
    descriptors().map_err(|e| {
        log.dropped(&format!(
            "unable to set up descriptors: {}",
            errtext::text(&e)
        ))
    })?;
    let _ = sig::default(sig::SIGTERM);
    let _ = sig::default(sig::SIGPIPE);
    let _ = sig::unblock_all();
    let e = d.env.exec(&c.program);
    Err(log.dropped(&format!(
        "unable to run {}: {}",
        c.program[0].to_string_lossy(),
        errtext::text(&e)
    )))
}
