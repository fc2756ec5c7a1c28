//! Messages delivered from memory (beyond qmail). A new message whose recipients are all
//! local, and few, is not split into `info/` and `local/` files: its `todo/ID` stays the
//! durable record while the first pass runs, and the done marks and bounce paragraphs are
//! kept here. If every recipient is done after that pass, the bounce (if any) is sent and
//! `todo/ID` and `mess/S/ID` go; no `info/` or `local/` file was ever created, flushed or
//! removed, which is most of what preprocessing costs. If a recipient is deferred, the
//! message is written out as preprocessing would have written it (`info/` with the birth as
//! its mtime, `local/` with the marks, `bounce/ID`), made durable, and only then is `todo/ID`
//! removed: from there on it is an ordinary queued message.
//!
//! On disk the message is always in one of qmail's states (spec §3.2: S4, then S5 or gone).
//! A crash during the first pass leaves `todo/ID`, so the message is preprocessed and
//! delivered again, its already delivered recipients included: the same at-least-once rule
//! by which qmail repeats a delivery whose done mark was not yet written, over a window of
//! one pass instead of one delivery. [`MAX_RECIPS`] bounds that window.

use super::clean::Kind;
use super::daemon::Daemon;
use super::jobs::{Closed, Job};
use super::logline;
use super::sched::{self, SLEEP_SYSFAIL};
use super::todo::{self, Parsed, Staged};
use super::{LOCAL, REMOTE};
use crate::queue;
use std::time::{Duration, UNIX_EPOCH};

/// Most recipients a message may have to be delivered from memory.
pub const MAX_RECIPS: usize = 64;
/// Most messages held in memory at once; beyond it new ones are preprocessed as in qmail.
pub const MAX_HELD: usize = 1000;
/// Longest recipient list (bytes of `local/`) held in memory: with [`MAX_HELD`], at most
/// 16 MiB however long the addresses are.
pub const MAX_IMAGE: usize = 16384;

/// What preprocessing would have written for a message held in memory.
#[derive(Debug, Clone)]
pub struct Fresh {
    /// the envelope sender (`info/`)
    pub sender: Vec<u8>,
    /// when it was taken in (`info/`'s mtime)
    pub birth: i64,
    /// the `local/` file: `T` records, `D` once done
    pub image: Vec<u8>,
    /// failure paragraphs (`bounce/ID`)
    pub bounce: Vec<u8>,
    /// `end msg` is logged
    ended: bool,
}

impl Daemon {
    /// Whether a parsed envelope is delivered from memory.
    pub(super) fn may_hold(&self, p: &Parsed) -> bool {
        p.count[REMOTE] == 0
            && (1..=MAX_RECIPS).contains(&p.count[LOCAL])
            && p.out[LOCAL].len() <= MAX_IMAGE
            && self.fresh.len() < MAX_HELD
            && self.core.limit[LOCAL] > 0
    }

    /// Takes a parsed envelope in without writing anything: its pass is due now.
    pub(super) fn hold(&mut self, p: Parsed, t: i64) {
        let [image, _] = p.out;
        let f = Fresh {
            sender: p.sender,
            birth: t,
            image,
            bounce: Vec::new(),
            ended: false,
        };
        self.fresh.insert(p.id, f);
        self.core.pending[LOCAL].push(t, p.id);
    }

    /// Opens the pass of a held message; `false` if `id` is not held.
    pub(super) fn open_fresh(&mut self, id: u64, t: i64) -> bool {
        let Some(f) = self.fresh.get(&id) else {
            return false;
        };
        let (recips, _) = super::finish::recipients(&f.image);
        let dying = sched::dying(f.birth, t, self.ctl.lifetime);
        let retry = sched::next_retry(f.birth, t, LOCAL);
        let job = Job::new(id, LOCAL, f.sender.clone(), dying, retry);
        if let Some(cl) = self.core.open(job, recips) {
            self.closed(cl, t);
        }
        true
    }

    /// A held message's job closed: finish it, or write it out for its retry.
    pub(super) fn fresh_closed(&mut self, cl: Closed, t: i64) {
        if cl.done {
            return self.fresh_done(cl.id, t);
        }
        let at = if self.spill(cl.id) {
            cl.retry
        } else {
            t + SLEEP_SYSFAIL
        };
        self.core.pending[cl.chan].push(at, cl.id);
    }

    /// Writes a held message out as preprocessing would have, fsynced, and removes its
    /// todo/ID; whether it is an ordinary queued message now.
    fn spill(&mut self, id: u64) -> bool {
        let Some(f) = self.fresh.get(&id) else {
            return true;
        };
        let birth = UNIX_EPOCH + Duration::from_secs(f.birth.max(0) as u64);
        let mut parts = vec![
            (queue::path("info", id), todo::info_record(&f.sender)),
            (queue::path("local", id), f.image.clone()),
        ];
        if !f.bounce.is_empty() {
            parts.push((queue::path("bounce", id), f.bounce.clone()));
        }
        let mut files = Vec::new();
        for (p, data) in parts {
            if !todo::remove_stale(&p, &mut self.log) {
                return false;
            }
            let Some(file) = todo::write_new(&p, &data, &mut self.log) else {
                return false;
            };
            files.push((p, file));
        }
        if files[0].1.set_modified(birth).is_err() {
            let text = format!("unable to utime {}", files[0].0.display());
            self.log.warn(&text);
            return false;
        }
        let staged = Staged {
            id,
            chans: [true, false],
            files,
        };
        if todo::commit(vec![staged], &mut self.log).is_empty() {
            return false;
        }
        let gone = self.clean_todo(id);
        if gone {
            self.fresh.remove(&id);
        }
        gone
    }

    /// Every recipient of a held message is done: its bounce, `end msg`, then todo/ID and
    /// mess/S/ID go, in that order (a todo/ entry must never outlive its message).
    pub(super) fn fresh_done(&mut self, id: u64, t: i64) {
        let Some(f) = self.fresh.get(&id) else {
            return;
        };
        if !f.bounce.is_empty() {
            let (sender, paragraphs) = (f.sender.clone(), f.bounce.clone());
            if let Err(text) = self.send_paragraphs(id, &sender, &paragraphs, t) {
                self.log.warn(&text);
                return self.core.done.push(t + SLEEP_SYSFAIL, id);
            }
        }
        if let Some(f) = self.fresh.get_mut(&id) {
            f.bounce.clear();
            if !f.ended {
                f.ended = true;
                self.log.put(&logline::end_msg(id));
            }
        }
        if !self.clean_todo(id) {
            return self.core.done.push(t + SLEEP_SYSFAIL, id);
        }
        self.fresh.remove(&id);
        self.clean(Kind::Foop, id);
    }
}
