//! Statistics: cumulative counters per tenant and language, interpreter time per state,
//! and the live view computed on demand.

use std::time::Duration;

use crate::event::Presence;
use crate::ids::TenantId;
use crate::language::{LanguageId, LanguagePair};
use crate::model::Tier;

/// Service-level thresholds: answered within 10, 20, 30, 60 and 120 seconds.
pub const SERVICE_THRESHOLDS_SECS: [u64; 5] = [10, 20, 30, 60, 120];

/// Cumulative counters for one tenant and one resident language.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Counters {
    /// Requests received.
    pub requests: u64,
    /// Requests answered by an interpreter.
    pub answered: u64,
    /// Answered within each of [`SERVICE_THRESHOLDS_SECS`].
    pub answered_within: [u64; 5],
    /// Cancelled by the desk while waiting.
    pub abandoned: u64,
    /// Waited the maximum.
    pub expired: u64,
    /// Ended with nobody eligible online.
    pub unserved: u64,
    /// Offers made.
    pub offers: u64,
    /// Offers declined.
    pub declined: u64,
    /// Offers that rang out.
    pub missed: u64,
    /// Offers withdrawn by the engine.
    pub rescinded: u64,
    /// Sum of waits of answered requests, ms.
    pub answered_wait_ms: u64,
    /// Sum of waits of abandoned requests, ms.
    pub abandoned_wait_ms: u64,
    /// Calls completed (wrap-up over).
    pub completed: u64,
    /// Sum of talk times of completed calls, ms.
    pub talk_ms: u64,
    /// Sum of handle times (talk + wrap-up) of completed calls, ms.
    pub handle_ms: u64,
}

impl Counters {
    /// Fraction of answered-or-abandoned requests answered within threshold `i`
    /// (abandons count against the service level; unserved requests do not).
    pub fn service_level(&self, i: usize) -> Option<f64> {
        let base = self.answered + self.abandoned + self.expired;
        (base > 0).then(|| self.answered_within[i] as f64 / base as f64)
    }

    /// Average speed of answer.
    pub fn asa(&self) -> Option<Duration> {
        (self.answered > 0).then(|| Duration::from_millis(self.answered_wait_ms / self.answered))
    }

    /// Fraction of requests abandoned.
    pub fn abandonment(&self) -> Option<f64> {
        let ended = self.answered + self.abandoned + self.expired + self.unserved;
        (ended > 0).then(|| self.abandoned as f64 / ended as f64)
    }

    /// Average handle time.
    pub fn aht(&self) -> Option<Duration> {
        (self.completed > 0).then(|| Duration::from_millis(self.handle_ms / self.completed))
    }

    /// Add another set of counters to this one.
    pub fn add(&mut self, o: &Counters) {
        self.requests += o.requests;
        self.answered += o.answered;
        for (a, b) in self.answered_within.iter_mut().zip(o.answered_within) {
            *a += b;
        }
        self.abandoned += o.abandoned;
        self.expired += o.expired;
        self.unserved += o.unserved;
        self.offers += o.offers;
        self.declined += o.declined;
        self.missed += o.missed;
        self.rescinded += o.rescinded;
        self.answered_wait_ms += o.answered_wait_ms;
        self.abandoned_wait_ms += o.abandoned_wait_ms;
        self.completed += o.completed;
        self.talk_ms += o.talk_ms;
        self.handle_ms += o.handle_ms;
    }

    pub(crate) fn record_answer(&mut self, waited: Duration) {
        self.answered += 1;
        self.answered_wait_ms += waited.as_millis() as u64;
        for (count, limit) in self.answered_within.iter_mut().zip(SERVICE_THRESHOLDS_SECS) {
            if waited <= Duration::from_secs(limit) {
                *count += 1;
            }
        }
    }
}

/// Cumulative interpreter time in each presence, per tier, in ms: the raw material for
/// occupancy (offered + in call + wrap-up over all signed-in time).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PresenceTime {
    /// `ms[tier][presence index]`.
    pub ms: [[u64; Presence::COUNT]; 3],
}

impl PresenceTime {
    /// Busy over signed-in time for `tier`, or over all tiers with `None`.
    pub fn occupancy(&self, tier: Option<Tier>) -> Option<f64> {
        let rows: Vec<&[u64; Presence::COUNT]> = match tier {
            Some(t) => vec![&self.ms[t.index()]],
            None => self.ms.iter().collect(),
        };
        let busy: u64 = rows.iter().map(|r| r[2] + r[3] + r[4]).sum();
        let signed_in: u64 = rows.iter().map(|r| r[1..].iter().sum::<u64>()).sum();
        (signed_in > 0).then(|| busy as f64 / signed_in as f64)
    }
}

/// The live state of one language pair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LiveLanguage {
    /// The pair.
    pub pair: LanguagePair,
    /// Requests waiting (ringing included).
    pub waiting: usize,
    /// The longest current wait.
    pub longest_wait: Duration,
    /// Interpreters of the pair free for an offer now.
    pub idle: usize,
    /// Interpreters of the pair signed in, on roster and not reserved (busy or not).
    pub staffed: usize,
}

/// The live state of one tenant.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LiveTenant {
    /// The tenant.
    pub tenant: TenantId,
    /// Requests waiting (ringing included).
    pub waiting: usize,
    /// Requests in a call.
    pub in_call: usize,
    /// The longest current wait.
    pub longest_wait: Duration,
}

/// Counters of one tenant and resident language.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CounterRow {
    /// The tenant.
    pub tenant: TenantId,
    /// The resident's language.
    pub language: LanguageId,
    /// Its counters.
    pub counters: Counters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_figures() {
        let mut c = Counters::default();
        assert_eq!(c.service_level(0), None);
        assert_eq!(c.asa(), None);
        c.record_answer(Duration::from_secs(5));
        c.record_answer(Duration::from_secs(25));
        c.abandoned = 1;
        c.abandoned_wait_ms = 40_000;
        assert_eq!(c.answered_within, [1, 1, 2, 2, 2]);
        assert_eq!(c.service_level(0), Some(1.0 / 3.0));
        assert_eq!(c.asa(), Some(Duration::from_secs(15)));
        assert_eq!(c.abandonment(), Some(1.0 / 3.0));
        let mut total = Counters::default();
        total.add(&c);
        total.add(&c);
        assert_eq!(total.answered, 4);
        assert_eq!(total.answered_within[2], 4);
        let mut t = PresenceTime::default();
        t.ms[0][1] = 600;
        t.ms[0][3] = 400;
        t.ms[0][0] = 10_000;
        assert_eq!(t.occupancy(Some(Tier::Staff)), Some(0.4));
        assert_eq!(t.occupancy(Some(Tier::Volunteer)), None);
        assert_eq!(t.occupancy(None), Some(0.4));
    }
}
