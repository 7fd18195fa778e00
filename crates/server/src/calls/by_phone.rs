//! Interpreters reached by phone (ADR 0016): an interpreter without a console, whose
//! directory record holds a number. They are available while a phone gateway is
//! connected (the roster says when they work, as for anyone); an offer to them is an
//! order to the gateway to ring them (`offer_call`), and their key is the answer. The
//! accepted interpreter joins through a seat of party `interpreter` with the order's
//! token, so the call's interpreter is the phone leg. Nothing is ever delivered to them
//! as to a console.

use std::collections::HashMap;
use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::convert::{engine_error, id32};
use super::dial::DIAL_WINDOW;
use super::{CallId, Core, Delivery};

/// How long an interpreter reached by phone who missed offers in a row rests before
/// they are rung again.
pub(crate) const PHONE_REST: Duration = Duration::from_secs(600);

/// An offer rung on an interpreter's phone.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Rung {
    interpreter: i64,
    call: CallId,
    token: String,
}

/// Interpreters reached by phone, their offers, and whether a gateway can ring them.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct ByPhone {
    numbers: HashMap<i64, String>,
    rung: HashMap<u64, Rung>,
    /// Since when each one rests after missed offers.
    resting: HashMap<i64, d::Timestamp>,
    gateway_up: bool,
}

impl ByPhone {
    /// Whether `interpreter` is reached by phone.
    pub(super) fn has(&self, interpreter: i64) -> bool {
        self.numbers.contains_key(&interpreter)
    }
}

impl Core {
    /// The directory's numbers at start (the gateway is not connected yet).
    pub(super) fn phone_numbers(&mut self, numbers: HashMap<i64, String>) {
        self.by_phone.numbers = numbers;
    }

    /// An interpreter's number was set or taken away in the directory.
    pub(super) fn set_reach_by_phone(&mut self, now: d::Timestamp, interpreter: i64, number: Option<String>) {
        let id = d::InterpreterId(id32(interpreter));
        match number {
            Some(n) => {
                self.by_phone.numbers.insert(interpreter, n);
                if self.by_phone.gateway_up {
                    let _ = self.engine.set_availability(now, id, d::Availability::Available);
                }
            }
            None => {
                if self.by_phone.numbers.remove(&interpreter).is_some() {
                    let _ = self.engine.set_availability(now, id, d::Availability::Offline);
                }
            }
        }
    }

    /// Whether any phone gateway is connected: the interpreters reached by phone are
    /// available while one is.
    pub(super) fn gateways(&mut self, now: d::Timestamp, up: bool) {
        self.by_phone.gateway_up = up;
        let to = if up { d::Availability::Available } else { d::Availability::Offline };
        let ids: Vec<i64> = self.by_phone.numbers.keys().copied().collect();
        for i in ids {
            let _ = self.engine.set_availability(now, d::InterpreterId(id32(i)), to);
        }
        if !up {
            self.by_phone.resting.clear();
        }
    }

    /// An offer to an interpreter reached by phone becomes the gateway's order; false
    /// for anyone else.
    pub(super) fn ring_by_phone(
        &mut self,
        offer: d::OfferId,
        call: CallId,
        interpreter: i64,
        ring_until: d::Timestamp,
    ) -> bool {
        let Some(number) = self.by_phone.numbers.get(&interpreter).cloned() else { return false };
        let Some(language) = self.calls.get(&call).map(|c| c.language.clone()) else { return true };
        let token = self.tokens.token();
        let ring_secs = u32::try_from(ring_until.since(self.now).as_secs()).unwrap_or(u32::MAX).max(1);
        self.by_phone.rung.insert(offer.0, Rung { interpreter, call, token: token.clone() });
        self.deliver(Delivery::Gateway(p::GatewayEvent::OfferCall {
            offer: offer.0,
            token,
            number,
            language,
            ring_secs,
        }));
        true
    }

    /// An offer ended: if it rang a phone and was not taken, every gateway hears it.
    pub(super) fn offer_closed_by_phone(&mut self, offer: d::OfferId) {
        if self.by_phone.rung.remove(&offer.0).is_some() {
            self.deliver(Delivery::Gateways(p::GatewayEvent::OfferClosed { offer: offer.0 }));
        }
    }

    /// The key an interpreter pressed on their phone: whether the offer is theirs now.
    pub(super) fn offer_answer(
        &mut self,
        now: d::Timestamp,
        offer: u64,
        accept: bool,
    ) -> Result<bool, p::ProtocolError> {
        let Some(rung) = self.by_phone.rung.get(&offer) else { return Ok(false) };
        let me = d::InterpreterId(id32(rung.interpreter));
        if accept {
            // The seat's invite is made when the engine says it is assigned.
            Ok(self.engine.accept(now, d::OfferId(offer), me).map_err(engine_error).is_ok())
        } else {
            let _ = self.engine.decline(now, d::OfferId(offer), me);
            Ok(false)
        }
    }

    /// An interpreter reached by phone was assigned: the seat their phone joins with.
    /// False for anyone else.
    pub(super) fn assigned_by_phone(&mut self, offer: d::OfferId, interpreter: i64) -> bool {
        if !self.by_phone.has(interpreter) {
            return false;
        }
        if let Some(rung) = self.by_phone.rung.remove(&offer.0) {
            let hash = crate::auth::hash_token(&rung.token);
            self.links.invite(hash, rung.call, p::Party::Interpreter, self.now + DIAL_WINDOW);
        }
        true
    }

    /// An interpreter reached by phone who missed offers in a row rests, then is rung
    /// again ([`PHONE_REST`]).
    pub(super) fn phone_presence(&mut self, interpreter: i64, presence: d::Presence) {
        if self.by_phone.has(interpreter) && matches!(presence, d::Presence::NotReady(_)) {
            self.by_phone.resting.insert(interpreter, self.now);
        }
    }

    /// Once a second: rested interpreters are available again.
    pub(super) fn wake_rested(&mut self, now: d::Timestamp) {
        let rested: Vec<i64> = self
            .by_phone
            .resting
            .iter()
            .filter(|(_, since)| now.since(**since) >= PHONE_REST)
            .map(|(i, _)| *i)
            .collect();
        for i in rested {
            self.by_phone.resting.remove(&i);
            if self.by_phone.gateway_up {
                let _ = self.engine.set_availability(now, d::InterpreterId(id32(i)), d::Availability::Available);
            }
        }
    }
}
