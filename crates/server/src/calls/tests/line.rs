//! A caller on a language line: a request on behalf of the line's desk, the caller told
//! their place and then the seat's token, or why it ended (after the record); a caller
//! who hangs up abandons it; a desk's own request limit does not count line callers.

use kakehashi_protocol as p;

use super::participants::answered_vi;
use super::*;

const GATEWAY: u64 = 900;

fn key(line: u64) -> LineKey {
    LineKey { conn: GATEWAY, line }
}

fn call_line(w: &mut World, line: u64, desk: i64, language: &str) {
    w.ok(Input::LineCall { key: key(line), desk, language: language.into() });
}

/// What the gateway heard about `line`.
fn to_line(out: &[Output], line: u64) -> Vec<p::GatewayEvent> {
    let mut heard = Vec::new();
    for o in out {
        match o {
            Output::Deliver(Delivery::Line(k, e)) if *k == key(line) => heard.push(e.clone()),
            Output::Record { then, .. } => {
                for d in then {
                    if let Delivery::Line(k, e) = d
                        && *k == key(line)
                    {
                        heard.push(e.clone());
                    }
                }
            }
            _ => {}
        }
    }
    heard
}

#[test]
fn a_line_caller_waits_in_the_desks_queue_and_gets_a_phone_seat_when_answered() {
    // Interpreter 21 is busy with the desk's own call: the caller waits.
    let (mut w, _) = answered_vi();
    w.take();
    call_line(&mut w, 1, DESK, "vi");
    let out = w.take();
    let request = match deliveries(&out)[..] {
        [Delivery::Desk(DESK, p::DeskEvent::LineCall { request, language, online: false }), ..] => {
            assert_eq!(language, "vi");
            *request
        }
        ref other => panic!("{other:?}"),
    };
    assert!(
        matches!(to_line(&out, 1)[..], [p::GatewayEvent::LineQueued { line: 1, ringing: false, ahead: 0, .. }]),
        "{out:?}"
    );
    assert_eq!(w.core.call(d::RequestId(request)).map(|c| c.modality), Some(d::Modality::Audio));
    // Nothing changed: the caller is not told again.
    w.advance(1);
    assert!(to_line(&w.take(), 1).is_empty());
    w.ok(Input::Attached { client: Client::Interpreter(22), resumed: false, resume_hash: "r".into() });
    w.interpreter(22, p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).unwrap();
    let offer = w.offer_for(22);
    w.interpreter(22, p::InterpreterCommand::Accept { offer }).unwrap();
    let out = w.take();
    assert!(deliveries(&out).iter().any(|d| matches!(d, Delivery::Desk(DESK, p::DeskEvent::Assigned { .. }))));
    let [p::GatewayEvent::LineAnswered { line: 1, token }] = &to_line(&out, 1)[..] else { panic!("{out:?}") };
    let seat = w.core.peek_invite(&crate::auth::hash_token(token), w.now).expect("a seat");
    assert_eq!(seat.party, p::Party::Phone);
    // A hang-up after the answer changes nothing for the call.
    w.ok(Input::LineHangup { key: key(1) });
    assert!(w.core.call(d::RequestId(request)).is_some_and(Call::answered));
}

#[test]
fn a_line_that_cannot_be_served_says_why_after_the_record() {
    let mut w = World::new();
    // A desk the server does not have, a language it cannot parse: misconfigured.
    call_line(&mut w, 1, 999, "vi");
    call_line(&mut w, 2, DESK, "not a language!");
    let out = w.take();
    for line in [1, 2] {
        assert_eq!(to_line(&out, line), [p::GatewayEvent::LineEnded { line, reason: p::LineEnd::Misconfigured }]);
    }
    // The desk's console is not connected: closed.
    w.ok(Input::Ended { client: Client::Desk(OTHER_DESK) });
    call_line(&mut w, 3, OTHER_DESK, "vi");
    assert_eq!(to_line(&w.take(), 3), [p::GatewayEvent::LineEnded { line: 3, reason: p::LineEnd::Closed }]);
    // Nobody interprets Thai: unserved, heard only once the record is written.
    call_line(&mut w, 4, DESK, "th");
    let out = w.take();
    let recorded = records(&out);
    assert_eq!(recorded.len(), 1, "{out:?}");
    assert!(
        recorded[0]
            .1
            .contains(&Delivery::Line(key(4), p::GatewayEvent::LineEnded { line: 4, reason: p::LineEnd::Unserved }))
    );
    assert!(w.core.calls.is_empty(), "nothing is left of it");
}

#[test]
fn a_caller_who_hangs_up_abandons_the_request_and_a_lost_gateway_takes_its_callers() {
    let (mut w, _) = answered_vi();
    call_line(&mut w, 1, DESK, "vi");
    call_line(&mut w, 2, DESK, "vi");
    call_line(&mut w, 2, DESK, "vi");
    assert_eq!(w.core.calls.len(), 3, "a caller is put through once (beside the desk's own call)");
    w.take();
    w.ok(Input::LineHangup { key: key(1) });
    let out = w.take();
    let recorded = records(&out);
    assert_eq!(recorded[0].0.outcome, RecordOutcome::Abandoned);
    assert!(to_line(&out, 1).is_empty(), "a caller who hung up is not told");
    w.ok(Input::GatewayGone { conn: GATEWAY + 1 });
    assert_eq!(w.core.calls.len(), 2, "another gateway's loss is not this one's");
    w.ok(Input::GatewayGone { conn: GATEWAY });
    assert_eq!(w.core.calls.len(), 1, "only the desk's own call is left");
    assert_eq!(records(&w.take()).len(), 1);
}

#[test]
fn line_callers_do_not_use_up_the_desks_own_requests_and_the_desk_can_cancel_them() {
    let (mut w, own) = answered_vi();
    for line in 1..=5 {
        call_line(&mut w, line, DESK, "vi");
    }
    w.request("vi").expect("the desk's own request is not crowded out by callers");
    let first = w.core.calls.keys().find(|c| c.0 != own).unwrap().0;
    w.take();
    w.desk(p::DeskCommand::CancelRequest { request: first }).unwrap();
    let out = w.take();
    assert_eq!(to_line(&out, 1), [p::GatewayEvent::LineEnded { line: 1, reason: p::LineEnd::Cancelled }]);
}

#[test]
fn a_line_caller_outside_the_centres_hours_hears_it_is_closed() {
    // Friday 17:00 in Tokyo: a municipal office's hours (to 17:15) are still open.
    let (mut w, _) = answered_vi();
    let office = crate::calendar::CalendarDoc::default().to_calendar().unwrap();
    w.ok(Input::Directory(DirectoryChange::Calendar(TENANT, Some(Box::new(office)))));
    w.take();
    call_line(&mut w, 1, DESK, "vi");
    assert!(matches!(to_line(&w.take(), 1)[..], [p::GatewayEvent::LineQueued { line: 1, .. }]));
    // At 17:20 it has closed.
    w.advance(20 * 60);
    w.take();
    call_line(&mut w, 2, DESK, "vi");
    assert_eq!(to_line(&w.take(), 2), vec![p::GatewayEvent::LineEnded { line: 2, reason: p::LineEnd::Closed }]);
}
