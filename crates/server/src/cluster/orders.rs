//! The writer's orders for each node's relay (ADR 0022), on a Redis stream per node
//! (`<prefix>:node:<n>:orders`) rather than on the node's channel: a node whose
//! connection to Redis breaks reads on from the last order it took when it is back, so no
//! order is lost meanwhile (an offer unanswered, a leg never removed, a renegotiation
//! left half done). The writer appends, in order, trying again while Redis is away; each
//! order carries its writer's run and its number, so that one appended twice (a try whose
//! answer was lost) is taken once: a relay given an offer twice would answer the
//! participant with a leg and replace it with another. Each node reads its own stream
//! from the start (a node's number is new at each start, so its stream holds only orders
//! for it), several orders a round trip. A stream is kept to its last [`KEPT`] orders and
//! expires an hour after its last one (a node gone).

use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use super::keys::Keys;
use crate::media::Order;

/// Orders queued for appending.
const QUEUED: usize = 1024;

/// Orders appended in one round trip, at most.
const BATCH: usize = 256;

/// Orders kept on a node's stream (about: trimmed by whole nodes of Redis's stream).
const KEPT: usize = 10_000;

/// A node's stream outlives its last order by this much.
const EXPIRES_MS: u64 = 3_600_000;

/// How long one read waits for an order (below the connection's answer timeout).
const BLOCK_MS: u64 = 200;

/// How long the writer keeps trying to append an order while Redis is away: by then its
/// lease has run out and it is no longer the writer.
const PATIENCE: Duration = Duration::from_secs(30);

/// The writer's orders for the cluster's relays: each appended to its node's stream, in
/// order. The task ends when the sender is dropped.
pub fn orders(mut conn: ConnectionManager, keys: Keys) -> mpsc::Sender<(u64, Order)> {
    let (tx, mut rx) = mpsc::channel::<(u64, Order)>(QUEUED);
    let run = crate::auth::new_token()[..12].to_string();
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH);
        let mut nodes = Vec::new();
        let mut numbered = 0u64;
        while rx.recv_many(&mut batch, BATCH).await > 0 {
            let mut pipe = redis::pipe();
            for (node, order) in batch.drain(..) {
                let Ok(text) = serde_json::to_vec(&order) else { continue };
                numbered += 1;
                pipe.cmd("XADD").arg(keys.relay_orders(node)).arg("MAXLEN").arg("~").arg(KEPT).arg("*");
                pipe.arg("o").arg(text).arg("k").arg(format!("{run}:{numbered}")).ignore();
                if !nodes.contains(&node) {
                    nodes.push(node);
                }
            }
            // Each stream's expiry once per batch, after its last order.
            for node in nodes.drain(..) {
                pipe.cmd("PEXPIRE").arg(keys.relay_orders(node)).arg(EXPIRES_MS).ignore();
            }
            append(&mut conn, &pipe).await;
        }
    });
    tx
}

/// Append `pipe`'s orders, trying again while Redis is away (a pipeline is not a
/// transaction: a retry after a half-applied attempt may append an order twice, which the
/// node's reader takes once, by its run and number).
async fn append(conn: &mut ConnectionManager, pipe: &redis::Pipeline) {
    let until = tokio::time::Instant::now() + PATIENCE;
    loop {
        let sent: redis::RedisResult<()> = pipe.query_async(conn).await;
        match sent {
            Ok(()) => return,
            Err(e) if tokio::time::Instant::now() >= until => {
                tracing::error!(error = %e, "orders for the relays could not be appended; they are lost");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "orders for the relays could not be appended; trying again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Take node `node`'s orders, in order, into its relay, until the relay is gone; after a
/// broken connection, on from the last order taken.
pub async fn obey(client: redis::Client, keys: Keys, node: u64, relay: mpsc::Sender<Order>) {
    let stream = keys.relay_orders(node);
    let mut last = Last { id: "0-0".into(), key: None };
    loop {
        match follow(&client, &stream, &mut last, &relay).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the relay's orders could not be read; reading on");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// The last order taken: its entry, and its writer's run and number.
struct Last {
    id: String,
    key: Option<(String, u64)>,
}

impl Last {
    /// Whether the order of `key` (`run:number`) is new: not one taken already.
    fn take(&mut self, key: &str) -> bool {
        let Some((run, n)) = key.split_once(':').and_then(|(run, n)| Some((run, n.parse::<u64>().ok()?))) else {
            return true;
        };
        if self.key.as_ref().is_some_and(|(r, last)| r == run && n <= *last) {
            return false;
        }
        self.key = Some((run.to_string(), n));
        true
    }
}

/// Read orders after `last` until the relay is gone (`Ok`) or Redis fails.
async fn follow(
    client: &redis::Client,
    stream: &str,
    last: &mut Last,
    relay: &mpsc::Sender<Order>,
) -> redis::RedisResult<()> {
    let mut conn = client.get_multiplexed_async_connection().await?;
    loop {
        let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS")
            .arg(stream)
            .arg(last.id.as_str())
            .query_async(&mut conn)
            .await?;
        if relay.is_closed() {
            return Ok(());
        }
        for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
            last.id.clone_from(&entry.id);
            let key: String = entry.get("k").unwrap_or_default();
            let Some(text) = entry.get::<Vec<u8>>("o") else { continue };
            if !last.take(&key) {
                continue;
            }
            match serde_json::from_slice::<Order>(&text) {
                // Waits for room: the relay takes its orders in turn.
                Ok(order) => {
                    if relay.send(order).await.is_err() {
                        return Ok(());
                    }
                }
                Err(e) => tracing::warn!(error = %e, id = entry.id, "an order for the relay could not be read"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Last;

    #[test]
    fn an_order_appended_twice_is_taken_once() {
        let mut last = Last { id: "0-0".into(), key: None };
        assert!(last.take("a:1"));
        assert!(last.take("a:2"));
        assert!(!last.take("a:2"), "the same order again");
        assert!(!last.take("a:1"));
        assert!(last.take("a:3"));
        // A new writer numbers from 1 again.
        assert!(last.take("b:1"));
        assert!(last.take("garbage"), "an order without a key is taken");
    }
}
