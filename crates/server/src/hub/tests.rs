//! A journaling hub: nothing it does for a round is seen before the round's entries are
//! stored, and its journal, replayed on the core it saved at start, rebuilds its state
//! (ADR 0021).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kakehashi_protocol as p;
use tokio::sync::{Semaphore, mpsc};

use super::*;
use crate::calls::{Client, OsTokens, Settings};
use crate::cluster::{Local, Router};
use crate::directory::{DeskRow, Directory, InterpreterRow, RosterDoc, TenantRow};

/// Entries kept in memory; each store waits for the test to open the gate.
#[derive(Clone, Debug)]
struct Gated {
    entries: Arc<Mutex<Vec<Vec<u8>>>>,
    stored: Arc<Mutex<usize>>,
    gate: Arc<Semaphore>,
}

#[async_trait::async_trait]
impl JournalSink for Gated {
    fn append(&mut self, entry: Vec<u8>) {
        self.entries.lock().unwrap().push(entry);
    }

    fn store(&mut self) -> crate::hub::Storing {
        let (gate, stored) = (Arc::clone(&self.gate), Arc::clone(&self.stored));
        let appended = self.entries.lock().unwrap().len();
        Box::pin(async move {
            gate.acquire().await.map_err(|e| e.to_string())?.forget();
            *stored.lock().unwrap() = appended;
            Ok(())
        })
    }

    async fn save(&mut self, _: Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

fn directory() -> Directory {
    Directory {
        tenants: vec![TenantRow {
            id: 1,
            name: "Asahi City".into(),
            foreign_residents: 1000,
            time_zone: "Asia/Tokyo".into(),
            policy: None,
        }],
        desks: vec![DeskRow { id: 11, tenant_id: 1, name: "counter 1".into() }],
        interpreters: vec![InterpreterRow {
            id: 21,
            login: "i21".into(),
            tier: "staff".into(),
            languages: vec!["vi".into()],
            modalities: vec!["video".into()],
            specialities: vec![],
            tenants: vec![1],
            shared_pool: false,
            roster: RosterDoc { always: true, ..RosterDoc::default() },
            reach_by_phone: None,
        }],
    }
}

async fn next<E: Clone>(rx: &mut mpsc::Receiver<Out<E>>) -> E {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(Out::Event(e))) => e.event,
        other => panic!("no event: {:?}", other.is_ok()),
    }
}

#[tokio::test]
async fn a_round_is_acted_on_once_stored_and_the_journal_rebuilds_the_hub() {
    let dir = std::env::temp_dir().join(format!("kakehashi-hub-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = crate::store::Store::open(&dir).await.unwrap();
    let settings = Settings {
        grace: Duration::from_secs(60),
        invite_ttl: Duration::from_secs(900),
        public_base: "https://k.example".into(),
        max_waiting_per_desk: 3,
        media_node: 0,
        ..Settings::default()
    };
    let clock = Clock::new();
    let tape = Tape::new(Box::new(OsTokens));
    let core = Core::new(&directory(), settings.clone(), Box::new(tape.clone()), clock.now());
    let saved = core.save().unwrap();
    let sink = Gated { entries: Arc::default(), stored: Arc::default(), gate: Arc::new(Semaphore::new(0)) };
    let hub_settings = HubSettings { heartbeat: Duration::from_secs(30), inbox: 64 };
    let (hub, tx, rx) = Hub::new(core, store, crate::metrics::Metrics::new(), clock, None, hub_settings);
    let hub = hub.journaled(tape, Box::new(sink.clone()));
    let (_reports_tx, reports_rx) = mpsc::channel(1);
    let task = tokio::spawn(hub.run(rx, reports_rx));
    let router = Local::new(tx);
    sink.gate.add_permits(1_000_000);

    let (itx, mut interpreter) = mpsc::channel(64);
    router.attach(Client::Interpreter(21), 1, Outbox::Interpreter(itx), None, None).await.unwrap();
    let available = p::InterpreterCommand::SetAvailability { availability: p::Availability::Available };
    router.interpreter(21, available).await.unwrap();
    let (dtx, mut desk) = mpsc::channel(64);
    router.attach(Client::Desk(11), 2, Outbox::Desk(dtx), None, None).await.unwrap();
    while tokio::time::timeout(Duration::from_millis(10), interpreter.recv()).await.is_ok() {}

    // Shut the gate: the desk's request is applied and journaled, but neither the desk
    // hears an answer nor the interpreter an offer until its round is stored.
    sink.gate.forget_permits(usize::MAX);
    let asked = {
        let router = router.clone();
        tokio::spawn(async move {
            let request = p::DeskCommand::RequestInterpreter {
                language: "vi".into(),
                modality: None,
                speciality: None,
                urgent: false,
                preferred_interpreter: None,
            };
            router.desk(11, 1, request).await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!asked.is_finished(), "answered before the round was stored");
    assert!(interpreter.try_recv().is_err(), "offered before the round was stored");
    let written = sink.entries.lock().unwrap().len();
    assert!(written > *sink.stored.lock().unwrap(), "the request is in the journal, not yet stored");
    // The hub goes on applying while a round is stored: the desk's ping is journaled
    // now, and answered only once its own round is stored, after the request's.
    let pinged = {
        let router = router.clone();
        tokio::spawn(async move { router.desk(11, 1, p::DeskCommand::Ping {}).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(sink.entries.lock().unwrap().len() > written, "applied while the last round is being stored");
    sink.gate.add_permits(1);
    asked.await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!pinged.is_finished(), "answered before its own round was stored");
    sink.gate.add_permits(1_000_000);
    pinged.await.unwrap().unwrap();
    let offer = loop {
        if let p::InterpreterEvent::Offer { offer, .. } = next(&mut interpreter).await {
            break offer;
        }
    };
    router.interpreter(21, p::InterpreterCommand::Accept { offer }).await.unwrap();
    let call = loop {
        if let p::DeskEvent::Assigned { call, .. } = next(&mut desk).await {
            break call;
        }
    };
    router.desk(11, 1, p::DeskCommand::Invite { call, party: p::Party::Resident }).await.unwrap();
    let token = loop {
        if let p::DeskEvent::Invite { url, .. } = next(&mut desk).await {
            break url.rsplit('/').next().unwrap().to_string();
        }
    };

    // Another node: the saved core and the journal make the same writer.
    let wallboard = router.snapshot(None).await.unwrap();
    let entries = sink.entries.lock().unwrap().clone();
    let replay_tape = Tape::new(Box::new(OsTokens));
    let mut copy = Core::restore(&saved, settings, Box::new(replay_tape.clone())).unwrap();
    for entry in &entries {
        copy.replay(entry, &replay_tape).unwrap();
    }
    assert_eq!(copy.snapshot(None), wallboard);
    assert_eq!(copy.live_calls(), 1);
    let hash = crate::auth::hash_token(&token);
    assert!(copy.peek_invite(&hash, copy.now()).is_some(), "the invite drawn on the writer works on the copy");

    drop(router);
    task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
