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
    pub problem: PolicyProblem,
}

/// What is wrong with a policy's field: a limit it crosses, so that a caller can say it
/// in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyProblem {
    /// A list (steps, a step's tiers) is empty.
    Empty,
    /// A list has more than this many entries.
    TooMany(usize),
    /// Only the last step may have no duration.
    OpenStep,
    /// A duration is shorter than this many seconds.
    AtLeastSecs(u64),
    /// A duration is longer than this many seconds.
    AtMostSecs(u64),
    /// A number is outside this range.
    Between(u64, u64),
}

impl std::fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            PolicyProblem::Empty => f.write_str("at least one is needed"),
            PolicyProblem::TooMany(n) => write!(f, "at most {n}"),
            PolicyProblem::OpenStep => f.write_str("only the last step may have no duration"),
            PolicyProblem::AtLeastSecs(s) => write!(f, "must be at least {s} s"),
            PolicyProblem::AtMostSecs(s) => write!(f, "must be at most {s} s"),
            PolicyProblem::Between(a, b) => write!(f, "must be {a} to {b}"),
        }
    }
}

/// The most steps a policy may have.
pub const MAX_STEPS: usize = 16;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

impl RoutingPolicy {
    /// Check the policy once, when it is set.
    pub fn validate(&self) -> Result<(), PolicyError> {
        use PolicyProblem as P;
        let err = |field: String, problem| Err(PolicyError { field, problem });
        let secs = |d: Duration| d.as_secs();
        if self.steps.is_empty() {
            return err("steps".into(), P::Empty);
        }
        if self.steps.len() > MAX_STEPS {
            return err("steps".into(), P::TooMany(MAX_STEPS));
        }
        let last = self.steps.len() - 1;
        for (i, s) in self.steps.iter().enumerate() {
            if s.tiers.is_empty() {
                return err(format!("steps[{i}].tiers"), P::Empty);
            }
            if i < last && s.duration.is_zero() {
                return err(format!("steps[{i}].duration"), P::OpenStep);
            }
            if s.duration > DAY {
                return err(format!("steps[{i}].duration"), P::AtMostSecs(secs(DAY)));
            }
        }
        if self.ring_timeout < SECOND {
            return err("ring_timeout".into(), P::AtLeastSecs(1));
        }
        if self.ring_timeout > Duration::from_secs(600) {
            return err("ring_timeout".into(), P::AtMostSecs(600));
        }
        if self.wrap_up.is_some_and(|w| w > HOUR) {
            return err("wrap_up".into(), P::AtMostSecs(secs(HOUR)));
        }
        if self.preferred_hold > HOUR {
            return err("preferred_hold".into(), P::AtMostSecs(secs(HOUR)));
        }
        if self.booking_guard > DAY {
            return err("booking_guard".into(), P::AtMostSecs(secs(DAY)));
        }
        if self.max_wait < SECOND {
            return err("max_wait".into(), P::AtLeastSecs(1));
        }
        if self.max_wait > DAY {
            return err("max_wait".into(), P::AtMostSecs(secs(DAY)));
        }
        if self.urgent_credit > 4 * HOUR {
            return err("urgent_credit".into(), P::AtMostSecs(secs(4 * HOUR)));
        }
        if self.missed_offers_limit == 0 {
            return err("missed_offers_limit".into(), P::Between(1, u64::from(u8::MAX)));
        }
        if let Some(p) = &self.parallel
            && !(2..=8).contains(&p.fan_out)
        {
            return err("parallel.fan_out".into(), P::Between(2, 8));
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
        assert_eq!(p.validate().unwrap_err().to_string(), "routing policy: steps: at least one is needed");
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
