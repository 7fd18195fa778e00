//! Token buckets for the work the relay spends on datagrams from addresses it does not
//! know: one per source address, one per leg for its connectivity checks.
//!
//! A single budget shared by every stranger is a weapon: one flooding host spends it and
//! new participants' connectivity checks are dropped with the junk. Here each source has
//! its own, so a flood exhausts only its sender's; a source is keyed by IP address, not
//! port, so changing ports does not buy a fresh budget. The table of sources is bounded:
//! a spoofed flood from more addresses than it holds is examined in full (parsing a
//! STUN header is cheap) rather than shutting out whoever arrives next.

use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use rustc_hash::FxHashMap;

/// A token bucket: `per_sec` tokens a second, holding at most `per_sec`.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    tokens: f64,
    per_sec: f64,
    last: Option<Instant>,
}

impl Bucket {
    pub(crate) fn full(per_sec: u32) -> Bucket {
        let per_sec = f64::from(per_sec.max(1));
        Bucket { tokens: per_sec, per_sec, last: None }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last);
            self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_sec).min(self.per_sec);
        }
        self.last = Some(self.last.map_or(now, |l| l.max(now)));
    }

    /// Whether a token is left, without taking it.
    pub(crate) fn has(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= 1.0
    }

    /// Take a token if one is left.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Spend a token whether or not one is left (the work was done).
    pub(crate) fn charge(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = (self.tokens - 1.0).max(-self.per_sec);
    }

    /// Whether the bucket would be full at `now`: forgetting it loses nothing.
    fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = self.last.map_or(std::time::Duration::ZERO, |l| now.saturating_duration_since(l));
        self.tokens + elapsed.as_secs_f64() * self.per_sec >= self.per_sec
    }
}

/// The address a budget is kept for.
pub trait Source {
    /// The host the datagram came from.
    fn host(&self) -> IpAddr;
}

impl Source for SocketAddr {
    fn host(&self) -> IpAddr {
        self.ip()
    }
}

/// Sources tracked at once. Beyond this, until some are idle again, a new source is
/// examined without a budget.
pub const MAX_SOURCES: usize = 4096;

/// A bucket per source host, bounded.
#[derive(Debug)]
pub(crate) struct PerSource<K = IpAddr> {
    buckets: FxHashMap<K, Bucket>,
    per_sec: u32,
    capacity: usize,
}

impl<K: Copy + Eq + Hash> PerSource<K> {
    pub(crate) fn new(per_sec: u32, capacity: usize) -> PerSource<K> {
        PerSource { buckets: FxHashMap::default(), per_sec, capacity }
    }

    /// Whether `source` may have a datagram examined: false only for a tracked source
    /// that has spent its budget.
    pub(crate) fn allows(&mut self, now: Instant, source: K) -> bool {
        self.buckets.get_mut(&source).is_none_or(|b| b.has(now))
    }

    /// `source` sent a datagram that was not a connectivity check for a known leg.
    pub(crate) fn charge(&mut self, now: Instant, source: K) {
        if !self.buckets.contains_key(&source) && self.buckets.len() >= self.capacity {
            self.buckets.retain(|_, b| !b.is_full_at(now));
        }
        let len = self.buckets.len();
        match self.buckets.entry(source) {
            Entry::Occupied(mut e) => e.get_mut().charge(now),
            Entry::Vacant(e) if len < self.capacity => {
                let mut b = Bucket::full(self.per_sec);
                b.charge(now);
                e.insert(b);
            }
            Entry::Vacant(_) => {}
        }
    }

    /// Sources tracked now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_source_spends_only_its_own_budget() {
        let t = Instant::now();
        let mut p: PerSource<u32> = PerSource::new(10, 100);
        for _ in 0..10 {
            assert!(p.allows(t, 1));
            p.charge(t, 1);
        }
        assert!(!p.allows(t, 1), "source 1 spent its budget");
        assert!(p.allows(t, 2), "source 2 still has all of its own");
        assert!(p.allows(t + Duration::from_millis(100), 1), "and the budget refills with time");
    }

    #[test]
    fn the_table_is_bounded_and_forgets_idle_sources_first() {
        let t = Instant::now();
        let mut p: PerSource<u32> = PerSource::new(10, 4);
        for s in 0..4 {
            p.charge(t, s);
        }
        // Full: a fifth source is not tracked, so it is never refused.
        p.charge(t, 99);
        assert_eq!(p.len(), 4);
        assert!(p.allows(t, 99));
        // A second later the four are full again and make room.
        let later = t + Duration::from_secs(1);
        p.charge(later, 99);
        assert_eq!(p.len(), 1);
    }
}
