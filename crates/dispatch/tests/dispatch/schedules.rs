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
