//! Delivering one message into a Maildir (qmail-local's maildir child, maildir.5): a unique
//! file in `tmp/`, written and fsynced, hard-linked into `new/`, and — beyond qmail, because
//! Linux directory updates are not synchronous — `new/` fsynced before success is reported.
//!
//! Where the filesystem has O_TMPFILE and /proc is mounted, the file in `tmp/` is unnamed:
//! it is written and fsynced as above and then linked into `new/` under its unique name,
//! so `tmp/` itself is never changed. Readers see exactly what they saw before (a complete
//! file appearing in `new/`); a crash leaves no `tmp/` file behind, and deliveries running
//! side by side into one Maildir no longer queue on `tmp/`'s directory lock for a create
//! and an unlink each (measured: 10 recipients per message into one Maildir spent a tenth
//! of all CPU spinning on that lock).
//!
//! Unique names use the modern form of cr.yp.to/proto/maildir.html:
//! `<secs>.M<usec>P<pid>Q<n>.<host>`, where `n` counts the deliveries made by this process
//! (so one process may deliver many times per second) and `host` is `gethostname()` cut to
//! 64 bytes with `/` written `\057` and `:` written `\072`. The file is created with
//! `O_CREAT|O_EXCL`, mode 0600; on EEXIST a fresh name is tried, up to 3 times, 2 s apart.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The step of a delivery that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// the maildir (or its `tmp/`) is not there or not usable
    Dir,
    /// no file could be created in `tmp/`
    Create,
    /// the message could not be read
    Read,
    /// writing or fsyncing the file in `tmp/`
    Write,
    /// linking it into `new/`, or making that link durable
    Link,
}

/// Why a delivery failed; every failure is temporary, and nothing is left in `tmp/`.
#[derive(Debug)]
pub struct Error {
    /// where it failed
    pub step: Step,
    /// the system's reason
    pub err: io::Error,
}

impl Error {
    /// qmail-local's report text for a delivery to `dir`, ending in `(#x.y.z)`.
    pub fn report(&self, dir: &[u8]) -> String {
        let dir = String::from_utf8_lossy(dir);
        let what = match self.step {
            Step::Dir => format!("Unable to chdir to maildir {dir}"),
            Step::Create => format!("Unable to create a file in maildir {dir}"),
            Step::Read => "Unable to read message".to_string(),
            Step::Write => format!("Unable to write to maildir {dir}"),
            Step::Link => format!("Unable to link message into maildir {dir}"),
        };
        let code = if self.step == Step::Dir {
            "4.2.1"
        } else {
            "4.3.0"
        };
        format!("{what}: {}. (#{code})", crate::errtext::text(&self.err))
    }
    fn at(step: Step) -> impl FnOnce(io::Error) -> Error {
        move |err| Error { step, err }
    }
}

static COUNT: AtomicU64 = AtomicU64::new(0);

/// `host` with `/` and `:` escaped as maildir names require, at most 64 bytes of it.
pub fn safe_host(host: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &c in &host[..host.len().min(64)] {
        match c {
            b'/' => out.extend_from_slice(b"\\057"),
            b':' => out.extend_from_slice(b"\\072"),
            _ => out.push(c),
        }
    }
    out
}

/// A new unique name (not yet created).
pub fn unique_name(host: &[u8]) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let n = COUNT.fetch_add(1, Ordering::SeqCst);
    let mut name = format!(
        "{}.M{}P{}Q{}.",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        n
    )
    .into_bytes();
    name.extend_from_slice(&safe_host(host));
    name
}

fn join(dir: &Path, sub: &str, name: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    dir.join(sub).join(std::ffi::OsStr::from_bytes(name))
}

/// Delivers `head` followed by everything `msg` yields into the maildir `dir`; returns the
/// path of the new file in `new/`.
pub fn deliver(dir: &Path, head: &[u8], msg: &mut impl Read) -> Result<PathBuf, Error> {
    deliver_by(dir, head, msg, true)
}

/// [`deliver`], the unnamed way only if `may_unname` (and the system allows it).
fn deliver_by(
    dir: &Path,
    head: &[u8],
    msg: &mut impl Read,
    may_unname: bool,
) -> Result<PathBuf, Error> {
    let md = fs::metadata(dir).map_err(Error::at(Step::Dir))?;
    if !md.is_dir() {
        return Err(Error {
            step: Step::Dir,
            err: io::Error::from_raw_os_error(20),
        });
    }
    fs::metadata(dir.join("tmp")).map_err(Error::at(Step::Dir))?;
    let host = crate::sys::fs::hostname().unwrap_or_else(|_| b"localhost".to_vec());
    if let Some(file) = unnamed(dir).filter(|_| may_unname) {
        return deliver_unnamed(dir, &host, file, head, msg);
    }
    let (name, tmp, file) = create(dir, &host)?;
    let new = join(dir, "new", &name);
    let result = write_sync(file, head, msg).and_then(|_| {
        fs::hard_link(&tmp, &new).map_err(Error::at(Step::Link))?;
        if let Err(err) = crate::durable::fsync_dir(&dir.join("new")) {
            let _ = fs::remove_file(&new);
            return Err(Error {
                step: Step::Link,
                err,
            });
        }
        Ok(())
    });
    let _ = fs::remove_file(&tmp);
    result?;
    // tmp/ is not fsynced: the message is durable in new/, and a tmp name that comes back
    // after a crash is what readers' 36-hour tmp/ cleanup is for. One journal commit saved.
    Ok(new)
}

/// An unnamed file in `dir/tmp`, when the filesystem and /proc allow the unnamed way.
fn unnamed(dir: &Path) -> Option<File> {
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    crate::sys::fs::tmpfile_in(&dir.join("tmp"), 0o600).ok()
}

fn deliver_unnamed(
    dir: &Path,
    host: &[u8],
    file: File,
    head: &[u8],
    msg: &mut impl Read,
) -> Result<PathBuf, Error> {
    let file = write_sync(file, head, msg)?;
    let mut tries = 0;
    let new = loop {
        let new = join(dir, "new", &unique_name(host));
        match crate::sys::fs::link_open_file(&file, &new) {
            Ok(()) => break new,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 2 => {
                tries += 1;
                std::thread::sleep(Duration::from_secs(2));
            }
            Err(e) => return Err(Error::at(Step::Link)(e)),
        }
    };
    if let Err(err) = crate::durable::fsync_dir(&dir.join("new")) {
        let _ = fs::remove_file(&new);
        return Err(Error::at(Step::Link)(err));
    }
    Ok(new)
}

fn create(dir: &Path, host: &[u8]) -> Result<(Vec<u8>, PathBuf, File), Error> {
    let mut tries = 0;
    loop {
        let name = unique_name(host);
        let tmp = join(dir, "tmp", &name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(f) => return Ok((name, tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 2 => {
                tries += 1;
                std::thread::sleep(Duration::from_secs(2));
            }
            Err(err) => {
                return Err(Error {
                    step: Step::Create,
                    err,
                })
            }
        }
    }
}

fn write_sync(mut file: File, head: &[u8], msg: &mut impl Read) -> Result<File, Error> {
    crate::copy::with_head(head, msg, &mut file).map_err(|e| match e {
        crate::copy::Failed::Read(err) => Error {
            step: Step::Read,
            err,
        },
        crate::copy::Failed::Write(err) => Error::at(Step::Write)(err),
    })?;
    // close(2) errors after a successful fsync cannot lose data std would not report anyway.
    file.sync_all().map_err(Error::at(Step::Write))?;
    Ok(file)
}

/// For unit tests: an empty Maildir `qlib-<name>.<pid>` in the temporary directory.
#[cfg(test)]
pub(crate) fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qlib-{name}.{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    for s in ["tmp", "new", "cur"] {
        fs::create_dir_all(d.join(s)).unwrap();
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tmpdir(tag: &str) -> PathBuf {
        scratch(&format!("maildir.{tag}"))
    }

    #[test]
    fn names_are_unique_and_safe() {
        assert_eq!(safe_host(b"a/b:c"), b"a\\057b\\072c");
        assert_eq!(safe_host(&[b'x'; 100]).len(), 64);
        let a = unique_name(b"h");
        let b = unique_name(b"h");
        assert_ne!(a, b);
        assert!(!a.contains(&b'/') && !a.contains(&b':') && a[0] != b'.');
    }

    #[test]
    fn delivers_many_per_second() {
        for unnamed in [true, false] {
            many(unnamed);
        }
    }

    fn many(unnamed: bool) {
        let d = tmpdir(&format!("many{unnamed}"));
        let mtime = || fs::metadata(d.join("tmp")).unwrap().modified().unwrap();
        let before = mtime();
        let mut paths = Vec::new();
        for i in 0..50 {
            let body = format!("message {i}\n");
            paths.push(deliver_by(&d, b"H: 1\n", &mut body.as_bytes(), unnamed).unwrap());
        }
        assert_eq!(fs::read_dir(d.join("new")).unwrap().count(), 50);
        assert_eq!(fs::read_dir(d.join("tmp")).unwrap().count(), 0);
        // the unnamed way never changes tmp/ (where the system has it: ext4, tmpfs here)
        assert_eq!(mtime() == before, unnamed && super::unnamed(&d).is_some());
        assert_eq!(fs::read(&paths[7]).unwrap(), b"H: 1\nmessage 7\n");
        let mode = fs::metadata(&paths[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o600);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn failures_leave_nothing() {
        for unnamed in [true, false] {
            failures(unnamed);
        }
    }

    fn failures(unnamed: bool) {
        let deliver = |d: &Path, h: &[u8], m: &mut dyn Read| deliver_by(d, h, &mut { m }, unnamed);
        let d = tmpdir(&format!("fail{unnamed}"));
        fs::remove_dir(d.join("new")).unwrap();
        let e = deliver(&d, b"", &mut &b"x"[..]).unwrap_err();
        assert_eq!(e.step, Step::Link);
        assert_eq!(
            e.report(b"./M/"),
            "Unable to link message into maildir ./M/: file does not exist. (#4.3.0)"
        );
        assert_eq!(fs::read_dir(d.join("tmp")).unwrap().count(), 0);
        struct Bad;
        impl Read for Bad {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(5))
            }
        }
        fs::create_dir(d.join("new")).unwrap();
        assert_eq!(deliver(&d, b"", &mut Bad).unwrap_err().step, Step::Read);
        assert_eq!(fs::read_dir(d.join("tmp")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(d.join("new")).unwrap().count(), 0);
        let missing = d.join("nope");
        assert_eq!(
            deliver(&missing, b"", &mut &b""[..]).unwrap_err().step,
            Step::Dir
        );
        fs::remove_dir_all(&d).unwrap();
    }
}
