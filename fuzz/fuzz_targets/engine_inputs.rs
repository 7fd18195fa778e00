//! Any byte stream as a sequence of engine inputs (ids and times drawn from the bytes,
//! valid or not): the engine never panics, refuses bad inputs with an error, and keeps
//! every invariant after every input.
#![no_main]

use std::time::Duration;

use kakehashi_dispatch::*;
use libfuzzer_sys::fuzz_target;

fn interpreter(id: u32, b: u8) -> InterpreterSpec {
    let langs = ["vi", "ne", "pt", "en"];
    let pairs = (0..4)
        .filter(|i| b & (1 << i) != 0)
        .filter_map(|i| LanguagePair::with_japanese(LanguageId::parse(langs[i]).ok()?))
        .collect();
    InterpreterSpec {
        id: InterpreterId(id),
        pairs,
        modalities: if b & 0x10 != 0 { ModalitySet::all() } else { ModalitySet::EMPTY.with(Modality::Video) },
        specialities: if b & 0x20 != 0 { SpecialitySet::EMPTY.with(Speciality::Medical) } else { SpecialitySet::EMPTY },
        tier: Tier::ALL[usize::from(b >> 6) % 3],
        tenants: vec![TenantId(u32::from(b & 1))],
        shared_pool: b & 0x80 != 0,
        roster: Roster::always(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut e = Engine::new();
    let mut now = Timestamp::from_secs(1_800_000_000);
    for t in 0..2 {
        let policy = RoutingPolicy {
            parallel: (t == 1).then(|| ParallelRing { languages: vec![LanguageId::parse("ne").unwrap()], fan_out: 2 }),
            ..RoutingPolicy::default()
        };
        let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(9));
        e.add_tenant(now, TenantSpec { id: TenantId(t), foreign_residents: 1, time_zone: tz, policy }).unwrap();
        e.add_desk(now, DeskId(t), TenantId(t)).unwrap();
    }
    let mut offers: Vec<(OfferId, InterpreterId)> = Vec::new();
    let mut requests: Vec<RequestId> = Vec::new();
    for chunk in data.chunks(4) {
        let [op, a, b, c] =
            [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0), *chunk.get(3).unwrap_or(&0)];
        let pick_offer = |k: u8| offers.get(usize::from(k) % offers.len().max(1)).copied();
        let pick_request = |k: u8| requests.get(usize::from(k) % requests.len().max(1)).copied();
        let input = match op % 10 {
            0 => Input::AddInterpreter(interpreter(u32::from(a % 12), b)),
            1 => Input::SetAvailability(
                InterpreterId(u32::from(a % 14)),
                [Availability::Available, Availability::NotReady, Availability::Offline][usize::from(b % 3)],
            ),
            2 | 3 => {
                let mut spec = RequestSpec::new(
                    TenantId(u32::from(a & 1)),
                    DeskId(u32::from(b & 1)),
                    LanguageId::from_index(usize::from(c % 8)).unwrap(),
                );
                spec.priority = if b & 2 != 0 { Priority::Urgent } else { Priority::Normal };
                spec.speciality = (b & 4 != 0).then_some(Speciality::Medical);
                spec.strict_speciality = b & 8 != 0;
                spec.preferred = (b & 16 != 0).then_some(InterpreterId(u32::from(c % 12)));
                Input::Submit(spec)
            }
            4 => match pick_offer(a) {
                Some((o, i)) => Input::Accept(o, if b == 0 { InterpreterId(99) } else { i }),
                None => Input::Accept(OfferId(u64::from(a)), InterpreterId(u32::from(b))),
            },
            5 => match pick_offer(a) {
                Some((o, i)) => Input::Decline(o, i),
                None => Input::Decline(OfferId(u64::from(a)), InterpreterId(u32::from(b))),
            },
            6 => Input::Cancel(pick_request(a).unwrap_or(RequestId(u64::from(a)))),
            7 => Input::EndCall(pick_request(a).unwrap_or(RequestId(u64::from(a)))),
            8 => {
                now = now + Duration::from_secs(u64::from(a) * u64::from(b % 16 + 1));
                Input::Timeout
            }
            _ => Input::UpdateInterpreter(interpreter(u32::from(a % 12), b)),
        };
        let _ = e.handle_input(now, input);
        while let Some(out) = e.poll_output() {
            match out {
                Output::Offered { offer, interpreter, .. } => offers.push((offer, interpreter)),
                Output::Queued { request, .. } => requests.push(request),
                _ => {}
            }
        }
        if let Err(msg) = e.check_invariants() {
            panic!("invariant broken: {msg}");
        }
    }
});
