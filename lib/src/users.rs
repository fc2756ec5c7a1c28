//! The qmail user database: `users/assign` compiled into `users/cdb` records (qmail-newu),
//! and the lookup qmail-lspawn makes in that cdb, with its fallback's output format
//! (qmail-getpw). Replaces the parsing in qmail-newu.c and `nughde_get` in qmail-lspawn.c.
//!
//! Records in `users/cdb`:
//! * `!` + lowercase(local) + `\0` → `user\0uid\0gid\0home\0dash\0ext` (an `=` line);
//! * `!` + lowercase(prefix) → the same fields, the last being `pre` (a `+` line);
//! * the empty key → the distinct last bytes of every non-empty wildcard prefix.

use crate::cdb::Cdb;
use std::io;

/// Where local delivery for an address goes: the six fields qmail-lspawn hands to qmail-local.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assign {
    /// the account name
    pub user: Vec<u8>,
    /// its uid
    pub uid: u32,
    /// its gid
    pub gid: u32,
    /// its home directory
    pub home: Vec<u8>,
    /// `-` (or empty): what goes between `.qmail` and the extension
    pub dash: Vec<u8>,
    /// the extension
    pub ext: Vec<u8>,
}

fn bad_data() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "bad users/cdb record")
}

/// A decimal id that fits 32 bits; nothing else is accepted.
fn id(field: &[u8]) -> Option<u32> {
    if field.is_empty() || field.len() > 10 {
        return None;
    }
    crate::scan::ulong_exact(field).and_then(|n| u32::try_from(n).ok())
}

/// Six fields, as split at NUL; the ids must be decimal numbers.
fn from_fields(f: &[&[u8]]) -> Option<Assign> {
    let [user, uid, gid, home, dash, ext] = f else {
        return None;
    };
    Some(Assign {
        user: user.to_vec(),
        uid: id(uid)?,
        gid: id(gid)?,
        home: home.to_vec(),
        dash: dash.to_vec(),
        ext: ext.to_vec(),
    })
}

/// ASCII lowercase, as qmail's `case_lowerb`.
fn lower(s: &[u8]) -> Vec<u8> {
    s.to_ascii_lowercase()
}

/// users/cdb lookup; Ok(None) = no match (fall back to qmail-getpw); Err = trouble reading the
/// cdb (including a cdb without the wildchars record, or a record that is not six fields).
pub fn lookup(cdb: &Cdb, local: &[u8]) -> io::Result<Option<Assign>> {
    let wildchars = cdb.find(b"")?.ok_or_else(bad_data)?;
    let low = lower(local);
    let mut key = Vec::with_capacity(low.len() + 2);
    key.push(b'!');
    key.extend_from_slice(&low);
    key.push(0);
    if let Some(data) = cdb.find(&key)? {
        return record(&data, b"").map(Some);
    }
    for i in (0..=low.len()).rev() {
        if i > 0 && !wildchars.contains(&low[i - 1]) {
            continue;
        }
        if let Some(data) = cdb.find(&key[..1 + i])? {
            return record(&data, &local[i..]).map(Some);
        }
    }
    Ok(None)
}

/// A users/cdb record with `rest` appended to its last field.
fn record(data: &[u8], rest: &[u8]) -> io::Result<Assign> {
    let fields: Vec<&[u8]> = data.split(|&c| c == 0).collect();
    let mut a = from_fields(&fields).ok_or_else(bad_data)?;
    a.ext.extend_from_slice(rest);
    Ok(a)
}

/// Parses qmail-getpw's output (six NUL-terminated fields).
pub fn parse_getpw(out: &[u8]) -> Option<Assign> {
    let body = out.strip_suffix(b"\0")?;
    let fields: Vec<&[u8]> = body.split(|&c| c == 0).collect();
    from_fields(&fields)
}

/// One cdb record: key and data.
pub type Record = (Vec<u8>, Vec<u8>);

/// Why `users/assign` was refused; the line number (from 1) of the first bad line.
#[derive(Debug, PartialEq, Eq)]
pub struct BadFormat(pub usize);

/// Compiles `users/assign` into the records of `users/cdb`, in file order, the wildchars
/// record (empty key) last. Everything from the first line starting with `.` on is ignored
/// (that line needs no newline); input that ends before such a line is a format error, as is a line with a NUL byte, one
/// without a colon, one starting with a colon, one with fewer than six colons after the
/// first, or one whose uid or gid is not a decimal number.
pub fn compile(assign: &[u8]) -> Result<Vec<Record>, BadFormat> {
    let mut out = Vec::new();
    let mut wildchars: Vec<u8> = Vec::new();
    let mut rest = assign;
    let mut n = 0;
    loop {
        n += 1;
        if rest.first() == Some(&b'.') {
            break;
        }
        let Some(nl) = memchr::memchr(b'\n', rest) else {
            return Err(BadFormat(n));
        };
        let line = &rest[..nl];
        rest = &rest[nl + 1..];
        let (key, data) = assign_line(line).ok_or(BadFormat(n))?;
        if line[0] == b'+' {
            if let Some(&c) = key.last().filter(|_| key.len() > 1) {
                if !wildchars.contains(&c) {
                    wildchars.push(c);
                }
            }
        }
        out.push((key, data));
    }
    out.push((Vec::new(), wildchars));
    Ok(out)
}

/// One assignment line → (key, data).
fn assign_line(line: &[u8]) -> Option<Record> {
    if memchr::memchr(0, line).is_some() {
        return None;
    }
    let colon = memchr::memchr(b':', line).filter(|&i| i > 0)?;
    let mut key = vec![b'!'];
    key.extend_from_slice(&lower(&line[1..colon]));
    if line[0] != b'+' {
        key.push(0);
    }
    let fields: Vec<&[u8]> = line[colon + 1..].splitn(7, |&c| c == b':').collect();
    if fields.len() < 7 {
        return None;
    }
    from_fields(&fields[..6])?;
    Some((key, fields[..6].join(&0u8)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdbmake;

    fn cdb_of(assign: &[u8], tag: &str) -> Cdb {
        let dir = std::env::temp_dir().join(format!("qlib-users-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let recs = compile(assign).unwrap();
        let target = dir.join("cdb");
        cdbmake::atomic(&target, &dir.join("cdb.tmp"), recs.into_iter().map(Ok)).unwrap();
        let c = Cdb::open(&target).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        c
    }

    fn a(user: &str, uid: u32, home: &str, dash: &str, ext: &str) -> Option<Assign> {
        Some(Assign {
            user: user.into(),
            uid,
            gid: uid + 1,
            home: home.into(),
            dash: dash.into(),
            ext: ext.into(),
        })
    }

    const ASSIGN: &[u8] = b"=joe:joe:10:11:/home/joe:::\n\
+joe-:joe:10:11:/home/joe:-::\n\
+list-:lists:20:21:/l:-:x-:\n\
+list-big-:big:30:31:/b:-::\n\
=List-Big-X:exact:40:41:/e:::\n\
+:alias:7:8:/var/qmail/alias:-::\n\
+joe-:second:50:51:/s:-::\n\
.\n\
=ignored:after:1:1:/i:::\n";

    #[test]
    fn compiled_records() {
        let r =
            compile(b"=Joe:joe:10:11:/h:::junk\n+Ab-:x:1:2:/h:-:p:\n+:c:3:4:/h:-::\n.\n").unwrap();
        assert_eq!(
            r,
            vec![
                (b"!joe\0".to_vec(), b"joe\x0010\x0011\x00/h\0\0".to_vec()),
                (b"!ab-".to_vec(), b"x\x001\x002\x00/h\0-\0p".to_vec()),
                (b"!".to_vec(), b"c\x003\x004\x00/h\0-\0".to_vec()),
                (Vec::new(), b"-".to_vec()),
            ]
        );
    }

    #[test]
    fn precedence() {
        let c = cdb_of(ASSIGN, "prec");
        assert_eq!(
            lookup(&c, b"joe").unwrap(),
            a("joe", 10, "/home/joe", "", "")
        );
        assert_eq!(
            lookup(&c, b"JOE").unwrap(),
            a("joe", 10, "/home/joe", "", "")
        );
        // first duplicate wins; remainder keeps its original case
        assert_eq!(
            lookup(&c, b"Joe-Foo").unwrap(),
            a("joe", 10, "/home/joe", "-", "Foo")
        );
        // longest prefix wins; pre + rest
        assert_eq!(
            lookup(&c, b"list-a").unwrap(),
            a("lists", 20, "/l", "-", "x-a")
        );
        assert_eq!(
            lookup(&c, b"list-big-Q").unwrap(),
            a("big", 30, "/b", "-", "Q")
        );
        // a simple assignment beats every wildcard
        assert_eq!(
            lookup(&c, b"list-big-x").unwrap(),
            a("exact", 40, "/e", "", "")
        );
        // the prefix itself matches its wildcard
        assert_eq!(
            lookup(&c, b"list-").unwrap(),
            a("lists", 20, "/l", "-", "x-")
        );
        // catch-all
        assert_eq!(
            lookup(&c, b"Postmaster").unwrap(),
            a("alias", 7, "/var/qmail/alias", "-", "Postmaster")
        );
        assert_eq!(lookup(&c, b"ignored").unwrap().unwrap().user, b"alias");
    }

    #[test]
    fn no_match_without_catch_all() {
        let c = cdb_of(
            b"=joe:joe:10:11:/h:::\n+joe-:joe:10:11:/h:-::\n.\n",
            "nomatch",
        );
        assert_eq!(lookup(&c, b"jo").unwrap(), None);
        assert_eq!(lookup(&c, b"joex").unwrap(), None);
        assert_eq!(lookup(&c, b"").unwrap(), None);
        assert_eq!(lookup(&c, b"joe-").unwrap(), a("joe", 10, "/h", "-", ""));
    }

    #[test]
    fn bad_assign_lines() {
        for (input, line) in [
            (&b""[..], 1),
            (b"=joe:joe:1:2:/h:::\n", 2),
            (b"joe\n.\n", 1),
            (b":joe:1:2:/h:::\n.\n", 1),
            (b"=joe:joe:1:2:/h::\n.\n", 1),
            (b"=j\0e:joe:1:2:/h:::\n.\n", 1),
            (b"=joe:joe:x:2:/h:::\n.\n", 1),
            (b"=joe:joe:1::/h:::\n.\n", 1),
            (b"=ok:a:1:2:/h:::\n\n.\n", 2),
        ] {
            assert_eq!(compile(input), Err(BadFormat(line)), "{input:?}");
        }
        // anything but '+' counts as '='
        assert_eq!(compile(b"xjoe:j:1:2:/h:::\n.\n").unwrap()[0].0, b"!joe\0");
        assert_eq!(compile(b".\n").unwrap(), vec![(Vec::new(), Vec::new())]);
        assert_eq!(compile(b"=a:a:1:2:/h:::\n.").unwrap().len(), 2);
        // the wildchar is the lowercased last byte, so "+joeX:" matches "joex…"
        assert_eq!(compile(b"+joeX:j:1:2:/h:-::\n.\n").unwrap()[1].1, b"x");
    }

    #[test]
    fn trouble_in_the_cdb() {
        // no wildchars record
        let dir = std::env::temp_dir().join(format!("qlib-users-{}-trouble", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let recs = vec![Ok((b"!joe\0".to_vec(), b"joe\x001\x002\0/h\0\0".to_vec()))];
        cdbmake::atomic(&dir.join("a"), &dir.join("t"), recs).unwrap();
        assert!(lookup(&Cdb::open(dir.join("a")).unwrap(), b"joe").is_err());
        // a record that is not six fields
        let recs = vec![
            Ok((b"!joe\0".to_vec(), b"joe\x001\x002\0/h\0".to_vec())),
            Ok((Vec::new(), Vec::new())),
        ];
        cdbmake::atomic(&dir.join("b"), &dir.join("t"), recs).unwrap();
        assert!(lookup(&Cdb::open(dir.join("b")).unwrap(), b"joe").is_err());
        // a truncated file
        std::fs::write(dir.join("c"), [0u8; 100]).unwrap();
        assert!(lookup(&Cdb::open(dir.join("c")).unwrap(), b"joe").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn getpw_output() {
        assert_eq!(
            parse_getpw(b"joe\x00500\x00100\x00/home/joe\0-\0Foo\0"),
            Some(Assign {
                user: b"joe".to_vec(),
                uid: 500,
                gid: 100,
                home: b"/home/joe".to_vec(),
                dash: b"-".to_vec(),
                ext: b"Foo".to_vec(),
            })
        );
        assert_eq!(
            parse_getpw(b"a\x001\x002\0/\0\0\0").map(|a| a.ext),
            Some(Vec::new())
        );
        for bad in [
            &b""[..],
            b"joe\x00500\x00100\x00/home/joe\0-\0Foo",
            b"joe\x00500\x00100\x00/home/joe\0-\0",
            b"joe\x00500\x00100\x00/home/joe\0-\0Foo\0x\0",
            b"joe\x00-5\x00100\x00/h\0-\0\0",
            b"joe\x0099999999999\x00100\x00/h\0-\0\0",
        ] {
            assert_eq!(parse_getpw(bad), None, "{bad:?}");
        }
    }
}
