//! Routing: steps, offers, and the two matching directions (a request looking for an
//! idle interpreter, an interpreter who became idle looking for a waiting request).

use super::Engine;
use super::state::{IState, Interp, RState, Request, Timer};
use crate::event::{OfferEnd, Outcome, Outlook, Output, RescindReason, Suggestion};
use crate::ids::{InterpreterId, OfferId, RequestId};
use crate::model::{Tier, TierSet};
use crate::policy::{InterpreterOrder, RoutingPolicy, Scope, Step};
use crate::time::Timestamp;

/// Language, modality, strict speciality, and never twice (or when excluded).
fn base_ok(i: &Interp, r: &Request) -> bool {
    i.spec.pairs.contains(&r.pair)
        && i.spec.modalities.contains(r.modality)
        && (!r.strict_speciality || r.speciality.is_none_or(|s| i.spec.specialities.contains(s)))
        && !r.tried.contains(&i.spec.id)
}

fn serves(i: &Interp, r: &Request) -> bool {
    i.spec.tenants.binary_search(&r.tenant).is_ok()
}

fn step_admits(s: &Step, i: &Interp, r: &Request) -> bool {
    s.tiers.contains(i.spec.tier)
        && (serves(i, r) || (s.scope == Scope::Shared && i.spec.shared_pool))
        && (!s.require_speciality || r.speciality.is_none_or(|sp| i.spec.specialities.contains(sp)))
}

fn reached_steps<'p>(policy: &'p RoutingPolicy, r: &Request) -> &'p [Step] {
    let last = policy.steps.len() - 1;
    &policy.steps[..=usize::from(r.step).min(last)]
}

/// Whether `i` may be offered `r` now, apart from being idle.
pub(super) fn admits(policy: &RoutingPolicy, i: &Interp, r: &Request) -> bool {
    // A booking's request goes to its interpreter by its own path (`booked_offer`).
    if r.booking.is_some() {
        return false;
    }
    if r.hold_until.is_some() {
        return r.preferred == Some(i.spec.id) && preferred_ok(i, r);
    }
    base_ok(i, r) && reached_steps(policy, r).iter().any(|s| step_admits(s, i, r))
}

/// The preferred interpreter of a returning case skips the steps but not the basics.
fn preferred_ok(i: &Interp, r: &Request) -> bool {
    base_ok(i, r) && (serves(i, r) || i.spec.shared_pool)
}

impl Engine {
    /// Whether the preferred interpreter is signed in and could take the request.
    pub(super) fn preferred_can_take(&self, id: RequestId, p: InterpreterId) -> bool {
        match (self.requests.get(&id), self.interps.get(&p)) {
            (Some(r), Some(i)) => i.staffed() && preferred_ok(i, r),
            _ => false,
        }
    }

    /// Put a request in step `step` (or the last), skip at once every step with nobody
    /// signed in who could take it, and end it unserved when nobody at all could.
    pub(super) fn start_step(&mut self, id: RequestId, step: u8) {
        let now = self.now;
        let Some(r) = self.requests.get(&id) else { return };
        let policy = self.policy(r.tenant);
        let last = (policy.steps.len() - 1) as u8;
        let mut step = step.min(last);
        // Skip a step that adds nobody signed in, or that only matches specialities when
        // the request names none (it would repeat the next step).
        let mut found = false;
        while step < last {
            let s = &policy.steps[usize::from(step)];
            if (s.require_speciality && r.speciality.is_none()) || !self.has_candidate(r, std::slice::from_ref(s)) {
                step += 1;
            } else {
                found = true;
                break;
            }
        }
        let delay = policy.steps[usize::from(step)].duration;
        let deadline = (step < last).then(|| now + delay);
        let advanced = step != r.step;
        if let Some(r) = self.requests.get_mut(&id) {
            r.step = step;
            r.step_deadline = deadline;
        }
        if advanced {
            self.outputs.push_back(Output::StepAdvanced { request: id, step });
        }
        if deadline.is_some() {
            self.timer_after(delay, Timer::Step(id));
        }
        // A candidate in the current step is one in the steps reached: nothing to settle.
        if !found {
            self.settle(id);
        }
    }

    /// End the request unserved if nobody signed in could ever take it in the steps it
    /// has reached (everyone eligible is offline, or has been offered it already).
    pub(super) fn settle(&mut self, id: RequestId) {
        let Some(r) = self.requests.get(&id) else { return };
        // A booking's request waits for its interpreter until the slot ends.
        if r.state != RState::Waiting || !r.offers_out.is_empty() || r.booking.is_some() {
            return;
        }
        let policy = self.policy(r.tenant);
        let hold = r.hold_until.is_some()
            && r.preferred.and_then(|p| self.interps.get(&p)).is_some_and(|i| i.staffed() && preferred_ok(i, r));
        let last = policy.steps.len() - 1;
        // Someone who could take it in a step not yet reached also keeps it waiting.
        if hold || self.has_candidate(r, &policy.steps[..=last]) {
            return;
        }
        let suggestion = self.suggest(r);
        self.end_request(id, Outcome::Unserved(suggestion));
    }

    /// Whether anyone signed in, on roster and not reserved matches `r` under one of `steps`.
    pub(super) fn has_candidate(&self, r: &Request, steps: &[Step]) -> bool {
        let Some(pool) = self.pools.get(&r.pair) else { return false };
        // Only the tiers the steps admit: a contractors-only step must not walk the staff.
        let tiers = steps.iter().fold(TierSet::EMPTY, |acc, s| acc.union(s.tiers));
        tiers.iter().any(|tier| {
            pool.staffed[tier.index()].iter().any(|id| {
                self.interps.get(id).is_some_and(|i| base_ok(i, r) && steps.iter().any(|s| step_admits(s, i, r)))
            })
        })
    }

    /// What the desk can do instead: someone rostered later today, on a later day, or the phone.
    pub(super) fn suggest(&self, r: &Request) -> Suggestion {
        let Some(pool) = self.pools.get(&r.pair) else { return Suggestion::Phone };
        let tz = &self.tenants[&r.tenant].spec.time_zone;
        let mut earliest: Option<Timestamp> = None;
        for i in pool.all.iter().filter_map(|id| self.interps.get(id)) {
            let mut candidate = r.clone();
            candidate.tried.clear();
            if !base_ok(i, &candidate) || !(serves(i, r) || i.spec.shared_pool) {
                continue;
            }
            let next_on = if i.on_roster {
                // On roster but not signed in: their next shift.
                i.roster_next.and_then(|end| i.spec.roster.state_at(end).next_change)
            } else {
                i.roster_next
            };
            if let Some(t) = next_on.filter(|t| *t > self.now) {
                earliest = Some(earliest.map_or(t, |e| e.min(t)));
            }
        }
        match earliest {
            Some(t) if t < self.end_of_local_day(tz) => Suggestion::LaterToday(t),
            Some(t) => Suggestion::Booking(t),
            None => Suggestion::Phone,
        }
    }

    /// Offer a waiting request to the best idle interpreters until it has its fan-out.
    pub(super) fn route(&mut self, id: RequestId) {
        while let Some(r) = self.requests.get(&id) {
            if !r.wants_offer() {
                break;
            }
            match self.find_interpreter(r) {
                Some(i) => self.make_offer(id, i),
                None => break,
            }
        }
        self.sync_queue(id);
    }

    /// The best idle interpreter for `r`: by the policy's order among those eligible.
    fn find_interpreter(&self, r: &Request) -> Option<InterpreterId> {
        if let Some(b) = r.booking {
            return self.booked_interpreter_free(b, r);
        }
        let policy = self.policy(r.tenant);
        if r.hold_until.is_some() {
            let p = r.preferred?;
            return self.interps.get(&p).filter(|i| i.idle() && admits(policy, i, r)).map(|_| p);
        }
        let pool = self.pools.get(&r.pair)?;
        let steps = reached_steps(policy, r);
        let mut best: Option<(Timestamp, InterpreterId)> = None;
        for tier in Tier::ALL {
            if !steps.iter().any(|s| s.tiers.contains(tier)) {
                continue;
            }
            for &(since, id) in &pool.idle[tier.index()] {
                if best.is_some_and(|b| since >= b.0) {
                    break;
                }
                if self.interps.get(&id).is_some_and(|i| admits(policy, i, r)) {
                    best = Some((since, id));
                    break;
                }
            }
            if best.is_some() && policy.order == InterpreterOrder::TierThenLongestIdle {
                break;
            }
        }
        best.map(|b| b.1)
    }

    /// The waiting request an interpreter who just became idle should be offered: the
    /// smallest queue key (priority credit, then longest wait) over all their pairs.
    fn find_request(&self, i: &Interp) -> Option<RequestId> {
        let mut best: Option<(i64, RequestId)> = None;
        for pair in &i.spec.pairs {
            let Some(queue) = self.queues.get(pair) else { continue };
            for &(key, id) in queue.iter_tier(i.spec.tier) {
                if best.is_some_and(|b| (key, id) >= b) {
                    break;
                }
                if let Some(r) = self.requests.get(&id)
                    && admits(self.policy(r.tenant), i, r)
                {
                    best = Some((key, id));
                    break;
                }
            }
        }
        best.map(|b| b.1)
    }

    /// Offer work to every interpreter that became idle during this input, in order.
    pub(super) fn match_became_idle(&mut self) {
        let mut k = 0;
        while k < self.became_idle.len() {
            let id = self.became_idle[k];
            k += 1;
            let Some(i) = self.interps.get(&id) else { continue };
            if !i.idle() {
                // Held for a booking whose request waits for them.
                if i.state == IState::Available && i.reserved {
                    self.ring_booked(id);
                }
                continue;
            }
            if let Some(r) = self.find_request(i) {
                self.make_offer(r, id);
            }
        }
        self.became_idle.clear();
    }

    pub(super) fn make_offer(&mut self, request: RequestId, interpreter: InterpreterId) {
        let now = self.now;
        let Some(r) = self.requests.get(&request) else { return };
        debug_assert!(
            self.interps.get(&interpreter).is_some_and(|i| i.idle())
                || r.booking.is_some_and(|b| self.booked_interpreter_free(b, r) == Some(interpreter)),
            "offer to an interpreter who is not idle"
        );
        let ring = self.policy(r.tenant).ring_timeout;
        let ring_until = now + ring;
        let (tenant, language, booked) = (r.tenant, r.language, r.booking.is_some());
        let offer = OfferId(self.next_offer);
        self.next_offer += 1;
        self.offers.insert(offer, super::state::Offer { request, interpreter, ring_until });
        if let Some(r) = self.requests.get_mut(&request) {
            r.offers_out.push(offer);
            r.tried.push(interpreter);
            r.offers_made += 1;
        }
        self.set_state(interpreter, IState::Offered(offer));
        self.timer_after(ring, Timer::Ring(offer));
        if !booked {
            self.counters(tenant, language).offers += 1;
        }
        self.outputs.push_back(Output::Offered { offer, request, interpreter, ring_until });
        self.sync_queue(request);
    }

    /// Close an open offer without an answer and put the interpreter in `next`.
    /// A declined, missed or abandoned offer sends the request to the next candidate.
    pub(super) fn close_offer(&mut self, offer: OfferId, reason: OfferEnd, next: IState) {
        let Some(o) = self.offers.remove(&offer) else { return };
        let mut who = None;
        if let Some(r) = self.requests.get_mut(&o.request) {
            r.offers_out.retain(|x| *x != offer);
            who = r.booking.is_none().then_some((r.tenant, r.language));
        }
        if matches!(reason, OfferEnd::Declined | OfferEnd::Missed) {
            self.quiet_booked(o.request);
        }
        self.set_state(o.interpreter, next);
        if let Some((tenant, language)) = who {
            let c = self.counters(tenant, language);
            match reason {
                OfferEnd::Declined => c.declined += 1,
                OfferEnd::Missed => c.missed += 1,
                OfferEnd::Rescinded(_) => c.rescinded += 1,
            }
        }
        self.outputs.push_back(Output::OfferClosed { offer, request: o.request, interpreter: o.interpreter, reason });
        match reason {
            OfferEnd::Rescinded(RescindReason::AnsweredElsewhere | RescindReason::RequestEnded) => {}
            OfferEnd::Declined | OfferEnd::Missed | OfferEnd::Rescinded(RescindReason::InterpreterLeft) => {
                self.route(o.request);
                self.settle(o.request);
            }
        }
    }

    /// End a waiting request without an interpreter.
    pub(super) fn end_request(&mut self, id: RequestId, outcome: Outcome) {
        let Some(r) = self.requests.get(&id) else { return };
        debug_assert_eq!(r.state, RState::Waiting);
        for offer in r.offers_out.clone() {
            self.close_offer(offer, OfferEnd::Rescinded(RescindReason::RequestEnded), IState::Available);
        }
        if let Some(r) = self.requests.get_mut(&id) {
            r.state = RState::Waiting;
            r.fan_out = 0;
        }
        self.sync_queue(id);
        let Some(r) = self.requests.remove(&id) else { return };
        let waited = self.now.since(r.submitted_at);
        self.outputs.push_back(Output::Ended { request: id, outcome, waited, offers: r.offers_made });
        if let Some(b) = r.booking.and_then(|b| self.bookings.get_mut(&b)) {
            b.request = None;
            return;
        }
        let c = self.counters(r.tenant, r.language);
        match outcome {
            Outcome::Abandoned => {
                c.abandoned += 1;
                c.abandoned_wait_ms += waited.as_millis() as u64;
            }
            Outcome::Expired => c.expired += 1,
            Outcome::Unserved(_) => c.unserved += 1,
        }
    }

    /// Tell the desk where it stands, ahead of any offer made for the request.
    pub(super) fn announce(&mut self, id: RequestId, at: usize) {
        let Some(r) = self.requests.get(&id) else { return };
        let outlook = if r.offers_out.is_empty() {
            let position = self.position_of(id, r);
            Outlook::Wait { position, estimate: self.estimate(r.pair, position) }
        } else {
            Outlook::Ringing
        };
        let at = at.min(self.outputs.len());
        self.outputs.insert(at, Output::Queued { request: id, outlook });
    }
}
