//! A language pair's queue of waiting requests, ordered by key, with the rank of any key
//! in O(log n): a Fenwick tree counts entries per 8.192 s bucket of key over a ring of
//! 32,768 buckets (74 hours), and only the mark's own bucket is scanned.
//!
//! Correct while every live key lies within half the ring (37 hours) of any key asked
//! about; policies cap the maximum wait at 24 h and the urgent credit at 4 h, so queued
//! keys span at most 28 h.

use std::collections::BTreeSet;

use crate::ids::RequestId;
use crate::model::{Tier, TierSet};

const SHIFT: u32 = 13;
const RING: usize = 1 << 15;
const HALF: usize = RING / 2;

pub(crate) type Entry = (i64, RequestId);

#[derive(Default)]
pub(crate) struct Queue {
    set: BTreeSet<Entry>,
    /// The same entries by the tiers they admit, so that a freed interpreter looks only
    /// at requests that could go to its tier.
    by_tier: [BTreeSet<Entry>; 3],
    /// Fenwick tree over bucket counts; allocated on first insert.
    tree: Vec<u32>,
}

impl std::fmt::Debug for Queue {
    /// The entries only: the tree is derived from them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("set", &self.set).field("by_tier", &self.by_tier).finish()
    }
}

/// In a snapshot, a queue is its entries; the tree is rebuilt from them.
#[cfg(feature = "serde")]
impl serde::Serialize for Queue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.set, &self.by_tier).serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Queue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Queue, D::Error> {
        let (set, by_tier) = <(BTreeSet<Entry>, [BTreeSet<Entry>; 3])>::deserialize(deserializer)?;
        let mut queue = Queue::default();
        for e in set {
            queue.insert(e);
        }
        queue.by_tier = by_tier;
        Ok(queue)
    }
}

fn bucket(key: i64) -> usize {
    (key >> SHIFT).rem_euclid(RING as i64) as usize
}

impl Queue {
    pub(crate) fn insert(&mut self, e: Entry) {
        if self.set.insert(e) {
            if self.tree.is_empty() {
                self.tree = vec![0; RING + 1];
            }
            self.add(bucket(e.0), 1);
        }
    }

    pub(crate) fn remove(&mut self, e: &Entry) {
        if self.set.remove(e) {
            self.add(bucket(e.0), -1);
        }
    }

    /// Set the tiers an entry is listed under (it must be in the queue, or `tiers` empty).
    pub(crate) fn set_tiers(&mut self, e: Entry, tiers: TierSet) {
        for t in Tier::ALL {
            if tiers.contains(t) {
                self.by_tier[t.index()].insert(e);
            } else {
                self.by_tier[t.index()].remove(&e);
            }
        }
    }

    /// Entries listed under `tier`, in order.
    pub(crate) fn iter_tier(&self, tier: Tier) -> impl Iterator<Item = &Entry> {
        self.by_tier[tier.index()].iter()
    }

    /// Whether `e` is listed under `tier`.
    pub(crate) fn in_tier(&self, tier: Tier, e: &Entry) -> bool {
        self.by_tier[tier.index()].contains(e)
    }

    pub(crate) fn contains(&self, e: &Entry) -> bool {
        self.set.contains(e)
    }

    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.set.iter()
    }

    /// Entries ordered before `mark` (which need not be in the queue).
    pub(crate) fn rank(&self, mark: &Entry) -> usize {
        if self.set.is_empty() {
            return 0;
        }
        let b = bucket(mark.0);
        // Whole buckets in the half ring before the mark's bucket...
        let lo = (b + RING - HALF) % RING;
        let before = if b == 0 {
            self.range(lo, RING - 1)
        } else if lo < b {
            self.range(lo, b - 1)
        } else {
            self.range(lo, RING - 1) + self.range(0, b - 1)
        };
        // ...and the mark's own bucket, entry by entry.
        let start = (mark.0 >> SHIFT) << SHIFT;
        before as usize + self.set.range((start, RequestId(0))..*mark).count()
    }

    fn add(&mut self, bucket: usize, delta: i32) {
        let mut i = bucket + 1;
        while i <= RING {
            self.tree[i] = self.tree[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of buckets `0..=b`.
    fn prefix(&self, b: usize) -> u32 {
        let mut i = b + 1;
        let mut sum = 0u32;
        while i > 0 {
            sum = sum.wrapping_add(self.tree[i]);
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// Sum of buckets `lo..=hi` (lo ≤ hi).
    fn range(&self, lo: usize, hi: usize) -> u32 {
        self.prefix(hi).wrapping_sub(if lo == 0 { 0 } else { self.prefix(lo - 1) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(q: &Queue, mark: &Entry) -> usize {
        q.set.range(..*mark).count()
    }

    #[test]
    fn rank_matches_a_plain_count_across_buckets_and_the_ring_wrap() {
        let mut q = Queue::default();
        assert_eq!(q.rank(&(5, RequestId(1))), 0);
        // Keys straddling a ring boundary: bucket index wraps from RING-1 to 0.
        let wrap = (RING as i64) << SHIFT;
        let base = 3 * wrap - 20 * 3600 * 1000;
        let mut id = 0;
        let mut keys = Vec::new();
        for step in 0..400i64 {
            let key = base + step * 97 * 1000 + (step % 7) * 13;
            for _ in 0..(1 + step % 3) {
                id += 1;
                keys.push((key, RequestId(id)));
                q.insert((key, RequestId(id)));
            }
        }
        for k in keys.iter().step_by(7) {
            assert_eq!(q.rank(k), naive(&q, k));
            let probe = (k.0 + 5, RequestId(0));
            assert_eq!(q.rank(&probe), naive(&q, &probe));
        }
        for k in keys.iter().step_by(3) {
            q.remove(k);
        }
        q.remove(&(0, RequestId(999_999)));
        for k in keys.iter().skip(1).step_by(5) {
            assert_eq!(q.rank(k), naive(&q, k), "after removals");
        }
        assert_eq!(q.len(), q.iter().count());
    }

    #[test]
    fn negative_keys_are_fine() {
        let mut q = Queue::default();
        for i in -50..50i64 {
            q.insert((i * 1000, RequestId(i as u64)));
        }
        assert_eq!(q.rank(&(0, RequestId(0))), 50);
    }
}
