//! qmail-qmqpc — hand a message to a QMQP server instead of queueing it here (mini-qmail).
//!
//! Usage:    qmail-qmqpc        (arguments are ignored); installed as bin/qmail-queue, or
//!           named by `QMAILQUEUE`, on a host without a queue of its own.
//! Input:    as qmail-queue: fd 0 the message, fd 1 the envelope (`F<sender>\0`, then
//!           `T<recipient>\0` records, then `\0`). The whole message is read into memory.
//! Controls: qmqpservers below the qmail home: one server a line, tried in order on port 628.
//!           A line is an IPv4 dotted quad or, beyond qmail, an IPv6 address (bare or in
//!           brackets); any other line is ignored.
//! Behaviour: a connect that fails (10 s limit) moves on to the next server; once connected,
//!           the package is sent and the first `K`, `Z` or `D` in the answer decides, with
//!           60 s for each read and write. A server's `Z` or `D` is final.
//! Exit:     the qmail-queue codes: 0 the server took it (K); 31 the server refused it for
//!           good (D); 71 the server refused it for now (Z); 72 the last server tried timed
//!           out; 73 the last server tried refused the connection (or was unreachable); 74 a
//!           connected server failed to answer or the connection broke; 51 out of memory;
//!           54 the message or envelope cannot be read; 55 qmqpservers is missing, unreadable
//!           or names no server; 56 no socket can be made; 61 the qmail home cannot be
//!           entered; 91 the envelope is malformed (also when it ends early). Prints nothing.
//! Runs as:  the injecting user (whoever runs qmail-inject or sendmail).  Trusts: the servers'
//!           answers only as far as K/Z/D.
//! Spec:     shared/spec/qmail.md §7.4; formats.md §4.

use qlib::exit::qq;
use qlib::fail::Fail;
use qlib::qmqp::{self, EnvError};
use qlib::sys::{fd, sig};
use qlib::{conf, control, prog};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

const CONNECT: Duration = Duration::from_secs(10);
const IO: Duration = Duration::from_secs(60);
/// qmail-qmqpc before any server was tried: no configuration.
const NO_SERVER: u8 = qq::CONFIG;
/// A connected server failed.
const CONN: u8 = 74;

fn main() -> ExitCode {
    prog::main("qmail-qmqpc", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = sig::ignore(sig::SIGPIPE);
    std::env::set_current_dir(conf::HOME).map_err(|_| Fail::silent(qq::HOME))?;
    let lines = match control::list("control/qmqpservers") {
        Ok(Some(l)) => l,
        _ => return Err(Fail::silent(qq::CONFIG)),
    };
    let message = read_message()?;
    let envfd = fd::inherited(1).ok_or(Fail::silent(qq::READ))?;
    let (sender, recips) = match qmqp::envelope(&mut BufReader::new(File::from(envfd))) {
        Ok(e) => e,
        Err(EnvError::Format) => return Err(Fail::silent(qq::FORMAT)),
        Err(EnvError::Read(e)) => return Err(Fail::silent(read_code(&e))),
    };
    let (before, after) = qmqp::package(message.len(), &sender, &recips);
    let mut last = NO_SERVER;
    for ip in qmqp::servers(&lines) {
        match TcpStream::connect_timeout(&SocketAddr::new(ip, qmqp::PORT), CONNECT) {
            Ok(s) => return Ok(talk(s, &[&before, &message, &after])),
            Err(e) => match qmqp::connect_code(&e) {
                56 => return Err(Fail::silent(56)),
                code => last = code,
            },
        }
    }
    Err(Fail::silent(last))
}

/// The whole of fd 0; out of memory is 51, any read error 54.
fn read_message() -> Result<Vec<u8>, Fail> {
    let mut input = fd::inherited(0)
        .map(File::from)
        .ok_or(Fail::silent(qq::READ))?;
    let mut message = Vec::new();
    loop {
        message
            .try_reserve(65536)
            .map_err(|_| Fail::silent(qq::NOMEM))?;
        let start = message.len();
        message.resize(message.capacity(), 0);
        match input.read(&mut message[start..]) {
            Ok(0) => {
                message.truncate(start);
                return Ok(message);
            }
            Ok(n) => message.truncate(start + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => message.truncate(start),
            Err(e) => return Err(Fail::silent(read_code(&e))),
        }
    }
}

fn read_code(e: &io::Error) -> u8 {
    if e.kind() == io::ErrorKind::OutOfMemory || e.raw_os_error() == Some(12) {
        qq::NOMEM
    } else {
        qq::READ
    }
}

/// Sends the package and reads until the first verdict byte.
fn talk(mut s: TcpStream, parts: &[&[u8]]) -> u8 {
    if s.set_read_timeout(Some(IO)).is_err() || s.set_write_timeout(Some(IO)).is_err() {
        return CONN;
    }
    for p in parts {
        if s.write_all(p).is_err() {
            return CONN;
        }
    }
    let mut buf = [0u8; 128];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return CONN,
            Ok(n) => {
                if let Some(code) = buf[..n].iter().find_map(|&b| qmqp::verdict(b)) {
                    return code;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return CONN,
        }
    }
}
