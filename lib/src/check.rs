//! What qmail-check compares an installation with: the install table (package/hier, compiled
//! in), the controls that must parse, and the queue's cross references.

use crate::conf::{self, Group, User};
use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// One line of package/hier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// d s c p z e (see package/hier)
    pub kind: u8,
    /// relative to the qmail home
    pub path: String,
    /// role names
    pub owner: String,
    /// role names
    pub group: String,
    /// permission bits, setuid included
    pub mode: u32,
}

/// The entries of an install table; comment and malformed lines are left out.
pub fn hier(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = l.split_whitespace().collect();
        let [kind, path, owner, group, mode] = f[..] else {
            continue;
        };
        let Ok(mode) = u32::from_str_radix(mode, 8) else {
            continue;
        };
        out.push(Entry {
            kind: kind.as_bytes()[0],
            path: path.into(),
            owner: owner.into(),
            group: group.into(),
            mode,
        });
    }
    out
}

/// The account a role name stands for.
pub fn user(role: &str) -> Option<User> {
    Some(match role {
        "alias" => User::Alias,
        "qmaild" => User::Qmaild,
        "qmaill" => User::Qmaill,
        "root" => User::Root,
        "qmailp" => User::Qmailp,
        "qmailq" => User::Qmailq,
        "qmailr" => User::Qmailr,
        "qmails" => User::Qmails,
        _ => return None,
    })
}

/// The group a role name stands for.
pub fn group(role: &str) -> Option<Group> {
    Some(match role {
        "qmail" => Group::Qmail,
        "nofiles" => Group::Nofiles,
        _ => return None,
    })
}

/// Controls holding one number, with what they mean.
pub const NUMBERS: [(&str, &str); 9] = [
    ("concurrencylocal", "local deliveries at once"),
    ("concurrencyremote", "remote deliveries at once"),
    ("queuelifetime", "seconds a message may stay queued"),
    ("databytes", "largest message qmail-smtpd accepts"),
    ("timeoutconnect", "seconds to connect"),
    ("timeoutremote", "seconds qmail-remote waits"),
    ("timeoutsmtpd", "seconds qmail-smtpd waits"),
    ("timeoutpop3", "seconds qmail-pop3d waits"),
    ("bouncemaxbytes", "bytes of a message kept in its bounce"),
];

/// Whether a control's text is one unsigned number (a final newline allowed).
pub fn is_number(text: &[u8]) -> bool {
    let t = text.strip_suffix(b"\n").unwrap_or(text);
    let t = t.trim_ascii();
    !t.is_empty() && t.iter().all(u8::is_ascii_digit) && t.len() <= 19
}

/// The lines of a route table (`domain:relay[:port]`) that do not parse.
pub fn bad_routes(text: &[u8], default_port: u16) -> Vec<Vec<u8>> {
    let mut bad = Vec::new();
    for l in crate::control::parse_list(text) {
        let ok = match memchr::memchr(b':', &l) {
            Some(p) => crate::remote::route::parse(&l[p + 1..], default_port).is_ok(),
            None => false,
        };
        if !ok {
            bad.push(l);
        }
    }
    bad
}

/// A queue file name's message id, if it is one.
pub fn id(name: &str) -> Option<u64> {
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// Problems found, each with its fix.
#[derive(Default)]
pub struct Report(pub Vec<(String, String)>);

impl Report {
    /// Notes a problem and how to fix it.
    pub fn add(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.0.push((what.into(), fix.into()));
    }
}

/// Checks the controls in `c` (the qmail home's control/).
pub fn controls(r: &mut Report, c: &Path) {
    let read = |f: &str| fs::read(c.join(f)).ok();
    if read("me").is_none() {
        r.add(
            "control/me is missing",
            "write this host's name into it (package/install does)",
        );
    }
    if read("rcpthosts").is_none() {
        r.add(
            "control/rcpthosts is missing: qmail-smtpd takes mail for any domain",
            "list the domains this host takes mail for, one per line",
        );
    }
    for (f, meaning) in NUMBERS {
        if let Some(t) = read(f).filter(|t| !is_number(t)) {
            let t = String::from_utf8_lossy(&t).trim().to_string();
            r.add(
                format!("control/{f} ({meaning}) is not a number: {t:?}"),
                "write one decimal number into it, or remove it for the default",
            );
        }
    }
    for f in ["concurrencylocal", "concurrencyremote"] {
        let n = read(f)
            .filter(|t| is_number(t))
            .and_then(|t| String::from_utf8_lossy(&t).trim().parse::<u64>().ok());
        if let Some(n) = n.filter(|&n| n > u64::from(conf::spawn())) {
            r.add(
                format!(
                    "control/{f} is {n}, but conf/spawn allows {}",
                    conf::spawn()
                ),
                format!(
                    "lower it to {} or rebuild with a larger conf/spawn",
                    conf::spawn()
                ),
            );
        }
    }
    for (f, port) in [("smtproutes", 25), ("qmtproutes", 209)] {
        for bad in bad_routes(&read(f).unwrap_or_default(), port) {
            r.add(
                format!(
                    "control/{f} line {:?} does not parse",
                    String::from_utf8_lossy(&bad)
                ),
                "write domain:relay[:port], the relay a name, an IPv4 address or [an IPv6 one]",
            );
        }
    }
    newer(
        r,
        &c.join("morercpthosts"),
        &c.join("morercpthosts.cdb"),
        "run qmail-newmrh",
    );
    for name in names(r, c) {
        if name.starts_with("tcp.") && !name.contains(".cdb") && !name.ends_with(".tmp") {
            let (src, cdb) = (c.join(&name), c.join(format!("{name}.cdb")));
            let fix = format!(
                "tcprules {} {}.tmp < {}",
                cdb.display(),
                cdb.display(),
                src.display()
            );
            newer(r, &src, &cdb, &fix);
        }
    }
}

/// A problem if `src` exists and `made` (compiled from it) is missing or older.
pub fn newer(r: &mut Report, src: &Path, made: &Path, fix: &str) {
    let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(s) = mtime(src) else { return };
    if mtime(made).is_none_or(|m| m < s) {
        r.add(
            format!(
                "{} is older than {}, or missing",
                made.display(),
                src.display()
            ),
            fix,
        );
    }
}

/// The names in `dir` (none if it does not exist; unreadable is a problem).
pub fn names(r: &mut Report, dir: &Path) -> Vec<String> {
    match fs::read_dir(dir) {
        Ok(d) => d
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            r.add(
                format!("cannot read {}: {e}", dir.display()),
                "run qmail-check as root",
            );
            Vec::new()
        }
    }
}

/// Queue entries old enough to judge: (split subdirectory or None, id).
fn entries(r: &mut Report, q: &Path, dir: &str) -> Vec<(Option<u64>, u64)> {
    let old = SystemTime::now() - Duration::from_secs(600);
    let is_old = |p: &Path| {
        fs::symlink_metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < old)
    };
    let mut out = Vec::new();
    if !crate::queue::SPLIT_DIRS.contains(&dir) {
        for n in names(r, &q.join(dir)) {
            if let Some(id) = id(&n).filter(|_| is_old(&q.join(dir).join(&n))) {
                out.push((None, id));
            }
        }
        return out;
    }
    for s in 0..conf::split() {
        let d = q.join(dir).join(s.to_string());
        for n in names(r, &d) {
            if let Some(id) = id(&n).filter(|_| is_old(&d.join(&n))) {
                out.push((Some(s), id));
            }
        }
    }
    out
}

/// Checks the queue's cross references.
pub fn queue(r: &mut Report, q: &Path) {
    let has = |dir: &str, id: u64| q.join(crate::queue::path(dir, id)).exists();
    let stop = "stop qmail-send, remove that file, start qmail-send";
    for dir in ["mess", "info", "local", "remote"] {
        for (s, id) in entries(r, q, dir) {
            if s != Some(id % conf::split()) {
                r.add(
                    format!(
                        "queue/{dir}/{}/{id} is in the wrong split directory",
                        s.unwrap_or(0)
                    ),
                    "the queue was made with another conf/split: rebuild with that one",
                );
                continue;
            }
            let needs = match dir {
                "info" => "mess",
                "local" | "remote" => "info",
                _ => continue,
            };
            if !has(needs, id) {
                r.add(
                    format!(
                        "queue/{dir}/{s}/{id} has no queue/{needs} file",
                        s = id % conf::split()
                    ),
                    stop,
                );
            }
        }
    }
    for (_, id) in entries(r, q, "todo") {
        if !has("mess", id) {
            r.add(
                format!("queue/todo/{id} has no message in queue/mess"),
                stop,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_table_lines() {
        let t = "# comment\nd queue  qmailq qmail 0750\nc bin/qmail-queue qmailq qmail 4711\nbad line\n";
        let h = hier(t);
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].kind, b'c');
        assert_eq!(h[1].mode, 0o4711);
        assert_eq!(
            (h[0].owner.as_str(), h[0].group.as_str()),
            ("qmailq", "qmail")
        );
        // the real table: every role is known
        for e in hier(include_str!("../../package/hier")) {
            assert!(
                user(&e.owner).is_some() && group(&e.group).is_some(),
                "{e:?}"
            );
        }
    }

    #[test]
    fn controls() {
        assert!(is_number(b"20\n") && is_number(b"0") && is_number(b" 7 \n"));
        assert!(
            !is_number(b"") && !is_number(b"lots\n") && !is_number(b"-1") && !is_number(b"1.5")
        );
        let bad = bad_routes(
            b"a.test:relay.test\n:[::1]:2525\nx:[bad\n# c\nnocolon\n",
            25,
        );
        assert_eq!(bad, vec![b"x:[bad".to_vec(), b"nocolon".to_vec()]);
        assert_eq!(id("123"), Some(123));
        assert_eq!(id("12x"), None);
        assert_eq!(id(""), None);
    }
}
