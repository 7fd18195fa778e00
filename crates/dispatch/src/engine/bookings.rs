//! Bookings: an interpreter reserved for a slot, cancelled, and the timers that begin
//! and end the reservation; the tenant's local day.

use jiff::tz::TimeZone;

use std::time::Duration;

use crate::directory::BookingSpec;
use crate::error::Error;
use crate::event::{Outcome, Output};
use crate::ids::{BookingId, InterpreterId, RequestId};
use crate::language::LanguagePair;
use crate::time::Timestamp;

use super::state::{Booking, IState, Interp, RState, Request, Timer};

/// How long a booking's request waits before ringing its interpreter again after they
/// declined or missed it.
pub const BOOKED_RING_PAUSE: Duration = Duration::from_secs(30);

use super::Engine;

impl Engine {
    // ---- bookings ---------------------------------------------------------------------

    /// Reserve a named or any eligible interpreter for a slot. From the tenant's booking
    /// guard before the slot to its end the interpreter is not offered on-demand calls;
    /// with a desk, the slot's start opens a request that rings them.
    pub fn book(&mut self, now: Timestamp, spec: BookingSpec) -> Result<(BookingId, InterpreterId), Error> {
        if spec.start < now.max(self.now) {
            return Err(Error::Invalid { field: "start", problem: "the slot must not start in the past" });
        }
        let id = BookingId(self.next_booking);
        self.book_as(now, id, spec).map(|i| (id, i))
    }

    /// [`Engine::book`] under an id the caller chose (the store's, so that a booking
    /// reloaded after a restart keeps it). Refused when the id is taken; a slot already
    /// under way is accepted (reloaded after a restart, it starts at once).
    pub fn book_as(&mut self, now: Timestamp, id: BookingId, spec: BookingSpec) -> Result<InterpreterId, Error> {
        self.advance(now);
        if self.bookings.contains_key(&id) {
            return Err(Error::Duplicate { what: "booking", id: id.0 });
        }
        let tenant = self.tenant(spec.tenant)?;
        let guard = tenant.spec.policy.booking_guard;
        if spec.end <= spec.start {
            return Err(Error::Invalid { field: "end", problem: "the slot must end after it starts" });
        }
        if spec.end <= self.now {
            return Err(Error::Invalid { field: "end", problem: "the slot is over" });
        }
        if let Some(desk) = spec.desk {
            match self.desks.get(&desk) {
                None => return Err(Error::UnknownDesk(desk)),
                Some(t) if *t != spec.tenant => return Err(Error::WrongTenant { desk, tenant: spec.tenant }),
                Some(_) => {}
            }
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
        self.next_booking = self.next_booking.max(id.0 + 1);
        let guard_from = spec.start - guard;
        self.bookings.insert(
            id,
            Booking {
                tenant: spec.tenant,
                interpreter,
                guard_from,
                start: spec.start,
                end: spec.end,
                started: false,
                desk: spec.desk,
                pair,
                language: pair.other(spec.desk_language),
                modality: spec.modality,
                speciality: spec.speciality,
                request: None,
            },
        );
        if let Some(i) = self.interps.get_mut(&interpreter) {
            i.bookings.push(id);
        }
        self.timer_at(guard_from.max(self.now), Timer::BookingGuard(id));
        self.timer_at(spec.start.max(self.now), Timer::BookingStart(id));
        self.timer_at(spec.end, Timer::BookingEnd(id));
        self.refresh_reservation(interpreter);
        self.match_became_idle();
        Ok(interpreter)
    }

    pub(super) fn bookable(&self, i: &Interp, spec: &BookingSpec, pair: LanguagePair) -> Result<(), Error> {
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

    /// Whether [`Engine::book`] would hold someone for `spec` now (a named interpreter, or
    /// any eligible one), without holding anybody: the free slots a resident may choose.
    pub fn can_book(&self, spec: &BookingSpec) -> bool {
        let Some(pair) = LanguagePair::new(spec.language, spec.desk_language) else { return false };
        if spec.end <= spec.start || spec.start < self.now || self.tenant(spec.tenant).is_err() {
            return false;
        }
        if spec.desk.is_some_and(|d| self.desks.get(&d) != Some(&spec.tenant)) {
            return false;
        }
        let eligible = |i: &Interp| self.bookable(i, spec, pair).is_ok();
        match spec.interpreter {
            Some(id) => self.interps.get(&id).is_some_and(eligible),
            None => {
                self.pools.get(&pair).is_some_and(|p| p.all.iter().filter_map(|id| self.interps.get(id)).any(eligible))
            }
        }
    }

    /// Cancel a booking; the interpreter returns to on-demand calls if nothing else holds
    /// them. A booking's request still waiting ends abandoned; one whose consultation is
    /// in progress cannot be cancelled (end the call).
    pub fn cancel_booking(&mut self, now: Timestamp, id: BookingId) -> Result<(), Error> {
        self.advance(now);
        let b = self.bookings.get(&id).ok_or(Error::UnknownBooking(id))?;
        if let Some(r) = b.request {
            match self.requests.get(&r).map(|r| r.state) {
                Some(RState::InCall { .. }) => {
                    return Err(Error::NotBookable("the booking's consultation is in progress"));
                }
                Some(RState::Waiting) => self.end_request(r, Outcome::Abandoned),
                None => {}
            }
        }
        let Some(b) = self.bookings.remove(&id) else { return Ok(()) };
        if let Some(i) = self.interps.get_mut(&b.interpreter) {
            i.bookings.retain(|x| *x != id);
        }
        self.refresh_reservation(b.interpreter);
        self.match_became_idle();
        Ok(())
    }

    pub(super) fn fire_booking(&mut self, at: Timestamp, timer: Timer, id: BookingId) {
        let Some(b) = self.bookings.get_mut(&id) else { return };
        let interpreter = b.interpreter;
        match timer {
            Timer::BookingStart(_) if b.start.max(at) == at && !b.started => {
                b.started = true;
                let request = self.open_booked_request(id);
                self.outputs.push_back(Output::BookingStarted { booking: id, interpreter, request });
                if let Some(r) = request {
                    self.route(r);
                }
            }
            Timer::BookingEnd(_) if b.end == at => {
                if let Some(r) = b.request
                    && self.requests.get(&r).is_some_and(|r| r.state == RState::Waiting)
                {
                    self.end_request(r, Outcome::Expired);
                }
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

    /// The request of a booking with a desk, opened at its slot: outside the queue, for
    /// the booked interpreter only, until the slot ends.
    fn open_booked_request(&mut self, id: BookingId) -> Option<RequestId> {
        let now = self.now;
        let b = self.bookings.get(&id)?;
        b.desk?;
        let request = RequestId(self.next_request);
        self.next_request += 1;
        let r = Request {
            speciality: b.speciality,
            preferred: Some(b.interpreter),
            booking: Some(id),
            ..Request::fresh(b.tenant, b.pair, b.language, b.modality, now, b.end)
        };
        let end = b.end;
        self.requests.insert(request, r);
        if let Some(b) = self.bookings.get_mut(&id) {
            b.request = Some(request);
        }
        self.timer_at(end, Timer::Expire(request));
        Some(request)
    }

    /// The booked interpreter, when a booking's request may ring them now: it waits
    /// without an offer and outside a pause, and they are available.
    pub(super) fn booked_interpreter_free(&self, booking: BookingId, r: &Request) -> Option<InterpreterId> {
        if r.state != RState::Waiting || !r.offers_out.is_empty() || r.hold_until.is_some() {
            return None;
        }
        let b = self.bookings.get(&booking)?;
        let i = self.interps.get(&b.interpreter)?;
        (i.state == IState::Available).then_some(b.interpreter)
    }

    /// An interpreter held for bookings became available: ring them for a booking's
    /// request that waits.
    pub(super) fn ring_booked(&mut self, interpreter: InterpreterId) {
        let Some(i) = self.interps.get(&interpreter) else { return };
        let waiting =
            i.bookings.iter().filter_map(|b| self.bookings.get(b).map(|x| (*b, x.request))).find_map(|(b, r)| {
                let r = r?;
                let req = self.requests.get(&r)?;
                (self.booked_interpreter_free(b, req) == Some(interpreter)).then_some(r)
            });
        if let Some(r) = waiting {
            self.make_offer(r, interpreter);
        }
    }

    /// A booking's offer was declined or missed: ring again after a pause, not at once.
    pub(super) fn quiet_booked(&mut self, request: RequestId) {
        let until = self.now + BOOKED_RING_PAUSE;
        let Some(r) = self.requests.get_mut(&request) else { return };
        if r.booking.is_none() || r.state != RState::Waiting {
            return;
        }
        r.hold_until = Some(until);
        self.timer_at(until, Timer::Hold(request));
    }

    pub(super) fn refresh_reservation(&mut self, id: InterpreterId) {
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

    pub(super) fn end_of_local_day(&self, tz: &TimeZone) -> Timestamp {
        let today = tz.to_datetime(self.now.to_jiff()).date();
        today
            .tomorrow()
            .ok()
            .and_then(|d| tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight())).ok())
            .map_or(self.now, Timestamp::from_jiff)
    }
}
