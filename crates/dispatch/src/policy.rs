//! Routing policy: data, per tenant, with defaults that fit a one-stop centre.

use std::time::Duration;

use crate::language::LanguageId;
use crate::model::{Tier, TierSet};

/// Whose interpreters a step may offer to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Scope {
    /// Interpreters who serve the requesting tenant.
    Own,
    /// Those, plus interpreters of any tenant who joined the shared pool.
    Shared,
}

/// One widening of the eligible pool. Steps are cumulative: in step `k` everyone who
/// matched steps `0..=k` is eligible, and the request keeps its place in the queue.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Step {
    /// How long the request stays in this step before it widens to the next one.
    /// Ignored for the last step, which lasts until the request ends.
    pub duration: Duration,
    /// Tiers this step adds.
    pub tiers: TierSet,
    /// Whose interpreters this step adds.
    pub scope: Scope,
    /// Only interpreters with the request's speciality. A request that names no
    /// speciality skips such a step at once.
    pub require_speciality: bool,
}

/// How to choose among several eligible, idle interpreters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InterpreterOrder {
    /// The best tier first (staff, contractor, volunteer), then the longest idle.
    TierThenLongestIdle,
    /// The longest idle, whatever the tier.
    LongestIdle,
}

/// Ring several interpreters at once for the listed (rare) languages: the first
/// to accept wins and the other offers are rescinded.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParallelRing {
    /// Resident languages this applies to.
    pub languages: Vec<LanguageId>,
    /// Offers outstanding at once, 2 to 8.
    pub fan_out: u8,
}

/// A tenant's routing policy.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RoutingPolicy {
    /// Ordered steps that widen the pool over time; at least one.
    pub steps: Vec<Step>,
    /// How long an offer rings before it counts as missed.
    pub ring_timeout: Duration,
    /// The longest a request waits before it expires.
    pub max_wait: Duration,
    /// Wrap-up after a call; `None` waits until the interpreter says ready.
    pub wrap_up: Option<Duration>,
    /// Missed offers in a row that put an interpreter into not-ready.
    pub missed_offers_limit: u8,
    /// Head start of an urgent request. Requests are served in order of
    /// `submitted_at - credit`, so a normal request that has waited longer than the
    /// credit goes before any urgent one: priority without starvation.
    pub urgent_credit: Duration,
    /// How long a request naming a preferred interpreter waits for that person alone.
    pub preferred_hold: Duration,
    /// An interpreter with a booking is not offered on-demand calls from this long
    /// before the slot (the expected length of a call).
    pub booking_guard: Duration,
    /// Parallel ringing for rare languages.
    pub parallel: Option<ParallelRing>,
    /// Choice among eligible interpreters.
    pub order: InterpreterOrder,
}

impl Default for RoutingPolicy {
    /// The tenant's staff with the speciality for 30 s (skipped when the request names
    /// none) → any of its staff for 20 s → its contractors for 30 s → its volunteers for
    /// 30 s → the shared pool.
    fn default() -> Self {
        let own = |tier: Tier, secs: u64, require_speciality: bool| Step {
            duration: Duration::from_secs(secs),
            tiers: TierSet::EMPTY.with(tier),
            scope: Scope::Own,
            require_speciality,
        };
        RoutingPolicy {
            steps: vec![
                own(Tier::Staff, 30, true),
                own(Tier::Staff, 20, false),
                own(Tier::Contractor, 30, false),
                own(Tier::Volunteer, 30, false),
                Step {
                    duration: Duration::ZERO,
                    tiers: TierSet::all(),
                    scope: Scope::Shared,
                    require_speciality: false,
                },
            ],
            ring_timeout: Duration::from_secs(20),
            max_wait: Duration::from_secs(15 * 60),
            wrap_up: Some(Duration::from_secs(60)),
            missed_offers_limit: 2,
            urgent_credit: Duration::from_secs(5 * 60),
            preferred_hold: Duration::from_secs(60),
            booking_guard: Duration::from_secs(20 * 60),
            parallel: None,
            order: InterpreterOrder::TierThenLongestIdle,
        }
    }
}

/// A policy that was refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routing policy: {field}: {problem}")]
pub struct PolicyError {
    /// The field at fault, e.g. `steps[2].tiers`.
    pub field: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

/// The most steps a policy may have.
pub const MAX_STEPS: usize = 16;

impl RoutingPolicy {
    /// Check the policy once, when it is set.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |field: String, problem| Err(PolicyError { field, problem });
        if self.steps.is_empty() {
            return err("steps".into(), "at least one step is needed");
        }
        if self.steps.len() > MAX_STEPS {
            return err("steps".into(), "at most 16 steps");
        }
        let last = self.steps.len() - 1;
        for (i, s) in self.steps.iter().enumerate() {
            if s.tiers.is_empty() {
                return err(format!("steps[{i}].tiers"), "a step must name at least one tier");
            }
            if i < last && s.duration.is_zero() {
                return err(format!("steps[{i}].duration"), "only the last step may have no duration");
            }
            if s.duration > Duration::from_secs(24 * 3600) {
                return err(format!("steps[{i}].duration"), "must be at most 24 h");
            }
        }
        if self.ring_timeout < Duration::from_secs(1) {
            return err("ring_timeout".into(), "must be at least 1 s");
        }
        if self.ring_timeout > Duration::from_secs(600) {
            return err("ring_timeout".into(), "must be at most 10 min");
        }
        if self.wrap_up.is_some_and(|w| w > Duration::from_secs(3600)) {
            return err("wrap_up".into(), "must be at most 1 h");
        }
        if self.preferred_hold > Duration::from_secs(3600) {
            return err("preferred_hold".into(), "must be at most 1 h");
        }
        if self.booking_guard > Duration::from_secs(24 * 3600) {
            return err("booking_guard".into(), "must be at most 24 h");
        }
        if self.max_wait < Duration::from_secs(1) {
            return err("max_wait".into(), "must be at least 1 s");
        }
        if self.max_wait > Duration::from_secs(24 * 3600) {
            return err("max_wait".into(), "must be at most 24 h");
        }
        if self.urgent_credit > Duration::from_secs(4 * 3600) {
            return err("urgent_credit".into(), "must be at most 4 h");
        }
        if self.missed_offers_limit == 0 {
            return err("missed_offers_limit".into(), "must be at least 1");
        }
        if let Some(p) = &self.parallel
            && !(2..=8).contains(&p.fan_out)
        {
            return err("parallel.fan_out".into(), "must be 2 to 8");
        }
        Ok(())
    }

    /// Offers outstanding at once for a request in `language`.
    pub(crate) fn fan_out(&self, language: LanguageId) -> usize {
        match &self.parallel {
            Some(p) if p.languages.contains(&language) => usize::from(p.fan_out),
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_errors_name_the_field() {
        assert_eq!(RoutingPolicy::default().validate(), Ok(()));
        let mut p = RoutingPolicy::default();
        p.steps[2].tiers = TierSet::EMPTY;
        assert_eq!(p.validate().unwrap_err().field, "steps[2].tiers");
        let mut p = RoutingPolicy::default();
        p.steps[0].duration = Duration::ZERO;
        assert_eq!(p.validate().unwrap_err().field, "steps[0].duration");
        let mut p = RoutingPolicy::default();
        p.steps.clear();
        assert_eq!(p.validate().unwrap_err().to_string(), "routing policy: steps: at least one step is needed");
        let p = RoutingPolicy { parallel: Some(ParallelRing { languages: vec![], fan_out: 1 }), ..Default::default() };
        assert_eq!(p.validate().unwrap_err().field, "parallel.fan_out");
        let p = RoutingPolicy { ring_timeout: Duration::from_millis(10), ..Default::default() };
        assert_eq!(p.validate().unwrap_err().field, "ring_timeout");
        let p = RoutingPolicy { max_wait: Duration::from_secs(25 * 3600), ..Default::default() };
        assert_eq!(p.validate().unwrap_err().field, "max_wait");
        let p = RoutingPolicy { urgent_credit: Duration::from_secs(5 * 3600), ..Default::default() };
        assert_eq!(p.validate().unwrap_err().field, "urgent_credit");
    }
}
