//! Which relay holds each call's media (ADR 0022): pinned at the first offer to the up and
//! not draining relay with the fewest calls, the writer's own last; a relay gone moves its
//! calls, whose participants are told and offer again; a new writer counts the last
//! one's relay gone.

use super::*;
use crate::media::{Order, Report};
use kakehashi_relay::LegId;

/// A participant's offer: the node of the relay it went to, and its tag.
fn offered(out: &[Output]) -> (u64, u64) {
    out.iter()
        .find_map(|o| match o {
            Output::Relay { node, order: Order::Offer { tag, .. } } => Some((*node, *tag)),
            _ => None,
        })
        .expect("an offer for a relay")
}

fn offer() -> p::SessionDescription {
    p::SessionDescription { kind: p::SdpKind::Offer, sdp: "v=0".into() }
}

/// A second call: the other desk's, answered by interpreter 22.
fn other_call(w: &mut World) -> u64 {
    w.sign_in(22);
    let ask = p::DeskCommand::RequestInterpreter {
        language: "vi".into(),
        modality: None,
        speciality: None,
        urgent: false,
        preferred_interpreter: None,
    };
    w.ok(Input::Desk { desk: OTHER_DESK, tenant: TENANT, cmd: ask });
    let offer = w.offer_for(22);
    w.interpreter(22, p::InterpreterCommand::Accept { offer }).unwrap();
    w.take();
    w.core.calls.keys().last().expect("a second call").0
}

#[test]
fn calls_are_pinned_to_the_least_busy_relay_not_the_writers() {
    let mut w = World::new();
    let (first, second) = (w.answered(), other_call(&mut w));
    w.ok(Input::MediaNodes { up: vec![5, 7], draining: vec![] });
    w.desk(p::DeskCommand::Sdp { call: first, description: offer() }).unwrap();
    assert_eq!(offered(&w.take()).0, 5, "an edge's relay (not the writer's 0), the lower number on a tie");
    w.interpreter(21, p::InterpreterCommand::Sdp { call: first, description: offer() }).unwrap();
    assert_eq!(offered(&w.take()).0, 5, "the whole call on one relay");
    w.ok(Input::Desk {
        desk: OTHER_DESK,
        tenant: TENANT,
        cmd: p::DeskCommand::Sdp { call: second, description: offer() },
    });
    assert_eq!(offered(&w.take()).0, 7, "the relay with the fewest calls");
}

#[test]
fn the_writers_relay_serves_alone_and_a_draining_relay_takes_no_new_call() {
    let mut w = World::new();
    let (first, second) = (w.answered(), other_call(&mut w));
    w.desk(p::DeskCommand::Sdp { call: first, description: offer() }).unwrap();
    assert_eq!(offered(&w.take()).0, 0, "the writer's own relay while no other is up");
    w.ok(Input::MediaNodes { up: vec![5, 7], draining: vec![5] });
    w.interpreter(21, p::InterpreterCommand::Sdp { call: first, description: offer() }).unwrap();
    assert_eq!(offered(&w.take()).0, 0, "a call stays on its relay while it is up");
    w.ok(Input::Desk {
        desk: OTHER_DESK,
        tenant: TENANT,
        cmd: p::DeskCommand::Sdp { call: second, description: offer() },
    });
    assert_eq!(offered(&w.take()).0, 7, "5 drains");
}

#[test]
fn a_relay_gone_moves_its_calls_and_their_participants_offer_again() {
    let mut w = World::new();
    let call = w.answered();
    w.ok(Input::MediaNodes { up: vec![5, 7], draining: vec![] });
    w.desk(p::DeskCommand::Sdp { call, description: offer() }).unwrap();
    let (node, tag) = offered(&w.take());
    assert_eq!(node, 5);
    let leg = LegId((5 << 40) | 1);
    w.ok(Input::Relay(Report::Answered { call, tag, result: Ok((leg, "answer".into())), refused: vec![] }));
    w.interpreter(21, p::InterpreterCommand::Sdp { call, description: offer() }).unwrap();
    let (_, pending) = offered(&w.take());

    // Relay 5 is gone: both are told (the interpreter's offer was in flight), the call's
    // record counts the move, and nothing is ordered of the relay that is gone.
    w.ok(Input::MediaNodes { up: vec![7], draining: vec![] });
    let out = w.take();
    let told: Vec<&Delivery> = deliveries(&out);
    assert!(told.contains(&&Delivery::Desk(DESK, p::DeskEvent::MediaMoved { call })), "{told:?}");
    assert!(told.contains(&&Delivery::Interpreter(21, p::InterpreterEvent::MediaMoved { call })), "{told:?}");
    assert!(!out.iter().any(|o| matches!(o, Output::Relay { .. })), "{out:?}");
    assert_eq!(w.core.calls[&d::RequestId(call)].quality.reconnects, 1);
    // A late answer from the gone relay's offer changes nothing.
    w.ok(Input::Relay(Report::Answered { call, tag: pending, result: Ok((LegId(9), "x".into())), refused: vec![] }));
    assert!(deliveries(&w.take()).is_empty(), "the offer in flight was forgotten");
    // They offer again: to 7.
    w.desk(p::DeskCommand::Sdp { call, description: offer() }).unwrap();
    assert_eq!(offered(&w.take()).0, 7);
    // The call ends: its legs on 7 are removed there.
    let (_, tag) = {
        w.interpreter(21, p::InterpreterCommand::Sdp { call, description: offer() }).unwrap();
        offered(&w.take())
    };
    let leg = LegId((7 << 40) | 1);
    w.ok(Input::Relay(Report::Answered { call, tag, result: Ok((leg, "answer".into())), refused: vec![] }));
    w.take();
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    let out = w.take();
    assert!(out.iter().any(|o| matches!(o, Output::Relay { node: 7, order: Order::Remove { leg: l } } if *l == leg)));
}

#[test]
fn a_new_writer_counts_the_last_ones_relay_gone_and_keeps_the_others() {
    let mut w = World::new();
    let (first, second) = (w.answered(), other_call(&mut w));
    w.desk(p::DeskCommand::Sdp { call: first, description: offer() }).unwrap();
    assert_eq!(offered(&w.take()).0, 0, "on the writer's relay");
    w.ok(Input::MediaNodes { up: vec![5], draining: vec![] });
    w.ok(Input::Desk {
        desk: OTHER_DESK,
        tenant: TENANT,
        cmd: p::DeskCommand::Sdp { call: second, description: offer() },
    });
    assert_eq!(offered(&w.take()).0, 5, "on an edge's relay");
    // Node 5 writes now (its settings say so after a restore; here the same core).
    w.core.settings.media_node = 5;
    w.ok(Input::Takeover);
    let told = w.take();
    assert!(
        deliveries(&told).contains(&&Delivery::Desk(DESK, p::DeskEvent::MediaMoved { call: first })),
        "the call on the last writer's relay moves"
    );
    assert!(
        !deliveries(&told).iter().any(|d| matches!(d, Delivery::Desk(OTHER_DESK, p::DeskEvent::MediaMoved { .. }))),
        "the call on the surviving relay goes on"
    );
}
