//! Requests from qmail-qdel and qmail-qhold (beyond qmail; the format is in
//! [`crate::queuectl`]). When triggered, qmail-send takes each `req/N.req` (renamed to
//! `N.run`), chooses its messages, and carries the action out on each message that has no
//! job open — a message with a delivery in progress waits until its job closes, and no new
//! pass of it starts meanwhile. Then it answers in `N.ans` and removes `N.run`. Held
//! messages (`hold/ID`) get no passes: they are left out of the schedule at startup and
//! taken out of it when held; releasing one makes it due at once. Log lines:
//! `delete msg N: by request` then `end msg N`; `expire msg N: by request` then the bounce
//! and `end msg N` as for any finished message; `hold msg N`; `release msg N`.

use super::daemon::Daemon;
use super::finish::recipients;
use super::logline::CHAN;
use crate::queue;
use crate::queuectl::{self, Action, Outcome, Request, HOLD_DIR, MAX_REQUEST, REQ_DIR};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The failure text of each recipient of an expired message.
pub const EXPIRED: &[u8] = b"Giving up: the message was expired from the queue on request.\n";
/// Answers, unfinished requests and answers nobody fetched older than this are removed.
pub const STALE: i64 = 3600;

/// A request taken in and not yet answered.
#[derive(Debug)]
pub struct Taken {
    name: String,
    req: Option<Request>,
    todo: Vec<u64>,
    out: Vec<Outcome>,
}

fn path(name: &str, ext: &str) -> PathBuf {
    Path::new(REQ_DIR).join(format!("{name}.{ext}"))
}

fn hold_path(id: u64) -> PathBuf {
    Path::new(HOLD_DIR).join(id.to_string())
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

impl Daemon {
    /// Startup: the held messages.
    pub(super) fn load_holds(&mut self) {
        let Ok(dir) = std::fs::read_dir(HOLD_DIR) else {
            return;
        };
        for e in dir.flatten() {
            if let Some(id) = crate::scan::ulong_exact(e.file_name().as_encoded_bytes()) {
                self.held.insert(id);
            }
        }
    }

    /// Whether no pass of `id` may start: held, or waiting for a request.
    pub(super) fn blocked(&self, id: u64) -> bool {
        self.held.contains(&id) || self.taken.iter().any(|t| t.todo.contains(&id))
    }

    /// A pass of `id` on channel `c` came due while blocked: kept aside.
    pub(super) fn park(&mut self, c: usize, id: u64) {
        self.parked.entry(id).or_default()[c] = true;
    }

    fn unpark(&mut self, id: u64, t: i64) {
        if let Some(p) = self.parked.remove(&id) {
            for c in (0..2).filter(|&c| p[c]) {
                self.core.pending[c].push(t, id);
            }
        }
    }

    /// A finished message's hold mark goes with it.
    pub(super) fn forget_hold(&mut self, id: u64) {
        self.parked.remove(&id);
        if self.held.remove(&id) {
            let _ = std::fs::remove_file(hold_path(id));
        }
    }

    /// Takes new requests (after a trigger) and carries out what can be carried out now.
    pub(super) fn requests(&mut self, t: i64) {
        if self.req_scan {
            self.req_scan = false;
            self.scan_requests(t);
        }
        let mut i = 0;
        while i < self.taken.len() {
            let ids = std::mem::take(&mut self.taken[i].todo);
            let action = self.taken[i].req.as_ref().map(|r| r.action);
            let mut wait = Vec::new();
            for id in ids {
                if self.core.has_job(id) || self.fresh.contains_key(&id) {
                    wait.push(id);
                } else if let Some(a) = action {
                    let o = self.act(a, id, t);
                    self.taken[i].out.push(o);
                }
            }
            self.taken[i].todo = wait;
            if self.taken[i].todo.is_empty() {
                let done = self.taken.remove(i);
                self.answer(&done);
            } else {
                i += 1;
            }
        }
    }

    fn scan_requests(&mut self, t: i64) {
        // A queue made before queue/req existed (package/upgrade makes it) takes no requests.
        let dir = match std::fs::read_dir(REQ_DIR) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(_) => return self.log.warn("unable to opendir req"),
        };
        let mut names = Vec::new();
        for e in dir.flatten() {
            let Some(n) = e.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Some((base, ext)) = n.rsplit_once('.') else {
                continue;
            };
            match ext {
                "req" => names.push(base.to_owned()),
                "run" if !self.taken.iter().any(|x| x.name == base) => names.push(base.to_owned()),
                "new" | "out" | "ans" if e.metadata().is_ok_and(|m| t - m.mtime() > STALE) => {
                    let _ = std::fs::remove_file(e.path());
                }
                _ => {}
            }
        }
        names.sort();
        names.dedup();
        for name in names {
            let run = path(&name, "run");
            if !exists(&run) && std::fs::rename(path(&name, "req"), &run).is_err() {
                continue;
            }
            let mut data = Vec::new();
            let read = std::fs::File::open(&run)
                .and_then(|f| f.take(MAX_REQUEST as u64 + 1).read_to_end(&mut data));
            if read.is_err() {
                self.log.warn(&format!("trouble reading {}", run.display()));
                continue;
            }
            let req = Request::parse(&data).filter(|_| data.len() <= MAX_REQUEST);
            let mut taken = Taken {
                name,
                req: None,
                todo: Vec::new(),
                out: Vec::new(),
            };
            if let Some(r) = req {
                (taken.todo, taken.out) = self.choose(&r);
                taken.req = Some(r);
            } else {
                self.log
                    .warn(&format!("malformed request {}", run.display()));
            }
            self.taken.push(taken);
        }
    }

    /// The messages a request chooses, and the listed ids that are not in the queue.
    fn choose(&mut self, r: &Request) -> (Vec<u64>, Vec<Outcome>) {
        let mut chosen = Vec::new();
        let mut unknown = Vec::new();
        for &id in &r.ids {
            if chosen.contains(&id) || unknown.contains(&Outcome::Unknown(id)) {
                continue;
            }
            if exists(&queue::path("info", id)) || self.fresh.contains_key(&id) {
                chosen.push(id);
            } else {
                unknown.push(Outcome::Unknown(id));
            }
        }
        if r.sender.is_some() || r.recipient.is_some() {
            let ids = crate::qread::ids().unwrap_or_else(|_| {
                self.log.warn("trouble reading info");
                Vec::new()
            });
            for id in ids {
                if chosen.contains(&id) || exists(&queue::path("todo", id)) {
                    continue;
                }
                if let Ok(e) = crate::qread::read(id) {
                    if r.matches(&e.sender, &e.pending()) {
                        chosen.push(id);
                    }
                }
            }
        }
        (chosen, unknown)
    }

    fn act(&mut self, action: Action, id: u64, t: i64) -> Outcome {
        if !exists(&queue::path("info", id)) {
            self.unpark(id, t);
            return Outcome::Unknown(id);
        }
        match action {
            Action::Hold if self.held.contains(&id) => Outcome::Unchanged(id),
            Action::Hold => {
                let made = std::fs::File::create(hold_path(id))
                    .and_then(|_| crate::fsync_dir(Path::new(HOLD_DIR)));
                if made.is_err() {
                    self.log
                        .warn(&format!("unable to create {}", hold_path(id).display()));
                    self.unpark(id, t);
                    return Outcome::Unchanged(id);
                }
                self.unschedule(id);
                self.held.insert(id);
                self.log.put(format!("hold msg {id}\n").as_bytes());
                Outcome::Done(id)
            }
            Action::Release if !self.held.contains(&id) => {
                self.unpark(id, t);
                Outcome::Unchanged(id)
            }
            Action::Release => {
                if let Err(e) = std::fs::remove_file(hold_path(id)) {
                    if e.kind() != io::ErrorKind::NotFound {
                        self.log
                            .warn(&format!("unable to unlink {}", hold_path(id).display()));
                        return Outcome::Unchanged(id);
                    }
                }
                self.held.remove(&id);
                self.unschedule(id);
                self.log.put(format!("release msg {id}\n").as_bytes());
                let mut any = false;
                for (c, name) in CHAN.iter().enumerate() {
                    if exists(&queue::path(name, id)) {
                        self.core.pending[c].push(t, id);
                        any = true;
                    }
                }
                if !any {
                    self.core.done.push(t, id);
                }
                Outcome::Done(id)
            }
            Action::Delete => self.delete(id),
            Action::Expire => self.expire(id, t),
        }
    }

    /// Out of the schedule (no parked or pending pass).
    fn unschedule(&mut self, id: u64) {
        self.parked.remove(&id);
        for q in self.core.pending.iter_mut() {
            q.remove(id);
        }
    }

    fn delete(&mut self, id: u64) -> Outcome {
        self.unschedule(id);
        for p in [
            queue::path("bounce", id),
            queue::path("local", id),
            queue::path("remote", id),
            queue::path("info", id),
        ] {
            if let Err(e) = std::fs::remove_file(&p) {
                if e.kind() != io::ErrorKind::NotFound {
                    self.log.warn(&format!(
                        "unable to unlink {}; will try again later",
                        p.display()
                    ));
                    self.taken_retry(id);
                    return Outcome::Unchanged(id);
                }
            }
        }
        self.log
            .put(format!("delete msg {id}: by request\n").as_bytes());
        self.log.put(&super::logline::end_msg(id));
        self.core.done.remove(id);
        self.clean(super::clean::Kind::Foop, id);
        self.forget_hold(id);
        Outcome::Done(id)
    }

    fn expire(&mut self, id: u64, t: i64) -> Outcome {
        self.unschedule(id);
        self.log
            .put(format!("expire msg {id}: by request\n").as_bytes());
        for (c, name) in CHAN.iter().enumerate() {
            let p = queue::path(name, id);
            let data = match std::fs::read(&p) {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(_) => {
                    self.log.warn(&format!("trouble reading {}", p.display()));
                    self.taken_retry(id);
                    return Outcome::Unchanged(id);
                }
            };
            for r in recipients(&data).0 {
                self.add_bounce(c, id, &r.addr, EXPIRED);
            }
            if std::fs::remove_file(&p).is_err() {
                self.log.warn(&format!("unable to unlink {}", p.display()));
                self.taken_retry(id);
                return Outcome::Unchanged(id);
            }
        }
        self.forget_hold(id);
        self.messdone(id, t);
        Outcome::Done(id)
    }

    /// A delete or expire that failed half way: the message is scheduled again.
    fn taken_retry(&mut self, id: u64) {
        for (c, name) in CHAN.iter().enumerate() {
            if exists(&queue::path(name, id)) && !self.held.contains(&id) {
                self.core.pending[c].push(super::daemon::now() + super::sched::SLEEP_SYSFAIL, id);
            }
        }
    }

    fn answer(&mut self, done: &Taken) {
        let (out, ans, run) = (
            path(&done.name, "out"),
            path(&done.name, "ans"),
            path(&done.name, "run"),
        );
        let bytes = queuectl::encode_answer(done.req.as_ref().map(|_| done.out.as_slice()));
        let written = std::fs::write(&out, bytes).and_then(|()| std::fs::rename(&out, &ans));
        if written.is_err() {
            let _ = std::fs::remove_file(&out);
            self.log
                .warn(&format!("trouble writing to {}", ans.display()));
        }
        let _ = std::fs::remove_file(run);
    }
}
