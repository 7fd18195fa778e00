//! What a writer's handover costs (ADR 0021): a busy core (a thousand live calls, five
//! hundred requests queued, their desks and interpreters connected) is saved, restored,
//! and a journal of its inputs is replayed. Prints the saved core's size, the time to
//! save and to restore it (medians), the time to write an input as a journal entry, and
//! the replay rate: together, how long a new writer takes to rebuild after a minute of
//! traffic (the writer saves every minute).
//!
//!   cargo run --release -p kakehashi --example handover_bench -- [calls] [queued] [runs]
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use kakehashi::calls::{Client, Core, Input, OsTokens, Settings, Tape};
use kakehashi::directory::{DeskRow, Directory, InterpreterRow, RosterDoc, TenantRow};
use kakehashi_dispatch::Timestamp;
use kakehashi_protocol as p;

type Failure = Box<dyn std::error::Error>;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn directory(calls: usize, queued: usize) -> Directory {
    Directory {
        tenants: vec![TenantRow {
            id: 1,
            name: "Prefecture centre".into(),
            foreign_residents: 200_000,
            time_zone: "Asia/Tokyo".into(),
            policy: None,
        }],
        desks: (0..calls + queued)
            .map(|i| DeskRow { id: i as i64 + 1, tenant_id: 1, name: format!("counter {i}") })
            .collect(),
        interpreters: (0..calls)
            .map(|i| InterpreterRow {
                id: 100_000 + i as i64,
                login: format!("i{i}"),
                tier: "staff".into(),
                languages: vec!["vi".into()],
                modalities: vec!["video".into()],
                specialities: vec![],
                tenants: vec![1],
                shared_pool: false,
                roster: RosterDoc { always: true, ..RosterDoc::default() },
                reach_by_phone: None,
            })
            .collect(),
    }
}

fn request() -> p::DeskCommand {
    p::DeskCommand::RequestInterpreter {
        language: "vi".into(),
        modality: None,
        speciality: None,
        urgent: false,
        preferred_interpreter: None,
    }
}

/// Apply, journaled, and keep the entry; outputs dropped.
fn step(core: &mut Core, tape: &Tape, now: Timestamp, input: Input, journal: &mut Vec<Vec<u8>>) {
    let mut entry = Vec::new();
    let _ = core.handle_journaled(now, input, tape, &mut entry).expect("journaled");
    while core.poll_output().is_some() {}
    journal.push(entry);
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args.get(1).map_or(Ok(1000), |a| a.parse())?;
    let queued: usize = args.get(2).map_or(Ok(500), |a| a.parse())?;
    let runs: usize = args.get(3).map_or(Ok(5), |a| a.parse())?;
    let settings = Settings {
        grace: Duration::from_secs(60),
        invite_ttl: Duration::from_secs(900),
        public_base: "https://kakehashi.example".into(),
        max_waiting_per_desk: 3,
        media_node: 0,
        ..Settings::default()
    };
    let mut now = Timestamp::from_secs(1_800_000_000);
    let tape = Tape::new(Box::new(OsTokens));
    let mut core = Core::new(&directory(calls, queued), settings.clone(), Box::new(tape.clone()), now);
    let mut journal = Vec::new();
    let hash = |i: usize| format!("resume-hash-{i}");
    // Build the busy state, journaling as a writer does.
    let started = Instant::now();
    for i in 0..calls {
        let id = 100_000 + i as i64;
        step(
            &mut core,
            &tape,
            now,
            Input::Attached { client: Client::Interpreter(id), resumed: false, resume_hash: hash(i) },
            &mut journal,
        );
        let available = p::InterpreterCommand::SetAvailability { availability: p::Availability::Available };
        step(&mut core, &tape, now, Input::Interpreter { id, cmd: available }, &mut journal);
    }
    for desk in 1..=(calls + queued) as i64 {
        step(
            &mut core,
            &tape,
            now,
            Input::Attached { client: Client::Desk(desk), resumed: false, resume_hash: hash(desk as usize) },
            &mut journal,
        );
        step(&mut core, &tape, now, Input::Desk { desk, tenant: 1, cmd: request() }, &mut journal);
    }
    // Every offer is accepted: they are numbered from 1 and ring the interpreters in the
    // order they became available (longest idle first; here, by number).
    for offer in 1..=calls as u64 {
        let id = 100_000 + offer as i64 - 1;
        step(
            &mut core,
            &tape,
            now,
            Input::Interpreter { id, cmd: p::InterpreterCommand::Accept { offer } },
            &mut journal,
        );
    }
    let built = started.elapsed();
    println!(
        "state: {} live calls, {} requests queued, {} journal entries to build it ({:.1} µs each, journaled)",
        core.live_calls(),
        queued,
        journal.len(),
        built.as_secs_f64() * 1e6 / journal.len() as f64
    );

    // A minute of traffic after the save: a tick a second and the queue's positions.
    let saved = core.save()?;
    let mut minute = Vec::new();
    for _ in 0..60 {
        now = now + Duration::from_secs(1);
        step(&mut core, &tape, now, Input::Tick, &mut minute);
    }
    let (mut saves, mut restores) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let bytes = core.save()?;
        saves.push(t.elapsed());
        let t = Instant::now();
        let restored = Core::restore(&bytes, settings.clone(), Box::new(OsTokens))?;
        restores.push(t.elapsed());
        assert_eq!(restored.live_calls(), core.live_calls());
    }
    let bytes = core.save()?.len();
    println!(
        "saved core: {:.1} MiB; save {:.1} ms, restore {:.1} ms (median of {runs})",
        bytes as f64 / (1024.0 * 1024.0),
        median(saves).as_secs_f64() * 1e3,
        median(restores).as_secs_f64() * 1e3
    );
    // Replay: the building journal (its inputs are the heavy ones) onto a fresh core,
    // then the minute onto the saved one.
    let replay_tape = Tape::new(Box::new(OsTokens));
    let mut fresh = Core::new(
        &directory(calls, queued),
        settings.clone(),
        Box::new(replay_tape.clone()),
        Timestamp::from_secs(1_800_000_000),
    );
    let t = Instant::now();
    for entry in &journal {
        fresh.replay(entry, &replay_tape)?;
    }
    let took = t.elapsed();
    assert_eq!(fresh.live_calls(), calls);
    println!(
        "replay: {} entries in {:.1} ms ({:.0} entries/s)",
        journal.len(),
        took.as_secs_f64() * 1e3,
        journal.len() as f64 / took.as_secs_f64()
    );
    let t = Instant::now();
    let mut from_save = Core::restore(&saved, settings, Box::new(replay_tape.clone()))?;
    for entry in &minute {
        from_save.replay(entry, &replay_tape)?;
    }
    println!(
        "handover after a minute of ticks: restore and replay {} entries in {:.1} ms",
        minute.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
