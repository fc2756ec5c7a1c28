//! Environment changes queued for a program about to be exec'd (djb's pathexec_env): an
//! ordered list of `NAME=value` (set) and `NAME` (unset) edits in which later edits win.
//! tcpserver, tcpclient and tcp-env build one; rules add theirs after tcpserver's own, so a
//! rule may override `TCPLOCALHOST`.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::RawFd;
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

impl Edits {
    /// The environment the program gets, from `now` (`NAME=value` strings): `now` in its
    /// order less every edited name, then each edited name's final value as a new string in
    /// `added` (djb's pathexec order).
    fn environment<'a>(
        &self,
        now: &[&'a CStr],
        added: &'a mut Vec<CString>,
    ) -> io::Result<Vec<&'a CStr>> {
        let edited = |entry: &[u8]| {
            let name = entry.split(|&c| c == b'=').next().unwrap_or(entry);
            self.list.iter().any(|(n, _)| n == name)
        };
        for (i, (name, value)) in self.list.iter().enumerate() {
            let last = !self.list[i + 1..].iter().any(|(n, _)| n == name);
            if let (true, Some(v)) = (last, value) {
                let s = CString::new([&name[..], b"=", v].concat()).map_err(|_| bad())?;
                added.push(s);
            }
        }
        let mut env = Vec::with_capacity(now.len() + added.len());
        env.extend(now.iter().filter(|e| !edited(e.to_bytes())).copied());
        env.extend(added.iter().map(CString::as_c_str));
        Ok(env)
    }

    /// Execs `argv` (the program name first, searched in the new environment's PATH when
    /// it has no `/`; `/bin:/usr/bin` without PATH) with the edited environment, straight
    /// through execve: the unchanged variables are passed as they are, not copied (std's
    /// `Command` copies the whole environment into a map first). For single-threaded
    /// programs. Returns only the error: the last one that is not ENOENT, else ENOENT.
    pub fn exec(&self, argv: &[OsString]) -> io::Error {
        let r = self.search(argv, |path, args, envp| {
            Err::<std::convert::Infallible, _>(crate::sys::proc::execve(path, args, envp))
        });
        match r {
            Err(e) => e,
            Ok(never) => match never {},
        }
    }

    /// Starts `argv` as [`Edits::exec`] would run it, as a child with each `(source,
    /// target)` of `fds` on `target` (posix_spawn: nothing of this process is copied); its
    /// pid. For single-threaded programs.
    pub fn spawn(&self, argv: &[OsString], fds: &[(RawFd, RawFd)]) -> io::Result<i32> {
        self.search(argv, |path, args, envp| {
            crate::sys::proc::spawn(path, args, Some(envp), fds, None)
        })
    }

    /// Tries `attempt(path, argv, envp)` for each place the program could be, in order;
    /// the first success, else the last error that is not ENOENT, else ENOENT.
    fn search<T>(
        &self,
        argv: &[OsString],
        mut attempt: impl FnMut(&CStr, &[&CStr], &[&CStr]) -> io::Result<T>,
    ) -> io::Result<T> {
        let mut added = Vec::new();
        let envp = self.environment(&crate::sys::proc::environ(), &mut added)?;
        let args: Result<Vec<CString>, _> =
            argv.iter().map(|a| CString::new(a.as_bytes())).collect();
        let (Ok(args), Some(prog)) = (args, argv.first().map(|p| p.as_bytes())) else {
            return Err(bad());
        };
        let args: Vec<&CStr> = args.iter().map(CString::as_c_str).collect();
        if prog.contains(&b'/') {
            return attempt(args[0], &args, &envp);
        }
        let path = crate::env::get("PATH");
        let path = self
            .value(b"PATH", path.as_deref())
            .unwrap_or(b"/bin:/usr/bin");
        let mut err = io::Error::from_raw_os_error(2);
        for dir in path.split(|&c| c == b':') {
            let dir = if dir.is_empty() { &b"."[..] } else { dir };
            let Ok(full) = CString::new([dir, b"/", prog].concat()) else {
                continue;
            };
            let e = match attempt(&full, &args, &envp) {
                Ok(t) => return Ok(t),
                Err(e) => e,
            };
            match e.raw_os_error() {
                Some(2 | 20) => {}            // ENOENT, ENOTDIR: next directory
                Some(1 | 13 | 21) => err = e, // EPERM, EACCES, EISDIR: remember, go on
                _ => return Err(e),
            }
        }
        Err(err)
    }
}

fn bad() -> io::Error {
    io::Error::from(io::ErrorKind::InvalidInput)
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

    #[test]
    fn environment_keeps_order_and_appends_final_values() {
        let mut e = Edits::new();
        e.set(b"A", b"1");
        e.set(b"PATH", b"/x");
        e.set(b"A", b"2");
        e.unset(b"HOME");
        let now = [c"HOME=/root", c"PATH=/bin", c"Z=z", c"A=0"];
        let mut added = Vec::new();
        let env: Vec<&[u8]> = e
            .environment(&now, &mut added)
            .unwrap()
            .iter()
            .map(|c| c.to_bytes())
            .collect();
        assert_eq!(env, [&b"Z=z"[..], b"PATH=/x", b"A=2"]);
    }
}
