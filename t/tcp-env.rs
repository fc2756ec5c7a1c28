//! tcp-env: under Debian's tcpserver (socket on fd 0) in a namespace with a fake DNS server and
//! an ident server on port 113: with PROTO removed it finds the addresses itself, lower-cased
//! PTR names, `softdnserror` for a SERVFAIL, no TCPREMOTEHOST without a PTR, TCPREMOTEINFO from
//! the ident answer (stale value replaced; removed with -R); with PROTO=TCP it passes
//! everything through; a non-socket fd 0 or no program is a silent exit 111.
//! Not tested here: IPv6 sockets (the variables are unit-tested in lib/src/tcpenv.rs).

use crate::common::{netns, run, Bg, TmpDir};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Starts Debian's tcpserver on 127.0.0.1 running `prog`; its guard and port.
pub fn tcpserver(opts: &[&str], prog: &[&str]) -> (Bg, u16) {
    let mut cmd = Command::new("/usr/bin/tcpserver");
    cmd.env_clear()
        .env("PATH", crate::common::path_env())
        .arg("-1")
        .args(opts)
        .args(["127.0.0.1", "0"])
        .args(prog)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut bg = Bg(cmd.spawn().expect("tcpserver"));
    let out = bg.0.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).expect("port line");
    let port = line.trim().parse().expect("port");
    (bg, port)
}

/// Connects, reads everything the server side writes; the client's own port too.
pub fn fetch(port: u16) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let me = s.local_addr().expect("addr").port();
    let mut got = String::new();
    s.read_to_string(&mut got).expect("read");
    (me, got)
}

const ENV: &str = "env | grep -E '^(PROTO|TCP)' | sort";

/// Shell lines that start an ident server answering `joe` on port 113 (inside a namespace).
pub const IDENTD: &str = r#"python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 113)); s.listen(5); open("identready", "w").close()
while True:
    c, _ = s.accept(); q = c.makefile("rb").readline()
    c.sendall(q.strip() + b" : USERID : UNIX : j o\te\r\n"); c.close()
' &
n=0; while [ ! -e identready ]; do n=$((n+1)); [ $n -gt 400 ] && exit 98; sleep 0.05; done
"#;

/// Shell lines that start Debian's tcpserver with "$@" as its arguments and set $p to its port.
pub const TCPSERVER: &str = r#"tcpserver -1 "$@" > port &
n=0; while [ ! -s port ]; do n=$((n+1)); [ $n -gt 400 ] && exit 99; sleep 0.05; done
p=$(cat port)
"#;

#[test]
fn finds_addresses_names_and_ident_itself() {
    let t = TmpDir::new("tcp-env");
    let zone = "PTR 1.0.0.127.in-addr.arpa Local.Test\nSERVFAIL 3.0.0.127.in-addr.arpa\n";
    let script = format!(
        "{IDENTD}{TCPSERVER}\
         for from in 127.0.0.3 127.0.0.4; do\n\
           tcpclient -RHl0 -i $from 127.0.0.1 $p sh -c 'echo $TCPLOCALPORT; cat <&6'\n\
         done\n"
    );
    let o = netns::with_dns(
        zone,
        run("sh")
            .args(["-c", &script, "sh", "-RHl0", "127.0.0.1", "0"])
            .args([
                "env",
                "-u",
                "PROTO",
                "TCPREMOTEINFO=stale",
                "tcp-env",
                "-t5",
            ])
            .args(["sh", "-c", ENV])
            .cwd(&t.0),
    );
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    let out = o.stdout();
    let port = std::fs::read_to_string(t.join("port")).expect("port");
    let port = port.trim();
    let mut want = String::new();
    for (from, host) in [("3", Some("softdnserror")), ("4", None)] {
        let me = out.lines().nth(want.lines().count()).expect("client port");
        want.push_str(&format!(
            "{me}\nPROTO=TCP\nTCPLOCALHOST=local.test\nTCPLOCALIP=127.0.0.1\n\
             TCPLOCALPORT={port}\n"
        ));
        if let Some(h) = host {
            want.push_str(&format!("TCPREMOTEHOST={h}\n"));
        }
        want.push_str(&format!(
            "TCPREMOTEINFO=joe\nTCPREMOTEIP=127.0.0.{from}\nTCPREMOTEPORT={me}\n"
        ));
    }
    assert_eq!(out, want);
}

#[test]
fn no_ident_and_no_names() {
    let t = TmpDir::new("tcp-env2");
    let script = format!("{TCPSERVER}tcpclient -RHl0 127.0.0.1 $p sh -c 'cat <&6'\n");
    let o = netns::with_dns(
        "A x.test 127.0.0.9\n",
        run("sh")
            .args(["-c", &script, "sh", "-RHl0", "127.0.0.1", "0"])
            .args(["env", "-u", "PROTO", "tcp-env", "-R", "sh", "-c", ENV])
            .cwd(&t.0),
    );
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    let port = std::fs::read_to_string(t.join("port")).expect("port");
    let out = o.stdout();
    let got: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("TCPREMOTEPORT="))
        .collect();
    let want = format!(
        "PROTO=TCP TCPLOCALIP=127.0.0.1 TCPLOCALPORT={} TCPREMOTEIP=127.0.0.1",
        port.trim()
    );
    assert_eq!(got.join(" "), want);
}

#[test]
fn proto_tcp_passes_through() {
    let (_srv, port) = tcpserver(&["-RHl0"], &["tcp-env", "-x", "sh", "-c", ENV]);
    let (me, got) = fetch(port);
    assert_eq!(
        got,
        format!(
            "PROTO=TCP\nTCPLOCALHOST=0\nTCPLOCALIP=127.0.0.1\nTCPLOCALPORT={port}\n\
             TCPREMOTEIP=127.0.0.1\nTCPREMOTEPORT={me}\n"
        )
    );
}

#[test]
fn failures_are_silent_111() {
    run("tcp-env")
        .args(["-R", "true"])
        .stdin("x")
        .go()
        .expect(111, "", "");
    run("tcp-env").go().expect(111, "", "");
    run("tcp-env")
        .env("PROTO", "TCP")
        .arg("/nonexistent")
        .go()
        .expect(111, "", "");
    run("tcp-env")
        .env("PROTO", "TCP")
        .args(["sh", "-c", "echo $PROTO; exit 3"])
        .go()
        .expect(3, "TCP\n", "");
}
