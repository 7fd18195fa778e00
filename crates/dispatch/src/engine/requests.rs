//! Requests: submitted, cancelled, offered, accepted or declined, and their calls ended.

use crate::directory::RequestSpec;
use crate::error::Error;
use crate::event::{OfferEnd, Outcome, Output, RescindReason};
use crate::ids::{InterpreterId, OfferId, RequestId};
use crate::language::LanguagePair;
use crate::model::Priority;
use crate::time::{Timestamp, millis};

use super::state::{IState, LastCall, Offer, RState, Request, Timer};

use super::{Engine, MAX_EXCLUDED};

impl Engine {
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
                booking: None,
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
        let booked = r.booking.is_some();
        let others = std::mem::take(&mut r.offers_out);
        self.sync_queue(o.request);
        for other in others {
            self.close_offer(other, OfferEnd::Rescinded(RescindReason::AnsweredElsewhere), IState::Available);
        }
        if let Some(i) = self.interps.get_mut(&interpreter) {
            i.missed_in_row = 0;
        }
        self.set_state(interpreter, IState::InCall(o.request));
        if !booked {
            self.counters(tenant, language).record_answer(waited);
        }
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

    pub(super) fn open_offer(&self, offer: OfferId, interpreter: InterpreterId) -> Result<Offer, Error> {
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
}
