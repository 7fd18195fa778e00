//! Behaviour of the engine, scenario by scenario.

use std::time::Duration;

use kakehashi_dispatch::*;

use crate::common::*;

#[test]
fn whole_lifecycle_with_wrap_up() {
    let mut w = World::new();
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    let (r1, out) = w.request(1, 11, "vi");
    assert!(matches!(out[0], Output::Queued { request, outlook: Outlook::Ringing } if request == r1));
    let (offer, req, who) = only_offer(&out);
    assert_eq!((req, who), (r1, InterpreterId(1)));
    assert_eq!(w.e.presence(who).unwrap(), Presence::Offered);

    // A second request waits behind the first.
    let (r2, out) = w.request(1, 12, "vi");
    assert!(matches!(
        out[0],
        Output::Queued { outlook: Outlook::Wait { position: 0, estimate: WaitEstimate::Unknown }, .. }
    ));
    w.advance(5);
    w.e.accept(w.now, offer, who).unwrap();
    let out = w.drain();
    assert!(out.iter().any(|o| matches!(o, Output::Assigned { request, waited, offers: 1, .. } if *request == r1 && *waited == Duration::from_secs(5))));
    assert_eq!(w.e.presence(who).unwrap(), Presence::InCall);

    w.advance(600);
    w.e.end_call(w.now, r1).unwrap();
    let out = w.drain();
    assert!(out.iter().any(|o| matches!(o, Output::CallEnded { talk, .. } if *talk == Duration::from_secs(600))));
    assert_eq!(w.e.presence(who).unwrap(), Presence::WrapUp);
    // Wrap-up lasts the policy's 60 s, then the waiting request is offered.
    assert!(offers(&w.advance(59)).is_empty());
    let (_, req, _) = only_offer(&w.advance(1));
    assert_eq!(req, r2);
    let t = w.e.totals();
    assert_eq!((t.requests, t.answered, t.completed, t.offers), (2, 1, 1, 2));
    assert_eq!(t.handle_ms, 660_000);
    assert_eq!(t.talk_ms, 600_000);
    // Now there is data: the waiting desk gets an estimate.
    let s = w.e.standing(r2).unwrap();
    assert_eq!(s.ringing, 1);
}

#[test]
fn ready_ends_wrap_up_early_and_open_wrap_up_waits_for_it() {
    let mut w = World::with_policy(RoutingPolicy { wrap_up: None, ..RoutingPolicy::default() });
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    let (r1, out) = w.request(1, 11, "vi");
    let (_, _, i) = w.accept_only(&out);
    w.e.end_call(w.now, r1).unwrap();
    w.drain();
    w.request(1, 11, "vi");
    assert!(offers(&w.advance(600)).is_empty(), "open wrap-up waits for the interpreter");
    w.e.set_availability(w.now, i, Availability::Available).unwrap();
    assert_eq!(offers(&w.drain()).len(), 1);
}

#[test]
fn best_tier_then_longest_idle() {
    let mut w = World::with_policy(RoutingPolicy {
        steps: vec![Step {
            duration: Duration::ZERO,
            tiers: TierSet::all(),
            scope: Scope::Own,
            require_speciality: false,
        }],
        ..RoutingPolicy::default()
    });
    w.add(interpreter(1, &["pt"], Tier::Volunteer, &[1]), true);
    w.advance(10);
    w.add(interpreter(2, &["pt"], Tier::Contractor, &[1]), true);
    w.advance(10);
    w.add(interpreter(3, &["pt"], Tier::Staff, &[1]), true);
    w.advance(10);
    w.add(interpreter(4, &["pt"], Tier::Staff, &[1]), true);
    // Staff first, the longer idle of the two.
    assert_eq!(only_offer(&w.request(1, 11, "pt").1).2, InterpreterId(3));
    assert_eq!(only_offer(&w.request(1, 11, "pt").1).2, InterpreterId(4));
    assert_eq!(only_offer(&w.request(1, 11, "pt").1).2, InterpreterId(2));

    // The pluggable order: longest idle whatever the tier.
    let mut w = World::with_policy(RoutingPolicy {
        steps: vec![Step {
            duration: Duration::ZERO,
            tiers: TierSet::all(),
            scope: Scope::Own,
            require_speciality: false,
        }],
        order: InterpreterOrder::LongestIdle,
        ..RoutingPolicy::default()
    });
    w.add(interpreter(1, &["pt"], Tier::Volunteer, &[1]), true);
    w.advance(10);
    w.add(interpreter(3, &["pt"], Tier::Staff, &[1]), true);
    assert_eq!(only_offer(&w.request(1, 11, "pt").1).2, InterpreterId(1));
}

#[test]
fn steps_widen_over_time_and_empty_steps_are_skipped_at_once() {
    let mut w = World::new();
    // A staff interpreter (labour law) is busy; a volunteer is idle; no contractor is online.
    let mut labour = interpreter(1, &["ne"], Tier::Staff, &[1]);
    labour.specialities = SpecialitySet::EMPTY.with(Speciality::Labour);
    w.add(labour, true);
    w.add(interpreter(2, &["ne"], Tier::Volunteer, &[1]), true);
    w.add(interpreter(3, &["ne"], Tier::Contractor, &[1]), false);
    let (r0, out) = w.request(1, 11, "ne");
    let (o, _, i) = only_offer(&out);
    assert_eq!(i, InterpreterId(1));
    w.e.accept(w.now, o, i).unwrap();
    w.drain();
    let mut spec = RequestSpec::new(TenantId(1), DeskId(11), lang("ne"));
    spec.speciality = Some(Speciality::Labour);
    let (r, out) = w.submit(spec);
    assert!(offers(&out).is_empty(), "step 0 is the tenant's staff (with the speciality when they have it)");
    assert!(w.advance(29).iter().all(|o| !matches!(o, Output::StepAdvanced { .. })));
    let out = w.advance(1);
    assert!(out.contains(&Output::StepAdvanced { request: r, step: 1 }));
    // Step 1 (any staff) lasts 20 s; step 2 (contractors) has nobody online and is skipped at once.
    assert!(w.advance(19).iter().all(|o| !matches!(o, Output::StepAdvanced { .. })));
    let out = w.advance(1);
    assert!(out.contains(&Output::StepAdvanced { request: r, step: 3 }), "{out:#?}");
    let (_, req, who) = only_offer(&out);
    assert_eq!((req, who), (r, InterpreterId(2)));
    // Without a speciality, the speciality step is skipped at once: staff only for 20 s.
    w.e.end_call(w.now, r0).unwrap();
    w.drain();
    let (r2, out) = w.request(1, 11, "ne");
    assert!(out.contains(&Output::StepAdvanced { request: r2, step: 1 }), "{out:#?}");
}

#[test]
fn shared_pool_only_in_shared_steps_and_never_across_tenants_otherwise() {
    let mut w = World::new();
    let mut shared = interpreter(7, &["km"], Tier::Staff, &[2]);
    shared.shared_pool = true;
    w.add(shared, true);
    w.add(interpreter(8, &["km"], Tier::Staff, &[2]), false);
    // Tenant 1 has nobody of its own for Khmer: every own step is skipped at once and the
    // request reaches the shared pool.
    let (r, out) = w.request(1, 11, "km");
    assert!(out.contains(&Output::StepAdvanced { request: r, step: 4 }));
    assert_eq!(only_offer(&out).2, InterpreterId(7));
    // Interpreter 8 serves tenant 2 only and never joins the shared pool: a second
    // request of tenant 1 waits for 7 and is never offered to 8.
    let (r2, out) = w.request(1, 11, "km");
    assert!(ended(&out).is_empty());
    w.e.set_availability(w.now, InterpreterId(8), Availability::Available).unwrap();
    assert!(offers(&w.drain()).is_empty());
    assert_eq!(w.e.standing(r2).unwrap().position, 0);
    // Tenant 2's own request goes to 8 at once.
    assert_eq!(only_offer(&w.request(2, 21, "km").1).2, InterpreterId(8));
    // A language nobody covers: told at once, with the phone line as the way out.
    let (_, out) = w.request(1, 11, "uz");
    assert!(matches!(ended(&out)[..], [(_, Outcome::Unserved(Suggestion::Phone))]), "{out:#?}");
}

#[test]
fn decline_goes_to_the_next_candidate_and_never_back() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add_staff(&[1, 2], "vi");
    let (r, out) = w.request(1, 11, "vi");
    let (o1, _, i1) = only_offer(&out);
    assert_eq!(i1, InterpreterId(1));
    w.e.decline(w.now, o1, i1).unwrap();
    let out = w.drain();
    assert!(out.contains(&Output::OfferClosed { offer: o1, request: r, interpreter: i1, reason: OfferEnd::Declined }));
    let (o2, _, i2) = only_offer(&out);
    assert_eq!(i2, InterpreterId(2));
    w.e.decline(w.now, o2, i2).unwrap();
    let out = w.drain();
    // Both declined; nobody else is signed in: a definite answer.
    assert!(offers(&out).is_empty());
    assert!(matches!(ended(&out)[..], [(req, Outcome::Unserved(_))] if req == r));
    assert_eq!(w.e.totals().declined, 2);
    assert_eq!(w.e.presence(i1).unwrap(), Presence::Available);
}

#[test]
fn ring_timeout_goes_to_the_next_and_repeated_misses_mean_not_ready() {
    let mut w = World::new();
    w.add_staff(&[1, 2], "vi");
    let (r, out) = w.request(1, 11, "vi");
    let (o1, _, _) = only_offer(&out);
    let out = w.advance(20);
    assert!(out.contains(&Output::OfferClosed {
        offer: o1,
        request: r,
        interpreter: InterpreterId(1),
        reason: OfferEnd::Missed
    }));
    let (o2, _, i2) = only_offer(&out);
    assert_eq!(i2, InterpreterId(2));
    w.e.accept(w.now, o2, i2).unwrap();
    w.drain();
    // Interpreter 1 misses a second offer in a row: not ready (limit 2).
    let (_, out) = w.request(1, 11, "vi");
    assert_eq!(only_offer(&out).2, InterpreterId(1));
    let out = w.advance(20);
    assert!(out.contains(&Output::PresenceChanged {
        interpreter: InterpreterId(1),
        presence: Presence::NotReady(NotReadyReason::MissedOffers)
    }));
    assert_eq!(w.e.totals().missed, 2);
    // Coming back resets the count.
    w.e.set_availability(w.now, InterpreterId(1), Availability::Available).unwrap();
    assert_eq!(w.e.presence(InterpreterId(1)).unwrap(), Presence::Available);
}

#[test]
fn parallel_ringing_first_accept_wins() {
    let policy =
        RoutingPolicy { parallel: Some(ParallelRing { languages: vec![lang("my")], fan_out: 3 }), ..policy_no_wrap() };
    let mut w = World::with_policy(policy);
    for i in 1..=4 {
        w.add(interpreter(i, &["my"], Tier::Staff, &[1]), true);
        w.advance(1);
    }
    let (r, out) = w.request(1, 11, "my");
    let rung = offers(&out);
    assert_eq!(rung.iter().map(|o| o.2.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    let (o2, _, i2) = rung[1];
    w.e.accept(w.now, o2, i2).unwrap();
    let out = w.drain();
    let rescinded: Vec<_> = out
        .iter()
        .filter(|o| {
            matches!(o, Output::OfferClosed { reason: OfferEnd::Rescinded(RescindReason::AnsweredElsewhere), .. })
        })
        .collect();
    assert_eq!(rescinded.len(), 2);
    assert!(matches!(w.e.accept(w.now, rung[0].0, rung[0].2), Err(Error::OfferClosed(_))));
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Assigned { request, interpreter, .. } if *request == r && *interpreter == i2))
    );
    // A declined parallel offer is topped up from the rest of the pool.
    let (r2, out) = w.request(1, 11, "my");
    let rung = offers(&out);
    assert_eq!(rung.len(), 3);
    w.e.decline(w.now, rung[0].0, rung[0].2).unwrap();
    let out = w.drain();
    assert!(offers(&out).is_empty(), "nobody else is idle");
    assert_eq!(w.e.standing(r2).unwrap().ringing, 2);
}

#[test]
fn cancel_and_expiry_rescind_offers_and_end_once() {
    let mut w = World::new();
    w.add(interpreter(1, &["th"], Tier::Staff, &[1]), true);
    let (r, out) = w.request(1, 11, "th");
    let (o, _, i) = only_offer(&out);
    w.advance(7);
    w.e.cancel(w.now, r).unwrap();
    let out = w.drain();
    assert!(out.contains(&Output::OfferClosed {
        offer: o,
        request: r,
        interpreter: i,
        reason: OfferEnd::Rescinded(RescindReason::RequestEnded)
    }));
    assert_eq!(ended(&out), vec![(r, Outcome::Abandoned)]);
    assert_eq!(w.e.cancel(w.now, r), Err(Error::UnknownRequest(r)));
    assert!(matches!(w.e.accept(w.now, o, i), Err(Error::OfferClosed(_))));
    let t = w.e.totals();
    assert_eq!((t.abandoned, t.abandoned_wait_ms, t.rescinded), (1, 7000, 1));

    // Expiry: the only interpreter is busy for longer than the maximum wait.
    let (_, out) = w.request(1, 11, "th");
    w.accept_only(&out);
    let (r2, _) = w.request(1, 11, "th");
    let mut outcome = Vec::new();
    for _ in 0..16 {
        outcome.extend(ended(&w.advance(60)));
    }
    assert_eq!(outcome, vec![(r2, Outcome::Expired)]);
    assert_eq!(w.e.totals().expired, 1);
}

#[test]
fn priority_with_aging_nothing_starves() {
    let mut w = World::with_policy(RoutingPolicy { urgent_credit: Duration::from_secs(120), ..policy_no_wrap() });
    w.add(interpreter(1, &["es"], Tier::Staff, &[1]), true);
    let (busy, out) = w.request(1, 11, "es");
    w.accept_only(&out);
    let (old_normal, _) = w.request(1, 11, "es");
    w.advance(60);
    let (fresh_normal, _) = w.request(1, 11, "es");
    let mut urgent = RequestSpec::new(TenantId(1), DeskId(12), lang("es"));
    urgent.priority = Priority::Urgent;
    let (urgent_a, out) = w.submit(urgent.clone());
    // The urgent one goes ahead of the normal one that waited 60 s (< 120 s credit)...
    assert!(matches!(out[0], Output::Queued { outlook: Outlook::Wait { position: 0, .. }, .. }), "{out:#?}");
    w.advance(120);
    // ...but not of one that waited longer than the credit.
    let (urgent_b, _) = w.submit(urgent);
    let mut order = Vec::new();
    let mut current = busy;
    for _ in 0..4 {
        w.e.end_call(w.now, current).unwrap();
        let (o, r, i) = only_offer(&w.drain());
        w.e.accept(w.now, o, i).unwrap();
        w.drain();
        order.push(r);
        current = r;
    }
    assert_eq!(order, vec![urgent_a, old_normal, fresh_normal, urgent_b]);
}

#[test]
fn a_freed_interpreter_takes_the_longest_waiter_across_its_languages() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["en", "fil"], Tier::Staff, &[1, 2]), true);
    let (first, out) = w.request(1, 11, "en");
    w.accept_only(&out);
    w.advance(5);
    let (fil, _) = w.request(2, 21, "fil");
    w.advance(5);
    let (en, _) = w.request(1, 12, "en");
    // The Filipino request of the other tenant has waited longer: it goes first.
    w.e.end_call(w.now, first).unwrap();
    let out = w.drain();
    let (_, r, _) = w.accept_only(&out);
    assert_eq!(r, fil);
    w.e.end_call(w.now, fil).unwrap();
    assert_eq!(only_offer(&w.drain()).1, en);
}

#[test]
fn preferred_interpreter_is_held_for_then_anyone() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    w.advance(1);
    w.add(interpreter(2, &["vi"], Tier::Volunteer, &[1]), true);
    // Interpreter 2 (a volunteer, not in the first steps) is preferred and free: rung at once.
    let mut spec = RequestSpec::new(TenantId(1), DeskId(11), lang("vi"));
    spec.preferred = Some(InterpreterId(2));
    let (_, out) = w.submit(spec.clone());
    let (o, _, i) = only_offer(&out);
    assert_eq!(i, InterpreterId(2));
    w.e.accept(w.now, o, i).unwrap();
    w.drain();
    // Now 2 is busy: the next request for 2 waits the hold (60 s) although 1 is free.
    let (r, out) = w.submit(spec);
    assert!(offers(&out).is_empty());
    let out = w.advance(60);
    let (_, req, who) = only_offer(&out);
    assert_eq!((req, who), (r, InterpreterId(1)));
}

#[test]
fn speciality_modality_and_strictness() {
    let mut w = World::new();
    let mut medical = interpreter(1, &["zh"], Tier::Staff, &[1]);
    medical.specialities = SpecialitySet::EMPTY.with(Speciality::Medical);
    medical.modalities = ModalitySet::EMPTY.with(Modality::Video);
    w.add(interpreter(2, &["zh"], Tier::Staff, &[1]), true);
    w.advance(1);
    w.add(medical, true);
    // The medical interpreter is idle for less time, but step 0 wants the speciality.
    let mut spec = RequestSpec::new(TenantId(1), DeskId(11), lang("zh"));
    spec.speciality = Some(Speciality::Medical);
    assert_eq!(only_offer(&w.submit(spec.clone()).1).2, InterpreterId(1));
    // Phone modality: interpreter 1 does video only.
    let mut phone = spec.clone();
    phone.modality = Modality::Phone;
    phone.speciality = None;
    assert_eq!(only_offer(&w.submit(phone).1).2, InterpreterId(2));
    // Strict speciality: nobody with it is free, so it waits (1 is ringing), never goes to 2.
    let mut w = World::new();
    w.add(interpreter(2, &["zh"], Tier::Staff, &[1]), true);
    spec.strict_speciality = true;
    let (_, out) = w.submit(spec);
    assert!(matches!(ended(&out)[..], [(_, Outcome::Unserved(_))]));
}

#[test]
fn a_coordinator_offers_a_waiting_request_to_a_chosen_interpreter_within_the_promises() {
    // Staff first: interpreter 1 (staff) is busy, 2 is a volunteer the first step does
    // not reach yet; the coordinator rings 2 by hand.
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    let (_, out) = w.request(1, 11, "vi");
    w.accept_only(&out);
    w.add(interpreter(2, &["vi"], Tier::Volunteer, &[1]), true);
    w.add(interpreter(3, &["pt"], Tier::Staff, &[1]), true);
    let mut excluding = RequestSpec::new(TenantId(1), DeskId(12), lang("vi"));
    excluding.excluded = vec![InterpreterId(4)];
    let (r, out) = w.submit(excluding);
    assert!(offers(&out).is_empty(), "waiting for staff: {out:?}");
    // Refused, changing nothing: a busy interpreter, another language, unknowns.
    assert!(matches!(w.e.assign_to(w.now, r, InterpreterId(1)), Err(Error::Invalid { field: "interpreter", .. })));
    assert!(matches!(w.e.assign_to(w.now, r, InterpreterId(3)), Err(Error::Invalid { field: "interpreter", .. })));
    assert_eq!(w.e.assign_to(w.now, r, InterpreterId(9)), Err(Error::UnknownInterpreter(InterpreterId(9))));
    assert_eq!(w.e.assign_to(w.now, RequestId(99), InterpreterId(2)), Err(Error::UnknownRequest(RequestId(99))));
    assert!(w.drain().is_empty());
    // Rung by hand: an ordinary offer the interpreter may decline.
    let o = w.e.assign_to(w.now, r, InterpreterId(2)).unwrap();
    let out = w.drain();
    assert_eq!(only_offer(&out), (o, r, InterpreterId(2)));
    assert!(
        matches!(w.e.assign_to(w.now, r, InterpreterId(2)), Err(Error::Invalid { field: "request", .. })),
        "it rings"
    );
    w.e.decline(w.now, o, InterpreterId(2)).unwrap();
    w.drain();
    assert!(
        matches!(w.e.assign_to(w.now, r, InterpreterId(2)), Err(Error::Invalid { field: "interpreter", .. })),
        "declined once"
    );
    // An excluded interpreter is never rung, even by hand.
    w.add(interpreter(4, &["vi"], Tier::Volunteer, &[1]), true);
    assert!(matches!(w.e.assign_to(w.now, r, InterpreterId(4)), Err(Error::Invalid { field: "interpreter", .. })));
}
