//! Rosters and bookings: who may be offered a call, and when.

use std::time::Duration;

use kakehashi_dispatch::*;

use crate::common::*;

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

#[test]
fn an_interpreters_own_roster_change_applies_at_once_and_spares_a_call() {
    use jiff::civil::{date, time};
    let mut w = World::with_policy(RoutingPolicy { max_wait: Duration::from_secs(7200), ..RoutingPolicy::default() });
    // Off roster: Monday mornings only. A Russian request waits (T0 is Friday 17:00 Tokyo).
    let mondays = |exceptions| {
        let days = Days::Weekly(WeekdaySet::of(&[jiff::civil::Weekday::Monday]));
        Roster::new(tokyo(), vec![Shift { days, start: time(9, 0, 0, 0), end: time(12, 0, 0, 0) }], exceptions).unwrap()
    };
    let mut spec = interpreter(1, &["ru"], Tier::Staff, &[1]);
    spec.roster = mondays(vec![]);
    w.add(spec, true);
    // Interpreter 2 is on duty but in a call: a second request waits.
    w.add(interpreter(2, &["ru"], Tier::Staff, &[1]), true);
    let (_, out) = w.request(1, 12, "ru");
    w.accept_only(&out);
    let (r, out) = w.request(1, 11, "ru");
    assert!(offers(&out).is_empty() && ended(&out).is_empty(), "it waits");
    // They add an extra evening today: the waiting request is offered at once.
    let extra = Exception::Extra { date: date(2027, 1, 15), start: time(17, 0, 0, 0), end: time(20, 0, 0, 0) };
    w.e.set_roster(w.now, InterpreterId(1), mondays(vec![extra.clone()])).unwrap();
    let (o, offered, _) = only_offer(&w.drain());
    assert_eq!(offered, r);
    w.e.accept(w.now, o, InterpreterId(1)).unwrap();
    w.drain();
    // In the call they take today off: the call goes on, nothing new is offered.
    let off = Exception::Off { from: date(2027, 1, 15), until: date(2027, 1, 15) };
    w.e.set_roster(w.now, InterpreterId(1), mondays(vec![off])).unwrap();
    assert!(!w.e.on_roster(InterpreterId(1)).unwrap());
    assert_eq!(w.e.presence(InterpreterId(1)).unwrap(), Presence::InCall);
    // Back to the extra evening: the roster's own timer follows the newest roster.
    w.e.set_roster(w.now, InterpreterId(1), mondays(vec![extra])).unwrap();
    assert!(w.e.on_roster(InterpreterId(1)).unwrap());
    w.advance(3 * 3600);
    assert!(!w.e.on_roster(InterpreterId(1)).unwrap(), "the extra evening ended at 20:00");
    assert!(w.e.set_roster(w.now, InterpreterId(9), Roster::always()).is_err());
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
        desk: None,
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
    assert!(w.e.can_book(&spec), "free slots are asked without holding anyone");
    let (b, who) = w.e.book(w.now, spec.clone()).unwrap();
    assert_eq!(who, InterpreterId(1), "best tier first");
    w.drain();
    // The same interpreter cannot be booked twice for the slot; the volunteer can.
    let named = BookingSpec { interpreter: Some(InterpreterId(1)), ..spec.clone() };
    assert!(!w.e.can_book(&named));
    assert!(matches!(w.e.book(w.now, named), Err(Error::NotBookable(_))));
    assert!(w.e.can_book(&spec));
    assert_eq!(w.e.book(w.now, spec.clone()).unwrap().1, InterpreterId(2));
    assert!(!w.e.can_book(&spec), "both are held");
    assert!(!w.e.can_book(&vi_booking(w.now - Duration::from_secs(60), 30, None)), "not in the past");
    assert!(
        !w.e.can_book(&BookingSpec {
            desk: Some(DeskId(99)),
            ..vi_booking(start + Duration::from_secs(7200), 30, None)
        })
    );
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
    assert!(out.contains(&Output::BookingStarted { booking: b, interpreter: InterpreterId(1), request: None }));
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
fn a_booking_with_a_desk_rings_its_interpreter_at_the_slot_outside_the_queue() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    w.add(interpreter(2, &["vi"], Tier::Staff, &[1]), true);
    let start = w.now + Duration::from_secs(3600);
    let spec = BookingSpec { desk: Some(DeskId(11)), ..vi_booking(start, 30, Some(1)) };
    let (b, _) = w.e.book(w.now, spec).unwrap();
    w.drain();
    // Someone else waits in the Vietnamese queue at the slot (interpreter 2 is busy):
    // the booking does not queue behind them, and they are not offered interpreter 1.
    w.advance(3590);
    let (_, out) = w.request(1, 12, "vi");
    assert_eq!(w.accept_only(&out).2, InterpreterId(2));
    let (waiting, out) = w.request(1, 12, "vi");
    assert!(offers(&out).is_empty());
    let out = w.advance(10);
    let Some(Output::BookingStarted { booking, interpreter, request: Some(r) }) =
        out.iter().find(|o| matches!(o, Output::BookingStarted { .. })).cloned()
    else {
        panic!("no booking started in {out:?}")
    };
    assert_eq!((booking, interpreter), (b, InterpreterId(1)));
    let (o, offered, i) = only_offer(&out);
    assert_eq!((offered, i), (r, InterpreterId(1)));
    assert!(!out.iter().any(|o| matches!(o, Output::Queued { .. })), "a booking is not queued");
    assert_eq!(w.e.standings().iter().map(|s| s.0).collect::<Vec<_>>(), vec![waiting]);
    // Declined: rung again after the pause, not at once and not to anyone else.
    w.e.decline(w.now, o, i).unwrap();
    let out = w.drain();
    assert!(offers(&out).is_empty() && ended(&out).is_empty(), "{out:?}");
    let out = w.advance(BOOKED_RING_PAUSE.as_secs());
    let (o, offered, i) = only_offer(&out);
    assert_eq!((offered, i), (r, InterpreterId(1)), "rung again for the booking, not the queue");
    w.e.accept(w.now, o, i).unwrap();
    let out = w.drain();
    assert!(out.iter().any(|x| matches!(x, Output::Assigned { request, .. } if *request == r)));
    // In the call, the booking cannot be cancelled; the call ends as any other.
    assert!(matches!(w.e.cancel_booking(w.now, b), Err(Error::NotBookable(_))));
    w.advance(600);
    w.e.end_call(w.now, r).unwrap();
    w.drain();
    // The booked consultation is not an on-demand request in the statistics.
    let vi = w.e.counter_rows().into_iter().find(|c| c.language == lang("vi")).unwrap();
    assert_eq!(vi.counters.requests, 2, "only the queued requests count");
}

#[test]
fn a_booked_interpreter_signing_in_late_is_rung_and_an_unanswered_booking_expires() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), false);
    let start = w.now + Duration::from_secs(600);
    let spec = BookingSpec { desk: Some(DeskId(11)), ..vi_booking(start, 20, Some(1)) };
    w.e.book(w.now, spec.clone()).unwrap();
    let out = w.advance(600);
    assert!(offers(&out).is_empty(), "offline: nobody rung");
    w.advance(120);
    w.e.set_availability(w.now, InterpreterId(1), Availability::Available).unwrap();
    let out = w.drain();
    let (o, r, _) = only_offer(&out);
    // Missed: paused, rung again, and at the slot's end the request expires.
    let out = w.advance(20);
    assert!(out.iter().any(|x| matches!(x, Output::OfferClosed { offer, .. } if *offer == o)));
    w.e.set_availability(w.now, InterpreterId(1), Availability::Available).unwrap();
    assert!(offers(&w.drain()).is_empty(), "not at once");
    let out = w.advance(18 * 60);
    assert_eq!(ended(&out), vec![(r, Outcome::Expired)]);
    assert!(out.iter().any(|x| matches!(x, Output::BookingEnded { .. })));
}

#[test]
fn a_booking_reloaded_under_its_stored_id_keeps_it_and_a_slot_under_way_starts_at_once() {
    let mut w = World::with_policy(policy_no_wrap());
    w.add(interpreter(1, &["vi"], Tier::Staff, &[1]), true);
    let start = w.now - Duration::from_secs(300);
    let spec = BookingSpec { desk: Some(DeskId(11)), ..vi_booking(start, 30, Some(1)) };
    assert_eq!(w.e.book_as(w.now, BookingId(41), spec.clone()).unwrap(), InterpreterId(1));
    let out = w.advance(0);
    assert!(out.iter().any(|x| matches!(x, Output::BookingStarted { booking: BookingId(41), request: Some(_), .. })));
    assert_eq!(offers(&out).len(), 1);
    assert!(matches!(w.e.book_as(w.now, BookingId(41), spec.clone()), Err(Error::Duplicate { .. })));
    let later = vi_booking(w.now + Duration::from_secs(3600), 30, None);
    assert_eq!(w.e.book(w.now, later).unwrap().0, BookingId(42), "new ids follow the reloaded ones");
    // Cancelled while its request rings: the request ends abandoned, the offer with it.
    w.e.cancel_booking(w.now, BookingId(41)).unwrap();
    let out = w.drain();
    assert!(matches!(ended(&out)[..], [(_, Outcome::Abandoned)]));
    assert!(out.iter().any(|x| matches!(x, Output::OfferClosed { .. })));
    let over = vi_booking(w.now - Duration::from_secs(3600), 30, None);
    assert!(matches!(w.e.book_as(w.now, BookingId(50), over), Err(Error::Invalid { field: "end", .. })));
}

#[test]
fn availability_says_now_later_today_by_booking_or_the_phone_like_a_request_would() {
    use jiff::civil::{Weekday, time};
    let mut w = World::new();
    // T0 is Friday 17:00 in Tokyo: Russian from 18:00 on Fridays, Vietnamese now, Nepali
    // nobody.
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
    let mut ru = interpreter(1, &["ru"], Tier::Staff, &[1]);
    ru.roster = roster;
    w.add(ru, true);
    w.add(interpreter(2, &["vi"], Tier::Staff, &[1]), true);
    let ask =
        |w: &World, tag: &str| w.e.availability(TenantId(1), lang(tag), LanguageId::JAPANESE, Modality::Video).unwrap();
    assert_eq!(ask(&w, "vi"), None, "on duty now");
    let six = Timestamp::from_secs(T0 + 3600);
    assert_eq!(ask(&w, "ru"), Some(Suggestion::LaterToday(six)));
    assert_eq!(ask(&w, "ne"), Some(Suggestion::Phone));
    // Busy in a call is still on duty: a request would wait, not be unserved.
    let (_, out) = w.request(1, 11, "vi");
    w.accept_only(&out);
    assert_eq!(ask(&w, "vi"), None);
    // A request is told the same.
    let (_, out) = w.request(1, 12, "ru");
    assert_eq!(ended(&out)[0].1, Outcome::Unserved(Suggestion::LaterToday(six)));
    w.advance(4 * 3600);
    let next_friday = Timestamp::from_secs(T0 + 7 * 86_400 + 3600);
    assert_eq!(ask(&w, "ru"), Some(Suggestion::Booking(next_friday)));
    assert!(w.e.availability(TenantId(9), lang("vi"), LanguageId::JAPANESE, Modality::Video).is_err());
}
