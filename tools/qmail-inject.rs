//! qmail-inject — prepare a message from stdin and hand it to qmail-queue.
//!
//! Usage:    qmail-inject [ -nNaAhH ] [ -f sender ] [ recip ... ]
//! Options:  -a  recipients are the arguments only; -h  the header addresses only;
//!           -A  the arguments if there are any, else the header (default);
//!           -H  header addresses and arguments;
//!           -f sender  envelope sender (rewritten; beats Return-Path and the environment);
//!           -n  print the message, after `Return-Path: <sender>`, instead of queueing it;
//!           -N  queue it (default).
//! Environment: QMAILINJECT (letters c s f i r m), QMAILUSER MAILUSER USER LOGNAME,
//!           QMAILHOST MAILHOST, QMAILNAME MAILNAME NAME, QMAILSUSER, QMAILSHOST,
//!           QMAILDEFAULTDOMAIN, QMAILDEFAULTHOST, QMAILPLUSDOMAIN, QMAILIDHOST,
//!           QMAILMFTFILE (relative to the current directory), QMAILQUEUE.
//!           Controls: me, defaultdomain, defaulthost, plusdomain, idhost under the qmail home.
//! Exit:     0 queued (or printed); 100 usage, an unparsable address argument or header
//!           field, a header over the size limits, or a permanent qmail-queue refusal;
//!           111 unreadable controls or input, qmail-queue not runnable or temporarily failing.
//! Runs as:  any user.  Trusts: nothing; the message and environment are the caller's own.
//! Spec:     shared/spec/qmail.md §8.1–8.5, §8.7, §3.5

use qlib::control::{self, Map};
use qlib::fail::{Fail, OrFail as _};
use qlib::getopt::{self, Getopt, Opt};
use qlib::header::{self, CopyError, Next};
use qlib::inject::{Config, Flags, Inject};
use qlib::qmail::Queue;
use qlib::{conf, date, env, errtext, prog, sys};
use std::ffi::OsString;
use std::io::{self, BufRead, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "qmail-inject [ -nNaAhH ] [ -f sender ] [ recip ... ]";
/// A single header field (continuation lines included) may not be longer.
const MAX_FIELD: usize = 1 << 20;
/// Nor may the whole header.
const MAX_HEADER: usize = 4 << 20;

fn main() -> ExitCode {
    prog::main("qmail-inject", run)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Recip {
    Default,
    Args,
    Header,
    Both,
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = sys::sig::ignore(sys::sig::SIGPIPE);
    let start = date::secs(std::time::SystemTime::now());
    let (mut strategy, mut queue, mut senders) = (Recip::Default, true, Vec::new());
    let mut g = Getopt::new(&argv, "aAhHnNf:");
    while let Some(o) = g.next_opt() {
        match o {
            Opt::Found(b'a', _) => strategy = Recip::Args,
            Opt::Found(b'A', _) => strategy = Recip::Default,
            Opt::Found(b'h', _) => strategy = Recip::Header,
            Opt::Found(b'H', _) => strategy = Recip::Both,
            Opt::Found(b'n', _) => queue = false,
            Opt::Found(b'N', _) => queue = true,
            Opt::Found(b'f', Some(s)) => senders.push(s),
            Opt::Bad(c) => {
                getopt::complain("aAhHnNf:", c);
                return Err(Fail::usage(USAGE));
            }
            Opt::Found(..) => return Err(Fail::usage(USAGE)),
        }
    }
    let args = g.rest();
    if strategy == Recip::Default {
        strategy = if args.is_empty() {
            Recip::Header
        } else {
            Recip::Args
        };
    }

    let mut msg = Inject::new(config(start)?).map_err(|e| Fail::perm(e.message()))?;
    for s in &senders {
        msg.sender_option(s).map_err(|e| Fail::perm(e.message()))?;
    }
    if strategy != Recip::Header {
        for a in &args {
            msg.recipient(a.as_bytes())
                .map_err(|e| Fail::perm(e.message()))?;
        }
    }

    let mut input = header::Reader::new(io::stdin().lock(), MAX_FIELD, MAX_HEADER);
    let body_start = loop {
        match input.next_part() {
            Ok(Next::Field(f)) => msg.field(f).map_err(|e| Fail::perm(e.message()))?,
            Ok(Next::Body(b)) => break b,
            Err(header::Error::Io(e)) => return Err(read_error(e)),
            Err(header::Error::TooLong) => return Err(Fail::perm("header too long")),
        }
        if msg.saved_len() > MAX_HEADER {
            return Err(Fail::perm("header too long"));
        }
    };
    let head = msg.finish(!queue).map_err(|e| Fail::perm(e.message()))?;
    let last = body_start.last().copied();
    let mut rest = input.into_inner();

    if !queue {
        let out =
            sys::fd::inherited(1).ok_or_else(|| Fail::temp("unable to write output: no stdout"))?;
        let mut out = io::BufWriter::with_capacity(65536, std::fs::File::from(out));
        out.write_all(&head).or_temp("unable to write output")?;
        out.write_all(&body_start)
            .or_temp("unable to write output")?;
        copy(&mut rest, &mut out, last)?;
        out.flush().or_temp("unable to write output")?;
        return Ok(0);
    }

    let mut qq = Queue::open().or_temp("unable to run qmail-queue")?;
    qq.put(&head);
    qq.put(&body_start);
    copy(&mut rest, &mut Sink(&mut qq), last)?;
    qq.from(msg.sender());
    for r in msg.recipients(strategy != Recip::Args) {
        qq.to(r);
    }
    match qq.close() {
        Ok(()) => Ok(0),
        Err(r) if r.perm => Err(Fail::perm(r.text)),
        Err(r) => Err(Fail::temp(r.text)),
    }
}

/// Controls and environment, as §8.3 and §8.5 describe.
fn config(start: i64) -> Result<Config, Fail> {
    let mft = match env::get("QMAILMFTFILE") {
        Some(f) => control::list(Path::new(std::ffi::OsStr::from_bytes(&f)))
            .or_temp("unable to read QMAILMFTFILE")?
            .map(|l| Map::new(&l, false)),
        None => None,
    };
    let home = Path::new(conf::HOME);
    let me = control::line(home.join("control/me")).or_temp("unable to read controls")?;
    let setting = |file: &str, var: &str| -> Result<Vec<u8>, Fail> {
        let v = control::line_or_me(home.join("control").join(file), me.as_deref(), file)
            .or_temp("unable to read controls")?;
        Ok(env::get(var).unwrap_or(v))
    };
    let user = env::first(&["QMAILUSER", "MAILUSER", "USER", "LOGNAME"])
        .unwrap_or_else(|| b"anonymous".to_vec());
    let host = env::first(&["QMAILHOST", "MAILHOST"]);
    Ok(Config {
        defaultdomain: setting("defaultdomain", "QMAILDEFAULTDOMAIN")?,
        defaulthost: setting("defaulthost", "QMAILDEFAULTHOST")?,
        plusdomain: setting("plusdomain", "QMAILPLUSDOMAIN")?,
        idhost: setting("idhost", "QMAILIDHOST")?,
        flags: Flags::parse(&env::get("QMAILINJECT").unwrap_or_default()),
        suser: env::get("QMAILSUSER").unwrap_or_else(|| user.clone()),
        shost: env::get("QMAILSHOST").or_else(|| host.clone()),
        name: env::first(&["QMAILNAME", "MAILNAME", "NAME"]),
        user,
        host,
        mft,
        start,
        pid: std::process::id(),
    })
}

fn read_error(e: io::Error) -> Fail {
    Fail::temp(format!("unable to read input: {}", errtext::text(&e)))
}

fn copy(r: &mut impl BufRead, w: &mut impl Write, last: Option<u8>) -> Result<(), Fail> {
    match header::copy_body(r, w, last) {
        Ok(()) => Ok(()),
        Err(CopyError::Read(e)) => Err(read_error(e)),
        Err(CopyError::Write(e)) => Err::<(), _>(e).or_temp("unable to write output"),
    }
}

/// qmail-queue's message pipe as a writer; its errors are reported when it is closed.
struct Sink<'a>(&'a mut Queue);

impl Write for Sink<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.put(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
