//! The schedule's state (qmail-send.c's jobs, passes and delivery slots), free of I/O so it
//! can be tested alone. Per channel: a time-ordered queue of messages waiting for a pass; at
//! most one open pass, which hands out the recipients of one job in file order; and the
//! delivery slots, numbered as in the spawn protocol. A job (message, channel) closes when its
//! pass has ended and every delivery it started has reported.

use super::sched::TimeQueue;
use std::collections::VecDeque;
use std::fs::File;

/// One (message, channel) pair with a pass or deliveries in progress.
#[derive(Debug)]
pub struct Job {
    /// the message id
    pub id: u64,
    /// 0 local, 1 remote
    pub chan: usize,
    /// the envelope sender as stored (VERP not yet expanded)
    pub sender: Vec<u8>,
    /// past the queue lifetime: deferrals become failures
    pub dying: bool,
    /// when to try again if recipients remain
    pub retry: i64,
    /// the recipient file, for done marks
    pub file: Option<File>,
    refs: usize,
    in_pass: bool,
    undone: bool,
}

impl Job {
    /// A job with no deliveries yet.
    pub fn new(id: u64, chan: usize, sender: Vec<u8>, dying: bool, retry: i64) -> Job {
        Job {
            id,
            chan,
            sender,
            dying,
            retry,
            file: None,
            refs: 0,
            in_pass: false,
            undone: false,
        }
    }
}

/// A recipient record of a channel file: where its first byte is, and the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recip {
    /// offset of the `T` byte (overwritten with `D` when done)
    pub pos: u64,
    /// the address
    pub addr: Vec<u8>,
}

/// A delivery in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Del {
    /// the job's key
    pub job: usize,
    /// the number in the log (`starting delivery N`)
    pub delid: u64,
    /// the recipient record
    pub recip: Recip,
}

/// A job that has closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// the message id
    pub id: u64,
    /// the channel
    pub chan: usize,
    /// every recipient is done: the channel file can go
    pub done: bool,
    /// otherwise: when to start the next pass
    pub retry: i64,
}

struct Pass {
    job: usize,
    recips: VecDeque<Recip>,
}

/// The whole schedule.
pub struct Core {
    /// concurrency per channel
    pub limit: [usize; 2],
    /// messages waiting for their next pass, per channel
    pub pending: [TimeQueue; 2],
    /// messages to finish (bounce, remove)
    pub done: TimeQueue,
    jobs: Vec<Option<Job>>,
    pass: [Option<Pass>; 2],
    slots: [Vec<Option<Del>>; 2],
    used: [usize; 2],
    delid: u64,
}

impl Core {
    /// An empty schedule with these concurrency limits (each at most 255).
    pub fn new(limit: [usize; 2]) -> Core {
        let limit = limit.map(|l| l.min(255));
        Core {
            limit,
            pending: Default::default(),
            done: TimeQueue::default(),
            jobs: Vec::new(),
            pass: [None, None],
            slots: limit.map(|l| (0..l).map(|_| None).collect()),
            used: [0, 0],
            delid: 0,
        }
    }

    /// Deliveries in progress per channel.
    pub fn used(&self) -> [usize; 2] {
        self.used
    }

    /// Whether channel `c` has a pass open.
    pub fn in_pass(&self, c: usize) -> bool {
        self.pass[c].is_some()
    }

    /// When channel `c` could start its next pass (`None`: pass open, held, or nothing queued).
    pub fn next_pass(&self, c: usize) -> Option<i64> {
        match (&self.pass[c], self.limit[c]) {
            (None, 1..) => self.pending[c].first(),
            _ => None,
        }
    }

    /// The message whose pass should start now on channel `c`, taken off the queue.
    pub fn due_pass(&mut self, c: usize, now: i64) -> Option<u64> {
        match self.next_pass(c) {
            Some(t) if t <= now => self.pending[c].pop_due(now),
            _ => None,
        }
    }

    /// Opens a pass of `job` over `recips` (only the undone ones). With none, the job closes
    /// at once.
    pub fn open(&mut self, mut job: Job, recips: Vec<Recip>) -> Option<Closed> {
        let c = job.chan;
        job.in_pass = !recips.is_empty();
        let key = match self.jobs.iter().position(Option::is_none) {
            Some(k) => k,
            None => {
                self.jobs.push(None);
                self.jobs.len() - 1
            }
        };
        self.jobs[key] = Some(job);
        if recips.is_empty() {
            return self.maybe_close(key);
        }
        self.pass[c] = Some(Pass {
            job: key,
            recips: recips.into(),
        });
        None
    }

    /// Whether channel `c` has a recipient to hand out and a free slot.
    pub fn can_dispatch(&self, c: usize) -> bool {
        self.pass[c].is_some() && self.used[c] < self.limit[c]
    }

    /// Starts the next delivery of channel `c`'s pass: (slot, delivery).
    pub fn dispatch(&mut self, c: usize) -> Option<(u8, Del)> {
        if !self.can_dispatch(c) {
            return None;
        }
        let slot = self.slots[c].iter().position(Option::is_none)?;
        let pass = self.pass[c].as_mut()?;
        let recip = pass.recips.pop_front()?;
        let key = pass.job;
        if pass.recips.is_empty() {
            self.pass[c] = None;
        }
        let job = self.jobs[key].as_mut()?;
        job.refs += 1;
        job.in_pass = self.pass[c].is_some();
        self.delid += 1;
        let del = Del {
            job: key,
            delid: self.delid,
            recip,
        };
        self.slots[c][slot] = Some(del.clone());
        self.used[c] += 1;
        Some((slot as u8, del))
    }

    /// The job with key `key`.
    pub fn job(&self, key: usize) -> Option<&Job> {
        self.jobs.get(key).and_then(Option::as_ref)
    }

    /// Whether message `id` has a job open (a pass or deliveries in progress).
    pub fn has_job(&self, id: u64) -> bool {
        self.jobs.iter().flatten().any(|j| j.id == id)
    }

    /// Takes the delivery a report for `slot` answers; `None` if out of range or idle.
    pub fn take(&mut self, c: usize, slot: u8) -> Option<Del> {
        let d = self.slots[c].get_mut(slot as usize)?.take()?;
        self.used[c] -= 1;
        Some(d)
    }

    /// Records how a taken delivery ended (`undone`: the recipient stays for a retry).
    pub fn settle(&mut self, del: &Del, undone: bool) -> Option<Closed> {
        let job = self.jobs.get_mut(del.job)?.as_mut()?;
        job.refs -= 1;
        job.undone |= undone;
        self.maybe_close(del.job)
    }

    /// Stops handing out recipients (shutdown): open passes end, their jobs keep the rest
    /// for a pass at `now`. Returns the jobs that closed.
    pub fn abandon_passes(&mut self, now: i64) -> Vec<Closed> {
        let mut closed = Vec::new();
        for c in 0..2 {
            let Some(p) = self.pass[c].take() else {
                continue;
            };
            if let Some(job) = self.jobs[p.job].as_mut() {
                job.in_pass = false;
                job.undone = true;
                job.retry = job.retry.min(now);
            }
            closed.extend(self.maybe_close(p.job));
        }
        closed
    }

    /// SIGALRM: every waiting message is due at `now`.
    pub fn alarm(&mut self, now: i64) {
        for q in self.pending.iter_mut() {
            q.all_at(now);
        }
        self.done.all_at(now);
    }

    fn maybe_close(&mut self, key: usize) -> Option<Closed> {
        let job = self.jobs[key].as_ref()?;
        if job.in_pass || job.refs > 0 {
            return None;
        }
        let job = self.jobs[key].take()?;
        Some(Closed {
            id: job.id,
            chan: job.chan,
            done: !job.undone,
            retry: job.retry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::{LOCAL, REMOTE};

    fn recips(n: u64) -> Vec<Recip> {
        (0..n)
            .map(|i| Recip {
                pos: i * 10,
                addr: format!("r{i}@x").into_bytes(),
            })
            .collect()
    }

    #[test]
    fn a_pass_dispatches_in_order_within_the_limit() {
        let mut k = Core::new([2, 5]);
        k.pending[LOCAL].push(100, 7);
        k.pending[LOCAL].push(100, 8);
        assert_eq!(k.due_pass(LOCAL, 99), None);
        assert_eq!(k.due_pass(LOCAL, 100), Some(7));
        assert_eq!(
            k.open(Job::new(7, LOCAL, b"s".to_vec(), false, 500), recips(3)),
            None
        );
        assert_eq!(k.due_pass(LOCAL, 100), None, "one pass per channel");
        assert!(k.has_job(7) && !k.has_job(8));
        let (s0, d0) = k.dispatch(LOCAL).unwrap();
        let (s1, d1) = k.dispatch(LOCAL).unwrap();
        assert_eq!((s0, s1, d0.delid, d1.delid), (0, 1, 1, 2));
        assert_eq!((d0.recip.addr.as_slice(), d1.recip.pos), (&b"r0@x"[..], 10));
        assert!(!k.can_dispatch(LOCAL), "slots full");
        assert_eq!(k.used(), [2, 0]);
        assert_eq!(k.take(LOCAL, 5), None, "out of range");
        let t = k.take(LOCAL, 1).unwrap();
        assert_eq!(k.take(LOCAL, 1), None, "not in use");
        assert_eq!(k.settle(&t, false), None);
        let (s2, d2) = k.dispatch(LOCAL).unwrap();
        assert_eq!((s2, d2.recip.pos), (1, 20));
        assert!(!k.in_pass(LOCAL), "pass ended after the last recipient");
        assert_eq!(
            k.due_pass(LOCAL, 100),
            Some(8),
            "next message once all are dispatched"
        );
        let t = k.take(LOCAL, 0).unwrap();
        assert_eq!(k.settle(&t, true), None);
        let t = k.take(LOCAL, 1).unwrap();
        assert_eq!(
            k.settle(&t, false),
            Some(Closed {
                id: 7,
                chan: LOCAL,
                done: false,
                retry: 500
            })
        );
        assert_eq!(k.used(), [0, 0]);
    }

    #[test]
    fn jobs_close_done_or_pending() {
        let mut k = Core::new([1, 1]);
        assert_eq!(
            k.open(Job::new(3, REMOTE, vec![], false, 9), vec![]),
            Some(Closed {
                id: 3,
                chan: REMOTE,
                done: true,
                retry: 9
            })
        );
        k.open(Job::new(4, REMOTE, vec![], false, 9), recips(1));
        let (slot, d) = k.dispatch(REMOTE).unwrap();
        assert_eq!(k.job(d.job).map(|j| j.id), Some(4));
        let t = k.take(REMOTE, slot).unwrap();
        assert_eq!(
            k.settle(&t, false),
            Some(Closed {
                id: 4,
                chan: REMOTE,
                done: true,
                retry: 9
            })
        );
        assert!(k.job(d.job).is_none());
    }

    #[test]
    fn held_channel_and_alarm() {
        let mut k = Core::new([0, 3]);
        k.pending[LOCAL].push(10, 1);
        k.pending[REMOTE].push(1000, 2);
        k.done.push(2000, 3);
        assert_eq!(k.next_pass(LOCAL), None, "concurrency 0 holds the channel");
        assert_eq!(k.due_pass(LOCAL, 5000), None);
        assert_eq!(k.next_pass(REMOTE), Some(1000));
        k.alarm(50);
        assert_eq!(k.due_pass(REMOTE, 50), Some(2));
        assert_eq!(k.done.pop_due(50), Some(3));
    }

    #[test]
    fn shutdown_abandons_the_pass() {
        let mut k = Core::new([1, 1]);
        k.open(Job::new(5, LOCAL, vec![], false, 900), recips(3));
        let (slot, _) = k.dispatch(LOCAL).unwrap();
        assert!(k.abandon_passes(100).is_empty(), "a delivery is still out");
        assert!(!k.can_dispatch(LOCAL));
        let t = k.take(LOCAL, slot).unwrap();
        assert_eq!(
            k.settle(&t, false),
            Some(Closed {
                id: 5,
                chan: LOCAL,
                done: false,
                retry: 100
            })
        );
        k.open(Job::new(6, LOCAL, vec![], false, 900), recips(1));
        assert_eq!(
            k.abandon_passes(100),
            vec![Closed {
                id: 6,
                chan: LOCAL,
                done: false,
                retry: 100
            }]
        );
    }
}
