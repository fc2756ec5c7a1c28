//! qmail-analog — summarize qmail-send's activity log: messages, deliveries, delays, failures,
//! deferrals, recipient hosts and senders.
//!
//! Usage:    qmail-analog [ -n top ] < log       (e.g. `cat log/main/@* log/main/current |
//!           qmail-analog`: the files in time order)
//! Options:  -n top  at most top lines in each ranked list (default 20; 0: no limit).
//! Input:    qmail-send's log lines, each optionally behind a timestamp: a TAI64N label
//!           (multilog t, s6-log t), `YYYY-MM-DD HH:MM:SS.frac` (tai64nlocal) or
//!           `YYYY-MM-DD_HH:MM:SS.frac` (svlogd -tt). Other lines are skipped. Without
//!           timestamps the delays are shown as `-`.
//! Output:   the time span; completed messages (`new msg` … `end msg`), their bytes and
//!           average qtime (end − new), bounces; per channel (local, remote, all) the
//!           attempts that ended in success, failure, deferral, the average xdelay (end of
//!           an attempt − its start) and ddelay (end of a success − the message's new msg),
//!           and the concurrency (all xdelay / the span); then failure reasons and deferral
//!           reasons by count; recipient hosts by attempts (success, failure, deferral,
//!           xdelay, ddelay); senders by completed messages (bytes, attempts). A message
//!           whose `end msg` is not in the log is not counted as completed; its attempts are.
//! Exit:     0; 100 usage; 111 read or write failure.
//! Runs as:  anyone who may read the log (qmaill's log/main).  Trusts: nothing in the log;
//!           reasons and addresses are printed with unprintable bytes as `?`.
//! Spec:     qmail.md §2 (the log lines); formats.md (TAI64N); in the spirit of qmailanalog's
//!           matchup + zoverall, zfailures, zdeferrals, zrhosts, zsenders, in one program.

use qlib::analog::{average, ranked, Stats, Tally};
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, date, prog, scan};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

const USAGE: &str = "qmail-analog [ -n top ]";

fn main() -> ExitCode {
    prog::main("qmail-analog", run)
}

fn run(argv: args::Argv) -> Result<u8, Fail> {
    let mut o = getopts::Options::new();
    o.optopt("n", "", "lines per list", "top");
    let p = args::parse(&o, argv, USAGE)?;
    let top = match args::value(&p, "n") {
        Some(v) => scan::ulong_exact(&v).ok_or_else(|| Fail::usage(USAGE))? as usize,
        None => 20,
    };
    args::exactly(p.rest, 0, USAGE)?;
    let top = if top == 0 { usize::MAX } else { top };
    let mut stats = Stats::default();
    let mut input = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .or_temp("unable to read input")?
            == 0
        {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        stats.line(&line);
    }
    let text = report(&stats, top);
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .or_temp("unable to write output")?;
    Ok(0)
}

fn show(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if (32..127).contains(&c) {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

fn when(t: f64) -> String {
    let c = date::civil(t as i64);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

fn tally_line(name: &str, t: &Tally) -> String {
    let [ok, fail, defer] = t.done;
    format!(
        "  {name:<8} {ok:>9} {fail:>9} {defer:>9} {:>10} {:>10}\n",
        average(t.xdelay),
        average(t.ddelay)
    )
}

fn report(s: &Stats, top: usize) -> String {
    let mut r = String::new();
    let span = s.span();
    match span {
        Some((a, z)) => r += &format!("log from {} to {} UTC: {:.1} s\n", when(a), when(z), z - a),
        None => r += "log without timestamps: no delays\n",
    }
    let (n, bytes, q, qn) = s.completed;
    r += &format!(
        "\nmessages completed {n}, bytes {bytes}, average qtime {} s; bounces {}, triple bounces \
         discarded {}\n",
        average((q, qn)),
        s.bounces.0,
        s.bounces.1
    );
    let mut all = Tally::default();
    for c in &s.chan {
        for i in 0..3 {
            all.done[i] += c.done[i];
        }
        all.xdelay = (all.xdelay.0 + c.xdelay.0, all.xdelay.1 + c.xdelay.1);
        all.ddelay = (all.ddelay.0 + c.ddelay.0, all.ddelay.1 + c.ddelay.1);
    }
    r += "\ndeliveries  success   failure  deferral  xdelay(s)  ddelay(s)\n";
    r += &tally_line("local", &s.chan[0]);
    r += &tally_line("remote", &s.chan[1]);
    r += &tally_line("all", &all);
    if let Some((a, z)) = span.filter(|(a, z)| z > a) {
        r += &format!("  concurrency {:.3}\n", all.xdelay.0 / (z - a));
    }
    for (i, title) in ["failures", "deferrals"].iter().enumerate() {
        r += &format!("\n{title} (attempts, reason)\n");
        for (reason, n) in ranked(&s.reasons[i], |n| *n, top) {
            r += &format!("  {n:>8}  {}\n", show(&reason));
        }
    }
    r += "\nrecipient hosts (attempts, success, failure, deferral, xdelay s, ddelay s, host)\n";
    for (host, t) in ranked(&s.hosts, |t| t.done.iter().sum(), top) {
        let [ok, fail, defer] = t.done;
        r += &format!(
            "  {:>8} {ok:>8} {fail:>8} {defer:>8} {:>9} {:>9}  {}\n",
            ok + fail + defer,
            average(t.xdelay),
            average(t.ddelay),
            show(&host)
        );
    }
    r += "\nsenders (messages, bytes, attempts, sender)\n";
    for (sender, v) in ranked(&s.senders, |v| v.messages, top) {
        let who = if sender.is_empty() {
            "<>".into()
        } else {
            show(&sender)
        };
        r += &format!(
            "  {:>8} {:>10} {:>8}  {who}\n",
            v.messages, v.bytes, v.attempts
        );
    }
    r
}
