//! The recent events of one desk or interpreter, numbered, so that a client that
//! resumes gets again what it did not receive (ADR 0011).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Events kept for a desk or an interpreter to resume with; the oldest go first beyond
/// this.
pub(super) const MISSED: usize = 128;

/// The recent events of one desk or interpreter, numbered, so that a client that
/// resumes gets again what it did not receive: what its old connection never wrote,
/// what it wrote but the client never read (the network went), and what happened while
/// it was away.
#[derive(Debug)]
pub(super) struct Recent<E> {
    /// The number of the last event sent.
    pub(super) last: u64,
    /// The last number a closed connection wrote to its socket (what a client that does
    /// not say `last_seq` is taken to have).
    pub(super) written: u64,
    /// Events worth sending again, oldest first, with when they were sent.
    pub(super) kept: VecDeque<(u64, Instant, E)>,
}

impl<E: Clone> Recent<E> {
    pub(super) fn new() -> Recent<E> {
        Recent::from(0)
    }

    /// Numbering on from `last`, with nothing kept.
    pub(super) fn from(last: u64) -> Recent<E> {
        Recent { last, written: last, kept: VecDeque::new() }
    }

    pub(super) fn number(&mut self) -> u64 {
        self.last += 1;
        self.last
    }

    /// Number an event, and keep it if it is worth sending again (`window` as for
    /// [`Recent::keep`]).
    pub(super) fn record(&mut self, event: &E, worth_keeping: bool, window: Option<Duration>) -> u64 {
        let seq = self.number();
        if worth_keeping {
            self.keep(seq, Instant::now(), event.clone(), window);
        }
        seq
    }

    /// Keep an event. While the client is connected, events older than `window` are
    /// let go: a connection that dies silently is noticed within it, so the client
    /// either had them or will resume and get them again.
    pub(super) fn keep(&mut self, seq: u64, now: Instant, event: E, window: Option<Duration>) {
        if let Some(window) = window {
            while self.kept.front().is_some_and(|(_, at, _)| now.duration_since(*at) > window) {
                self.kept.pop_front();
            }
        }
        if self.kept.len() == MISSED {
            self.kept.pop_front();
        }
        self.kept.push_back((seq, now, event));
    }

    /// The kept events after `seen` (or after what the last connection wrote), in order.
    pub(super) fn after(&self, seen: Option<u64>) -> Vec<(u64, E)> {
        let seen = seen.unwrap_or(self.written);
        self.kept.iter().filter(|(seq, ..)| *seq > seen).map(|(seq, _, e)| (*seq, e.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a resume gets again: the kept events after the number the client says (or
    /// after what the last connection wrote), never more than [`MISSED`], and while
    /// connected only those inside the window.
    #[test]
    fn recent_events_are_bounded_and_picked_by_number() {
        let mut r: Recent<u32> = Recent::new();
        let t0 = Instant::now();
        for n in 0..10 {
            let seq = r.number();
            r.keep(seq, t0 + Duration::from_secs(n), n as u32, None);
        }
        let picked: Vec<u64> = r.after(Some(7)).iter().map(|(seq, _)| *seq).collect();
        assert_eq!(picked, [8, 9, 10]);
        r.written = 9;
        assert_eq!(r.after(None), [(10, 9)]);
        assert!(r.after(Some(10)).is_empty() && r.after(Some(u64::MAX)).is_empty());
        // Connected: anything older than the window goes when the next event comes.
        let seq = r.number();
        r.keep(seq, t0 + Duration::from_secs(20), 10, Some(Duration::from_secs(12)));
        assert_eq!(r.after(Some(0)).first().map(|(seq, _)| *seq), Some(9), "kept from 8 s on");
        // Never more than MISSED, the oldest going first.
        for n in 0..(MISSED as u32 * 2) {
            r.record(&n, true, None);
        }
        assert_eq!(r.kept.len(), MISSED);
        assert_eq!(r.after(Some(0)).last().map(|(seq, _)| *seq), Some(r.last));
        // Positions and pongs are numbered but not kept.
        let before = r.kept.len();
        let seq = r.record(&0, false, None);
        assert_eq!((seq, r.kept.len()), (r.last, before));
    }
}
