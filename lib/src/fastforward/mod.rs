//! The fastforward package's formats (addons.md §2): forwarding databases — cdb files of
//! `:target` records (NUL-terminated commands `&address`, `|program`, `!program`, `/list`,
//! `./list`) and `?target` records (an owner address) — and binary mailing lists (the same
//! NUL-terminated `&`, `/`, `./` items in a plain file).
//!
//! `table` reads setforward's input language, `aliases` Sendmail's `/etc/aliases` and
//! `:include:` files, `resolve` is fastforward's walk over a database; this file holds what
//! printforward, setmaillist and printmaillist need.

pub mod aliases;
pub mod deliver;
pub mod resolve;
pub mod table;

use crate::cdbmake::Make;
use crate::inject::Rewrite;
use crate::{conf, control, env};
use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The longest address setforward, setmaillist and newaliases store.
pub const MAX_ADDRESS: usize = 800;

/// Replaces `target` by a world-readable (0644, whatever the umask) file that `fill` writes
/// into `tmp`: create, fill, fsync, rename, fsync the directory. On error `tmp` is removed
/// and `target` is as it was.
pub fn replace(
    target: &Path,
    tmp: &Path,
    fill: impl FnOnce(File) -> io::Result<File>,
) -> io::Result<()> {
    let build = || -> io::Result<()> {
        let f = File::create(tmp)?;
        f.set_permissions(Permissions::from_mode(0o644))?;
        let f = fill(f)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(tmp, target)?;
        crate::fsync_dir_of(target)
    };
    build().inspect_err(|_| {
        let _ = std::fs::remove_file(tmp);
    })
}

/// [`replace`] with a cdb of `records`.
pub fn write_cdb(target: &Path, tmp: &Path, records: &[(Vec<u8>, Vec<u8>)]) -> io::Result<()> {
    replace(target, tmp, |f| {
        let mut m = Make::new(f)?;
        for (k, d) in records {
            m.add(k, d)?;
        }
        m.finish()
    })
}

/// [`replace`] with exactly `data`.
pub fn write_file(target: &Path, tmp: &Path, data: &[u8]) -> io::Result<()> {
    replace(target, tmp, |mut f| {
        f.write_all(data)?;
        Ok(f)
    })
}

/// qmail-inject's qualification rules from the controls `defaulthost`, `defaultdomain` and
/// `plusdomain` (each defaulting to `me`) under the qmail home; with `env_overrides`,
/// `$QMAILDEFAULTHOST`, `$QMAILDEFAULTDOMAIN` and `$QMAILPLUSDOMAIN` win (newinclude).
pub fn rewrite(env_overrides: bool) -> Result<Rewrite, String> {
    let dir = Path::new(conf::HOME).join("control");
    let trouble = |e: io::Error| format!("unable to read controls: {}", crate::errtext::text(&e));
    let me = control::line(dir.join("me")).map_err(trouble)?;
    let get = |file: &str, var: &str| -> Result<Vec<u8>, String> {
        match env::get(var).filter(|_| env_overrides) {
            Some(v) => Ok(v),
            None => control::line_or_me(dir.join(file), me.as_deref(), file).map_err(trouble),
        }
    };
    let host = get("defaulthost", "QMAILDEFAULTHOST")?;
    let domain = get("defaultdomain", "QMAILDEFAULTDOMAIN")?;
    let plus = get("plusdomain", "QMAILPLUSDOMAIN")?;
    Rewrite::new(&host, &domain, &plus).map_err(|e| e.message())
}

/// Appends `s` with the bytes setforward would read specially (`\`, `,`, `:`, `;`, `#` and
/// everything up to space) escaped by a backslash, so printforward's output reads back.
pub fn escape(out: &mut Vec<u8>, s: &[u8]) {
    for &c in s {
        if c <= b' ' || matches!(c, b',' | b':' | b';' | b'\\' | b'#') {
            out.push(b'\\');
        }
        out.push(c);
    }
}

/// The NUL-terminated items of a command list or mailing list; `None` if the data does not
/// end with a NUL (empty data has no items).
pub fn items(data: &[u8]) -> Option<Vec<&[u8]>> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    let body = data.strip_suffix(b"\0")?;
    Some(body.split(|&c| c == 0).collect())
}

/// printforward's text for one database record, or `None` if it is not a forwarding record.
pub fn print_record(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let (&kind, target) = key.split_first()?;
    let mut out = Vec::new();
    escape(&mut out, target);
    match kind {
        b'?' => {
            out.extend_from_slice(b": ?");
            escape(&mut out, data);
            out.extend_from_slice(b";\n");
        }
        b':' => {
            out.extend_from_slice(b":\n");
            for item in items(data)? {
                out.extend_from_slice(b", ");
                escape(&mut out, item);
                out.push(b'\n');
            }
            out.extend_from_slice(b";\n");
        }
        _ => return None,
    }
    Some(out)
}

/// The records of a whole cdb image, in file order, read the way printforward reads them:
/// from byte 2048 to the end-of-records pointer in the first header slot. `None` if the
/// image is not laid out that way.
pub fn records(image: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let word = |at: usize| -> Option<usize> {
        let b = image.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let end = word(0)?;
    if end < 2048 || end > image.len() {
        return None;
    }
    let mut out = Vec::new();
    let mut pos = 2048;
    while pos < end {
        let (klen, dlen) = (word(pos)?, word(pos + 4)?);
        let key_at = pos + 8;
        let data_at = key_at.checked_add(klen)?;
        let next = data_at.checked_add(dlen)?;
        if next > end {
            return None;
        }
        out.push((&image[key_at..data_at], &image[data_at..next]));
        pos = next;
    }
    Some(out)
}

/// Why a setmaillist line cannot be stored.
#[derive(Debug, PartialEq, Eq)]
pub enum ListError {
    /// a NUL byte in the input
    Nul,
    /// a line longer than [`MAX_ADDRESS`]
    TooLong,
}

/// setmaillist's input turned into a binary list: trailing spaces and tabs go, blank and `#`
/// lines are skipped, a line starting with `.` `/` or `&` is kept as it is, any other line
/// is an address and gets `&` in front.
pub fn maillist(text: &[u8]) -> Result<Vec<u8>, ListError> {
    if text.contains(&0) {
        return Err(ListError::Nul);
    }
    let mut out = Vec::new();
    for line in text.split(|&c| c == b'\n') {
        let end = line
            .iter()
            .rposition(|&c| c != b' ' && c != b'\t')
            .map_or(0, |p| p + 1);
        let line = &line[..end];
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if line.len() > MAX_ADDRESS {
            return Err(ListError::TooLong);
        }
        if !matches!(line[0], b'.' | b'/' | b'&') {
            out.push(b'&');
        }
        out.extend_from_slice(line);
        out.push(0);
    }
    Ok(out)
}

/// printmaillist's output for a binary list: one item per line; `None` if an item is empty,
/// starts with something other than `&` `/` `.`, or the list does not end with a NUL.
pub fn print_maillist(list: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(list.len());
    for item in items(list)? {
        if !matches!(item.first(), Some(b'&' | b'/' | b'.')) {
            return None;
        }
        out.extend_from_slice(item);
        out.push(b'\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printforward_text_escapes_what_setforward_reads_specially() {
        let p = |k: &str, d: &[u8]| String::from_utf8(print_record(k.as_bytes(), d).unwrap());
        assert_eq!(
            p(":sos@heaven", b"&joe@x\0|dew monitor\0/etc/l.bin\0").unwrap(),
            "sos@heaven:\n, &joe@x\n, |dew\\ monitor\n, /etc/l.bin\n;\n"
        );
        assert_eq!(p("?a\\b", b"o,x").unwrap(), "a\\\\b: ?o\\,x;\n");
        assert_eq!(p(":x;#", b"").unwrap(), "x\\;\\#:\n;\n");
        assert_eq!(p(":x", b"&\x01\x7f\0").unwrap(), "x:\n, &\\\x01\x7f\n;\n");
        assert!(print_record(b":x", b"&a").is_none());
        assert!(print_record(b"zx", b"").is_none());
        assert!(print_record(b"", b"").is_none());
    }

    #[test]
    fn records_walk_the_record_area_and_check_its_bounds() {
        let mut img = vec![0u8; 2048];
        img.extend_from_slice(&2u32.to_le_bytes());
        img.extend_from_slice(&3u32.to_le_bytes());
        img.extend_from_slice(b":xabc");
        let end = img.len() as u32;
        img[..4].copy_from_slice(&end.to_le_bytes());
        img.extend_from_slice(&[9; 40]); // hash tables: not read
        assert_eq!(records(&img), Some(vec![(&b":x"[..], &b"abc"[..])]));
        img[..4].copy_from_slice(&(end - 1).to_le_bytes());
        assert_eq!(records(&img), None);
        assert_eq!(records(b""), None);
        let mut empty = vec![0u8; 2048];
        empty[1] = 8; // end = 2048
        assert_eq!(records(&empty), Some(vec![]));
    }

    #[test]
    fn setmaillist_lines() {
        let l = maillist(b"# c\n\njoe@x.test  \t\n&bob\n/etc/l.bin\n./rel\n5am@y\n \nlast@z");
        assert_eq!(
            l.unwrap(),
            b"&joe@x.test\0&bob\0/etc/l.bin\0./rel\0&5am@y\0&last@z\0".to_vec()
        );
        assert_eq!(maillist(b" joe@x\n").unwrap(), b"& joe@x\0".to_vec());
        assert_eq!(maillist(b"a\0b\n"), Err(ListError::Nul));
        let long = vec![b'a'; 800];
        assert!(maillist(&long).is_ok());
        assert_eq!(
            maillist(&[&long[..], b"b"].concat()),
            Err(ListError::TooLong)
        );
        assert_eq!(
            maillist(&[b"&", &long[..]].concat()),
            Err(ListError::TooLong)
        );
    }

    #[test]
    fn printmaillist_checks_every_item() {
        assert_eq!(
            print_maillist(b"&a@b\0/l\0./m\0").unwrap(),
            b"&a@b\n/l\n./m\n".to_vec()
        );
        assert_eq!(print_maillist(b"").unwrap(), b"".to_vec());
        assert!(print_maillist(b"a\0").is_none());
        assert!(print_maillist(b"&a\0\0").is_none());
        assert!(print_maillist(b"&a").is_none());
    }
}
