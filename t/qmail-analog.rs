//! qmail-analog on a log with known times (multilog's TAI64N labels and tai64nlocal's form:
//! the whole report, exactly), and on the log of a real private qmail that delivered,
//! deferred and bounced.

use crate::common::{assign_users, home_lock, run, wait_for, Instance, TmpDir};
use std::time::{Duration, UNIX_EPOCH};

/// `lines` ("seconds text") with multilog's labels.
fn stamped(lines: &str) -> String {
    let mut out = String::new();
    for l in lines.lines() {
        let (t, rest) = l.split_once(' ').expect("stamp");
        let t = UNIX_EPOCH + Duration::from_secs_f64(t.parse().expect("seconds"));
        out += &format!("{} {rest}\n", qlib::tai64n::label(t));
    }
    out
}

const LOG: &str = "1796356460 status: local 0/10 remote 0/20
1796356460 new msg 7
1796356460 info msg 7: bytes 300 from <joe@a.test> qp 1 uid 0
1796356460.5 starting delivery 1: msg 7 to local ann@a.test
1796356460.5 starting delivery 2: msg 7 to remote bob@B.test
1796356461 delivery 1: success: did_1+0+0/
1796356462.5 delivery 2: deferral: Connection_refused/
1796356463 starting delivery 3: msg 7 to remote bob@b.test
1796356463.5 delivery 3: failure: Sorry,_no_such_user\x01/
1796356463.5 bounce msg 7 qp 9
1796356464 end msg 7
1796356464 new msg 8
1796356464 info msg 8: bytes 100 from <> qp 9 uid 0
1796356464 starting delivery 4: msg 8 to local joe@a.test
1796356464.25 delivery 4: success: did_1+0+0/
1796356464.25 end msg 8
1796356470 new msg 9
1796356470 info msg 9: bytes 50 from <joe@a.test> qp 10 uid 0
";

const REPORT: &str = "log from 2026-12-04 03:54:20 to 2026-12-04 03:54:30 UTC: 10.0 s

messages completed 2, bytes 400, average qtime 2.125 s; bounces 1, triple bounces discarded 0

deliveries  success   failure  deferral  xdelay(s)  ddelay(s)
  local            2         0         0      0.375      0.625
  remote           0         1         1      1.250          -
  all              2         1         1      0.812      0.625
  concurrency 0.325

failures (attempts, reason)
         1  Sorry,_no_such_user?/

deferrals (attempts, reason)
         1  Connection_refused/

recipient hosts (attempts, success, failure, deferral, xdelay s, ddelay s, host)
         2        2        0        0     0.375     0.625  a.test
         2        0        1        1     1.250         -  b.test

senders (messages, bytes, attempts, sender)
         1        100        1  <>
         1        300        3  joe@a.test
";

#[test]
fn a_known_log_exactly() {
    let log = stamped(&LOG.replace("\\x01", "\x01"));
    run("qmail-analog").stdin(&log).go().expect(0, REPORT, "");
    // the same times as tai64nlocal (UTC here) and svlogd print them
    let local: String = log
        .lines()
        .map(|l| {
            let (s, n) = qlib::tai64n::parse(l.as_bytes()).unwrap();
            let c = qlib::date::civil(s as i64);
            let stamp = format!(
                "{}-{:02}-{:02} {:02}:{:02}:{:02}.{n:09}",
                c.year, c.month, c.day, c.hour, c.min, c.sec
            );
            format!("{stamp} {}\n", &l[26..])
        })
        .collect();
    run("qmail-analog").stdin(&local).go().expect(0, REPORT, "");
    let svlogd: String = local
        .lines()
        .map(|l| format!("{}_{}\n", &l[..10], &l[11..]))
        .collect();
    run("qmail-analog").stdin(svlogd).go().expect(0, REPORT, "");
    // without times: the counts stay, the delays go
    let plain: String = log.lines().map(|l| format!("{}\n", &l[26..])).collect();
    let o = run("qmail-analog").arg("-n").arg("1").stdin(plain).go();
    assert_eq!(o.code, 0);
    let text = o.stdout();
    assert!(
        text.starts_with("log without timestamps: no delays\n"),
        "{text}"
    );
    assert!(
        text.contains("  remote           0         1         1          -          -\n"),
        "{text}"
    );
    assert!(
        text.contains("a.test\n") && !text.contains("b.test"),
        "-n 1: {text}"
    );
    run("qmail-analog").arg("-x").go().expect(
        100,
        "",
        "qmail-analog: illegal option -- x\nqmail-analog: usage: qmail-analog [ -n top ]\n",
    );
    run("qmail-analog").args(["-n", "many"]).go().expect(
        100,
        "",
        "qmail-analog: usage: qmail-analog [ -n top ]\n",
    );
}

#[test]
fn the_log_of_a_real_queue() {
    let _l = home_lock();
    let t = TmpDir::new("analog");
    let mut q = Instance::fresh("./Maildir/");
    let joe = assign_users(&t.0, &["joe"]).remove(0);
    std::fs::write(joe.join(".qmail-later"), "|exit 111\n").unwrap();
    std::fs::write(joe.join(".qmail-gone"), "|exit 100\n").unwrap();
    for to in ["joe", "joe-later", "joe-gone"] {
        run("qmail-inject")
            .args(["-fjoe@test.example", &format!("{to}@test.example")])
            .stdin(format!("To: {to}@test.example\n\nhi\n"))
            .go()
            .expect(0, "", "");
    }
    assert!(
        wait_for(20, || crate::common::ls(joe.join("Maildir/new")).len() == 2
            && q.log_text().contains(": deferral: ")),
        "{}",
        q.log_text()
    );
    q.stop();
    let o = run("qmail-analog").stdin(q.log_text()).go();
    assert_eq!(o.code, 0, "{}", o.stderr());
    let r = o.stdout();
    // joe's message, the failed one and its bounce are done; the deferred one is not
    assert!(r.contains("messages completed 3,"), "{r}");
    assert!(r.contains("bounces 1,"), "{r}");
    let local = r
        .lines()
        .find(|l| l.starts_with("  local "))
        .unwrap_or_default();
    let n: Vec<&str> = local.split_whitespace().collect();
    assert_eq!(&n[1..3], ["2", "1"], "{r}");
    assert!(n[3].parse::<u32>().unwrap() >= 1, "{r}");
    assert!(r.contains("test.example\n"), "{r}");
    assert!(
        r.contains("joe@test.example\n") && r.contains("  <>\n"),
        "{r}"
    );
}
