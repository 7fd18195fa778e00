//! The dispatch engine: a sans-I/O state machine.
//!
//! Drive it with `handle_*` methods (or [`Engine::handle_input`] with an [`Input`]),
//! each carrying the caller's `now`; drain [`Engine::poll_output`] after each; call
//! [`Engine::handle_timeout`] when [`Engine::poll_timeout`] says so.

mod index;
mod invariants;
mod query;
mod queue;
mod timers;
pub use query::Standing;
mod routing;
mod state;

use std::collections::VecDeque;
use std::time::Duration;

use jiff::tz::TimeZone;
use rustc_hash::FxHashMap;

use crate::directory::{BookingSpec, InterpreterSpec, RequestSpec, TenantSpec};
use crate::error::Error;
use crate::event::{Availability, NotReadyReason, OfferEnd, Outcome, Output, Presence, RescindReason};
use crate::ids::{BookingId, DeskId, InterpreterId, OfferId, RequestId, TenantId};
use crate::language::{LanguageId, LanguagePair};
use crate::model::{Priority, Speciality};
use crate::policy::RoutingPolicy;
use crate::stats::{Counters, PresenceTime};
use crate::time::{Timestamp, millis};

use state::{Booking, IState, Interp, LastCall, Offer, Pool, RState, Request, Timer};

/// Most interpreters a request may exclude.
pub const MAX_EXCLUDED: usize = 64;
/// Most language pairs one interpreter may cover.
pub const MAX_PAIRS: usize = 32;
/// Most tenants one interpreter may serve directly.
pub const MAX_TENANTS_PER_INTERPRETER: usize = 256;

#[derive(Clone, Debug)]
struct Tenant {
    spec: TenantSpec,
}

/// Every input the engine accepts, for logging and replay. Each is equivalent to the
/// `handle_*` method of the same name.
#[derive(Clone, Debug)]
pub enum Input {
    /// Register a tenant.
    AddTenant(TenantSpec),
    /// Replace a tenant's policy.
    SetPolicy(TenantId, RoutingPolicy),
    /// Register a desk of a tenant.
    AddDesk(DeskId, TenantId),
    /// Register an interpreter (offline).
    AddInterpreter(InterpreterSpec),
    /// Replace an interpreter's profile (not while offered or in a call).
    UpdateInterpreter(InterpreterSpec),
    /// Remove an offline interpreter.
    RemoveInterpreter(InterpreterId),
    /// An interpreter changes availability.
    SetAvailability(InterpreterId, Availability),
    /// A desk requests an interpreter.
    Submit(RequestSpec),
    /// The desk gives up waiting.
    Cancel(RequestId),
    /// An interpreter accepts an offer.
    Accept(OfferId, InterpreterId),
    /// An interpreter declines an offer.
    Decline(OfferId, InterpreterId),
    /// A call ends.
    EndCall(RequestId),
    /// Reserve an interpreter for a slot.
    Book(BookingSpec),
    /// Cancel a booking.
    CancelBooking(BookingId),
    /// Time passes.
    Timeout,
}

/// What an input created, if anything.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reply {
    /// Nothing to report beyond the outputs.
    Done,
    /// A request was created (it may already have ended: see the outputs).
    Request(RequestId),
    /// A booking was made with this interpreter.
    Booking(BookingId, InterpreterId),
}

/// The dispatch engine.
#[derive(Debug)]
pub struct Engine {
    now: Timestamp,
    tenants: FxHashMap<TenantId, Tenant>,
    desks: FxHashMap<DeskId, TenantId>,
    interps: FxHashMap<InterpreterId, Interp>,
    pools: FxHashMap<LanguagePair, Pool>,
    queues: FxHashMap<LanguagePair, queue::Queue>,
    requests: FxHashMap<RequestId, Request>,
    offers: FxHashMap<OfferId, Offer>,
    bookings: FxHashMap<BookingId, Booking>,
    timers: timers::Timers,
    next_request: u64,
    next_offer: u64,
    next_booking: u64,
    outputs: VecDeque<Output>,
    /// Interpreters that became idle during this input, matched at its end.
    became_idle: Vec<InterpreterId>,
    counters: FxHashMap<(TenantId, LanguageId), Counters>,
    presence_time: PresenceTime,
    /// Exponentially weighted handle time per pair, ms.
    aht_ms: FxHashMap<LanguagePair, f64>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// An empty engine.
    pub fn new() -> Engine {
        Engine {
            now: Timestamp::EPOCH,
            tenants: FxHashMap::default(),
            desks: FxHashMap::default(),
            interps: FxHashMap::default(),
            pools: FxHashMap::default(),
            queues: FxHashMap::default(),
            requests: FxHashMap::default(),
            offers: FxHashMap::default(),
            bookings: FxHashMap::default(),
            timers: timers::Timers::default(),
            next_request: 1,
            next_offer: 1,
            next_booking: 1,
            outputs: VecDeque::new(),
            became_idle: Vec::new(),
            counters: FxHashMap::default(),
            presence_time: PresenceTime::default(),
            aht_ms: FxHashMap::default(),
        }
    }

    /// The next output to act on.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Engine::handle_timeout`] should next be called. A timer may turn out to be
    /// stale (its record changed); calling early or on a stale one is harmless.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.next()
    }

    /// The latest `now` the engine has seen.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Apply one input.
    pub fn handle_input(&mut self, now: Timestamp, input: Input) -> Result<Reply, Error> {
        match input {
            Input::AddTenant(spec) => self.add_tenant(now, spec).map(|()| Reply::Done),
            Input::SetPolicy(t, p) => self.set_policy(now, t, p).map(|()| Reply::Done),
            Input::AddDesk(d, t) => self.add_desk(now, d, t).map(|()| Reply::Done),
            Input::AddInterpreter(spec) => self.add_interpreter(now, spec).map(|()| Reply::Done),
            Input::UpdateInterpreter(spec) => self.update_interpreter(now, spec).map(|()| Reply::Done),
            Input::RemoveInterpreter(i) => self.remove_interpreter(now, i).map(|()| Reply::Done),
            Input::SetAvailability(i, a) => self.set_availability(now, i, a).map(|()| Reply::Done),
            Input::Submit(spec) => self.submit(now, spec).map(Reply::Request),
            Input::Cancel(r) => self.cancel(now, r).map(|()| Reply::Done),
            Input::Accept(o, i) => self.accept(now, o, i).map(|()| Reply::Done),
            Input::Decline(o, i) => self.decline(now, o, i).map(|()| Reply::Done),
            Input::EndCall(r) => self.end_call(now, r).map(|()| Reply::Done),
            Input::Book(spec) => self.book(now, spec).map(|(b, i)| Reply::Booking(b, i)),
            Input::CancelBooking(b) => self.cancel_booking(now, b).map(|()| Reply::Done),
            Input::Timeout => {
                self.handle_timeout(now);
                Ok(Reply::Done)
            }
        }
    }

    fn advance(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
    }

    /// A timer a policy delay from now (few distinct delays: kept in FIFOs).
    fn timer_after(&mut self, delay: Duration, timer: Timer) {
        self.timers.after(self.now, millis(delay), timer);
    }

    /// A timer at an absolute instant (rosters, bookings).
    fn timer_at(&mut self, at: Timestamp, timer: Timer) {
        self.timers.at(at, timer);
    }

    fn tenant(&self, id: TenantId) -> Result<&Tenant, Error> {
        self.tenants.get(&id).ok_or(Error::UnknownTenant(id))
    }

    fn policy(&self, id: TenantId) -> &RoutingPolicy {
        // Requests, bookings and calls only exist for registered tenants, which are never removed.
        &self.tenants[&id].spec.policy
    }

    fn counters(&mut self, tenant: TenantId, language: LanguageId) -> &mut Counters {
        self.counters.entry((tenant, language)).or_default()
    }

    // ---- directory ------------------------------------------------------------------

    /// Register a tenant.
    pub fn add_tenant(&mut self, now: Timestamp, spec: TenantSpec) -> Result<(), Error> {
        self.advance(now);
        if self.tenants.contains_key(&spec.id) {
            return Err(Error::Duplicate { what: "tenant", id: u64::from(spec.id.0) });
        }
        spec.policy.validate()?;
        self.tenants.insert(spec.id, Tenant { spec });
        Ok(())
    }

    /// Replace a tenant's routing policy. Waiting requests keep their step index
    /// (clamped to the new policy's last step) and their place.
    pub fn set_policy(&mut self, now: Timestamp, tenant: TenantId, policy: RoutingPolicy) -> Result<(), Error> {
        self.advance(now);
        self.tenant(tenant)?;
        policy.validate()?;
        let last = (policy.steps.len() - 1) as u8;
        if let Some(t) = self.tenants.get_mut(&tenant) {
            t.spec.policy = policy;
        }
        let mut affected: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.tenant == tenant && r.state == RState::Waiting)
            .map(|(id, _)| *id)
            .collect();
        affected.sort_unstable();
        for id in affected {
            if let Some(r) = self.requests.get_mut(&id)
                && r.step > last
            {
                r.step = last;
                r.step_deadline = None;
            }
            self.route(id);
        }
        self.match_became_idle();
        Ok(())
    }

    /// Register a desk of a tenant.
    pub fn add_desk(&mut self, now: Timestamp, desk: DeskId, tenant: TenantId) -> Result<(), Error> {
        self.advance(now);
        self.tenant(tenant)?;
        if self.desks.contains_key(&desk) {
            return Err(Error::Duplicate { what: "desk", id: u64::from(desk.0) });
        }
        self.desks.insert(desk, tenant);
        Ok(())
    }

    fn check_interpreter_spec(&self, spec: &InterpreterSpec) -> Result<(), Error> {
        if spec.pairs.is_empty() {
            return Err(Error::Invalid {
                field: "pairs",
                problem: "an interpreter must cover at least one language pair",
            });
        }
        if spec.pairs.len() > MAX_PAIRS {
            return Err(Error::Invalid { field: "pairs", problem: "at most 32 language pairs" });
        }
        if spec.modalities.is_empty() {
            return Err(Error::Invalid { field: "modalities", problem: "at least one modality is needed" });
        }
        if spec.tenants.is_empty() && !spec.shared_pool {
            return Err(Error::Invalid {
                field: "tenants",
                problem: "an interpreter must serve a tenant or join the shared pool",
            });
        }
        if spec.tenants.len() > MAX_TENANTS_PER_INTERPRETER {
            return Err(Error::Invalid { field: "tenants", problem: "at most 256 tenants" });
        }
        if let Some(t) = spec.tenants.iter().find(|t| !self.tenants.contains_key(t)) {
            return Err(Error::UnknownTenant(*t));
        }
        Ok(())
    }

    fn normalise(mut spec: InterpreterSpec) -> InterpreterSpec {
        spec.pairs.sort_unstable();
        spec.pairs.dedup();
        spec.tenants.sort_unstable();
        spec.tenants.dedup();
        spec.specialities = spec.specialities.with(Speciality::General);
        spec
    }

    /// Register an interpreter. They start offline.
    pub fn add_interpreter(&mut self, now: Timestamp, spec: InterpreterSpec) -> Result<(), Error> {
        self.advance(now);
        if self.interps.contains_key(&spec.id) {
            return Err(Error::Duplicate { what: "interpreter", id: u64::from(spec.id.0) });
        }
        self.check_interpreter_spec(&spec)?;
        let spec = Self::normalise(spec);
        let id = spec.id;
        let roster = spec.roster.state_at(self.now);
        for pair in &spec.pairs {
            self.pools.entry(*pair).or_default().all.push(id);
        }
        self.interps.insert(
            id,
            Interp {
                spec,
                state: IState::Offline,
                state_since: self.now,
                on_roster: roster.on,
                roster_next: roster.next_change,
                reserved: false,
                bookings: Vec::new(),
                idle_since: self.now,
                missed_in_row: 0,
                last_call: None,
                indexed_idle: false,
                indexed_staffed: false,
            },
        );
        if let Some(at) = roster.next_change {
            self.timer_at(at, Timer::Roster(id));
        }
        Ok(())
    }

    /// Replace an interpreter's profile. Refused while an offer rings or a call runs.
    /// Bookings already made are kept.
    pub fn update_interpreter(&mut self, now: Timestamp, spec: InterpreterSpec) -> Result<(), Error> {
        self.advance(now);
        let current = self.interps.get(&spec.id).ok_or(Error::UnknownInterpreter(spec.id))?;
        if matches!(current.state, IState::Offered(_) | IState::InCall(_)) {
            return Err(Error::InvalidTransition {
                interpreter: spec.id,
                from: current.state.presence(),
                action: "change profile",
            });
        }
        self.check_interpreter_spec(&spec)?;
        let spec = Self::normalise(spec);
        let id = spec.id;
        self.unindex(id);
        let old_pairs = self.interps[&id].spec.pairs.clone();
        for pair in &old_pairs {
            if let Some(p) = self.pools.get_mut(pair) {
                p.all.retain(|i| *i != id);
            }
        }
        for pair in &spec.pairs {
            self.pools.entry(*pair).or_default().all.push(id);
        }
        let roster = spec.roster.state_at(self.now);
        if let Some(i) = self.interps.get_mut(&id) {
            i.spec = spec;
            i.on_roster = roster.on;
            i.roster_next = roster.next_change;
        }
        if let Some(at) = roster.next_change {
            self.timer_at(at, Timer::Roster(id));
        }
        self.reindex(id);
        // Requests held for this interpreter are listed under their (maybe new) tier.
        let mut held: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.hold_until.is_some() && r.preferred == Some(id))
            .map(|(r, _)| *r)
            .collect();
        held.sort_unstable();
        for r in held {
            self.sync_queue(r);
        }
        self.match_became_idle();
        Ok(())
    }

    /// Remove an interpreter, who must be offline and hold no booking.
    pub fn remove_interpreter(&mut self, now: Timestamp, id: InterpreterId) -> Result<(), Error> {
        self.advance(now);
        let i = self.interps.get(&id).ok_or(Error::UnknownInterpreter(id))?;
        if i.state != IState::Offline {
            return Err(Error::InvalidTransition { interpreter: id, from: i.state.presence(), action: "be removed" });
        }
        if !i.bookings.is_empty() {
            return Err(Error::Invalid { field: "interpreter", problem: "cancel their bookings first" });
        }
        let pairs = i.spec.pairs.clone();
        for pair in &pairs {
            if let Some(p) = self.pools.get_mut(pair) {
                p.all.retain(|x| *x != id);
            }
        }
        self.interps.remove(&id);
        Ok(())
    }

    // ---- interpreters -----------------------------------------------------------------

    /// An interpreter signs in, becomes ready, steps away or signs out.
    ///
    /// `Available` also ends wrap-up and not-ready. Going not-ready or offline while an
    /// offer rings rescinds it (the request goes to the next candidate). Refused during
    /// a call: end the call first.
    pub fn set_availability(&mut self, now: Timestamp, id: InterpreterId, to: Availability) -> Result<(), Error> {
        self.advance(now);
        let i = self.interps.get(&id).ok_or(Error::UnknownInterpreter(id))?;
        let from = i.state;
        let target = match to {
            Availability::Available => IState::Available,
            Availability::NotReady => IState::NotReady(NotReadyReason::Manual),
            Availability::Offline => IState::Offline,
        };
        match from {
            IState::InCall(_) => {
                return Err(Error::InvalidTransition {
                    interpreter: id,
                    from: from.presence(),
                    action: "change availability",
                });
            }
            IState::Offered(offer) if to == Availability::Available => {
                // Already ringing: nothing to do.
                let _ = offer;
                return Ok(());
            }
            IState::Offered(offer) => {
                self.close_offer(offer, OfferEnd::Rescinded(RescindReason::InterpreterLeft), target);
            }
            IState::WrapUp(_) => {
                self.finish_wrap_up(id);
                self.set_state(id, target);
            }
            _ if from == target => return Ok(()),
            _ => {
                if to == Availability::Available
                    && let Some(i) = self.interps.get_mut(&id)
                {
                    i.missed_in_row = 0;
                }
                self.set_state(id, target);
            }
        }
        self.match_became_idle();
        Ok(())
    }

    /// Record the handle time of the call being wrapped up.
    fn finish_wrap_up(&mut self, id: InterpreterId) {
        let now = self.now;
        let Some(call) = self.interps.get_mut(&id).and_then(|i| i.last_call.take()) else { return };
        let handle = now.since(call.answered_at).as_millis() as u64;
        let c = self.counters(call.tenant, call.language);
        c.completed += 1;
        c.talk_ms += call.talk_ms;
        c.handle_ms += handle;
        let ewma = self.aht_ms.entry(call.pair).or_insert(handle as f64);
        *ewma = 0.8 * *ewma + 0.2 * handle as f64;
    }

    /// Change an interpreter's state: accounts time, emits presence, reindexes.
    fn set_state(&mut self, id: InterpreterId, to: IState) {
        let now = self.now;
        let Some(i) = self.interps.get_mut(&id) else { return };
        let from = i.state;
        if from == to {
            return;
        }
        let elapsed = millis(now.since(i.state_since)) as u64;
        self.presence_time.ms[i.spec.tier.index()][from.presence().index()] += elapsed;
        i.state = to;
        i.state_since = now;
        if to == IState::Available {
            i.idle_since = now;
        }
        if from.presence() != to.presence() {
            self.outputs.push_back(Output::PresenceChanged { interpreter: id, presence: to.presence() });
        }
        if let IState::WrapUp(Some(until)) = to {
            self.timer_after(until.since(now), Timer::WrapUp(id));
        }
        self.reindex(id);
    }

    // ---- requests ---------------------------------------------------------------------

    /// A desk requests an interpreter. The outputs say whether an offer is ringing,
    /// the request waits (with its place and estimate), or nobody can take it.
    pub fn submit(&mut self, now: Timestamp, spec: RequestSpec) -> Result<RequestId, Error> {
        self.advance(now);
        let tenant = self.tenant(spec.tenant)?;
        match self.desks.get(&spec.desk) {
            None => return Err(Error::UnknownDesk(spec.desk)),
            Some(t) if *t != spec.tenant => return Err(Error::WrongTenant { desk: spec.desk, tenant: spec.tenant }),
            Some(_) => {}
        }
        let pair = LanguagePair::new(spec.language, spec.desk_language).ok_or(Error::Invalid {
            field: "language",
            problem: "the resident's and the desk's language are the same",
        })?;
        if spec.excluded.len() > MAX_EXCLUDED {
            return Err(Error::Invalid { field: "excluded", problem: "at most 64 excluded interpreters" });
        }
        if let Some(p) = spec.preferred
            && !self.interps.contains_key(&p)
        {
            return Err(Error::UnknownInterpreter(p));
        }
        let policy = &tenant.spec.policy;
        let credit = match spec.priority {
            Priority::Normal => 0,
            Priority::Urgent => millis(policy.urgent_credit),
        };
        let fan_out = policy.fan_out(spec.language) as u8;
        let max_wait = policy.max_wait;
        let expires_at = self.now + max_wait;
        let hold = policy.preferred_hold;
        let id = RequestId(self.next_request);
        self.next_request += 1;
        let mut tried = spec.excluded;
        tried.sort_unstable();
        tried.dedup();
        self.requests.insert(
            id,
            Request {
                tenant: spec.tenant,
                pair,
                language: pair.other(spec.desk_language),
                modality: spec.modality,
                speciality: spec.speciality,
                strict_speciality: spec.strict_speciality,
                preferred: spec.preferred,
                tried,
                submitted_at: self.now,
                key: self.now.as_millis().saturating_sub(credit),
                step: 0,
                step_deadline: None,
                expires_at,
                hold_until: None,
                state: RState::Waiting,
                offers_out: Vec::new(),
                offers_made: 0,
                fan_out,
                queued: false,
                queued_tiers: crate::model::TierSet::EMPTY,
            },
        );
        self.counters(spec.tenant, pair.other(spec.desk_language)).requests += 1;
        self.timer_after(max_wait, Timer::Expire(id));
        // A returning case's interpreter gets the first chance, if signed in.
        if let Some(p) = spec.preferred
            && self.preferred_can_take(id, p)
        {
            let until = self.now + hold;
            if let Some(r) = self.requests.get_mut(&id) {
                r.hold_until = Some(until);
            }
            self.timer_after(hold, Timer::Hold(id));
        }
        let queued_at = self.outputs.len();
        self.start_step(id, 0);
        if self.requests.contains_key(&id) {
            self.route(id);
            self.announce(id, queued_at);
        }
        self.match_became_idle();
        Ok(id)
    }

    /// The desk gives up waiting: the request ends abandoned and its offers are rescinded.
    pub fn cancel(&mut self, now: Timestamp, id: RequestId) -> Result<(), Error> {
        self.advance(now);
        let r = self.requests.get(&id).ok_or(Error::UnknownRequest(id))?;
        if r.state != RState::Waiting {
            return Err(Error::NotWaiting(id));
        }
        self.end_request(id, Outcome::Abandoned);
        self.match_became_idle();
        Ok(())
    }

    /// An interpreter accepts an offer: the request is assigned and any parallel offers
    /// are rescinded.
    pub fn accept(&mut self, now: Timestamp, offer: OfferId, interpreter: InterpreterId) -> Result<(), Error> {
        self.advance(now);
        let o = self.open_offer(offer, interpreter)?;
        let now = self.now;
        self.offers.remove(&offer);
        let Some(r) = self.requests.get_mut(&o.request) else { return Ok(()) };
        r.offers_out.retain(|x| *x != offer);
        r.state = RState::InCall { interpreter, answered_at: now };
        let (tenant, language, offers_made, waited) = (r.tenant, r.language, r.offers_made, now.since(r.submitted_at));
        let others = std::mem::take(&mut r.offers_out);
        self.sync_queue(o.request);
        for other in others {
            self.close_offer(other, OfferEnd::Rescinded(RescindReason::AnsweredElsewhere), IState::Available);
        }
        if let Some(i) = self.interps.get_mut(&interpreter) {
            i.missed_in_row = 0;
        }
        self.set_state(interpreter, IState::InCall(o.request));
        self.counters(tenant, language).record_answer(waited);
        self.outputs.push_back(Output::Assigned {
            request: o.request,
            interpreter,
            offer,
            waited,
            offers: offers_made,
        });
        self.match_became_idle();
        Ok(())
    }

    /// An interpreter declines an offer: the request goes to the next candidate.
    pub fn decline(&mut self, now: Timestamp, offer: OfferId, interpreter: InterpreterId) -> Result<(), Error> {
        self.advance(now);
        self.open_offer(offer, interpreter)?;
        if let Some(i) = self.interps.get_mut(&interpreter) {
            i.missed_in_row = 0;
        }
        self.close_offer(offer, OfferEnd::Declined, IState::Available);
        self.match_became_idle();
        Ok(())
    }

    fn open_offer(&self, offer: OfferId, interpreter: InterpreterId) -> Result<Offer, Error> {
        match self.offers.get(&offer) {
            Some(o) if o.interpreter == interpreter => Ok(*o),
            Some(_) => Err(Error::NotYourOffer { offer, interpreter }),
            None if offer.0 > 0 && offer.0 < self.next_offer => Err(Error::OfferClosed(offer)),
            None => Err(Error::UnknownOffer(offer)),
        }
    }

    /// A call ends: the interpreter goes into wrap-up.
    pub fn end_call(&mut self, now: Timestamp, id: RequestId) -> Result<(), Error> {
        self.advance(now);
        let r = self.requests.get(&id).ok_or(Error::UnknownRequest(id))?;
        let RState::InCall { interpreter, answered_at } = r.state else { return Err(Error::NotInCall(id)) };
        let now = self.now;
        let talk = now.since(answered_at);
        let call = LastCall {
            tenant: r.tenant,
            language: r.language,
            pair: r.pair,
            answered_at,
            talk_ms: talk.as_millis() as u64,
        };
        let wrap = self.policy(r.tenant).wrap_up;
        self.requests.remove(&id);
        if let Some(i) = self.interps.get_mut(&interpreter) {
            i.last_call = Some(call);
        }
        self.outputs.push_back(Output::CallEnded { request: id, interpreter, talk });
        match wrap {
            Some(d) if d.is_zero() => {
                self.set_state(interpreter, IState::WrapUp(None));
                self.finish_wrap_up(interpreter);
                self.set_state(interpreter, IState::Available);
            }
            Some(d) => self.set_state(interpreter, IState::WrapUp(Some(now + d))),
            None => self.set_state(interpreter, IState::WrapUp(None)),
        }
        self.match_became_idle();
        Ok(())
    }

    // ---- time -------------------------------------------------------------------------

    /// Fire every timer due at or before `now`, each at its own instant.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        while let Some((at, timer)) = self.timers.pop_due(now) {
            self.advance(at);
            self.fire(at, timer);
            self.match_became_idle();
        }
        self.advance(now);
    }

    fn fire(&mut self, at: Timestamp, timer: Timer) {
        match timer {
            Timer::Ring(o) => {
                if let Some(offer) = self.offers.get(&o).copied()
                    && offer.ring_until == at
                {
                    let tenant = self.requests.get(&offer.request).map(|r| r.tenant);
                    let limit = tenant.map_or(u8::MAX, |t| self.policy(t).missed_offers_limit);
                    let missed = self.interps.get_mut(&offer.interpreter).map_or(0, |i| {
                        i.missed_in_row = i.missed_in_row.saturating_add(1);
                        i.missed_in_row
                    });
                    let next = if missed >= limit {
                        IState::NotReady(NotReadyReason::MissedOffers)
                    } else {
                        IState::Available
                    };
                    self.close_offer(o, OfferEnd::Missed, next);
                }
            }
            Timer::Step(r) => {
                if let Some(req) = self.requests.get(&r)
                    && req.step_deadline == Some(at)
                    && req.state == RState::Waiting
                {
                    let next = req.step + 1;
                    self.start_step(r, next);
                    if self.requests.contains_key(&r) {
                        self.route(r);
                    }
                }
            }
            Timer::Expire(r) => {
                if let Some(req) = self.requests.get(&r)
                    && req.expires_at == at
                    && req.state == RState::Waiting
                {
                    self.end_request(r, Outcome::Expired);
                }
            }
            Timer::Hold(r) => {
                if let Some(req) = self.requests.get_mut(&r)
                    && req.hold_until == Some(at)
                {
                    req.hold_until = None;
                    if req.state == RState::Waiting {
                        self.route(r);
                        self.settle(r);
                    }
                }
            }
            Timer::WrapUp(i) => {
                if self.interps.get(&i).is_some_and(|x| x.state == IState::WrapUp(Some(at))) {
                    self.finish_wrap_up(i);
                    self.set_state(i, IState::Available);
                }
            }
            Timer::Roster(i) => {
                let Some(x) = self.interps.get_mut(&i) else { return };
                if x.roster_next != Some(at) {
                    return;
                }
                let s = x.spec.roster.state_at(at);
                x.on_roster = s.on;
                x.roster_next = s.next_change;
                if let Some(next) = s.next_change {
                    self.timer_at(next, Timer::Roster(i));
                }
                self.reindex(i);
            }
            Timer::BookingGuard(b) | Timer::BookingStart(b) | Timer::BookingEnd(b) => self.fire_booking(at, timer, b),
        }
    }

    // ---- bookings ---------------------------------------------------------------------

    /// Reserve a named or any eligible interpreter for a slot. From the tenant's booking
    /// guard before the slot to its end the interpreter is not offered on-demand calls.
    pub fn book(&mut self, now: Timestamp, spec: BookingSpec) -> Result<(BookingId, InterpreterId), Error> {
        self.advance(now);
        let tenant = self.tenant(spec.tenant)?;
        let guard = tenant.spec.policy.booking_guard;
        if spec.end <= spec.start {
            return Err(Error::Invalid { field: "end", problem: "the slot must end after it starts" });
        }
        if spec.start < self.now {
            return Err(Error::Invalid { field: "start", problem: "the slot must not start in the past" });
        }
        let pair = LanguagePair::new(spec.language, spec.desk_language).ok_or(Error::Invalid {
            field: "language",
            problem: "the resident's and the desk's language are the same",
        })?;
        let interpreter = match spec.interpreter {
            Some(id) => {
                let i = self.interps.get(&id).ok_or(Error::UnknownInterpreter(id))?;
                self.bookable(i, &spec, pair)?;
                id
            }
            None => {
                let pool = self.pools.get(&pair).map(|p| p.all.as_slice()).unwrap_or_default();
                pool.iter()
                    .filter_map(|id| self.interps.get(id))
                    .filter(|i| self.bookable(i, &spec, pair).is_ok())
                    .min_by_key(|i| (i.spec.tier, i.bookings.len(), i.spec.id))
                    .map(|i| i.spec.id)
                    .ok_or(Error::NotBookable("nobody eligible is rostered and free for the whole slot"))?
            }
        };
        let id = BookingId(self.next_booking);
        self.next_booking += 1;
        let guard_from = spec.start - guard;
        self.bookings.insert(
            id,
            Booking { tenant: spec.tenant, interpreter, guard_from, start: spec.start, end: spec.end, started: false },
        );
        if let Some(i) = self.interps.get_mut(&interpreter) {
            i.bookings.push(id);
        }
        self.timer_at(guard_from.max(self.now), Timer::BookingGuard(id));
        self.timer_at(spec.start, Timer::BookingStart(id));
        self.timer_at(spec.end, Timer::BookingEnd(id));
        self.refresh_reservation(interpreter);
        self.match_became_idle();
        Ok((id, interpreter))
    }

    fn bookable(&self, i: &Interp, spec: &BookingSpec, pair: LanguagePair) -> Result<(), Error> {
        if !i.spec.pairs.contains(&pair) {
            return Err(Error::NotBookable("the interpreter does not cover the language"));
        }
        if !i.spec.modalities.contains(spec.modality) {
            return Err(Error::NotBookable("the interpreter does not work in this modality"));
        }
        if let Some(s) = spec.speciality
            && !i.spec.specialities.contains(s)
        {
            return Err(Error::NotBookable("the interpreter lacks the speciality"));
        }
        if !i.spec.tenants.contains(&spec.tenant) && !i.spec.shared_pool {
            return Err(Error::NotBookable("the interpreter does not serve this tenant"));
        }
        if !i.spec.roster.covers(spec.start, spec.end) {
            return Err(Error::NotBookable("the interpreter is not rostered for the whole slot"));
        }
        let clash =
            i.bookings.iter().filter_map(|b| self.bookings.get(b)).any(|b| b.start < spec.end && spec.start < b.end);
        if clash {
            return Err(Error::NotBookable("the interpreter has another booking in the slot"));
        }
        Ok(())
    }

    /// Cancel a booking; the interpreter returns to on-demand calls if nothing else holds them.
    pub fn cancel_booking(&mut self, now: Timestamp, id: BookingId) -> Result<(), Error> {
        self.advance(now);
        let b = self.bookings.remove(&id).ok_or(Error::UnknownBooking(id))?;
        if let Some(i) = self.interps.get_mut(&b.interpreter) {
            i.bookings.retain(|x| *x != id);
        }
        self.refresh_reservation(b.interpreter);
        self.match_became_idle();
        Ok(())
    }

    fn fire_booking(&mut self, at: Timestamp, timer: Timer, id: BookingId) {
        let Some(b) = self.bookings.get_mut(&id) else { return };
        let interpreter = b.interpreter;
        match timer {
            Timer::BookingStart(_) if b.start == at && !b.started => {
                b.started = true;
                self.outputs.push_back(Output::BookingStarted { booking: id, interpreter });
            }
            Timer::BookingEnd(_) if b.end == at => {
                self.bookings.remove(&id);
                if let Some(i) = self.interps.get_mut(&interpreter) {
                    i.bookings.retain(|x| *x != id);
                }
                self.outputs.push_back(Output::BookingEnded { booking: id, interpreter });
            }
            _ => {}
        }
        self.refresh_reservation(interpreter);
    }

    fn refresh_reservation(&mut self, id: InterpreterId) {
        let now = self.now;
        let Some(i) = self.interps.get(&id) else { return };
        let reserved =
            i.bookings.iter().filter_map(|b| self.bookings.get(b)).any(|b| b.guard_from <= now && now < b.end);
        if reserved != i.reserved {
            if let Some(i) = self.interps.get_mut(&id) {
                i.reserved = reserved;
            }
            self.reindex(id);
        }
    }

    // ---- tenants' time ----------------------------------------------------------------

    fn end_of_local_day(&self, tz: &TimeZone) -> Timestamp {
        let today = tz.to_datetime(self.now.to_jiff()).date();
        today
            .tomorrow()
            .ok()
            .and_then(|d| tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight())).ok())
            .map_or(self.now, Timestamp::from_jiff)
    }

    /// The public presence of an interpreter.
    pub fn presence(&self, id: InterpreterId) -> Result<Presence, Error> {
        self.interps.get(&id).map(|i| i.state.presence()).ok_or(Error::UnknownInterpreter(id))
    }

    /// Whether the interpreter's roster is on now.
    pub fn on_roster(&self, id: InterpreterId) -> Result<bool, Error> {
        self.interps.get(&id).map(|i| i.on_roster).ok_or(Error::UnknownInterpreter(id))
    }
}
