//! rblsmtpd against the fake DNS server in a private network namespace: listed clients get
//! the fake dialogue (451, or 553 with -b), RBLSMTPD overrides without lookups, -a
//! allowlists, SERVFAIL with -c/-C, -t 0, a long TXT answer over TCP cut to 200 bytes,
//! hostile TXT bytes as `?`, IPv6 clients, and everyone else reaching the real smtpd with
//! arguments and environment unchanged. Where Debian's /usr/bin/rblsmtpd (djb's) should
//! behave the same, the same run is made with it and the outputs compared.
//!
//! Not tested here: a DNS server that never answers with -c (the lookup takes the full
//! 60 s of retries; the library's unit tests cover timeouts with short rounds).

use crate::common::{netns, run, Cmd, Out};

const ZONE: &str = "\
TXT 2.0.0.127.rbl.test listed at rbl.test
TXT 2.0.0.127.rbl2.test second list
A 2.0.0.127.allow.test 127.0.0.2
SERVFAIL 2.0.0.127.fail.test
DROP 2.0.0.127.drop.test
TXT 3.0.0.127.rbl.test bad\\001bytes\\377 and\\015\\012CRLF\\000NUL
TRUNC 4.0.0.127.rbl.test
A 9.0.0.127.rbl.test 127.0.0.9
TXT 2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.rbl.test six listed
AAAA 3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.allow.test ::1
";

const GREET: &str = "220 rblsmtpd.local\r\n";
const OK: &str = "250 rblsmtpd.local\r\n";
const BYE: &str = "221 rblsmtpd.local\r\n";
const SESSION: &str = "HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nQUIT\r\n";

/// The zone with a 300-byte TXT answer for 127.0.0.4 (only over TCP).
fn zone() -> String {
    format!("{ZONE}TXT 4.0.0.127.rbl.test {}\n", "0123456789".repeat(30))
}

/// `pid 1234:` → `pid N:` in stderr.
fn masked(o: &Out) -> String {
    let e = o.stderr();
    match e.find(" pid ") {
        Some(p) => {
            let digits = e[p + 5..].chars().take_while(char::is_ascii_digit).count();
            format!("{} pid N{}", &e[..p], &e[p + 5 + digits..])
        }
        None => e,
    }
}

/// rblsmtpd from `prog` (ours, or Debian's by path) for client `ip`.
fn rbl(prog: &str, ip: &str, args: &[&str]) -> Cmd {
    run(prog)
        .args(args)
        .env("TCPREMOTEIP", ip)
        .env("PROTO", "TCP")
}

/// Runs ours and Debian's with the same arguments and input; asserts ours gives `code`,
/// `out`, `err` (pid masked) and Debian's the same.
fn same_as_debian(ip: &str, args: &[&str], input: &str, code: i32, out: &str, err: &str) {
    for prog in ["rblsmtpd", "/usr/bin/rblsmtpd"] {
        check(prog, ip, args, input, (code, out, err));
    }
}

/// Runs `prog` against the zone and asserts code, stdout and stderr (pid masked).
fn check(prog: &str, ip: &str, args: &[&str], input: &str, want: (i32, &str, &str)) {
    let o = netns::with_dns(&zone(), rbl(prog, ip, args).stdin(input));
    assert_eq!(
        (o.code, o.stdout().as_str(), masked(&o).as_str()),
        want,
        "{prog}"
    );
}

#[test]
fn listed_client_gets_the_451_dialogue() {
    same_as_debian(
        "127.0.0.2",
        &["-r", "rbl.test", "true"],
        SESSION,
        0,
        &[
            GREET,
            OK,
            OK,
            "451 listed at rbl.test\r\n",
            "451 listed at rbl.test\r\n",
            BYE,
        ]
        .concat(),
        "rblsmtpd: 127.0.0.2 pid N: 451 listed at rbl.test\n",
    );
}

#[test]
fn bounce_applies_to_later_lists_only() {
    same_as_debian(
        "127.0.0.2",
        &["-b", "-r", "rbl.test", "true"],
        "rcpt to:<x>\r\nquit\r\n",
        0,
        &[GREET, "553 listed at rbl.test\r\n", BYE].concat(),
        "rblsmtpd: 127.0.0.2 pid N: 553 listed at rbl.test\n",
    );
    same_as_debian(
        "127.0.0.2",
        &["-r", "rbl.test", "-b", "true"],
        "rcpt to:<x>\r\n",
        0,
        &[GREET, "451 listed at rbl.test\r\n"].concat(),
        "rblsmtpd: 127.0.0.2 pid N: 451 listed at rbl.test\n",
    );
    // the first list that answers decides
    same_as_debian(
        "127.0.0.2",
        &["-r", "rbl2.test", "-b", "-r", "rbl.test", "true"],
        "x\r\n",
        0,
        &[GREET, "451 second list\r\n"].concat(),
        "rblsmtpd: 127.0.0.2 pid N: 451 second list\n",
    );
}

/// A program that shows its arguments and one variable: proves smtpd ran, unchanged.
const SHOW: [&str; 4] = ["sh", "-c", "printf '%s|' \"$@\" \"$FOO\"", "smtpd"];

#[test]
fn not_listed_runs_smtpd_unchanged() {
    let args = [
        &["-r", "rbl.test", "-a", "allow.test"][..],
        &SHOW,
        &["-r", "a b", ""],
    ]
    .concat();
    let (o, queries) = netns::with_dns_queries(
        &zone(),
        rbl("rblsmtpd", "127.0.0.7", &args).env("FOO", "bar"),
    );
    o.expect(0, "-r|a b||bar|", "");
    assert_eq!(
        queries,
        ["UDP TXT 7.0.0.127.rbl.test", "UDP A 7.0.0.127.allow.test"]
    );
    // an A record in an RBL zone is not a listing; only TXT counts for -r
    let o = netns::with_dns(
        &zone(),
        rbl(
            "rblsmtpd",
            "127.0.0.9",
            &[&["-r", "rbl.test"][..], &SHOW].concat(),
        ),
    );
    o.expect(0, "|", "");
}

#[test]
fn rblsmtpd_variable_decides_without_lookups() {
    let zone = "DROP 2.0.0.127.rbl.test\n";
    let args = [&["-r", "rbl.test"][..], &SHOW].concat();
    let (o, q) = netns::with_dns_queries(
        zone,
        rbl("rblsmtpd", "127.0.0.2", &args).env("RBLSMTPD", ""),
    );
    o.expect(0, "|", "");
    assert_eq!(q, Vec::<String>::new());
    let (o, q) = netns::with_dns_queries(
        zone,
        rbl("rblsmtpd", "127.0.0.2", &args)
            .env("RBLSMTPD", "-Go away")
            .stdin("data\r\n"),
    );
    o.expect(
        0,
        &[GREET, "553 Go away\r\n"].concat(),
        &format!("rblsmtpd: 127.0.0.2 pid {}: 553 Go away\n", pid_of(&o)),
    );
    assert_eq!(q, Vec::<String>::new());
    let (o, q) = netns::with_dns_queries(
        zone,
        rbl("rblsmtpd", "127.0.0.2", &args)
            .env("RBLSMTPD", "Try\tlater")
            .stdin("data\r\n"),
    );
    assert_eq!(o.stdout(), [GREET, "451 Try?later\r\n"].concat());
    assert_eq!(q, Vec::<String>::new());
}

fn pid_of(o: &Out) -> String {
    let e = o.stderr();
    let start = e.find(" pid ").map_or(0, |p| p + 5);
    e[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

#[test]
fn allowlist() {
    same_as_debian(
        "127.0.0.2",
        &["-a", "allow.test", "-r", "rbl.test", "echo", "in"],
        "",
        0,
        "in\n",
        "",
    );
    same_as_debian(
        "127.0.0.2",
        &["-r", "rbl.test", "-a", "allow.test", "true"],
        "quit\r\n",
        0,
        &[GREET, BYE].concat(),
        "rblsmtpd: 127.0.0.2 pid N: 451 listed at rbl.test\n",
    );
}

/// Debian's resolver asks again after SERVFAIL, round after round (about 11 s), so it is
/// compared once; ours gives up on a server that answered SERVFAIL at once.
#[test]
fn temporary_failures() {
    // fail-open by default
    check(
        "rblsmtpd",
        "127.0.0.2",
        &["-r", "fail.test", "echo", "in"],
        "",
        (0, "in\n", ""),
    );
    // fail-closed
    same_as_debian(
        "127.0.0.2",
        &["-c", "-r", "fail.test", "true"],
        "rcpt\r\n",
        0,
        &[GREET, "451 temporary RBL lookup error\r\n"].concat(),
        "rblsmtpd: 127.0.0.2 pid N: 451 temporary RBL lookup error\n",
    );
    // a failure earlier means a later listing cannot bounce
    let listed = [GREET, "451 listed at rbl.test\r\n"].concat();
    let log = "rblsmtpd: 127.0.0.2 pid N: 451 listed at rbl.test\n";
    let args = ["-b", "-r", "fail.test", "-r", "rbl.test", "true"];
    check(
        "rblsmtpd",
        "127.0.0.2",
        &args,
        "rcpt\r\n",
        (0, &listed, log),
    );
    // -a with a failure: -C lets through, -c goes on to the next list
    let args = ["-a", "fail.test", "-r", "rbl.test", "echo", "in"];
    check("rblsmtpd", "127.0.0.2", &args, "", (0, "in\n", ""));
    let args = ["-c", "-a", "fail.test", "-b", "-r", "rbl.test", "true"];
    check(
        "rblsmtpd",
        "127.0.0.2",
        &args,
        "rcpt\r\n",
        (0, &listed, log),
    );
}

#[test]
fn no_dialogue_with_t0() {
    same_as_debian(
        "127.0.0.2",
        &["-t", "0", "-r", "rbl.test", "true"],
        "HELO x\r\n",
        0,
        "451 listed at rbl.test\r\n",
        "rblsmtpd: 127.0.0.2 pid N: 451 listed at rbl.test\n",
    );
}

#[test]
fn long_answer_over_tcp_is_cut_to_200_bytes() {
    let text = "0123456789".repeat(20);
    let (o, q) = netns::with_dns_queries(
        &zone(),
        rbl("rblsmtpd", "127.0.0.4", &["-t0", "-r", "rbl.test", "true"]),
    );
    o.expect(
        0,
        &format!("451 {text}\r\n"),
        &format!("rblsmtpd: 127.0.0.4 pid {}: 451 {text}\n", pid_of(&o)),
    );
    assert_eq!(
        q,
        ["UDP TXT 4.0.0.127.rbl.test", "TCP TXT 4.0.0.127.rbl.test"]
    );
    same_as_debian(
        "127.0.0.4",
        &["-t0", "-r", "rbl.test", "true"],
        "",
        0,
        &format!("451 {text}\r\n"),
        &format!("rblsmtpd: 127.0.0.4 pid N: 451 {text}\n"),
    );
}

#[test]
fn hostile_text_becomes_question_marks() {
    same_as_debian(
        "127.0.0.3",
        &["-r", "rbl.test", "true"],
        "rcpt\r\n",
        0,
        &[GREET, "451 bad?bytes? and??CRLF?NUL\r\n"].concat(),
        "rblsmtpd: 127.0.0.3 pid N: 451 bad?bytes? and??CRLF?NUL\n",
    );
}

#[test]
fn ipv6_clients() {
    let six = |ip: &str, args: &[&str]| {
        run("rblsmtpd")
            .args(args)
            .env("PROTO", "TCP6")
            .env("TCP6REMOTEIP", ip)
            .env("TCPREMOTEIP", ip)
            .stdin("rcpt\r\n")
    };
    let o = netns::with_dns(&zone(), six("2001:db8::2", &["-r", "rbl.test", "true"]));
    o.expect(
        0,
        &[GREET, "451 six listed\r\n"].concat(),
        &format!("rblsmtpd: 2001:db8::2 pid {}: 451 six listed\n", pid_of(&o)),
    );
    let (o, q) = netns::with_dns_queries(
        &zone(),
        six(
            "2001:db8::3",
            &["-a", "allow.test", "-r", "rbl.test", "echo", "in"],
        ),
    );
    o.expect(0, "in\n", "");
    assert_eq!(
        q,
        ["UDP AAAA 3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.allow.test"]
    );
}

#[test]
fn dialogue_ends_at_the_timeout() {
    let o = run("sh")
        .arg("-c")
        .arg("(sleep 4; echo QUIT) | rblsmtpd -t 1 true; echo rc=$?")
        .env("RBLSMTPD", "x")
        .env("TCPREMOTEIP", "10.0.0.1")
        .go();
    assert_eq!((o.code, o.stdout()), (0, format!("{GREET}rc=0\n")));
}

#[test]
fn cannot_run_smtpd() {
    run("rblsmtpd")
        .arg("rqmail-no-such-program")
        .env("RBLSMTPD", "")
        .go()
        .expect(
            111,
            "",
            "rblsmtpd: fatal: unable to run rqmail-no-such-program: file does not exist\n",
        );
}

#[test]
fn usage() {
    let u = "rblsmtpd: usage: rblsmtpd [ -bBcC ] [ -t timeout ] [ -r base ] [ -a base ] smtpd [ arg ... ]\n";
    let cases: [(&[&str], &str); 5] = [
        (&[], ""),
        (&["-b"], ""),
        (&["-x", "true"], "rblsmtpd: illegal option -- x\n"),
        (&["-t", "abc", "true"], ""),
        (&["-r"], "rblsmtpd: option requires an argument -- r\n"),
    ];
    for (args, said) in cases {
        run("rblsmtpd")
            .args(args)
            .env("RBLSMTPD", "")
            .go()
            .expect(100, "", &format!("{said}{u}"));
    }
}

#[test]
fn resolvers_from_dnscacheip() {
    // a dead server first, then IPv6 loopback: the second one answers
    let cmd = rbl("rblsmtpd", "127.0.0.2", &["-t0", "-r", "rbl.test", "true"])
        .env("DNSCACHEIP", "127.0.0.2, ::1");
    let o = netns::with_dns(&zone(), cmd);
    o.expect(
        0,
        "451 listed at rbl.test\r\n",
        &format!(
            "rblsmtpd: 127.0.0.2 pid {}: 451 listed at rbl.test\n",
            pid_of(&o)
        ),
    );
    // a DNSCACHEIP that is not a list of addresses: every lookup fails temporarily
    let cmd = rbl(
        "rblsmtpd",
        "127.0.0.2",
        &["-t0", "-c", "-r", "rbl.test", "true"],
    )
    .env("DNSCACHEIP", "127.0.0.1 dns.example");
    let o = netns::with_dns(&zone(), cmd);
    o.expect(
        0,
        "451 temporary RBL lookup error\r\n",
        &format!(
            "rblsmtpd: 127.0.0.2 pid {}: 451 temporary RBL lookup error\n",
            pid_of(&o)
        ),
    );
}
