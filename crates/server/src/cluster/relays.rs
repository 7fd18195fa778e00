//! Every node's relay in a cluster (ADR 0022). Each node runs a relay from its start, on
//! its own media address, and says so in Redis every third of the lease's time to live
//! (a sorted set scored by when each presence runs out, by Redis's clock); each reads back
//! which relays are up and which draining. A node whose presence ran out, missing from
//! three reads in a row, is gone: the writer moves its relay's calls and counts its
//! connections dropped (three reads, not one: Redis restarting empty must not look like
//! every node dying). The writer's call core pins each call to one of the relays; its
//! orders for a relay go on that node's stream (`super::orders`), and each relay's
//! reports go up the command stream to the writer in the order it made them ([`report`]).
//! A node stopping withdraws its relay at once ([`withdraw`]).

use std::time::Duration;

use prometheus::IntGauge;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, watch};

use super::Remote;
use super::keys::Keys;
use crate::media::Report;

/// Be present and read who is: KEYS[1] the relays up (scored by when their presence runs
/// out, ms), KEYS[2] those draining; ARGV[1] this node, ARGV[2] the time to live (ms),
/// ARGV[3] `1` when this one drains. Answers `{up, draining}`, past presences removed.
const PRESENT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[2], ARGV[1])
else
  redis.call('SREM', KEYS[2], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local draining = {}
for _, n in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('ZSCORE', KEYS[1], n) then
    table.insert(draining, n)
  else
    redis.call('SREM', KEYS[2], n)
  end
end
return {redis.call('ZRANGE', KEYS[1], 0, -1), draining}
";

/// Reads in a row a node must be missing from before it counts as gone: a presence only
/// runs out after the time to live, but Redis restarting empty drops every presence at
/// once, and a live node writes its own again within a third of that (one or two reads).
const GONE_AFTER_READS: u32 = 3;

/// The nodes up as the reads say, a node missing from one or two reads still counted.
#[derive(Debug, Default)]
struct Seen {
    /// Nodes up, and the reads in a row each has been missing from.
    nodes: std::collections::BTreeMap<u64, u32>,
}

impl Seen {
    /// A read that found `up`: the nodes counted up now.
    fn read(&mut self, up: &[u64]) -> Vec<u64> {
        for missing in self.nodes.iter_mut().filter(|(n, _)| !up.contains(n)).map(|(_, m)| m) {
            *missing += 1;
        }
        self.nodes.retain(|_, missing| *missing < GONE_AFTER_READS);
        for n in up {
            self.nodes.insert(*n, 0);
        }
        self.nodes.keys().copied().collect()
    }
}

/// Reports sent up the stream in one call, at most.
const REPORT_BATCH: usize = 256;

/// The relays up, and those of them draining, as last read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relays {
    /// Up.
    pub up: Vec<u64>,
    /// Draining.
    pub draining: Vec<u64>,
}

/// Keep `remote`'s node and its relay present (draining once `draining` says so) every
/// third of `ttl` until the task is aborted; what is up goes to `seen`, how many to
/// `nodes`. When its presence has not been written for `ttl`, the writer counts this
/// node's connections dropped: they are closed here, for their clients to resume.
pub async fn present(
    mut conn: ConnectionManager,
    keys: Keys,
    remote: Remote,
    ttl: Duration,
    draining: watch::Receiver<bool>,
    seen: watch::Sender<Relays>,
    nodes: IntGauge,
) {
    let script = redis::Script::new(PRESENT);
    let every = ttl / 3;
    let node = remote.node();
    let mut written = tokio::time::Instant::now();
    let mut lapsed = false;
    let mut known = Seen::default();
    loop {
        let drains = *draining.borrow();
        let mut call = script.prepare_invoke();
        call.key(keys.relays()).key(keys.relays_draining()).arg(node).arg(ttl.as_millis() as u64).arg(u8::from(drains));
        match tokio::time::timeout(every, call.invoke_async::<(Vec<u64>, Vec<u64>)>(&mut conn)).await {
            Ok(Ok((up, draining))) => {
                written = tokio::time::Instant::now();
                lapsed = false;
                let up = known.read(&up);
                nodes.set(i64::try_from(up.len()).unwrap_or(i64::MAX));
                let now = Relays { up, draining };
                seen.send_if_modified(|was| {
                    let changed = *was != now;
                    *was = now;
                    changed
                });
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "the relay's presence could not be written"),
            Err(_) => tracing::warn!("redis did not answer the relay's presence in time"),
        }
        if !lapsed && written.elapsed() >= ttl {
            lapsed = true;
            tracing::warn!("this node's presence ran out; its connections resume");
            remote.reset();
        }
        tokio::time::sleep(every).await;
    }
}

/// This node's relay is going (the node stops): the writer moves its calls at once.
pub async fn withdraw(mut conn: ConnectionManager, keys: &Keys, node: u64) {
    let removed: redis::RedisResult<i64> = conn.zrem(keys.relays(), node).await;
    if let Err(e) = removed {
        tracing::warn!(error = %e, "the relay's presence could not be withdrawn; it runs out by itself");
    }
}

/// This node's relay's reports up the command stream to the writer, in order, several
/// to a call, until the relay stops.
pub async fn report(mut reports: mpsc::Receiver<Report>, remote: Remote) {
    while let Some(first) = reports.recv().await {
        let mut batch = vec![first];
        while batch.len() < REPORT_BATCH {
            match reports.try_recv() {
                Ok(report) => batch.push(report),
                Err(_) => break,
            }
        }
        let n = batch.len();
        if remote.relay_reports(batch).await.is_err() {
            tracing::warn!(reports = n, "the relay's reports could not reach the writer");
        }
    }
}

/// Forward what is up to the writer's core once first read and on every change, until
/// `seen` closes.
pub async fn tell_writer(mut seen: watch::Receiver<Relays>, local: super::Local) {
    loop {
        let now = seen.borrow_and_update().clone();
        // Nothing read yet (this node's own relay is always among those read).
        if !now.up.is_empty() {
            local.nodes(now.up, now.draining).await;
        }
        if seen.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_gone_after_three_reads_without_it_not_one() {
        let mut seen = Seen::default();
        assert_eq!(seen.read(&[1, 2, 3]), [1, 2, 3]);
        // Redis restarted empty: only this node has written its presence again.
        assert_eq!(seen.read(&[1]), [1, 2, 3], "one read without them");
        assert_eq!(seen.read(&[1, 2, 3]), [1, 2, 3], "back");
        assert_eq!(seen.read(&[1, 2]), [1, 2, 3]);
        assert_eq!(seen.read(&[1, 2]), [1, 2, 3]);
        assert_eq!(seen.read(&[1, 2]), [1, 2], "3 is gone after three reads without it");
        assert_eq!(seen.read(&[1, 2, 4]), [1, 2, 4], "a new node counts at once");
    }
}
