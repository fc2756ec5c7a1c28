//! Delivery by QMTP (formats.md §3) to a host named in `control/qmtproutes`: one package
//! (the message in encoding #2, the sender, the recipients) and one reply netstring per
//! recipient, `K`, `Z` or `D`, reported as qmail-remote reports SMTP recipients.

use super::smtp::{Ended, Job};
use super::Reports;
use crate::{netstring, timeout};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::net::{IpAddr, TcpStream};

/// Longest reply text kept from the server.
const REPLY_MAX: usize = 5000;

/// Sends the package on `stream` and reads the replies; `len` is the message's size.
pub fn session(
    stream: &TcpStream,
    ip: IpAddr,
    job: &Job,
    msg: &mut (impl Read + Seek),
    len: u64,
) -> Ended {
    let ip = crate::ip::text(ip);
    let (Ok(r), Ok(w)) = (stream.try_clone(), stream.try_clone()) else {
        return Ended::Next(
            format!("Unable to use the connection to {ip}. (#4.3.0)\n").into_bytes(),
        );
    };
    let mut wr = BufWriter::with_capacity(65536, timeout::Writer::new(w, job.timeout));
    if package(&mut wr, job, msg, len).is_err() {
        return Ended::Next(
            format!("Connected to {ip} but connection died. (#4.4.2)\n").into_bytes(),
        );
    }
    let mut rd = BufReader::new(timeout::Reader::new(r, job.timeout));
    let mut out = Reports::default();
    let mut first_k = None;
    for _ in job.recipients {
        let Ok(reply) = netstring::read(&mut rd, REPLY_MAX) else {
            let text =
                format!("Connected to {ip} but connection died. Possible duplicate! (#4.4.2)\n");
            out.message = (b'Z', text.into_bytes());
            return Ended::Done(out);
        };
        let text: Vec<u8> = reply
            .get(1..)
            .unwrap_or_default()
            .iter()
            .map(|&c| if c == 0 { b'?' } else { c })
            .collect();
        let said = |head: String| [head.as_bytes(), b"Remote host said: ", &text, b"\n"].concat();
        match reply.first() {
            Some(b'K') => {
                out.recipients.push((b'r', Vec::new()));
                first_k.get_or_insert_with(|| said(format!("{ip} accepted message.\n")));
            }
            Some(b'D') => out
                .recipients
                .push((b'h', said(format!("{ip} does not like recipient.\n")))),
            // Z, and anything else: the reply is not one QMTP defines, so retry later.
            _ => out
                .recipients
                .push((b's', said(format!("{ip} does not like recipient.\n")))),
        }
    }
    out.message = match first_k {
        Some(t) => (b'K', t),
        None => (b'D', format!("Giving up on {ip}.\n").into_bytes()),
    };
    Ended::Done(out)
}

fn package(
    wr: &mut impl Write,
    job: &Job,
    msg: &mut (impl Read + Seek),
    len: u64,
) -> io::Result<()> {
    msg.seek(io::SeekFrom::Start(0))?;
    writeln!(wr, "{}:", len + 1)?;
    let copied = io::copy(&mut msg.take(len), wr)?;
    if copied != len {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    wr.write_all(b",")?;
    wr.write_all(&netstring::encode(job.sender))?;
    let mut rcpts = Vec::new();
    for r in job.recipients {
        netstring::put(&mut rcpts, r);
    }
    wr.write_all(&netstring::encode(&rcpts))?;
    wr.flush()
}
