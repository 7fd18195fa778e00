//! Answers about the live state: positions, estimates, live and cumulative statistics.

use std::time::Duration;

use rustc_hash::FxHashMap;

use super::Engine;
use super::state::{RState, Request};
use crate::error::Error;
use crate::event::Presence;
use crate::event::WaitEstimate;
use crate::ids::{RequestId, TenantId};
use crate::language::LanguagePair;
use crate::stats::{CounterRow, Counters, LiveLanguage, LiveTenant, PresenceTime};

/// Where a waiting request stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Standing {
    /// Requests ahead of it in the same language pair.
    pub position: usize,
    /// Estimated wait, bucketed.
    pub estimate: WaitEstimate,
    /// Offers ringing for it now.
    pub ringing: usize,
    /// Time waited so far.
    pub waited: Duration,
}

impl Engine {
    /// Requests ahead of `r` in its pair's queue, not counting those whose offer rings.
    pub(super) fn position_of(&self, id: RequestId, r: &Request) -> usize {
        self.queues.get(&r.pair).map_or(0, |q| q.rank(&(r.key, id)))
    }

    /// `(position + 1)` handle times shared among the interpreters staffing the pair.
    pub(super) fn estimate(&self, pair: LanguagePair, position: usize) -> WaitEstimate {
        let staffed: usize = self.pools.get(&pair).map_or(0, |p| p.staffed.iter().map(|s| s.len()).sum());
        match self.aht_ms.get(&pair) {
            Some(aht) if staffed > 0 => {
                let ms = (position as f64 + 1.0) * aht / staffed as f64;
                WaitEstimate::bucket(Duration::from_millis(ms as u64))
            }
            _ => WaitEstimate::Unknown,
        }
    }

    /// Where a waiting request stands now.
    pub fn standing(&self, id: RequestId) -> Result<Standing, Error> {
        let r = self.requests.get(&id).ok_or(Error::UnknownRequest(id))?;
        if r.state != RState::Waiting {
            return Err(Error::NotWaiting(id));
        }
        let position = self.position_of(id, r);
        Ok(Standing {
            position,
            estimate: self.estimate(r.pair, position),
            ringing: r.offers_out.len(),
            waited: self.now.since(r.submitted_at),
        })
    }

    /// Every waiting request with its standing, one pass per queue; for pushing
    /// position updates to desks.
    pub fn standings(&self) -> Vec<(RequestId, Standing)> {
        let mut out = Vec::with_capacity(self.requests.len());
        let mut pairs: Vec<_> = self.queues.keys().copied().collect();
        pairs.sort_unstable();
        for pair in pairs {
            for (position, (_, id)) in self.queues[&pair].iter().enumerate() {
                if let Some(r) = self.requests.get(id) {
                    out.push((
                        *id,
                        Standing {
                            position,
                            estimate: self.estimate(pair, position),
                            ringing: r.offers_out.len(),
                            waited: self.now.since(r.submitted_at),
                        },
                    ));
                }
            }
        }
        out
    }

    /// Live state per language pair, sorted by pair.
    pub fn live_languages(&self) -> Vec<LiveLanguage> {
        let mut by_pair: FxHashMap<LanguagePair, LiveLanguage> = FxHashMap::default();
        for (pair, pool) in &self.pools {
            by_pair.insert(
                *pair,
                LiveLanguage {
                    pair: *pair,
                    waiting: 0,
                    longest_wait: Duration::ZERO,
                    idle: pool.idle.iter().map(|s| s.len()).sum(),
                    staffed: pool.staffed.iter().map(|s| s.len()).sum(),
                },
            );
        }
        for r in self.requests.values().filter(|r| r.state == RState::Waiting) {
            let e = by_pair.entry(r.pair).or_insert(LiveLanguage {
                pair: r.pair,
                waiting: 0,
                longest_wait: Duration::ZERO,
                idle: 0,
                staffed: 0,
            });
            e.waiting += 1;
            e.longest_wait = e.longest_wait.max(self.now.since(r.submitted_at));
        }
        let mut out: Vec<_> = by_pair.into_values().collect();
        out.sort_unstable_by_key(|l| l.pair);
        out
    }

    /// Live state per language pair as one tenant sees it: its own waiting requests, and
    /// the interpreters who could serve it (those serving it directly or in the shared
    /// pool); never another tenant's requests or interpreters who serve only others.
    /// Costs a pass over interpreters and requests: for a supervisor's view, not for
    /// decisions. Every pair of those interpreters has a row, staffed or not; sorted by pair.
    pub fn live_languages_of(&self, tenant: TenantId) -> Vec<LiveLanguage> {
        let mut by_pair: FxHashMap<LanguagePair, LiveLanguage> = FxHashMap::default();
        let blank = |pair| LiveLanguage { pair, waiting: 0, longest_wait: Duration::ZERO, idle: 0, staffed: 0 };
        for i in self.interps.values().filter(|i| i.serves_tenant(tenant)) {
            let (idle, staffed) = (i.idle(), i.staffed());
            for pair in &i.spec.pairs {
                let e = by_pair.entry(*pair).or_insert_with(|| blank(*pair));
                e.staffed += usize::from(staffed);
                e.idle += usize::from(idle);
            }
        }
        for r in self.requests.values().filter(|r| r.tenant == tenant && r.state == RState::Waiting) {
            let e = by_pair.entry(r.pair).or_insert_with(|| blank(r.pair));
            e.waiting += 1;
            e.longest_wait = e.longest_wait.max(self.now.since(r.submitted_at));
        }
        let mut out: Vec<_> = by_pair.into_values().collect();
        out.sort_unstable_by_key(|l| l.pair);
        out
    }

    /// Interpreters by presence: those who could serve `tenant` (as in
    /// [`Engine::live_languages_of`]), or all with `None`. Sorted by presence.
    pub fn presence_counts(&self, tenant: Option<TenantId>) -> Vec<(Presence, usize)> {
        let mut counts: FxHashMap<Presence, usize> = FxHashMap::default();
        for i in self.interps.values().filter(|i| tenant.is_none_or(|t| i.serves_tenant(t))) {
            *counts.entry(i.state.presence()).or_default() += 1;
        }
        let mut out: Vec<_> = counts.into_iter().collect();
        out.sort_unstable();
        out
    }

    /// Live state per tenant, sorted by tenant.
    pub fn live_tenants(&self) -> Vec<LiveTenant> {
        let mut by_tenant: FxHashMap<TenantId, LiveTenant> = self
            .tenants
            .keys()
            .map(|t| (*t, LiveTenant { tenant: *t, waiting: 0, in_call: 0, longest_wait: Duration::ZERO }))
            .collect();
        for r in self.requests.values() {
            let Some(e) = by_tenant.get_mut(&r.tenant) else { continue };
            match r.state {
                RState::Waiting => {
                    e.waiting += 1;
                    e.longest_wait = e.longest_wait.max(self.now.since(r.submitted_at));
                }
                RState::InCall { .. } => e.in_call += 1,
            }
        }
        let mut out: Vec<_> = by_tenant.into_values().collect();
        out.sort_unstable_by_key(|t| t.tenant);
        out
    }

    /// Cumulative counters per tenant and resident language, sorted.
    pub fn counter_rows(&self) -> Vec<CounterRow> {
        let mut out: Vec<_> = self
            .counters
            .iter()
            .map(|((tenant, language), c)| CounterRow { tenant: *tenant, language: *language, counters: *c })
            .collect();
        out.sort_unstable_by_key(|r| (r.tenant, r.language));
        out
    }

    /// All counters added up.
    pub fn totals(&self) -> Counters {
        let mut t = Counters::default();
        for c in self.counters.values() {
            t.add(c);
        }
        t
    }

    /// Interpreter time per tier and presence, up to the last state change of each.
    pub fn presence_time(&self) -> PresenceTime {
        self.presence_time
    }

    /// Number of requests waiting or in a call.
    pub fn live_requests(&self) -> usize {
        self.requests.len()
    }

    /// Timers held, stale ones included (a gauge of the engine's memory).
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }

    /// Number of registered interpreters.
    pub fn interpreter_count(&self) -> usize {
        self.interps.len()
    }
}
