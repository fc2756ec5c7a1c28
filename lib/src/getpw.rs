//! qmail-getpw's decision: which account, dash and extension a local part belongs to when
//! `users/cdb` has no answer, from the password database and the home directories' owners.
//! Replaces the logic of qmail-getpw.c; the system lookups are passed in, so the rules can
//! be tested without real accounts.

use crate::sys::id::Passwd;
use crate::users::Assign;
use std::io;

/// Exit codes of qmail-getpw (qmail-lspawn's `QLX_*` numbers).
pub mod code {
    /// no local part given
    pub const USAGE: u8 = 100;
    /// a home directory could not be stat'ed for a temporary reason (NFS trouble)
    pub const NFS: u8 = 115;
    /// no match and no `alias` account
    pub const NOALIAS: u8 = 116;
    /// the password database failed (ETXTBSY, or any other lookup error)
    pub const SYS: u8 = 118;
}

/// Longest account name tried (prefixes of 32 bytes or more are skipped).
pub const USERLEN: usize = 31;

/// Finds the account for `local`. `brk` is the user/extension delimiter (conf break), `alias`
/// the name of the alias account, `getpwnam` the password lookup and `owner` the owner uid of
/// a path (stat). `Err` is the exit code.
pub fn find(
    local: &[u8],
    brk: u8,
    alias: &[u8],
    mut getpwnam: impl FnMut(&[u8]) -> io::Result<Option<Passwd>>,
    mut owner: impl FnMut(&[u8]) -> io::Result<u32>,
) -> Result<Assign, u8> {
    let mut lookup = |name: &[u8]| getpwnam(name).map_err(|_| code::SYS);
    for end in (0..=local.len()).rev() {
        if end > USERLEN || !(end == local.len() || local[end] == brk) {
            continue;
        }
        let Some(pw) = lookup(&local[..end].to_ascii_lowercase())? else {
            continue;
        };
        if pw.uid == 0 {
            continue;
        }
        match owner(&pw.dir) {
            Ok(uid) if uid == pw.uid => {
                let (dash, ext) = if end == local.len() {
                    (&b""[..], &b""[..])
                } else {
                    (&b"-"[..], &local[end + 1..])
                };
                return Ok(assign(pw, dash, ext));
            }
            Ok(_) => {}
            Err(e) if crate::errtext::is_temp(&e) => return Err(code::NFS),
            Err(_) => {}
        }
    }
    match lookup(alias)? {
        Some(pw) => Ok(assign(pw, b"-", local)),
        None => Err(code::NOALIAS),
    }
}

fn assign(pw: Passwd, dash: &[u8], ext: &[u8]) -> Assign {
    Assign {
        user: pw.name,
        uid: pw.uid,
        gid: pw.gid,
        home: pw.dir,
        dash: dash.to_vec(),
        ext: ext.to_vec(),
    }
}

/// qmail-getpw's output: the six fields, each followed by NUL.
pub fn output(a: &Assign) -> Vec<u8> {
    let mut v = Vec::new();
    for f in [
        &a.user[..],
        a.uid.to_string().as_bytes(),
        a.gid.to_string().as_bytes(),
        &a.home,
        &a.dash,
        &a.ext,
    ] {
        v.extend_from_slice(f);
        v.push(0);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::parse_getpw;

    fn pw(name: &str, uid: u32, dir: &str) -> Passwd {
        Passwd {
            name: name.into(),
            passwd: b"x".to_vec(),
            uid,
            gid: uid + 100,
            dir: dir.into(),
            shell: b"/bin/sh".to_vec(),
        }
    }

    /// joe (home owned), ann (home owned by someone else), root, bob (no home),
    /// tmp (home gives a temporary error), a 31-byte and a 32-byte name, and alias.
    fn db(name: &[u8]) -> io::Result<Option<Passwd>> {
        let long31 = "a".repeat(31);
        let long32 = "b".repeat(32);
        Ok(match name {
            b"joe" => Some(pw("joe", 500, "/home/joe")),
            b"joe-list" => Some(pw("joe-list", 501, "/home/list")),
            b"ann" => Some(pw("ann", 502, "/home/other")),
            b"root" => Some(pw("root", 0, "/root")),
            b"bob" => Some(pw("bob", 503, "/nonexistent")),
            b"tmp" => Some(pw("tmp", 504, "/nfs/tmp")),
            b"busy" => return Err(io::Error::from_raw_os_error(26)),
            b"alias" => Some(pw("alias", 7, "/var/qmail/alias")),
            n if n == long31.as_bytes() => Some(pw(&long31, 505, "/home/long")),
            n if n == long32.as_bytes() => Some(pw(&long32, 506, "/home/long")),
            _ => None,
        })
    }

    fn owner(dir: &[u8]) -> io::Result<u32> {
        match dir {
            b"/home/joe" => Ok(500),
            b"/home/list" => Ok(501),
            b"/home/other" => Ok(999),
            b"/root" => Ok(0),
            b"/home/long" => Ok(505),
            b"/nfs/tmp" => Err(io::Error::from_raw_os_error(116)),
            b"/var/qmail/alias" => Ok(7),
            _ => Err(io::Error::from_raw_os_error(2)),
        }
    }

    fn get(local: &str, brk: u8) -> Result<(String, String, String), u8> {
        find(local.as_bytes(), brk, b"alias", db, owner).map(|a| {
            (
                String::from_utf8(a.user).unwrap(),
                String::from_utf8(a.dash).unwrap(),
                String::from_utf8(a.ext).unwrap(),
            )
        })
    }

    fn ok(user: &str, dash: &str, ext: &str) -> Result<(String, String, String), u8> {
        Ok((user.into(), dash.into(), ext.into()))
    }

    #[test]
    fn longest_prefix_first() {
        assert_eq!(get("joe", b'-'), ok("joe", "", ""));
        assert_eq!(get("JOE", b'-'), ok("joe", "", ""));
        assert_eq!(get("Joe-List-Foo", b'-'), ok("joe-list", "-", "Foo"));
        assert_eq!(get("joe-List", b'-'), ok("joe-list", "", ""));
        assert_eq!(get("joe-Lis", b'-'), ok("joe", "-", "Lis"));
        assert_eq!(get("joe-", b'-'), ok("joe", "-", ""));
        // the dash stays '-' whatever the delimiter
        assert_eq!(get("joe+x-y", b'+'), ok("joe", "-", "x-y"));
        assert_eq!(get("joe-x", b'+'), ok("alias", "-", "joe-x"));
    }

    #[test]
    fn disqualified_accounts_fall_to_alias() {
        for local in [
            "root",
            "Root-Foo",
            "ann-x",
            "bob",
            "nobody-here",
            "",
            "-joe",
        ] {
            assert_eq!(get(local, b'-'), ok("alias", "-", local), "{local}");
        }
    }

    #[test]
    fn names_of_32_bytes_or_more_are_not_tried() {
        let l31 = "a".repeat(31);
        assert_eq!(get(&format!("{l31}-x"), b'-'), ok(&l31, "-", "x"));
        let l32 = "b".repeat(32);
        assert_eq!(get(&l32, b'-'), ok("alias", "-", &l32));
    }

    #[test]
    fn trouble_codes() {
        assert_eq!(get("tmp-x", b'-'), Err(code::NFS));
        assert_eq!(get("busy", b'-'), Err(code::SYS));
        assert_eq!(get("joe-busy", b'-').map(|t| t.0), Ok("joe".into()));
        let none = |_: &[u8]| Ok(None);
        assert_eq!(
            find(b"x", b'-', b"alias", none, owner).map(|_| ()),
            Err(code::NOALIAS)
        );
    }

    #[test]
    fn output_round_trips_through_parse_getpw() {
        let a = find(b"Joe-Foo", b'-', b"alias", db, owner).unwrap();
        let out = output(&a);
        assert_eq!(out, b"joe\x00500\x00600\x00/home/joe\0-\0Foo\0");
        assert_eq!(parse_getpw(&out), Some(a));
    }
}
