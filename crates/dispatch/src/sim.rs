//! A discrete-event simulation of a centre's day on simulated time: Poisson arrivals
//! per language, interpreters who answer after a human delay, decline or miss offers,
//! residents who give up, and handle times drawn from a distribution. It drives the
//! real [`Engine`], checks its invariants as it goes and reports the KPIs.
//!
//! Like the engine it does no I/O and reads no clock: a run is a pure function of its
//! [`SimConfig`] (seeded), so it is a test, an example and a benchmark workload at once.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Duration;

use crate::directory::{InterpreterSpec, RequestSpec, TenantSpec};
use crate::engine::Engine;
use crate::event::{Availability, NotReadyReason, Output, Presence};
use crate::ids::{DeskId, InterpreterId, OfferId, RequestId, TenantId};
use crate::language::{LanguageId, LanguagePair};
use crate::model::{ModalitySet, SpecialitySet, Tier};
use crate::policy::RoutingPolicy;
use crate::roster::Roster;
use crate::stats::{Counters, SERVICE_THRESHOLDS_SECS};
use crate::time::Timestamp;

/// A small, fast, seeded generator (SplitMix64): enough for a simulation, and keeps
/// the crate free of a random-number dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -(1.0 - self.unit()).ln() * mean
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// How long calls last.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HandleTime {
    /// Exponential with this mean, seconds (the M/M/N assumption of Erlang C).
    Exponential(f64),
    /// Log-normal with this median, seconds, and shape: consultations are skewed.
    LogNormal {
        /// Median, seconds.
        median: f64,
        /// Shape (σ of the underlying normal).
        sigma: f64,
    },
}

impl HandleTime {
    fn sample(self, rng: &mut Rng) -> f64 {
        match self {
            HandleTime::Exponential(mean) => rng.exponential(mean),
            HandleTime::LogNormal { median, sigma } => median * (sigma * rng.normal()).exp(),
        }
    }
}

/// The load and staffing of one language.
#[derive(Clone, Debug, PartialEq)]
pub struct LanguageLoad {
    /// The resident's language (paired with Japanese).
    pub language: LanguageId,
    /// Poisson arrival rate, requests per hour, over all tenants.
    pub per_hour: f64,
    /// Interpreters of each tier (staff, contractor, volunteer), all signed in all day.
    pub interpreters: [u32; 3],
}

/// How interpreters and residents behave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Behaviour {
    /// Answer delay after an offer rings, uniform between these, seconds.
    pub answer_secs: (f64, f64),
    /// Probability that an interpreter declines an offer.
    pub decline: f64,
    /// Probability that an offer rings out unanswered.
    pub miss: f64,
    /// Mean patience of a desk before it cancels (exponential); `None` waits forever.
    pub patience_secs: Option<f64>,
    /// How long an interpreter put in not-ready by missed offers takes to come back.
    pub comeback_secs: f64,
}

/// What a snapshot's round trip makes of an engine (see [`SimConfig::round_trip`]).
pub type RoundTrip = fn(&Engine) -> Engine;

/// One simulation run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of every random draw.
    pub seed: u64,
    /// Simulated time.
    pub duration: Duration,
    /// Tenants sharing the centre (requests are spread evenly; every interpreter serves all).
    pub tenants: u32,
    /// Load and staff per language.
    pub languages: Vec<LanguageLoad>,
    /// Call lengths.
    pub handle: HandleTime,
    /// Interpreter and resident behaviour.
    pub behaviour: Behaviour,
    /// Every tenant's routing policy.
    pub policy: RoutingPolicy,
    /// Run the engine's full invariant check every this many events (0: never).
    pub check_every: u64,
    /// Every this many events, replace the engine with what the function makes of it: a
    /// snapshot's round trip, to show that a restored engine carries on exactly as the
    /// original would have.
    pub round_trip: Option<(u64, RoundTrip)>,
}

/// The figures of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct SimReport {
    /// Engine inputs applied (arrivals, answers, call ends, cancels, timer firings).
    pub events: u64,
    /// All counters added up.
    pub totals: Counters,
    /// Counters per resident language.
    pub per_language: BTreeMap<LanguageId, Counters>,
    /// Busy over signed-in time, all tiers.
    pub occupancy: f64,
    /// Requests still waiting at the end.
    pub waiting_at_end: usize,
    /// Calls still running at the end.
    pub in_call_at_end: usize,
}

impl SimReport {
    /// Fraction answered within 20 s among answered, abandoned and expired requests.
    pub fn service_level_20s(&self) -> f64 {
        self.totals.service_level(1).unwrap_or(0.0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Ev {
    Arrival(usize),
    Answer { offer: OfferId, interpreter: InterpreterId, accept: bool },
    CallEnd(RequestId),
    GiveUp(RequestId),
    ComeBack(InterpreterId),
}

const START: Timestamp = Timestamp::from_secs(1_800_000_000);

/// Run a simulation. Returns an error naming the first invariant the engine broke.
pub fn run(cfg: &SimConfig) -> Result<SimReport, String> {
    let mut rng = Rng::new(cfg.seed);
    let mut e = Engine::new();
    let mut now = START;
    let err = |x: crate::error::Error| x.to_string();
    for t in 0..cfg.tenants.max(1) {
        e.add_tenant(
            now,
            TenantSpec {
                id: TenantId(t),
                foreign_residents: 1000,
                time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(9)),
                policy: cfg.policy.clone(),
            },
        )
        .map_err(err)?;
        e.add_desk(now, DeskId(t), TenantId(t)).map_err(err)?;
    }
    let all_tenants: Vec<TenantId> = (0..cfg.tenants.max(1)).map(TenantId).collect();
    let mut next_id = 0u32;
    for load in &cfg.languages {
        let pair = LanguagePair::with_japanese(load.language).ok_or("a simulated language must not be Japanese")?;
        for (tier, count) in Tier::ALL.iter().zip(load.interpreters) {
            for _ in 0..count {
                let id = InterpreterId(next_id);
                next_id += 1;
                e.add_interpreter(
                    now,
                    InterpreterSpec {
                        id,
                        pairs: vec![pair],
                        modalities: ModalitySet::all(),
                        specialities: SpecialitySet::EMPTY,
                        tier: *tier,
                        tenants: all_tenants.clone(),
                        shared_pool: false,
                        roster: Roster::always(),
                    },
                )
                .map_err(err)?;
                e.set_availability(now, id, Availability::Available).map_err(err)?;
            }
        }
    }
    while e.poll_output().is_some() {}

    let end = START + cfg.duration;
    let mut queue: BinaryHeap<Reverse<(Timestamp, u64, Ev)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |q: &mut BinaryHeap<Reverse<(Timestamp, u64, Ev)>>, at: Timestamp, ev: Ev| {
        seq += 1;
        q.push(Reverse((at, seq, ev)));
    };
    let secs = |s: f64| Duration::from_millis((s.max(0.0) * 1000.0) as u64);
    for (i, load) in cfg.languages.iter().enumerate() {
        if load.per_hour > 0.0 {
            push(&mut queue, now + secs(rng.exponential(3600.0 / load.per_hour)), Ev::Arrival(i));
        }
    }
    let mut events = 0u64;
    let mut holder: BTreeMap<InterpreterId, u32> = BTreeMap::new();
    loop {
        let next_sim = queue.peek().map(|Reverse((t, _, _))| *t);
        let next_engine = e.poll_timeout();
        let Some(t) = [next_sim, next_engine].into_iter().flatten().min() else { break };
        if t > end {
            break;
        }
        now = t;
        events += 1;
        if next_engine.is_some_and(|x| x <= t) && next_sim.is_none_or(|s| next_engine.is_some_and(|x| x < s)) {
            e.handle_timeout(now);
        } else if let Some(Reverse((_, _, ev))) = queue.pop() {
            match ev {
                Ev::Arrival(i) => {
                    let load = &cfg.languages[i];
                    let tenant = TenantId(rng.below(u64::from(cfg.tenants.max(1))) as u32);
                    let id = e.submit(now, RequestSpec::new(tenant, DeskId(tenant.0), load.language)).map_err(err)?;
                    if let Some(p) = cfg.behaviour.patience_secs {
                        push(&mut queue, now + secs(rng.exponential(p)), Ev::GiveUp(id));
                    }
                    push(&mut queue, now + secs(rng.exponential(3600.0 / load.per_hour)), Ev::Arrival(i));
                }
                Ev::Answer { offer, interpreter, accept } => {
                    // The offer may be gone already (the request ended, or rescinded).
                    let _ = if accept { e.accept(now, offer, interpreter) } else { e.decline(now, offer, interpreter) };
                }
                Ev::CallEnd(r) => e.end_call(now, r).map_err(err)?,
                Ev::GiveUp(r) => {
                    let _ = e.cancel(now, r);
                }
                Ev::ComeBack(i) => e.set_availability(now, i, Availability::Available).map_err(err)?,
            }
        }
        while let Some(out) = e.poll_output() {
            match out {
                Output::Offered { offer, interpreter, .. } => {
                    let held = holder.entry(interpreter).or_default();
                    *held += 1;
                    if *held > 1 {
                        return Err(format!("{interpreter} holds two offers or calls"));
                    }
                    let b = cfg.behaviour;
                    let roll = rng.unit();
                    if roll >= b.miss {
                        let delay = b.answer_secs.0 + rng.unit() * (b.answer_secs.1 - b.answer_secs.0);
                        let accept = roll >= b.miss + b.decline;
                        push(&mut queue, now + secs(delay), Ev::Answer { offer, interpreter, accept });
                    }
                }
                Output::OfferClosed { interpreter, .. } => {
                    if let Some(h) = holder.get_mut(&interpreter) {
                        *h = h.saturating_sub(1);
                    }
                }
                Output::Assigned { request, .. } => {
                    push(&mut queue, now + secs(cfg.handle.sample(&mut rng)), Ev::CallEnd(request));
                }
                Output::CallEnded { interpreter, .. } => {
                    if let Some(h) = holder.get_mut(&interpreter) {
                        *h = h.saturating_sub(1);
                    }
                }
                Output::PresenceChanged { interpreter, presence: Presence::NotReady(NotReadyReason::MissedOffers) } => {
                    push(&mut queue, now + secs(cfg.behaviour.comeback_secs), Ev::ComeBack(interpreter));
                }
                _ => {}
            }
        }
        if cfg.check_every > 0 && events % cfg.check_every == 0 {
            e.check_invariants()?;
        }
        if let Some((every, round_trip)) = cfg.round_trip
            && every > 0
            && events % every == 0
        {
            e = round_trip(&e);
            e.check_invariants()?;
        }
    }
    e.check_invariants()?;
    let mut per_language: BTreeMap<LanguageId, Counters> = BTreeMap::new();
    for row in e.counter_rows() {
        per_language.entry(row.language).or_default().add(&row.counters);
    }
    Ok(SimReport {
        events,
        totals: e.totals(),
        per_language,
        occupancy: e.presence_time().occupancy(None).unwrap_or(0.0),
        waiting_at_end: e.live_tenants().iter().map(|t| t.waiting).sum(),
        in_call_at_end: e.live_tenants().iter().map(|t| t.in_call).sum(),
    })
}

/// A realistic day at a shared centre: 24 languages weighted as in Japanese
/// municipalities (Vietnamese, Chinese, Filipino, Portuguese and Nepali busiest),
/// staff, contractors and volunteers, log-normal consultations with a median of 9
/// minutes, interpreters who decline 5% and miss 3% of offers, desks that give up
/// after 6 minutes on average.
pub fn realistic_day(seed: u64, scale: f64) -> SimConfig {
    let busy = [
        ("vi", 40.0),
        ("zh", 28.0),
        ("fil", 24.0),
        ("pt", 22.0),
        ("ne", 18.0),
        ("en", 16.0),
        ("id", 12.0),
        ("ko", 8.0),
    ];
    let mid = [("es", 6.0), ("th", 5.0), ("my", 5.0), ("si", 3.0), ("bn", 2.5), ("km", 2.5), ("mn", 2.0), ("hi", 2.0)];
    let rare = [("ru", 1.0), ("fr", 0.8), ("uk", 0.8), ("ms", 0.6), ("ur", 0.6), ("fa", 0.4), ("tr", 0.4), ("ar", 0.4)];
    let mut languages = Vec::new();
    for (tag, per_hour) in busy.iter().chain(&mid).chain(&rare) {
        let Ok(language) = LanguageId::parse(tag) else { continue };
        let per_hour = per_hour * scale;
        // Staffing near the Erlang C need at a 10 minute handle time, split by tier.
        let erlangs = per_hour * 10.0 / 60.0;
        let need = (erlangs * 1.15 + 1.0).ceil() as u32;
        let staff = (f64::from(need) * 0.5).ceil() as u32;
        let contractors = (f64::from(need) * 0.3).ceil() as u32;
        let volunteers = need.saturating_sub(staff + contractors).max(1);
        languages.push(LanguageLoad { language, per_hour, interpreters: [staff, contractors, volunteers] });
    }
    SimConfig {
        seed,
        duration: Duration::from_secs(9 * 3600),
        tenants: 3,
        languages,
        handle: HandleTime::LogNormal { median: 540.0, sigma: 0.5 },
        behaviour: Behaviour {
            answer_secs: (3.0, 12.0),
            decline: 0.05,
            miss: 0.03,
            patience_secs: Some(360.0),
            comeback_secs: 120.0,
        },
        policy: RoutingPolicy::default(),
        round_trip: None,
        check_every: 97,
    }
}

/// One language, one tier, Poisson arrivals, exponential handle times, instant answers,
/// infinite patience, no wrap-up: an M/M/N queue, to compare with Erlang C.
pub fn erlang_check(seed: u64, per_hour: f64, mean_handle_secs: f64, agents: u32, duration: Duration) -> SimConfig {
    let one_step = crate::policy::Step {
        duration: Duration::ZERO,
        tiers: crate::model::TierSet::all(),
        scope: crate::policy::Scope::Own,
        require_speciality: false,
    };
    SimConfig {
        seed,
        duration,
        tenants: 1,
        languages: vec![LanguageLoad { language: LanguageId::ENGLISH, per_hour, interpreters: [agents, 0, 0] }],
        handle: HandleTime::Exponential(mean_handle_secs),
        behaviour: Behaviour {
            answer_secs: (0.0, 0.0),
            decline: 0.0,
            miss: 0.0,
            patience_secs: None,
            comeback_secs: 60.0,
        },
        policy: RoutingPolicy {
            steps: vec![one_step],
            wrap_up: Some(Duration::ZERO),
            max_wait: Duration::from_secs(24 * 3600),
            ..RoutingPolicy::default()
        },
        round_trip: None,
        check_every: 0,
    }
}

/// Thresholds of [`Counters::answered_within`], re-exported for reports.
pub const THRESHOLDS: [u64; 5] = SERVICE_THRESHOLDS_SECS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_seeded_and_sane() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        let n = 20_000;
        let mean = (0..n).map(|_| a.exponential(10.0)).sum::<f64>() / f64::from(n);
        assert!((mean - 10.0).abs() < 0.5, "{mean}");
        let u = (0..n).map(|_| a.unit()).fold(0.0f64, f64::max);
        assert!(u < 1.0);
        assert!(a.below(1) == 0 && a.below(0) == 0);
    }
}
