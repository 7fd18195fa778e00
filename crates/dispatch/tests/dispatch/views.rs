//! What the engine tells: typed errors that change nothing, estimates, live views per
//! tenant, policy changes on waiting requests, and the facts an unanswered request ends with.

use std::time::Duration;

use kakehashi_dispatch::*;

use crate::common::*;

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
