//! Property tests of the engine's promises, over random directories and random
//! sequences of inputs:
//!
//! - no interpreter is ever offered or assigned two requests at once;
//! - no request is offered to an interpreter lacking its language, modality, strict
//!   speciality, roster slot or tenant, nor to one it excluded or already tried;
//! - every request ends in exactly one outcome (assigned, abandoned, expired, unserved);
//! - work conservation: nothing waits while an eligible interpreter is idle (checked by
//!   `Engine::check_invariants` after every input), so nothing starves while capacity exists;
//! - an input that is refused changes nothing;
//! - replaying the inputs reproduces the outputs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::civil::time;
use kakehashi_dispatch::*;
use proptest::prelude::*;

use crate::common::*;

const LANGS: [&str; 3] = ["vi", "ne", "pt"];

#[derive(Clone, Debug)]
struct Person {
    langs: Vec<usize>,
    tier: u8,
    tenants: Vec<u32>,
    shared: bool,
    modalities: u8,
    medical: bool,
    roster: Option<(i8, i8)>,
}

#[derive(Clone, Debug)]
enum Op {
    Submit {
        tenant: u32,
        lang: usize,
        modality: u8,
        medical: bool,
        strict: bool,
        urgent: bool,
        prefer: Option<u32>,
        exclude: Option<u32>,
    },
    Cancel(usize),
    Accept(usize),
    Decline(usize),
    EndCall(usize),
    Avail(u32, u8),
    Advance(u16),
    Book {
        who: Option<u32>,
        lang: usize,
        start_min: u16,
        len_min: u8,
        desk: bool,
    },
    CancelBooking(usize),
    Assign(usize, u32),
    Garbage(u8, u64),
}

fn person() -> impl Strategy<Value = Person> {
    (
        proptest::sample::subsequence(vec![0usize, 1, 2], 1..=3),
        0u8..3,
        proptest::sample::subsequence(vec![1u32, 2], 0..=2),
        any::<bool>(),
        prop_oneof![3 => Just(7u8), 1 => 1u8..8],
        any::<bool>(),
        proptest::option::weighted(0.3, (0i8..24, 1i8..12)),
    )
        .prop_map(|(langs, tier, tenants, shared, modalities, medical, roster)| Person {
            langs,
            tier,
            shared: shared || tenants.is_empty(),
            tenants,
            modalities,
            medical,
            roster,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u32..3, 0usize..3, prop_oneof![4 => Just(0u8), 1 => 0u8..3], any::<bool>(), any::<bool>(), any::<bool>(), proptest::option::weighted(0.2, 0u32..8), proptest::option::weighted(0.2, 0u32..8))
            .prop_map(|(tenant, lang, modality, medical, strict, urgent, prefer, exclude)| Op::Submit { tenant, lang, modality, medical, strict, urgent, prefer, exclude }),
        2 => any::<usize>().prop_map(Op::Cancel),
        8 => any::<usize>().prop_map(Op::Accept),
        2 => any::<usize>().prop_map(Op::Decline),
        3 => any::<usize>().prop_map(Op::EndCall),
        4 => (0u32..8, prop_oneof![3 => Just(0u8), 1 => 0u8..3]).prop_map(|(i, a)| Op::Avail(i, a)),
        5 => (0u16..900).prop_map(Op::Advance),
        2 => (proptest::option::of(0u32..8), 0usize..3, 0u16..240, 1u8..120, any::<bool>()).prop_map(|(who, lang, start_min, len_min, desk)| Op::Book { who, lang, start_min, len_min, desk }),
        1 => any::<usize>().prop_map(Op::CancelBooking),
        3 => (any::<usize>(), 0u32..8).prop_map(|(k, i)| Op::Assign(k, i)),
        1 => (0u8..6, any::<u64>()).prop_map(|(k, n)| Op::Garbage(k, n)),
    ]
}

fn policy_variant(k: u8) -> RoutingPolicy {
    let mut p = RoutingPolicy { max_wait: Duration::from_secs(1200), ..RoutingPolicy::default() };
    match k {
        1 => p.parallel = Some(ParallelRing { languages: vec![lang("ne")], fan_out: 2 }),
        2 => {
            p.steps = vec![Step {
                duration: Duration::ZERO,
                tiers: TierSet::all(),
                scope: Scope::Shared,
                require_speciality: false,
            }];
            p.order = InterpreterOrder::LongestIdle;
            p.wrap_up = None;
        }
        3 => p.wrap_up = Some(Duration::ZERO),
        _ => {}
    }
    p
}

fn spec_of(id: u32, p: &Person) -> InterpreterSpec {
    let roster = match p.roster {
        None => Roster::always(),
        Some((start, len)) => Roster::new(
            jiff::tz::TimeZone::UTC,
            vec![Shift {
                days: Days::Weekly(WeekdaySet::EVERY_DAY),
                start: time(start, 0, 0, 0),
                end: time((start + len) % 24, 0, 0, 0),
            }],
            vec![],
        )
        .unwrap(),
    };
    InterpreterSpec {
        id: InterpreterId(id),
        pairs: p.langs.iter().map(|l| pair(LANGS[*l])).collect(),
        modalities: Modality::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| p.modalities & (1 << i) != 0)
            .map(|(_, m)| *m)
            .collect(),
        specialities: if p.medical { SpecialitySet::EMPTY.with(Speciality::Medical) } else { SpecialitySet::EMPTY },
        tier: Tier::ALL[usize::from(p.tier)],
        tenants: p.tenants.iter().map(|t| TenantId(*t)).collect(),
        shared_pool: p.shared,
        roster,
    }
}

/// What the test knows from the outputs alone.
#[derive(Default)]
struct Model {
    requests: BTreeMap<RequestId, RequestSpec>,
    outcomes: BTreeMap<RequestId, u32>,
    open_offers: BTreeMap<OfferId, (RequestId, InterpreterId)>,
    in_call: BTreeMap<RequestId, InterpreterId>,
    tried: BTreeSet<(RequestId, InterpreterId)>,
    bookings: Vec<BookingId>,
    /// Requests opened by bookings (they ring their interpreter again after a decline).
    booked: BTreeMap<RequestId, InterpreterId>,
}

struct Run {
    e: Engine,
    now: Timestamp,
    model: Model,
    people: Vec<InterpreterSpec>,
    inputs: Vec<(Timestamp, Input)>,
    outputs: Vec<Output>,
    booking_specs: BTreeMap<BookingId, (TenantId, LanguageId)>,
}

impl Run {
    fn apply(&mut self, input: Input) -> Result<Reply, TestCaseError> {
        let before = format!("{:?}", self.e);
        let result = self.e.handle_input(self.now, input.clone());
        self.inputs.push((self.now, input));
        match &result {
            Err(_) => {
                prop_assert_eq!(&format!("{:?}", self.e), &before, "a refused input changed the state");
                prop_assert!(self.e.poll_output().is_none());
            }
            Ok(_) => {
                while let Some(out) = self.e.poll_output() {
                    self.observe(&out)?;
                    self.outputs.push(out);
                }
            }
        }
        if let Err(msg) = self.e.check_invariants() {
            return Err(TestCaseError::fail(msg));
        }
        Ok(result.unwrap_or(Reply::Done))
    }

    fn observe(&mut self, out: &Output) -> Result<(), TestCaseError> {
        let m = &mut self.model;
        match out {
            Output::Offered { offer, request, interpreter, ring_until } => {
                // Every policy variant rings for 20 s: the offer was made 20 s before.
                let offered_at = *ring_until - Duration::from_secs(20);
                prop_assert!(
                    !m.open_offers.values().any(|(_, i)| i == interpreter),
                    "{} rung twice at once",
                    interpreter
                );
                prop_assert!(!m.in_call.values().any(|i| i == interpreter), "{} rung while in a call", interpreter);
                match m.booked.get(request) {
                    Some(booked) => prop_assert_eq!(booked, interpreter, "a booking's request rang someone else"),
                    None => prop_assert!(
                        m.tried.insert((*request, *interpreter)),
                        "{} offered {} twice",
                        interpreter,
                        request
                    ),
                }
                let r = &m.requests[request];
                let p = self.people.iter().find(|p| p.id == *interpreter).unwrap();
                prop_assert!(p.pairs.contains(&LanguagePair::with_japanese(r.language).unwrap()), "language");
                prop_assert!(p.modalities.contains(r.modality), "modality");
                if r.strict_speciality
                    && let Some(s) = r.speciality
                {
                    prop_assert!(p.specialities.contains(s), "strict speciality");
                }
                prop_assert!(p.tenants.contains(&r.tenant) || p.shared_pool, "tenant");
                prop_assert!(p.roster.state_at(offered_at).on, "offered off roster");
                prop_assert!(!r.excluded.contains(interpreter), "excluded");
                m.open_offers.insert(*offer, (*request, *interpreter));
            }
            Output::OfferClosed { offer, .. } => {
                prop_assert!(m.open_offers.remove(offer).is_some());
            }
            Output::Assigned { request, interpreter, offer, .. } => {
                prop_assert_eq!(m.open_offers.remove(offer), Some((*request, *interpreter)));
                prop_assert!(!m.in_call.values().any(|i| i == interpreter), "assigned twice at once");
                m.in_call.insert(*request, *interpreter);
                *m.outcomes.entry(*request).or_default() += 1;
            }
            Output::Ended { request, .. } => {
                prop_assert!(!m.open_offers.values().any(|(r, _)| r == request), "ended with an offer open");
                *m.outcomes.entry(*request).or_default() += 1;
            }
            Output::CallEnded { request, .. } => {
                prop_assert!(m.in_call.remove(request).is_some());
            }
            Output::BookingStarted { booking, interpreter, request: Some(r) } => {
                prop_assert!(m.bookings.contains(booking));
                prop_assert!(!m.requests.contains_key(r), "a booking reused a request id");
                let (tenant, language) = self.booking_specs[booking];
                let mut spec = RequestSpec::new(tenant, DeskId(11), language);
                spec.modality = Modality::Video;
                m.requests.insert(*r, spec);
                m.booked.insert(*r, *interpreter);
            }
            _ => {}
        }
        Ok(())
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Submit { tenant, lang: l, modality, medical, strict, urgent, prefer, exclude } => {
                let mut spec =
                    RequestSpec::new(TenantId(*tenant), DeskId(if *tenant == 1 { 11 } else { 21 }), lang(LANGS[*l]));
                spec.modality = Modality::ALL[usize::from(*modality)];
                spec.speciality = medical.then_some(Speciality::Medical);
                spec.strict_speciality = *strict;
                spec.priority = if *urgent { Priority::Urgent } else { Priority::Normal };
                spec.preferred = prefer.filter(|p| (*p as usize) < self.people.len()).map(InterpreterId);
                spec.excluded = exclude.iter().map(|x| InterpreterId(*x)).collect();
                let next = RequestId(self.model.requests.keys().last().map_or(1, |r| r.0 + 1));
                self.model.requests.insert(next, spec.clone());
                if let Reply::Request(id) = self.apply(Input::Submit(spec))? {
                    prop_assert_eq!(id, next);
                } else {
                    self.model.requests.remove(&next);
                }
            }
            Op::Cancel(k) => {
                let waiting: Vec<_> = self.waiting();
                if let Some(r) = pick(&waiting, *k) {
                    self.apply(Input::Cancel(r))?;
                }
            }
            Op::Accept(k) | Op::Decline(k) => {
                let open: Vec<_> = self.model.open_offers.iter().map(|(o, (_, i))| (*o, *i)).collect();
                if let Some((o, i)) = pick(&open, *k) {
                    let input = if matches!(op, Op::Accept(_)) { Input::Accept(o, i) } else { Input::Decline(o, i) };
                    self.apply(input)?;
                }
            }
            Op::EndCall(k) => {
                let calls: Vec<_> = self.model.in_call.keys().copied().collect();
                if let Some(r) = pick(&calls, *k) {
                    self.apply(Input::EndCall(r))?;
                }
            }
            Op::Avail(i, a) => {
                let a = [Availability::Available, Availability::NotReady, Availability::Offline][usize::from(*a)];
                let _ = self.apply(Input::SetAvailability(InterpreterId(*i), a))?;
            }
            Op::Advance(s) => {
                self.now = self.now + Duration::from_secs(u64::from(*s));
                self.apply(Input::Timeout)?;
            }
            Op::Book { who, lang: l, start_min, len_min, desk } => {
                let start = self.now + Duration::from_secs(u64::from(*start_min) * 60);
                let spec = BookingSpec {
                    tenant: TenantId(1),
                    language: lang(LANGS[*l]),
                    desk_language: LanguageId::JAPANESE,
                    modality: Modality::Video,
                    speciality: None,
                    interpreter: who.map(InterpreterId),
                    desk: desk.then_some(DeskId(11)),
                    start,
                    end: start + Duration::from_secs(u64::from(*len_min) * 60),
                };
                if let Reply::Booking(b, _) = self.apply(Input::Book(spec.clone()))? {
                    self.model.bookings.push(b);
                    self.booking_specs.insert(b, (spec.tenant, spec.language));
                }
            }
            Op::Assign(k, i) => {
                // A coordinator's choice, refused or not: the model checks the offer.
                // Mostly someone available (the case that can succeed), else anyone.
                let waiting = self.waiting();
                if let Some(r) = pick(&waiting, *k) {
                    let n = self.people.len() as u32;
                    let free = (0..n)
                        .map(|d| InterpreterId((*i + d) % n.max(1)))
                        .find(|x| self.e.presence(*x) == Ok(Presence::Available))
                        .unwrap_or(InterpreterId(*i));
                    let _ = self.apply(Input::AssignTo(r, free))?;
                }
            }
            Op::CancelBooking(k) => {
                if let Some(b) = pick(&self.model.bookings, *k) {
                    self.apply(Input::CancelBooking(b))?;
                }
            }
            Op::Garbage(k, n) => {
                let input = match k {
                    0 => Input::Accept(OfferId(*n), InterpreterId(*n as u32)),
                    1 => Input::Decline(OfferId(*n % 50), InterpreterId((*n % 9) as u32)),
                    2 => Input::Cancel(RequestId(*n % 60)),
                    3 => Input::EndCall(RequestId(*n % 60)),
                    4 => Input::SetAvailability(InterpreterId(*n as u32), Availability::Available),
                    _ => Input::CancelBooking(BookingId(*n % 20)),
                };
                self.apply(input)?;
            }
        }
        Ok(())
    }

    fn waiting(&self) -> Vec<RequestId> {
        self.model.requests.keys().filter(|r| !self.model.outcomes.contains_key(r)).copied().collect()
    }
}

fn pick<T: Copy>(items: &[T], k: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[k % items.len()])
}

fn run(people: &[Person], policy: u8, ops: &[Op]) -> Result<Run, TestCaseError> {
    let now = Timestamp::from_secs(T0);
    let mut run = Run {
        e: Engine::new(),
        now,
        model: Model::default(),
        people: Vec::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        booking_specs: BTreeMap::new(),
    };
    for t in [1u32, 2] {
        run.apply(Input::AddTenant(TenantSpec {
            id: TenantId(t),
            foreign_residents: 1000,
            time_zone: tokyo(),
            policy: policy_variant(if t == 1 { policy } else { 0 }),
        }))?;
    }
    run.apply(Input::AddDesk(DeskId(11), TenantId(1)))?;
    run.apply(Input::AddDesk(DeskId(21), TenantId(2)))?;
    for (i, p) in people.iter().enumerate() {
        let spec = spec_of(i as u32, p);
        run.people.push(spec.clone());
        run.apply(Input::AddInterpreter(spec))?;
        run.apply(Input::SetAvailability(InterpreterId(i as u32), Availability::Available))?;
    }
    for op in ops {
        run.step(op)?;
    }
    // Drain: cancel what waits, end every call; every request then has exactly one outcome.
    for r in run.waiting() {
        if run.model.in_call.contains_key(&r) {
            continue;
        }
        let _ = run.apply(Input::Cancel(r))?;
    }
    for r in run.model.in_call.keys().copied().collect::<Vec<_>>() {
        run.apply(Input::EndCall(r))?;
    }
    for (r, n) in &run.model.outcomes {
        prop_assert_eq!(*n, 1, "{} ended {} times", r, n);
    }
    for r in run.model.requests.keys() {
        prop_assert!(run.model.outcomes.contains_key(r), "{} never ended", r);
    }
    prop_assert!(run.model.open_offers.is_empty());
    Ok(run)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn engine_keeps_its_promises(
        people in proptest::collection::vec(person(), 1..8),
        policy in 0u8..4,
        ops in proptest::collection::vec(op(), 0..160),
    ) {
        let first = run(&people, policy, &ops)?;
        // Replay the recorded inputs into a fresh engine: the same outputs, in order.
        let mut e = Engine::new();
        let mut outputs = Vec::new();
        for (now, input) in &first.inputs {
            let _ = e.handle_input(*now, input.clone());
            outputs.extend(std::iter::from_fn(|| e.poll_output()));
        }
        prop_assert_eq!(&outputs, &first.outputs);
        prop_assert_eq!(e.totals(), first.e.totals());
    }
}
