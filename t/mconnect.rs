//! mconnect: talks to a small SMTP-ish listener on 127.0.0.1; typed lines reach it with CR LF,
//! the replies come back unchanged, and it ends when the server closes. Usage with 3 operands.
//! Not tested here: the default port 25 (privileged).

use crate::common::run;
use crate::tcpclient::serve;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

/// Greets, answers each line with `250 ok`, and `221 bye` (then closes) after QUIT.
pub fn smtpish(s: &mut TcpStream) -> Vec<u8> {
    let _ = s.write_all(b"220 hi\r\n");
    let mut r = BufReader::new(s.try_clone().expect("clone"));
    let mut got = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return got;
        }
        got.extend_from_slice(&line);
        let quit = line.starts_with(b"QUIT");
        let _ = s.write_all(if quit { b"221 bye\r\n" } else { b"250 ok\r\n" });
        if quit {
            return got;
        }
    }
}

#[test]
fn adds_cr_and_shows_replies() {
    let srv = serve("127.0.0.1:0", 1, smtpish).expect("listen");
    let port = srv.port.to_string();
    run("mconnect")
        .args(["127.0.0.1", &port])
        .stdin("HELO x\nMAIL FROM:<a@b>\r\nQUIT\n")
        .go()
        .expect(0, "220 hi\r\n250 ok\r\n250 ok\r\n221 bye\r\n", "");
    assert_eq!(srv.done()[0].1, b"HELO x\r\nMAIL FROM:<a@b>\r\r\nQUIT\r\n");
}

#[test]
fn usage() {
    run("mconnect").args(["a", "b", "c"]).go().expect(
        100,
        "",
        "mconnect: usage: mconnect [ host [ port ] ]\n",
    );
}
