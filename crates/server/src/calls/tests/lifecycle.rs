//! Every way a request ends: answered, abandoned, unserved, expired, and a call whose
//! interpreter dropped.

use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::*;

#[test]
fn an_answered_call_is_recorded_before_anyone_hears_it_ended() {
    let mut w = World::new();
    w.sign_in(21);
    w.request("vi").unwrap();
    let out = w.take();
    assert!(matches!(deliveries(&out)[..], [Delivery::Desk(DESK, p::DeskEvent::Queued { ringing: true, .. }), ..]));
    let offer = deliveries(&out)
        .iter()
        .find_map(|d| match d {
            Delivery::Interpreter(21, p::InterpreterEvent::Offer { offer, language, .. }) => {
                assert_eq!(language, "vi");
                Some(*offer)
            }
            _ => None,
        })
        .expect("21 is rung");
    w.advance(4);
    w.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
    let out = w.take();
    let call = deliveries(&out)
        .iter()
        .find_map(|d| match d {
            Delivery::Desk(DESK, p::DeskEvent::Assigned { call, you, participants, .. }) => {
                assert_eq!(*you, 0, "the desk is the call's first participant");
                let kinds: Vec<(u32, p::Party)> = participants.iter().map(|p| (p.id, p.party)).collect();
                assert_eq!(kinds, [(0, p::Party::Desk), (1, p::Party::Interpreter)]);
                Some(*call)
            }
            _ => None,
        })
        .expect("assigned");
    assert!(
        deliveries(&out)
            .iter()
            .any(|d| matches!(d, Delivery::Interpreter(21, p::InterpreterEvent::Assigned { you: 1, .. })))
    );
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Fact(Fact::Answered { waited, .. }) if *waited == Duration::from_secs(4)))
    );
    w.advance(300);
    w.take();
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    let out = w.take();
    // Nobody hears the end yet: the record comes first, the events after it.
    assert!(deliveries(&out).iter().all(|d| !matches!(d, Delivery::Desk(_, p::DeskEvent::CallEnded { .. }))));
    let recs = records(&out);
    let (record, then) = recs.first().expect("a record");
    assert_eq!(record.outcome, RecordOutcome::Answered);
    assert_eq!((record.offers, record.interpreter_id, record.tier.as_deref()), (1, Some(21), Some("staff")));
    assert_eq!(record.answered_at.unwrap() - record.requested_at, 4_000);
    assert_eq!(record.ended_at - record.answered_at.unwrap(), 300_000);
    assert!(then.contains(&Delivery::Desk(DESK, p::DeskEvent::CallEnded { call, by: p::Party::Desk })));
    assert!(then.contains(&Delivery::Interpreter(21, p::InterpreterEvent::CallEnded { call, by: p::Party::Desk })));
    assert!(out.iter().any(|o| matches!(o, Output::Fact(Fact::Talk(t)) if *t == Duration::from_secs(300))));
    // Once written, the desk may give its outcome, once.
    w.ok(Input::Recorded { call: d::RequestId(call), id: 77 });
    // A municipality that is not one is refused, and the desk may try again.
    let nowhere = w.desk(p::DeskCommand::RecordOutcome {
        call,
        outcome: p::OutcomeCategory::Referred,
        topics: vec![],
        residence: Some(999),
        referral: None,
        note: None,
    });
    assert_eq!(nowhere.unwrap_err().code, p::ErrorCode::InvalidField);
    let topics = vec![p::Topic::Work, p::Topic::Medical, p::Topic::Work];
    w.desk(p::DeskCommand::RecordOutcome {
        call,
        outcome: p::OutcomeCategory::Referred,
        topics,
        residence: Some(TENANT),
        referral: None,
        note: None,
    })
    .unwrap();
    let stored = crate::store::DeskOutcome {
        status: "referred",
        topics: vec!["medical", "work"],
        residence: Some(TENANT),
        referral: None,
        note: None,
    };
    assert!(
        matches!(&w.take()[..], [Output::Outcome { record: 77, tenant: TENANT, outcome, .. }] if *outcome == stored),
        "topics sorted, each once"
    );
    let again = w.desk(p::DeskCommand::RecordOutcome {
        call,
        outcome: p::OutcomeCategory::Resolved,
        topics: vec![],
        residence: None,
        referral: None,
        note: None,
    });
    assert_eq!(again.unwrap_err().code, p::ErrorCode::NotFound);
}

#[test]
fn a_cancelled_request_is_recorded_abandoned_with_its_offers() {
    let mut w = World::new();
    w.sign_in(21);
    w.sign_in(22);
    w.request("vi").unwrap();
    let first = w.take();
    let (who, offer) = deliveries(&first)
        .iter()
        .find_map(|d| match d {
            Delivery::Interpreter(i, p::InterpreterEvent::Offer { offer, .. }) => Some((*i, *offer)),
            _ => None,
        })
        .unwrap();
    w.advance(2);
    w.interpreter(who, p::InterpreterCommand::Decline { offer }).unwrap();
    w.take();
    let request = w.core.calls.keys().next().unwrap().0;
    w.advance(5);
    w.desk(p::DeskCommand::CancelRequest { request }).unwrap();
    let out = w.take();
    let (record, then) = records(&out)[0];
    assert_eq!((record.outcome, record.offers), (RecordOutcome::Abandoned, 2));
    assert_eq!(record.offered_at, Some(record.requested_at));
    assert_eq!(then, &vec![Delivery::Desk(DESK, p::DeskEvent::Cancelled { request })]);
    assert!(w.core.calls.is_empty());
}

#[test]
fn a_language_nobody_can_take_is_unserved_and_recorded() {
    let mut w = World::new();
    w.request("ne").unwrap();
    let out = w.take();
    let (record, then) = records(&out)[0];
    assert_eq!((record.outcome, record.offers, record.offered_at), (RecordOutcome::Unserved, 0, None));
    assert!(matches!(then[..], [Delivery::Desk(DESK, p::DeskEvent::Unserved { .. })]));
    assert!(out.iter().any(|o| matches!(o, Output::Fact(Fact::RequestEnded { outcome: "unserved", .. }))));
}

#[test]
fn a_request_that_waits_the_maximum_expires() {
    let mut w = World::new();
    w.sign_in(21);
    // 21 is busy in a call; the next Vietnamese request waits.
    w.request("vi").unwrap();
    let offer = w.offer_for(21);
    w.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
    w.take();
    w.handle(Input::Desk {
        desk: OTHER_DESK,
        tenant: TENANT,
        cmd: p::DeskCommand::RequestInterpreter {
            language: "vi".into(),
            modality: None,
            speciality: None,
            urgent: false,
            preferred_interpreter: None,
        },
    })
    .unwrap();
    let out = w.take();
    assert!(
        deliveries(&out)
            .iter()
            .any(|d| matches!(d, Delivery::Desk(OTHER_DESK, p::DeskEvent::Queued { ringing: false, position: 0, .. })))
    );
    // The default policy waits at most 15 minutes.
    for _ in 0..16 {
        w.advance(60);
    }
    let out = w.take();
    let (record, then) = records(&out).into_iter().find(|(r, _)| r.desk_id == OTHER_DESK).expect("a record");
    assert_eq!(record.outcome, RecordOutcome::Expired);
    assert!(matches!(then[..], [Delivery::Desk(OTHER_DESK, p::DeskEvent::Expired { .. })]));
}

#[test]
fn an_interpreter_who_drops_is_held_for_the_grace_then_the_call_ends() {
    let mut w = World::new();
    let call = w.answered();
    w.ok(Input::Detached { client: Client::Interpreter(21) });
    let out = w.take();
    assert_eq!(
        deliveries(&out),
        [&Delivery::Desk(
            DESK,
            p::DeskEvent::ParticipantLeft {
                call,
                party: p::Party::Interpreter,
                participant: 1,
                reason: p::LeftReason::Dropped
            }
        )]
    );
    // Back within the grace: the desk hears it, the call goes on.
    w.advance(30);
    assert!(w.core.session_live(Client::Interpreter(21)));
    w.ok(Input::Attached { client: Client::Interpreter(21), resumed: true, resume_hash: "r".into() });
    let out = w.take();
    assert!(deliveries(&out).contains(&&Delivery::Desk(
        DESK,
        p::DeskEvent::ParticipantJoined { call, party: p::Party::Interpreter, participant: 1 }
    )));
    // Dropped again and gone past the grace: the call ends, by the interpreter, recorded.
    w.ok(Input::Detached { client: Client::Interpreter(21) });
    w.advance(61);
    let out = w.take();
    let (record, then) = records(&out)[0];
    assert_eq!(record.outcome, RecordOutcome::Answered);
    assert!(then.contains(&Delivery::Desk(DESK, p::DeskEvent::CallEnded { call, by: p::Party::Interpreter })));
    assert!(out.iter().any(|o| matches!(o, Output::SessionEnded(Client::Interpreter(21)))));
    assert!(!w.core.session_live(Client::Interpreter(21)));
}
