//! Bookings in the call core: the engine holds their interpreters (made now through the
//! API, or reloaded from the store at start under their stored numbers); at a slot the
//! engine opens the booked desk's request, which becomes a call like any other, the desk
//! told it is a booking's and the interpreter's offer marked with it.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::Call;
use super::convert::{err, rfc3339};
use super::{Core, Delivery, InviteInfo, Inviter, Reply};
use crate::bookings::{Booking, BookingLinks, refusal};

/// A change to the bookings the engine holds, already stored.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum BookingChange {
    /// Hold an interpreter for a booking: one just made (its `interpreter` is the one
    /// asked for, or any eligible when `requested_interpreter` is `None`), or one
    /// reloaded. Answers [`Reply::Booked`] with the interpreter held.
    Book(#[serde(with = "crate::bookings::held")] Box<Booking>),
    /// Hold again a stored booking at start: its interpreter, or when they can no longer
    /// be held (their roster changed) and none was named, any eligible one. Answers
    /// [`Reply::Booked`].
    Restore(#[serde(with = "crate::bookings::held")] Box<Booking>),
    /// Move a booking to the slot (and interpreter) of this one; the old slot stays
    /// held when the new one is refused.
    Move(#[serde(with = "crate::bookings::held")] Box<Booking>),
    /// New links for a booking (the old ones stop working, seats already taken stay).
    Relink(i64, BookingLinks),
    /// Let a booking go.
    Cancel(i64),
}

/// The bookings the engine holds, as the core needs them at their slots.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Booked {
    #[serde(with = "crate::bookings::held::by_id")]
    by_id: HashMap<i64, Booking>,
    /// Bookings whose consultation has begun (an interpreter answered its request).
    begun: std::collections::HashSet<i64>,
    /// Bookings whose interpreter was reminded.
    reminded: std::collections::HashSet<i64>,
}

/// How long before its slot a connected interpreter is told `booking_soon`.
const REMIND_BEFORE_MS: i64 = 15 * 60_000;

fn engine_id(id: i64) -> Result<d::BookingId, p::ProtocolError> {
    u64::try_from(id).map(d::BookingId).map_err(|_| err(p::ErrorCode::InvalidField, format!("booking {id}")))
}

fn refused(e: &d::Error) -> p::ProtocolError {
    err(p::ErrorCode::NotAllowed, refusal(e))
}

impl Core {
    /// Tell each held interpreter once, 15 minutes before, that their slot begins soon
    /// (those connected now: an interpreter who connects later sees it in their list).
    pub(super) fn remind_bookings(&mut self, now: d::Timestamp) {
        let now = now.as_millis();
        let due: Vec<(i64, i64, i64, String)> = self
            .booked
            .by_id
            .values()
            .filter(|b| b.start > now && b.start - REMIND_BEFORE_MS <= now && !self.booked.reminded.contains(&b.id))
            .filter_map(|b| Some((b.id, b.interpreter?, b.start, b.language.clone())))
            .filter(|(_, i, _, _)| self.sessions.connected(super::Client::Interpreter(*i)))
            .collect();
        for (booking, interpreter, start, language) in due {
            self.booked.reminded.insert(booking);
            let starts_at = rfc3339(d::Timestamp::from_millis(start));
            self.deliver(Delivery::Interpreter(
                interpreter,
                p::InterpreterEvent::BookingSoon { booking, starts_at, language },
            ));
        }
    }

    pub(super) fn booking(&mut self, now: d::Timestamp, change: BookingChange) -> Result<Reply, p::ProtocolError> {
        match change {
            BookingChange::Book(b) => {
                let interpreter = self.hold(now, &b, b.requested_interpreter)?;
                self.booked.by_id.insert(b.id, Booking { interpreter: Some(interpreter), ..*b });
                Ok(Reply::Booked { interpreter })
            }
            BookingChange::Restore(b) => {
                let stored = b.interpreter.or(b.requested_interpreter);
                let interpreter = match (self.hold(now, &b, stored), b.requested_interpreter) {
                    (Ok(i), _) => i,
                    (Err(_), None) if stored.is_some() => self.hold(now, &b, None)?,
                    (Err(e), _) => return Err(e),
                };
                self.booked.by_id.insert(b.id, Booking { interpreter: Some(interpreter), ..*b });
                Ok(Reply::Booked { interpreter })
            }
            BookingChange::Move(b) => {
                let id = engine_id(b.id)?;
                let old = self.booked.by_id.get(&b.id).cloned().ok_or_else(|| not_held(b.id))?;
                if old.start <= now.as_millis() {
                    return Err(err(p::ErrorCode::NotAllowed, "the slot has begun: it cannot be moved"));
                }
                self.engine.cancel_booking(now, id).map_err(|e| refused(&e))?;
                match self.hold(now, &b, b.requested_interpreter) {
                    Ok(interpreter) => {
                        self.booked.reminded.remove(&b.id);
                        self.booked.by_id.insert(b.id, Booking { interpreter: Some(interpreter), ..*b });
                        Ok(Reply::Booked { interpreter })
                    }
                    Err(e) => {
                        // Nothing else ran in between: the old slot is free to hold again.
                        if let Err(again) = self.hold(now, &old, old.interpreter) {
                            tracing::error!(booking = b.id, error = %again.message, "a moved booking lost its old slot");
                            self.booked.by_id.remove(&b.id);
                        }
                        Err(e)
                    }
                }
            }
            BookingChange::Relink(id, links) => {
                let b = self.booked.by_id.get_mut(&id).ok_or_else(|| not_held(id))?;
                let old = std::mem::replace(&mut b.links, links.clone());
                let end = d::Timestamp::from_millis(b.end);
                let call = self.calls.values().find(|c| c.booking == Some(id)).map(|c| c.id);
                for hash in [old.resident, old.specialist].into_iter().flatten() {
                    self.links.drop_invite(&hash);
                }
                if let Some(call) = call {
                    for (hash, party) in [(links.resident, p::Party::Resident), (links.specialist, p::Party::Guest)] {
                        if let Some(hash) = hash {
                            self.links.invite(hash, call, party, end);
                        }
                    }
                }
                Ok(Reply::Done)
            }
            BookingChange::Cancel(id) => {
                match self.engine.cancel_booking(now, engine_id(id)?) {
                    Ok(()) | Err(d::Error::UnknownBooking(_)) => {}
                    Err(e) => return Err(refused(&e)),
                }
                self.booked.by_id.remove(&id);
                self.booked.begun.remove(&id);
                self.booked.reminded.remove(&id);
                Ok(Reply::Done)
            }
        }
    }

    /// Hold `who` (any eligible interpreter when `None`) for the booking in the engine;
    /// the one held.
    fn hold(&mut self, now: d::Timestamp, b: &Booking, who: Option<i64>) -> Result<i64, p::ProtocolError> {
        let spec = b.engine_spec(who).map_err(|e| err(p::ErrorCode::InvalidField, e))?;
        let held = self.engine.book_as(now, engine_id(b.id)?, spec).map_err(|e| refused(&e))?;
        Ok(i64::from(held.0))
    }

    /// A booking's slot began and the engine opened its desk's request: a call of that
    /// desk, which is told.
    pub(super) fn booking_started(&mut self, booking: d::BookingId, request: d::RequestId) {
        let now = self.now;
        let Some(b) = i64::try_from(booking.0).ok().and_then(|id| self.booked.by_id.get(&id)) else {
            tracing::warn!(booking = booking.0, "a booking the core does not know started");
            return;
        };
        let Ok(spec) = b.engine_spec(None) else { return };
        let mut rs = d::RequestSpec::new(spec.tenant, d::DeskId(spec.desk.map_or(0, |x| x.0)), spec.language);
        rs.modality = spec.modality;
        rs.speciality = b.specialist.speciality();
        let mut call = Call::new(request, b.tenant, b.desk, &rs, now);
        call.booking = Some(b.id);
        // The links sent ahead open the call's seats once it has begun, until the slot ends.
        let end = d::Timestamp::from_millis(b.end);
        for (hash, party) in [(&b.links.resident, p::Party::Resident), (&b.links.specialist, p::Party::Guest)] {
            if let Some(hash) = hash {
                self.links.invite(hash.clone(), request, party, end);
            }
        }
        self.calls.insert(request, call);
        self.tell_booking_call(request);
    }

    /// Tell a booking's desk that its slot's request is open.
    fn tell_booking_call(&mut self, request: d::RequestId) {
        let Some(c) = self.calls.get(&request) else { return };
        let Some(b) = c.booking.and_then(|id| self.booked.by_id.get(&id)) else { return };
        let event = p::DeskEvent::BookingCall {
            request: request.0,
            booking: b.id as u64,
            language: b.language.clone(),
            ends_at: rfc3339(d::Timestamp::from_millis(b.end)),
            resident: b.resident,
        };
        self.deliver(Delivery::Desk(c.desk, event));
    }

    /// A desk connected: the slots of its bookings whose requests wait are told again
    /// (it was away when they began, or the server restarted).
    pub(super) fn tell_booking_calls(&mut self, desk: i64) {
        let waiting: Vec<d::RequestId> = self
            .calls
            .values()
            .filter(|c| c.desk == desk && c.booking.is_some() && !c.answered())
            .map(|c| c.id)
            .collect();
        for request in waiting {
            self.tell_booking_call(request);
        }
    }

    /// A booking's consultation has begun: its links open their seats from now on.
    pub(super) fn booking_begun(&mut self, call: super::CallId) {
        if let Some(id) = self.calls.get(&call).and_then(|c| c.booking) {
            self.booked.begun.insert(id);
        }
    }

    /// A booking's link whose consultation has not begun: what its page shows.
    pub(super) fn peek_booking_link(&self, hash: &str, now: d::Timestamp) -> Option<InviteInfo> {
        let (b, party) = self.booked.by_id.values().find_map(|b| Some((b, b.links.party(hash)?)))?;
        let start = self.booking_not_begun(hash, now)?;
        Some(InviteInfo {
            language: b.language.clone(),
            party,
            expires_at: d::Timestamp::from_millis(b.end),
            from: Inviter { tenant: b.tenant, desk: b.desk },
            used: false,
            starts_at: Some(start),
            waiting: None,
        })
    }

    /// When the slot of the booking this link is for starts, if its consultation has not
    /// begun (no call yet, or not answered) and the slot is not over.
    pub(super) fn booking_not_begun(&self, hash: &str, now: d::Timestamp) -> Option<d::Timestamp> {
        let b = self.booked.by_id.values().find(|b| b.links.party(hash).is_some())?;
        if b.end <= now.as_millis() {
            return None;
        }
        (!self.booked.begun.contains(&b.id)).then(|| d::Timestamp::from_millis(b.start))
    }

    /// A booking's slot is over: nothing more is held for it.
    pub(super) fn booking_ended(&mut self, booking: d::BookingId) {
        if let Ok(id) = i64::try_from(booking.0) {
            self.booked.by_id.remove(&id);
            self.booked.begun.remove(&id);
            self.booked.reminded.remove(&id);
        }
    }
}

fn not_held(id: i64) -> p::ProtocolError {
    err(p::ErrorCode::NotFound, format!("booking {id} is not held (cancelled or over)"))
}
