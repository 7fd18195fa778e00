//! A coordinator's hand: a waiting request offered to an interpreter they choose. It is
//! rung like any offer (the interpreter accepts or declines), outside the policy's steps
//! and the queue's order, but never beside the engine's promises: the interpreter must be
//! free (idle: available, on roster, not held for a booking), able to take it (language,
//! modality, a strict speciality, the municipality or the shared pool), and not one the
//! desk excluded or who was offered it already; the request keeps its fan-out.

use crate::error::Error;
use crate::ids::{InterpreterId, OfferId, RequestId};
use crate::time::Timestamp;

use super::Engine;
use super::state::RState;

fn refused(field: &'static str, problem: &'static str) -> Error {
    Error::Invalid { field, problem }
}

impl Engine {
    /// Offer waiting request `request` to `interpreter` now; the offer's number.
    pub fn assign_to(
        &mut self,
        now: Timestamp,
        request: RequestId,
        interpreter: InterpreterId,
    ) -> Result<OfferId, Error> {
        self.advance(now);
        let r = self.requests.get(&request).ok_or(Error::UnknownRequest(request))?;
        if r.state != RState::Waiting {
            return Err(Error::NotWaiting(request));
        }
        if r.booking.is_some() {
            return Err(refused("request", "a booking's request rings the interpreter held for it"));
        }
        if !r.wants_offer() {
            return Err(refused("request", "it is ringing as many interpreters as it may; wait for their answer"));
        }
        let i = self.interps.get(&interpreter).ok_or(Error::UnknownInterpreter(interpreter))?;
        if !i.spec.pairs.contains(&r.pair) || !i.spec.modalities.contains(r.modality) {
            return Err(refused("interpreter", "does not interpret this language in this way"));
        }
        if r.strict_speciality && r.speciality.is_some_and(|s| !i.spec.specialities.contains(s)) {
            return Err(refused("interpreter", "lacks the speciality the desk required"));
        }
        if !i.serves_tenant(r.tenant) {
            return Err(refused("interpreter", "does not serve this municipality"));
        }
        if r.tried.contains(&interpreter) {
            return Err(refused("interpreter", "the desk excluded them, or they were offered it already"));
        }
        if !i.idle() {
            return Err(refused(
                "interpreter",
                "not free now (in a call, ringing, away, off roster or held for a booking)",
            ));
        }
        let offer = OfferId(self.next_offer);
        self.make_offer(request, interpreter);
        self.match_became_idle();
        Ok(offer)
    }
}
