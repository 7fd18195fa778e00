//! A saved core, restored on another node, carries on exactly as the saved one would
//! have: the same events, records and relay orders for the same inputs afterwards
//! (in an order that may differ only where hash maps list connected clients).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

/// Tokens `t1`, `t2`, … from a count that a copy can start from.
struct Shared(Arc<AtomicU32>);

impl Tokens for Shared {
    fn token(&mut self) -> String {
        format!("t{}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

/// One thing done to both worlds.
type Step = Box<dyn Fn(&mut World)>;

fn sorted(out: &[Output]) -> Vec<String> {
    let mut out: Vec<String> = out.iter().map(|o| format!("{o:?}")).collect();
    out.sort();
    out
}

/// A busy writer: a call with a resident in it, an offer ringing at 22, an urgent
/// request and another queued behind it, a booking two hours ahead for 22 with a link for
/// its resident, and the desk's connection lost within its grace. The call, the
/// resident's place and the offer.
fn busy(w: &mut World) -> (u64, Joined, u64) {
    let call = w.answered();
    let resident = w.join(call, p::Party::Resident, "r1");
    w.sign_in(22);
    w.handle(Input::Desk {
        desk: OTHER_DESK,
        tenant: TENANT,
        cmd: p::DeskCommand::RequestInterpreter {
            language: "vi".into(),
            modality: None,
            speciality: None,
            urgent: true,
            preferred_interpreter: None,
        },
    })
    .unwrap();
    let offer = w.offer_for(22);
    w.request("vi").unwrap();
    let links = crate::bookings::BookingLinks { resident: Some("booked-resident".into()), specialist: None };
    let booked = crate::bookings::Booking { links, ..super::bookings::booking(5, w.now, 7200, Some(22)) };
    w.ok(Input::Booking(BookingChange::Book(Box::new(booked))));
    w.ok(Input::Detached { client: Client::Desk(DESK) });
    w.take();

    (call, resident, offer)
}

/// What happens next, the same to the writer and to its copy: answers, drops, resumes,
/// ends, records, an invite, the booking's slot and its resident.
fn next(call: u64, resident: Joined, offer: u64) -> Vec<Step> {
    vec![
        Box::new(|w| w.advance(5)),
        Box::new(move |w| {
            w.interpreter(22, p::InterpreterCommand::Accept { offer }).unwrap();
        }),
        Box::new(move |w| {
            w.ok(Input::MemberDropped { member: resident.member });
        }),
        Box::new(|w| w.advance(30)),
        Box::new(|w| {
            w.ok(Input::Attached { client: Client::Desk(DESK), resumed: true, resume_hash: "r".into() });
        }),
        Box::new(move |w| {
            w.desk(p::DeskCommand::EndCall { call }).unwrap();
        }),
        Box::new(move |w| {
            w.ok(Input::Recorded { call: d::RequestId(call), id: 1 });
        }),
        Box::new(|w| w.advance(70)),
        Box::new(|w| {
            w.interpreter(21, p::InterpreterCommand::SetAvailability { availability: p::Availability::Available })
                .unwrap();
        }),
        Box::new(|w| {
            let offer = w
                .out
                .iter()
                .find_map(|o| match o {
                    Output::Deliver(Delivery::Interpreter(21, p::InterpreterEvent::Offer { offer, .. })) => {
                        Some(*offer)
                    }
                    _ => None,
                })
                .expect("the queued request is offered to 21");
            w.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
        }),
        Box::new(|w| {
            let next = *w.core.calls.keys().last().expect("a call");
            w.desk(p::DeskCommand::Invite { call: next.0, party: p::Party::Guest }).unwrap();
        }),
        Box::new(|w| w.advance(600)),
        Box::new(|w| {
            let other = w.core.calls.values().find(|c| c.desk == OTHER_DESK).expect("22's call").id.0;
            let cmd = p::DeskCommand::EndCall { call: other };
            w.handle(Input::Desk { desk: OTHER_DESK, tenant: TENANT, cmd }).unwrap();
        }),
        Box::new(|w| w.advance(3600)),
        Box::new(|w| w.advance(2900)),
        // 22 answers the booking's call, and its resident comes in through the link
        // kept in the saved core.
        Box::new(|w| {
            let offer = w
                .out
                .iter()
                .rev()
                .find_map(|o| match o {
                    Output::Deliver(Delivery::Interpreter(22, p::InterpreterEvent::Offer { offer, .. })) => {
                        Some(*offer)
                    }
                    _ => None,
                })
                .expect("the booking rings 22");
            w.interpreter(22, p::InterpreterCommand::Accept { offer }).unwrap();
        }),
        Box::new(|w| {
            let input =
                Input::Join { token_hash: "booked-resident".into(), resume_hash: None, new_resume_hash: "r2".into() };
            assert!(matches!(w.handle(input), Ok(Reply::Joined(_))));
        }),
    ]
}

/// Apply each step to both and compare what each step output.
fn same_from_here(w: &mut World, copy: &mut World, steps: Vec<Step>) {
    let mut seen = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let (a, b) = (w.out.len(), copy.out.len());
        step(w);
        step(copy);
        let (a, b) = (sorted(&w.out[a..]), sorted(&copy.out[b..]));
        assert_eq!(a, b, "step {i}");
        seen.extend(a);
    }
    assert_eq!(w.core.calls.len(), copy.core.calls.len());
    // What the steps did: 22 answered, the first call's record, the queued request
    // answered by 21, the guest's invite, the call's end told to the resident, the
    // booking's call at its slot.
    for what in ["Record {", "Assigned", ", Invite { call", "CallEnded", "BookingCall"] {
        assert!(seen.iter().any(|o| o.contains(what)), "{what} in {seen:#?}");
    }
}

#[test]
fn a_restored_core_carries_on_exactly_as_the_saved_one() {
    let mut w = World::new();
    let count = Arc::new(AtomicU32::new(0));
    w.core.tokens = Box::new(Shared(count.clone()));
    let (call, resident, offer) = busy(&mut w);
    w.take();
    let saved = w.core.save().unwrap();
    let tokens = Box::new(Shared(Arc::new(AtomicU32::new(count.load(Ordering::SeqCst)))));
    let core = Core::restore(&saved, w.core.settings.clone(), tokens).unwrap();
    let mut copy = World { core, now: w.now, out: Vec::new(), journal: None };
    assert!(Core::restore(&saved[..3], Settings::default(), Box::new(OsTokens)).is_err());
    assert!(Core::restore(&[0, 0, 0, 9, 1], Settings::default(), Box::new(OsTokens)).is_err());
    same_from_here(&mut w, &mut copy, next(call, resident, offer));
}

#[test]
fn a_saved_core_and_the_journal_after_it_rebuild_the_writer() {
    let mut w = World::new();
    let count = Arc::new(AtomicU32::new(0));
    let tape = Tape::new(Box::new(Shared(count.clone())));
    w.core.tokens = Box::new(tape.clone());
    let saved = w.core.save().unwrap();
    w.journal = Some((tape, Vec::new()));
    let (call, resident, offer) = busy(&mut w);
    w.take();
    let (_, entries) = w.journal.take().expect("journaled");
    assert!(entries.len() > 10, "{} entries", entries.len());
    // Another node: the saved core, then every entry after it. The tokens come from the
    // entries (its own source is never drawn while replaying).
    let drawn = count.load(Ordering::SeqCst);
    let fresh = Arc::new(AtomicU32::new(drawn));
    let replay_tape = Tape::new(Box::new(Shared(fresh.clone())));
    let mut core = Core::restore(&saved, w.core.settings.clone(), Box::new(replay_tape.clone())).unwrap();
    for entry in &entries {
        core.replay(entry, &replay_tape).unwrap();
    }
    assert_eq!(fresh.load(Ordering::SeqCst), drawn, "every token came from the journal");
    assert!(core.replay(&entries[0][..5], &replay_tape).is_err());
    let mut copy = World { core, now: w.now, out: Vec::new(), journal: None };
    same_from_here(&mut w, &mut copy, next(call, resident, offer));
}

/// The journal holds inputs as they were applied: each kind reads back as it was.
#[test]
fn every_kind_of_input_reads_back_as_it_was_written() {
    use kakehashi_relay::{LegEvent, LegId, LegStats};
    let member = MemberKey { call: 4, participant: 2 };
    let key = LineKey { conn: 9, line: 1 };
    let sdp = p::SessionDescription { kind: p::SdpKind::Offer, sdp: "v=0\r\n".into() };
    let calendar: crate::calendar::CalendarDoc = serde_json::from_value(serde_json::json!({
        "time_zone": "Asia/Tokyo",
        "hours": [{ "days": ["mon", "fri"], "open": "08:30", "close": "17:15" }],
    }))
    .unwrap();
    let links = crate::bookings::BookingLinks { resident: Some("rh".into()), specialist: Some("sh".into()) };
    let booking =
        crate::bookings::Booking { links, ..super::bookings::booking(5, d::Timestamp::from_secs(0), 60, None) };
    let inputs = vec![
        Input::Attached { client: Client::Desk(DESK), resumed: true, resume_hash: "r".into() },
        Input::Detached { client: Client::Interpreter(21) },
        Input::Ended { client: Client::Desk(OTHER_DESK) },
        Input::Desk {
            desk: DESK,
            tenant: TENANT,
            cmd: p::DeskCommand::RequestInterpreter {
                language: "vi".into(),
                modality: Some(p::Modality::Audio),
                speciality: None,
                urgent: true,
                preferred_interpreter: Some(22),
            },
        },
        Input::Desk { desk: DESK, tenant: TENANT, cmd: p::DeskCommand::Sdp { call: 3, description: sdp.clone() } },
        Input::Interpreter { id: 21, cmd: p::InterpreterCommand::Accept { offer: 7 } },
        Input::Join { token_hash: "th".into(), resume_hash: Some("rh".into()), new_resume_hash: "nh".into() },
        Input::Member { member, cmd: p::ResidentCommand::MediaState { muted: true, camera_off: false } },
        Input::Member { member, cmd: p::ResidentCommand::Sdp { description: sdp } },
        Input::MemberDropped { member },
        Input::DialFailed { dial: 3, reason: p::DialFailure::Busy },
        Input::LineCall { key, desk: DESK, language: "ne".into() },
        Input::LineHangup { key },
        Input::Gateways { up: true },
        Input::OfferAnswer { offer: 8, accept: false },
        Input::GatewayGone { conn: 9 },
        Input::Relay(crate::media::Report::Answered {
            call: 3,
            tag: 1,
            result: Ok((LegId(12), "v=0\r\n".into())),
            refused: vec!["video"],
        }),
        Input::Relay(crate::media::Report::Answered { call: 3, tag: 2, result: Err("no".into()), refused: vec![] }),
        Input::Relay(crate::media::Report::Leg { leg: LegId(12), event: LegEvent::Offer("v=0\r\n".into()) }),
        Input::Relay(crate::media::Report::Stats { leg: LegId(12), stats: LegStats::default() }),
        Input::Relay(crate::media::Report::Removed { leg: LegId(12), last: Some(LegStats::default()) }),
        Input::Recorded { call: d::RequestId(3), id: 44 },
        Input::Directory(DirectoryChange::Desk(13, TENANT, "counter 3".into())),
        Input::Directory(DirectoryChange::Calendar(TENANT, Some(Box::new(calendar.to_calendar().unwrap())))),
        Input::Booking(BookingChange::Book(Box::new(booking))),
        Input::Booking(BookingChange::Cancel(5)),
        Input::Assign { scope: Some(TENANT), request: 3, interpreter: 22 },
        Input::OnlineCall { desk: DESK, language: "pt".into(), token_hash: "sh".into() },
        Input::OnlineWithdraw { token_hash: "sh".into() },
        Input::Notice {
            to: vec![21, 22],
            notice: p::InterpreterEvent::Presence { presence: p::PresenceState::Offline },
        },
        Input::Drain,
        Input::Tick,
    ];
    for input in inputs {
        let bytes = rmp_serde::to_vec_named(&input).unwrap();
        let back: Input = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(format!("{back:?}"), format!("{input:?}"));
    }
    // A kind of media the relay never names is refused.
    let bad = rmp_serde::to_vec_named(&Input::Relay(crate::media::Report::Answered {
        call: 3,
        tag: 1,
        result: Err("x".into()),
        refused: vec!["smell"],
    }))
    .unwrap();
    let err = rmp_serde::from_slice::<Input>(&bad).unwrap_err().to_string();
    assert!(err.contains("not a kind of media"), "{err}");
}

/// A record the writer ordered and never saw written is ordered again by the next one,
/// under the same write key (the store then finds the row if it was written after all);
/// one seen written is not.
#[test]
fn a_new_writer_orders_again_the_records_the_last_one_never_saw_written() {
    fn ordered(out: &[Output]) -> Vec<(String, d::RequestId)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Record { key, call, .. } => Some((key.clone(), *call)),
                _ => None,
            })
            .collect()
    }
    let taken_over = |w: &World| {
        let saved = w.core.save().unwrap();
        let mut core = Core::restore(&saved, w.core.settings.clone(), Box::new(OsTokens)).unwrap();
        let now = core.now();
        core.handle(now, Input::Takeover).unwrap();
        std::iter::from_fn(|| core.poll_output()).collect::<Vec<_>>()
    };
    let mut w = World::new();
    let call = w.answered();
    w.desk(p::DeskCommand::EndCall { call }).unwrap();
    let first = ordered(&w.take());
    assert_eq!(first.len(), 1);
    assert_eq!(ordered(&taken_over(&w)), first, "ordered again, under the same key");
    w.ok(Input::Recorded { call: first[0].1, id: 9 });
    assert!(ordered(&taken_over(&w)).is_empty(), "written: not again");
}
