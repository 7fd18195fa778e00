//! Behaviour of the engine, scenario by scenario.

use std::time::Duration;

use kakehashi_dispatch::*;

use crate::common::*;

fn policy_no_wrap() -> RoutingPolicy {
    RoutingPolicy { wrap_up: Some(Duration::ZERO), ..RoutingPolicy::default() }
}

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
fn rosters_gate_offers_and_the_answer_says_when() {
    use jiff::civil::{Weekday, time};
    let mut w = World::new();
    // T0 is Friday 17:00 in Tokyo. Interpreter 1 works Fridays 18:00-21:00.
    let roster = Roster::new(
        tokyo(),
        vec![Shift {
            days: Days::Weekly(WeekdaySet::of(&[Weekday::Friday])),
            start: time(18, 0, 0, 0),
            end: time(21, 0, 0, 0),
        }],
        vec![],
    )
    .unwrap();
    let mut spec = interpreter(1, &["ru"], Tier::Staff, &[1]);
    spec.roster = roster.clone();
    w.add(spec, true);
    assert!(!w.e.on_roster(InterpreterId(1)).unwrap());
    let (_, out) = w.request(1, 11, "ru");
    let six = Timestamp::from_secs(T0 + 3600);
    assert_eq!(ended(&out)[0].1, Outcome::Unserved(Suggestion::LaterToday(six)));
    // At 21:00 the shift is over; the next is next Friday: book instead.
    w.advance(3600);
    assert!(w.e.on_roster(InterpreterId(1)).unwrap());
    let (_, out) = w.request(1, 11, "ru");
    let (o, _, i) = only_offer(&out);
    w.e.decline(w.now, o, i).unwrap();
    w.drain();
    w.advance(3 * 3600);
    assert!(!w.e.on_roster(InterpreterId(1)).unwrap());
    let (_, out) = w.request(1, 11, "ru");
    let next_friday = Timestamp::from_secs(T0 + 7 * 86_400 + 3600);
    assert_eq!(ended(&out)[0].1, Outcome::Unserved(Suggestion::Booking(next_friday)));

    // A queued request is offered when an interpreter's shift starts.
    let mut w = World::with_policy(RoutingPolicy { max_wait: Duration::from_secs(7200), ..RoutingPolicy::default() });
    w.add(interpreter(2, &["ru"], Tier::Staff, &[1]), true);
    let mut spec = interpreter(1, &["ru"], Tier::Staff, &[1]);
    spec.roster = roster;
    w.add(spec, true);
    let (_, out) = w.request(1, 11, "ru");
    w.accept_only(&out);
    let (r, _) = w.request(1, 11, "ru");
    let out = w.advance(3600);
    assert_eq!(only_offer(&out).1, r);
}

/// A video booking for Vietnamese of `minutes` from `start`, with `who` or anyone.
fn vi_booking(start: Timestamp, minutes: u64, who: Option<u32>) -> BookingSpec {
    BookingSpec {
        tenant: TenantId(1),
        language: lang("vi"),
        desk_language: LanguageId::JAPANESE,
        modality: Modality::Video,
        speciality: None,
        interpreter: who.map(InterpreterId),
        start,
        end: start + Duration::from_secs(minutes * 60),
    }
}

#[test]
fn bookings_hold_the_interpreter_back_from_calls_that_would_run_into_the_slot() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    w.add(interpreter(2, &["vi"], Tier::Volunteer, &[1]), false);
    let start = w.now + Duration::from_secs(3600);
    let spec = vi_booking(start, 30, None);
    let (b, who) = w.e.book(w.now, spec.clone()).unwrap();
    assert_eq!(who, InterpreterId(1), "best tier first");
    w.drain();
    // The same interpreter cannot be booked twice for the slot; the volunteer can.
    let named = BookingSpec { interpreter: Some(InterpreterId(1)), ..spec.clone() };
    assert!(matches!(w.e.book(w.now, named), Err(Error::NotBookable(_))));
    assert_eq!(w.e.book(w.now, spec.clone()).unwrap().1, InterpreterId(2));
    // 45 minutes before the slot, a call is still offered...
    w.advance(15 * 60);
    let (r, out) = w.request(1, 11, "vi");
    let (o, _, i) = only_offer(&out);
    assert_eq!(i, InterpreterId(1));
    w.e.decline(w.now, o, i).unwrap();
    assert_eq!(ended(&w.drain()), vec![(r, Outcome::Unserved(Suggestion::Phone))], "the volunteer is offline");
    // ...but not within the 20 minute guard.
    w.advance(25 * 60);
    let (_, out) = w.request(1, 11, "vi");
    assert!(offers(&out).is_empty());
    assert!(matches!(ended(&out)[..], [(_, Outcome::Unserved(_))]));
    let out = w.advance(20 * 60);
    assert!(out.contains(&Output::BookingStarted { booking: b, interpreter: InterpreterId(1) }));
    let out = w.advance(30 * 60);
    assert!(out.contains(&Output::BookingEnded { booking: b, interpreter: InterpreterId(1) }));
    assert_eq!(only_offer(&w.request(1, 11, "vi").1).2, InterpreterId(1));
    // Bad slots.
    let past = BookingSpec { start: w.now - Duration::from_secs(1), ..spec.clone() };
    assert!(matches!(w.e.book(w.now, past), Err(Error::Invalid { field: "start", .. })));
    let backwards = BookingSpec { start: w.now + Duration::from_secs(10), end: w.now, ..spec };
    assert!(matches!(w.e.book(w.now, backwards), Err(Error::Invalid { field: "end", .. })));
    assert_eq!(w.e.cancel_booking(w.now, b), Err(Error::UnknownBooking(b)));
}

#[test]
fn cancelling_a_booking_frees_the_interpreter() {
    let mut w = World::new();
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    let start = w.now + Duration::from_secs(600);
    let spec = vi_booking(start, 10, Some(1));
    let (b, _) = w.e.book(w.now, spec).unwrap();
    w.drain();
    let mut audio = RequestSpec::new(TenantId(1), DeskId(11), lang("vi"));
    audio.modality = Modality::Audio;
    let (_, out) = w.submit(audio);
    assert!(matches!(ended(&out)[..], [(_, Outcome::Unserved(_))]));
    w.e.cancel_booking(w.now, b).unwrap();
    w.drain();
    assert_eq!(only_offer(&w.request(1, 11, "vi").1).2, InterpreterId(1));
}

#[test]
fn errors_are_typed_and_change_nothing() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    w.add(interpreter(2, &["vi"], Tier::Staff, &[1]), true);
    let (r, out) = w.request(1, 11, "vi");
    let (o, _, i) = only_offer(&out);
    let now = w.now;
    let before = format!("{:?}", w.e);
    let vi = lang("vi");
    let attempts: Vec<(Result<Reply, Error>, Error)> = vec![
        (w.e.handle_input(now, Input::Accept(OfferId(999), i)), Error::UnknownOffer(OfferId(999))),
        (
            w.e.handle_input(now, Input::Accept(o, InterpreterId(2))),
            Error::NotYourOffer { offer: o, interpreter: InterpreterId(2) },
        ),
        (
            w.e.handle_input(now, Input::Decline(o, InterpreterId(99))),
            Error::NotYourOffer { offer: o, interpreter: InterpreterId(99) },
        ),
        (w.e.handle_input(now, Input::EndCall(r)), Error::NotInCall(r)),
        (w.e.handle_input(now, Input::Cancel(RequestId(77))), Error::UnknownRequest(RequestId(77))),
        (
            w.e.handle_input(now, Input::SetAvailability(InterpreterId(9), Availability::Available)),
            Error::UnknownInterpreter(InterpreterId(9)),
        ),
        (
            w.e.handle_input(now, Input::Submit(RequestSpec::new(TenantId(1), DeskId(21), vi))),
            Error::WrongTenant { desk: DeskId(21), tenant: TenantId(1) },
        ),
        (
            w.e.handle_input(now, Input::Submit(RequestSpec::new(TenantId(3), DeskId(11), vi))),
            Error::UnknownTenant(TenantId(3)),
        ),
        (
            w.e.handle_input(now, Input::Submit(RequestSpec::new(TenantId(1), DeskId(99), vi))),
            Error::UnknownDesk(DeskId(99)),
        ),
        (
            w.e.handle_input(now, Input::Submit(RequestSpec::new(TenantId(1), DeskId(11), LanguageId::JAPANESE))),
            Error::Invalid { field: "language", problem: "the resident's and the desk's language are the same" },
        ),
        (w.e.handle_input(now, Input::AddDesk(DeskId(11), TenantId(1))), Error::Duplicate { what: "desk", id: 11 }),
        (
            w.e.handle_input(now, Input::AddInterpreter(interpreter(1, &["vi"], Tier::Staff, &[1]))),
            Error::Duplicate { what: "interpreter", id: 1 },
        ),
        (
            w.e.handle_input(now, Input::AddInterpreter(interpreter(5, &["vi"], Tier::Staff, &[9]))),
            Error::UnknownTenant(TenantId(9)),
        ),
        (
            w.e.handle_input(now, Input::AddInterpreter(interpreter(5, &[], Tier::Staff, &[1]))),
            Error::Invalid { field: "pairs", problem: "an interpreter must cover at least one language pair" },
        ),
        (
            w.e.handle_input(now, Input::RemoveInterpreter(InterpreterId(1))),
            Error::InvalidTransition { interpreter: InterpreterId(1), from: Presence::Offered, action: "be removed" },
        ),
        (w.e.handle_input(now, Input::CancelBooking(BookingId(3))), Error::UnknownBooking(BookingId(3))),
    ];
    for (got, want) in attempts {
        assert_eq!(got, Err(want));
    }
    let mut bad = RequestSpec::new(TenantId(1), DeskId(11), vi);
    bad.excluded = (0..100).map(InterpreterId).collect();
    assert!(matches!(w.e.submit(now, bad), Err(Error::Invalid { field: "excluded", .. })));
    let mut bad = RoutingPolicy::default();
    bad.steps.clear();
    assert!(matches!(w.e.set_policy(now, TenantId(1), bad), Err(Error::Policy(_))));
    assert_eq!(format!("{:?}", w.e), before, "errors leave the state unchanged");
    assert!(w.e.poll_output().is_none());

    // Accept, then the same accept again, and transitions not allowed in a call.
    w.e.accept(now, o, i).unwrap();
    w.drain();
    let before = format!("{:?}", w.e);
    assert_eq!(w.e.accept(now, o, i), Err(Error::OfferClosed(o)));
    assert_eq!(w.e.cancel(now, r), Err(Error::NotWaiting(r)));
    assert!(matches!(w.e.set_availability(now, i, Availability::Offline), Err(Error::InvalidTransition { .. })));
    assert!(matches!(
        w.e.update_interpreter(now, interpreter(1, &["en"], Tier::Staff, &[1])),
        Err(Error::InvalidTransition { .. })
    ));
    assert_eq!(format!("{:?}", w.e), before);
}

#[test]
fn going_offline_while_rung_passes_the_offer_on() {
    let mut w = World::new();
    w.add_staff(&[1, 2], "vi");
    let (r, out) = w.request(1, 11, "vi");
    let (o, _, i) = only_offer(&out);
    w.e.set_availability(w.now, i, Availability::Offline).unwrap();
    let out = w.drain();
    assert!(out.contains(&Output::OfferClosed {
        offer: o,
        request: r,
        interpreter: i,
        reason: OfferEnd::Rescinded(RescindReason::InterpreterLeft)
    }));
    assert_eq!(only_offer(&out).2, InterpreterId(2));
    assert_eq!(w.e.presence(i).unwrap(), Presence::Offline);
}

#[test]
fn estimates_live_view_and_occupancy() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    // One call of 4 minutes gives the first handle time.
    let (r, out) = w.request(1, 11, "vi");
    w.accept_only(&out);
    w.advance(240);
    w.e.end_call(w.now, r).unwrap();
    w.drain();
    let (r1, _) = w.request(1, 11, "vi");
    let (o, _, i) = only_offer(&w.log.clone()[w.log.len() - 2..]);
    w.e.accept(w.now, o, i).unwrap();
    w.drain();
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(w.request(1, 12, "vi").0);
    }
    // With one interpreter and a 4 minute handle time: 4, 8, 12 minutes.
    let est: Vec<_> = waiting.iter().map(|r| w.e.standing(*r).unwrap().estimate).collect();
    assert_eq!(
        est,
        vec![WaitEstimate::ThreeToFiveMinutes, WaitEstimate::FiveToTenMinutes, WaitEstimate::TenToTwentyMinutes]
    );
    assert_eq!(w.e.standings().len(), 3);
    w.advance(30);
    let live = w.e.live_languages();
    let vi = live.iter().find(|l| l.pair == pair("vi")).unwrap();
    assert_eq!((vi.waiting, vi.idle, vi.staffed, vi.longest_wait), (3, 0, 1, Duration::from_secs(30)));
    let t1 = w.e.live_tenants().into_iter().find(|t| t.tenant == TenantId(1)).unwrap();
    assert_eq!((t1.waiting, t1.in_call), (3, 1));
    let rows = w.e.counter_rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].counters.requests, 5);
    w.e.end_call(w.now, r1).unwrap();
    w.drain();
    let occupancy = w.e.presence_time().occupancy(Some(Tier::Staff)).unwrap();
    assert!(occupancy > 0.9, "{occupancy}");
}

#[test]
fn policy_changes_apply_to_waiting_requests() {
    let mut w = World::new();
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    let (_, out) = w.request(1, 11, "vi");
    w.accept_only(&out);
    w.add(interpreter(2, &["vi"], Tier::Volunteer, &[1]), true);
    // Staff member 1 is busy; the volunteer is only reached in step 3.
    let (r, out) = w.request(1, 11, "vi");
    assert!(offers(&out).is_empty());
    let flat = RoutingPolicy {
        steps: vec![Step {
            duration: Duration::ZERO,
            tiers: TierSet::all(),
            scope: Scope::Own,
            require_speciality: false,
        }],
        ..RoutingPolicy::default()
    };
    w.e.set_policy(w.now, TenantId(1), flat).unwrap();
    let out = w.drain();
    let (_, req, who) = only_offer(&out);
    assert_eq!((req, who), (r, InterpreterId(2)));
}

/// A tenant's live view counts its own requests and the interpreters who could serve
/// it (its own and the shared pool's), never another tenant's.
#[test]
fn a_tenants_live_view_leaves_other_tenants_out() {
    let mut w = World::new();
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    w.add(interpreter(2, &["vi"], Tier::Staff, &[2]), true);
    w.add(interpreter(3, &["vi", "pt"], Tier::Staff, &[2]), false);
    let mut shared = interpreter(4, &["ne"], Tier::Contractor, &[]);
    shared.shared_pool = true;
    w.add(shared, true);
    // Tenant 2's interpreter takes tenant 2's call; another of tenant 2 waits.
    let (_, out) = w.request(2, 21, "vi");
    w.accept_only(&out);
    w.request(2, 21, "vi");
    let of = |t: u32| -> Vec<(LanguagePair, usize, usize, usize)> {
        w.e.live_languages_of(TenantId(t)).iter().map(|l| (l.pair, l.waiting, l.idle, l.staffed)).collect()
    };
    let mut one = vec![(pair("vi"), 0, 1, 1), (pair("ne"), 0, 1, 1)];
    one.sort_unstable_by_key(|x| x.0);
    assert_eq!(of(1), one, "tenant 2's interpreters and request are not tenant 1's");
    let two = of(2);
    assert!(two.contains(&(pair("vi"), 1, 0, 1)), "{two:?}");
    assert!(two.contains(&(pair("pt"), 0, 0, 0)), "a language of its own, nobody signed in: {two:?}");
    assert!(two.contains(&(pair("ne"), 0, 1, 1)), "the shared pool serves every tenant: {two:?}");
    let presence = |t: Option<u32>| w.e.presence_counts(t.map(TenantId));
    assert_eq!(presence(Some(1)), vec![(Presence::Available, 2)]);
    assert_eq!(presence(Some(2)), vec![(Presence::Offline, 1), (Presence::Available, 1), (Presence::InCall, 1)]);
    assert_eq!(presence(None).iter().map(|(_, n)| n).sum::<usize>(), 4);
}

/// A request that ends without an interpreter says how long it waited and how many
/// offers it had, for its record.
#[test]
fn an_unanswered_request_ends_with_its_wait_and_offers() {
    let mut w = World::new();
    w.add_staff(&[1, 2], "vi");
    let (r, out) = w.request(1, 11, "vi");
    let (o, _, i) = only_offer(&out);
    w.advance(5);
    w.e.decline(w.now, o, i).unwrap();
    assert_eq!(offers(&w.drain()).len(), 1, "the next interpreter is rung");
    w.advance(10);
    w.e.cancel(w.now, r).unwrap();
    let out = w.drain();
    let ended = out.iter().find_map(|o| match o {
        Output::Ended { request, outcome, waited, offers } if *request == r => Some((*outcome, *waited, *offers)),
        _ => None,
    });
    assert_eq!(ended, Some((Outcome::Abandoned, Duration::from_secs(15), 2)));
}
