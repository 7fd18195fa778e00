//! A full consistency check of the engine's records and indices, for tests and the
//! simulation. It is O(state) (and O(waiting × idle) for work conservation), so it is
//! not for production hot paths.

use super::Engine;
use super::routing::admits;
use super::state::{IState, RState};

impl Engine {
    /// Check every invariant the engine relies on and promises; the first violation is
    /// returned as a message.
    ///
    /// - each interpreter holds at most one offer or call, and the offer or request
    ///   points back at them;
    /// - each open offer belongs to a waiting request that lists it;
    /// - the pools index exactly the idle and the staffed interpreters;
    /// - the queues hold exactly the waiting requests with room for another offer;
    /// - work conservation: no waiting request could be offered to an idle interpreter;
    /// - a booking's request is never queued and never waits while its interpreter is
    ///   available outside a pause.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (id, i) in &self.interps {
            match i.state {
                IState::Offered(o) => match self.offers.get(&o) {
                    Some(offer) if offer.interpreter == *id => {}
                    _ => return Err(format!("{id} is offered {o}, which is not an open offer to them")),
                },
                IState::InCall(r) => match self.requests.get(&r).map(|r| r.state) {
                    Some(RState::InCall { interpreter, .. }) if interpreter == *id => {}
                    _ => return Err(format!("{id} is in call {r}, which is not assigned to them")),
                },
                _ => {}
            }
            if i.indexed_idle != i.idle() || i.indexed_staffed != i.staffed() {
                return Err(format!("{id}: index flags do not match the record"));
            }
            for pair in &i.spec.pairs {
                let pool = self.pools.get(pair).ok_or_else(|| format!("{id}: no pool for {pair:?}"))?;
                let t = i.spec.tier.index();
                if pool.idle[t].contains(&(i.idle_since, *id)) != i.idle() {
                    return Err(format!("{id}: idle index of {pair:?} is wrong"));
                }
                if pool.staffed[t].contains(id) != i.staffed() {
                    return Err(format!("{id}: staffed index of {pair:?} is wrong"));
                }
                if !pool.all.contains(id) {
                    return Err(format!("{id}: missing from the directory of {pair:?}"));
                }
            }
        }
        for (pair, pool) in &self.pools {
            let indexed = pool.idle.iter().map(|s| s.len()).sum::<usize>();
            let actual = self.interps.values().filter(|i| i.idle() && i.spec.pairs.contains(pair)).count();
            if indexed != actual {
                return Err(format!("pool {pair:?} indexes {indexed} idle, {actual} are"));
            }
        }
        for (o, offer) in &self.offers {
            let r = self.requests.get(&offer.request).ok_or_else(|| format!("{o} for a gone request"))?;
            if r.state != RState::Waiting || !r.offers_out.contains(o) {
                return Err(format!("{o} is open but its request does not hold it"));
            }
            if self.interps.get(&offer.interpreter).map(|i| i.state) != Some(IState::Offered(*o)) {
                return Err(format!("{o} is open but its interpreter is not ringing for it"));
            }
        }
        let mut queued = 0;
        for (id, r) in &self.requests {
            if r.offers_out.len() > usize::from(r.fan_out) {
                return Err(format!("{id} has more offers than its fan-out"));
            }
            let in_queue = self.queues.get(&r.pair).is_some_and(|q| q.contains(&(r.key, *id)));
            if in_queue != r.queueable() || r.queued != in_queue {
                return Err(format!("{id}: queue membership is wrong"));
            }
            queued += usize::from(in_queue);
            let want_tiers = if r.queueable() { self.admitted_tiers(r) } else { crate::model::TierSet::EMPTY };
            let listed: crate::model::TierSet = crate::model::Tier::ALL
                .into_iter()
                .filter(|t| self.queues.get(&r.pair).is_some_and(|q| q.in_tier(*t, &(r.key, *id))))
                .collect();
            if listed != want_tiers || r.queued_tiers != want_tiers {
                return Err(format!("{id}: listed under tiers {listed:?}, should be {want_tiers:?}"));
            }
            if let Some(b) = r.booking
                && self.booked_interpreter_free(b, r).is_some()
            {
                return Err(format!("{id} waits while its booked interpreter is available"));
            }
            if r.queueable() {
                let policy = self.policy(r.tenant);
                if let Some(i) = self.interps.values().find(|i| i.idle() && admits(policy, i, r)) {
                    return Err(format!("{id} waits while {} is idle and eligible", i.spec.id));
                }
            }
        }
        for (pair, q) in &self.queues {
            if let Some((i, e)) = q.iter().enumerate().find(|(i, e)| q.rank(e) != *i) {
                return Err(format!("queue {pair:?}: rank of {:?} is {}, not {i}", e.1, q.rank(e)));
            }
        }
        let total: usize = self.queues.values().map(|q| q.len()).sum();
        if total != queued {
            return Err(format!("queues hold {total} entries for {queued} queued requests"));
        }
        Ok(())
    }
}
