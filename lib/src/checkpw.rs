//! checkpassword's rules (the logic of djb's checkpassword.c 0.90, and Dovecot's
//! conventions): the fd-3 input and its fields, which mode the caller asks for, whether a
//! stored hash can match at all, the constant-time comparison, and the environment handed
//! to the program. The lookups, crypt(3) and the exec stay in the tool and in `sys`.

use crate::envedit::Edits;
use crate::sys::crypt::wipe;
use crate::sys::id::Passwd;
use std::io::{self, Read};

/// The most bytes the input may have; one more is "oversized" (a bad password, exit 1).
pub const LIMIT: usize = 512;

/// What was read from fd 3. Holds the password: the buffer is wiped when dropped.
pub struct Input {
    buf: Vec<u8>,
    len: usize,
}

impl Input {
    /// Reads `r` until EOF or until `LIMIT + 1` bytes have arrived, EINTR retried; `r` is
    /// dropped (closed) on return.
    pub fn read(mut r: impl Read) -> io::Result<Input> {
        let mut input = Input {
            buf: vec![0; LIMIT + 1],
            len: 0,
        };
        while input.len < input.buf.len() {
            match r.read(&mut input.buf[input.len..]) {
                Ok(0) => break,
                Ok(n) => input.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(input)
    }

    /// More than [`LIMIT`] bytes arrived.
    pub fn oversized(&self) -> bool {
        self.len > LIMIT
    }

    /// The fields, `None` when malformed (exit 2); see [`parse`].
    pub fn fields(&self) -> Option<Fields<'_>> {
        parse(&self.buf[..self.len])
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        wipe(&mut self.buf);
    }
}

/// The input's fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Fields<'a> {
    /// the login name
    pub login: &'a [u8],
    /// the password (or an APOP digest, or a CRAM response)
    pub password: &'a [u8],
    /// the timestamp, up to its NUL or the end; empty when absent
    pub timestamp: &'a [u8],
}

/// djb's rules: the login ends at the first NUL (none: malformed); at least one byte must
/// follow it and the password must end with a NUL (else malformed). The timestamp is not
/// checked: `user\0pass\0` alone is accepted, and so is a timestamp without its NUL.
pub fn parse(data: &[u8]) -> Option<Fields<'_>> {
    let l = memchr::memchr(0, data)?;
    let rest = &data[l + 1..];
    let p = memchr::memchr(0, rest)?;
    let after = &rest[p + 1..];
    Some(Fields {
        login: &data[..l],
        password: &rest[..p],
        timestamp: &after[..memchr::memchr(0, after).unwrap_or(after.len())],
    })
}

/// Whose conventions to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// djb's: check the password, become the user, chdir to the home directory.
    Djb,
    /// Dovecot's: exit 3 for an unknown user, no change of ids or directory, the account
    /// handed back in `userdb_*` variables.
    Dovecot {
        /// `AUTHORIZED=1`: look the user up without checking a password
        lookup: bool,
        /// `CREDENTIALS_LOOKUP=1`: the caller wants the plain credentials, which a crypt
        /// hash cannot give (exit 1)
        credentials: bool,
    },
}

/// The mode from the environment (`get` reads a variable): Dovecot's when `AUTHORIZED`,
/// `CREDENTIALS_LOOKUP` or `MASTER_USER` is set, whatever its value, or when
/// `CHECKPASSWORD_DOVECOT` is `1`; djb's otherwise.
pub fn mode(get: impl Fn(&str) -> Option<Vec<u8>>) -> Mode {
    let set = |n: &str| get(n).is_some();
    let one = |n: &str| get(n).as_deref() == Some(b"1");
    let asked = ["AUTHORIZED", "CREDENTIALS_LOOKUP", "MASTER_USER"]
        .into_iter()
        .any(set);
    if !asked && !one("CHECKPASSWORD_DOVECOT") {
        return Mode::Djb;
    }
    Mode::Dovecot {
        lookup: one("AUTHORIZED"),
        credentials: one("CREDENTIALS_LOOKUP"),
    }
}

/// Whether a stored hash can match any password: it is not empty and not locked (`!` or
/// `*` first, as passwd -l and `*` accounts write it).
pub fn usable(stored: &[u8]) -> bool {
    !matches!(stored.first(), None | Some(b'!' | b'*'))
}

/// Whether `password` hashes to `stored`. An unusable hash is refused without calling
/// `crypt`, which is given `(password, stored)` and returns the hash, `None` if it refuses
/// the setting; its errors are passed on.
pub fn verify<E>(
    password: &[u8],
    stored: &[u8],
    crypt: impl FnOnce(&[u8], &[u8]) -> Result<Option<Vec<u8>>, E>,
) -> Result<bool, E> {
    if !usable(stored) {
        return Ok(false);
    }
    Ok(crypt(password, stored)?.is_some_and(|h| same(&h, stored)))
}

/// `a == b` in time that depends on the lengths only: every byte pair is compared and the
/// differences ORed together, the length difference included.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// `USER`, `HOME` and `SHELL` from the account, replacing any inherited values.
pub fn login_env(e: &mut Edits, pw: &Passwd) {
    e.set(b"USER", &pw.name);
    e.set(b"HOME", &pw.dir);
    e.set(b"SHELL", &pw.shell);
}

/// The names Dovecot's checkpassword-reply is told about in `EXTRA`.
const USERDB: [&str; 3] = ["userdb_uid", "userdb_gid", "userdb_home"];

/// For Dovecot: `userdb_uid`, `userdb_gid` and `userdb_home`, their names appended to
/// `EXTRA` (`extra`, its inherited value) unless listed already, and `AUTHORIZED=2` after
/// a `lookup` without a password.
pub fn dovecot_env(e: &mut Edits, pw: &Passwd, extra: Option<&[u8]>, lookup: bool) {
    e.set(b"userdb_uid", pw.uid.to_string().as_bytes());
    e.set(b"userdb_gid", pw.gid.to_string().as_bytes());
    e.set(b"userdb_home", &pw.dir);
    let mut list = extra.unwrap_or_default().to_vec();
    for name in USERDB {
        if !list.split(|&c| c == b' ').any(|w| w == name.as_bytes()) {
            if !list.is_empty() {
                list.push(b' ');
            }
            list.extend_from_slice(name.as_bytes());
        }
    }
    e.set(b"EXTRA", &list);
    if lookup {
        e.set(b"AUTHORIZED", b"2");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(d: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
        parse(d).map(|f| (f.login, f.password, f.timestamp))
    }

    #[test]
    fn parses_djbs_way() {
        let r = |l: &'static [u8], p: &'static [u8], t: &'static [u8]| Some((l, p, t));
        assert_eq!(fields(b"joe\0pw\0<1.2@h>\0"), r(b"joe", b"pw", b"<1.2@h>"));
        assert_eq!(fields(b"joe\0pw\0"), r(b"joe", b"pw", b""));
        assert_eq!(fields(b"joe\0pw\0ts"), r(b"joe", b"pw", b"ts"));
        assert_eq!(fields(b"joe\0pw\0ts\0junk\0"), r(b"joe", b"pw", b"ts"));
        assert_eq!(fields(b"joe\0\0"), r(b"joe", b"", b""));
        assert_eq!(fields(b"\0pw\0"), r(b"", b"pw", b""));
        for bad in [&b""[..], b"joe", b"joe\0", b"joe\0pw", b"joe\0pw-no-nul"] {
            assert_eq!(fields(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_at_most_one_byte_past_the_limit() {
        let i = Input::read(&[b'a'; 600][..]).unwrap();
        assert!(i.oversized());
        assert_eq!(i.len, LIMIT + 1);
        let mut d = b"joe\0".to_vec();
        d.resize(LIMIT - 1, b'x');
        d.push(0);
        let i = Input::read(&d[..]).unwrap();
        assert!(!i.oversized());
        assert_eq!(i.fields().map(|f| f.password.len()), Some(LIMIT - 5));
    }

    #[test]
    fn reads_through_interruptions() {
        struct Eintr(u8);
        impl Read for Eintr {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                match self.0 {
                    1 | 3 => Err(io::Error::from(io::ErrorKind::Interrupted)),
                    2 => {
                        b[..4].copy_from_slice(b"j\0p\0");
                        Ok(4)
                    }
                    _ => Ok(0),
                }
            }
        }
        let i = Input::read(Eintr(0)).unwrap();
        assert_eq!(
            fields(&i.buf[..i.len]),
            Some((&b"j"[..], &b"p"[..], &b""[..]))
        );
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(5))
            }
        }
        assert!(Input::read(Broken).is_err());
    }

    #[test]
    fn compares_every_byte_and_the_length() {
        assert!(same(b"$6$a$b", b"$6$a$b"));
        assert!(same(b"", b""));
        assert!(!same(b"$6$a$b", b"$6$a$c"));
        assert!(!same(b"x$6$a$b", b"$6$a$b"));
        assert!(!same(b"$6$a$b", b"$6$a$b\0"));
        assert!(!same(b"", b"\0"));
    }

    #[test]
    fn locked_and_empty_hashes_never_reach_crypt() {
        for stored in [&b""[..], b"!$6$s$h", b"*", b"*LK*", b"!"] {
            let r: Result<bool, ()> = verify(b"pw", stored, |_, _| panic!("crypt called"));
            assert_eq!(r, Ok(false));
        }
        let echo = |_: &[u8], s: &[u8]| Ok::<_, ()>(Some(s.to_vec()));
        assert_eq!(verify(b"pw", b"$6$s$h", echo), Ok(true));
        let other = |_: &[u8], _: &[u8]| Ok::<_, ()>(Some(b"$6$s$x".to_vec()));
        assert_eq!(verify(b"pw", b"$6$s$h", other), Ok(false));
        assert_eq!(verify(b"pw", b"xx", |_, _| Ok::<_, ()>(None)), Ok(false));
        assert_eq!(
            verify(b"pw", b"xx", |_, _| Err::<Option<Vec<u8>>, _>(7)),
            Err(7)
        );
    }

    #[test]
    fn dovecot_mode_from_the_environment() {
        let m = |vars: &[(&str, &str)]| {
            mode(|n| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.as_bytes().to_vec())
            })
        };
        let dovecot = |lookup, credentials| Mode::Dovecot {
            lookup,
            credentials,
        };
        assert_eq!(m(&[]), Mode::Djb);
        assert_eq!(m(&[("CHECKPASSWORD_DOVECOT", "0")]), Mode::Djb);
        assert_eq!(m(&[("SERVICE", "imap"), ("TCPREMOTEIP", "::1")]), Mode::Djb);
        assert_eq!(m(&[("CHECKPASSWORD_DOVECOT", "1")]), dovecot(false, false));
        assert_eq!(m(&[("MASTER_USER", "admin")]), dovecot(false, false));
        assert_eq!(m(&[("AUTHORIZED", "1")]), dovecot(true, false));
        assert_eq!(m(&[("AUTHORIZED", "")]), dovecot(false, false));
        let both = [("AUTHORIZED", "1"), ("CREDENTIALS_LOOKUP", "1")];
        assert_eq!(m(&both), dovecot(true, true));
    }

    #[test]
    fn dovecot_variables() {
        let pw = Passwd {
            name: b"joe".to_vec(),
            passwd: b"x".to_vec(),
            uid: 1001,
            gid: 100,
            dir: b"/home/joe".to_vec(),
            shell: b"/bin/sh".to_vec(),
        };
        let mut e = Edits::new();
        login_env(&mut e, &pw);
        dovecot_env(&mut e, &pw, None, true);
        let v = |e: &Edits, n: &[u8]| e.value(n, Some(b"old")).map(<[u8]>::to_vec);
        assert_eq!(v(&e, b"USER"), Some(b"joe".to_vec()));
        assert_eq!(v(&e, b"userdb_uid"), Some(b"1001".to_vec()));
        assert_eq!(v(&e, b"userdb_gid"), Some(b"100".to_vec()));
        assert_eq!(v(&e, b"userdb_home"), Some(b"/home/joe".to_vec()));
        let all = b"userdb_uid userdb_gid userdb_home".to_vec();
        assert_eq!(v(&e, b"EXTRA"), Some(all));
        assert_eq!(v(&e, b"AUTHORIZED"), Some(b"2".to_vec()));
        let mut e = Edits::new();
        dovecot_env(&mut e, &pw, Some(b"userdb_quota userdb_gid"), false);
        let extra = b"userdb_quota userdb_gid userdb_uid userdb_home".to_vec();
        assert_eq!(v(&e, b"EXTRA"), Some(extra));
        assert_eq!(v(&e, b"AUTHORIZED"), Some(b"old".to_vec()));
    }
}
