//! tcp-env: under Debian's tcpserver (socket on fd 0), with PROTO removed it finds the
//! addresses itself, removes names it cannot find and TCPREMOTEINFO; with PROTO=TCP it
//! passes everything through; a non-socket fd 0 or no program is exit 111.
//! Not tested here: an answering ident server (port 113; the query is unit-tested in
//! lib/src/ident.rs).

use crate::common::{run, Bg};
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

#[test]
fn finds_the_addresses_itself_when_proto_is_not_tcp() {
    let (_srv, port) = tcpserver(
        &["-RHl0"],
        &[
            "env",
            "-u",
            "PROTO",
            "TCPREMOTEINFO=stale",
            "tcp-env",
            "-R",
            "sh",
            "-c",
            ENV,
        ],
    );
    let (me, got) = fetch(port);
    assert_eq!(
        got,
        format!(
            "PROTO=TCP\nTCPLOCALIP=127.0.0.1\nTCPLOCALPORT={port}\n\
             TCPREMOTEIP=127.0.0.1\nTCPREMOTEPORT={me}\n"
        )
    );
    // -r (the default) with no ident server: TCPREMOTEINFO removed all the same.
    let (_srv, port) = tcpserver(
        &["-RHl0"],
        &["env", "-u", "PROTO", "tcp-env", "-t1", "sh", "-c", ENV],
    );
    let (me, got) = fetch(port);
    assert_eq!(
        got,
        format!(
            "PROTO=TCP\nTCPLOCALIP=127.0.0.1\nTCPLOCALPORT={port}\n\
             TCPREMOTEIP=127.0.0.1\nTCPREMOTEPORT={me}\n"
        )
    );
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
