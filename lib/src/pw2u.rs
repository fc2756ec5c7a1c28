//! qmail-pw2u's translation of password-file lines into `users/assign` lines, with the
//! `users/` controls that shape it (include, exclude, mailnames, subusers). Replaces the
//! logic of qmail-pw2u.c; the home-directory stat is passed in so it can be tested.

use crate::control::Map;
use std::io;

/// How home directories are checked (`-o`, `-h`, `-H`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Homes {
    /// `-o`: skip an account whose home is missing or not owned by it
    Owned,
    /// `-h`: stop if a home is missing; skip one not owned by its account
    MustExist,
    /// `-H`: no checks
    Unchecked,
}

/// The options of qmail-pw2u.
#[derive(Clone, Debug)]
pub struct Options {
    /// `-u` allows names with uppercase letters (default `-U`: skip them)
    pub allow_upper: bool,
    /// home-directory checks
    pub homes: Homes,
    /// delimiter in wildcard keys (`-cX`); `None` for `-C`: no extension addresses
    pub brk: Option<u8>,
    /// `-/`: the dash is `-/` instead of `-`
    pub slash: bool,
}

/// The optional control files, already read (`None`: file missing).
#[derive(Clone, Debug, Default)]
pub struct Controls {
    /// users/include: only these users
    pub include: Option<Map>,
    /// users/exclude: not these users
    pub exclude: Option<Map>,
    /// users/mailnames: `user:name1:name2:…`
    pub mailnames: Option<Map>,
}

/// A reason to stop (exit 111).
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// a home directory could not be stat'ed (or, with `-h`, does not exist): the path and
    /// the error's text
    Home(Vec<u8>, String),
    /// a subusers line names a user without an assignment
    SubUser(Vec<u8>),
}

/// The translation in progress.
pub struct Pw2u {
    opts: Options,
    controls: Controls,
    alias: Vec<u8>,
    saw_alias: bool,
    /// `user` → `:user:uid:gid:home:` of every account printed, for subusers
    users: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Pw2u {
    /// Starts a translation; `alias` is the alias account's name.
    pub fn new(opts: Options, controls: Controls, alias: &[u8]) -> Pw2u {
        Pw2u {
            opts,
            controls,
            alias: alias.to_vec(),
            saw_alias: false,
            users: Vec::new(),
        }
    }

    /// Whether the alias account has been seen (it must be, before [`Pw2u::subuser`]).
    pub fn saw_alias(&self) -> bool {
        self.saw_alias
    }

    fn dashcolon(&self) -> &'static [u8] {
        if self.opts.slash {
            b"-/:"
        } else {
            b"-:"
        }
    }

    /// One passwd line (`user:password:uid:gid:gecos:home:shell`, no newline) → the
    /// assign lines for it; nothing for a line that does not qualify or does not parse.
    /// `owner` stats a home directory: its owner's uid.
    pub fn account(
        &mut self,
        line: &[u8],
        owner: impl FnOnce(&[u8]) -> io::Result<u32>,
    ) -> Result<Vec<u8>, Stop> {
        let f: Vec<&[u8]> = line.split(|&c| c == b':').collect();
        if f.len() < 7 || memchr::memchr(0, line).is_some() {
            return Ok(Vec::new());
        }
        let (user, uid, gid, home) = (f[0], f[2], f[3], f[5]);
        let (Some(uidn), Some(_)) = (crate::scan::ulong_exact(uid), crate::scan::ulong_exact(gid))
        else {
            return Ok(Vec::new());
        };
        if uidn == 0
            || (!self.opts.allow_upper && user.iter().any(u8::is_ascii_uppercase))
            || self
                .controls
                .include
                .as_ref()
                .is_some_and(|m| !m.contains(user))
            || self
                .controls
                .exclude
                .as_ref()
                .is_some_and(|m| m.contains(user))
        {
            return Ok(Vec::new());
        }
        if self.opts.homes != Homes::Unchecked {
            match owner(home) {
                Ok(o) if u64::from(o) == uidn => {}
                Ok(_) => return Ok(Vec::new()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if self.opts.homes == Homes::MustExist {
                        return Err(Stop::Home(home.to_vec(), crate::errtext::text(&e)));
                    }
                    return Ok(Vec::new());
                }
                Err(e) => return Err(Stop::Home(home.to_vec(), crate::errtext::text(&e))),
            }
        }
        let uugh = [&b""[..], user, uid, gid, home, b""].join(&b':');
        self.users.push((user.to_vec(), uugh.clone()));
        let mut out = Vec::new();
        if user == self.alias.as_slice() {
            self.saw_alias = true;
            out.extend_from_slice(&[b"+", &uugh[..], self.dashcolon(), b":\n"].concat());
        }
        let names = match self.controls.mailnames.as_ref().and_then(|m| m.get(user)) {
            Some(n) => n.to_vec(),
            None => user.to_vec(),
        };
        for name in names.split(|&c| c == b':').filter(|n| !n.is_empty()) {
            out.extend_from_slice(&[b"=", name, &uugh[..], b"::\n"].concat());
            if let Some(b) = self.opts.brk {
                out.extend_from_slice(
                    &[b"+", name, &[b], &uugh[..], self.dashcolon(), b":\n"].concat(),
                );
            }
        }
        Ok(out)
    }

    /// One users/subusers line (`sub:user:pre:`) → its assign lines; nothing for a line with
    /// fewer than three colons.
    pub fn subuser(&self, line: &[u8]) -> Result<Vec<u8>, Stop> {
        let f: Vec<&[u8]> = line.split(|&c| c == b':').collect();
        if f.len() < 3 {
            return Ok(Vec::new());
        }
        let (sub, user) = (f[0], f[1]);
        let Some((_, uugh)) = self
            .users
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(user))
        else {
            return Err(Stop::SubUser(user.to_vec()));
        };
        if f.len() < 4 {
            return Ok(Vec::new());
        }
        let pre = f[2];
        let mut out = [b"=", sub, &uugh[..], self.dashcolon(), pre, b":\n"].concat();
        if let Some(b) = self.opts.brk {
            out.extend_from_slice(
                &[b"+", sub, &[b], &uugh[..], self.dashcolon(), pre, b"-:\n"].concat(),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            allow_upper: false,
            homes: Homes::Owned,
            brk: Some(b'-'),
            slash: false,
        }
    }

    fn owner(home: &[u8]) -> io::Result<u32> {
        match home {
            b"/home/joe" => Ok(500),
            b"/var/alias" => Ok(7),
            b"/home/other" => Ok(1),
            b"/bad" => Err(io::Error::from_raw_os_error(13)),
            _ => Err(io::Error::from_raw_os_error(2)),
        }
    }

    fn run(p: &mut Pw2u, lines: &[&str]) -> Result<String, Stop> {
        let mut out = Vec::new();
        for l in lines {
            out.extend(p.account(l.as_bytes(), owner)?);
        }
        Ok(String::from_utf8(out).unwrap())
    }

    const PASSWD: &[&str] = &[
        "root:x:0:0:root:/root:/bin/sh",
        "alias:*:7:2::/var/alias:",
        "joe:x:500:100:Joe:/home/joe:/bin/sh",
        "Upper:x:500:100::/home/joe:/bin/sh",
        "gone:x:501:100::/nonexistent:/bin/sh",
        "other:x:502:100::/home/other:/bin/sh",
        "short:x:500:100::/home/joe",
        "bad:x:5x:100::/home/joe:",
    ];

    #[test]
    fn defaults() {
        let mut p = Pw2u::new(opts(), Controls::default(), b"alias");
        assert_eq!(
            run(&mut p, PASSWD).unwrap(),
            "+:alias:7:2:/var/alias:-::\n\
             =alias:alias:7:2:/var/alias:::\n\
             +alias-:alias:7:2:/var/alias:-::\n\
             =joe:joe:500:100:/home/joe:::\n\
             +joe-:joe:500:100:/home/joe:-::\n"
        );
        assert!(p.saw_alias());
        assert_eq!(
            p.subuser(b"Sub:JOE:pre:").unwrap(),
            b"=Sub:joe:500:100:/home/joe:-:pre:\n+Sub-:joe:500:100:/home/joe:-:pre-:\n"
        );
        assert_eq!(p.subuser(b"x:joe:pre").unwrap(), b"");
        assert_eq!(p.subuser(b"# comment").unwrap(), b"");
        assert_eq!(
            p.subuser(b"s:gone:p:"),
            Err(Stop::SubUser(b"gone".to_vec()))
        );
    }

    #[test]
    fn options() {
        let o = Options {
            allow_upper: true,
            homes: Homes::Unchecked,
            brk: None,
            slash: true,
        };
        let mut p = Pw2u::new(o, Controls::default(), b"alias");
        assert_eq!(
            run(&mut p, &PASSWD[1..6]).unwrap(),
            "+:alias:7:2:/var/alias:-/::\n\
             =alias:alias:7:2:/var/alias:::\n\
             =joe:joe:500:100:/home/joe:::\n\
             =Upper:Upper:500:100:/home/joe:::\n\
             =gone:gone:501:100:/nonexistent:::\n\
             =other:other:502:100:/home/other:::\n"
        );
        let o = Options {
            brk: Some(b'+'),
            slash: true,
            ..opts()
        };
        let mut p = Pw2u::new(o, Controls::default(), b"alias");
        assert_eq!(
            run(&mut p, &PASSWD[2..3]).unwrap(),
            "=joe:joe:500:100:/home/joe:::\n+joe+:joe:500:100:/home/joe:-/::\n"
        );
        assert_eq!(
            p.subuser(b"s:joe:p:").unwrap(),
            b"=s:joe:500:100:/home/joe:-/:p:\n+s+:joe:500:100:/home/joe:-/:p-:\n"
        );
    }

    #[test]
    fn home_checks() {
        let must = Options {
            homes: Homes::MustExist,
            ..opts()
        };
        let mut p = Pw2u::new(must, Controls::default(), b"alias");
        assert_eq!(run(&mut p, &PASSWD[5..6]).unwrap(), "");
        assert_eq!(
            run(&mut p, &PASSWD[4..5]),
            Err(Stop::Home(
                b"/nonexistent".to_vec(),
                "file does not exist".into()
            ))
        );
        let mut p = Pw2u::new(opts(), Controls::default(), b"alias");
        assert_eq!(
            run(&mut p, &["x:x:9:9::/bad:"]),
            Err(Stop::Home(b"/bad".to_vec(), "access denied".into()))
        );
    }

    #[test]
    fn controls() {
        let map = |s: &str, colon| Some(Map::new(&crate::control::parse_list(s.as_bytes()), colon));
        let c = Controls {
            include: map("joe\nALIAS\n", false),
            exclude: map("alias\n", false),
            mailnames: None,
        };
        let mut p = Pw2u::new(opts(), c, b"alias");
        assert_eq!(
            run(&mut p, PASSWD).unwrap(),
            "=joe:joe:500:100:/home/joe:::\n+joe-:joe:500:100:/home/joe:-::\n"
        );
        assert!(!p.saw_alias());
        let c = Controls {
            mailnames: map("# names\nJoe:joe.user::J.U\n", true),
            ..Controls::default()
        };
        let mut p = Pw2u::new(opts(), c, b"alias");
        assert_eq!(
            run(&mut p, &PASSWD[2..3]).unwrap(),
            "=joe.user:joe:500:100:/home/joe:::\n\
             +joe.user-:joe:500:100:/home/joe:-::\n\
             =J.U:joe:500:100:/home/joe:::\n\
             +J.U-:joe:500:100:/home/joe:-::\n"
        );
    }
}
