//! qmail-smtpd — receive mail over SMTP (RFC 5321) and hand each message to qmail-queue.
//!
//! Usage:    qmail-smtpd        (no arguments; run by tcpserver or tcp-env per connection)
//! Input:    fd 0: the client's commands and data. fd 1: the replies. Replies are buffered and
//!           written only when the server is about to wait for the client, so a pipelined
//!           batch of commands is answered with one write.
//! Commands: HELO, EHLO (PIPELINING, 8BITMIME, SIZE), MAIL, RCPT, DATA, RSET, NOOP, VRFY, HELP,
//!           QUIT; anything else gets `502 unimplemented (#5.5.1)`.
//! Controls: (read from the qmail home at each start) smtpgreeting (else me; neither → 421),
//!           localiphost (else me), timeoutsmtpd (1200; 0 → 1), rcpthosts + morercpthosts.cdb,
//!           badmailfrom, databytes (0 = no limit).
//! Environment: TCPREMOTEIP, TCPREMOTEHOST, TCPREMOTEINFO, TCPLOCALHOST or TCPLOCALIP (the
//!           Received line); RELAYCLIENT (set: relay for this client, and append its value to
//!           every recipient); DATABYTES (overrides control/databytes); QMAILQUEUE (the queue
//!           program, relative to the qmail home; default bin/qmail-queue); RCPTCHECK (set
//!           and not empty: the absolute path of a recipient checker, normally
//!           bin/qmail-rcptcheck under the qmail home; see below).
//! Exit:     0 after QUIT; 1 when the conversation ends otherwise (the client left or was
//!           silent for timeoutsmtpd seconds, a bare LF in DATA, a reply could not be written);
//!           111 when it cannot start (controls, no fd 0/1), or a control file fails or
//!           this host's IP addresses cannot be listed mid-session, after a `421` reply.
//! Runs as:  qmaild (tcpserver -u), with SIGPIPE ignored.  Trusts: nothing from the client;
//!           the control files and the environment set by tcpserver and its rules.
//! Spec:     shared/spec/qmail.md §7.1, §6.
//!
//! Beyond qmail 1.03 / notqmail:
//! - SIZE (RFC 1870): EHLO's last line is `250 SIZE <databytes>` (plain `SIZE` when there is
//!   no limit), and `MAIL FROM:<a> SIZE=n` with n over databytes gets `552 sorry, that message
//!   size exceeds my databytes limit (#5.3.4)` at once; no transaction starts (an earlier one
//!   stays as it was, as after a syntax error). Other ESMTP parameters are ignored.
//! - A command line over 4096 bytes (qmail: no bound) is read to its LF, thrown away, and
//!   answered `500 line too long (#5.5.2)`. DATA lines have no limit: data is streamed.
//! - A NUL in a MAIL or RCPT address is `555 syntax error (#5.5.4)` (qmail turned it into LF).
//! - More than 10000 recipients in one transaction (qmail: no bound) get
//!   `452 sorry, too many recipients (#4.5.3)`, so a client cannot grow the envelope without end.
//! - `localiphost` matches `[d.d.d.d]` only with octets 0–255 (qmail wrapped larger numbers),
//!   against this host's IPv4 addresses from getifaddrs, and 0.0.0.0. The addresses are
//!   listed when a MAIL or RCPT argument first contains `[` (qmail listed them at startup,
//!   for every connection; a failure then is the same `421 unable to figure out my IP
//!   addresses (#4.3.0)`, and the session ends).
//! - RCPTCHECK: each recipient that passed rcpthosts (or RELAYCLIENT, whose value is appended
//!   first) and the recipient limit is given to that program, run directly (no shell) with
//!   the address as its one argument, stdin and stdout on /dev/null, this process's
//!   environment and stderr. Exit 0: `250 ok`; 100: `550 sorry, no mailbox here by that name
//!   (#5.1.1)` and the recipient is not added; anything else, a crash or a failure to run it:
//!   `451 temporary failure checking the recipient (#4.3.0)`, not added. Replies stay in
//!   command order under PIPELINING (one check at a time). Unset or empty: no check.
//! - On a bare LF, a timeout or a vanished client during DATA, the queue run is aborted (no
//!   envelope, so qmail-queue removes its files) and waited for before the exit.

use qlib::fail::{Fail, OrFail as _};
use qlib::qmail::Queue;
use qlib::smtpd::input::Net;
use qlib::smtpd::session::{End, Job, Session};
use qlib::smtpd::{self, Startup};
use qlib::sys::{fd, sig};
use qlib::{conf, date, prog, timeout};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::OwnedFd;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// Reply buffer; a full buffer is written even in the middle of a pipelined batch.
const OUT_BUF: usize = 8192;

fn main() -> ExitCode {
    prog::main("qmail-smtpd", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    sig::ignore(sig::SIGPIPE).or_temp("unable to ignore SIGPIPE")?;
    let input = fd::inherited(0).ok_or_else(|| Fail::temp("no input on fd 0"))?;
    let output = fd::inherited(1).ok_or_else(|| Fail::temp("no output on fd 1"))?;
    let loaded = match std::env::set_current_dir(conf::HOME) {
        Ok(()) => smtpd::load(),
        Err(e) => Err(Startup::Controls(e)),
    };
    let (cfg, secs) = match loaded {
        Ok(l) => l,
        Err(Startup::Controls(_)) => {
            return Err(refuse(output, b"421 unable to read controls (#4.3.0)\r\n"))
        }
    };
    let limit = Duration::from_secs(secs);
    let out = BufWriter::with_capacity(OUT_BUF, timeout::Writer::new(File::from(output), limit));
    let mut open = || Queue::open().map(|q| Box::new(q) as Box<dyn Job>);
    let now = || date::secs(SystemTime::now());
    let end = Session::new(cfg, Net::new(File::from(input), limit), out, &mut open, now).run();
    Ok(match end {
        End::Quit => 0,
        End::Controls | End::Ips => 111,
        End::Gone | End::Write | End::Timeout | End::BareLf => 1,
    })
}

/// Sends the one reply a server that cannot start gives, and exits 111.
fn refuse(output: OwnedFd, text: &[u8]) -> Fail {
    let mut out = timeout::Writer::new(File::from(output), Duration::from_secs(1200));
    let _ = out.write_all(text);
    Fail::silent(111)
}
