//! Environment changes queued for a program about to be exec'd (djb's pathexec_env): an
//! ordered list of `NAME=value` (set) and `NAME` (unset) edits in which later edits win.
//! tcpserver, tcpclient and tcp-env build one; rules add theirs after tcpserver's own, so a
//! rule may override `TCPLOCALHOST`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

/// The queued edits.
#[derive(Clone, Debug, Default)]
pub struct Edits {
    list: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Edits {
    /// No edits yet.
    pub fn new() -> Edits {
        Edits::default()
    }

    /// Queue `name=value`.
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        self.list.push((name.to_vec(), Some(value.to_vec())));
    }

    /// Queue the removal of `name`.
    pub fn unset(&mut self, name: &[u8]) {
        self.list.push((name.to_vec(), None));
    }

    /// Queue `name=value` when `value` is given, else the removal of `name`.
    pub fn put(&mut self, name: &[u8], value: Option<&[u8]>) {
        match value {
            Some(v) => self.set(name, v),
            None => self.unset(name),
        }
    }

    /// The value `name` will have after the edits, given its current value `now`.
    pub fn value<'a>(&'a self, name: &[u8], now: Option<&'a [u8]>) -> Option<&'a [u8]> {
        let last = self.list.iter().rev().find(|(n, _)| n == name);
        match last {
            Some((_, v)) => v.as_deref(),
            None => now,
        }
    }

    /// Applies the edits, in order, to `cmd`'s environment (which starts from ours).
    pub fn apply(&self, cmd: &mut Command) {
        for (name, value) in &self.list {
            let name = OsStr::from_bytes(name);
            match value {
                Some(v) => cmd.env(name, OsStr::from_bytes(v)),
                None => cmd.env_remove(name),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_edits_win() {
        let mut e = Edits::new();
        e.set(b"TCPLOCALHOST", b"a");
        e.unset(b"TCPREMOTEHOST");
        e.set(b"TCPLOCALHOST", b"movie.edu");
        assert_eq!(e.value(b"TCPLOCALHOST", None), Some(&b"movie.edu"[..]));
        assert_eq!(e.value(b"TCPREMOTEHOST", Some(b"old")), None);
        assert_eq!(e.value(b"OTHER", Some(b"kept")), Some(&b"kept"[..]));
        let mut cmd = Command::new("/usr/bin/env");
        cmd.env_clear().env("TCPREMOTEHOST", "stale");
        e.apply(&mut cmd);
        let out = cmd.output().unwrap();
        assert_eq!(out.stdout, b"TCPLOCALHOST=movie.edu\n");
    }
}
