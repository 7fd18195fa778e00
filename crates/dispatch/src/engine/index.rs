//! Keeping the pools (idle and staffed interpreters per pair and tier) and the queues
//! (waiting requests per pair, by key) in step with the records.

use super::Engine;
use super::state::Request;
use crate::ids::{InterpreterId, RequestId};
use crate::model::TierSet;

impl Engine {
    /// Bring the pools in line with an interpreter's record. An interpreter who becomes
    /// idle is queued for matching at the end of the input.
    pub(super) fn reindex(&mut self, id: InterpreterId) {
        let now = self.now;
        let Some(i) = self.interps.get_mut(&id) else { return };
        let (idle, staffed) = (i.idle(), i.staffed());
        let tier = i.spec.tier.index();
        if idle != i.indexed_idle {
            if idle {
                i.idle_since = now;
            }
            for pair in &i.spec.pairs {
                let pool = self.pools.entry(*pair).or_default();
                if idle {
                    pool.idle[tier].insert((i.idle_since, id));
                } else {
                    pool.idle[tier].remove(&(i.idle_since, id));
                }
            }
            i.indexed_idle = idle;
            if idle {
                self.became_idle.push(id);
            }
        }
        if staffed != i.indexed_staffed {
            for pair in &i.spec.pairs {
                let pool = self.pools.entry(*pair).or_default();
                if staffed {
                    pool.staffed[tier].insert(id);
                } else {
                    pool.staffed[tier].remove(&id);
                }
            }
            i.indexed_staffed = staffed;
        }
    }

    /// Take an interpreter out of the pools (before its profile changes).
    pub(super) fn unindex(&mut self, id: InterpreterId) {
        let Some(i) = self.interps.get_mut(&id) else { return };
        let tier = i.spec.tier.index();
        for pair in &i.spec.pairs {
            if let Some(pool) = self.pools.get_mut(pair) {
                pool.idle[tier].remove(&(i.idle_since, id));
                pool.staffed[tier].remove(&id);
            }
        }
        i.indexed_idle = false;
        i.indexed_staffed = false;
    }

    /// Bring the queue in line with a request's record: it is queued while it waits
    /// with room for another offer, listed under the tiers its reached steps admit (and,
    /// while it is held for a preferred interpreter, under that interpreter's tier).
    pub(super) fn sync_queue(&mut self, id: RequestId) {
        let Some(r) = self.requests.get(&id) else { return };
        let want = r.queueable();
        let tiers = if want { self.admitted_tiers(r) } else { TierSet::EMPTY };
        if want == r.queued && tiers == r.queued_tiers {
            return;
        }
        let Some(r) = self.requests.get_mut(&id) else { return };
        let queue = self.queues.entry(r.pair).or_default();
        let entry = (r.key, id);
        if want && !r.queued {
            queue.insert(entry);
        }
        queue.set_tiers(entry, tiers);
        if !want && r.queued {
            queue.remove(&entry);
        }
        r.queued = want;
        r.queued_tiers = tiers;
    }

    /// The tiers that could be offered `r` now.
    pub(super) fn admitted_tiers(&self, r: &Request) -> TierSet {
        if r.hold_until.is_some() {
            return r
                .preferred
                .and_then(|p| self.interps.get(&p))
                .map_or(TierSet::EMPTY, |i| TierSet::EMPTY.with(i.spec.tier));
        }
        let policy = self.policy(r.tenant);
        let last = policy.steps.len() - 1;
        policy.steps[..=usize::from(r.step).min(last)].iter().fold(TierSet::EMPTY, |acc, s| acc.union(s.tiers))
    }
}
