//! The store on PostgreSQL through a restart of the database (issue 15): a call that ends
//! while PostgreSQL is down is told ended only once its record is written after the
//! restart, exactly once, however many times its write was tried; `/readyz` says the
//! store is unavailable meanwhile; the server reconnects by itself and takes the next call.

use std::time::Duration;

use kakehashi_protocol as p;

use crate::expect;
use crate::postgres_support::{Postgres, use_database};
use crate::support::*;

/// `/readyz` within 10 s answers `status`.
async fn ready_becomes(server: &Server, status: u16) -> String {
    for _ in 0..100 {
        let (got, body) = http(server.addr, "GET", "/readyz", None, None).await;
        if got == status {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {status}");
}

/// `kakehashi_store_writes_total` for call records with `result`.
async fn writes(server: &Server, result: &str) -> u64 {
    let metrics = server.metrics().await;
    let name = format!("kakehashi_store_writes_total{{result=\"{result}\",what=\"call_record\"}} ");
    metrics.lines().find_map(|l| l.strip_prefix(&name)).map_or(0, |n| n.parse().unwrap())
}

async fn retries(server: &Server) -> u64 {
    writes(server, "retried").await
}

async fn written(server: &Server) -> u64 {
    writes(server, "written").await
}

#[tokio::test]
async fn a_postgresql_restart_loses_no_acknowledged_record_and_writes_none_twice() {
    let postgres = std::sync::Arc::new(Postgres::start("restart"));
    let dir = temp("store-restart");
    use_database(&dir, &postgres.database().await);
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;
    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;

    // PostgreSQL goes away mid-call; the node is no longer ready, and the call's end is
    // not acknowledged while its record cannot be written.
    let pg = postgres.clone();
    tokio::task::spawn_blocking(move || pg.stop()).await.unwrap();
    let why = ready_becomes(&server, 503).await;
    assert!(why.starts_with("store: unavailable"), "{why}");
    desk.send(p::DeskCommand::EndCall { call }).await;
    let told =
        tokio::time::timeout(Duration::from_millis(1500), async { expect!(desk, p::DeskEvent::CallEnded { .. }) });
    assert!(told.await.is_err(), "the end was acknowledged before its record was written");
    // Down past the store's 5 s bound: the write fails and is tried again.
    for _ in 0..150 {
        if retries(&server).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(retries(&server).await > 0, "the write was tried again");

    // Back: the write is retried, the desk and the interpreter are told, the node is ready.
    let pg = postgres.clone();
    tokio::task::spawn_blocking(move || pg.run()).await.unwrap();
    desk.expect_within(Duration::from_secs(15), |e| matches!(e, p::DeskEvent::CallEnded { .. }).then_some(())).await;
    expect!(interpreter, p::InterpreterEvent::CallEnded { .. });
    assert_eq!(ready_becomes(&server, 200).await, "ready");
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.len(), 1, "one record, written once: {records:?}");
    assert_eq!(records[0]["outcome"], "answered");

    // The next call goes through the reconnected pool.
    interpreter.send(p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    assert_eq!(server.records(&creds.sup_a).await.len(), 2);
    assert_eq!(written(&server).await, 2, "each record written once, though the first was tried again");
    server.stop().await;
}
