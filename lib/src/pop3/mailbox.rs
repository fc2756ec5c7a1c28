//! The Maildir as qmail-pop3d sees it (maildir.c, qmail-pop3d.c `getlist` and `pop3_quit`;
//! shared/spec/formats.md §5): old files in `tmp/` removed, the messages of `new/` and
//! `cur/` listed oldest first, their unique ids, and the update at QUIT.
//!
//! As qmail: names starting with `.` are skipped, and so are files whose mtime is not
//! strictly before the current second (a message being delivered right now is left for the
//! next session, so it is never mistaken for one already seen); sizes are the files' sizes
//! on disk (LF line ends). Beyond qmail:
//! - Only regular files are listed (stat follows symbolic links): a directory or a FIFO in
//!   `new/` would have hung or ended the session at RETR.
//! - Messages with the same mtime are ordered by finer mtime, then by name, so the
//!   numbering is the same every time (qmail's heap left ties in any order).
//! - The unique id is the name without `new/` or `cur/`, cut at its first `:` (so it does not
//!   change when the message moves to `cur/` or when a client such as Dovecot sets flags
//!   like `:2,S`), with each byte outside `!`–`~` and each `%` written `%XX`: a space in a
//!   file name would otherwise break the UIDL line. Maildir deliverers never make such
//!   names, so for them the id is the one qmail-pop3d gives. A name with nothing before
//!   its `:` uses the whole name.
//! - At QUIT a name in `new/` that already has a `:` info part moves to `cur/` unchanged,
//!   instead of getting a second `:2,`.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `tmp/` files not accessed for this long are removed at the start of a session (36 h).
pub const TMP_AGE: i64 = 36 * 3600;

/// One message of the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// the file, relative to the Maildir: `new/NAME` or `cur/NAME`
    pub path: Vec<u8>,
    /// its size on disk
    pub size: u64,
    /// marked by DELE
    pub deleted: bool,
}

impl Message {
    /// Where the file is.
    pub fn file(&self, dir: &Path) -> PathBuf {
        dir.join(OsStr::from_bytes(&self.path))
    }
}

/// Removes the files of `dir/tmp` (not named `.…`) last accessed more than [`TMP_AGE`]
/// before `now`. Errors are ignored: a missing `tmp/` is no reason to refuse a session.
pub fn clean_tmp(dir: &Path, now: i64) {
    let Ok(entries) = fs::read_dir(dir.join("tmp")) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().as_bytes().first() == Some(&b'.') {
            continue;
        }
        if let Ok(md) = fs::metadata(e.path()) {
            if now > md.atime() + TMP_AGE {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// The messages in `dir/new` and `dir/cur` older than the second `now`, oldest first.
/// Either directory missing or unreadable is an error.
pub fn scan(dir: &Path, now: i64) -> io::Result<Vec<Message>> {
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        for e in fs::read_dir(dir.join(sub))? {
            let e = e?;
            let name = e.file_name();
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            let Ok(md) = fs::metadata(e.path()) else {
                continue;
            };
            if !md.is_file() || md.mtime() >= now {
                continue;
            }
            let path = [sub.as_bytes(), b"/", name.as_bytes()].concat();
            found.push(((md.mtime(), md.mtime_nsec()), path, md.len()));
        }
    }
    found.sort();
    Ok(found
        .into_iter()
        .map(|(_, path, size)| Message {
            path,
            size,
            deleted: false,
        })
        .collect())
}

/// The unique id of the message at `path` (`new/…` or `cur/…`).
pub fn uidl(path: &[u8]) -> Vec<u8> {
    let name = path.get(4..).unwrap_or_default();
    let base = match memchr::memchr(b':', name) {
        Some(0) | None => name,
        Some(i) => &name[..i],
    };
    let mut id = Vec::with_capacity(base.len());
    for &c in base {
        if (b'!'..=b'~').contains(&c) && c != b'%' {
            id.push(c);
        } else {
            id.extend_from_slice(format!("%{c:02X}").as_bytes());
        }
    }
    id
}

/// QUIT's update: unlinks every deleted message and moves every other one still in `new/`
/// to `cur/` with `:2,` (a failed move is ignored, as in qmail). Returns how many unlinks
/// failed.
pub fn update(dir: &Path, msgs: &[Message]) -> usize {
    let mut failed = 0;
    for m in msgs {
        if m.deleted {
            if fs::remove_file(m.file(dir)).is_err() {
                failed += 1;
            }
        } else if let Some(name) = m.path.strip_prefix(b"new/") {
            let info: &[u8] = if name.contains(&b':') { b"" } else { b":2," };
            let to = [b"cur/", name, info].concat();
            let _ = fs::rename(m.file(dir), dir.join(OsStr::from_bytes(&to)));
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn maildir(tag: &str) -> PathBuf {
        crate::maildir::scratch(&format!("mailbox.{tag}"))
    }

    fn put(d: &Path, rel: &str, body: &str, mtime: i64) {
        fs::write(d.join(rel), body).unwrap();
        set_times(&d.join(rel), mtime, mtime);
    }

    fn set_times(p: &Path, atime: i64, mtime: i64) {
        let t = |s: i64| UNIX_EPOCH + Duration::from_secs(s as u64);
        let f = fs::File::options().write(true).open(p).unwrap();
        let times = fs::FileTimes::new()
            .set_accessed(t(atime))
            .set_modified(t(mtime));
        f.set_times(times).unwrap();
    }

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn scan_orders_filters_and_sizes() {
        let d = maildir("scan");
        let n = now();
        put(&d, "new/3.b", "three\n", n - 10);
        put(&d, "cur/1.a:2,S", "one\n", n - 30);
        put(&d, "new/2.c", "two!\n", n - 20);
        put(&d, "new/2.a", "tie\n", n - 20);
        put(&d, "new/.hidden", "x", n - 40);
        put(&d, "new/now", "x", n + 5);
        fs::create_dir(d.join("new/adir")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("new/dangling")).unwrap();
        let got = scan(&d, n).unwrap();
        let paths: Vec<&[u8]> = got.iter().map(|m| &m.path[..]).collect();
        assert_eq!(
            paths,
            [&b"cur/1.a:2,S"[..], b"new/2.a", b"new/2.c", b"new/3.b"]
        );
        assert_eq!(got.iter().map(|m| m.size).collect::<Vec<_>>(), [4, 4, 5, 6]);
        fs::remove_dir_all(d.join("cur")).unwrap();
        assert!(scan(&d, n).is_err());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn old_tmp_files_go() {
        let d = maildir("tmp");
        let n = now();
        fs::write(d.join("tmp/old"), "x").unwrap();
        set_times(&d.join("tmp/old"), n - TMP_AGE - 10, n);
        fs::write(d.join("tmp/young"), "x").unwrap();
        set_times(&d.join("tmp/young"), n - TMP_AGE + 100, n - 2 * TMP_AGE);
        fs::write(d.join("tmp/.old"), "x").unwrap();
        set_times(&d.join("tmp/.old"), n - 2 * TMP_AGE, n - 2 * TMP_AGE);
        clean_tmp(&d, n);
        let mut left: Vec<String> = fs::read_dir(d.join("tmp"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".old", "young"]);
        clean_tmp(&d.join("nowhere"), n);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn unique_ids() {
        let id = |p: &[u8]| String::from_utf8(uidl(p)).unwrap();
        assert_eq!(id(b"new/1700000000.M1P2Q3.host"), "1700000000.M1P2Q3.host");
        assert_eq!(
            id(b"cur/1700000000.M1P2Q3.host:2,"),
            "1700000000.M1P2Q3.host"
        );
        assert_eq!(
            id(b"cur/1700000000.M1P2Q3.host:2,RS"),
            "1700000000.M1P2Q3.host"
        );
        assert_eq!(id(b"cur/1.2.h,S=1234:2,S"), "1.2.h,S=1234");
        assert_eq!(id(b"new/a b%c\xff\x01"), "a%20b%25c%FF%01");
        assert_eq!(id(b"cur/:2,S"), ":2,S");
    }

    #[test]
    fn update_deletes_and_moves() {
        let d = maildir("update");
        let n = now();
        put(&d, "new/a", "a", n - 5);
        put(&d, "new/b", "b", n - 4);
        put(&d, "new/c:2,F", "c", n - 3);
        put(&d, "cur/d:2,S", "d", n - 2);
        let mut msgs = scan(&d, n).unwrap();
        msgs[1].deleted = true;
        msgs.push(Message {
            path: b"new/gone".to_vec(),
            size: 0,
            deleted: true,
        });
        assert_eq!(update(&d, &msgs), 1);
        let ls = |s: &str| {
            let mut v: Vec<String> = fs::read_dir(d.join(s))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert!(ls("new").is_empty());
        assert_eq!(ls("cur"), ["a:2,", "c:2,F", "d:2,S"]);
        assert_eq!(fs::read(d.join("cur/a:2,")).unwrap(), b"a");
        fs::remove_dir_all(&d).unwrap();
    }
}
