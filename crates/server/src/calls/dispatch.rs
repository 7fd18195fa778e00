//! The engine's decisions turned into what people hear: a desk's place in the queue, an
//! interpreter's offer, the answer that starts a call, a request that ends unanswered
//! (recorded first), presence. Also the desks' position updates, once a second.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::{Answer, Who};
use super::convert::{estimate, modality_out, presence_out, rfc3339, speciality_out};
use super::{Core, Delivery, Fact};

impl Core {
    /// Act on every output the engine has.
    pub(super) fn flush_engine(&mut self) {
        let now = self.now;
        while let Some(out) = self.engine.poll_output() {
            match out {
                d::Output::Queued { request, outlook } => {
                    let Some(c) = self.calls.get_mut(&request) else { continue };
                    let (ringing, position, estimate) = match outlook {
                        d::Outlook::Ringing => (true, 0, p::WaitEstimate::Unknown),
                        d::Outlook::Wait { position, estimate: e } => (false, position as u32, estimate(e)),
                    };
                    c.last_position = Some((position, estimate, ringing));
                    let event = p::DeskEvent::Queued { request: request.0, ringing, position, estimate };
                    let desk = c.desk;
                    self.deliver(Delivery::Desk(desk, event));
                    self.line_position(request, ringing, position, estimate);
                }
                d::Output::Offered { offer, request, interpreter, ring_until } => {
                    let Some(c) = self.calls.get_mut(&request) else { continue };
                    c.offers += 1;
                    c.offered_at.get_or_insert(now);
                    if self.ring_by_phone(offer, request, i64::from(interpreter.0), ring_until) {
                        continue;
                    }
                    let Some(c) = self.calls.get(&request) else { continue };
                    let event = p::InterpreterEvent::Offer {
                        offer: offer.0,
                        tenant: self.names.tenant(c.tenant),
                        desk: self.names.desk(c.desk),
                        urgent: c.urgent,
                        requested_at: rfc3339(c.requested_at),
                        language: c.language.clone(),
                        modality: modality_out(c.modality),
                        speciality: c.speciality.map(speciality_out),
                        ring_until: rfc3339(ring_until),
                        booking: c.booking.map(|b| b as u64),
                    };
                    self.deliver(Delivery::Interpreter(i64::from(interpreter.0), event));
                }
                d::Output::OfferClosed { offer, interpreter, reason, .. } => {
                    let (label, reason) = match reason {
                        d::OfferEnd::Declined => ("declined", p::OfferClosedReason::Declined),
                        d::OfferEnd::Missed => ("missed", p::OfferClosedReason::Missed),
                        d::OfferEnd::Rescinded(d::RescindReason::AnsweredElsewhere) => {
                            ("rescinded", p::OfferClosedReason::AnsweredElsewhere)
                        }
                        d::OfferEnd::Rescinded(d::RescindReason::RequestEnded) => {
                            ("rescinded", p::OfferClosedReason::RequestEnded)
                        }
                        d::OfferEnd::Rescinded(d::RescindReason::InterpreterLeft) => {
                            ("rescinded", p::OfferClosedReason::YouLeft)
                        }
                    };
                    self.fact(Fact::Offer(label));
                    self.offer_closed_by_phone(offer);
                    let event = p::InterpreterEvent::OfferClosed { offer: offer.0, reason };
                    self.deliver(Delivery::Interpreter(i64::from(interpreter.0), event));
                }
                d::Output::Assigned { request, interpreter, offer, waited, offers } => {
                    self.fact(Fact::Offer("accepted"));
                    self.assigned(request, i64::from(interpreter.0), offer, waited, offers);
                }
                d::Output::Ended { request, outcome, waited: _, offers } => {
                    let Some(mut call) = self.calls.remove(&request) else { continue };
                    self.online.forget(request);
                    call.offers = offers;
                    self.record_unanswered(now, &call, outcome);
                }
                d::Output::CallEnded { talk, .. } => self.fact(Fact::Talk(talk)),
                d::Output::PresenceChanged { interpreter, presence } => {
                    self.phone_presence(i64::from(interpreter.0), presence);
                    let event = p::InterpreterEvent::Presence { presence: presence_out(presence) };
                    self.deliver(Delivery::Interpreter(i64::from(interpreter.0), event));
                }
                d::Output::BookingStarted { booking, request: Some(request), .. } => {
                    self.booking_started(booking, request);
                }
                d::Output::BookingEnded { booking, .. } => self.booking_ended(booking),
                d::Output::StepAdvanced { .. } | d::Output::BookingStarted { request: None, .. } => {}
            }
        }
    }

    /// An interpreter answered: they join the call as its next participant, and desk and
    /// interpreter hear who is in it.
    fn assigned(
        &mut self,
        request: d::RequestId,
        interpreter: i64,
        offer: d::OfferId,
        waited: std::time::Duration,
        offers: u32,
    ) {
        let now = self.now;
        let desk_away = !self.sessions.connected(super::Client::Desk(self.calls.get(&request).map_or(0, |c| c.desk)));
        let by_phone = self.assigned_by_phone(offer, interpreter);
        let Some(c) = self.calls.get_mut(&request) else { return };
        c.answer = Some(Answer { interpreter, at: now });
        c.offers = offers;
        // An interpreter reached by phone takes part through their phone's seat.
        let you = if by_phone { 0 } else { c.add(p::Party::Interpreter, Who::Interpreter(interpreter)) };
        let desk = c.desk;
        let desk_number = c.number_of(&Who::Desk(desk)).unwrap_or(0);
        if let Some(d) = c.participant_mut(desk_number) {
            d.away = desk_away;
        }
        let (language, participants) = (c.language.clone(), c.roster());
        self.fact(Fact::Answered { language, waited });
        let (call, id) = (request.0, request.0);
        let to_desk = p::DeskEvent::Assigned {
            request: id,
            call,
            interpreter: interpreter as u32,
            you: desk_number,
            participants: participants.clone(),
        };
        self.deliver(Delivery::Desk(desk, to_desk));
        let to_interpreter = p::InterpreterEvent::Assigned { offer: offer.0, call, you, participants };
        self.deliver(Delivery::Interpreter(interpreter, to_interpreter));
        self.line_answered(request);
        self.booking_begun(request);
        // A desk whose connection is down at that moment: the interpreter knows it is
        // waiting for the desk (and hears when the desk is back).
        if desk_away {
            self.tell_call(request, desk_number, Some(p::LeftReason::Dropped));
        }
    }

    /// Once a second: each waiting desk's place, when it changed.
    pub(super) fn push_positions(&mut self) {
        for (request, s) in self.engine.standings() {
            let Some(c) = self.calls.get_mut(&request) else { continue };
            let current = (s.position as u32, estimate(s.estimate), s.ringing > 0);
            if c.last_position == Some(current) {
                continue;
            }
            c.last_position = Some(current);
            let event = p::DeskEvent::Position {
                request: request.0,
                ringing: current.2,
                position: current.0,
                estimate: current.1,
            };
            let desk = c.desk;
            self.deliver(Delivery::Desk(desk, event));
            self.line_position(request, current.2, current.0, current.1);
        }
    }
}
