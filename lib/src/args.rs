//! getopts front end: short options only, non-UTF-8 operands kept as they came.
//!
//! getopts rejects any argument that is not UTF-8, so it is given lossy copies; the operands
//! after the options are handed back as the original `OsString`s.

use crate::fail::Fail;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// argv, program name first.
pub type Argv = Vec<OsString>;

/// Options found, and the operands that follow them.
pub struct Parsed {
    /// what getopts found
    pub opts: getopts::Matches,
    /// operands, untouched
    pub rest: Vec<OsString>,
}

/// Parses `argv` (name first) with `options`; a bad option → `illegal option -- x` (or
/// `option requires an argument -- x`) and usage, exit 100.
pub fn parse(options: &getopts::Options, argv: Argv, usage: &str) -> Result<Parsed, Fail> {
    let words: Vec<OsString> = argv.into_iter().skip(1).collect();
    let lossy: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let opts = options.parse(&lossy).map_err(|e| {
        // What DJB's sgetopt says before the usage line.
        match e {
            getopts::Fail::UnrecognizedOption(o) => {
                crate::prog::say(&format!("illegal option -- {}", o.trim_start_matches('-')))
            }
            getopts::Fail::ArgumentMissing(o) => crate::prog::say(&format!(
                "option requires an argument -- {}",
                o.trim_start_matches('-')
            )),
            _ => {}
        }
        Fail::usage(usage)
    })?;
    let boundary = words.len() - opts.free.len();
    if words[..boundary]
        .iter()
        .any(|w| std::str::from_utf8(w.as_bytes()).is_err())
    {
        return Err(Fail::usage(usage));
    }
    let rest = words[boundary..].to_vec();
    Ok(Parsed { opts, rest })
}

/// A program that takes no options: every word after the name is an operand.
pub fn none(argv: Argv) -> Vec<OsString> {
    argv.into_iter().skip(1).collect()
}

/// Exactly `n` operands, or usage.
pub fn exactly(rest: Vec<OsString>, n: usize, usage: &str) -> Result<Vec<OsString>, Fail> {
    if rest.len() == n {
        Ok(rest)
    } else {
        Err(Fail::usage(usage))
    }
}

/// At least `n` operands, or usage.
pub fn at_least(rest: Vec<OsString>, n: usize, usage: &str) -> Result<Vec<OsString>, Fail> {
    if rest.len() >= n {
        Ok(rest)
    } else {
        Err(Fail::usage(usage))
    }
}

/// A short option's value as bytes (getopts holds it as a lossy `String`; option values that
/// must be exact bytes are rare and taken from `rest` instead).
pub fn value(p: &Parsed, opt: &str) -> Option<Vec<u8>> {
    p.opts.opt_str(opt).map(String::into_bytes)
}
