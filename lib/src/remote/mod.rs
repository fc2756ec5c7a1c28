//! Remote delivery, qmail-remote's work: where a domain's mail goes (`qmtproutes`, then
//! `smtproutes`, then its mail exchangers), connecting to each address in turn (skipping
//! those the timeout table says are down, from `outgoingip` when set), and one SMTP or
//! QMTP session; the result as qmail-remote's reports (spec qmail.md §5.2–5.4).

pub mod blast;
pub mod mx;
pub mod qmtp;
pub mod reply;
pub mod route;
pub mod smtp;

use crate::control::{self, Map};
use crate::dns::Resolver;
use route::{Relay, Route};
use smtp::{Ended, Job};
use std::io::{self, Read, Seek};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// What qmail-remote prints: recipient reports (`r`, `h`, `s`), then the message report
/// (`K`, `Z`, `D`), each `<letter><text>\0`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reports {
    /// in argv order; fewer (or none) after an early failure
    pub recipients: Vec<(u8, Vec<u8>)>,
    /// the one message report
    pub message: (u8, Vec<u8>),
}

impl Reports {
    /// Only a message report.
    pub fn message(letter: u8, text: Vec<u8>) -> Reports {
        Reports {
            recipients: Vec::new(),
            message: (letter, text),
        }
    }

    fn text(letter: u8, text: &str) -> Reports {
        Reports::message(letter, text.as_bytes().to_vec())
    }

    /// The bytes for qmail-rspawn.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (l, t) in self.recipients.iter().chain(std::iter::once(&self.message)) {
            out.push(*l);
            out.extend(t.iter().map(|&c| if c == 0 { b'?' } else { c }));
            out.push(0);
        }
        out
    }
}

/// The control files qmail-remote reads, fresh for every delivery.
pub struct Controls {
    /// the name for EHLO/HELO (helohost, else me)
    pub helo: Vec<u8>,
    /// control/smtproutes
    pub smtproutes: Map,
    /// control/qmtproutes (beyond qmail)
    pub qmtproutes: Map,
    /// control/timeoutconnect
    pub timeout_connect: Duration,
    /// control/timeoutremote: each read and write, and each whole reply
    pub timeout_remote: Duration,
    /// `outgoingip`: the source address for connections of its family
    pub outgoing: Option<IpAddr>,
}

impl Controls {
    /// Reads `control/` under the current directory (the qmail home). `Ok(None)`: neither
    /// `helohost` nor `me` exists.
    pub fn read() -> io::Result<Option<Controls>> {
        let Some(helo) = control::line("control/helohost")?.or(control::line("control/me")?) else {
            return Ok(None);
        };
        let routes = |f: &str| -> io::Result<Map> {
            Ok(Map::new(&control::list(f)?.unwrap_or_default(), true))
        };
        let outgoing = match control::line("control/outgoingip")? {
            None => None,
            Some(l) => Some(
                crate::ip::parse(&l).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?,
            ),
        };
        Ok(Some(Controls {
            helo,
            smtproutes: routes("control/smtproutes")?,
            qmtproutes: routes("control/qmtproutes")?,
            timeout_connect: Duration::from_secs(control::int("control/timeoutconnect", 60)?),
            timeout_remote: Duration::from_secs(control::int("control/timeoutremote", 1200)?),
            outgoing,
        }))
    }
}

enum Proto {
    Smtp,
    Qmtp,
}

/// Delivers the message on `msg` (read from its start, twice) for `recipients` at `host`,
/// the domain of the recipients.
pub fn deliver(
    ctl: &Controls,
    host: &[u8],
    sender: &[u8],
    recipients: &[Vec<u8>],
    msg: &mut (impl Read + Seek),
) -> Reports {
    let survey = match msg.rewind().and_then(|()| blast::survey(msg)) {
        Ok(s) => s,
        Err(_) => return Reports::text(b'Z', "Unable to read message. (#4.3.0)\n"),
    };
    let job = Job {
        helo: &ctl.helo,
        sender,
        recipients,
        timeout: ctl.timeout_remote,
        survey,
    };
    let dns = match Resolver::from_env() {
        Ok(d) => d,
        Err(_) => return Reports::text(b'Z', "Unable to read the DNS configuration. (#4.3.0)\n"),
    };
    let routed =
        |table: &Map, port, name| match route::find(table, host).map(|v| route::parse(v, port)) {
            None | Some(Ok(None)) => Ok(None),
            Some(Ok(Some(r))) => Ok(Some(r)),
            Some(Err(route::BadRoute)) => Err(Reports::message(
                b'Z',
                format!(
                    "Unable to use the route for {} in control/{name}. (#4.3.5)\n",
                    String::from_utf8_lossy(host)
                )
                .into_bytes(),
            )),
        };
    let (proto, route) = match routed(&ctl.qmtproutes, 209, "qmtproutes") {
        Err(r) => return r,
        Ok(Some(r)) => (Proto::Qmtp, Some(r)),
        Ok(None) => match routed(&ctl.smtproutes, 25, "smtproutes") {
            Err(r) => return r,
            Ok(r) => (Proto::Smtp, r),
        },
    };
    if matches!(proto, Proto::Smtp) && survey.partial {
        return Reports::text(
            b'D',
            "SMTP cannot transfer messages with partial final lines. (#5.6.2)\n",
        );
    }
    let (port, ips) = match addresses(&dns, host, route) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let len = survey.bytes;
    let mut last = None;
    for ip in ips {
        if crate::tcpto::is_down(ip) {
            continue;
        }
        let local = ctl
            .outgoing
            .filter(|o| o.is_ipv4() == ip.is_ipv4())
            .map(|o| SocketAddr::new(o, 0));
        let stream =
            match crate::sys::net::connect(SocketAddr::new(ip, port), local, ctl.timeout_connect) {
                Ok(s) => s,
                Err(e) => {
                    if e.kind() == io::ErrorKind::TimedOut {
                        crate::tcpto::record_timeout(ip);
                    }
                    continue;
                }
            };
        crate::tcpto::record_ok(ip);
        let ended = match proto {
            Proto::Smtp => smtp::session(&stream, ip, &job, msg),
            Proto::Qmtp => qmtp::session(&stream, ip, &job, msg, len),
        };
        match ended {
            Ended::Done(r) => return r,
            Ended::Next(text) => last = Some(text),
        }
    }
    match last {
        Some(text) => Reports::message(b'Z', text),
        None => Reports::text(
            b'Z',
            "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n",
        ),
    }
}

/// The port and the addresses to try, in order, or the report that there are none.
fn addresses(
    dns: &Resolver,
    host: &[u8],
    route: Option<Route>,
) -> Result<(u16, Vec<IpAddr>), Reports> {
    let named = String::from_utf8_lossy(host).into_owned();
    let fail = |e: mx::Lookup, name: &str| match e {
        mx::Lookup::Temp => Reports::text(
            b'Z',
            "Sorry, I couldn't find any host by that name. (#4.1.2)\n",
        ),
        mx::Lookup::NoHost => Reports::message(
            b'D',
            format!("Sorry, I couldn't find any host named {name}. (#5.1.2)\n").into_bytes(),
        ),
        mx::Lookup::NoMx => Reports::text(
            b'D',
            "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n",
        ),
        mx::Lookup::NullMx => Reports::message(
            b'D',
            format!("Sorry, {name} says (null MX) that it accepts no mail. (#5.1.10)\n")
                .into_bytes(),
        ),
    };
    if let Some(r) = route {
        // A route is the operator's word: no am-I-the-MX check.
        let ips = match r.relay {
            Relay::Ip(ip) => vec![ip],
            Relay::Name(n) => match mx::host_ips(dns, &n) {
                Ok(ips) if !ips.is_empty() => ips,
                Ok(_) => return Err(fail(mx::Lookup::NoMx, "")),
                Err(e) => return Err(fail(e, &String::from_utf8_lossy(&n))),
            },
        };
        return Ok((r.port, ips));
    }
    let targets = mx::targets(dns, host, crate::dns::random).map_err(|e| fail(e, &named))?;
    let mine = crate::sys::ifaddr::local_ips().unwrap_or_default();
    match mx::eligible(targets, &mine) {
        Some(t) => Ok((25, t.into_iter().map(|t| t.ip).collect())),
        None => Err(Reports::text(b'D', "Sorry. Although I'm listed as a best-preference MX or A for that host,\nit isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_encoding() {
        let r = Reports {
            recipients: vec![(b'r', Vec::new()), (b'h', b"no\0pe\n".to_vec())],
            message: (b'K', b"ok\n".to_vec()),
        };
        assert_eq!(r.encode(), b"r\0hno?pe\n\0Kok\n\0");
    }
}
