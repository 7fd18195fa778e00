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

#[test]
fn a_restored_core_carries_on_exactly_as_the_saved_one() {
    let mut w = World::new();
    let count = Arc::new(AtomicU32::new(0));
    w.core.tokens = Box::new(Shared(count.clone()));
    // A call with a resident in it, an offer ringing at 22, a request queued behind it,
    // and the desk's connection lost within its grace.
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
    w.ok(Input::Detached { client: Client::Desk(DESK) });
    w.take();

    let saved = w.core.save().unwrap();
    let tokens = Box::new(Shared(Arc::new(AtomicU32::new(count.load(Ordering::SeqCst)))));
    let core = Core::restore(&saved, w.core.settings.clone(), tokens).unwrap();
    let mut copy = World { core, now: w.now, out: Vec::new() };
    assert!(Core::restore(&saved[..3], Settings::default(), Box::new(OsTokens)).is_err());
    assert!(Core::restore(&[0, 0, 0, 9, 1], Settings::default(), Box::new(OsTokens)).is_err());

    let steps: Vec<Step> = vec![
        Box::new(|w| w.advance(5)),
        Box::new(move |w| {
            w.interpreter(22, p::InterpreterCommand::Accept { offer }).unwrap();
        }),
        Box::new(move |w| {
            w.ok(Input::MemberDropped { member: resident.member });
        }),
        Box::new(|w| w.advance(30)),
        Box::new(|w| {
            w.ok(Input::Attached { client: Client::Desk(DESK), resumed: true });
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
        Box::new(|w| w.advance(3600)),
    ];
    let mut seen = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let (a, b) = (w.out.len(), copy.out.len());
        step(&mut w);
        step(&mut copy);
        let (a, b) = (sorted(&w.out[a..]), sorted(&copy.out[b..]));
        assert_eq!(a, b, "step {i}");
        seen.extend(a);
    }
    assert_eq!(w.core.calls.len(), copy.core.calls.len());
    // What the steps did: 22 answered, the first call's record, the queued request
    // answered by 21, the guest's invite, and the call's end told to the resident.
    for what in ["Record {", "Assigned", ", Invite { call", "CallEnded"] {
        assert!(seen.iter().any(|o| o.contains(what)), "{what} in {seen:#?}");
    }
}
