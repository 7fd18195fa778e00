//! Bookings: an interpreter reserved for a slot, cancelled, and the timers that begin
//! and end the reservation; the tenant's local day.

use jiff::tz::TimeZone;

use crate::directory::BookingSpec;
use crate::error::Error;
use crate::event::Output;
use crate::ids::{BookingId, InterpreterId};
use crate::language::LanguagePair;
use crate::time::Timestamp;

use super::state::{Booking, Interp, Timer};

use super::Engine;

impl Engine {
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

    pub(super) fn fire_booking(&mut self, at: Timestamp, timer: Timer, id: BookingId) {
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
