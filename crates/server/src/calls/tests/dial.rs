//! A desk calls a phone into its call: the gateway's order carries the number and a
//! seat's token; a failure takes the seat back and tells the desk; the number is in the
//! order and nowhere else.

use kakehashi_protocol as p;

use super::participants::answered_vi;
use super::*;

const NUMBER: &str = "090-1234-5678";

/// Dial `NUMBER` for the call: the order's number and token.
fn dial(w: &mut World, call: u64) -> (u64, String) {
    w.desk(p::DeskCommand::DialOut { call, number: NUMBER.into() }).unwrap();
    let out = w.take();
    let mut order = None;
    for d in deliveries(&out) {
        match d {
            Delivery::Gateway(p::GatewayEvent::Dial { dial, token, number, language }) => {
                assert_eq!((number.as_str(), language.as_str()), (NUMBER, "vi"));
                order = Some((*dial, token.clone()));
            }
            Delivery::Desk(DESK, p::DeskEvent::Dialling { call: c }) => assert_eq!(*c, call),
            other => panic!("{other:?}"),
        }
    }
    order.expect("an order to the gateway")
}

#[test]
fn a_call_out_is_an_order_with_a_phone_seat_and_an_answer_joins_it() {
    let (mut w, call) = answered_vi();
    w.take();
    let (first, token) = dial(&mut w, call);
    let (second, _) = dial(&mut w, call);
    assert_ne!(first, second, "each order has its number");
    let info = w.core.peek_invite(&crate::auth::hash_token(&token), w.now).expect("the token opens a seat");
    assert_eq!(info.party, p::Party::Phone);
    let joined = w
        .handle(Input::Join {
            token_hash: crate::auth::hash_token(&token),
            resume_hash: None,
            new_resume_hash: "r-phone".into(),
        })
        .unwrap();
    let Reply::Joined(joined) = joined else { panic!() };
    assert_eq!(joined.party, p::Party::Phone);
    // The number went to the gateway and nowhere else: not in any other output.
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    let out = w.take();
    assert!(out.iter().all(|o| !format!("{o:?}").contains("1234-5678")), "the number is not kept");
    assert!(w.core.links.dials.is_empty(), "orders are forgotten with their call");
}

#[test]
fn a_call_out_that_fails_closes_its_seat_and_tells_the_desk() {
    let (mut w, call) = answered_vi();
    w.take();
    let (dial_no, token) = dial(&mut w, call);
    w.ok(Input::DialFailed { dial: dial_no, reason: p::DialFailure::Busy });
    let out = w.take();
    assert!(matches!(
        deliveries(&out)[..],
        [Delivery::Desk(DESK, p::DeskEvent::DialFailed { reason: p::DialFailure::Busy, .. })]
    ));
    assert!(w.core.peek_invite(&crate::auth::hash_token(&token), w.now).is_none(), "the seat is closed");
    // A second report of the same order changes nothing.
    w.ok(Input::DialFailed { dial: dial_no, reason: p::DialFailure::NoAnswer });
    assert!(deliveries(&w.take()).is_empty());
}

#[test]
fn a_call_out_is_refused_with_the_reason() {
    let (mut w, call) = answered_vi();
    let bad = w.desk(p::DeskCommand::DialOut { call, number: "sip:evil@example".into() }).unwrap_err();
    assert_eq!(bad.code, p::ErrorCode::InvalidField);
    let other = w.desk(p::DeskCommand::DialOut { call: call + 100, number: NUMBER.into() }).unwrap_err();
    assert_eq!(other.code, p::ErrorCode::NotFound);
    w.core.settings.dial_out = false;
    let off = w.desk(p::DeskCommand::DialOut { call, number: NUMBER.into() }).unwrap_err();
    assert_eq!(
        (off.code, off.message.as_str()),
        (p::ErrorCode::NotAllowed, "calling a phone is not set up on this server")
    );
}
