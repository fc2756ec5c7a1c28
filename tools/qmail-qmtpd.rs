//! qmail-qmtpd — take mail over QMTP and put it into the queue.
//!
//! Usage:    qmail-qmtpd        (arguments are ignored), normally as
//!           `tcpserver -u qmaild -g nofiles 0 209 qmail-qmtpd`
//! Protocol: fd 0 brings packages (netstrings of the encoded message, the sender and the
//!           recipient list); encoding `\n` is stored as it is, `\r` has each CRLF turned into
//!           LF (a lone CR stays). After the last byte of each package, fd 1 gets one netstring
//!           per recipient in order: `Kok <time> qp <pid>`, `Z…` or `D…`. A recipient of 1000
//!           bytes or more (counting `$RELAYCLIENT`) or with a NUL gets `Dsorry, I can't handle
//!           that recipient (#5.1.3)`; one outside rcpthosts `Dsorry, that domain isn't in my
//!           list of allowed rcpthosts (#5.7.1)`; a bad sender or a message over databytes
//!           gives every other recipient `Dunacceptable sender (#5.1.7)` or `Dsorry, that
//!           message size exceeds my databytes limit (#5.3.4)` and nothing is queued. Replies
//!           are buffered and flushed when more input is needed, so pipelined packages are
//!           answered together. Each message gets `Received: from HOST (INFO@IP)\n  by LOCAL
//!           with QMTP; DATE` on top.
//! Environment: TCPREMOTEIP, TCPREMOTEHOST, TCPREMOTEINFO, TCPLOCALHOST, TCPLOCALIP (for the
//!           Received field; `unknown` when unset); RELAYCLIENT (appended to every recipient,
//!           which then skips rcpthosts); DATABYTES (overrides control/databytes); QMAILQUEUE.
//! Controls: rcpthosts, morercpthosts.cdb, databytes (0 or missing: no limit), read once per
//!           connection below the qmail home.
//! Exit:     0 when the client closes, or on a read or write error; 100 on a protocol
//!           violation (bad length, wrong encoding byte, missing comma, empty message); 111
//!           when resources fail (qmail home, controls, qmail-queue will not start, a length
//!           above 200000000) or after the one-hour limit on the connection. Prints nothing.
//!           A package cut short is discarded; packages answered before stay queued.
//! Runs as:  qmaild, under tcpserver.  Trusts: nothing it reads from the network.
//! Spec:     shared/spec/qmail.md §7.2; formats.md §2, §3.

use qlib::fail::{Fail, OrFail as _};
use qlib::qmail::Queue;
use qlib::qmtp::{self, Config, Net};
use qlib::rcpthosts::RcptHosts;
use qlib::received::Peer;
use qlib::sys::{fd, sig};
use qlib::{conf, control, env, exit, prog, scan};
use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// The limit on a whole connection.
const ALARM: u32 = 3600;

fn main() -> ExitCode {
    prog::main("qmail-qmtpd", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = sig::ignore(sig::SIGPIPE);
    let _ = sig::exit_on(sig::SIGALRM, exit::TEMP);
    sig::alarm(ALARM);
    std::env::set_current_dir(conf::HOME).or_code(exit::TEMP)?;
    let rcpthosts = RcptHosts::open(Path::new(".")).or_code(exit::TEMP)?;
    let mut databytes = control::int("control/databytes", 0).or_code(exit::TEMP)?;
    if let Some(d) = env::get("DATABYTES") {
        databytes = scan::ulong(&d).0;
    }
    let cfg = Config {
        relayclient: env::get("RELAYCLIENT"),
        databytes,
        rcpthosts,
        peer: Peer::from_env(),
    };
    let (Some(input), Some(output)) = (fd::inherited(0), fd::inherited(1)) else {
        return Ok(exit::OK);
    };
    let mut conn = Net::new(File::from(input), File::from(output));
    let end = qmtp::serve(&mut conn, &cfg, &mut Queue::open);
    // Packages answered but not yet flushed (the client pipelined past them) are queued:
    // tell the client so even when the next one broke the protocol.
    let _ = conn.get_mut().output.flush();
    Ok(end.code())
}
