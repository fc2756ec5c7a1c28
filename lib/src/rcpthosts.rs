//! Which recipient domains the network receivers accept without `RELAYCLIENT`
//! (`control/rcpthosts` and `control/morercpthosts.cdb`, qmail's rcpthosts.c).

use crate::cdb::Cdb;
use crate::control::{self, Map};
use std::io;
use std::path::Path;

/// The relay table; `None` when `rcpthosts` does not exist, which accepts every domain.
pub struct RcptHosts {
    table: Option<(Map, Option<Cdb>)>,
}

impl RcptHosts {
    /// Reads `control/rcpthosts` and opens `control/morercpthosts.cdb` below `home`
    /// (the cdb only counts when `rcpthosts` exists, as in qmail).
    pub fn open(home: &Path) -> io::Result<RcptHosts> {
        let Some(lines) = control::list(home.join("control/rcpthosts"))? else {
            return Ok(RcptHosts { table: None });
        };
        let more = match Cdb::open(home.join("control/morercpthosts.cdb")) {
            Ok(c) => Some(c),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(RcptHosts {
            table: Some((Map::new(&lines, false), more)),
        })
    }

    /// Whether mail to `addr` may be accepted: no `@`, or a domain (after the last `@`)
    /// that is listed itself or has a listed `.suffix`. An error means the cdb could not be
    /// read, which the caller reports as a temporary failure.
    pub fn allows(&self, addr: &[u8]) -> io::Result<bool> {
        let Some((map, more)) = &self.table else {
            return Ok(true);
        };
        let Some(at) = memchr::memrchr(b'@', addr) else {
            return Ok(true);
        };
        let domain = addr[at + 1..].to_ascii_lowercase();
        let keys = || (0..domain.len()).filter(|&j| j == 0 || domain[j] == b'.');
        if keys().any(|j| map.contains(&domain[j..])) {
            return Ok(true);
        }
        if let Some(cdb) = more {
            for j in keys() {
                if cdb.find(&domain[j..])?.is_some() {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn home(tag: &str, rcpthosts: Option<&str>, more: &[&str]) -> std::path::PathBuf {
        let h = std::env::temp_dir().join(format!("qlib-rcpthosts-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&h);
        fs::create_dir_all(h.join("control")).unwrap();
        if let Some(r) = rcpthosts {
            fs::write(h.join("control/rcpthosts"), r).unwrap();
        }
        if !more.is_empty() {
            let mut m = crate::cdbmake::Make::new(std::io::Cursor::new(Vec::new())).unwrap();
            for k in more {
                m.add(k.as_bytes(), b"").unwrap();
            }
            let bytes = m.finish().unwrap().into_inner();
            fs::write(h.join("control/morercpthosts.cdb"), bytes).unwrap();
        }
        h
    }

    #[test]
    fn missing_rcpthosts_accepts_everything() {
        let h = home("none", None, &["ignored.example"]);
        let r = RcptHosts::open(&h).unwrap();
        assert!(r.allows(b"a@anywhere.example").unwrap());
    }

    #[test]
    fn exact_suffix_and_bare_names() {
        let h = home(
            "list",
            Some("example.org\n.example.net\n# c\n"),
            &["more.example"],
        );
        let r = RcptHosts::open(&h).unwrap();
        assert!(r.allows(b"a@EXAMPLE.org").unwrap());
        assert!(r.allows(b"a@mx.example.net").unwrap());
        assert!(!r.allows(b"a@example.net").unwrap());
        assert!(!r.allows(b"a@notexample.org").unwrap());
        assert!(r.allows(b"postmaster").unwrap());
        assert!(r.allows(b"x@y@more.example").unwrap());
        assert!(!r.allows(b"a@more.example.evil").unwrap());
        assert!(!r.allows(b"a@").unwrap());
    }
}
