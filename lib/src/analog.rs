//! Reading qmail-send's activity log for a summary, as qmailanalog's matchup and z-programs
//! do: messages (`new msg`, `info msg`, `end msg`) matched with their deliveries (`starting
//! delivery`, `delivery N: success|failure|deferral`), then counted and timed.
//!
//! Lines may carry a timestamp first: a TAI64N label (multilog `t`, s6-log `t`), tai64nlocal's
//! `YYYY-MM-DD HH:MM:SS.frac`, or svlogd's `YYYY-MM-DD_HH:MM:SS.frac`; without timestamps
//! only counts are made. Delays: qtime = end of a message − its `new msg`; xdelay = end of a
//! delivery attempt − its start; ddelay = end of a successful delivery − its message's
//! `new msg`; concurrency = all xdelay / the log's time span. Message ids are inode numbers
//! and are reused after `end msg`; delivery numbers restart with qmail-send, so a repeated
//! number forgets the attempt it replaces. Unknown lines are skipped.

use std::collections::HashMap;

/// A line's time (seconds, any epoch the log uses) and the rest of the line.
pub fn timestamp(line: &[u8]) -> (Option<f64>, &[u8]) {
    if line.first() == Some(&b'@') {
        if let Some((s, n)) = crate::tai64n::parse(line) {
            let rest = line.get(25..).unwrap_or(b"");
            return (
                Some(s as f64 + f64::from(n) / 1e9),
                rest.strip_prefix(b" ").unwrap_or(rest),
            );
        }
    }
    // `YYYY-MM-DD HH:MM:SS.frac` (one space inside) or `YYYY-MM-DD_HH:MM:SS.frac`
    if line.len() >= 19 {
        let e = line[19..]
            .iter()
            .position(|&c| c == b' ')
            .map_or(line.len(), |p| p + 19);
        if let Some(t) = civil_stamp(&line[..e]) {
            let rest = &line[e..];
            return (Some(t), rest.strip_prefix(b" ").unwrap_or(rest));
        }
    }
    (None, line)
}

/// `YYYY-MM-DD HH:MM:SS[.frac]` or with `_` between date and time, as seconds (UTC).
fn civil_stamp(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s).ok()?;
    if s.len() < 19 || !matches!(s.as_bytes()[10], b' ' | b'_') {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (h, mi, sec) = (n(11, 13)?, n(14, 16)?, n(17, 19)?);
    let b = s.as_bytes();
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let frac = match s.get(19..) {
        Some("") | None => 0.0,
        Some(f) if f.starts_with('.') && f.len() > 1 => format!("0{f}").parse::<f64>().ok()?,
        Some(_) => return None,
    };
    let days = crate::date::days_from_civil(y, mo as u32, d as u32);
    Some((days * 86400 + h * 3600 + mi * 60 + sec) as f64 + frac)
}

#[derive(Default)]
struct Msg {
    born: Option<f64>,
    bytes: u64,
    sender: Vec<u8>,
}

struct Attempt {
    msg: u64,
    chan: usize,
    host: Vec<u8>,
    sender: Vec<u8>,
    start: Option<f64>,
    born: Option<f64>,
}

/// Counts for one recipient host or one channel.
#[derive(Default, Clone, Copy)]
pub struct Tally {
    /// attempts that ended in success, failure, deferral
    pub done: [u64; 3],
    /// summed xdelay of timed attempts, and how many were timed
    pub xdelay: (f64, u64),
    /// summed ddelay of timed successes, and how many were timed
    pub ddelay: (f64, u64),
}

/// What a sender sent.
#[derive(Default, Clone, Copy)]
pub struct Sent {
    /// completed messages
    pub messages: u64,
    /// their bytes
    pub bytes: u64,
    /// delivery attempts for them
    pub attempts: u64,
}

/// The summary built from the log, line by line.
#[derive(Default)]
pub struct Stats {
    span: Option<(f64, f64)>,
    msgs: HashMap<u64, Msg>,
    attempts: HashMap<u64, Attempt>,
    /// completed messages, their bytes, and summed qtime of timed ones (with their count)
    pub completed: (u64, u64, f64, u64),
    /// bounces made, triple bounces discarded
    pub bounces: (u64, u64),
    /// local, remote
    pub chan: [Tally; 2],
    /// by recipient host (lower case)
    pub hosts: HashMap<Vec<u8>, Tally>,
    /// failure and deferral reasons, counted
    pub reasons: [HashMap<Vec<u8>, u64>; 2],
    /// by envelope sender
    pub senders: HashMap<Vec<u8>, Sent>,
}

fn word<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    s.strip_prefix(prefix)
}

fn number(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let v = std::str::from_utf8(&s[..n]).ok()?.parse().ok()?;
    Some((v, &s[n..]))
}

impl Stats {
    /// Takes one log line (without its newline).
    pub fn line(&mut self, raw: &[u8]) {
        let (t, l) = timestamp(raw);
        if let Some(t) = t {
            self.span = Some(self.span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        if let Some((id, _)) = word(l, b"new msg ").and_then(number) {
            self.msgs.insert(
                id,
                Msg {
                    born: t,
                    ..Msg::default()
                },
            );
        } else if let Some((id, rest)) = word(l, b"info msg ").and_then(number) {
            let m = self.msgs.entry(id).or_default();
            if let Some((b, rest)) = word(rest, b": bytes ").and_then(number) {
                m.bytes = b;
                if let Some(from) = word(rest, b" from <") {
                    let end = from.iter().rposition(|&c| c == b'>').unwrap_or(from.len());
                    m.sender = from[..end].to_vec();
                }
            }
        } else if let Some((n, rest)) = word(l, b"starting delivery ").and_then(number) {
            self.start(n, rest, t);
        } else if let Some((n, rest)) = word(l, b"delivery ").and_then(number) {
            self.finish(n, rest, t);
        } else if let Some((id, _)) = word(l, b"end msg ").and_then(number) {
            if let Some(m) = self.msgs.remove(&id) {
                let c = &mut self.completed;
                c.0 += 1;
                c.1 += m.bytes;
                if let (Some(b), Some(t)) = (m.born, t) {
                    c.2 += t - b;
                    c.3 += 1;
                }
                let s = self.senders.entry(m.sender).or_default();
                s.messages += 1;
                s.bytes += m.bytes;
            }
        } else if l.starts_with(b"bounce msg ") {
            self.bounces.0 += 1;
        } else if l.starts_with(b"triple bounce: ") {
            self.bounces.1 += 1;
        }
    }

    fn start(&mut self, n: u64, rest: &[u8], t: Option<f64>) {
        let Some((msg, rest)) = word(rest, b": msg ").and_then(number) else {
            return;
        };
        let (chan, to) = match (word(rest, b" to local "), word(rest, b" to remote ")) {
            (Some(to), _) => (0, to),
            (_, Some(to)) => (1, to),
            _ => return,
        };
        let host = to
            .iter()
            .rposition(|&c| c == b'@')
            .map_or(&b""[..], |p| &to[p + 1..]);
        let m = self.msgs.get(&msg);
        let a = Attempt {
            msg,
            chan,
            host: host.to_ascii_lowercase(),
            sender: m.map(|m| m.sender.clone()).unwrap_or_default(),
            start: t,
            born: m.and_then(|m| m.born),
        };
        self.attempts.insert(n, a);
    }

    fn finish(&mut self, n: u64, rest: &[u8], t: Option<f64>) {
        let Some(a) = self.attempts.remove(&n) else {
            return;
        };
        let (kind, reason) = if let Some(r) = word(rest, b": success: ") {
            (0, r)
        } else if let Some(r) = word(rest, b": failure: ") {
            (1, r)
        } else if let Some(r) = word(rest, b": deferral: ") {
            (2, r)
        } else {
            (2, &b"report mangled"[..])
        };
        if kind > 0 {
            *self.reasons[kind - 1].entry(reason.to_vec()).or_default() += 1;
        }
        let _ = a.msg;
        for tally in [
            &mut self.chan[a.chan],
            self.hosts.entry(a.host).or_default(),
        ] {
            tally.done[kind] += 1;
            if let (Some(s), Some(t)) = (a.start, t) {
                tally.xdelay.0 += t - s;
                tally.xdelay.1 += 1;
            }
            if let (0, Some(b), Some(t)) = (kind, a.born, t) {
                tally.ddelay.0 += t - b;
                tally.ddelay.1 += 1;
            }
        }
        self.senders.entry(a.sender).or_default().attempts += 1;
    }

    /// The first and last timestamps seen.
    pub fn span(&self) -> Option<(f64, f64)> {
        self.span
    }
}

/// `sum / n` with three decimals, or `-` when nothing was timed.
pub fn average((sum, n): (f64, u64)) -> String {
    if n == 0 {
        "-".into()
    } else {
        format!("{:.3}", sum / n as f64)
    }
}

/// Entries of `map` by count (descending), then key; at most `top`.
pub fn ranked<V: Copy>(
    map: &HashMap<Vec<u8>, V>,
    count: impl Fn(&V) -> u64,
    top: usize,
) -> Vec<(Vec<u8>, V)> {
    let mut v: Vec<(Vec<u8>, V)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
    v.sort_by(|a, b| count(&b.1).cmp(&count(&a.1)).then_with(|| a.0.cmp(&b.0)));
    v.truncate(top);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let (t, rest) = timestamp(b"@400000006951dc1a00000000 new msg 5");
        assert_eq!(rest, b"new msg 5");
        assert_eq!(t, Some((0x6951dc1a_u64 - 10) as f64));
        let (t, rest) = timestamp(b"2026-12-04 03:54:20.500000000 end msg 5");
        assert_eq!((t, rest), (Some(1_796_356_460.5), &b"end msg 5"[..]));
        let (t, rest) = timestamp(b"2026-12-04_03:54:20.25 end msg 5");
        assert_eq!((t, rest), (Some(1_796_356_460.25), &b"end msg 5"[..]));
        assert_eq!(timestamp(b"end msg 5"), (None, &b"end msg 5"[..]));
        assert_eq!(timestamp(b"2026-13x end"), (None, &b"2026-13x end"[..]));
    }

    #[test]
    fn messages_and_deliveries_are_matched_and_timed() {
        let log = "1.0 new msg 7\n\
            1.0 info msg 7: bytes 300 from <joe@a.test> qp 1 uid 0\n\
            1.5 starting delivery 1: msg 7 to local ann@a.test\n\
            1.5 starting delivery 2: msg 7 to remote bob@B.test\n\
            2.0 delivery 1: success: did_1+0+0/\n\
            3.5 delivery 2: deferral: Connection_refused/\n\
            4.0 starting delivery 3: msg 7 to remote bob@B.test\n\
            4.5 delivery 3: failure: no_such_user/\n\
            4.5 bounce msg 7 qp 9\n\
            5.0 end msg 7\n\
            5.0 delivery 99: success: stray\n\
            5.0 status: local 0/10 remote 0/20\n";
        let mut s = Stats::default();
        for l in log.lines() {
            // a plain seconds stamp stands in for the real formats here
            let (t, rest) = l.split_once(' ').unwrap();
            let secs: f64 = t.parse().unwrap();
            let stamped = format!(
                "{} {rest}",
                crate::tai64n::label(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(secs)
                )
            );
            s.line(stamped.as_bytes());
        }
        assert_eq!(s.completed.0, 1);
        assert_eq!(s.completed.1, 300);
        assert_eq!(average((s.completed.2, s.completed.3)), "4.000");
        assert_eq!(s.chan[0].done, [1, 0, 0]);
        assert_eq!(s.chan[1].done, [0, 1, 1]);
        assert_eq!(average(s.chan[1].xdelay), "1.250");
        assert_eq!(average(s.chan[0].ddelay), "1.000");
        let b = s.hosts[&b"b.test".to_vec()];
        assert_eq!(b.done, [0, 1, 1]);
        assert_eq!(s.reasons[1][&b"Connection_refused/".to_vec()], 1);
        assert_eq!(s.bounces, (1, 0));
        let j = s.senders[&b"joe@a.test".to_vec()];
        assert_eq!((j.messages, j.bytes, j.attempts), (1, 300, 3));
        let (a, z) = s.span().unwrap();
        assert!((z - a - 4.0).abs() < 1e-6);
        let r = ranked(&s.hosts, |t| t.done.iter().sum(), 10);
        assert_eq!(r[0].0, b"b.test");
    }
}
