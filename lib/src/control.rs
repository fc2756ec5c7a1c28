//! `control/` files with qmail's three readers (line, int, list) and case-insensitive lookup
//! tables (constmap). Paths are relative to the current directory, normally the qmail home.

use std::collections::HashMap;
use std::io;
use std::path::Path;

fn read(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn trim_end(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// The first line of `path`, trailing blanks removed; `None` if the file does not exist.
pub fn line(path: impl AsRef<Path>) -> io::Result<Option<Vec<u8>>> {
    Ok(read(path.as_ref())?.map(|b| {
        let first = b.split(|&c| c == b'\n').next().unwrap_or(&[]);
        trim_end(first).to_vec()
    }))
}

/// [`line`], or `me`'s first line, or `placeholder` (qmail's defaults for host-name controls).
pub fn line_or_me(
    path: impl AsRef<Path>,
    me: Option<&[u8]>,
    placeholder: &str,
) -> io::Result<Vec<u8>> {
    Ok(match line(path)? {
        Some(v) => v,
        None => me.map_or_else(|| placeholder.as_bytes().to_vec(), <[u8]>::to_vec),
    })
}

/// The unsigned decimal prefix of the first line; `default` if missing or without digits.
pub fn int(path: impl AsRef<Path>, default: u64) -> io::Result<u64> {
    Ok(match line(path)? {
        Some(v) => match crate::scan::ulong(&v) {
            (_, 0) => default,
            (n, _) => n,
        },
        None => default,
    })
}

/// Every line, trailing blanks removed, empty and `#` lines skipped; `None` if missing.
pub fn list(path: impl AsRef<Path>) -> io::Result<Option<Vec<Vec<u8>>>> {
    Ok(read(path.as_ref())?.map(|b| parse_list(&b)))
}

/// The list rule applied to bytes.
pub fn parse_list(b: &[u8]) -> Vec<Vec<u8>> {
    b.split(|&c| c == b'\n')
        .map(trim_end)
        .filter(|l| !l.is_empty() && l[0] != b'#')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A case-insensitive table built from a list: `key` or `key:value` lines (constmap).
#[derive(Clone, Debug, Default)]
pub struct Map {
    entries: HashMap<Vec<u8>, Vec<u8>>,
}

impl Map {
    /// Builds the table; with `split_colon`, each line is `key:value` at the first colon.
    /// For duplicate keys the first line wins.
    pub fn new(lines: &[Vec<u8>], split_colon: bool) -> Map {
        let mut entries = HashMap::new();
        for l in lines {
            let (k, v) = match (split_colon, memchr::memchr(b':', l)) {
                (true, Some(i)) => (&l[..i], &l[i + 1..]),
                (true, None) => continue,
                (false, _) => (&l[..], &b""[..]),
            };
            entries
                .entry(k.to_ascii_lowercase())
                .or_insert_with(|| v.to_vec());
        }
        Map { entries }
    }

    /// The value for `key`, compared case-insensitively.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn list_rules() {
        let l = parse_list(b"a.b \n\n# c\nD.e\t\n  x\n");
        assert_eq!(l, vec![b"a.b".to_vec(), b"D.e".to_vec(), b"  x".to_vec()]);
        let m = Map::new(&l, false);
        assert!(m.contains(b"d.E"));
        let v = Map::new(
            &[
                b"Foo.com:joe".to_vec(),
                b"foo.com:bar".to_vec(),
                b"bad".to_vec(),
            ],
            true,
        );
        assert_eq!(v.get(b"FOO.COM"), Some(&b"joe"[..]));
        assert_eq!(v.len(), 1);
    }
}
