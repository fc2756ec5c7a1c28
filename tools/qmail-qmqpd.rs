//! qmail-qmqpd — take one message over QMQP from a trusted client and queue it.
//!
//! Usage:    qmail-qmqpd        (arguments are ignored), normally as
//!           `tcpserver -x qmqp.cdb -u qmaild -g nofiles 0 628 qmail-qmqpd` with rules that let
//!           only the mini-qmail clients in: QMQP relays anything it is given.
//! Protocol: fd 0 brings one netstring holding the netstrings of the message, the sender and
//!           each recipient; after its last byte fd 1 gets one netstring, `Kok <time> qp
//!           <pid>`, `Z…` or `D…`, and the connection ends. An address of 1000 bytes or more
//!           or with a NUL aborts the message: `Dsorry, I can't accept addresses like that
//!           (#5.1.3)`. The message is stored as it is, under `Received: from HOST (INFO@IP)\n
//!           by LOCAL with QMQP; DATE`. Every read is bounded by the outer length.
//! Environment: TCPREMOTEIP, TCPREMOTEHOST, TCPREMOTEINFO, TCPLOCALHOST, TCPLOCALIP (for the
//!           Received field); QMAILQUEUE.
//! Exit:     0 after answering, or when the client closes early or a read fails (nothing
//!           queued); 100 on a protocol violation; 111 when resources fail (qmail home,
//!           qmail-queue, a length above 200000000) or after one hour. Prints nothing.
//! Runs as:  qmaild, under tcpserver.  Trusts: the client to be allowed to relay (tcprules
//!           decide who gets in); nothing in the bytes it sends.
//! Spec:     shared/spec/qmail.md §7.3; formats.md §2, §4.

use qlib::fail::{Fail, OrFail as _};
use qlib::qmail::Queue;
use qlib::received::Peer;
use qlib::sys::{fd, sig};
use qlib::{conf, exit, netstring, prog, qmqp};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufReader, Write};
use std::process::ExitCode;

/// The limit on the connection.
const ALARM: u32 = 3600;

fn main() -> ExitCode {
    prog::main("qmail-qmqpd", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = sig::ignore(sig::SIGPIPE);
    let _ = sig::exit_on(sig::SIGALRM, exit::TEMP);
    sig::alarm(ALARM);
    std::env::set_current_dir(conf::HOME).or_code(exit::TEMP)?;
    let (Some(input), Some(output)) = (fd::inherited(0), fd::inherited(1)) else {
        return Ok(exit::OK);
    };
    let mut input = BufReader::new(File::from(input));
    match qmqp::serve(&mut input, &Peer::from_env(), &mut Queue::open) {
        Ok(answer) => {
            let _ = File::from(output).write_all(&netstring::encode(answer.as_bytes()));
            Ok(exit::OK)
        }
        Err(end) => Ok(end.code()),
    }
}
