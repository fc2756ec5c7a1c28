//! A byte-exact POSIX-style short-option scanner (DJB's subgetopt), for the few programs
//! whose interface `getopts` cannot express: `sendmail` must skip the rest of a word after
//! `-E`/`-J`, and `qmail-inject -f` takes an address that need not be UTF-8.
//!
//! Rules: options are scanned until the first word that does not start with `-`, a lone `-`
//! (an operand), or `--` (consumed). Flags may be clustered (`-nH`); an option that takes a
//! value takes the rest of its word or else the next word (`-fjoe`, `-f joe`).

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// One step of the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// a flag, or an option with its value
    Found(u8, Option<Vec<u8>>),
    /// a letter not in the option string, or an option whose value is missing
    Bad(u8),
}

/// The scanner over argv (program name first).
pub struct Getopt<'a> {
    argv: &'a [OsString],
    spec: &'a [u8],
    ind: usize,
    pos: usize,
}

/// Says on fd 2 what DJB's sgetopt says for a bad option `c` of `spec`:
/// `prog: illegal option -- c`, or `prog: option requires an argument -- c`.
pub fn complain(spec: &str, c: u8) {
    let needs_value = spec.as_bytes().windows(2).any(|w| w == [c, b':']);
    let what = if needs_value && c != b':' {
        "option requires an argument"
    } else {
        "illegal option"
    };
    crate::prog::say(&format!("{what} -- {}", String::from_utf8_lossy(&[c])));
}

impl<'a> Getopt<'a> {
    /// Starts after the program name. `spec` is getopt's string: letters, `:` after those
    /// that take a value.
    pub fn new(argv: &'a [OsString], spec: &'a str) -> Getopt<'a> {
        Getopt {
            argv,
            spec: spec.as_bytes(),
            ind: 1,
            pos: 0,
        }
    }

    fn word(&self, i: usize) -> &'a [u8] {
        self.argv.get(i).map_or(&[], |w| w.as_bytes())
    }

    /// The next option, or `None` when the options end.
    pub fn next_opt(&mut self) -> Option<Opt> {
        if self.pos > 0 && self.pos >= self.word(self.ind).len() {
            self.ind += 1;
            self.pos = 0;
        }
        if self.ind >= self.argv.len() {
            return None;
        }
        if self.pos == 0 {
            let w = self.word(self.ind);
            if w.first() != Some(&b'-') || w.len() == 1 {
                return None;
            }
            if w == b"--" {
                self.ind += 1;
                return None;
            }
            self.pos = 1;
        }
        let w = self.word(self.ind);
        let c = w[self.pos];
        self.pos += 1;
        let at = match self.spec.iter().position(|&s| s == c) {
            Some(at) if c != b':' => at,
            _ => return Some(Opt::Bad(c)),
        };
        if self.spec.get(at + 1) != Some(&b':') {
            return Some(Opt::Found(c, None));
        }
        let value = if self.pos < w.len() {
            let v = w[self.pos..].to_vec();
            self.ind += 1;
            v
        } else if self.ind + 1 < self.argv.len() {
            let v = self.word(self.ind + 1).to_vec();
            self.ind += 2;
            v
        } else {
            self.ind += 1;
            self.pos = 0;
            return Some(Opt::Bad(c));
        };
        self.pos = 0;
        Some(Opt::Found(c, Some(value)))
    }

    /// Ignores whatever is left of the current word (sendmail's `-E`/`-J`).
    pub fn skip_word(&mut self) {
        if self.pos > 0 {
            self.pos = self.word(self.ind).len();
        }
    }

    /// The operands after the options (call once `next_opt` returned `None`).
    pub fn rest(&self) -> Vec<OsString> {
        self.argv.get(self.ind..).unwrap_or(&[]).to_vec()
    }
}

/// The last path component of argv\[0\] (how `sendmail` knows it was called as `mailq`).
pub fn progname(argv: &[OsString]) -> Vec<u8> {
    let w = argv.first().map_or(&b""[..], |w| w.as_bytes());
    match memchr::memrchr(b'/', w) {
        Some(i) => w[i + 1..].to_vec(),
        None => w.to_vec(),
    }
}

/// Bytes → `OsString`.
pub fn os(b: Vec<u8>) -> OsString {
    OsString::from_vec(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&[u8]]) -> Vec<OsString> {
        words.iter().map(|w| os(w.to_vec())).collect()
    }

    fn scan(words: &[&[u8]], spec: &str) -> (Vec<Opt>, Vec<OsString>) {
        let a = argv(words);
        let mut g = Getopt::new(&a, spec);
        let mut v = Vec::new();
        while let Some(o) = g.next_opt() {
            v.push(o);
        }
        (v, g.rest())
    }

    #[test]
    fn clusters_values_and_ends() {
        let (v, rest) = scan(
            &[b"p", b"-nH", b"-fjoe", b"-f", b"x\xff", b"a", b"-n"],
            "nHf:",
        );
        assert_eq!(
            v,
            vec![
                Opt::Found(b'n', None),
                Opt::Found(b'H', None),
                Opt::Found(b'f', Some(b"joe".to_vec())),
                Opt::Found(b'f', Some(b"x\xff".to_vec())),
            ]
        );
        assert_eq!(rest, argv(&[b"a", b"-n"]));
        let (v, rest) = scan(&[b"p", b"-n", b"--", b"-n"], "n");
        assert_eq!((v.len(), rest), (1, argv(&[b"-n"])));
        let (v, rest) = scan(&[b"p", b"-", b"x"], "n");
        assert_eq!((v.len(), rest), (0, argv(&[b"-", b"x"])));
        let (v, rest) = scan(&[b"p", b"-nq"], "n");
        assert_eq!(v, vec![Opt::Found(b'n', None), Opt::Bad(b'q')]);
        assert!(rest.is_empty());
        let (v, _) = scan(&[b"p", b"-f"], "f:");
        assert_eq!(v, vec![Opt::Bad(b'f')]);
        let (v, _) = scan(&[b"p", b"-:"], "f:");
        assert_eq!(v, vec![Opt::Bad(b':')]);
        let (v, rest) = scan(&[b"p", b"-f", b""], "f:");
        assert_eq!(
            (v, rest),
            (vec![Opt::Found(b'f', Some(Vec::new()))], vec![])
        );
    }

    #[test]
    fn skipping_a_word() {
        let a = argv(&[b"p", b"-Etx", b"-t", b"r"]);
        let mut g = Getopt::new(&a, "Et");
        assert_eq!(g.next_opt(), Some(Opt::Found(b'E', None)));
        g.skip_word();
        assert_eq!(g.next_opt(), Some(Opt::Found(b't', None)));
        assert_eq!(g.next_opt(), None);
        assert_eq!(g.rest(), argv(&[b"r"]));
        assert_eq!(progname(&argv(&[b"/usr/bin/mailq"])), b"mailq");
        assert_eq!(progname(&argv(&[b"mailq"])), b"mailq");
        assert_eq!(progname(&[]), b"");
    }
}
