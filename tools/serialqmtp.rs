//! serialqmtp — send the Maildir files named on stdin to the QMTP server on fds 6 and 7.
//!
//! Usage:    serialqmtp prefix               (a UCSPI client program: `tcpclient host 209
//!           serialqmtp prefix`, usually run by maildirserial)
//! Input:    file names, each ended by `\0`, on stdin. A file that starts with
//!           `Return-Path: <sender>` and `Delivered-To: prefixrecipient` goes to recipient
//!           (prefix removed) from sender, without those two lines; any other file is skipped
//!           without a word. The packages go out back to back while the responses are read.
//! Output:   per file sent, `name\0`, the response's `K`, `Z` or `D`, `$TCPREMOTEIP said: ` if
//!           that is set, the response's text, `\n`; at most 2000 bytes, bytes outside 32–126
//!           shown as `?`; flushed at once.
//! Environment: TCPREMOTEIP (set by tcpclient).
//! Exit:     0 when every package sent has its response; 100 usage; 111
//!           (`serialqmtp: fatal: …`): a file that cannot be opened (`unable to open file`) or
//!           read, 73 s unable to write to the network, a read error or an hour without a byte
//!           from the server, a response that is not a K/Z/D netstring (`remote protocol
//!           violation`), or output that cannot be written.
//! Runs as:  the Maildir's owner, under maildirserial and tcpclient. Trusts: nothing from
//!           the server (its text is cut and made printable), its file names.
//! Spec:     shared/spec/addons.md §4 (serialmail 0.75 serialqmtp); formats.md §3. The
//!           original's writing child is a thread here.

use qlib::fail::{Fail, OrFail as _};
use qlib::getln::{getln, Got};
use qlib::netstring::Error;
use qlib::serial::{self, qmtp, NAME_MAX, RESULT_MAX};
use qlib::sys::{fd, sig};
use qlib::{args, env, errtext, prog, timeout};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

const USAGE: &str = "serialqmtp prefix";
/// serialmail's limits: a full socket for 73 s; an hour (QMTP's session bound) of silence.
const WRITE: Duration = Duration::from_secs(73);
const READ: Duration = Duration::from_secs(3600);

fn main() -> ExitCode {
    prog::main("serialqmtp", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::at_least(args::none(argv), 1, USAGE)?;
    let prefix = rest[0].as_bytes().to_vec();
    let _ = sig::ignore(sig::SIGPIPE);
    let ip = env::get("TCPREMOTEIP");
    let (names, sent) = mpsc::channel();
    // The writer tells the reader each name once its package is out.
    let writer = std::thread::spawn(move || send_all(&prefix, &names));
    let net = fd::inherited(6).map(File::from);
    let mut rd = net.map(|f| BufReader::new(timeout::Reader::new(f, READ)));
    let mut out = io::stdout().lock();
    for name in sent {
        let Some(rd) = rd.as_mut() else {
            return Err(Fail::temp("network read error: file descriptor not open"));
        };
        let (status, text) = qmtp::response(rd, RESULT_MAX).map_err(|e| match e {
            Error::Eof => Fail::temp("network read error: end of file"),
            Error::Io(e) => Fail::temp(format!("network read error: {}", errtext::text(&e))),
            Error::Proto | Error::TooLong => Fail::temp("remote protocol violation"),
        })?;
        let line = serial::result(&name, status, ip.as_deref(), &text);
        out.write_all(&line)
            .and_then(|()| out.flush())
            .or_temp("unable to write output")?;
    }
    match writer.join() {
        Ok(Ok(())) => Ok(0),
        Ok(Err(what)) => Err(Fail::temp(what)),
        Err(_) => Err(Fail::temp("child crashed")),
    }
}

/// Reads the names on stdin and sends a package for each file that has the prefix.
fn send_all(prefix: &[u8], names: &mpsc::Sender<Vec<u8>>) -> Result<(), &'static str> {
    const NET: &str = "unable to write to network";
    let net = File::from(fd::inherited(7).ok_or(NET)?);
    let mut w = BufWriter::with_capacity(16384, timeout::Writer::new(net, WRITE));
    let mut input = BufReader::new(io::stdin().lock());
    let mut name = Vec::new();
    loop {
        match getln(&mut input, 0, NAME_MAX, &mut name) {
            Ok(Got::Record) => {}
            Ok(_) => return Ok(()),
            Err(_) => return Err("unable to read input"),
        }
        let f = File::open(OsStr::from_bytes(&name)).map_err(|_| "unable to open file")?;
        let size = f.metadata().map_err(|_| "unable to open file")?.len();
        let mut msg = BufReader::new(f);
        let env = match serial::envelope(&mut msg) {
            Ok(Some(e)) if e.recipient.starts_with(prefix) && e.head_len <= size => e,
            Ok(_) => continue,
            Err(_) => return Err("unable to read file"),
        };
        qmtp::package(&mut w, &env, prefix, &mut msg, size - env.head_len)
            .and_then(|()| w.flush())
            .map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => "unable to read file",
                _ => NET,
            })?;
        // Only a package that is out can be answered; told after it, the reader never stops
        // (on a server's error) before the package was written, as the original's separate
        // writer process would not.
        if names.send(name.clone()).is_err() {
            return Ok(());
        }
    }
}
