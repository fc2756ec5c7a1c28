//! qmail-remote — deliver one message to the hosts of one domain, by SMTP or QMTP.
//!
//! Usage:    qmail-remote host sender recipient [recipient ...]   (run by qmail-rspawn)
//! Input:    fd 0: the message (read twice: a queue file, or else it is read into memory).
//! Output:   on fd 1, a report per recipient (`r` accepted, `h` refused for good, `s`
//!           refused for now) then one for the message (`K` delivered, `Z` try again later,
//!           `D` give up), each `<letter><text>\0` (spec qmail.md §5.3).
//! Controls: helohost (default: me; with neither, every message is deferred), smtproutes,
//!           timeoutconnect (60), timeoutremote (1200), and beyond qmail: qmtproutes (routes
//!           that go by QMTP, consulted first, port 209) and outgoingip (the source address of
//!           connections of its family). Read afresh for every message.
//! Environment: DNSCACHEIP, if set, the DNS servers to ask instead of /etc/resolv.conf's.
//! Behaviour: routes, else MX records (equal preferences shuffled; none: the domain's own
//!           addresses), IPv6 and IPv4; not to this host when it is the best exchanger; each
//!           address in turn within timeoutconnect, skipping those the timeout table
//!           (queue/lock/tcpto, tcpto6) marks down; EHLO (HELO if refused), SIZE, 8BITMIME
//!           and PIPELINING when the server offers them (an 8-bit message to a server without
//!           8BITMIME goes as it is, as qmail sent it: converting would alter a signed message,
//!           refusing would bounce mail that nearly every server takes). A failure before the
//!           server answers MAIL moves on to the next address; after that its answer stands.
//! Exit:     0 always (the result is the report); 111 only if fd 1 cannot be written.
//! Runs as:  qmailr.  Trusts: nothing the servers or the DNS say, beyond its meaning.
//! Spec:     shared/spec/qmail.md §5.2–5.6; decisions.md (routes, outgoingip, DNSCACHEIP).

use qlib::fail::Fail;
use qlib::remote::{self, Controls, Reports};
use qlib::sys::{fd, sig};
use qlib::{conf, prog};
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("qmail-remote", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = sig::ignore(sig::SIGPIPE);
    let reports = deliver(&argv);
    let mut out = fd::inherited(1).map(File::from).ok_or(Fail::silent(111))?;
    out.write_all(&reports.encode())
        .map_err(|_| Fail::silent(111))?;
    Ok(0)
}

fn text(letter: u8, t: &str) -> Reports {
    Reports::message(letter, t.as_bytes().to_vec())
}

fn deliver(argv: &[OsString]) -> Reports {
    if argv.len() < 4 {
        return text(b'D', "I (qmail-remote) was invoked improperly. (#5.3.5)\n");
    }
    if std::env::set_current_dir(conf::HOME).is_err() {
        return text(b'Z', "Unable to switch to home directory. (#4.3.0)\n");
    }
    let ctl = match Controls::read() {
        Ok(Some(c)) => c,
        Ok(None) | Err(_) => return text(b'Z', "Unable to read control files. (#4.3.0)\n"),
    };
    let Some(mut msg) = fd::inherited(0).map(File::from) else {
        return text(b'Z', "Unable to read message. (#4.3.0)\n");
    };
    let bytes = |a: &OsString| a.as_bytes().to_vec();
    let recipients: Vec<Vec<u8>> = argv[3..].iter().map(bytes).collect();
    let (host, sender) = (bytes(&argv[1]), bytes(&argv[2]));
    if msg.rewind().is_ok() {
        return remote::deliver(&ctl, &host, &sender, &recipients, &mut msg);
    }
    // Not a file (run by hand from a pipe): the message is read twice, so into memory.
    let mut copy = Vec::new();
    if msg.read_to_end(&mut copy).is_err() {
        return text(b'Z', "Unable to read message. (#4.3.0)\n");
    }
    remote::deliver(
        &ctl,
        &host,
        &sender,
        &recipients,
        &mut std::io::Cursor::new(copy),
    )
}
