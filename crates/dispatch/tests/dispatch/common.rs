//! A small world to drive the engine in tests.

use std::time::Duration;

use kakehashi_dispatch::*;

pub(crate) const T0: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z, a Friday (17:00 in Tokyo)

pub(crate) fn tokyo() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()
}

pub(crate) fn lang(tag: &str) -> LanguageId {
    LanguageId::parse(tag).unwrap()
}

pub(crate) fn pair(tag: &str) -> LanguagePair {
    LanguagePair::with_japanese(lang(tag)).unwrap()
}

pub(crate) struct World {
    pub(crate) e: Engine,
    pub(crate) now: Timestamp,
    pub(crate) log: Vec<Output>,
}

pub(crate) fn interpreter(id: u32, tags: &[&str], tier: Tier, tenants: &[u32]) -> InterpreterSpec {
    InterpreterSpec {
        id: InterpreterId(id),
        pairs: tags.iter().map(|t| pair(t)).collect(),
        modalities: ModalitySet::all(),
        specialities: SpecialitySet::EMPTY,
        tier,
        tenants: tenants.iter().map(|t| TenantId(*t)).collect(),
        shared_pool: false,
        roster: Roster::always(),
    }
}

impl World {
    /// Two tenants (1 and 2) with the default policy and desks 11, 12 (tenant 1) and 21 (tenant 2).
    pub(crate) fn new() -> World {
        Self::with_policy(RoutingPolicy::default())
    }

    pub(crate) fn with_policy(policy: RoutingPolicy) -> World {
        let mut w = World { e: Engine::new(), now: Timestamp::from_secs(T0), log: Vec::new() };
        for t in [1, 2] {
            w.e.add_tenant(
                w.now,
                TenantSpec {
                    id: TenantId(t),
                    foreign_residents: 10_000 * t,
                    time_zone: tokyo(),
                    policy: policy.clone(),
                },
            )
            .unwrap();
        }
        w.e.add_desk(w.now, DeskId(11), TenantId(1)).unwrap();
        w.e.add_desk(w.now, DeskId(12), TenantId(1)).unwrap();
        w.e.add_desk(w.now, DeskId(21), TenantId(2)).unwrap();
        w
    }

    pub(crate) fn add(&mut self, spec: InterpreterSpec, available: bool) {
        let id = spec.id;
        self.e.add_interpreter(self.now, spec).unwrap();
        if available {
            self.e.set_availability(self.now, id, Availability::Available).unwrap();
        }
        self.drain();
    }

    /// Staff of tenant 1 for `tag`, signed in one second apart (the first is idle longest).
    pub(crate) fn add_staff(&mut self, ids: &[u32], tag: &str) {
        for (k, id) in ids.iter().enumerate() {
            if k > 0 {
                self.advance(1);
            }
            self.add(interpreter(*id, &[tag], Tier::Staff, &[1]), true);
        }
    }

    pub(crate) fn drain(&mut self) -> Vec<Output> {
        let out: Vec<Output> = std::iter::from_fn(|| self.e.poll_output()).collect();
        self.e.check_invariants().unwrap();
        self.log.extend(out.iter().cloned());
        out
    }

    pub(crate) fn advance(&mut self, secs: u64) -> Vec<Output> {
        self.now = self.now + Duration::from_secs(secs);
        self.e.handle_timeout(self.now);
        self.drain()
    }

    pub(crate) fn submit(&mut self, spec: RequestSpec) -> (RequestId, Vec<Output>) {
        let id = self.e.submit(self.now, spec).unwrap();
        (id, self.drain())
    }

    /// Accept the one offer among `out`; returns it.
    pub(crate) fn accept_only(&mut self, out: &[Output]) -> (OfferId, RequestId, InterpreterId) {
        let (o, r, i) = only_offer(out);
        self.e.accept(self.now, o, i).unwrap();
        self.drain();
        (o, r, i)
    }

    pub(crate) fn request(&mut self, tenant: u32, desk: u32, tag: &str) -> (RequestId, Vec<Output>) {
        self.submit(RequestSpec::new(TenantId(tenant), DeskId(desk), lang(tag)))
    }
}

/// The offers among outputs, as (offer, request, interpreter).
pub(crate) fn offers(out: &[Output]) -> Vec<(OfferId, RequestId, InterpreterId)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Offered { offer, request, interpreter, .. } => Some((*offer, *request, *interpreter)),
            _ => None,
        })
        .collect()
}

pub(crate) fn only_offer(out: &[Output]) -> (OfferId, RequestId, InterpreterId) {
    let o = offers(out);
    assert_eq!(o.len(), 1, "expected one offer in {out:#?}");
    o[0]
}

pub(crate) fn ended(out: &[Output]) -> Vec<(RequestId, Outcome)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Ended { request, outcome, .. } => Some((*request, *outcome)),
            _ => None,
        })
        .collect()
}

/// The default policy without wrap-up: an interpreter is free again when a call ends.
pub(crate) fn policy_no_wrap() -> RoutingPolicy {
    RoutingPolicy { wrap_up: Some(Duration::ZERO), ..RoutingPolicy::default() }
}
