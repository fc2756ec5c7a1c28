//! One SMTP session to one address (qmail-remote's `smtp`), with what qmail lacked: EHLO
//! (HELO when the server refuses it with 5xx), the server's SIZE limit checked before
//! anything is sent and declared in MAIL, BODY=8BITMIME for an 8-bit message where
//! offered, and PIPELINING (MAIL, every RCPT and DATA in one write). Replies and texts are
//! qmail's. A failure before the server has answered MAIL (greeting, EHLO/HELO, the
//! connection dying) lets the caller try the next address, as RFC 5321 §5.1 expects;
//! after that, whatever the server says is the result.

use super::blast::Survey;
use super::reply::{self, Reply};
use super::Reports;
use crate::timeout;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::net::{IpAddr, TcpStream};
use std::time::Duration;

/// What the session needs besides the connection.
pub struct Job<'a> {
    /// the name for EHLO/HELO
    pub helo: &'a [u8],
    /// the envelope sender (empty for a bounce)
    pub sender: &'a [u8],
    /// the envelope recipients
    pub recipients: &'a [Vec<u8>],
    /// timeoutremote
    pub timeout: Duration,
    /// what the message is like
    pub survey: Survey,
}

/// How a session ended.
pub enum Ended {
    /// a result for qmail-send
    Done(Reports),
    /// nothing happened yet; this text says why, and the next address may do better
    Next(Vec<u8>),
}

/// The server's ESMTP extensions that matter here.
#[derive(Default)]
struct Ext {
    pipelining: bool,
    eightbit: bool,
    /// `Some(0)`: SIZE without a limit
    size: Option<u64>,
}

fn extensions(r: &Reply) -> Ext {
    let mut e = Ext::default();
    for l in &r.lines {
        let l = l.to_ascii_uppercase();
        let mut words = l
            .split(|c| c.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        match words.next() {
            Some(b"PIPELINING") => e.pipelining = true,
            Some(b"8BITMIME") => e.eightbit = true,
            Some(b"SIZE") => {
                let n = words
                    .next()
                    .and_then(|w| std::str::from_utf8(w).ok()?.parse().ok());
                e.size = Some(n.unwrap_or(0));
            }
            _ => {}
        }
    }
    e
}

struct Conn {
    rd: BufReader<timeout::Reader<TcpStream>>,
    wr: BufWriter<timeout::Writer<TcpStream>>,
    ip: String,
    limit: Duration,
}

impl Conn {
    fn get(&mut self) -> io::Result<Reply> {
        reply::read(&mut self.rd, self.limit)
    }

    fn send(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        for p in parts {
            self.wr.write_all(p)?;
        }
        self.wr.flush()
    }

    /// `<letter><prefix><ip><suffix>.\nRemote host said: <text>\n`, after QUIT.
    fn quit(&mut self, letter: u8, prefix: &str, suffix: &str, r: &Reply) -> (u8, Vec<u8>) {
        let _ = self.send(&[b"QUIT\r\n"]);
        (letter, said(format!("{prefix}{}{suffix}.\n", self.ip), r))
    }

    /// No recipient was accepted: `D`, after QUIT.
    fn give_up(&mut self) -> (u8, Vec<u8>) {
        let _ = self.send(&[b"QUIT\r\n"]);
        (b'D', format!("Giving up on {}.\n", self.ip).into_bytes())
    }

    fn died(&self, critical: bool) -> (u8, Vec<u8>) {
        let dup = if critical { "Possible duplicate! " } else { "" };
        let text = format!(
            "Connected to {} but connection died. {dup}(#4.4.2)\n",
            self.ip
        );
        (b'Z', text.into_bytes())
    }
}

fn said(head: String, r: &Reply) -> Vec<u8> {
    let mut t = head.into_bytes();
    t.extend_from_slice(b"Remote host said: ");
    t.extend_from_slice(&r.text);
    t.push(b'\n');
    t
}

/// Z for 4xx and for a reply without a code, D for 5xx, `None` for success.
fn verdict(r: &Reply) -> Option<u8> {
    match r.code {
        500.. => Some(b'D'),
        400.. | 0 => Some(b'Z'),
        _ => None,
    }
}

/// Runs the session on `stream`; the message is read from `msg` (at its start).
pub fn session(stream: &TcpStream, ip: IpAddr, job: &Job, msg: &mut (impl Read + Seek)) -> Ended {
    let ipt = crate::ip::text(ip);
    let (Ok(r), Ok(w)) = (stream.try_clone(), stream.try_clone()) else {
        return Ended::Next(
            format!("Unable to use the connection to {ipt}. (#4.3.0)\n").into_bytes(),
        );
    };
    let mut c = Conn {
        rd: BufReader::new(timeout::Reader::new(r, job.timeout)),
        wr: BufWriter::with_capacity(65536, timeout::Writer::new(w, job.timeout)),
        ip: ipt,
        limit: job.timeout,
    };
    let next = |c: &mut Conn, what: &str, r: Option<&Reply>| {
        let _ = c.send(&[b"QUIT\r\n"]);
        Ended::Next(match r {
            Some(r) => said(format!("Connected to {} but {what}.\n", c.ip), r),
            None => format!("Connected to {} but connection died. (#4.4.2)\n", c.ip).into_bytes(),
        })
    };
    let Ok(greeting) = c.get() else {
        return next(&mut c, "", None);
    };
    if greeting.code != 220 {
        return next(&mut c, "greeting failed", Some(&greeting));
    }
    let Ok(mut hello) = c
        .send(&[b"EHLO ", job.helo, b"\r\n"])
        .and_then(|()| c.get())
    else {
        return next(&mut c, "", None);
    };
    let mut ext = Ext::default();
    if hello.code == 250 {
        ext = extensions(&hello);
    } else if hello.code >= 500 {
        match c
            .send(&[b"HELO ", job.helo, b"\r\n"])
            .and_then(|()| c.get())
        {
            Ok(r) => hello = r,
            Err(_) => return next(&mut c, "", None),
        }
    }
    if hello.code != 250 {
        return next(&mut c, "my name was rejected", Some(&hello));
    }
    let mut out = Reports::default();
    if let Err(critical) = transaction(&mut c, job, &ext, msg, &mut out) {
        out.message = c.died(critical);
    }
    Ended::Done(out)
}

/// MAIL to the end of the data, the reports into `out`; `Err(critical)` if the connection
/// failed, `critical` once the whole message was sent (the server may have it).
fn transaction(
    c: &mut Conn,
    job: &Job,
    ext: &Ext,
    msg: &mut (impl Read + Seek),
    out: &mut Reports,
) -> Result<(), bool> {
    let s = &job.survey;
    if let Some(max) = ext.size.filter(|&m| m > 0 && s.size > m) {
        let text = format!(" but the message is larger than its limit of {max} bytes (#5.3.4)");
        let r = Reply {
            code: 552,
            text: format!("SIZE {max}").into_bytes(),
            lines: Vec::new(),
        };
        out.message = c.quit(b'D', "Connected to ", &text, &r);
        return Ok(());
    }
    let mut mail = b"MAIL FROM:<".to_vec();
    mail.extend_from_slice(&crate::quote::address(job.sender));
    mail.push(b'>');
    if ext.size.is_some() {
        mail.extend_from_slice(format!(" SIZE={}", s.size).as_bytes());
    }
    if ext.eightbit && s.eight_bit {
        mail.extend_from_slice(b" BODY=8BITMIME");
    }
    mail.extend_from_slice(b"\r\n");
    let rcpts: Vec<Vec<u8>> = job
        .recipients
        .iter()
        .map(|r| [&b"RCPT TO:<"[..], &crate::quote::address(r), b">\r\n"].concat())
        .collect();
    let io = |_: io::Error| false;
    let pipe = ext.pipelining;
    if pipe {
        let mut all: Vec<&[u8]> = vec![&mail];
        all.extend(rcpts.iter().map(Vec::as_slice));
        all.push(b"DATA\r\n");
        c.send(&all).map_err(io)?;
    } else {
        c.send(&[&mail]).map_err(io)?;
    }
    let r = c.get().map_err(io)?;
    if let Some(l) = verdict(&r) {
        out.message = c.quit(l, "Connected to ", " but sender was rejected", &r);
        return Ok(());
    }
    for rcpt in &rcpts {
        if !pipe {
            c.send(&[rcpt]).map_err(io)?;
        }
        let r = c.get().map_err(io)?;
        let report = match verdict(&r) {
            None => (b'r', Vec::new()),
            Some(l) => {
                let text = said(format!("{} does not like recipient.\n", c.ip), &r);
                (if l == b'D' { b'h' } else { b's' }, text)
            }
        };
        out.recipients.push(report);
    }
    let any = out.recipients.iter().any(|(l, _)| *l == b'r');
    if !any {
        if pipe && verdict(&c.get().map_err(io)?).is_none() {
            // DATA was accepted though no recipient was: end it empty.
            let _ = c.send(&[b".\r\n"]).and_then(|()| c.get());
        }
        out.message = c.give_up();
        return Ok(());
    }
    if !pipe {
        c.send(&[b"DATA\r\n"]).map_err(io)?;
    }
    let r = c.get().map_err(io)?;
    if let Some(l) = verdict(&r) {
        out.message = c.quit(l, "", " failed on DATA command", &r);
        return Ok(());
    }
    blast(c, msg).map_err(io)?;
    let r = c.get().map_err(|_| true)?;
    out.message = match verdict(&r) {
        Some(l) => c.quit(l, "", " failed after I sent the message", &r),
        None => c.quit(b'K', "", " accepted message", &r),
    };
    Ok(())
}

/// The message, converted, and its final dot.
fn blast(c: &mut Conn, msg: &mut (impl Read + Seek)) -> io::Result<()> {
    msg.seek(io::SeekFrom::Start(0))?;
    let wr = &mut c.wr;
    let mut dot = super::blast::convert(msg, |_, converted| wr.write_all(converted))?;
    let mut end = Vec::new();
    // The caller surveyed the message and refused a partial final line before connecting.
    dot.finish(&mut end)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    wr.write_all(&end)?;
    wr.flush()
}
