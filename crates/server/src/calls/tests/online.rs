//! A resident from a centre's standing link who asks to talk now: a request of the online
//! desk, told to the desk as a line call that is `online`; their link says they wait and
//! refuses to let them in (keeping the link) until an interpreter answers, then lets them
//! join the call with the desk.

use super::*;

#[test]
fn a_resident_from_the_standing_link_waits_then_joins_the_answered_call() {
    let mut w = World::new();
    let hash = crate::auth::hash_token("resident-link");
    let ask =
        |w: &mut World| w.handle(Input::OnlineCall { desk: DESK, language: "vi".into(), token_hash: hash.clone() });
    // Nobody on duty: refused, book instead.
    assert!(ask(&mut w).unwrap_err().message.contains("book a time"));
    assert!(w.core.peek_invite(&hash, w.now).is_none());
    w.sign_in(21);
    ask(&mut w).unwrap();
    let out = w.take();
    let request = deliveries(&out)
        .iter()
        .find_map(|d| match d {
            Delivery::Desk(DESK, p::DeskEvent::LineCall { request, online: true, .. }) => Some(*request),
            _ => None,
        })
        .expect("the online desk is told");
    let offer = deliveries(&out)
        .iter()
        .find_map(|d| match d {
            Delivery::Interpreter(21, p::InterpreterEvent::Offer { offer, .. }) => Some(*offer),
            _ => None,
        })
        .expect("21 is rung");
    // While it rings the link waits: peeked, not joined, not used up.
    let peek = w.core.peek_invite(&hash, w.now).expect("the link works");
    assert_eq!((peek.waiting, peek.used, peek.language.as_str()), (Some(0), false, "vi"));
    let join = |w: &mut World| {
        w.handle(Input::Join { token_hash: hash.clone(), resume_hash: None, new_resume_hash: "r1".into() })
    };
    assert_eq!(join(&mut w).unwrap_err().code, p::ErrorCode::NotBegun);
    // Answered: the link lets the resident in beside the desk and the interpreter.
    w.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
    assert!(w.core.peek_invite(&hash, w.now).is_some_and(|i| i.waiting.is_none()));
    match join(&mut w).unwrap() {
        Reply::Joined(j) => assert_eq!((j.member.call, j.party), (request, p::Party::Resident)),
        other => panic!("{other:?}"),
    }
    let call = w.core.call(d::RequestId(request)).expect("the call");
    assert_eq!(call.participants.len(), 3, "desk, interpreter and resident");
}
