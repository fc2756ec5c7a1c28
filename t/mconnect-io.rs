//! mconnect-io: under our tcpclient against a listener that talks first and closes while
//! stdin is still open: the output is complete and the stdin copier is killed, so it exits.
//! Without fd 6 it fails with 111.
//! Not tested here: nothing else.

use crate::common::run;
use crate::tcpclient::serve;
use std::io::Write;
use std::net::TcpStream;

fn says_and_closes(s: &mut TcpStream) -> Vec<u8> {
    let _ = s.write_all(b"bye now\n");
    Vec::new()
}

#[test]
fn server_close_ends_it_while_stdin_stays_open() {
    let srv = serve("127.0.0.1:0", 1, says_and_closes).expect("listen");
    let port = srv.port.to_string();
    // stdin is a pipe the test never closes: only the server's close can end mconnect-io.
    let (r, w) = qlib::sys::fd::pipe().expect("pipe");
    let mut c = run("tcpclient").args(["-RHl0", "127.0.0.1", &port, "mconnect-io"]);
    c.raw().stdin(std::process::Stdio::from(r));
    let o = c.go();
    drop(w);
    o.expect(0, "bye now\n", "");
    srv.done();
}

#[test]
fn without_a_connection_it_fails() {
    run("mconnect-io").go().expect(
        111,
        "",
        "mconnect-io: fatal: unable to read network: file descriptor not open\n",
    );
}
