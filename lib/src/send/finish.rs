//! The queue files of preprocessed messages, from qmail-send's side: rebuilding the schedule
//! at startup from `info/` and the mtimes of the channel files, opening a pass, appending to
//! `bounce/ID`, finishing a message (bounce, `end msg`, remove), the periodic cleanup of
//! abandoned `mess/` files, and writing retry times back as mtimes at shutdown.

use super::bounce::{self, Head, Plan};
use super::clean::Kind;
use super::daemon::Daemon;
use super::jobs::{Job, Recip};
use super::logline::{self, CHAN};
use super::sched::{self, CLEANUP_INTERVAL, OSSIFIED, SLEEP_SYSFAIL};
use crate::qmail::Queue;
use crate::queue;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

fn missing(p: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(p) {
        Ok(_) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// The sender in `info/S/ID` and the message's birth (the file's mtime).
pub fn read_info(id: u64) -> io::Result<(Vec<u8>, i64)> {
    let mut f = File::open(queue::path("info", id))?;
    let birth = f.metadata()?.mtime();
    let mut data = Vec::new();
    f.read_to_end(&mut data)?;
    let sender = match data.split_first() {
        Some((b'F', rest)) => rest.split(|&c| c == 0).next().unwrap_or(&[]).to_vec(),
        _ => Vec::new(),
    };
    Ok((sender, birth))
}

/// The undone recipients of a channel file; also whether an unknown record was seen.
pub fn recipients(data: &[u8]) -> (Vec<Recip>, bool) {
    let mut out = Vec::new();
    let mut bad = false;
    let mut pos = 0;
    while let Some(n) = memchr::memchr(0, &data[pos..]) {
        match data.get(pos) {
            Some(b'T') => out.push(Recip {
                pos: pos as u64,
                addr: data[pos + 1..pos + n].to_vec(),
            }),
            Some(b'D') => {}
            _ => bad = true,
        }
        pos += n + 1;
    }
    (out, bad)
}

impl Daemon {
    /// Startup: every message in info/ that has no todo/ entry is scheduled again, except
    /// that held messages get no pass.
    pub(super) fn rebuild(&mut self, t: i64) {
        for s in 0..crate::conf::split() {
            let Ok(dir) = std::fs::read_dir(format!("info/{s}")) else {
                self.log
                    .alert(&format!("unable to opendir info/{s}, skipping it"));
                continue;
            };
            for e in dir.flatten() {
                let Some(id) = crate::scan::ulong_exact(e.file_name().as_encoded_bytes()) else {
                    continue;
                };
                if !missing(&queue::path("todo", id)).unwrap_or(true) {
                    continue;
                }
                let mut any = false;
                let held = self.held.contains(&id);
                for (c, name) in CHAN.iter().enumerate() {
                    match std::fs::metadata(queue::path(name, id)) {
                        Ok(_) if held => {}
                        Ok(m) => self.core.pending[c].push(m.mtime(), id),
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(_) if held => {}
                        Err(_) => self.core.pending[c].push(t, id),
                    }
                    any = true;
                }
                if !any {
                    self.core.done.push(t, id);
                }
            }
        }
    }

    fn later(&mut self, c: Option<usize>, id: u64, t: i64, text: String) {
        self.log.warn(&text);
        match c {
            Some(c) => self.core.pending[c].push(t + SLEEP_SYSFAIL, id),
            None => self.core.done.push(t + SLEEP_SYSFAIL, id),
        }
    }

    /// Starts a pass of message `id` on channel `c`.
    pub(super) fn open_pass(&mut self, c: usize, id: u64, t: i64) {
        if c == super::LOCAL && self.open_fresh(id, t) {
            return;
        }
        let p = queue::path(CHAN[c], id);
        let mut file = match OpenOptions::new().read(true).write(true).open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.messdone(id, t),
            Err(_) => {
                let text = format!("trouble opening {}; will try again later", p.display());
                return self.later(Some(c), id, t, text);
            }
        };
        let mut data = Vec::new();
        let info = read_info(id);
        let (Ok((sender, birth)), Ok(_)) = (info, file.read_to_end(&mut data)) else {
            let text = format!("trouble reading {}; will try again later", p.display());
            return self.later(Some(c), id, t, text);
        };
        let (recips, bad) = recipients(&data);
        if bad {
            self.log
                .warn(&format!("unknown record type in {}!", p.display()));
        }
        let dying = sched::dying(birth, t, self.ctl.lifetime);
        let mut job = Job::new(id, c, sender, dying, sched::next_retry(birth, t, c));
        job.file = Some(file);
        if let Some(cl) = self.core.open(job, recips) {
            self.closed(cl, t);
        }
    }

    /// Appends a failure paragraph to bounce/ID; retries every 10 seconds until it works.
    pub(super) fn add_bounce(&mut self, c: usize, id: u64, recip: &[u8], text: &[u8]) {
        let recip = match c {
            super::LOCAL => self.ctl.rewrite.original(recip),
            _ => recip.to_vec(),
        };
        let para = bounce::paragraph(&recip, text);
        if let Some(f) = self.fresh.get_mut(&id) {
            return f.bounce.extend_from_slice(&para);
        }
        let p = queue::path("bounce", id);
        loop {
            let f = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&p);
            if f.and_then(|mut f| f.write_all(&para)).is_ok() {
                return;
            }
            self.log
                .alert("unable to append to bounce message; HELP! sleeping...");
            std::thread::sleep(Duration::from_secs(10));
        }
    }

    /// A message may be finished: no channel file and no todo entry left. Sends its bounce,
    /// removes info/ and asks qmail-clean to remove the rest.
    pub(super) fn messdone(&mut self, id: u64, t: i64) {
        if self.fresh.contains_key(&id) {
            return self.fresh_done(id, t);
        }
        for p in [
            queue::path("local", id),
            queue::path("remote", id),
            queue::path("todo", id),
        ] {
            match missing(&p) {
                Ok(true) => {}
                Ok(false) => return,
                Err(_) => {
                    let text = format!("unable to stat {}; will try again later", p.display());
                    return self.later(None, id, t, text);
                }
            }
        }
        let info = queue::path("info", id);
        match missing(&info) {
            Ok(true) => return,
            Ok(false) => {}
            Err(_) => {
                let text = format!("unable to stat {}; will try again later", info.display());
                return self.later(None, id, t, text);
            }
        }
        if let Err(text) = self.inject_bounce(id, t) {
            return self.later(None, id, t, text);
        }
        self.log.put(&logline::end_msg(id));
        if let Err(e) = std::fs::remove_file(&info) {
            if e.kind() != io::ErrorKind::NotFound {
                let text = format!("unable to unlink {}; will try again later", info.display());
                return self.later(None, id, t, text);
            }
        }
        self.clean(Kind::Foop, id);
        self.forget_hold(id);
    }

    /// Sends the bounce for bounce/ID, if there is one, and removes bounce/ID.
    fn inject_bounce(&mut self, id: u64, t: i64) -> Result<(), String> {
        let bp = queue::path("bounce", id);
        let paragraphs = match std::fs::read(&bp) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(_) => return Err(format!("unable to open {}", bp.display())),
        };
        let info = queue::path("info", id);
        let (sender, _) =
            read_info(id).map_err(|_| format!("trouble reading {}", info.display()))?;
        self.send_paragraphs(id, &sender, &paragraphs, t)?;
        match std::fs::remove_file(&bp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(format!(
                "unable to unlink {}; will try again later",
                bp.display()
            )),
            _ => Ok(()),
        }
    }

    /// Composes and injects the bounce of message `id` from its failure paragraphs.
    pub(super) fn send_paragraphs(
        &mut self,
        id: u64,
        sender: &[u8],
        paragraphs: &[u8],
        t: i64,
    ) -> Result<(), String> {
        let plan = bounce::plan(sender, &self.ctl.doublebounceto, &self.ctl.doublebouncehost);
        let head = Head {
            date: t,
            bouncefrom: &self.ctl.bouncefrom,
            bouncehost: &self.ctl.bouncehost,
            sender,
            paragraphs,
        };
        if let Some(head) = head.compose(&plan) {
            let qp = self.send_bounce(id, &head, &plan)?;
            self.log.put(&logline::bounce_msg(id, qp));
        } else {
            self.log.put(&logline::triple(id));
        }
        Ok(())
    }

    fn send_bounce(&mut self, id: u64, head: &[u8], plan: &Plan) -> Result<u32, String> {
        let mp = queue::path("mess", id);
        let mut mess = File::open(&mp).map_err(|_| format!("unable to open {}", mp.display()))?;
        let mut q = Queue::open().map_err(|_| "unable to start qmail-queue, will try later")?;
        let qp = q.pid();
        q.put(head);
        // On a read error the queue is dropped unfinished: qmail-queue sees the envelope end
        // early and queues nothing.
        q.copy_from(&mut mess)
            .map_err(|_| format!("trouble reading {}", mp.display()))?;
        match plan {
            Plan::Double(to) => {
                q.from(bounce::DOUBLE_SENDER);
                q.to(to);
            }
            Plan::Bounce(to) => {
                q.from(b"");
                q.to(to);
            }
            Plan::Discard => {}
        }
        q.close()
            .map_err(|_| "trouble injecting bounce message, will try later".to_string())?;
        Ok(qp)
    }

    /// One split directory of mess/ per call, every [`CLEANUP_INTERVAL`] seconds: messages
    /// untouched for 36 hours with neither info nor todo are handed to qmail-clean.
    pub(super) fn cleanup_step(&mut self, t: i64) {
        if self.cleanup_dirs.is_empty() {
            if t < self.next_cleanup {
                return;
            }
            self.next_cleanup = t + CLEANUP_INTERVAL;
            self.cleanup_dirs.extend(0..crate::conf::split());
        }
        let Some(s) = self.cleanup_dirs.pop_front() else {
            return;
        };
        let Ok(dir) = std::fs::read_dir(format!("mess/{s}")) else {
            return;
        };
        for e in dir.flatten() {
            let Some(id) = crate::scan::ulong_exact(e.file_name().as_encoded_bytes()) else {
                continue;
            };
            let Ok(m) = e.metadata() else { continue };
            let abandoned = t - m.atime() > OSSIFIED
                && matches!(missing(&queue::path("info", id)), Ok(true))
                && matches!(missing(&queue::path("todo", id)), Ok(true));
            if abandoned {
                self.clean(Kind::Foop, id);
            }
        }
    }

    /// Shutdown: each waiting channel file gets its next retry time as its mtime.
    pub(super) fn persist(&mut self) {
        for (c, name) in CHAN.iter().enumerate() {
            // A held message's todo/ entry is its record: it is taken in again at the start.
            let entries: Vec<(i64, u64)> = self.core.pending[c]
                .entries()
                .filter(|(_, id)| !self.fresh.contains_key(id))
                .collect();
            for (when, id) in entries {
                let p = queue::path(name, id);
                let at = UNIX_EPOCH + Duration::from_secs(when.max(0) as u64);
                if File::open(&p).and_then(|f| f.set_modified(at)).is_err() {
                    let text = format!(
                        "unable to utime {}; message will be retried too soon",
                        p.display()
                    );
                    self.log.warn(&text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_records() {
        let (r, bad) = recipients(b"Ta@b\0Dc@d\0Te@f\0Tpartial");
        assert!(!bad);
        assert_eq!(
            r,
            vec![
                Recip {
                    pos: 0,
                    addr: b"a@b".to_vec()
                },
                Recip {
                    pos: 10,
                    addr: b"e@f".to_vec()
                }
            ]
        );
        let (r, bad) = recipients(b"Xa\0Tb\0");
        assert!(bad);
        assert_eq!(
            r,
            vec![Recip {
                pos: 3,
                addr: b"b".to_vec()
            }]
        );
        assert_eq!(recipients(b"").0, vec![]);
    }
}
