//! `idle`: many desks connected and doing nothing, as a centre's tablets are most of the
//! day. What each idle WebSocket costs the server: resident memory and file descriptors,
//! read from `/proc` before and after, while every client keeps answering pings.

use std::time::{Duration, Instant};

use kakehashi_client::{Desk, Signal};
use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::proc;
use crate::server::{self, Server};
use crate::{LoadError, report};

/// Open `connections` idle desk connections, hold them for `hold` seconds, and report
/// the server's memory and descriptors per connection.
pub async fn run(server: &Server, connections: usize, hold: u64) -> Result<(Vec<String>, Value), LoadError> {
    let tenant = server::add_tenant(server, &format!("Idle {}", std::process::id())).await?;
    // Enrol the desks a few at a time: the admin API is not what is measured.
    let mut tokens = Vec::with_capacity(connections);
    let mut pending = Vec::new();
    for chunk in (0..connections).collect::<Vec<_>>().chunks(connections.div_ceil(8).max(1)) {
        let n = chunk.len();
        let http = server.http;
        let admin = server.admin.clone();
        pending.push(tokio::spawn(async move {
            let s = Server::attach_token(http, admin);
            server::add_desks(&s, tenant, n).await
        }));
    }
    for p in pending {
        tokens.extend(p.await.map_err(|e| LoadError::Check(e.to_string()))??.into_iter().map(|(_, t)| t));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = proc::usage(server.pid).ok_or_else(|| LoadError::Server("gone".into()))?;
    let fds_before = proc::fds(server.pid);
    let started = Instant::now();
    let url = server.ws_url();
    let mut opening = Vec::new();
    for (n, token) in tokens.into_iter().enumerate() {
        let url = url.clone();
        opening.push(tokio::spawn(async move {
            let s = Signal::<Desk>::connect(&url, p::Credential::DeskToken(token), None).await?;
            // Read (and so answer pings) until the end of the run.
            let (_sink, mut source) = s.split();
            let reader = tokio::spawn(async move { while source.recv(Duration::from_secs(3600)).await.is_ok() {} });
            Ok::<_, LoadError>((_sink, reader))
        }));
        // Connect in waves, as tablets switched on in the morning would.
        if n % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut held = Vec::new();
    let mut failed = 0usize;
    for o in opening {
        match o.await {
            Ok(Ok(c)) => held.push(c),
            _ => failed += 1,
        }
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let during = proc::usage(server.pid).ok_or_else(|| LoadError::Server("gone".into()))?;
    let fds_during = proc::fds(server.pid);
    let n = held.len().max(1);
    let per = (during.rss as i64 - before.rss as i64) / n as i64;
    drop(held);
    let value = json!({
        "scenario": "idle",
        "connections": connections,
        "connected": connections - failed,
        "failed": failed,
        "opened_in_s": report::round(opened_in.as_secs_f64()),
        "held_s": hold,
        "server_rss_before_kib": before.rss / 1024,
        "server_rss_during_kib": during.rss / 1024,
        "bytes_per_connection": per,
        "fds_before": fds_before,
        "fds_during": fds_during,
        "server_cpu_s_while_idle": report::round(during.cpu.saturating_sub(before.cpu).as_secs_f64()),
    });
    let lines = vec![
        format!(
            "idle: {} of {} desk connections open in {:.1} s, held {hold} s",
            connections - failed,
            connections,
            opened_in.as_secs_f64()
        ),
        format!(
            "  server memory {} → {} KiB: {:.1} KiB per connection; descriptors {fds_before} → {fds_during}",
            before.rss / 1024,
            during.rss / 1024,
            per as f64 / 1024.0
        ),
    ];
    if failed > 0 {
        return Err(LoadError::Check(format!("{failed} connections failed: {value}")));
    }
    Ok((lines, value))
}
