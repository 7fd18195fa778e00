//! Timers. Most timers are "after a delay" (ring time-out, step widening, maximum
//! wait, wrap-up, preferred hold) and a policy has few distinct delays; timers with the
//! same delay, pushed at a non-decreasing `now`, fall due in push order. So each delay
//! gets a FIFO: O(1) push and pop, and no heap of hundreds of thousands of mostly stale
//! entries. Absolute timers (rosters, bookings) and delays beyond the FIFO budget go to
//! a heap. Timers fire in (instant, push sequence) order across all of them.
//!
//! Timers are never cancelled: each names a record and is ignored when that record has
//! moved on (see `Engine::fire`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::state::Timer;
use crate::time::Timestamp;

/// Distinct delays that get their own FIFO; further ones share the heap.
const MAX_FIFOS: usize = 32;

type Entry = (Timestamp, u64, Timer);

#[derive(Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Timers {
    fifos: Vec<(i64, VecDeque<Entry>)>,
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    /// The latest instant a delay timer was pushed from; FIFOs rely on it not going back.
    last_from: Timestamp,
}

impl Timers {
    /// A timer `delay_ms` after `from`.
    pub(crate) fn after(&mut self, from: Timestamp, delay_ms: i64, timer: Timer) {
        self.seq += 1;
        let at = Timestamp::from_millis(from.as_millis().saturating_add(delay_ms));
        if from < self.last_from {
            // Not expected (the engine's clock never goes back), but stay correct.
            self.heap.push(Reverse((at, self.seq, timer)));
            return;
        }
        self.last_from = from;
        if let Some((_, fifo)) = self.fifos.iter_mut().find(|(d, _)| *d == delay_ms) {
            fifo.push_back((at, self.seq, timer));
        } else if self.fifos.len() < MAX_FIFOS {
            self.fifos.push((delay_ms, VecDeque::from([(at, self.seq, timer)])));
        } else {
            self.heap.push(Reverse((at, self.seq, timer)));
        }
    }

    /// A timer at an absolute instant.
    pub(crate) fn at(&mut self, at: Timestamp, timer: Timer) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, timer)));
    }

    fn earliest(&self) -> Option<(Entry, Option<usize>)> {
        let mut best: Option<(Entry, Option<usize>)> = self.heap.peek().map(|Reverse(e)| (*e, None));
        for (i, (_, fifo)) in self.fifos.iter().enumerate() {
            if let Some(front) = fifo.front()
                && best.is_none_or(|(b, _)| (front.0, front.1) < (b.0, b.1))
            {
                best = Some((*front, Some(i)));
            }
        }
        best
    }

    /// The instant of the earliest timer.
    pub(crate) fn next(&self) -> Option<Timestamp> {
        self.earliest().map(|(e, _)| e.0)
    }

    /// Take the earliest timer if it is due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, Timer)> {
        let (entry, source) = self.earliest()?;
        if entry.0 > now {
            return None;
        }
        match source {
            Some(i) => {
                self.fifos[i].1.pop_front();
            }
            None => {
                self.heap.pop();
            }
        }
        Some((entry.0, entry.2))
    }

    /// Timers held, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.heap.len() + self.fifos.iter().map(|(_, f)| f.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::RequestId;

    #[test]
    fn fires_in_instant_then_push_order_across_fifos_and_heap() {
        let mut t = Timers::default();
        let s = Timestamp::from_secs;
        t.after(s(0), 30_000, Timer::Step(RequestId(1))); // 30
        t.after(s(0), 10_000, Timer::Expire(RequestId(2))); // 10
        t.at(s(10), Timer::Hold(RequestId(3))); // 10, pushed later
        t.after(s(5), 30_000, Timer::Step(RequestId(4))); // 35
        t.after(s(1), 10_000, Timer::Expire(RequestId(5))); // 11
        assert_eq!(t.next(), Some(s(10)));
        assert_eq!(t.pop_due(s(9)), None);
        let mut order = Vec::new();
        while let Some((at, timer)) = t.pop_due(s(100)) {
            order.push((at.as_millis() / 1000, timer));
        }
        assert_eq!(
            order,
            vec![
                (10, Timer::Expire(RequestId(2))),
                (10, Timer::Hold(RequestId(3))),
                (11, Timer::Expire(RequestId(5))),
                (30, Timer::Step(RequestId(1))),
                (35, Timer::Step(RequestId(4))),
            ]
        );
        assert_eq!(t.len(), 0);
        // Going back in time is tolerated: the entry goes to the heap, order holds.
        t.after(s(50), 1000, Timer::Step(RequestId(6)));
        t.after(s(40), 1000, Timer::Step(RequestId(7)));
        assert_eq!(t.pop_due(s(100)).map(|x| x.1), Some(Timer::Step(RequestId(7))));
    }

    #[test]
    fn many_distinct_delays_overflow_to_the_heap() {
        let mut t = Timers::default();
        for d in 0..100 {
            t.after(Timestamp::EPOCH, 1000 * (100 - d), Timer::Step(RequestId(d as u64)));
        }
        let mut last = Timestamp::EPOCH;
        let mut n = 0;
        while let Some((at, _)) = t.pop_due(Timestamp::from_secs(1000)) {
            assert!(at >= last);
            last = at;
            n += 1;
        }
        assert_eq!(n, 100);
    }
}
