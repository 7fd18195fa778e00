//! Media on every node (ADR 0022): three nodes on one Redis and one PostgreSQL, each with
//! its relay. A call's media is pinned to a relay that is not the writer's (B, the lowest
//! numbered edge); the desk talks through the writer A, the interpreter through C, the
//! resident through B. B is killed without warning: the desk and the interpreter are told
//! the media moved and offer again, the resident's connection comes back through C with
//! its resume token and offers again, and within 10 s all three hear each other through
//! C's relay; the call ends with one record.

use std::time::{Duration, Instant};

use kakehashi_protocol as p;

use crate::cluster_nodes::{node, role};
use crate::expect;
use crate::media_support::*;
use crate::redis_support::RedisServer;
use crate::support::*;

/// Whether the node's relay has forwarded any packet (its latency histogram's count).
async fn relays_packets(child: &Child) -> bool {
    let metrics = http(child.addr, "GET", "/metrics", None, None).await.1;
    metrics.lines().any(|l| l.starts_with("kakehashi_media_relay_latency_seconds_count ") && !l.ends_with(" 0"))
}

/// Wait until the node's metrics have `line` (within 10 s).
pub async fn until_metric(child: &Child, line: &str) {
    for _ in 0..200 {
        if http(child.addr, "GET", "/metrics", None, None).await.1.lines().any(|l| l == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never showed {line}", child.addr);
}

/// A cluster for a test: Redis, a PostgreSQL database seeded with the test directory,
/// and three nodes started one after the other (so numbered 1, 2, 3): A the writer, B
/// and C edges, once the writer has read all three relays' presence.
pub struct Three {
    pub redis: RedisServer,
    pub dir: std::path::PathBuf,
    pub creds: Creds,
    pub a: Child,
    pub b: Child,
    pub c: Child,
}

pub async fn three_nodes(tag: &str) -> Three {
    let redis = RedisServer::start().await;
    let dir = temp(tag);
    crate::postgres_support::use_postgres(&dir).await;
    let creds = seed(&dir).await;
    let a = node(&dir, &redis, "node-a").await;
    role(&a, true, Duration::from_secs(10)).await;
    let b = node(&dir, &redis, "node-b").await;
    role(&b, false, Duration::from_secs(10)).await;
    let c = node(&dir, &redis, "node-c").await;
    role(&c, false, Duration::from_secs(10)).await;
    until_metric(&a, "kakehashi_cluster_nodes 3").await;
    Three { redis, dir, creds, a, b, c }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_media_nodes_call_goes_on_through_another_relay() {
    let Three { redis: _redis, dir, creds, a, mut b, c } = three_nodes("cluster-media").await;
    let (on_a, on_b, on_c) =
        (Server::at(a.addr, dir.clone()), Server::at(b.addr, dir.clone()), Server::at(c.addr, dir.clone()));

    let mut interpreter = on_c.interpreter(&creds.interp[0]).await;
    let mut desk = on_a.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    let token = invite(&mut desk, call, p::Party::Resident).await;
    let mut resident = on_b.resident(&token, None).await;
    expect!(resident, p::ResidentEvent::Joined { .. });
    let resume = resident.resume_point().0;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media(desk, Some(call), 1, 0x7001, false, false, heard_tx.clone()).await;
    let mut interp_media = media(interpreter, Some(call), 2, 0x7002, false, false, heard_tx.clone()).await;
    let mut resident_media = media(resident, None, 3, 0x7003, false, false, heard_tx.clone()).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    resident_media.until_connected().await;
    for n in 0..40u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        resident_media.send(false, 3, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by = heard_by(&mut heard);
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3], "each is heard");
    assert!(relays_packets(&b).await, "the call's media goes through B's relay");
    assert!(!relays_packets(&a).await && !relays_packets(&c).await, "and through no other");

    // B dies with the call's media and the resident's connection.
    b.process.start_kill().unwrap();
    b.process.wait().await.unwrap();
    let killed = Instant::now();
    desk_media
        .until_event(Duration::from_secs(8), |e| matches!(e, p::DeskEvent::MediaMoved { call: c } if *c == call))
        .await;
    interp_media
        .until_event(Duration::from_secs(8), |e| matches!(e, p::InterpreterEvent::MediaMoved { call: c } if *c == call))
        .await;
    eprintln!("media node killed: the desk and the interpreter told within {} ms", killed.elapsed().as_millis());
    let desk = desk_media.hang_up().await;
    let interpreter = interp_media.hang_up().await;
    drop(resident_media);
    let mut resident = on_c.resident(&token, Some(resume)).await;
    assert!(resident.sig.welcome.resumed, "the resident takes their place back through C");
    expect!(resident, p::ResidentEvent::Joined { .. });
    let mut desk_media = media(desk, Some(call), 1, 0x7101, false, false, heard_tx.clone()).await;
    let mut interp_media = media(interpreter, Some(call), 2, 0x7102, false, false, heard_tx.clone()).await;
    let mut resident_media = media(resident, None, 3, 0x7103, false, false, heard_tx).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    resident_media.until_connected().await;
    heard_by(&mut heard);
    let mut again = std::collections::BTreeSet::new();
    let mut n = 100u32;
    while again.len() < 3 && killed.elapsed() < Duration::from_secs(10) {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        resident_media.send(false, 3, n).await;
        n += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        for (who, h) in heard_by(&mut heard) {
            if h.iter().any(|h| h.n >= 100) {
                again.insert(who);
            }
        }
    }
    assert_eq!(again.len(), 3, "all three heard again within 10 s of the media node's death: {again:?}");
    eprintln!("media node killed: media flowed again within {} ms", killed.elapsed().as_millis());
    assert!(relays_packets(&c).await, "through C's relay now");
    assert!(!relays_packets(&a).await, "not the writer's, while an edge's relay is up");

    // The call talks on past C's relay's statistics (every 2 s, up the command stream).
    for n in n..n + 130 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        resident_media.send(false, 3, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The call ends with one record, its media's quality measured by C's relay and its
    // move counted.
    let mut desk = desk_media.hang_up().await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    let mut records = Vec::new();
    for _ in 0..50 {
        records = on_a.records(&creds.sup_a).await;
        if !records.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0]["reconnects"].as_i64().is_some_and(|r| r >= 1), "{records:?}");
    assert!(records[0]["loss"].as_f64().is_some(), "{records:?}");
    drop((interp_media, resident_media, desk, a, c));
}

/// A call whose media is on an edge's relay keeps flowing while the writer dies and
/// another takes over: only its signalling resumes (ADR 0022 point 6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_on_an_edges_relay_flows_through_a_writers_failover() {
    let Three { redis: _redis, dir, creds, mut a, b, c } = three_nodes("cluster-media-writer").await;
    let (on_b, on_c) = (Server::at(b.addr, dir.clone()), Server::at(c.addr, dir.clone()));

    let mut interpreter = on_c.interpreter(&creds.interp[0]).await;
    let mut desk = on_c.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    let token = invite(&mut desk, call, p::Party::Resident).await;
    let mut resident = on_b.resident(&token, None).await;
    expect!(resident, p::ResidentEvent::Joined { .. });
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media(desk, Some(call), 1, 0x7201, false, false, heard_tx.clone()).await;
    let mut interp_media = media(interpreter, Some(call), 2, 0x7202, false, false, heard_tx.clone()).await;
    let mut resident_media = media(resident, None, 3, 0x7203, false, false, heard_tx).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    resident_media.until_connected().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    heard_by(&mut heard);

    // The writer dies while all three talk: 4 s of packets, the kill 1 s in.
    let mut killed = None;
    for n in 0..200u32 {
        if n == 50 {
            a.process.start_kill().unwrap();
            killed = Some(Instant::now());
        }
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        resident_media.send(false, 3, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.process.wait().await.unwrap();
    eprintln!("writer killed {} ms before the last packet", killed.unwrap().elapsed().as_millis());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by = heard_by(&mut heard);
    for who in [1u8, 2, 3] {
        let numbers: std::collections::BTreeSet<u32> =
            by.get(&who).map(|h| h.iter().map(|h| h.n).collect()).unwrap_or_default();
        // Each listener hears 150 of them after the kill; nearly all arrive, twice over.
        let after = numbers.iter().filter(|n| **n >= 50).count();
        assert!(after >= 140, "{who}: {after} of the 150 packets sent after the writer died were heard");
    }
    assert!(relays_packets(&b).await || relays_packets(&c).await, "an edge's relay carried the call");
    drop((desk_media, interp_media, resident_media, b, c));
}

/// The legs a node's relay holds (its gauge, every 2 s), once it shows `want` (within 10 s).
async fn until_legs(child: &Child, want: u32) {
    until_metric(child, &format!("kakehashi_media_relay_legs {want}")).await;
}

/// An edge told to stop (SIGTERM) drains its relay: its call talks on, a new call's
/// media goes elsewhere though this relay has no more calls, and the node exits once
/// its call has ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_told_to_stop_drains_its_relay_and_goes_when_its_calls_end() {
    let Three { redis: _redis, dir, creds, a, mut b, c } = three_nodes("cluster-media-drain").await;
    let (on_a, on_c) = (Server::at(a.addr, dir.clone()), Server::at(c.addr, dir.clone()));
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();

    // The first call's media goes to B (the lower number), the second's to C.
    let mut i1 = on_c.interpreter(&creds.interp[0]).await;
    let mut desk1 = on_a.desk(&creds.desk_a1).await;
    let first = answered_call(&mut desk1, &mut i1, "vi").await;
    let mut desk1 = media(desk1, Some(first), 1, 0x7301, false, false, heard_tx.clone()).await;
    let mut i1 = media(i1, Some(first), 2, 0x7302, false, false, heard_tx.clone()).await;
    desk1.until_connected().await;
    i1.until_connected().await;
    until_legs(&b, 2).await;
    let mut i2 = on_c.interpreter(&creds.interp[1]).await;
    let mut desk2 = on_a.desk(&creds.desk_a2).await;
    let second = answered_call(&mut desk2, &mut i2, "vi").await;
    let mut desk2 = media(desk2, Some(second), 3, 0x7303, false, false, heard_tx.clone()).await;
    desk2.until_connected().await;
    until_legs(&c, 1).await;

    // B is told to stop: its relay drains. A third call ties B and C on calls, and goes
    // to C.
    let pid = b.process.id().unwrap().to_string();
    assert!(tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap().success());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut i5 = on_c.interpreter(&creds.interp[4]).await;
    let mut desk3 = on_a.desk(&creds.desk_b).await;
    let third = answered_call(&mut desk3, &mut i5, "vi").await;
    let mut desk3 = media(desk3, Some(third), 4, 0x7304, false, false, heard_tx).await;
    desk3.until_connected().await;
    until_legs(&c, 2).await;

    // The first call talks on through B's draining relay.
    heard_by(&mut heard);
    for n in 0..25u32 {
        desk1.send(false, 1, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by = heard_by(&mut heard);
    assert!(by.get(&1).is_some_and(|h| h.len() >= 20), "the interpreter hears the desk through B: {by:?}");
    assert!(b.process.try_wait().unwrap().is_none(), "B waits for its call");

    // Its call ends: B goes.
    let mut desk1 = desk1.hang_up().await;
    desk1.send(p::DeskCommand::EndCall { call: first }).await;
    expect!(desk1, p::DeskEvent::CallEnded { .. });
    let status = tokio::time::timeout(Duration::from_secs(10), b.process.wait()).await.expect("B stops").unwrap();
    assert!(status.success(), "{status}");
    drop((i1, desk2, desk3, i2, i5, a, c));
}
