//! Interpreters reached by phone: available while a gateway is connected; an offer is the
//! gateway's order with the number and a seat's token; their key accepts (the seat
//! opens, party interpreter) or declines; nothing is ever sent to them as to a console;
//! missed offers rest them, then they are rung again.

use kakehashi_protocol as p;

use super::*;

const BY_PHONE: i64 = 24;
const NUMBER: &str = "090-2222-3333";

/// The world, with interpreter 24 (Vietnamese) reached by phone.
fn world() -> World {
    let mut w = World::new();
    let mut spec = interpreter(BY_PHONE, "vi").to_spec().unwrap();
    spec.id = d::InterpreterId(BY_PHONE as u32);
    w.ok(Input::Directory(DirectoryChange::Interpreter(Box::new(spec), Some(NUMBER.into()))));
    w.take();
    w
}

/// The gateway's order for the next offer: (offer, token).
fn rung(out: &[Output]) -> Option<(u64, String)> {
    deliveries(out).into_iter().find_map(|d| match d {
        Delivery::Gateway(p::GatewayEvent::OfferCall { offer, token, number, language, ring_secs }) => {
            assert_eq!((number.as_str(), language.as_str()), (NUMBER, "vi"));
            assert!(*ring_secs > 0);
            Some((*offer, token.clone()))
        }
        _ => None,
    })
}

fn nothing_to_the_console(out: &[Output]) {
    assert!(
        deliveries(out).iter().all(|d| !matches!(d, Delivery::Interpreter(BY_PHONE, _))),
        "an interpreter reached by phone has no console: {out:?}"
    );
}

#[test]
fn without_a_gateway_nobody_is_rung_and_with_one_the_offer_is_an_order() {
    let mut w = world();
    w.request("vi").unwrap();
    let out = w.take();
    assert!(rung(&out).is_none(), "no gateway: not available (the request is unserved)");
    w.ok(Input::Gateways { up: true });
    w.request("vi").unwrap();
    let out = w.take();
    let (offer, token) = rung(&out).expect("an order to ring the phone");
    nothing_to_the_console(&out);
    let call = w.core.calls.keys().next().unwrap().0;
    // 1: the offer is theirs, the seat opens for their phone as the call's interpreter.
    assert_eq!(w.ok(Input::OfferAnswer { offer, accept: true }), Reply::Taken(true));
    let out = w.take();
    nothing_to_the_console(&out);
    assert!(deliveries(&out).iter().any(|d| matches!(d, Delivery::Desk(DESK, p::DeskEvent::Assigned { .. }))));
    assert!(deliveries(&out).iter().all(|d| !matches!(d, Delivery::Gateways(_))), "a taken offer is not withdrawn");
    let seat = w.core.peek_invite(&crate::auth::hash_token(&token), w.now).expect("a seat");
    assert_eq!(seat.party, p::Party::Interpreter);
    assert_eq!(w.core.call(d::RequestId(call)).and_then(Call::interpreter), Some(BY_PHONE));
    let joined = w
        .handle(Input::Join {
            token_hash: crate::auth::hash_token(&token),
            resume_hash: None,
            new_resume_hash: "r".into(),
        })
        .unwrap();
    let Reply::Joined(joined) = joined else { panic!() };
    assert_eq!(joined.party, p::Party::Interpreter);
    // A second key after that changes nothing.
    assert_eq!(w.ok(Input::OfferAnswer { offer, accept: true }), Reply::Taken(false));
    // The number is the order's only.
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    assert!(w.take().iter().all(|o| !format!("{o:?}").contains("2222-3333")));
}

#[test]
fn a_declined_or_missed_offer_goes_on_and_every_gateway_hears_it_closed() {
    let mut w = world();
    w.ok(Input::Gateways { up: true });
    w.request("vi").unwrap();
    let (offer, _) = rung(&w.take()).unwrap();
    assert_eq!(w.ok(Input::OfferAnswer { offer, accept: false }), Reply::Taken(false));
    let out = w.take();
    assert!(deliveries(&out).contains(&&Delivery::Gateways(p::GatewayEvent::OfferClosed { offer })));
    // Missed offers in a row rest them; they are rung again after the rest.
    for call in w.core.calls.keys().map(|c| c.0).collect::<Vec<_>>() {
        let _ = w.desk(p::DeskCommand::CancelRequest { request: call });
    }
    w.take();
    let me = d::InterpreterId(BY_PHONE as u32);
    let mut missed = 0;
    for _ in 0..6 {
        if matches!(w.core.engine.presence(me), Ok(d::Presence::NotReady(_))) {
            break;
        }
        let _ = w.request("vi");
        for _ in 0..10 {
            w.advance(30);
            let out = w.take();
            if deliveries(&out).iter().any(|d| matches!(d, Delivery::Gateways(p::GatewayEvent::OfferClosed { .. }))) {
                missed += 1;
                break;
            }
        }
        for call in w.core.calls.keys().map(|c| c.0).collect::<Vec<_>>() {
            let _ = w.desk(p::DeskCommand::CancelRequest { request: call });
        }
    }
    assert!(missed >= 2, "offers rang out: {missed}");
    assert!(matches!(w.core.engine.presence(me), Ok(d::Presence::NotReady(_))), "missed offers in a row rest them");
    w.advance(crate::calls::by_phone::PHONE_REST.as_secs() + 1);
    assert_eq!(w.core.engine.presence(me), Ok(d::Presence::Available), "rung again after the rest");
}
