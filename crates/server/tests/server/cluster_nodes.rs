//! Nodes of a cluster (ADR 0020) as child processes, with a real `redis-server` and a real
//! PostgreSQL: one writer serves, a standby says who writes; a writer paused past its
//! lease (SIGSTOP) is replaced, and when it comes back (SIGCONT) nothing it writes is
//! accepted and it exits to start again as a standby; a writer killed without warning is
//! replaced within 5 s, and the new writer serves the records the old ones wrote; one
//! stopped gracefully hands over at once. A writer rides out a restart of Redis (granted
//! the lease again, its fence following) and of PostgreSQL (its write retried) and loses
//! no record.

use std::time::Duration;

use kakehashi_protocol as p;
use tokio::time::Instant;

use crate::expect;
use crate::redis_support::RedisServer;
use crate::support::*;

/// The exit status of a deposed writer (`kakehashi::cluster::node::DEPOSED`).
const DEPOSED: i32 = 75;

/// The test cluster's keys' prefix.
pub fn prefix() -> String {
    format!("kakehashi-test-{}", std::process::id())
}

/// A node of the cluster of `dir` (its PostgreSQL database, and its data directory for
/// the notes' key, shared as a deployment shares them), standing by or writing.
pub async fn node(dir: &std::path::Path, redis: &RedisServer, name: &str) -> Child {
    node_with_lease(dir, redis, name, 1000).await
}

/// The same with a lease of `lease_ms`.
async fn node_with_lease(dir: &std::path::Path, redis: &RedisServer, name: &str, lease_ms: u32) -> Child {
    let file = dir.join(format!("{name}.toml"));
    let prefix = prefix();
    let text = format!(
        "[cluster]\nredis = \"{}\"\nnode = \"{name}\"\nprefix = \"{prefix}\"\nlease_ms = {lease_ms}\n",
        redis.url()
    );
    std::fs::write(&file, text).unwrap();
    spawn_binary_with(dir, &["--config", file.to_str().unwrap()]).await
}

/// The node's `/readyz` until it answers `want` (status and body start), within `wait`.
async fn readiness(child: &Child, want: (u16, &str), wait: Duration) -> Duration {
    let started = Instant::now();
    let mut last = (0, String::new());
    while started.elapsed() < wait {
        last = http(child.addr, "GET", "/readyz", None, None).await;
        if last.0 == want.0 && last.1.starts_with(want.1) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} did not answer {want:?} within {wait:?}; last {last:?}", child.addr);
}

/// Wait until the node is ready and is the writer (`true`) or an edge, within `wait`.
pub async fn role(child: &Child, writer: bool, wait: Duration) -> Duration {
    let started = Instant::now();
    let want = format!("kakehashi_cluster_writer {}", u8::from(writer));
    let mut last = String::new();
    while started.elapsed() < wait {
        let ready = http(child.addr, "GET", "/readyz", None, None).await;
        last = http(child.addr, "GET", "/metrics", None, None).await.1;
        if ready.0 == 200 && last.lines().any(|l| l == want) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} did not become {want} within {wait:?}; metrics: {last}", child.addr);
}

fn signal(child: &Child, name: &str) {
    let pid = child.process.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args([name, &pid]).status().unwrap().success());
}

/// One consultation on `server`, from request to its acknowledged end.
async fn consultation(server: &Server, creds: &Creds) {
    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
}

#[tokio::test]
async fn one_writer_serves_a_paused_one_is_fenced_off_a_killed_one_replaced_a_stopped_one_hands_over() {
    let redis = RedisServer::start().await;
    let dir = temp("cluster-nodes");
    crate::postgres_support::use_postgres(&dir).await;
    let creds = seed(&dir).await;

    // Node A writes; node B is an edge: its clients' calls go to A through Redis.
    let mut a = node(&dir, &redis, "node-a").await;
    role(&a, true, Duration::from_secs(10)).await;
    let mut b = node(&dir, &redis, "node-b").await;
    role(&b, false, Duration::from_secs(10)).await;
    let on_a = Server::at(a.addr, dir.clone());
    consultation(&on_a, &creds).await;

    // A live call on A when A is paused past its lease: B takes over.
    let mut interpreter = on_a.interpreter(&creds.interp[1]).await;
    let mut desk = on_a.desk(&creds.desk_a2).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    signal(&a, "-STOP");
    let took = role(&b, true, Duration::from_secs(5)).await;
    eprintln!("writer paused: node B ready after {} ms", took.as_millis());
    let on_b = Server::at(b.addr, dir.clone());
    consultation(&on_b, &creds).await;

    // A wakes with the call's end waiting in its socket: nothing it writes is accepted,
    // and it exits, deposed.
    desk.send(p::DeskCommand::EndCall { call }).await;
    signal(&a, "-CONT");
    let exit = tokio::time::timeout(Duration::from_secs(10), a.process.wait()).await.expect("A exits").unwrap();
    assert_eq!(exit.code(), Some(DEPOSED), "{exit:?}");
    // The call live on A when it was paused lives on with B, which took over A's state
    // (ADR 0021). Its desk signs in again on B: a fresh start, which ends what the desk
    // held, so the call ends there, once, with its record.
    let again = on_b.desk(&creds.desk_a2).await;
    let mut records = on_b.records(&creds.sup_a).await;
    for _ in 0..50 {
        if records.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        records = on_b.records(&creds.sup_a).await;
    }
    assert_eq!(records.len(), 3, "one consultation on each writer and the call A left, once: {records:?}");
    drop((desk, interpreter, again));

    // A starts again, as a standby; B is killed without warning; A writes within 5 s.
    a = node(&dir, &redis, "node-a").await;
    role(&a, false, Duration::from_secs(10)).await;
    b.process.start_kill().unwrap();
    b.process.wait().await.unwrap();
    let took = role(&a, true, Duration::from_secs(5)).await;
    eprintln!("writer killed: node A ready after {} ms", took.as_millis());
    let on_a = Server::at(a.addr, dir.clone());
    assert_eq!(on_a.records(&creds.sup_a).await.len(), 3, "the records the earlier writers wrote");
    consultation(&on_a, &creds).await;
    let metrics = on_a.metrics().await;
    assert!(metrics.contains("kakehashi_cluster_writer 1"), "{metrics}");
    assert!(metrics.contains("kakehashi_cluster_leader_changes_total 1"), "{metrics}");
    assert!(metrics.contains("kakehashi_cluster_redis_rtt_seconds_count"), "{metrics}");

    // Stopped gracefully, the writer hands the lease over at once and exits cleanly.
    let b = node(&dir, &redis, "node-b").await;
    role(&b, false, Duration::from_secs(10)).await;
    signal(&a, "-TERM");
    let exit = tokio::time::timeout(Duration::from_secs(15), a.process.wait()).await.expect("A exits").unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut conn = redis.manager().await;
    let holder: Option<String> =
        redis::cmd("GET").arg(format!("{}:writer", prefix())).query_async(&mut conn).await.unwrap();
    assert!(!holder.as_deref().is_some_and(|h| h.starts_with("node-a|")), "released, not left to run out: {holder:?}");
    let took = role(&b, true, Duration::from_secs(5)).await;
    eprintln!("writer stopped: node B ready {} ms after it exited", took.as_millis());
}

#[tokio::test]
async fn the_writer_rides_out_a_redis_restart_and_a_postgresql_restart_losing_no_record() {
    let postgres = std::sync::Arc::new(crate::postgres_support::Postgres::start("cluster-restarts"));
    let mut redis = RedisServer::start().await;
    let dir = temp("cluster-restarts");
    crate::postgres_support::use_database(&dir, &postgres.database().await);
    let creds = seed(&dir).await;
    let mut a = node_with_lease(&dir, &redis, "node-a", 3000).await;
    role(&a, true, Duration::from_secs(10)).await;
    let b = node_with_lease(&dir, &redis, "node-b", 3000).await;
    role(&b, false, Duration::from_secs(10)).await;
    let on_a = Server::at(a.addr, dir.clone());
    let mut interpreter = on_a.interpreter(&creds.interp[0]).await;
    let mut desk = on_a.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;

    // Redis restarts empty: the writer is granted the lease again (a higher token, the
    // fence following it) and goes on; the standby names it again.
    redis.restart().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(a.process.try_wait().unwrap().is_none(), "the writer stays");
    readiness(&a, (200, "ready"), Duration::from_secs(1)).await;
    role(&b, false, Duration::from_secs(5)).await;

    // PostgreSQL restarts while the call ends: the end is told once its record is
    // written, the writer keeps its lease meanwhile (renewals ask Redis only).
    let pg = postgres.clone();
    tokio::task::spawn_blocking(move || pg.stop()).await.unwrap();
    desk.send(p::DeskCommand::EndCall { call }).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pg = postgres.clone();
    tokio::task::spawn_blocking(move || pg.run()).await.unwrap();
    desk.expect_within(Duration::from_secs(15), |e| matches!(e, p::DeskEvent::CallEnded { .. }).then_some(())).await;
    assert!(a.process.try_wait().unwrap().is_none(), "the writer stays");
    readiness(&a, (200, "ready"), Duration::from_secs(5)).await;
    assert_eq!(on_a.records(&creds.sup_a).await.len(), 1);
    let metrics = on_a.metrics().await;
    assert!(metrics.contains("kakehashi_cluster_leader_changes_total 1"), "never deposed:\n{metrics}");
    drop(b);
}
