//! Preprocessing `todo/` (qmail-send.c `todo_do`): each new envelope is split into
//! `info/S/ID` (the sender; its mtime is the message's birth) and `local/S/ID` /
//! `remote/S/ID` (the rewritten recipients). A batch of envelopes is staged first and then
//! committed together: every file and every split directory that gained an entry is fsynced
//! before qmail-clean is asked to remove `todo/ID`. Rerunning after a crash is harmless.

use super::addr::Rewrite;
use super::clean;
use super::daemon::Daemon;
use super::logline::{self, Log};
use super::sched::SCAN_INTERVAL;
use crate::queue;
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// Most todo entries staged and committed together.
const BATCH: usize = 64;

/// The envelope records of `todo/ID`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// the `u` record: the injecting user's uid
    pub uid: &'a [u8],
    /// the `p` record: qmail-queue's pid
    pub pid: &'a [u8],
    /// the `F` record
    pub sender: Option<&'a [u8]>,
    /// the `T` records, in order
    pub recips: Vec<&'a [u8]>,
}

/// Splits the records; an unknown record type is returned as the error. Bytes after the last
/// NUL (an incomplete record) are ignored.
pub fn parse(data: &[u8]) -> Result<Envelope<'_>, u8> {
    let mut e = Envelope::default();
    let whole = match memchr::memrchr(0, data) {
        Some(i) => &data[..i],
        None => return Ok(e),
    };
    for rec in whole.split(|&c| c == 0) {
        match rec.split_first() {
            Some((b'u', v)) => e.uid = v,
            Some((b'p', v)) => e.pid = v,
            Some((b'F', v)) => e.sender = Some(v),
            Some((b'T', v)) => e.recips.push(v),
            Some((&t, _)) => return Err(t),
            None => return Err(0),
        }
    }
    Ok(e)
}

/// A todo entry read and its recipients rewritten; nothing written yet.
pub struct Parsed {
    /// the message id
    pub id: u64,
    /// the envelope sender
    pub sender: Vec<u8>,
    /// the rewritten recipients per channel, as `T<addr>\0` records
    pub out: [Vec<u8>; 2],
    /// how many recipients each channel got
    pub count: [usize; 2],
    size: u64,
    qp: Vec<u8>,
    uid: Vec<u8>,
}

impl Parsed {
    /// Logs `new msg` and `info msg`, as preprocessing does once the message is taken in.
    pub fn announce(&self, log: &mut Log) {
        log.put(&logline::new_msg(self.id));
        log.put(&logline::info_msg(
            self.id,
            self.size,
            &self.sender,
            &self.qp,
            &self.uid,
        ));
    }
}

/// An envelope written out but not yet durable.
pub struct Staged {
    /// the message id
    pub id: u64,
    /// which channels got a recipient file
    pub chans: [bool; 2],
    pub(super) files: Vec<(PathBuf, File)>,
}

fn show(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Creates `p` (mode 600, which must not exist) holding `data`; `None` after a warning.
pub(super) fn write_new(p: &PathBuf, data: &[u8], log: &mut Log) -> Option<File> {
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p);
    let Ok(mut f) = f else {
        log.warn(&format!("unable to create {}", show(p)));
        return None;
    };
    if f.write_all(data).is_err() {
        log.warn(&format!("trouble writing to {}", show(p)));
        return None;
    }
    Some(f)
}

/// Removes `p` if it is there; `false` (after a warning) if that fails.
pub(super) fn remove_stale(p: &PathBuf, log: &mut Log) -> bool {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            log.warn(&format!(
                "unable to unlink {}; will try again later",
                show(p)
            ));
            false
        }
        _ => true,
    }
}

/// Reads `todo/ID` and rewrites its recipients, after removing what an earlier crash left of
/// its preprocessing (info/local/remote, and a bounce/ID written while its todo/ entry was
/// still the record). `None` (after a warning) leaves it for a later scan; a todo entry that
/// is already gone is skipped quietly.
pub fn read(id: u64, rw: &Rewrite, log: &mut Log) -> Option<Parsed> {
    let todo = queue::path("todo", id);
    let data = match std::fs::read(&todo) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(_) => {
            log.warn(&format!("unable to open {}", show(&todo)));
            return None;
        }
    };
    let mess = queue::path("mess", id);
    let Ok(size) = std::fs::metadata(&mess).map(|m| m.len()) else {
        log.warn(&format!(
            "unable to stat {}; will try again later",
            show(&mess)
        ));
        return None;
    };
    for dir in ["info", "local", "remote", "bounce"] {
        if !remove_stale(&queue::path(dir, id), log) {
            return None;
        }
    }
    let Ok(env) = parse(&data) else {
        log.put(&logline::new_msg(id));
        log.warn(&format!("unknown record type in {}!", show(&todo)));
        return None;
    };
    let mut p = Parsed {
        id,
        sender: env.sender.unwrap_or(b"").to_vec(),
        out: [Vec::new(), Vec::new()],
        count: [0, 0],
        size,
        qp: env.pid.to_vec(),
        uid: env.uid.to_vec(),
    };
    for r in env.recips {
        let (c, a) = rw.rewrite(r);
        p.out[c].push(b'T');
        p.out[c].extend_from_slice(&a);
        p.out[c].push(0);
        p.count[c] += 1;
    }
    Some(p)
}

/// The contents of `info/S/ID`: the one `F<sender>\0` record.
pub(super) fn info_record(sender: &[u8]) -> Vec<u8> {
    [&b"F"[..], sender, b"\0"].concat()
}

/// Writes info/local/remote for a parsed entry (qmail's preprocessing); `None` after a
/// warning.
pub fn stage(p: &Parsed, log: &mut Log) -> Option<Staged> {
    let info = queue::path("info", p.id);
    let infof = write_new(&info, &info_record(&p.sender), log)?;
    p.announce(log);
    let mut staged = Staged {
        id: p.id,
        chans: [false; 2],
        files: vec![(info, infof)],
    };
    for (c, name) in super::logline::CHAN.iter().enumerate() {
        if p.out[c].is_empty() {
            continue;
        }
        let path = queue::path(name, p.id);
        let f = write_new(&path, &p.out[c], log)?;
        staged.chans[c] = true;
        staged.files.push((path, f));
    }
    Some(staged)
}

/// Most threads fsyncing at once: concurrent fsyncs share journal commits, so a batch costs
/// about as much as one message.
const SYNC_THREADS: usize = 8;

/// fsyncs every file, several at a time; whether each one succeeded.
fn sync_all(files: &[&File]) -> Vec<bool> {
    if files.len() < 2 {
        return files.iter().map(|f| f.sync_all().is_ok()).collect();
    }
    let per = files.len().div_ceil(SYNC_THREADS);
    std::thread::scope(|sc| {
        let jobs: Vec<_> = files
            .chunks(per)
            .map(|chunk| sc.spawn(move || chunk.iter().map(|f| f.sync_all().is_ok()).collect()))
            .collect();
        jobs.into_iter()
            .flat_map(|j| j.join().unwrap_or_else(|_| vec![false; per]))
            .collect()
    })
}

/// Makes a batch durable: each file, then each directory holding one. Returns the envelopes
/// that are now safe (their todo entries may go); the others are left for a later scan.
pub fn commit(batch: Vec<Staged>, log: &mut Log) -> Vec<Staged> {
    let files: Vec<&File> = batch
        .iter()
        .flat_map(|s| s.files.iter().map(|(_, f)| f))
        .collect();
    let mut synced = sync_all(&files).into_iter();
    let mut bad: BTreeSet<PathBuf> = BTreeSet::new();
    for s in &batch {
        for (p, _) in &s.files {
            if !synced.next().unwrap_or(false) {
                log.warn(&format!("trouble fsyncing {}", show(p)));
                bad.insert(p.clone());
            }
        }
    }
    let dirs: Vec<PathBuf> = batch
        .iter()
        .flat_map(|s| {
            s.files
                .iter()
                .filter_map(|(p, _)| p.parent().map(PathBuf::from))
        })
        .collect::<BTreeSet<PathBuf>>()
        .into_iter()
        .collect();
    let opened: Vec<Option<File>> = dirs.iter().map(|d| File::open(d).ok()).collect();
    let handles: Vec<&File> = opened.iter().flatten().collect();
    let mut synced = sync_all(&handles).into_iter();
    for (d, f) in dirs.iter().zip(&opened) {
        if f.is_none() || !synced.next().unwrap_or(false) {
            log.warn(&format!("trouble fsyncing {}", show(d)));
            bad.insert(d.clone());
        }
    }
    let mut ok = batch;
    ok.retain(|s| {
        s.files
            .iter()
            .all(|(p, _)| !bad.contains(p) && p.parent().is_none_or(|d| !bad.contains(d)))
    });
    ok
}

impl Daemon {
    /// Has qmail-clean remove todo/ID and intd/ID; whether todo/ID is gone (after `!`, an
    /// entry whose todo/ link is gone counts as removed).
    pub(super) fn clean_todo(&mut self, id: u64) -> bool {
        self.clean(clean::Kind::Todo, id) || (self.clean_alive && !queue::path("todo", id).exists())
    }

    /// Lists todo/ (sorted by id) for preprocessing.
    pub(super) fn scan_todo(&mut self, t: i64) {
        self.rescan = false;
        self.next_scan = t + SCAN_INTERVAL;
        match std::fs::read_dir("todo") {
            Ok(d) => {
                let mut ids: Vec<u64> = d
                    .flatten()
                    .filter_map(|e| crate::scan::ulong_exact(e.file_name().as_encoded_bytes()))
                    .filter(|id| !self.fresh.contains_key(id))
                    .collect();
                ids.sort_unstable();
                self.todo.extend(ids);
            }
            Err(_) => {
                self.log.alert("unable to opendir todo, sleeping...");
                self.next_scan = t + 10;
            }
        }
    }

    /// Stages up to [`BATCH`] entries, commits them, has their todo entries removed and
    /// schedules them.
    pub(super) fn preprocess(&mut self, t: i64) {
        let n = self.todo.len().min(BATCH);
        let mut staged = Vec::with_capacity(n);
        let ids: Vec<u64> = self.todo.drain(..n).collect();
        for id in ids {
            let Some(p) = read(id, &self.ctl.rewrite, &mut self.log) else {
                continue;
            };
            if self.may_hold(&p) {
                p.announce(&mut self.log);
                self.hold(p, t);
            } else {
                staged.extend(stage(&p, &mut self.log));
            }
        }
        for s in commit(staged, &mut self.log) {
            if !self.clean_todo(s.id) {
                continue;
            }
            for c in 0..2 {
                if s.chans[c] {
                    self.core.pending[c].push(t, s.id);
                }
            }
            if s.chans == [false, false] {
                self.core.done.push(t, s.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let e = parse(b"u501\0p4242\0Fjoe@x\0Ta@b\0Tc\0").unwrap();
        assert_eq!(
            e,
            Envelope {
                uid: b"501",
                pid: b"4242",
                sender: Some(b"joe@x"),
                recips: vec![b"a@b", b"c"]
            }
        );
        let e = parse(b"u1\0p2\0F\0").unwrap();
        assert_eq!((e.sender, e.recips.len()), (Some(&b""[..]), 0));
        assert_eq!(
            parse(b"u1\0p2\0F\0Ta@b\0Tpartial").unwrap().recips,
            vec![b"a@b"]
        );
        assert_eq!(parse(b"u1\0Xbad\0Ta\0"), Err(b'X'));
        assert_eq!(parse(b"u1\0\0Ta\0"), Err(0));
        assert_eq!(parse(b""), Ok(Envelope::default()));
    }
}
