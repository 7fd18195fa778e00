//! A tenant's routing policy as stored and as the admin API takes it: JSON with every
//! field optional (defaults from `RoutingPolicy::default()`), unknown fields refused,
//! validated into the engine's policy with errors that name the field.

use std::time::Duration;

use kakehashi_dispatch as d;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::DirectoryError;
use crate::problem::{Problem, ProblemCode as C, Unit};

/// One step of the pool's widening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDoc {
    /// Seconds in this step before widening (ignored for the last step; others at least
    /// 1), at most a day.
    #[schemars(range(max = 86_400))]
    pub seconds: u64,
    /// Tiers this step adds: `staff`, `contractor`, `volunteer`.
    #[schemars(schema_with = "super::schema::tiers")]
    pub tiers: Vec<String>,
    /// `own` (the tenant's interpreters) or `shared` (also the shared pool).
    #[schemars(extend("enum" = ["own", "shared"]))]
    pub scope: String,
    /// Only interpreters with the request's speciality.
    #[serde(default)]
    pub require_speciality: bool,
}

/// Parallel ringing for rare languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParallelDoc {
    /// Resident languages (BCP 47).
    #[schemars(schema_with = "super::schema::languages")]
    pub languages: Vec<String>,
    /// Offers at once, 2 to 8.
    #[schemars(range(min = 2, max = 8))]
    pub fan_out: u8,
}

/// A routing policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyDoc {
    /// Ordered steps; 1 to 16.
    #[schemars(length(min = 1, max = 16))]
    pub steps: Vec<StepDoc>,
    /// Seconds an offer rings, 1 to 600.
    #[schemars(range(min = 1, max = 600))]
    pub ring_timeout_secs: u64,
    /// Longest wait, seconds, 1 to 86400.
    #[schemars(range(min = 1, max = 86_400))]
    pub max_wait_secs: u64,
    /// Wrap-up seconds after a call (at most 3600); `null` waits until the interpreter is
    /// ready.
    #[schemars(range(max = 3_600))]
    pub wrap_up_secs: Option<u64>,
    /// Missed offers in a row before not-ready, at least 1.
    #[schemars(range(min = 1))]
    pub missed_offers_limit: u8,
    /// Head start of urgent requests, seconds (at most 14400).
    #[schemars(range(max = 14_400))]
    pub urgent_credit_secs: u64,
    /// Seconds a returning case waits for its preferred interpreter (at most 3600).
    #[schemars(range(max = 3_600))]
    pub preferred_hold_secs: u64,
    /// Seconds before a booking when on-demand calls stop (at most 86400).
    #[schemars(range(max = 86_400))]
    pub booking_guard_secs: u64,
    /// Parallel ringing.
    pub parallel: Option<ParallelDoc>,
    /// `tier_then_longest_idle` or `longest_idle`.
    #[schemars(extend("enum" = ["tier_then_longest_idle", "longest_idle"]))]
    pub order: String,
}

impl Default for PolicyDoc {
    fn default() -> Self {
        PolicyDoc::from_policy(&d::RoutingPolicy::default())
    }
}

fn tier_name(t: d::Tier) -> String {
    t.as_str().to_string()
}

impl PolicyDoc {
    /// The stored form of an engine policy.
    pub fn from_policy(p: &d::RoutingPolicy) -> PolicyDoc {
        PolicyDoc {
            steps: p
                .steps
                .iter()
                .map(|s| StepDoc {
                    seconds: s.duration.as_secs(),
                    tiers: s.tiers.iter().map(tier_name).collect(),
                    scope: match s.scope {
                        d::Scope::Own => "own".into(),
                        d::Scope::Shared => "shared".into(),
                    },
                    require_speciality: s.require_speciality,
                })
                .collect(),
            ring_timeout_secs: p.ring_timeout.as_secs(),
            max_wait_secs: p.max_wait.as_secs(),
            wrap_up_secs: p.wrap_up.map(|w| w.as_secs()),
            missed_offers_limit: p.missed_offers_limit,
            urgent_credit_secs: p.urgent_credit.as_secs(),
            preferred_hold_secs: p.preferred_hold.as_secs(),
            booking_guard_secs: p.booking_guard.as_secs(),
            parallel: p.parallel.as_ref().map(|x| ParallelDoc {
                languages: x.languages.iter().map(|l| l.tag().to_string()).collect(),
                fan_out: x.fan_out,
            }),
            order: match p.order {
                d::InterpreterOrder::TierThenLongestIdle => "tier_then_longest_idle".into(),
                d::InterpreterOrder::LongestIdle => "longest_idle".into(),
            },
        }
    }

    /// The engine's policy, validated.
    pub fn to_policy(&self) -> Result<d::RoutingPolicy, DirectoryError> {
        let bad = |field: String, problem: Problem| problem.at(field);
        let mut steps = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let tiers = s
                .tiers
                .iter()
                .map(|t| super::tier(t).map_err(|e| bad(format!("policy.steps[{i}].tiers"), e.problem)))
                .collect::<Result<d::TierSet, _>>()?;
            let scope = match s.scope.as_str() {
                "own" => d::Scope::Own,
                "shared" => d::Scope::Shared,
                _ => return Err(bad(format!("policy.steps[{i}].scope"), Problem::one_of(&["own", "shared"]))),
            };
            steps.push(d::Step {
                duration: Duration::from_secs(s.seconds),
                tiers,
                scope,
                require_speciality: s.require_speciality,
            });
        }
        let parallel = match &self.parallel {
            None => None,
            Some(p) => Some(d::ParallelRing {
                languages: p
                    .languages
                    .iter()
                    .enumerate()
                    .map(|(i, t)| {
                        d::LanguageId::parse(t)
                            .map_err(|_| bad(format!("policy.parallel.languages[{i}]"), C::NotLanguage.into()))
                    })
                    .collect::<Result<_, _>>()?,
                fan_out: p.fan_out,
            }),
        };
        let order = match self.order.as_str() {
            "tier_then_longest_idle" => d::InterpreterOrder::TierThenLongestIdle,
            "longest_idle" => d::InterpreterOrder::LongestIdle,
            _ => {
                return Err(bad("policy.order".into(), Problem::one_of(&["tier_then_longest_idle", "longest_idle"])));
            }
        };
        let policy = d::RoutingPolicy {
            steps,
            ring_timeout: Duration::from_secs(self.ring_timeout_secs),
            max_wait: Duration::from_secs(self.max_wait_secs),
            wrap_up: self.wrap_up_secs.map(Duration::from_secs),
            missed_offers_limit: self.missed_offers_limit,
            urgent_credit: Duration::from_secs(self.urgent_credit_secs),
            preferred_hold: Duration::from_secs(self.preferred_hold_secs),
            booking_guard: Duration::from_secs(self.booking_guard_secs),
            parallel,
            order,
        };
        policy.validate().map_err(|e| bad(format!("policy.{}", e.field), limit(e.problem)))?;
        Ok(policy)
    }
}

/// The engine's refusal of a policy, as a problem with a field.
fn limit(p: d::PolicyProblem) -> Problem {
    use d::PolicyProblem as P;
    match p {
        P::Empty => Problem::at_least(1, Unit::Entries),
        P::TooMany(n) => Problem::at_most(n as u64, Unit::Entries),
        P::OpenStep => C::OpenStep.into(),
        P::AtLeastSecs(s) => Problem::at_least(s, Unit::Seconds),
        P::AtMostSecs(s) => Problem::at_most(s, Unit::Seconds),
        P::Between(a, b) => Problem::range(a, b, Unit::Number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_errors_name_the_field() {
        let doc = PolicyDoc::default();
        assert_eq!(doc.to_policy().unwrap(), d::RoutingPolicy::default());
        let parsed: PolicyDoc = serde_json::from_str(r#"{"ring_timeout_secs": 5}"#).unwrap();
        assert_eq!(parsed.to_policy().unwrap().ring_timeout, Duration::from_secs(5));
        let err = |json: &str| serde_json::from_str::<PolicyDoc>(json).unwrap().to_policy().unwrap_err().to_string();
        assert_eq!(err(r#"{"ring_timeout_secs": 0}"#), "policy.ring_timeout: at least 1 s");
        assert_eq!(
            err(
                r#"{"steps": [{"seconds": 0, "tiers": ["staff"], "scope": "own"}, {"seconds": 0, "tiers": ["staff"], "scope": "own"}]}"#
            ),
            "policy.steps[0].duration: only the last step may have no duration"
        );
        assert_eq!(
            err(r#"{"steps": [{"seconds": 1, "tiers": ["boss"], "scope": "own"}]}"#),
            "policy.steps[0].tiers: one of staff, contractor, volunteer"
        );
        assert_eq!(err(r#"{"order": "random"}"#), "policy.order: one of tier_then_longest_idle, longest_idle");
        assert!(serde_json::from_str::<PolicyDoc>(r#"{"ring_timeout": 5}"#).is_err(), "unknown fields are refused");
    }
}
