//! The dispatch engine: a sans-I/O state machine.
//!
//! Drive it with `handle_*` methods (or [`Engine::handle_input`] with an [`Input`]),
//! each carrying the caller's `now`; drain [`Engine::poll_output`] after each; call
//! [`Engine::handle_timeout`] when [`Engine::poll_timeout`] says so.
//!
//! By idea: this file holds the engine's state, inputs, interpreters' availability and
//! the timers' firing; `directory.rs` (tenants, policies, desks, interpreters),
//! `requests.rs` (submit, cancel, accept, decline, end), `bookings.rs` (reservations),
//! `routing.rs` and `queue.rs` (who is offered what), `query.rs` (read-only views),
//! `availability.rs` (whether a language can be served now, else when), `assign.rs`
//! (a coordinator's offer to an interpreter they choose),
//! `timers.rs`, `index.rs`, `state.rs` and `invariants.rs`.

mod assign;
mod availability;
mod bookings;
mod directory;
mod index;
mod invariants;
mod query;
mod queue;
mod requests;
mod timers;
pub use bookings::BOOKED_RING_PAUSE;
pub use query::Standing;
mod routing;
mod state;

use std::collections::VecDeque;
use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::directory::{BookingSpec, InterpreterSpec, RequestSpec, TenantSpec};
use crate::error::Error;
use crate::event::{Availability, NotReadyReason, OfferEnd, Outcome, Output, Presence, RescindReason};
use crate::ids::{BookingId, DeskId, InterpreterId, OfferId, RequestId, TenantId};
use crate::language::{LanguageId, LanguagePair};
use crate::policy::RoutingPolicy;
use crate::stats::{Counters, PresenceTime};
use crate::time::{Timestamp, millis};

use state::{Booking, IState, Interp, Offer, Pool, RState, Request, Timer};

/// Most interpreters a request may exclude.
pub const MAX_EXCLUDED: usize = 64;
/// Most language pairs one interpreter may cover.
pub const MAX_PAIRS: usize = 32;
/// Most tenants one interpreter may serve directly.
pub const MAX_TENANTS_PER_INTERPRETER: usize = 256;

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    /// A coordinator offers a waiting request to an interpreter they choose.
    AssignTo(RequestId, InterpreterId),
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

/// The dispatch engine. With the `serde` feature it is its own snapshot (outputs are not
/// part of it: take one when they are drained).
#[derive(Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
    #[cfg_attr(feature = "serde", serde(skip))]
    outputs: VecDeque<Output>,
    /// Interpreters that became idle during this input, matched at its end.
    #[cfg_attr(feature = "serde", serde(skip))]
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
            Input::AssignTo(r, i) => self.assign_to(now, r, i).map(|_| Reply::Done),
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
        let booked_ready = to == IState::Available && i.reserved;
        if let IState::WrapUp(Some(until)) = to {
            self.timer_after(until.since(now), Timer::WrapUp(id));
        }
        self.reindex(id);
        // Held for a booking: not idle for the pools, but its request may wait for them.
        if booked_ready {
            self.became_idle.push(id);
        }
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

    /// The public presence of an interpreter.
    pub fn presence(&self, id: InterpreterId) -> Result<Presence, Error> {
        self.interps.get(&id).map(|i| i.state.presence()).ok_or(Error::UnknownInterpreter(id))
    }

    /// Whether the interpreter's roster is on now.
    pub fn on_roster(&self, id: InterpreterId) -> Result<bool, Error> {
        self.interps.get(&id).map(|i| i.on_roster).ok_or(Error::UnknownInterpreter(id))
    }
}
