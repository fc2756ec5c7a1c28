//! sendmail — the sendmail command line, translated for qmail-inject.
//!
//! Usage:    sendmail [ -tvimxEJ ] [ -f sender ] [ -F name ] [ -b mode ] [ -e x ] [ -o x ]
//!           [ -p x ] [ -B x ] [ arg ... ]      (mode: m deliver, p list the queue, s SMTP)
//! Options:  -t  recipients from the header as well (qmail-inject -H; default -a);
//!           -f sender  envelope sender, also the From address (sets QMAILUSER and
//!               QMAILHOST after unsetting QMAILNAME MAILNAME NAME QMAILHOST MAILHOST);
//!           -F name  full name (sets MAILNAME); -bm  deliver (default);
//!           -bp  run bin/qmail-qread; -bs  run bin/qmail-smtpd on stdin/stdout (with a
//!               local TCP environment unless PROTO is set); other -b: usage;
//!           -e -o -p -B (with a value), -v -i -x -m: ignored; -E -J: ignored with the rest of
//!               their word.
//!           Called as `mailq`: run bin/qmail-qread. As `newaliases`: refuse (use fastforward).
//! Environment: read and passed on; see -f, -F, -bs.
//! Exit:     that of the program run; 100 usage or newaliases; 111 cannot chdir to the qmail
//!           home or cannot run the program.
//! Runs as:  any user.  Trusts: nothing.
//! Spec:     shared/spec/qmail.md §8.6
//!
//! Options are read with `qlib::getopt`, not getopts: `-E`/`-J` must swallow the rest of
//! their word, and `-f` values need not be UTF-8.

use qlib::fail::{Fail, OrFail as _};
use qlib::getopt::{self, Getopt, Opt};
use qlib::{conf, errtext, prog};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

const USAGE: &str = "sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]";

/// What qmail-smtpd gets for `-bs` when `PROTO` is not set.
const SMTPD_ENV: [(&str, &str); 8] = [
    ("RELAYCLIENT", ""),
    ("DATABYTES", "0"),
    ("PROTO", "TCP"),
    ("TCPLOCALIP", "127.0.0.1"),
    ("TCPLOCALHOST", "localhost"),
    ("TCPREMOTEIP", "127.0.0.1"),
    ("TCPREMOTEHOST", "localhost"),
    ("TCPREMOTEINFO", "sendmail-bs"),
];

fn main() -> ExitCode {
    prog::main("sendmail", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    std::env::set_current_dir(conf::HOME).or_temp("unable to switch to qmail home directory")?;
    let (mut header, mut sender, mut name) = (false, None, None);
    let mut g = Getopt::new(&argv, "vimte:f:p:o:B:F:EJxb:");
    while let Some(o) = g.next_opt() {
        match o {
            Opt::Found(b't', _) => header = true,
            Opt::Found(b'f', v) => sender = v,
            Opt::Found(b'F', v) => name = v,
            Opt::Found(b'E' | b'J', _) => g.skip_word(),
            Opt::Found(b'b', Some(mode)) => match mode.first() {
                Some(b'm') => {}
                Some(b'p') => return Err(qread()),
                Some(b's') => return Err(smtpd()),
                _ => return Err(Fail::usage(USAGE)),
            },
            Opt::Found(b'v' | b'i' | b'm' | b'x' | b'e' | b'p' | b'o' | b'B', _) => {}
            Opt::Bad(c) => {
                getopt::complain("vimte:f:p:o:B:F:EJxb:", c);
                return Err(Fail::usage(USAGE));
            }
            Opt::Found(..) => return Err(Fail::usage(USAGE)),
        }
    }
    match getopt::progname(&argv).as_slice() {
        b"mailq" => return Err(qread()),
        b"newaliases" => return Err(Fail::perm("please use fastforward/newaliases instead")),
        _ => {}
    }
    let mut cmd = Command::new("bin/qmail-inject");
    cmd.arg(if header { "-H" } else { "-a" });
    if let Some(n) = name {
        cmd.env("MAILNAME", getopt::os(n));
    }
    if let Some(s) = sender {
        for k in ["QMAILNAME", "MAILNAME", "NAME", "QMAILHOST", "MAILHOST"] {
            cmd.env_remove(k);
        }
        match s.iter().rposition(|&c| c == b'@') {
            Some(at) => {
                cmd.env("QMAILHOST", getopt::os(s[at + 1..].to_vec()));
                cmd.env("QMAILUSER", getopt::os(s[..at].to_vec()));
            }
            None => drop(cmd.env("QMAILUSER", getopt::os(s.clone()))),
        }
        cmd.arg("-f").arg(getopt::os(s));
    }
    cmd.arg("--").args(g.rest());
    Err(exec(cmd, "qmail-inject"))
}

/// `-bp` and `mailq`.
fn qread() -> Fail {
    exec(Command::new("bin/qmail-qread"), "qmail-qread")
}

/// `-bs`: an SMTP conversation on stdin and stdout, as the caller.
fn smtpd() -> Fail {
    let mut cmd = Command::new("bin/qmail-smtpd");
    if std::env::var_os("PROTO").is_none() {
        cmd.envs(SMTPD_ENV);
    }
    exec(cmd, "qmail-smtpd")
}

/// Replaces this process with `cmd` (a path relative to the qmail home); returns only the
/// failure.
fn exec(mut cmd: Command, what: &str) -> Fail {
    let e = cmd.exec();
    Fail::temp(format!("unable to run {what}: {}", errtext::text(&e)))
}
