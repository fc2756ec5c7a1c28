//! serialsmtp — send the Maildir files named on stdin to the SMTP server on fds 6 and 7.
//!
//! Usage:    serialsmtp prefix helohost      (a UCSPI client program: `tcpclient host 25
//!           serialsmtp prefix helohost`, usually run by maildirserial)
//! Input:    file names, each ended by `\0`, on stdin. A file that starts with
//!           `Return-Path: <sender>` and `Delivered-To: prefixrecipient` goes to recipient
//!           (prefix removed) from sender, without those two lines; any other file is skipped
//!           without a word. Addresses are taken as canonical; helohost should be a full
//!           domain name. One session: EHLO (HELO if refused), then per file RSET (not
//!           before the first), MAIL, RCPT, DATA — pipelined when the server offers
//!           PIPELINING — and QUIT at the end of the input.
//! Output:   per file sent, `name\0`, `K` (accepted), `Z` (temporary) or `D` (permanent),
//!           `$TCPREMOTEIP said: ` if that is set, the last line of the deciding reply, `\n`;
//!           at most 2000 bytes, bytes outside 32–126 shown as `?`; flushed at once.
//! Environment: TCPREMOTEIP (set by tcpclient).
//! Exit:     0 at the end of the input; 100 usage; 111 (`serialsmtp: fatal: …`): a file that
//!           cannot be opened or read, a network error or 81 s without a byte from the server,
//!           73 s unable to write to it, a greeting other than 220, both names refused, a
//!           protocol violation, a message whose last line has no end, or output that cannot
//!           be written. The files not yet reported are left for the next run.
//! Runs as:  the Maildir's owner, under maildirserial and tcpclient. Trusts: nothing from
//!           the server (its text is cut and made printable), its file names.
//! Spec:     shared/spec/addons.md §4 (serialmail 0.75 serialsmtp). Beyond it: line ends
//!           are those of qmail-remote (a bare CR ends a line, CRLF stays one line end).

use qlib::fail::{Fail, OrFail as _};
use qlib::getln::{getln, Got};
use qlib::serial::smtp::{Error, Session};
use qlib::serial::{self, NAME_MAX};
use qlib::sys::{fd, sig};
use qlib::{args, env, errtext, prog, timeout};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "serialsmtp prefix helohost";
/// serialmail's limits: a silent server for 81 s, or a full socket for 73 s.
const READ: Duration = Duration::from_secs(81);
const WRITE: Duration = Duration::from_secs(73);

fn main() -> ExitCode {
    prog::main("serialsmtp", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let rest = args::at_least(args::none(argv), 2, USAGE)?;
    let (prefix, helo) = (rest[0].as_bytes(), rest[1].as_bytes());
    let _ = sig::ignore(sig::SIGPIPE);
    let ip = env::get("TCPREMOTEIP");
    let rd = File::from(fd::inherited(6).ok_or_else(|| fatal(Error::Read(ebadf())))?);
    let wr = File::from(fd::inherited(7).ok_or_else(|| fatal(Error::Write(ebadf())))?);
    let rd = BufReader::with_capacity(16384, timeout::Reader::new(rd, READ));
    let wr = BufWriter::with_capacity(16384, timeout::Writer::new(wr, WRITE));
    let mut s = Session::start(rd, wr, helo).map_err(fatal)?;
    let mut input = BufReader::new(io::stdin().lock());
    let mut out = io::stdout().lock();
    let mut name = Vec::new();
    while getln(&mut input, 0, NAME_MAX, &mut name).or_temp("unable to read input")? == Got::Record
    {
        let shown = String::from_utf8_lossy(&name).into_owned();
        let f = File::open(OsStr::from_bytes(&name)).or_temp(&format!("unable to open {shown}"))?;
        let mut msg = BufReader::new(f);
        let Some(envelope) = serial::envelope(&mut msg).or_temp("unable to read file")? else {
            continue;
        };
        let Some(v) = s.send(&envelope, prefix, &mut msg).map_err(fatal)? else {
            continue;
        };
        let line = serial::result(&name, v.status(), ip.as_deref(), &v.line);
        out.write_all(&line)
            .and_then(|()| out.flush())
            .or_temp("unable to write output")?;
        s.settle().map_err(fatal)?;
    }
    s.quit();
    Ok(0)
}

fn ebadf() -> io::Error {
    io::Error::from_raw_os_error(9)
}

fn fatal(e: Error) -> Fail {
    Fail::temp(match e {
        Error::Read(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            "network read error: end of file".to_string()
        }
        Error::Read(e) => format!("network read error: {}", errtext::text(&e)),
        Error::Write(e) => format!("network write error: {}", errtext::text(&e)),
        Error::Proto => "protocol violation".into(),
        Error::Greeting => "connected but greeting failed".into(),
        Error::Name => "connected but my name was rejected".into(),
        Error::Partial => "SMTP cannot transfer messages with partial final lines".into(),
        Error::File(e) => format!("unable to read file: {}", errtext::text(&e)),
    })
}
