//! tcprulescheck — show which rule of a tcprules cdb decides a given peer.
//!
//! Usage:    TCPREMOTEIP=ip [TCPREMOTEHOST=name] [TCPREMOTEINFO=info] tcprulescheck rules.cdb
//!           Prints `rule <key>:`, one `set environment variable NAME=value` line per
//!           assignment, then `allow connection` (or `deny connection` as soon as the deny
//!           item is met); `default:` + `allow connection` when no rule matches. A CIDR rule
//!           is shown as `address/bits`.
//! Options:  none.
//! Environment: reads TCPREMOTEIP (default 0.0.0.0), TCPREMOTEHOST, TCPREMOTEINFO.
//! Exit:     0 printed; 100 usage; 111 unable to read rules.cdb or write the output.
//! Runs as:  anyone.  Trusts: nothing; the cdb's offsets are checked.
//! Spec:     shared/spec/ucspi.md §4, §2.6

use qlib::cdb::Cdb;
use qlib::fail::{Fail, OrFail as _};
use qlib::rules::{self, Item};
use qlib::{args, prog};
use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::ffi::OsStringExt as _;
use std::process::ExitCode;

const USAGE: &str = "tcprulescheck rules.cdb";

fn main() -> ExitCode {
    prog::main("tcprulescheck", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let words = args::none(argv);
    let Some(file) = words.first() else {
        return Err(Fail::usage(USAGE));
    };
    let var = |name: &str| std::env::var_os(name).map(OsString::into_vec);
    let ip = var("TCPREMOTEIP").unwrap_or_else(|| b"0.0.0.0".to_vec());
    let (host, info) = (var("TCPREMOTEHOST"), var("TCPREMOTEINFO"));
    let what = format!("unable to read {}", file.to_string_lossy());
    let cdb = Cdb::open(file).or_temp(&what)?;
    let found = rules::find(&cdb, &ip, host.as_deref(), info.as_deref()).or_temp(&what)?;
    let mut out = Vec::new();
    match found {
        None => out.extend_from_slice(b"default:\nallow connection\n"),
        Some((key, data)) => {
            out.extend_from_slice(b"rule ");
            match rules::cidr_text(&key) {
                Some(text) => out.extend_from_slice(text.as_bytes()),
                None => out.extend_from_slice(&key),
            }
            out.extend_from_slice(b":\n");
            let mut deny = false;
            for item in rules::items(&data) {
                match item {
                    Item::Deny => {
                        deny = true;
                        break;
                    }
                    Item::Set(text) => {
                        out.extend_from_slice(b"set environment variable ");
                        out.extend_from_slice(text);
                        out.push(b'\n');
                    }
                }
            }
            out.extend_from_slice(if deny {
                &b"deny connection\n"[..]
            } else {
                b"allow connection\n"
            });
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}
