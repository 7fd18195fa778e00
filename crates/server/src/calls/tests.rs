//! The call core on simulated time, no sockets: every lifecycle of a request and its call.
//!
//! The promises:
//! - every request ends exactly once, with a record written before anyone hears it
//!   ended (answered, abandoned, expired, unserved);
//! - a participant's number is its own for the whole call and never given to another;
//!   several residents and guests take part at once, each reached as themselves;
//! - a dropped desk, interpreter or link participant is held for the grace and comes
//!   back to its place; past the grace, what it held ends;
//! - a refused command changes nothing.

use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::*;
use crate::directory::{DeskRow, Directory, InterpreterRow, RosterDoc, TenantRow};
use crate::store::RecordOutcome;

/// Tokens `t1`, `t2`, … in order.
struct Counter(u32);

impl Tokens for Counter {
    fn token(&mut self) -> String {
        self.0 += 1;
        format!("t{}", self.0)
    }
}

const DESK: i64 = 11;
const OTHER_DESK: i64 = 12;
const TENANT: i64 = 1;

fn interpreter(id: i64, language: &str) -> InterpreterRow {
    InterpreterRow {
        id,
        login: format!("i{id}"),
        tier: "staff".into(),
        languages: vec![language.into()],
        modalities: vec!["video".into(), "audio".into()],
        specialities: vec![],
        tenants: vec![TENANT],
        shared_pool: false,
        roster: RosterDoc { always: true, ..RosterDoc::default() },
    }
}

struct World {
    core: Core,
    now: d::Timestamp,
    out: Vec<Output>,
}

impl World {
    /// One tenant, two desks, interpreters 21 and 22 for Vietnamese and 23 for Nepali.
    fn new() -> World {
        let directory = Directory {
            tenants: vec![TenantRow {
                id: TENANT,
                name: "Asahi City".into(),
                foreign_residents: 1000,
                time_zone: "Asia/Tokyo".into(),
                policy: None,
            }],
            desks: vec![
                DeskRow { id: DESK, tenant_id: TENANT, name: "counter 1".into() },
                DeskRow { id: OTHER_DESK, tenant_id: TENANT, name: "counter 2".into() },
            ],
            interpreters: vec![interpreter(21, "vi"), interpreter(22, "vi"), interpreter(23, "ne")],
        };
        let settings = Settings {
            grace: Duration::from_secs(60),
            invite_ttl: Duration::from_secs(900),
            public_base: "https://k.example".into(),
            media: true,
            max_waiting_per_desk: 3,
        };
        let now = d::Timestamp::from_millis(1_800_000_000_000);
        let core = Core::new(&directory, settings, Box::new(Counter(0)), now);
        let mut w = World { core, now, out: Vec::new() };
        for client in [Client::Desk(DESK), Client::Desk(OTHER_DESK)] {
            w.ok(Input::Attached { client, resumed: false });
        }
        w
    }

    fn handle(&mut self, input: Input) -> Result<Reply, p::ProtocolError> {
        let r = self.core.handle(self.now, input);
        while let Some(o) = self.core.poll_output() {
            self.out.push(o);
        }
        r
    }

    fn ok(&mut self, input: Input) -> Reply {
        self.handle(input).unwrap()
    }

    fn advance(&mut self, secs: u64) {
        self.now = self.now + Duration::from_secs(secs);
        self.ok(Input::Tick);
    }

    /// Everything output since the last look.
    fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    fn desk(&mut self, cmd: p::DeskCommand) -> Result<Reply, p::ProtocolError> {
        self.handle(Input::Desk { desk: DESK, tenant: TENANT, cmd })
    }

    fn interpreter(&mut self, id: i64, cmd: p::InterpreterCommand) -> Result<Reply, p::ProtocolError> {
        self.handle(Input::Interpreter { id, cmd })
    }

    fn sign_in(&mut self, id: i64) {
        self.ok(Input::Attached { client: Client::Interpreter(id), resumed: false });
        self.interpreter(id, p::InterpreterCommand::SetAvailability { availability: p::Availability::Available })
            .unwrap();
        self.take();
    }

    fn request(&mut self, language: &str) -> Result<Reply, p::ProtocolError> {
        self.desk(p::DeskCommand::RequestInterpreter {
            language: language.into(),
            modality: None,
            speciality: None,
            urgent: false,
            preferred_interpreter: None,
        })
    }

    /// The offer rung at `id` among the outputs.
    fn offer_for(&mut self, id: i64) -> u64 {
        self.take()
            .into_iter()
            .find_map(|o| match o {
                Output::Deliver(Delivery::Interpreter(i, p::InterpreterEvent::Offer { offer, .. })) if i == id => {
                    Some(offer)
                }
                _ => None,
            })
            .expect("an offer")
    }

    /// A Vietnamese call answered by interpreter 21: its number.
    fn answered(&mut self) -> u64 {
        self.sign_in(21);
        self.request("vi").unwrap();
        let offer = self.offer_for(21);
        self.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
        let call = self.core.calls.keys().next().expect("a call").0;
        self.take();
        call
    }

    /// Invite someone and let them in: their place.
    fn join(&mut self, call: u64, party: p::Party, resume_hash: &str) -> Joined {
        self.desk(p::DeskCommand::Invite { call, party }).unwrap();
        let token = self
            .out
            .iter()
            .rev()
            .find_map(|o| match o {
                Output::Deliver(Delivery::Desk(_, p::DeskEvent::Invite { url, .. })) => {
                    url.rsplit('/').next().map(str::to_string)
                }
                _ => None,
            })
            .expect("an invite");
        let input = Input::Join {
            token_hash: crate::auth::hash_token(&token),
            resume_hash: None,
            new_resume_hash: resume_hash.into(),
        };
        match self.handle(input).unwrap() {
            Reply::Joined(j) => j,
            other => panic!("{other:?}"),
        }
    }
}

fn deliveries(out: &[Output]) -> Vec<&Delivery> {
    out.iter()
        .filter_map(|o| match o {
            Output::Deliver(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn records(out: &[Output]) -> Vec<(&crate::store::CallRecord, &Vec<Delivery>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Record { record, then, .. } => Some((record, then)),
            _ => None,
        })
        .collect()
}

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
    w.desk(p::DeskCommand::RecordOutcome { call, outcome: p::OutcomeCategory::Referred }).unwrap();
    assert!(matches!(w.take()[..], [Output::Outcome { record: 77, tenant: TENANT, category: "referred", .. }]));
    let again = w.desk(p::DeskCommand::RecordOutcome { call, outcome: p::OutcomeCategory::Resolved });
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
    w.ok(Input::Attached { client: Client::Interpreter(21), resumed: true });
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
            Output::Relay(crate::media::Order::Offer { participant, .. }) => Some(participant),
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
    // The used link does not let anyone in again; the resume token does.
    let reused = w.handle(Input::Join {
        token_hash: crate::auth::hash_token("t1"),
        resume_hash: None,
        new_resume_hash: "x".into(),
    });
    assert_eq!(reused.unwrap_err().code, p::ErrorCode::Unauthorized);
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
    w.ok(Input::Attached { client: Client::Desk(DESK), resumed: false });
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
    let Some(Output::Relay(crate::media::Order::Offer { tag, participant: 0, .. })) = w.take().into_iter().next()
    else {
        panic!("an offer for participant 0")
    };
    let leg = kakehashi_relay::LegId(5);
    w.ok(Input::Relay(crate::media::Report::Answered { call, tag, result: Ok((leg, "answer".into())) }));
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
