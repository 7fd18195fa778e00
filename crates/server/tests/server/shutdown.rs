//! The binary as a child process: killed without warning, it loses no acknowledged record;
//! told to stop, it drains live calls, refuses new requests, and exits cleanly.

use std::time::Duration;

use kakehashi_protocol as p;

use crate::expect;
use crate::support::*;

#[tokio::test]
async fn a_crash_loses_no_acknowledged_call_record() {
    let dir = temp("crash");
    let creds = seed(&dir).await;
    let mut child = spawn_binary(&dir).await;
    let server = Server::at(child.addr, dir.clone());
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    for _ in 0..3 {
        let call = answered_call(&mut desk, &mut i1, "vi").await;
        desk.send(p::DeskCommand::EndCall { call }).await;
        expect!(desk, p::DeskEvent::CallEnded { .. });
        expect!(i1, p::InterpreterEvent::CallEnded { .. });
        i1.send(p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await;
    }
    // The third end was acknowledged a moment ago: kill -9 now.
    child.process.start_kill().unwrap();
    child.process.wait().await.unwrap();
    drop((desk, i1));
    let child = spawn_binary(&dir).await;
    let server = Server::at(child.addr, dir);
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records.iter().all(|r| r["outcome"] == "answered"));
    drop(child);
}

#[tokio::test]
async fn sigterm_drains_live_calls_then_exits() {
    let dir = temp("sigterm");
    let creds = seed(&dir).await;
    let mut child = spawn_binary(&dir).await;
    let server = Server::at(child.addr, dir.clone());
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let mut other = server.desk(&creds.desk_a2).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let pid = child.process.id().unwrap().to_string();
    let status = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
    assert!(status.success());
    // Not ready while draining; no new requests; the live call goes on.
    let mut draining = false;
    for _ in 0..50 {
        if http(server.addr, "GET", "/readyz", None, None).await == (503, "draining".into()) {
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(draining);
    assert_eq!(http(server.addr, "GET", "/healthz", None, None).await.0, 200, "alive while draining");
    other.send(request("vi")).await;
    assert_eq!(other.error().await.code, p::ErrorCode::ShuttingDown);
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    // With no live call left the server closes the connections, saying why, and exits
    // cleanly.
    assert_eq!(other.closed().await.map(|f| f.0), Some(p::CloseReason::ShuttingDown.code()));
    let exit = tokio::time::timeout(Duration::from_secs(15), child.process.wait()).await.expect("exits").unwrap();
    assert!(exit.success(), "{exit:?}");
    let store = crate::postgres_support::open_store(&dir).await;
    assert_eq!(store.call_records(None).await.unwrap().len(), 1);
}
