//! qreceipt — answer a request for a delivery notice.
//!
//! Usage:    qreceipt deliveryaddress
//! Environment: `SENDER` (the envelope sender, set by qmail-local); `QMAILQUEUE`.
//! Exit:     0 notice queued, or none requested (no `Notice-Requested-Upon-Delivery-To:`
//!           address equal to `deliveryaddress`, or `SENDER` empty or `#@[]`); 100 usage
//!           (no argument, `SENDER` unset), a notice field that does not parse, or a
//!           permanent qmail-queue refusal; 111 read error, qmail-queue not started or
//!           refusing temporarily.
//! Runs as:  the .qmail owner, under qmail-local (`|qreceipt joe@x`). Trusts: nothing; the
//!           message header is hostile and is only parsed, never executed.
//! Spec:     shared/spec/qmail.md §10.11; formats.md §7.
//!
//! Reads only the header. The notice goes to `SENDER` with an empty envelope sender, from
//! `DELIVERY NOTICE SYSTEM`, and quotes the original `Message-ID:` field if there was one.
//! Beyond qmail: a header field over 1 MB or a header over 16 MB is refused as "out of
//! memory" (qmail grew its buffers until malloc failed).

use qlib::fail::Fail;
use qlib::header::{self, Field, Next, Reader};
use qlib::sys::sig;
use qlib::{addrlist, env, prog, qmail, quote};
use std::ffi::OsString;
use std::io::{self, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

const USAGE: &str = "qreceipt deliveryaddress";

fn main() -> ExitCode {
    prog::main("qreceipt", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = sig::ignore(sig::SIGPIPE);
    let target = argv.get(1).ok_or_else(|| Fail::usage(USAGE))?;
    let target = target.as_bytes().to_vec();
    let sender = env::get("SENDER").ok_or_else(|| Fail::usage(USAGE))?;

    let mut h = Reader::new(BufReader::new(io::stdin().lock()), 1 << 20, 16 << 20);
    let (mut wanted, mut message_id) = (false, None);
    loop {
        let f = match h.next_part() {
            Ok(Next::Field(f)) => f,
            Ok(Next::Body(_)) => break,
            Err(header::Error::TooLong) => return Err(Fail::temp("out of memory")),
            Err(header::Error::Io(_)) => return Err(Fail::temp("read error")),
        };
        match header::known(&f) {
            Some(Field::MessageId) => message_id = Some(f),
            Some(Field::NoticeRequestedUponDeliveryTo) => {
                wanted |= requests(&f, &target).ok_or_else(|| {
                    let shown = f.strip_suffix(b"\n").unwrap_or(&f);
                    Fail::perm(format!(
                        "unable to parse this: {}",
                        String::from_utf8_lossy(shown)
                    ))
                })?;
            }
            _ => {}
        }
    }
    if !wanted || sender.is_empty() || sender == b"#@[]" {
        return Ok(0);
    }
    notify(&sender, &target, message_id.as_deref())?;
    Ok(0)
}

/// Whether the field names `target` among its addresses; `None` if it does not parse.
fn requests(field: &[u8], target: &[u8]) -> Option<bool> {
    let mut found = false;
    addrlist::addrlist(addrlist::parse(field)?, 2, |a| {
        found |= addrlist::unquote(a) == target;
    })?;
    Some(found)
}

fn notify(sender: &[u8], target: &[u8], message_id: Option<&[u8]>) -> Result<(), Fail> {
    let quoted = quote::address(sender);
    let mut q = qmail::Queue::open().map_err(|_| Fail::temp("unable to fork"))?;
    for part in [
        &b"From: DELIVERY NOTICE SYSTEM <"[..],
        &quoted,
        b">\nTo: <",
        &quoted,
        b">\nSubject: success notice\n\n\
          Hi! This is the qreceipt program. Your message was delivered to the\n\
          following address: ",
        target,
        b". Thanks for asking.\n",
    ] {
        q.put(part);
    }
    if let Some(id) = message_id {
        q.put(b"Your ");
        q.put(id);
    }
    q.from(b"");
    q.to(sender);
    match q.close() {
        Ok(()) => Ok(()),
        Err(r) if r.perm => Err(Fail::perm("permanent qmail-queue error")),
        Err(_) => Err(Fail::temp("temporary qmail-queue error")),
    }
}
