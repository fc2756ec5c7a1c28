//! qmail-send's main loop: one `poll` over the trigger, the signal wake pipe and the spawner
//! pipes, with a timeout that is the next scheduled event. Each turn it preprocesses a batch
//! of `todo/` entries, opens due passes, hands recipients to the spawners, reads their
//! reports and finishes messages. The queue files are handled in [`super::finish`].
//! The working directory is the queue.

use super::clean::{self, Client};
use super::controls::Controls;
use super::fresh::Fresh;
use super::jobs::{Closed, Core, Del};
use super::logline::{self, Log};
use super::sched::{self, SLEEP_FOREVER};
use super::spawn::{self, Reports};
use super::{addr, bounce};
use crate::queue;
use crate::sys::{fd, sig};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::SystemTime;

/// Most messages finished in one turn of the loop.
const FINISH_BATCH: usize = 16;

/// The descriptors qmail-send works with.
pub struct Fds {
    /// fd 0: the log
    pub log: File,
    /// fds 1 and 3: requests to qmail-lspawn, qmail-rspawn
    pub spawn_to: [File; 2],
    /// fds 2 and 4: their reports (the concurrency byte already read)
    pub spawn_from: [File; 2],
    /// fds 5 and 6: qmail-clean
    pub clean: Client,
    /// `lock/trigger`, opened non-blocking
    pub trigger: File,
    /// the signal wake pipe's read end
    pub wake: File,
}

/// The running queue manager.
pub struct Daemon {
    pub(super) ctl: Controls,
    pub(super) core: Core,
    pub(super) log: Log,
    spawn_to: [File; 2],
    spawn_from: [File; 2],
    out: [Vec<u8>; 2],
    reports: [Reports; 2],
    alive: [bool; 2],
    clean: Client,
    pub(super) clean_alive: bool,
    trigger: File,
    wake: File,
    pub(super) todo: VecDeque<u64>,
    pub(super) rescan: bool,
    pub(super) next_scan: i64,
    pub(super) next_cleanup: i64,
    pub(super) cleanup_dirs: VecDeque<u64>,
    pub(super) exiting: bool,
    /// messages delivered from memory ([`super::fresh`])
    pub(super) fresh: HashMap<u64, Fresh>,
    /// `req/` is to be scanned ([`super::requests`])
    pub(super) req_scan: bool,
    /// requests taken and not yet answered
    pub(super) taken: Vec<super::requests::Taken>,
    /// held messages (`hold/ID`)
    pub(super) held: HashSet<u64>,
    /// passes that came due while their message was blocked, per channel
    pub(super) parked: HashMap<u64, [bool; 2]>,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    crate::date::secs(SystemTime::now())
}

impl Daemon {
    /// `limit`: the spawners' concurrency bytes.
    pub fn new(ctl: Controls, limit: [u8; 2], fds: Fds) -> Daemon {
        let lim = [0, 1].map(|c| ctl.concurrency[c].min(u64::from(limit[c])) as usize);
        for f in &fds.spawn_to {
            let _ = fd::set_nonblock(std::os::fd::AsFd::as_fd(f), true);
        }
        Daemon {
            ctl,
            core: Core::new(lim),
            log: Log(fds.log),
            spawn_to: fds.spawn_to,
            spawn_from: fds.spawn_from,
            out: [Vec::new(), Vec::new()],
            reports: Default::default(),
            alive: [true, true],
            clean: fds.clean,
            clean_alive: true,
            trigger: fds.trigger,
            wake: fds.wake,
            todo: VecDeque::new(),
            rescan: true,
            next_scan: 0,
            next_cleanup: 0,
            cleanup_dirs: VecDeque::new(),
            exiting: false,
            fresh: HashMap::new(),
            req_scan: true,
            taken: Vec::new(),
            held: HashSet::new(),
            parked: HashMap::new(),
        }
    }

    /// Runs until SIGTERM (or a lost connection) and every delivery has reported; the exit code.
    pub fn run(&mut self) -> u8 {
        self.load_holds();
        self.rebuild(now());
        self.status();
        loop {
            let t = now();
            self.signals(t);
            if self.exiting {
                for cl in self.core.abandon_passes(t) {
                    self.closed(cl, t);
                }
                if (0..2).all(|c| !self.alive[c] || self.core.used()[c] == 0) {
                    self.persist();
                    self.log.put(b"status: exiting\n");
                    return 0;
                }
            }
            self.work(t);
            let timeout = self.timeout(now());
            self.wait(timeout);
        }
    }

    fn signals(&mut self, t: i64) {
        if sig::take(sig::SIGTERM) {
            self.exiting = true;
        }
        if sig::take(sig::SIGALRM) {
            self.core.alarm(t);
        }
        if sig::take(sig::SIGHUP) {
            let dir = Path::new(crate::conf::HOME).join("control");
            if let Err(e) = self.ctl.reread(&dir) {
                self.log.alert(e);
            }
        }
    }

    fn work(&mut self, t: i64) {
        if !self.exiting {
            if self.todo.is_empty() && (self.rescan || t >= self.next_scan) {
                self.scan_todo(t);
            }
            if !self.todo.is_empty() {
                self.preprocess(t);
            }
            self.requests(t);
        }
        for c in 0..2 {
            self.dispatch(c);
            while self.can_open(c) {
                let Some(id) = self.core.due_pass(c, t) else {
                    break;
                };
                if self.blocked(id) {
                    self.park(c, id);
                    continue;
                }
                self.open_pass(c, id, t);
                self.dispatch(c);
            }
        }
        for _ in 0..FINISH_BATCH {
            let Some(id) = self.core.done.pop_due(t) else {
                break;
            };
            self.messdone(id, t);
        }
        if !self.exiting {
            self.cleanup_step(t);
        }
    }

    /// Whether channel `c` could start a pass: none open, a slot free, nothing unsent.
    fn can_open(&self, c: usize) -> bool {
        !self.exiting
            && self.alive[c]
            && !self.core.in_pass(c)
            && self.core.used()[c] < self.core.limit[c]
            && self.out[c].is_empty()
    }

    fn timeout(&self, t: i64) -> i32 {
        let ready = (!self.exiting
            && (!self.todo.is_empty()
                || self.rescan
                || self.req_scan
                || !self.cleanup_dirs.is_empty()))
            || (0..2).any(|c| self.alive[c] && self.out[c].is_empty() && self.core.can_dispatch(c));
        if ready {
            return 0;
        }
        let mut due = t + SLEEP_FOREVER;
        if !self.exiting {
            due = due.min(self.next_scan).min(self.next_cleanup);
            for c in (0..2).filter(|&c| self.can_open(c)) {
                due = due.min(self.core.next_pass(c).unwrap_or(due));
            }
        }
        due = due.min(self.core.done.first().unwrap_or(due));
        ((due - t).clamp(0, SLEEP_FOREVER) * 1000) as i32
    }

    fn wait(&mut self, timeout: i32) {
        let mut fds = vec![
            fd::PollFd {
                fd: self.wake.as_raw_fd(),
                read: true,
                ..Default::default()
            },
            fd::PollFd {
                fd: self.trigger.as_raw_fd(),
                read: !self.exiting,
                ..Default::default()
            },
        ];
        for c in 0..2 {
            let (r, w) = (self.spawn_from[c].as_raw_fd(), self.spawn_to[c].as_raw_fd());
            let alive = self.alive[c];
            fds.push(fd::PollFd {
                fd: r,
                read: alive,
                ..Default::default()
            });
            let write = alive && !self.out[c].is_empty();
            fds.push(fd::PollFd {
                fd: w,
                write,
                ..Default::default()
            });
        }
        if fd::poll(&mut fds, timeout).is_err() {
            self.log.warn("trouble in select");
            return;
        }
        let mut buf = [0u8; 65536];
        if fds[0].readable {
            while matches!((&self.wake).read(&mut buf[..64]), Ok(1..)) {}
        }
        if fds[1].readable {
            while matches!((&self.trigger).read(&mut buf[..64]), Ok(1..)) {}
            self.rescan = true;
            self.req_scan = true;
        }
        for c in 0..2 {
            if fds[3 + 2 * c].writable {
                self.flush(c);
            }
            if fds[2 + 2 * c].readable {
                self.read_reports(c, &mut buf);
            }
        }
    }

    fn status(&mut self) {
        let line = logline::status(self.core.used(), self.core.limit, self.exiting);
        self.log.put(&line);
    }

    /// Asks qmail-clean; whether it answered `+`.
    pub(super) fn clean(&mut self, kind: clean::Kind, id: u64) -> bool {
        if !self.clean_alive {
            return false;
        }
        match self.clean.ask(kind, id) {
            Ok(b'+') => true,
            Ok(_) => {
                let req = clean::request(kind, id);
                let name = String::from_utf8_lossy(&req[..req.len() - 1]).into_owned();
                self.log
                    .warn(&format!("qmail-clean unable to clean up {name}"));
                false
            }
            Err(_) => {
                self.log
                    .alert("oh no! lost qmail-clean connection! dying...");
                self.clean_alive = false;
                self.exiting = true;
                false
            }
        }
    }

    fn dispatch(&mut self, c: usize) {
        while self.alive[c] && self.out[c].is_empty() {
            let Some((slot, del)) = self.core.dispatch(c) else {
                break;
            };
            let Some(job) = self.core.job(del.job) else {
                break;
            };
            let sender = addr::verp(&job.sender, &del.recip.addr);
            let id = job.id;
            self.out[c] = spawn::request(slot, &queue::mess_rel(id), &sender, &del.recip.addr);
            self.log
                .put(&logline::starting(del.delid, id, c, &del.recip.addr));
            self.flush(c);
            self.status();
        }
    }

    fn flush(&mut self, c: usize) {
        while !self.out[c].is_empty() {
            match (&self.spawn_to[c]).write(&self.out[c]) {
                Ok(n) => drop(self.out[c].drain(..n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => return self.spawn_lost(c),
            }
        }
    }

    fn spawn_lost(&mut self, c: usize) {
        if self.alive[c] {
            self.alive[c] = false;
            self.out[c].clear();
            self.exiting = true;
            self.log.alert("oh no! lost spawn connection! dying...");
        }
    }

    fn read_reports(&mut self, c: usize, buf: &mut [u8]) {
        let n = match (&self.spawn_from[c]).read(buf) {
            Ok(0) => return self.spawn_lost(c),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => return self.spawn_lost(c),
        };
        let mut got = Vec::new();
        self.reports[c].feed(&buf[..n], &mut got);
        let t = now();
        for r in got {
            self.report(c, r, t);
        }
    }

    fn report(&mut self, c: usize, r: spawn::Report, t: i64) {
        let Some(del) = self.core.take(c, r.slot) else {
            return self
                .log
                .warn("internal error: delivery report out of range");
        };
        let Some(job) = self.core.job(del.job) else {
            return;
        };
        let (id, dying) = (job.id, job.dying);
        let (status, text) = match r.status {
            b'Z' if dying => (b'D', bounce::expired(&r.text)),
            s => (s, r.text),
        };
        self.log.put(&logline::result(del.delid, status, &text));
        self.status();
        let undone = match status {
            b'K' => {
                self.mark(c, &del);
                false
            }
            b'D' => {
                self.add_bounce(c, id, &del.recip.addr, &text);
                self.mark(c, &del);
                false
            }
            _ => true,
        };
        if let Some(cl) = self.core.settle(&del, undone) {
            self.closed(cl, t);
        }
    }

    fn mark(&mut self, c: usize, del: &Del) {
        let job = self.core.job(del.job);
        if let Some(f) = job.and_then(|j| self.fresh.get_mut(&j.id)) {
            if let Some(b) = f.image.get_mut(del.recip.pos as usize) {
                *b = b'D';
            }
            return;
        }
        let ok = job
            .and_then(|j| j.file.as_ref())
            .map(|f| f.write_all_at(b"D", del.recip.pos));
        if !matches!(ok, Some(Ok(()))) {
            let id = job.map_or(0, |j| j.id);
            let p = queue::path(logline::CHAN[c], id);
            let text = format!(
                "trouble marking {}; message will be delivered twice!",
                p.display()
            );
            self.log.warn(&text);
        }
    }

    pub(super) fn closed(&mut self, cl: Closed, t: i64) {
        if self.fresh.contains_key(&cl.id) {
            return self.fresh_closed(cl, t);
        }
        if !cl.done {
            return self.core.pending[cl.chan].push(cl.retry, cl.id);
        }
        let p = queue::path(logline::CHAN[cl.chan], cl.id);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                let text = format!("unable to unlink {}; will try again later", p.display());
                self.log.warn(&text);
                self.core.pending[cl.chan].push(t + sched::SLEEP_SYSFAIL, cl.id);
            }
            _ => self.messdone(cl.id, t),
        }
    }
}
