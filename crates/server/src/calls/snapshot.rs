//! What supervisors and the metrics read of the live state: a tenant's snapshot, queue
//! depths and interpreters by presence.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::Core;
use super::convert::{id32, presence_out, rfc3339};

impl Core {
    /// The live state for a supervisor: the tenant's own waiting requests and service
    /// level, and the interpreters who could serve it (all tenants for an admin). A
    /// supervisor never sees another municipality's requests, nor interpreters who serve
    /// only other municipalities.
    pub fn snapshot(&self, tenant: Option<i64>) -> p::SupervisorEvent {
        let scope = tenant.map(|t| d::TenantId(id32(t)));
        let mine = |t: d::TenantId| scope.is_none_or(|x| x == t);
        let mut totals: HashMap<String, d::Counters> = HashMap::new();
        for r in self.engine.counter_rows().into_iter().filter(|r| mine(r.tenant)) {
            totals.entry(r.language.tag().to_string()).or_default().add(&r.counters);
        }
        let live = match scope {
            Some(t) => self.engine.live_languages_of(t),
            None => self.engine.live_languages(),
        };
        let languages = live
            .into_iter()
            .map(|l| {
                let tag = l.pair.other(d::LanguageId::JAPANESE).tag().to_string();
                p::LanguageLive {
                    waiting: l.waiting as u32,
                    longest_wait_secs: l.longest_wait.as_secs() as u32,
                    idle: l.idle as u32,
                    staffed: l.staffed as u32,
                    service_level_20s: totals.get(&tag).and_then(|c| c.service_level(1)),
                    language: tag,
                }
            })
            .collect();
        let mut counts: HashMap<p::PresenceState, u32> = HashMap::new();
        for (presence, n) in self.engine.presence_counts(scope) {
            *counts.entry(presence_out(presence)).or_default() += n as u32;
        }
        let mut interpreters: Vec<p::PresenceCount> =
            counts.into_iter().map(|(presence, count)| p::PresenceCount { presence, count }).collect();
        interpreters.sort_by_key(|c| c.presence as u8);
        let mut calls = p::CallsLive::default();
        for c in self.calls.values().filter(|c| c.answered() && scope.is_none_or(|t| d::TenantId(id32(c.tenant)) == t))
        {
            calls.calls += 1;
            for who in c.participants.iter().filter(|x| !x.away) {
                match who.party {
                    p::Party::Phone => calls.phone_legs += 1,
                    p::Party::Resident | p::Party::Guest => calls.by_link += 1,
                    p::Party::Desk | p::Party::Interpreter => {}
                }
            }
        }
        let mut waiting: Vec<p::WaitingRequest> = self
            .calls
            .values()
            .filter(|c| !c.answered() && c.booking.is_none() && scope.is_none_or(|t| d::TenantId(id32(c.tenant)) == t))
            .map(|c| p::WaitingRequest {
                request: c.id.0,
                desk: self.names.desk(c.desk),
                language: c.language.clone(),
                urgent: c.urgent,
                waited_secs: self.now.since(c.requested_at).as_secs() as u32,
                ringing: c.last_position.is_some_and(|x| x.2),
            })
            .collect();
        waiting.sort_by_key(|w| std::cmp::Reverse(w.waited_secs));
        p::SupervisorEvent::Snapshot { at: rfc3339(self.now), languages, interpreters, calls, waiting }
    }

    /// Requests waiting per language (BCP 47), for the queue-depth gauge.
    pub fn queue_depths(&self) -> Vec<(&'static str, usize)> {
        self.engine
            .live_languages()
            .into_iter()
            .map(|l| (l.pair.other(d::LanguageId::JAPANESE).tag(), l.waiting))
            .collect()
    }

    /// Interpreters per presence label (`offline`, `available`, `offered`, `in_call`,
    /// `wrap_up`, `not_ready`), every label present.
    pub fn presence_gauge(&self) -> Vec<(&'static str, usize)> {
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        for (presence, n) in self.engine.presence_counts(None) {
            *counts.entry(presence.as_str()).or_default() += n;
        }
        ["offline", "available", "offered", "in_call", "wrap_up", "not_ready"]
            .into_iter()
            .map(|s| (s, counts.get(s).copied().unwrap_or(0)))
            .collect()
    }
}
