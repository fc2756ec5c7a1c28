//! qmail-rcptcheck's decision: would local delivery bounce an address with "no mailbox here
//! by that name"? It follows the delivery path without delivering: qmail-send's rewriting
//! ([`Rewrite`]), qmail-lspawn's account lookup (`users/cdb`, then qmail-getpw's rules), the
//! `.qmail` file qmail-local would pick ([`dotqmail::find`]) and, when that file's first
//! delivery is `|fastforward`, fastforward's own lookup ([`resolve::known`]).
//!
//! Only a certain bounce is [`Verdict::NoMailbox`]. What the delivery would defer (a sticky
//! or writable home, a writable `.qmail`, a blank first line) and what this process cannot
//! see (a home or `.qmail` it may not read, an aliases database it may not open) is
//! [`Verdict::Accept`]: never refuse what cannot be verified. Trouble with the controls or a
//! database is [`Verdict::Unsure`].

use crate::cdb::Cdb;
use crate::dotqmail::{self, Instr};
use crate::fastforward::resolve::{self, Source};
use crate::getpw;
use crate::send::addr::{split, Rewrite};
use crate::send::LOCAL;
use crate::sys::id::Passwd;
use crate::users::{self, Assign};
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The answer, and qmail-rcptcheck's exit code for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// delivery would be attempted (or the address is not local): 0
    Accept,
    /// local delivery would bounce it with "no mailbox here by that name": 100
    NoMailbox,
    /// cannot tell now (a database or the password lookup failed: what): 111
    Unsure(&'static str),
}

impl Verdict {
    /// The exit code: 0, 100 or 111.
    pub fn code(self) -> u8 {
        match self {
            Verdict::Accept => 0,
            Verdict::NoMailbox => crate::exit::PERM,
            Verdict::Unsure(_) => crate::exit::TEMP,
        }
    }
}

/// The local part and domain local delivery gets for `addr`, or `None` when the address
/// goes to the remote channel or to the trash (an empty local part).
pub fn local_target(rw: &Rewrite, addr: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (channel, a) = rw.rewrite(addr);
    let (local, domain) = split(&a)?;
    (channel == LOCAL && !local.is_empty()).then(|| (local.to_vec(), domain.to_vec()))
}

/// The account for `local` as qmail-lspawn finds it: `users`, then qmail-getpw's rules with
/// `brk`, the alias account's name, `getpwnam` and `owner` (a path's owner uid). A home
/// whose owner cannot be seen (permission denied) could have been the answer: `Accept`.
pub fn account(
    users: Option<&Cdb>,
    local: &[u8],
    brk: u8,
    alias: &[u8],
    getpwnam: impl FnMut(&[u8]) -> io::Result<Option<Passwd>>,
    mut owner: impl FnMut(&[u8]) -> io::Result<u32>,
) -> Result<Assign, Verdict> {
    if let Some(db) = users {
        match users::lookup(db, local) {
            Ok(Some(a)) => return Ok(a),
            Ok(None) => {}
            Err(_) => return Err(Verdict::Unsure("unable to read users/cdb")),
        }
    }
    let mut blind = false;
    let found = getpw::find(local, brk, alias, getpwnam, |dir| {
        let r = owner(dir);
        blind |= matches!(&r, Err(e) if e.kind() == io::ErrorKind::PermissionDenied);
        r
    });
    match found {
        _ if blind => Err(Verdict::Accept),
        Ok(a) => Ok(a),
        Err(getpw::code::NOALIAS) => Err(Verdict::Unsure("unable to find the alias account")),
        Err(getpw::code::NFS) => Err(Verdict::Unsure("unable to stat a home directory")),
        Err(_) => Err(Verdict::Unsure("unable to read the password database")),
    }
}

/// What qmail-local would make of `a` for the address `local@domain`, with conf/patrn `patrn`.
pub fn mailbox(a: &Assign, local: &[u8], domain: &[u8], patrn: u32) -> Verdict {
    let home = Path::new(OsStr::from_bytes(&a.home));
    match std::fs::metadata(home) {
        Ok(st) if a.uid != 0 && a.home.starts_with(b"/") && st.mode() & (patrn | 0o1000) == 0 => {}
        _ => return Verdict::Accept, // deferred, or not this program's to judge
    }
    let control = match dotqmail::find(home, &a.dash, &a.ext, b"", patrn) {
        Ok(c) => c,
        Err(p) if p.code == crate::exit::PERM => return Verdict::NoMailbox,
        Err(_) => return Verdict::Accept,
    };
    if control.text.is_empty() {
        return Verdict::Accept; // the default delivery
    }
    let first = match dotqmail::parse(&control.text, control.forward_only) {
        Ok(plan) => plan.into_iter().next(),
        Err(_) => return Verdict::Accept,
    };
    let Some(Instr::Program(cmd)) = first else {
        return Verdict::Accept;
    };
    let Some(ff) = fastforward_line(&cmd) else {
        return Verdict::Accept;
    };
    if ff.pass {
        return Verdict::Accept;
    }
    let target = if ff.from_env {
        let part = control.default.as_deref().unwrap_or(&a.ext);
        [part, b"@", domain].concat()
    } else {
        [local, b"@", domain].concat()
    };
    let db = match Cdb::open(home.join(OsStr::from_bytes(&ff.db))) {
        Ok(db) => db,
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Verdict::Accept,
        Err(_) => return Verdict::Unsure("unable to read the fastforward database"),
    };
    match resolve::known(&mut Db(db), &target) {
        Ok(true) => Verdict::Accept,
        Ok(false) => Verdict::NoMailbox,
        Err(_) => Verdict::Unsure("unable to read the fastforward database"),
    }
}

/// A `|fastforward` delivery line's settings.
#[derive(Debug, PartialEq, Eq)]
pub struct Fastforward {
    /// `-p`: an unknown address goes on to the next line
    pub pass: bool,
    /// `-d`: the address is `$DEFAULT@$HOST` (the default)
    pub from_env: bool,
    /// the database, relative to the home directory
    pub db: Vec<u8>,
}

/// `fastforward [ -nNpPdD ] db` (the program as `fastforward` or `…/fastforward`), when the
/// command is nothing but plain words the shell passes on unchanged; else `None`.
pub fn fastforward_line(cmd: &[u8]) -> Option<Fastforward> {
    let plain = |c: &u8| c.is_ascii_alphanumeric() || b"-_./+,:@%".contains(c);
    let mut words = cmd
        .split(|c| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let prog = words.next()?;
    if !(prog == b"fastforward" || prog.ends_with(b"/fastforward")) {
        return None;
    }
    let mut ff = Fastforward {
        pass: false,
        from_env: true,
        db: Vec::new(),
    };
    let mut rest = Vec::new();
    let mut options = true;
    for w in words {
        if !w.iter().all(plain) {
            return None;
        }
        match w {
            b"--" if options => options = false,
            [b'-', flags @ ..] if options && !flags.is_empty() => {
                for f in flags {
                    match f {
                        b'p' => ff.pass = true,
                        b'P' => ff.pass = false,
                        b'd' => ff.from_env = true,
                        b'D' => ff.from_env = false,
                        b'n' | b'N' => {}
                        _ => return None,
                    }
                }
            }
            _ => {
                options = false;
                rest.push(w);
            }
        }
    }
    let [db] = rest[..] else {
        return None;
    };
    ff.db = db.to_vec();
    Some(ff)
}

/// The database as fastforward's lookup reads it (lists are never needed to answer).
struct Db(Cdb);

impl Source for Db {
    fn get(&mut self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.0.find(key)
    }
    fn list(&mut self, _: &[u8]) -> Result<Vec<u8>, String> {
        Err("not read".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdbmake;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn ff(p: bool, d: bool, db: &str) -> Option<Fastforward> {
        Some(Fastforward {
            pass: p,
            from_env: d,
            db: db.into(),
        })
    }

    #[test]
    fn fastforward_lines() {
        let l = |s: &str| fastforward_line(s.as_bytes());
        assert_eq!(
            l(" fastforward -d /etc/aliases.cdb"),
            ff(false, true, "/etc/aliases.cdb")
        );
        assert_eq!(
            l("/package/x/bin/fastforward\t-pD a.cdb"),
            ff(true, false, "a.cdb")
        );
        assert_eq!(
            l("fastforward -p -P -D -d -- -x.cdb"),
            ff(false, true, "-x.cdb")
        );
        assert_eq!(l("fastforward a.cdb"), ff(false, true, "a.cdb"));
        for bad in [
            "fastforward",
            "fastforward -x a.cdb",
            "fastforward a.cdb b",
            "fastforward $HOME/a.cdb",
            "fastforward a.cdb; exit 0",
            "preline fastforward a.cdb",
            "myfastforward a.cdb",
        ] {
            assert_eq!(l(bad), None, "{bad}");
        }
    }

    fn tmp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("qlib-rcptcheck-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        d
    }

    fn who(home: &Path, dash: &str, ext: &str) -> Assign {
        Assign {
            user: b"u".to_vec(),
            uid: 1000,
            gid: 1000,
            home: home.as_os_str().as_bytes().to_vec(),
            dash: dash.into(),
            ext: ext.into(),
        }
    }

    #[test]
    fn dot_qmail_chain_and_fastforward() {
        let h = tmp("chain");
        let v = |dash: &str, ext: &str| mailbox(&who(&h, dash, ext), b"l", b"d.test", 0o002);
        assert_eq!(v("", ""), Verdict::Accept);
        assert_eq!(v("-", "x"), Verdict::NoMailbox);
        std::fs::write(h.join(".qmail-x"), "./Maildir/\n").unwrap();
        std::fs::write(h.join(".qmail-list-default"), "&a@b\n").unwrap();
        assert_eq!(v("-", "X"), Verdict::Accept);
        assert_eq!(v("-", "list-any"), Verdict::Accept);
        assert_eq!(v("-", "lis"), Verdict::NoMailbox);
        let recs = [(b":joe@d.test".to_vec(), b"&j@x\0".to_vec())];
        let db = h.join("a.cdb");
        cdbmake::atomic(&db, &h.join("a.tmp"), recs.into_iter().map(Ok)).unwrap();
        std::fs::write(
            h.join(".qmail-default"),
            "| fastforward -d a.cdb\n./Maildir/\n",
        )
        .unwrap();
        assert_eq!(v("-", "Joe"), Verdict::Accept);
        assert_eq!(v("-", "ann"), Verdict::NoMailbox);
        // -D looks up the whole recipient, l@d.test
        std::fs::write(h.join(".qmail-default"), "|fastforward -D a.cdb\n").unwrap();
        assert_eq!(v("-", "joe"), Verdict::NoMailbox);
        std::fs::write(h.join(".qmail-default"), "|fastforward -p a.cdb\n").unwrap();
        assert_eq!(v("-", "ann"), Verdict::Accept);
        std::fs::write(h.join(".qmail-default"), "|fastforward missing.cdb\n").unwrap();
        assert_eq!(
            v("-", "ann"),
            Verdict::Unsure("unable to read the fastforward database")
        );
        // a writable .qmail or a sticky home defers: not refused
        std::fs::write(h.join(".qmail-default"), "|fastforward a.cdb\n").unwrap();
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        mode(&h.join(".qmail-default"), 0o666);
        assert_eq!(v("-", "ann"), Verdict::Accept);
        mode(&h.join(".qmail-default"), 0o644);
        mode(&h, 0o1755);
        assert_eq!(v("-", "ann"), Verdict::Accept);
        mode(&h, 0o755);
        std::fs::remove_dir_all(&h).unwrap();
    }

    fn pw(name: &str, uid: u32, dir: &str) -> Passwd {
        Passwd {
            name: name.into(),
            passwd: b"x".to_vec(),
            uid,
            gid: uid,
            dir: dir.into(),
            shell: b"/bin/sh".to_vec(),
        }
    }

    #[test]
    fn accounts_from_getpw() {
        let db = |n: &[u8]| -> io::Result<Option<Passwd>> {
            Ok(match n {
                b"joe" => Some(pw("joe", 500, "/home/joe")),
                b"hid" => Some(pw("hid", 501, "/hidden/hid")),
                b"alias" => Some(pw("alias", 7, "/q/alias")),
                _ => None,
            })
        };
        let owner = |d: &[u8]| match d {
            b"/home/joe" => Ok(500),
            b"/q/alias" => Ok(7),
            b"/hidden/hid" => Err(io::Error::from_raw_os_error(13)),
            _ => Err(io::Error::from_raw_os_error(2)),
        };
        let get = |l: &[u8]| account(None, l, b'-', b"alias", db, owner).map(|a| (a.user, a.ext));
        assert_eq!(get(b"Joe-x"), Ok((b"joe".to_vec(), b"x".to_vec())));
        assert_eq!(get(b"ann"), Ok((b"alias".to_vec(), b"ann".to_vec())));
        assert_eq!(get(b"hid-x"), Err(Verdict::Accept));
        let none = |_: &[u8]| Ok(None);
        assert_eq!(
            account(None, b"x", b'-', b"alias", none, owner),
            Err(Verdict::Unsure("unable to find the alias account"))
        );
    }
}
