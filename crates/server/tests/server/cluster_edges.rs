//! Edges of a cluster (ADR 0020 point 4): three nodes on one Redis and one PostgreSQL,
//! A the writer, B and C edges whose clients' calls reach A through the command stream
//! and whose events come back on their node's channel. A desk on B asks, an interpreter
//! on C is offered the request and answers, a resident joins from the link on A, and the
//! three hear each other through the call's media node (a relay that is not the
//! writer's, ADR 0022); a supervisor on C sees the call live; an admin adds a desk through B; the call's end,
//! asked on B, is recorded once.

use std::time::Duration;

use kakehashi_protocol as p;

use crate::expect;
use crate::media_support::*;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_on_one_edge_an_interpreter_on_another_and_a_resident_on_the_writer_talk() {
    let crate::cluster_media::Three { redis: _redis, dir, creds, a, b, c } =
        crate::cluster_media::three_nodes("cluster-edges").await;
    assert_eq!(http(b.addr, "GET", "/readyz?writer", None, None).await.0, 503, "an edge is not the writer");
    assert_eq!(http(a.addr, "GET", "/readyz?writer", None, None).await.0, 200, "the writer is");
    let (on_a, on_b, on_c) =
        (Server::at(a.addr, dir.clone()), Server::at(b.addr, dir.clone()), Server::at(c.addr, dir.clone()));

    // The request from B is offered on C, answered, and both are told.
    let mut interpreter = on_c.interpreter(&creds.interp[0]).await;
    let mut desk = on_b.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    let mut supervisor = on_c.supervisor(&creds.sup_a).await;
    supervisor.send(p::SupervisorCommand::Subscribe {}).await;
    let live = expect!(supervisor, p::SupervisorEvent::Snapshot { calls, .. } => calls.calls);
    assert_eq!(live, 1, "the supervisor on C sees the call the writer holds");

    // A resident opens the link on the writer; all three hear each other.
    let token = invite(&mut desk, call, p::Party::Resident).await;
    let mut resident = on_a.resident(&token, None).await;
    expect!(resident, p::ResidentEvent::Joined { .. });
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media(desk, Some(call), 1, 0x6001, false, false, heard_tx.clone()).await;
    let mut interp_media = media(interpreter, Some(call), 2, 0x6002, false, false, heard_tx.clone()).await;
    let mut resident_media = media(resident, None, 3, 0x6003, false, false, heard_tx).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    resident_media.until_connected().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..50u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        resident_media.send(false, 3, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let by = heard_by(&mut heard);
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3], "each is heard");
    for (who, h) in &by {
        // Two listeners each: at least most of 2 × 50 packets.
        assert!(h.len() >= 80, "{who}: {} of 100", h.len());
    }
    // Through one relay, an edge's: the writer's is kept for when no other is up.
    let mut relaying = Vec::new();
    for (name, server) in [("A", &on_a), ("B", &on_b), ("C", &on_c)] {
        if !server.metrics().await.contains("kakehashi_media_relay_latency_seconds_count 0") {
            relaying.push(name);
        }
    }
    assert!(relaying == ["B"] || relaying == ["C"], "one edge's relay: {relaying:?}");

    // An admin adds a desk through B: the writer takes it (its enrolment works).
    let (status, text) =
        http(b.addr, "POST", "/api/tenants/1/desks", Some(&creds.admin), Some(r#"{"name":"Edge Hall"}"#)).await;
    assert_eq!(status, 201, "{text}");

    // The desk on B ends the call; one record, written by the writer.
    let mut desk = desk_media.hang_up().await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    let records = on_c.records(&creds.sup_a).await;
    assert_eq!(records.len(), 1, "{records:?}");
    // The writer measured how long the edges' calls waited in the command stream.
    let metrics = on_a.metrics().await;
    let lag = metrics.lines().find_map(|l| l.strip_prefix("kakehashi_cluster_command_lag_seconds_count "));
    assert!(lag.is_some_and(|n| n != "0"), "{metrics}");
    drop((interp_media, resident_media, supervisor, desk, a, b, c));
}
