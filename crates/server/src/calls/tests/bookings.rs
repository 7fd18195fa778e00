//! Bookings in the core: held, moved, cancelled; at the slot the booked desk's request
//! rings the held interpreter outside the queue, marked as the booking's, and a desk
//! that connects while it waits is told again.

use super::*;
use crate::bookings::{BookedModality, Booking, ResidentJoins, Specialist, SpecialistJoins};

pub(super) fn booking(id: i64, now: d::Timestamp, from_now_secs: i64, interpreter: Option<i64>) -> Booking {
    let start = now.as_millis() + from_now_secs * 1000;
    Booking {
        id,
        tenant: TENANT,
        desk: DESK,
        language: "vi".into(),
        modality: BookedModality::Video,
        specialist: Specialist::Lawyer,
        require_speciality: false,
        topic: None,
        requested_interpreter: interpreter,
        interpreter,
        start,
        end: start + 30 * 60_000,
        resident: ResidentJoins::Counter,
        specialist_joins: SpecialistJoins::Remote,
        intake: false,
        status: "booked".into(),
        created_by: "staff:1".into(),
        links: crate::bookings::BookingLinks::default(),
    }
}

fn held(r: Result<Reply, p::ProtocolError>) -> i64 {
    match r {
        Ok(Reply::Booked { interpreter }) => interpreter,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_booking_rings_its_interpreter_at_the_slot_and_a_clash_or_a_move_into_one_is_refused() {
    let mut w = World::new();
    w.sign_in(21);
    w.sign_in(22);
    // 7's resident joins by phone: the desk is told so at the slot (it calls them).
    let b7 = Booking { resident: ResidentJoins::Phone, ..booking(7, w.now, 600, Some(21)) };
    assert_eq!(held(w.handle(Input::Booking(BookingChange::Book(Box::new(b7.clone()))))), 21);
    let clash = w.handle(Input::Booking(BookingChange::Book(Box::new(booking(8, w.now, 900, Some(21))))));
    assert!(clash.unwrap_err().message.contains("another booking"));
    assert_eq!(held(w.handle(Input::Booking(BookingChange::Book(Box::new(booking(8, w.now, 900, None)))))), 22);
    // Moving 8 onto 7's interpreter's slot is refused and 8 keeps its own.
    let onto = Booking { requested_interpreter: Some(21), ..booking(8, w.now, 600, Some(21)) };
    assert!(w.handle(Input::Booking(BookingChange::Move(Box::new(onto)))).is_err());
    w.ok(Input::Booking(BookingChange::Cancel(8)));
    // Within the guard 21 is held back from the queue.
    w.request("vi").unwrap();
    let queued = w.take();
    assert!(!deliveries(&queued).iter().any(|d| matches!(d, Delivery::Interpreter(21, _))), "{queued:?}");
    w.advance(600);
    let out = w.take();
    let told = deliveries(&out).iter().find_map(|d| match d {
        Delivery::Desk(DESK, p::DeskEvent::BookingCall { request, booking: 7, resident, .. }) => {
            Some((*request, *resident))
        }
        _ => None,
    });
    let (request, resident) = told.expect("the desk is told the booking's call");
    assert_eq!(resident, ResidentJoins::Phone);
    let offer = deliveries(&out)
        .iter()
        .find_map(|d| match d {
            Delivery::Interpreter(21, p::InterpreterEvent::Offer { offer, booking: Some(7), .. }) => Some(*offer),
            _ => None,
        })
        .expect("21 is rung for the booking");
    // The desk's connection comes back while it rings: told again.
    w.ok(Input::Detached { client: Client::Desk(DESK) });
    w.ok(Input::Attached { client: Client::Desk(DESK), resumed: true, resume_hash: "r".into() });
    assert!(deliveries(&w.take()).iter().any(|d| matches!(d, Delivery::Desk(DESK, p::DeskEvent::BookingCall { .. }))));
    w.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
    let call = w.core.call(d::RequestId(request)).expect("the call");
    assert_eq!((call.booking, call.interpreter()), (Some(7), Some(21)));
    // A slot begun is not moved; its booking is not cancelled while the call lives.
    assert!(w.handle(Input::Booking(BookingChange::Move(Box::new(b7)))).is_err());
    assert!(w.handle(Input::Booking(BookingChange::Cancel(7))).is_err());
}

/// The `unserved` the desk hears (after its record).
fn unserved_suggestion(out: &[Output]) -> p::Suggestion {
    out.iter()
        .find_map(|o| match o {
            Output::Record { then, .. } => then.iter().find_map(|d| match d {
                Delivery::Desk(DESK, p::DeskEvent::Unserved { suggestion, .. }) => Some(suggestion.clone()),
                _ => None,
            }),
            _ => None,
        })
        .expect("an unserved request")
}

#[test]
fn the_centre_calendar_moves_the_when_answer_into_its_opening_hours() {
    // Friday 2027-01-15, 17:00 in Tokyo; a Portuguese interpreter works evenings 18:00-21:00.
    let mut w = World::new();
    let mut row = interpreter(24, "pt");
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(String::from).to_vec();
    let evenings =
        crate::directory::ShiftDoc { days, start: "18:00".into(), end: "21:00".into(), ..Default::default() };
    row.roster = RosterDoc { time_zone: Some("Asia/Tokyo".into()), shifts: vec![evenings], ..RosterDoc::default() };
    w.ok(Input::Directory(DirectoryChange::Interpreter(Box::new(row.to_spec().unwrap()), None)));
    w.take();
    w.request("pt").unwrap();
    assert_eq!(unserved_suggestion(&w.take()), p::Suggestion::LaterToday { from: "2027-01-15T09:00:00Z".into() });
    // The centre keeps a municipal office's hours (weekdays 08:30-17:15): Monday morning.
    let office = crate::calendar::CalendarDoc::default().to_calendar().unwrap();
    w.ok(Input::Directory(DirectoryChange::Calendar(TENANT, Some(Box::new(office)))));
    w.request("pt").unwrap();
    assert_eq!(unserved_suggestion(&w.take()), p::Suggestion::Booking { from: "2027-01-17T23:30:00Z".into() });
    w.ok(Input::Directory(DirectoryChange::Calendar(TENANT, None)));
    w.request("pt").unwrap();
    assert!(matches!(unserved_suggestion(&w.take()), p::Suggestion::LaterToday { .. }));
}

#[test]
fn a_held_interpreter_is_reminded_once_fifteen_minutes_before_and_notices_reach_consoles() {
    let mut w = World::new();
    w.sign_in(21);
    held(w.handle(Input::Booking(BookingChange::Book(Box::new(booking(7, w.now, 20 * 60, Some(21)))))));
    let soon = |out: &[Output]| {
        deliveries(out)
            .iter()
            .filter(|d| matches!(d, Delivery::Interpreter(21, p::InterpreterEvent::BookingSoon { booking: 7, .. })))
            .count()
    };
    w.advance(4 * 60);
    assert_eq!(soon(&w.take()), 0, "20 minutes before: not yet");
    w.advance(60);
    assert_eq!(soon(&w.take()), 1, "15 minutes before");
    w.advance(60);
    assert_eq!(soon(&w.take()), 0, "once");
    // A coordinator's notice goes to the consoles it is for.
    let notice = p::InterpreterEvent::Notice { id: 1, from: "Asahi".into(), text: "x".into(), at: "t".into() };
    w.ok(Input::Notice { to: vec![21], notice: notice.clone() });
    assert_eq!(deliveries(&w.take()), vec![&Delivery::Interpreter(21, notice)]);
}
