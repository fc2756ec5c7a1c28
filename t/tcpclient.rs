//! tcpclient: connects on 127.0.0.1 and ::1 to listeners written here, puts the socket on
//! fd 6/7 and leaves 0/1/2 alone, sets and removes the TCP variables (compared with Debian's
//! /usr/bin/tcpclient for the same server), -i/-p seen by the server, -D, -T timeouts against
//! full backlogs, refused ports, usage and -q/-v messages. In a namespace with a fake DNS
//! server and an ident server: every address of a name in order, the silent first-round
//! timeouts retried in the second round, PTR names (lower-cased, odd bytes escaped),
//! TCPREMOTEINFO, NXDOMAIN and SERVFAIL messages. Also the listener helpers other tests use.
//! Not tested here: search-list qualification of names (not implemented).

use crate::common::run;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A listener answering `n` connections in a thread, each with `handler`.
pub struct Server {
    /// the port it listens on
    pub port: u16,
    thread: JoinHandle<Vec<(SocketAddr, Vec<u8>)>>,
}

type Handler = fn(&mut TcpStream) -> Vec<u8>;

/// Listens on `addr` (port 0) and serves `n` connections; `None` if it cannot listen there.
pub fn serve(addr: &str, n: usize, handler: Handler) -> Option<Server> {
    let l = TcpListener::bind(addr).ok()?;
    let port = l.local_addr().ok()?.port();
    l.set_nonblocking(true).ok()?;
    let thread = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while seen.len() < n && Instant::now() < deadline {
            match l.accept() {
                Ok((mut s, peer)) => {
                    s.set_nonblocking(false).expect("blocking");
                    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
                    seen.push((peer, handler(&mut s)));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        seen
    });
    Some(Server { port, thread })
}

impl Server {
    /// What each connection sent, with its peer address.
    pub fn done(self) -> Vec<(SocketAddr, Vec<u8>)> {
        self.thread.join().expect("server thread")
    }
}

/// Says `hello\n`, then reads to the end.
pub fn greet(s: &mut TcpStream) -> Vec<u8> {
    let _ = s.write_all(b"hello\n");
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    got
}

const ENV: &str = "env | grep -E '^(PROTO|TCP)' | sort";

fn lines(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn socket_on_6_and_7_environment_and_own_fds() {
    let srv = serve("127.0.0.1:0", 1, greet).expect("listen");
    let port = srv.port.to_string();
    let prog = format!(
        "read a <&6; echo \"net: $a\"; cat; echo to-stderr >&2; echo reply >&7; {ENV}; exit 7"
    );
    let o = run("tcpclient")
        .args(["-RHl0", "--", "127.0.0.1", &port, "sh", "-c", &prog])
        .env("TCPREMOTEHOST", "stale")
        .env("TCPREMOTEINFO", "stale")
        .stdin("from stdin\n")
        .go();
    let (peer, got) = srv.done().remove(0);
    assert_eq!(got, b"reply\n");
    o.expect(
        7,
        &format!(
            "net: hello\nfrom stdin\nPROTO=TCP\nTCPLOCALHOST=0\nTCPLOCALIP=127.0.0.1\n\
             TCPLOCALPORT={}\nTCPREMOTEIP=127.0.0.1\nTCPREMOTEPORT={port}\n",
            peer.port()
        ),
        "to-stderr\n",
    );
}

#[test]
fn stale_6_and_7_are_replaced_and_host_0_or_empty_is_loopback() {
    for host in ["0", ""] {
        let srv = serve("127.0.0.1:0", 1, greet).expect("listen");
        let port = srv.port.to_string();
        let o = run("sh")
            .args(["-c", "exec 6</dev/null 7>/dev/null; exec \"$@\"", "sh"])
            .args(["tcpclient", "-RHl0", host, &port, "sh", "-c"])
            .arg("readlink /proc/self/fd/6 /proc/self/fd/7 | cut -c1-7; read a <&6; echo $a")
            .go();
        o.expect(0, "socket:\nsocket:\nhello\n", "");
        assert_eq!(srv.done().len(), 1);
    }
}

#[test]
fn same_environment_as_debian_tcpclient() {
    let srv = serve("127.0.0.1:0", 6, greet).expect("listen");
    let port = srv.port.to_string();
    let mut outs = Vec::new();
    for opts in [
        &["-RHl0"][..],
        &["-R", "-H", "-l", "my.name"],
        &["-H", "-lx"],
    ] {
        for prog in ["/usr/bin/tcpclient", "tcpclient"] {
            let o = run(prog)
                .args(opts)
                .args(["127.0.0.1", &port, "sh", "-c", ENV])
                .env("TCPREMOTEINFO", "stale")
                .env("TCPREMOTEHOST", "stale")
                .go();
            assert_eq!((o.code, o.stderr()), (0, String::new()), "{prog} {opts:?}");
            let masked: Vec<String> = lines(&o.out)
                .into_iter()
                .filter(|l| !l.starts_with("TCPLOCALPORT="))
                .collect();
            outs.push(masked);
        }
    }
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[2], outs[3]);
    assert_eq!(outs[4], outs[5]);
    assert!(outs[2].contains(&"TCPLOCALHOST=my.name".to_string()));
    assert!(!outs[4].iter().any(|l| l.starts_with("TCPREMOTEINFO")));
    srv.done();
}

#[test]
fn ipv6_literal_sets_tcp6_variables() {
    let Some(srv) = serve("[::1]:0", 2, greet) else {
        eprintln!("skipped: no ::1 here");
        return;
    };
    let port = srv.port.to_string();
    for host in ["::1", "[::1]"] {
        let o = run("tcpclient")
            .args(["-RHlname", host, &port, "sh", "-c", ENV])
            .go();
        assert_eq!((o.code, o.stderr()), (0, String::new()));
        let got: Vec<String> = lines(&o.out)
            .into_iter()
            .filter(|l| !l.contains("LOCALPORT="))
            .collect();
        assert_eq!(
            got,
            [
                "PROTO=TCP6",
                "TCP6LOCALHOST=name",
                "TCP6LOCALIP=::1",
                "TCP6REMOTEIP=::1",
                &format!("TCP6REMOTEPORT={port}"),
                "TCPLOCALHOST=name",
                "TCPLOCALIP=::1",
                "TCPREMOTEIP=::1",
                &format!("TCPREMOTEPORT={port}"),
            ]
        );
    }
    srv.done();
    run("tcpclient")
        .args(["-4", "-RHl0", "::1", "1", "true"])
        .go()
        .expect(111, "", "tcpclient: fatal: no IP address for ::1\n");
}

#[test]
fn local_address_and_port_as_the_server_sees_them() {
    let free = TcpListener::bind("127.0.0.1:0").expect("bind");
    let lport = free.local_addr().expect("addr").port();
    drop(free);
    let srv = serve("127.0.0.1:0", 2, greet).expect("listen");
    let port = srv.port.to_string();
    let lp = lport.to_string();
    run("tcpclient")
        .args(["-RHl0", "-i", "127.0.0.2", "-p", &lp, "127.0.0.1", &port])
        .args(["sh", "-c", "echo $TCPLOCALIP $TCPLOCALPORT"])
        .go()
        .expect(0, &format!("127.0.0.2 {lport}\n"), "");
    run("tcpclient")
        .args(["-RHl0", "-D", "-i127.0.0.3", "127.0.0.1", &port, "python3", "-c"])
        .arg("import socket; s=socket.socket(fileno=6); print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))")
        .go()
        .expect(0, "1\n", "");
    let seen = srv.done();
    assert_eq!(seen[0].0, format!("127.0.0.2:{lport}").parse().unwrap());
    assert_eq!(seen[1].0.ip().to_string(), "127.0.0.3");
    run("tcpclient")
        .args(["-RHl0", "-i", "192.0.2.1", "127.0.0.1", &port, "true"])
        .go()
        .expect(
            111,
            "",
            "tcpclient: fatal: unable to bind socket: address not available\n",
        );
}

#[test]
fn refused_port_messages_and_verbosity() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port().to_string();
    drop(l);
    let msg =
        format!("tcpclient: unable to connect to 127.0.0.1 port {port}: connection refused\n");
    for prog in ["tcpclient", "/usr/bin/tcpclient"] {
        run(prog)
            .args(["127.0.0.1", &port, "true"])
            .go()
            .expect(111, "", &msg);
        run(prog)
            .args(["-vq", "127.0.0.1", &port, "true"])
            .go()
            .expect(111, "", "");
        run(prog)
            .args(["-q", "0", "nosuchservice", "true"])
            .go()
            .expect(111, "", "");
        run(prog).args(["0", "nosuchservice", "true"]).go().expect(
            111,
            "",
            "tcpclient: fatal: unable to figure out port number for nosuchservice\n",
        );
    }
    let srv = serve("127.0.0.1:0", 2, greet).expect("listen");
    let port = srv.port.to_string();
    run("tcpclient")
        .args(["-vRHl0", "127.0.0.1", &port, "true"])
        .go()
        .expect(
            0,
            "",
            &format!("tcpclient: connected to 127.0.0.1 port {port}\n"),
        );
    run("tcpclient")
        .args(["-RHl0", "127.0.0.1", &port, "/nonexistent/prog"])
        .go()
        .expect(
            111,
            "",
            "tcpclient: fatal: unable to run /nonexistent/prog: file does not exist\n",
        );
    srv.done();
}

#[test]
fn connect_timeouts_against_a_full_backlog() {
    let l = qlib::sys::net::listen("127.0.0.1:0".parse().unwrap(), 0, None).expect("listen");
    let addr = l.local_addr().expect("addr");
    // Backlog 0 holds one finished connection; later SYNs are dropped until accept.
    let _held = TcpStream::connect(addr).expect("first connection");
    let port = addr.port().to_string();
    let msg = format!("tcpclient: unable to connect to 127.0.0.1 port {port}: timed out\n");
    for t in ["1+1", "1", "0+1"] {
        run("tcpclient")
            .args(["-RHl0", "-T", t, "127.0.0.1", &port, "true"])
            .go()
            .expect(111, "", &msg);
    }
}

#[test]
fn usage() {
    let usage = "tcpclient: usage: tcpclient [ -46hHrRdDqQv ] [ -i localip ] [ -p localport ] \
[ -T timeoutconn ] [ -l localname ] [ -t timeoutinfo ] host port program\n";
    run("tcpclient").go().expect(100, "", usage);
    run("tcpclient")
        .args(["0", "25"])
        .go()
        .expect(100, "", usage);
    run("tcpclient")
        .args(["-q", "0", "25"])
        .go()
        .expect(100, "", "");
    run("tcpclient")
        .args(["-x", "0", "25", "true"])
        .go()
        .expect(100, "", &format!("tcpclient: illegal option -- x\n{usage}"));
    run("tcpclient").args(["-qT"]).go().expect(
        100,
        "",
        &format!("tcpclient: option requires an argument -- T\n{usage}"),
    );
    run("tcpclient")
        .args(["-i", "1.2.3", "0", "25", "true"])
        .go()
        .expect(100, "", usage);
}

#[test]
fn host_names_every_address_in_order_and_ptr_names() {
    use crate::tcp_env::{IDENTD, TCPSERVER};
    let t = crate::common::TmpDir::new("tcpclient-dns");
    let zone = "A multi.test 127.0.0.1\nA multi.test 127.0.0.2\nAAAA multi.test ::1\n\
                PTR 1.0.0.127.in-addr.arpa Local.Test\nPTR 2.0.0.127.in-addr.arpa Peer\\040X.Test\n\
                SERVFAIL broken.test\n";
    let script = format!(
        "{IDENTD}{TCPSERVER}\
         tcpclient -i 127.0.0.1 multi.test $p sh -c \"{ENV}; cat <&6\"; echo rc=$?\n\
         tcpclient -RH -i 127.0.0.1 multi.test $p sh -c \"{ENV}\"; echo rc=$?\n\
         tcpclient -6 -RHl0 multi.test $p true; echo rc=$?\n\
         tcpclient -4 -RHl0 nosuch.test $p true; echo rc=$?\n\
         tcpclient -RHl0 broken.test $p true; echo rc=$?\n"
    );
    let o = crate::common::netns::with_dns(
        zone,
        run("sh")
            .args(["-c", &script, "sh", "-RHl0", "127.0.0.2", "0", "echo", "hi"])
            .cwd(&t.0),
    );
    let port = std::fs::read_to_string(t.join("port")).expect("port");
    let port = port.trim();
    let out: Vec<String> = lines(&o.out)
        .into_iter()
        .filter(|l| !l.starts_with("TCPLOCALPORT="))
        .collect();
    let common = [
        "PROTO=TCP",
        "TCPLOCALHOST=local.test",
        "TCPLOCALIP=127.0.0.1",
    ];
    let mut want: Vec<String> = common.iter().map(|s| s.to_string()).collect();
    want.extend([
        "TCPREMOTEHOST=peer\\134040x.test".to_string(),
        "TCPREMOTEINFO=joe".to_string(),
        "TCPREMOTEIP=127.0.0.2".to_string(),
        format!("TCPREMOTEPORT={port}"),
        "hi".to_string(),
        "rc=0".to_string(),
    ]);
    want.extend(common.iter().map(|s| s.to_string()));
    want.extend([
        "TCPREMOTEIP=127.0.0.2".to_string(),
        format!("TCPREMOTEPORT={port}"),
        "rc=0".to_string(),
        "rc=111".to_string(),
        "rc=111".to_string(),
        "rc=111".to_string(),
    ]);
    assert_eq!(out, want);
    let refused = |ip: &str| {
        format!("tcpclient: unable to connect to {ip} port {port}: connection refused\n")
    };
    let err = o.stderr();
    let want_err = format!(
        "{}{}{}tcpclient: fatal: no IP address for nosuch.test\n\
         tcpclient: fatal: temporarily unable to figure out IP address for broken.test: ",
        refused("127.0.0.1"),
        refused("127.0.0.1"),
        refused("::1"),
    );
    assert!(err.starts_with(&want_err), "{err}");
    assert_eq!(err.lines().count(), 5, "{err}");
}

#[test]
fn second_round_retries_only_addresses_that_timed_out() {
    let t = crate::common::TmpDir::new("tcpclient-rounds");
    // 7000: full backlogs on both IPv4 addresses; 7001: full on .1, open (never accepting) on .2.
    let script = r#"python3 -c '
import socket, time
def full(ip, port):
    l = socket.socket(); l.bind((ip, port)); l.listen(0)
    c = socket.socket(); c.connect((ip, port)); return l, c
keep = [full("127.0.0.1", 7000), full("127.0.0.2", 7000), full("127.0.0.1", 7001)]
o = socket.socket(); o.bind(("127.0.0.2", 7001)); o.listen(5)
open("ready", "w").close(); time.sleep(60)
' &
n=0; while [ ! -e ready ]; do n=$((n+1)); [ $n -gt 400 ] && exit 99; sleep 0.05; done
tcpclient -RHl0 -T 1+1 multi.test 7001 sh -c 'echo $TCPREMOTEIP'; echo rc=$?
echo --- >&2
tcpclient -RHl0 -T 1+1 multi.test 7000 true; echo rc=$?
echo --- >&2
tcpclient -RHl0 -T 1 multi.test 7000 true; echo rc=$?
"#;
    let o = crate::common::netns::with_dns(
        "A multi.test 127.0.0.1\nA multi.test 127.0.0.2\nAAAA multi.test ::1\n",
        run("sh").args(["-c", script]).cwd(&t.0),
    );
    let to = |ip: &str| format!("tcpclient: unable to connect to {ip} port 7000: timed out\n");
    let refused = "tcpclient: unable to connect to ::1 port 7000: connection refused\n";
    o.expect(
        0,
        "127.0.0.2\nrc=0\nrc=111\nrc=111\n",
        &format!(
            "---\n{refused}{}{}---\n{}{}{refused}",
            to("127.0.0.1"),
            to("127.0.0.2"),
            to("127.0.0.1"),
            to("127.0.0.2")
        ),
    );
}
