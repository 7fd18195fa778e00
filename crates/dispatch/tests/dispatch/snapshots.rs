//! Snapshots (the `serde` feature): an engine restored from its snapshot carries on
//! exactly as the original would have, whatever it held: queued requests, ringing offers,
//! live calls, rosters in a time zone, bookings, timers and statistics. Cluster mode's
//! writer hands over through them (ADR 0021).

use std::time::Duration;

use jiff::civil::time;
use kakehashi_dispatch::sim;
use kakehashi_dispatch::*;

use crate::common::*;

/// The writer's format: MessagePack with named fields.
fn round_trip(e: &Engine) -> Engine {
    let bytes = rmp_serde::to_vec_named(e).unwrap();
    rmp_serde::from_slice(&bytes).unwrap()
}

#[test]
fn a_simulated_day_is_the_same_with_the_engine_restored_every_hundred_events() {
    let plain = sim::realistic_day(11, 0.5);
    let restored = sim::SimConfig { round_trip: Some((97, round_trip)), ..plain.clone() };
    let (a, b) = (sim::run(&plain).unwrap(), sim::run(&restored).unwrap());
    assert!(a.totals.requests > 500 && a.totals.declined > 0, "{a:?}");
    assert_eq!(a, b);
}

#[test]
fn queue_offers_calls_rosters_and_bookings_carry_on_after_a_restore() {
    let mut w = World::new();
    let evenings = Roster::new(
        tokyo(),
        vec![Shift { days: Days::Weekly(WeekdaySet::EVERY_DAY), start: time(18, 0, 0, 0), end: time(21, 0, 0, 0) }],
        vec![],
    )
    .unwrap();
    w.add(InterpreterSpec { roster: evenings, ..interpreter(3, &["vi"], Tier::Staff, &[1]) }, true);
    w.add_staff(&[1, 2], "vi");
    let start = w.now + Duration::from_secs(5 * 3600);
    let booking = BookingSpec {
        tenant: TenantId(1),
        language: lang("vi"),
        desk_language: LanguageId::JAPANESE,
        modality: Modality::Video,
        speciality: None,
        interpreter: Some(InterpreterId(2)),
        desk: Some(DeskId(12)),
        start,
        end: start + Duration::from_secs(1800),
    };
    w.e.book(w.now, booking).unwrap();
    w.drain();
    // A live call, a ringing offer and two requests queued behind it.
    let (_, out) = w.request(1, 11, "vi");
    w.accept_only(&out);
    w.advance(2);
    let (_, out) = w.request(1, 12, "vi");
    only_offer(&out);
    w.request(1, 11, "vi");
    w.submit(RequestSpec { priority: Priority::Urgent, ..RequestSpec::new(TenantId(1), DeskId(12), lang("vi")) });
    let mut copy = World { e: round_trip(&w.e), now: w.now, log: Vec::new() };
    copy.e.check_invariants().unwrap();
    w.log.clear();
    // The same day goes on in both: offers ring out, calls end, the roster opens, the
    // booking starts; each sees exactly the same.
    for world in [&mut w, &mut copy] {
        for step in 0..50 {
            world.advance(7 * 60);
            if step % 3 == 0 {
                world.request(1, 11, "vi");
            }
            let offered = offers(&world.log[world.log.len().saturating_sub(8)..]);
            if let Some((o, _, i)) = offered.last() {
                let _ = world.e.accept(world.now, *o, *i);
                world.drain();
            }
        }
    }
    assert!(w.log.iter().any(|o| matches!(o, Output::BookingStarted { .. })), "the booking started");
    assert_eq!(w.log, copy.log);
    assert_eq!(w.e.totals(), copy.e.totals());
}
