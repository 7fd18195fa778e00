//! Participants: several residents and a guest, rejoining with a token, invites, a
//! desk's limits and fresh start, media legs.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::*;

#[test]
fn two_residents_and_a_guest_each_have_their_own_number_and_hear_each_other() {
    let mut w = World::new();
    let call = w.answered();
    let a = w.join(call, p::Party::Resident, "ra");
    let b = w.join(call, p::Party::Resident, "rb");
    let g = w.join(call, p::Party::Guest, "rg");
    assert_eq!((a.member.participant, b.member.participant, g.member.participant), (2, 3, 4));
    assert_eq!((a.party, g.party), (p::Party::Resident, p::Party::Guest));
    let out = w.take();
    // The guest was told who is in the call, itself included.
    let roster = deliveries(&out)
        .iter()
        .find_map(|d| match d {
            Delivery::Member(m, p::ResidentEvent::Joined { you, participants, .. }) if *m == g.member => {
                Some((*you, participants.iter().map(|p| (p.id, p.party)).collect::<Vec<_>>()))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(
        roster,
        (
            4,
            vec![
                (0, p::Party::Desk),
                (1, p::Party::Interpreter),
                (2, p::Party::Resident),
                (3, p::Party::Resident),
                (4, p::Party::Guest)
            ]
        )
    );
    // Resident A heard both others join.
    let heard: Vec<u32> = deliveries(&out)
        .iter()
        .filter_map(|d| match d {
            Delivery::Member(m, p::ResidentEvent::ParticipantJoined { participant, .. }) if *m == a.member => {
                Some(*participant)
            }
            _ => None,
        })
        .collect();
    assert_eq!(heard, [3, 4]);
    // Each one's media is its own: offers name their numbers.
    for m in [a.member, b.member, g.member] {
        let sdp = p::SessionDescription { kind: p::SdpKind::Offer, sdp: "v=0".into() };
        w.ok(Input::Member { member: m, cmd: p::ResidentCommand::Sdp { description: sdp } });
    }
    let numbers: Vec<u64> = w
        .take()
        .into_iter()
        .filter_map(|o| match o {
            Output::Relay { order: crate::media::Order::Offer { participant, .. }, .. } => Some(participant),
            _ => None,
        })
        .collect();
    assert_eq!(numbers, [2, 3, 4]);
    // B leaves: the others hear it; its number is not given again.
    w.ok(Input::Member { member: b.member, cmd: p::ResidentCommand::Leave {} });
    let out = w.take();
    assert!(deliveries(&out).contains(&&Delivery::Desk(
        DESK,
        p::DeskEvent::ParticipantLeft { call, party: p::Party::Resident, participant: 3, reason: p::LeftReason::Left }
    )));
    assert!(out.iter().any(|o| matches!(o, Output::Release(Endpoint::Member(m)) if *m == b.member)));
    let c = w.join(call, p::Party::Resident, "rc");
    assert_eq!(c.member.participant, 5);
    // The call ends: every link participant hears it and is let go.
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    let out = w.take();
    for m in [a.member, g.member, c.member] {
        assert!(deliveries(&out).contains(&&Delivery::Member(m, p::ResidentEvent::CallEnded)));
        assert!(out.iter().any(|o| matches!(o, Output::Release(Endpoint::Member(x)) if *x == m)));
    }
}

#[test]
fn a_resident_who_drops_comes_back_with_its_token_or_leaves_after_the_grace() {
    let mut w = World::new();
    let call = w.answered();
    let r = w.join(call, p::Party::Resident, "first");
    w.take();
    w.ok(Input::MemberDropped { member: r.member });
    assert!(deliveries(&w.take()).contains(&&Delivery::Desk(
        DESK,
        p::DeskEvent::ParticipantLeft {
            call,
            party: p::Party::Resident,
            participant: 2,
            reason: p::LeftReason::Dropped
        }
    )));
    // The resume token brings them back to their place.
    w.advance(20);
    let back = w
        .handle(Input::Join {
            token_hash: "unused".into(),
            resume_hash: Some("first".into()),
            new_resume_hash: "second".into(),
        })
        .unwrap();
    assert_eq!(
        back,
        Reply::Joined(Joined { member: r.member, language: "vi".into(), party: p::Party::Resident, resumed: true })
    );
    assert!(deliveries(&w.take()).contains(&&Delivery::Desk(
        DESK,
        p::DeskEvent::ParticipantJoined { call, party: p::Party::Resident, participant: 2 }
    )));
    // An old resume token is spent.
    let stale = w.handle(Input::Join {
        token_hash: "-".into(),
        resume_hash: Some("first".into()),
        new_resume_hash: "y".into(),
    });
    assert!(stale.is_err());
    // Dropped past the grace: it leaves the call for good.
    w.ok(Input::MemberDropped { member: r.member });
    w.advance(61);
    let out = w.take();
    assert!(deliveries(&out).contains(&&Delivery::Desk(
        DESK,
        p::DeskEvent::ParticipantLeft { call, party: p::Party::Resident, participant: 2, reason: p::LeftReason::Left }
    )));
    assert!(w.core.call(d::RequestId(call)).unwrap().participant(2).is_none());
}

/// Open the link `token` again, with no resume token.
fn reopen(w: &mut World, token: &str, resume: &str) -> Result<Reply, p::ProtocolError> {
    w.handle(Input::Join {
        token_hash: crate::auth::hash_token(token),
        resume_hash: None,
        new_resume_hash: resume.into(),
    })
}

#[test]
fn a_used_link_takes_its_own_seat_back_while_the_call_lives() {
    let mut w = World::new();
    let call = w.answered();
    let r = w.join(call, p::Party::Resident, "first");
    let seat =
        Reply::Joined(Joined { member: r.member, language: "vi".into(), party: p::Party::Resident, resumed: true });
    w.take();
    // Leave by mistake: the same link brings them back, to the same number.
    w.ok(Input::Member { member: r.member, cmd: p::ResidentCommand::Leave {} });
    assert!(w.core.call(d::RequestId(call)).unwrap().participant(2).is_none());
    w.take();
    assert_eq!(reopen(&mut w, "t1", "second").unwrap(), seat);
    let out = w.take();
    assert!(deliveries(&out).contains(&&Delivery::Desk(
        DESK,
        p::DeskEvent::ParticipantJoined { call, party: p::Party::Resident, participant: 2 }
    )));
    assert!(
        deliveries(&out)
            .iter()
            .any(|d| matches!(d, Delivery::Member(m, p::ResidentEvent::Joined { you: 2, .. }) if *m == r.member))
    );
    // Away past the grace (a killed tab, a long outage), and long after the link's own
    // expiry: the link still works while the call lives.
    w.ok(Input::MemberDropped { member: r.member });
    w.advance(1000);
    assert!(w.core.call(d::RequestId(call)).unwrap().participant(2).is_none());
    assert!(w.core.peek_invite(&crate::auth::hash_token("t1"), w.now).is_some_and(|i| i.used));
    assert_eq!(reopen(&mut w, "t1", "third").unwrap(), seat);
    // Opened again while connected (another phone, a second tab): the same seat, one
    // connection at a time (the hub replaces the older); the old resume token is spent.
    assert_eq!(reopen(&mut w, "t1", "fourth").unwrap(), seat);
    assert_eq!(w.core.call(d::RequestId(call)).unwrap().participants.len(), 3, "desk, interpreter, one resident");
    let stale = w.handle(Input::Join {
        token_hash: "-".into(),
        resume_hash: Some("third".into()),
        new_resume_hash: "z".into(),
    });
    assert!(stale.is_err());
    // The screen that was replaced, reconnecting on its own with its old resume token,
    // does not take the seat back from the connected one.
    let fight = w.handle(Input::Join {
        token_hash: crate::auth::hash_token("t1"),
        resume_hash: Some("third".into()),
        new_resume_hash: "z".into(),
    });
    assert_eq!(fight.unwrap_err().code, p::ErrorCode::NotAllowed);
    // Once the call ends, the link is dead.
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    assert_eq!(reopen(&mut w, "t1", "fifth").unwrap_err().code, p::ErrorCode::Unauthorized);
    assert!(w.core.peek_invite(&crate::auth::hash_token("t1"), w.now).is_none());
}

#[test]
fn invites_are_for_residents_and_guests_of_answered_calls_of_the_desks_own() {
    let mut w = World::new();
    w.sign_in(21);
    w.request("vi").unwrap();
    let request = w.core.calls.keys().next().unwrap().0;
    let early = w.desk(p::DeskCommand::Invite { call: request, party: p::Party::Resident });
    assert_eq!(early.unwrap_err().code, p::ErrorCode::NotAllowed, "not before it is answered");
    let offer = w.offer_for(21);
    w.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
    w.take();
    let wrong = w.desk(p::DeskCommand::Invite { call: request, party: p::Party::Interpreter });
    assert_eq!(wrong.unwrap_err().code, p::ErrorCode::InvalidField);
    let theirs = w.handle(Input::Desk {
        desk: OTHER_DESK,
        tenant: TENANT,
        cmd: p::DeskCommand::InviteResident { call: request },
    });
    assert_eq!(theirs.unwrap_err().code, p::ErrorCode::NotFound, "another desk's call");
    assert!(w.take().is_empty(), "refused commands change nothing and say nothing");
    w.desk(p::DeskCommand::InviteResident { call: request }).unwrap();
    let out = w.take();
    let Delivery::Desk(DESK, p::DeskEvent::Invite { url, party, .. }) = deliveries(&out)[0] else { panic!() };
    assert_eq!((url.as_str(), *party), ("https://k.example/join/t1", p::Party::Resident));
    let info = w.core.peek_invite(&crate::auth::hash_token("t1"), w.now).unwrap();
    assert_eq!((info.language.as_str(), info.party), ("vi", p::Party::Resident));
    w.advance(901);
    assert!(w.core.peek_invite(&crate::auth::hash_token("t1"), w.now).is_none(), "expired");
}

#[test]
fn one_desk_cannot_fill_the_queue() {
    let mut w = World::new();
    let urgent = |urgent| p::DeskCommand::RequestInterpreter {
        language: "vi".into(),
        modality: None,
        speciality: None,
        urgent,
        preferred_interpreter: None,
    };
    // Nobody is signed in for Vietnamese but interpreters exist: requests are unserved
    // at once, so sign in one and keep it busy.
    let _ = w.answered();
    w.desk(urgent(true)).unwrap();
    assert_eq!(w.desk(urgent(true)).unwrap_err().code, p::ErrorCode::NotAllowed, "one urgent at a time");
    w.desk(urgent(false)).unwrap();
    w.desk(urgent(false)).unwrap();
    let fourth = w.desk(urgent(false)).unwrap_err();
    assert_eq!(fourth.code, p::ErrorCode::NotAllowed);
    assert!(fourth.message.contains("3 requests waiting"), "{}", fourth.message);
}

#[test]
fn a_desk_that_starts_afresh_ends_what_its_dropped_session_held() {
    let mut w = World::new();
    let call = w.answered();
    w.ok(Input::Detached { client: Client::Desk(DESK) });
    w.take();
    w.ok(Input::Attached { client: Client::Desk(DESK), resumed: false, resume_hash: "r".into() });
    let out = w.take();
    let (record, then) = records(&out)[0];
    assert_eq!(record.outcome, RecordOutcome::Answered);
    assert!(then.contains(&Delivery::Interpreter(21, p::InterpreterEvent::CallEnded { call, by: p::Party::Desk })));
    assert!(!out.iter().any(|o| matches!(o, Output::SessionEnded(_))), "the new connection stays");
}

#[test]
fn media_offers_replace_a_participants_leg_and_reports_reach_the_right_one() {
    let mut w = World::new();
    let call = w.answered();
    let offer = |kind| p::SessionDescription { kind, sdp: "v=0".into() };
    w.desk(p::DeskCommand::Sdp { call, description: offer(p::SdpKind::Offer) }).unwrap();
    let Some(Output::Relay { order: crate::media::Order::Offer { tag, participant: 0, .. }, .. }) =
        w.take().into_iter().next()
    else {
        panic!("an offer for participant 0")
    };
    let leg = kakehashi_relay::LegId(5);
    w.ok(Input::Relay(crate::media::Report::Answered {
        call,
        tag,
        result: Ok((leg, "answer".into())),
        refused: vec![],
    }));
    assert!(matches!(
        &deliveries(&w.take())[..],
        [Delivery::Desk(
            DESK,
            p::DeskEvent::Sdp { description: p::SessionDescription { kind: p::SdpKind::Answer, .. }, .. }
        )]
    ));
    w.ok(Input::Relay(crate::media::Report::Leg {
        leg,
        event: kakehashi_relay::LegEvent::Offer("renegotiate".into()),
    }));
    assert!(matches!(&deliveries(&w.take())[..], [Delivery::Desk(DESK, p::DeskEvent::Sdp { .. })]));
    // A new offer from the desk (it reconnects) counts a reconnect.
    w.desk(p::DeskCommand::Sdp { call, description: offer(p::SdpKind::Offer) }).unwrap();
    let out = w.take();
    assert!(out.iter().any(|o| matches!(o, Output::Fact(Fact::MediaReconnect(p::Party::Desk)))));
    let early = w.interpreter(21, p::InterpreterCommand::Sdp { call, description: offer(p::SdpKind::Answer) });
    assert_eq!(early.unwrap_err().code, p::ErrorCode::NotAllowed, "no offer from the relay to answer");
}

#[test]
fn a_participant_whose_video_was_refused_is_told_why() {
    let mut w = World::new();
    let call = w.answered();
    let offer = p::SessionDescription { kind: p::SdpKind::Offer, sdp: "v=0".into() };
    w.desk(p::DeskCommand::Sdp { call, description: offer }).unwrap();
    let Some(Output::Relay { order: crate::media::Order::Offer { tag, .. }, .. }) = w.take().into_iter().next() else {
        panic!("an offer")
    };
    let answered = crate::media::Report::Answered {
        call,
        tag,
        result: Ok((kakehashi_relay::LegId(9), "answer".into())),
        refused: vec!["video"],
    };
    w.ok(Input::Relay(answered));
    let out = w.take();
    let told = deliveries(&out).into_iter().find_map(|d| match d {
        Delivery::Desk(DESK, p::DeskEvent::Error(e)) => Some(e.clone()),
        _ => None,
    });
    let e = told.expect("an error event after the answer");
    assert_eq!(e.code, p::ErrorCode::CodecUnsupported);
    assert!(e.message.starts_with("video: ") && e.message.contains("VP8"), "{}", e.message);
}

#[test]
fn a_participants_microphone_and_camera_reach_the_others_and_the_roster() {
    let mut w = World::new();
    let call = w.answered();
    let r = w.join(call, p::Party::Resident, "r");
    w.take();
    w.interpreter(21, p::InterpreterCommand::MediaState { call, muted: true, camera_off: false }).unwrap();
    let out = w.take();
    assert!(deliveries(&out).contains(&&Delivery::Desk(
        DESK,
        p::DeskEvent::ParticipantMedia { call, participant: 1, muted: true, camera_off: false }
    )));
    assert!(deliveries(&out).contains(&&Delivery::Member(
        r.member,
        p::ResidentEvent::ParticipantMedia { participant: 1, muted: true, camera_off: false }
    )));
    // The same again says nothing; the resident's camera goes off.
    w.interpreter(21, p::InterpreterCommand::MediaState { call, muted: true, camera_off: false }).unwrap();
    assert!(deliveries(&w.take()).is_empty());
    w.ok(Input::Member { member: r.member, cmd: p::ResidentCommand::MediaState { muted: false, camera_off: true } });
    assert!(deliveries(&w.take()).contains(&&Delivery::Interpreter(
        21,
        p::InterpreterEvent::ParticipantMedia { call, participant: 2, muted: false, camera_off: true }
    )));
    // Whoever joins later sees both on the roster.
    let g = w.join(call, p::Party::Guest, "g");
    let out = w.take();
    let roster = deliveries(&out).into_iter().find_map(|d| match d {
        Delivery::Member(m, p::ResidentEvent::Joined { participants, .. }) if *m == g.member => {
            Some(participants.clone())
        }
        _ => None,
    });
    let roster = roster.expect("the guest's roster");
    assert!(roster.iter().any(|x| x.id == 1 && x.muted && !x.camera_off));
    assert!(roster.iter().any(|x| x.id == 2 && !x.muted && x.camera_off));
    // Not someone else's call.
    let wrong =
        w.interpreter(21, p::InterpreterCommand::MediaState { call: call + 100, muted: false, camera_off: false });
    assert!(wrong.is_err());
}

/// A world with a Vietnamese call answered by interpreter 21: it and the call's number.
pub(super) fn answered_vi() -> (World, u64) {
    let mut w = World::new();
    w.sign_in(21);
    w.request("vi").unwrap();
    let call = w.core.calls.keys().next().unwrap().0;
    let offer = w.offer_for(21);
    w.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
    (w, call)
}

#[test]
fn a_phone_invite_is_a_pin_redeemed_once_for_a_fresh_token() {
    let (mut w, call) = answered_vi();
    w.take();
    let mut pins = Vec::new();
    for _ in 0..2 {
        w.desk(p::DeskCommand::Invite { call, party: p::Party::Phone }).unwrap();
        let out = w.take();
        let Delivery::Desk(DESK, p::DeskEvent::PhoneInvite { number, pin, .. }) = deliveries(&out)[0] else { panic!() };
        assert_eq!(number, "03-0000-0000");
        pins.push(pin.clone());
    }
    assert_ne!(pins[0], pins[1], "open PINs differ");
    assert!(pins.iter().all(|p| p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit())));
    let (token, language) = w.redeem(&pins[0]).expect("an open seat");
    assert_eq!(language, "vi");
    assert!(w.redeem(&pins[0]).is_none(), "used up");
    let info = w.core.peek_invite(&crate::auth::hash_token(&token), w.now).expect("the fresh token opens it");
    assert_eq!(info.party, p::Party::Phone);
    // Unused past the invite's life: gone.
    w.advance(901);
    assert!(w.redeem(&pins[1]).is_none(), "expired");
    w.advance(1);
    assert!(w.core.links.pins.is_empty(), "expired PINs are forgotten");
}

#[test]
fn a_phone_invite_dies_with_its_call() {
    let (mut w, call) = answered_vi();
    w.desk(p::DeskCommand::Invite { call, party: p::Party::Phone }).unwrap();
    let out = w.take();
    let pin = deliveries(&out)
        .into_iter()
        .find_map(|d| match d {
            Delivery::Desk(_, p::DeskEvent::PhoneInvite { pin, .. }) => Some(pin.clone()),
            _ => None,
        })
        .unwrap();
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    assert!(w.redeem(&pin).is_none());
    assert!(w.core.links.pins.is_empty());
}

#[test]
fn a_leg_that_did_not_connect_is_removed_and_its_participant_told_to_offer_again() {
    let mut w = World::new();
    let call = w.answered();
    let offer = p::SessionDescription { kind: p::SdpKind::Offer, sdp: "v=0".into() };
    let open_leg = |w: &mut World, leg: u64| {
        w.desk(p::DeskCommand::Sdp { call, description: offer.clone() }).unwrap();
        let tag = w
            .take()
            .into_iter()
            .find_map(|o| match o {
                Output::Relay { order: crate::media::Order::Offer { tag, .. }, .. } => Some(tag),
                _ => None,
            })
            .expect("an offer to the relay");
        let result = Ok((kakehashi_relay::LegId(leg), "answer".into()));
        w.ok(Input::Relay(crate::media::Report::Answered { call, tag, result, refused: vec![] }));
        w.take();
    };
    let not_connected = |leg| crate::media::Report::Leg {
        leg: kakehashi_relay::LegId(leg),
        event: kakehashi_relay::LegEvent::NotConnected,
    };
    open_leg(&mut w, 5);
    open_leg(&mut w, 6);
    // The leg the desk replaced is nobody's now: its end tells nobody anything.
    w.ok(Input::Relay(not_connected(5)));
    assert!(deliveries(&w.take()).is_empty());
    w.ok(Input::Relay(not_connected(6)));
    let out = w.take();
    assert!(
        out.iter().any(|o| matches!(
            o,
            Output::Relay { order: crate::media::Order::Remove { leg: kakehashi_relay::LegId(6) }, .. }
        )),
        "{out:?}"
    );
    assert!(out.iter().any(|o| matches!(o, Output::Fact(Fact::MediaReconnect(p::Party::Desk)))));
    assert_eq!(deliveries(&out), vec![&Delivery::Desk(DESK, p::DeskEvent::MediaFailed { call })]);
}
