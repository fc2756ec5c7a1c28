//! qmail-pw2u — turn a password file into `users/assign` lines.
//!
//! Usage:    qmail-pw2u [ -/ohHuUC ] [ -c char ] < passwd > assign
//!           reads `user:password:uid:gid:gecos:home:shell` lines; for each account that
//!           qualifies prints `=name:user:uid:gid:home:::` and `+name-:user:uid:gid:home:-::`
//!           (for each of its mail names), `+:alias:…:-::` first for the alias account, then
//!           the subusers' lines, users/append verbatim, and a final `.`.
//! Options:  -o skip accounts whose home is missing or not theirs (default);
//!           -h stop if a home is missing; -H no home checks;
//!           -U skip names with uppercase letters (default); -u allow them;
//!           -cX use X as the delimiter in wildcard keys (default: conf break);
//!           -C no extension addresses; -/ dash `-/` instead of `-`.
//!           Of -o/-h/-H, of -u/-U and of -c/-C the last one given wins.
//! Environment: none.
//! Files:    QMAILHOME/users/include, exclude, mailnames, subusers, append (all optional).
//! Exit:     0 printed; 100 bad option; 111 no alias account, a subuser of an unknown user,
//!           a home that cannot be stat'ed (with -h: one that does not exist), or a read or
//!           write failure (output may then be incomplete: it lacks the final `.`).
//! Runs as:  root, by hand.  Trusts: its input and the users/ controls.
//! Spec:     shared/spec/qmail.md §4.5

use qlib::conf::{self, User};
use qlib::control::{self, Map};
use qlib::fail::{Fail, OrFail as _};
use qlib::pw2u::{Controls, Homes, Options, Pw2u, Stop};
use qlib::{args, prog};
use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead as _, BufWriter, Read as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::process::ExitCode;

const USAGE: &str = "qmail-pw2u [ -/ohHuUC ] [ -cchar ]";

fn main() -> ExitCode {
    prog::main("qmail-pw2u", run)
}

/// The options in the order given, `c` with its value: getopts checks them, but it cannot
/// say which of two letters in one word (`-uU`) came last, and here the last one wins.
fn in_order(words: &[OsString]) -> Vec<(char, Option<String>)> {
    let mut seq = Vec::new();
    let mut words = words.iter().map(|w| w.to_string_lossy().into_owned());
    while let Some(w) = words.next() {
        if w == "--" || !w.starts_with('-') || w == "-" {
            break;
        }
        for (i, c) in w.char_indices().skip(1) {
            if c == 'c' {
                let v = &w[i + 1..];
                let value = if v.is_empty() {
                    words.next()
                } else {
                    Some(v.to_string())
                };
                seq.push(('c', value));
                break;
            }
            seq.push((c, None));
        }
    }
    seq
}

fn options(argv: Vec<OsString>) -> Result<Options, Fail> {
    let mut o = getopts::Options::new();
    for f in ["/", "o", "h", "H", "u", "U", "C"] {
        o.optflagmulti(f, "", "");
    }
    o.optmulti("c", "", "", "X");
    let seq = in_order(&argv[1.min(argv.len())..]);
    let p = args::parse(&o, argv, USAGE)?;
    args::exactly(p.rest, 0, USAGE)?;
    let mut opts = Options {
        allow_upper: false,
        homes: Homes::Owned,
        brk: Some(conf::break_char()),
        slash: false,
    };
    for (c, value) in seq {
        match c {
            '/' => opts.slash = true,
            'o' => opts.homes = Homes::Owned,
            'h' => opts.homes = Homes::MustExist,
            'H' => opts.homes = Homes::Unchecked,
            'u' => opts.allow_upper = true,
            'U' => opts.allow_upper = false,
            'C' => opts.brk = None,
            'c' => opts.brk = value.and_then(|v| v.bytes().next()),
            _ => return Err(Fail::usage(USAGE)),
        }
    }
    Ok(opts)
}

fn map(file: &str, colon: bool) -> Result<Option<Map>, Fail> {
    let lines = control::list(file).or_temp(&format!("unable to read {file}"))?;
    Ok(lines.map(|l| Map::new(&l, colon)))
}

/// The lines of a file, or `None` if it does not exist.
fn lines(file: &str) -> Result<Option<Vec<u8>>, Fail> {
    match std::fs::File::open(file) {
        Ok(mut f) => {
            let mut v = Vec::new();
            f.read_to_end(&mut v)
                .or_temp(&format!("unable to read {file}"))?;
            Ok(Some(v))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).or_temp(&format!("unable to read {file}")),
    }
}

fn stop(s: Stop) -> Fail {
    match s {
        Stop::Home(h, why) => Fail::temp(format!(
            "unable to stat {}: {why}",
            String::from_utf8_lossy(&h)
        )),
        Stop::SubUser(u) => Fail::temp(format!(
            "unable to find {} user for subuser",
            String::from_utf8_lossy(&u)
        )),
    }
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let opts = options(argv)?;
    std::env::set_current_dir(conf::HOME).or_temp(&format!("unable to chdir to {}", conf::HOME))?;
    let controls = Controls {
        include: map("users/include", false)?,
        exclude: map("users/exclude", false)?,
        mailnames: map("users/mailnames", true)?,
    };
    let alias = conf::user_name(User::Alias);
    let mut p = Pw2u::new(opts, controls, alias.as_bytes());
    let mut out = BufWriter::with_capacity(65536, io::stdout().lock());
    let mut put = |b: &[u8]| out.write_all(b).or_temp("unable to write output");
    let owner = |h: &[u8]| std::fs::metadata(OsStr::from_bytes(h)).map(|m| m.uid());
    for line in io::stdin().lock().split(b'\n') {
        let line = line.or_temp("unable to read input")?;
        put(&p.account(&line, owner).map_err(stop)?)?;
    }
    if !p.saw_alias() {
        return Err(Fail::temp(format!("unable to find {alias} user")));
    }
    if let Some(subs) = lines("users/subusers")? {
        for line in subs.split(|&c| c == b'\n') {
            put(&p.subuser(line).map_err(stop)?)?;
        }
    }
    if let Some(append) = lines("users/append")? {
        put(&append)?;
    }
    put(b".\n")?;
    out.flush().or_temp("unable to write output")?;
    Ok(0)
}
