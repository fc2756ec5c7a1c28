//! Time in qmail-send's schedule: the retry formula, the queue lifetime, and time-ordered
//! queues of message ids (prioq.c).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Seconds to wait before retrying after a failed stat/open/unlink of a queue file.
pub const SLEEP_SYSFAIL: i64 = 123;
/// The longest `poll` sleep.
pub const SLEEP_FOREVER: i64 = 86400;
/// `todo/` is scanned at least this often even without a trigger.
pub const SCAN_INTERVAL: i64 = 1500;
/// `mess/` is checked for abandoned messages this often.
pub const CLEANUP_INTERVAL: i64 = 76431;
/// A mess file untouched this long without info/ or todo/ is abandoned (must exceed
/// qmail-queue's 24 h limit).
pub const OSSIFIED: i64 = 129600;
/// Default `control/queuelifetime`.
pub const LIFETIME: u64 = 604800;

/// floor(sqrt(n)).
pub fn isqrt(n: u64) -> u64 {
    let mut r = (n as f64).sqrt() as u64;
    while r * r > n {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

/// The channel's retry step: 10 for local, 20 for remote.
pub fn chanskip(chan: usize) -> i64 {
    if chan == super::LOCAL {
        10
    } else {
        20
    }
}

/// When to try again after a pass started at `now` for a message born at `birth`:
/// `birth + (floor(sqrt(now - birth)) + chanskip)^2`.
pub fn next_retry(birth: i64, now: i64, chan: usize) -> i64 {
    let n = if now > birth {
        isqrt((now - birth) as u64) as i64
    } else {
        0
    };
    birth.saturating_add((n + chanskip(chan)).saturating_pow(2))
}

/// Whether a pass starting at `now` is past the message's lifetime (a deferral then bounces).
pub fn dying(birth: i64, now: i64, lifetime: u64) -> bool {
    now > birth.saturating_add(lifetime.min(i64::MAX as u64) as i64)
}

/// Message ids ordered by time, earliest first (ties: lower id first).
#[derive(Debug, Default, Clone)]
pub struct TimeQueue(BinaryHeap<Reverse<(i64, u64)>>);

impl TimeQueue {
    /// Adds `id` at time `t`.
    pub fn push(&mut self, t: i64, id: u64) {
        self.0.push(Reverse((t, id)));
    }
    /// The earliest time, if any.
    pub fn first(&self) -> Option<i64> {
        self.0.peek().map(|r| r.0 .0)
    }
    /// Removes and returns the earliest id if its time has come.
    pub fn pop_due(&mut self, now: i64) -> Option<u64> {
        match self.first() {
            Some(t) if t <= now => self.0.pop().map(|r| r.0 .1),
            _ => None,
        }
    }
    /// Makes everything due at `now` (SIGALRM).
    pub fn all_at(&mut self, now: i64) {
        let v: Vec<_> = self
            .0
            .drain()
            .map(|r| Reverse((now.min(r.0 .0), r.0 .1)))
            .collect();
        self.0 = v.into();
    }
    /// Every (time, id), in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.0.iter().map(|r| r.0)
    }
    /// Takes `id` out (every entry of it); whether it was there.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.0.len();
        self.0.retain(|r| r.0 .1 != id);
        self.0.len() != before
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::{LOCAL, REMOTE};

    #[test]
    fn square_roots() {
        for n in [
            0u64,
            1,
            2,
            3,
            4,
            99,
            100,
            101,
            604800,
            u32::MAX as u64,
            (1 << 52) + 7,
        ] {
            let r = isqrt(n);
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "{n}");
        }
    }

    /// The table of §3.9: attempt k happens (k·chanskip)² seconds after birth when every
    /// attempt happens exactly when scheduled.
    #[test]
    fn retry_table() {
        let birth = 1_000_000;
        for (chan, skip, table) in [
            (LOCAL, 10, [0, 100, 400, 900, 1600, 2500]),
            (REMOTE, 20, [0, 400, 1600, 3600, 6400, 10000]),
        ] {
            let mut now = birth;
            for (k, &want) in table.iter().enumerate() {
                assert_eq!(now - birth, want, "chan {chan} attempt {k}");
                now = next_retry(birth, now, chan);
            }
            let mut now = birth;
            let mut k = 0;
            while now - birth < 604800 {
                now = next_retry(birth, now, chan);
                k += 1;
            }
            assert_eq!(
                k - 1,
                if chan == LOCAL { 77 } else { 38 },
                "last before 7 d"
            );
            assert_eq!(
                next_retry(birth, birth + 10 * 10 * skip * skip, chan) - birth,
                11 * 11 * skip * skip
            );
        }
        assert_eq!(
            next_retry(birth, birth - 50, LOCAL),
            birth + 100,
            "birth in the future"
        );
        assert_eq!(next_retry(birth, birth + 150, LOCAL), birth + 22 * 22);
    }

    #[test]
    fn lifetime() {
        assert!(!dying(0, 604800, LIFETIME));
        assert!(dying(0, 604801, LIFETIME));
        assert!(!dying(i64::MAX - 5, i64::MAX, u64::MAX));
    }

    #[test]
    fn time_queue() {
        let mut q = TimeQueue::default();
        q.push(50, 7);
        q.push(10, 9);
        q.push(10, 3);
        assert_eq!(q.first(), Some(10));
        assert_eq!(q.pop_due(5), None);
        assert_eq!(q.pop_due(10), Some(3));
        assert_eq!(q.pop_due(10), Some(9));
        assert_eq!(q.pop_due(49), None);
        q.push(99, 1);
        q.all_at(20);
        assert_eq!(q.pop_due(20), Some(1));
        assert_eq!(q.pop_due(20), Some(7));
        assert!(q.is_empty());
        q.push(5, 1);
        q.push(6, 2);
        assert!(q.remove(1));
        assert!(!q.remove(1));
        assert_eq!(q.pop_due(9), Some(2));
    }
}
