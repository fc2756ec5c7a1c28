//! Reading a sendmail-style `~/.forward` the way dot-forward does (dot-forward.c): `#`
//! comment lines, RFC 822 address lists on every other line (commas, comments, quoting,
//! `\user`), `"|command"` entries, and the user's own name meaning "deliver here".
//! Addresses are qualified with qmail-inject's rules (`qlib::inject::Rewrite`).

use crate::addrlist::{self, Kind, Token};
use crate::inject::Rewrite;

/// What one entry of the file asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// send a copy to this (qualified, unquoted) address
    Forward(Vec<u8>),
    /// run this text with `/bin/sh -c`
    Program(Vec<u8>),
    /// the user's own name: leave the message for the next `.qmail` line
    Direct,
}

/// Why a file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// line `n` (from 1) is not an address list
    Syntax(usize),
    /// a `/file` entry: delivery to files is not supported
    File(Vec<u8>),
    /// an `:include:` line: not supported
    Include(usize),
}

/// Who "deliver here" is: `$USER`, `$HOST`, and the qualification rules.
pub struct Names<'a> {
    /// `$USER`
    pub user: &'a [u8],
    /// `$HOST`
    pub host: &'a [u8],
    /// qmail-inject's rewriting of bare names
    pub rewrite: &'a Rewrite,
}

/// The actions of a whole file, in order; empty if it has none.
pub fn parse(text: &[u8], names: &Names) -> Result<Vec<Action>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.split(|&c| c == b'\n').enumerate() {
        if line.first() == Some(&b'#') {
            continue;
        }
        let start = line.iter().position(|&c| !c.is_ascii_whitespace());
        let Some(start) = start else { continue };
        if line[start..].starts_with(b":include:") {
            return Err(Error::Include(i + 1));
        }
        let tokens = addrlist::parse(line).ok_or(Error::Syntax(i + 1))?;
        let mut addrs: Vec<Vec<Token>> = Vec::new();
        addrlist::addrlist(tokens, 0, |a| addrs.push(a.clone())).ok_or(Error::Syntax(i + 1))?;
        // addrlist walks right to left; the file is acted on top to bottom, left to right.
        for a in addrs.into_iter().rev() {
            if let Some(act) = action(a, names)? {
                out.push(act);
            }
        }
    }
    Ok(out)
}

fn action(mut a: Vec<Token>, names: &Names) -> Result<Option<Action>, Error> {
    let raw = addrlist::unquote(&a);
    let has_at = a.iter().any(|t| t.kind == Kind::At);
    if raw.is_empty() {
        return Ok(None);
    }
    if !has_at {
        match raw[0] {
            b'|' => return Ok(Some(Action::Program(raw[1..].to_vec()))),
            b'/' => return Err(Error::File(raw)),
            _ if raw.eq_ignore_ascii_case(names.user) => return Ok(Some(Action::Direct)),
            _ => {}
        }
    }
    names.rewrite.address(&mut a);
    let addr = addrlist::unquote(&a);
    let me = [names.user, b"@", names.host].concat();
    if addr.eq_ignore_ascii_case(&me) {
        return Ok(Some(Action::Direct));
    }
    Ok(Some(Action::Forward(addr)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    fn p(text: &str) -> Result<Vec<Action>, Error> {
        let rw = Rewrite::new(b"dh.test", b"dd.test", b"pd.test").unwrap();
        let names = Names {
            user: b"joe",
            host: b"ex.test",
            rewrite: &rw,
        };
        parse(text.as_bytes(), &names)
    }
    fn fwd(s: &str) -> Action {
        Forward(s.as_bytes().to_vec())
    }

    #[test]
    fn addresses_commas_comments_and_qualification() {
        assert_eq!(
            p("a@x.test, b@y.test\n# c@z.test\n  fred (Fred Bloggs)\n\"Ann\" <ann@w>\n"),
            Ok(vec![
                fwd("a@x.test"),
                fwd("b@y.test"),
                fwd("fred@dh.test"),
                fwd("ann@w.dd.test")
            ])
        );
        assert_eq!(p("bob@host+\n"), Ok(vec![fwd("bob@host.pd.test")]));
        assert_eq!(p("\"a b\"@x.test\n"), Ok(vec![fwd("a b@x.test")]));
        assert_eq!(p("\n\n# only comments\n   \n"), Ok(vec![]));
        assert_eq!(p("a@x.test"), Ok(vec![fwd("a@x.test")]));
    }

    #[test]
    fn the_user_themselves_is_direct_delivery() {
        let all = "joe\n\\joe, JOE@ex.test, Joe@EX.TEST\njoe@other.test\n";
        assert_eq!(
            p(all),
            Ok(vec![Direct, Direct, Direct, Direct, fwd("joe@other.test")])
        );
        assert_eq!(p("joey\n"), Ok(vec![fwd("joey@dh.test")]));
    }

    #[test]
    fn programs() {
        assert_eq!(
            p("\"|/usr/bin/vacation joe\", a@x.test\n|/bin/prog\n"),
            Ok(vec![
                Program(b"/usr/bin/vacation joe".to_vec()),
                fwd("a@x.test"),
                Program(b"/bin/prog".to_vec())
            ])
        );
        assert_eq!(p("\"|x\"@y.test\n"), Ok(vec![fwd("|x@y.test")]));
    }

    #[test]
    fn unsupported_and_broken_lines() {
        assert_eq!(
            p("a@x.test\n/home/joe/mail.box\n"),
            Err(Error::File(b"/home/joe/mail.box".to_vec()))
        );
        assert_eq!(p("\n :include: /etc/list\n"), Err(Error::Include(2)));
        assert_eq!(p("a@x.test\n\"unterminated\n"), Err(Error::Syntax(2)));
        assert_eq!(p("a@x.test (oops\n"), Err(Error::Syntax(1)));
        assert_eq!(p("x: y\n"), Err(Error::Syntax(1)));
        assert_eq!(p("a>b\n"), Err(Error::Syntax(1)));
    }
}
