//! The writer's side of the command stream (ADR 0020 point 4): read the edges' calls from
//! `<prefix>:commands` with a consumer group, apply each through the in-process router
//! in the stream's order ([`InOrder`]), publish its answer on the asking node's channel, and forward the events of every
//! connection an edge attached there, what waited while the last ones were published
//! going together (in order, one round trip). A forwarder that cannot publish lets its
//! connection go (the hub sees the outbox closed, as for a client too slow to read); a
//! connection the hub lets go without a close (too slow) is closed on its node as too
//! slow, as a node's own connection loop does: the client resumes and gets again what it
//! lost. A new writer starts at the stream's end: what a previous writer left unanswered
//! was the previous writer's, and its askers have timed out. Every node's relay reports
//! up the same stream (ADR 0022): its reports go to the hub's channel of reports in the
//! order they came.

use std::time::Duration;

use kakehashi_protocol as p;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::Serialize;
use tokio::sync::mpsc;

use super::keys::Keys;
use super::wire::{Down, InviteWire, Op, Up, WireOut, node_of};
use super::{Local, Router};
use crate::calls::Client;
use crate::hub::{CLIENT_QUEUE, Out, Outbox};
use crate::media::Report;

/// The consumer group of writers.
const GROUP: &str = "writer";

/// How long one read of the stream waits for calls (under the connection's answer timeout).
const BLOCK_MS: u64 = 200;

/// Where the writer's bridge puts what it reads.
pub(super) struct Feeds {
    /// The in-process router.
    pub local: Local,
    /// The hub's channel of relay reports (every node's relay's, ADR 0022).
    pub reports: mpsc::Sender<Report>,
    /// The command lag histogram.
    pub lag: prometheus::Histogram,
}

/// Read and apply the edges' calls until the task is aborted.
pub(super) async fn run(client: redis::Client, keys: Keys, consumer: String, feeds: Feeds) {
    loop {
        match serve(&client, &keys, &consumer, &feeds).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "the command stream failed; reading again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn serve(client: &redis::Client, keys: &Keys, consumer: &str, feeds: &Feeds) -> redis::RedisResult<()> {
    let Feeds { local, reports, lag } = feeds;
    let mut read = ConnectionManager::new(client.clone()).await?;
    let publish = ConnectionManager::new(client.clone()).await?;
    let stream = keys.commands();
    let created: redis::RedisResult<()> = read.xgroup_create_mkstream(&stream, GROUP, "$").await;
    if let Err(e) = created
        && e.code() != Some("BUSYGROUP")
    {
        return Err(e);
    }
    // Start at the end: see the module's documentation.
    let _: () = redis::cmd("XGROUP").arg("SETID").arg(&stream).arg(GROUP).arg("$").query_async(&mut read).await?;
    tracing::info!(stream, "the writer takes the edges' calls");
    let calls = InOrder::new(local);
    loop {
        let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(256)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS")
            .arg(&stream)
            .arg(">")
            .query_async(&mut read)
            .await?;
        let Some(reply) = reply else { continue };
        for key in reply.keys {
            let ids: Vec<&str> = key.ids.iter().map(|e| e.id.as_str()).collect();
            if !ids.is_empty() {
                let _: i64 = read.xack(&stream, GROUP, &ids).await?;
            }
            let now_ms = crate::store::now_ms();
            for entry in &key.ids {
                // The command's wait: its id is the time Redis took it, in ms.
                if let Some(Ok(added)) = entry.id.split('-').next().map(str::parse::<i64>) {
                    lag.observe((now_ms - added).max(0) as f64 / 1000.0);
                }
                let Some(text) = entry.get::<Vec<u8>>("up") else { continue };
                match serde_json::from_slice::<Up>(&text) {
                    // A relay's reports are taken here, in the stream's order.
                    Ok(Up { op: Op::Media { reports: batch }, .. }) => relayed(reports, batch).await,
                    Ok(up) => calls.start(|local| apply(up, local, publish.clone(), keys.clone())).await,
                    Err(e) => {
                        tracing::warn!(error = %e, id = entry.id, "a call on the command stream could not be read")
                    }
                }
            }
        }
    }
}

/// The calls read from the stream, on their way to the hub in the stream's order, as
/// they left each edge (a desk's request and its withdrawal, a resident's mute and
/// unmute, must not swap); only their answers are awaited apart, each in a task of its
/// own. Spawned unpolled, the scheduler would choose their order (tokio runs the task
/// spawned last first), and so would the hub channel's line for room when several wait
/// in it. So each call is polled once by the reader, as it is read: its first step is
/// its send into a channel only the reader sends to, checked for room first, which a
/// task passes on to the hub one by one.
struct InOrder {
    tx: mpsc::Sender<crate::hub::Cmd>,
    /// The router the calls use: the channel above.
    local: Local,
}

/// Calls on their way to the hub at most.
const IN_ORDER_ROOM: usize = 1024;

impl InOrder {
    fn new(hub: &Local) -> InOrder {
        let (tx, mut rx) = mpsc::channel(IN_ORDER_ROOM);
        let hub = hub.clone();
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                if !hub.pass(cmd).await {
                    return;
                }
            }
        });
        InOrder { local: Local::new(tx.clone()), tx }
    }

    /// Start `call` (given the router to use): it has sent its command when this returns.
    async fn start<F>(&self, call: impl FnOnce(Local) -> F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        // Room for its send, and nobody else to take it: only this reader sends here.
        match self.tx.reserve().await {
            Ok(room) => drop(room),
            Err(_) => return,
        }
        // Unconstrained: a task's budget spent would make the send yield with room.
        let mut call = Box::pin(tokio::task::unconstrained(call(self.local.clone())));
        let mut here = std::task::Context::from_waker(std::task::Waker::noop());
        // The task polls it again at once, with its own waker.
        if call.as_mut().poll(&mut here).is_pending() {
            tokio::spawn(call);
        }
    }
}

/// A relay's reports into the hub's channel with the relay task's policy: statistics
/// are dropped when it is full (cumulative: the next carries what the dropped said),
/// every other report waits for room.
async fn relayed(reports: &mpsc::Sender<Report>, batch: Vec<Report>) {
    for report in batch {
        let _ = match report {
            Report::Stats { .. } => reports.try_send(report).is_ok(),
            _ => reports.send(report).await.is_ok(),
        };
    }
}

/// Apply one call and publish its answer (when it has one).
async fn apply(up: Up, local: Local, mut publish: ConnectionManager, keys: Keys) {
    let channel = keys.node(up.node);
    let answers = up.op.answers();
    let answer = answer_of(up.op, &local, &publish, &keys).await;
    if answers {
        let down = Down::Reply { id: up.id, answer };
        if let Ok(text) = serde_json::to_vec(&down) {
            let sent: redis::RedisResult<i64> = publish.publish(&channel, text).await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "an answer to an edge could not be published");
            }
        }
    }
}

fn json<T: Serialize>(value: T) -> Result<serde_json::Value, p::ProtocolError> {
    serde_json::to_value(value).map_err(|e| p::ProtocolError { code: p::ErrorCode::Internal, message: e.to_string() })
}

/// A call without an answer, done.
async fn told(call: impl std::future::Future<Output = ()>) -> Result<serde_json::Value, p::ProtocolError> {
    call.await;
    Ok(serde_json::Value::Null)
}

fn stopping() -> p::ProtocolError {
    super::Unavailable.into()
}

/// What the router answers `op`; events of a connection it attaches are forwarded.
async fn answer_of(
    op: Op,
    local: &Local,
    publish: &ConnectionManager,
    keys: &Keys,
) -> Result<serde_json::Value, p::ProtocolError> {
    match op {
        Op::Attach { client, conn, resume, last_seq } => {
            let outbox = match client {
                Client::Desk(_) => Outbox::Desk(forwarder(conn, publish, keys)),
                Client::Interpreter(_) => Outbox::Interpreter(forwarder(conn, publish, keys)),
            };
            json(local.attach(client, conn, outbox, resume, last_seq).await.map_err(|_| stopping())?)
        }
        Op::Detach { client, conn, written, ended } => told(local.detach(client, conn, written, ended)).await,
        Op::Desk { desk, tenant, cmd } => local.desk(desk, tenant, cmd).await.map(|()| serde_json::Value::Null),
        Op::Interpreter { id, cmd } => local.interpreter(id, cmd).await.map(|()| serde_json::Value::Null),
        Op::Join { token, resume, conn } => {
            json(local.join(token, resume, conn, forwarder(conn, publish, keys)).await?)
        }
        Op::Member { member, cmd } => local.member(member, cmd).await.map(|()| serde_json::Value::Null),
        Op::MemberLeft { member, conn } => told(local.member_left(member, conn)).await,
        Op::PeekInvite { token } => json(local.peek_invite(token).await.map_err(|_| stopping())?.map(InviteWire::from)),
        Op::RedeemPin { pin } => json(local.redeem_pin(pin).await.map_err(|_| stopping())?),
        Op::Gateway { conn, attached } => {
            let outbox = attached.then(|| forwarder(conn, publish, keys));
            told(local.gateway(conn, outbox)).await
        }
        Op::LineCall { conn, line, desk, language } => told(local.line_call(conn, line, desk, language)).await,
        Op::OfferAnswer { offer, accept } => json(local.offer_answer(offer, accept).await.map_err(|_| stopping())?),
        Op::LineHangup { conn, line } => told(local.line_hangup(conn, line)).await,
        Op::DialFailed { dial, reason } => told(local.dial_failed(dial, reason)).await,
        Op::Snapshot { tenant } => json(local.snapshot(tenant).await.map_err(|_| stopping())?),
        Op::Directory { edit } => local.directory(edit).await.map(|()| serde_json::Value::Null),
        Op::Booking { change } => json(local.booking(change).await?),
        Op::OnlineCall { desk, language, token_hash } => {
            local.online_call(desk, language, token_hash).await.map(|()| serde_json::Value::Null)
        }
        Op::OnlineWithdraw { token_hash } => local.online_withdraw(token_hash).await.map(|()| serde_json::Value::Null),
        Op::Notice { to, notice } => told(local.notice(to, notice)).await,
        Op::Centre { tenant, desk, language } => {
            let language = match language {
                Some(tag) => Some(kakehashi_dispatch::LanguageId::parse(&tag).map_err(|e| p::ProtocolError {
                    code: p::ErrorCode::InvalidField,
                    message: format!("language: {e}"),
                })?),
                None => None,
            };
            json(local.centre(tenant, desk, language).await.map_err(|_| stopping())?)
        }
        Op::Assign { scope, request, interpreter } => {
            local.assign(scope, request, interpreter).await.map(|()| serde_json::Value::Null)
        }
        Op::Kick { client } => told(local.kick(client)).await,
        // Taken by the reading loop, in order.
        Op::Media { .. } => Ok(serde_json::Value::Null),
    }
}

/// An outbox whose events go to the node of connection `conn`, in order.
fn forwarder<E: Serialize + Send + 'static>(
    conn: u64,
    publish: &ConnectionManager,
    keys: &Keys,
) -> mpsc::Sender<Out<E>> {
    let (tx, rx) = mpsc::channel::<Out<E>>(CLIENT_QUEUE);
    let publish = publish.clone();
    let channel = keys.node(node_of(conn));
    tokio::spawn(forward(rx, conn, move |texts: Vec<Vec<u8>>| {
        let (mut publish, channel) = (publish.clone(), channel.clone());
        async move {
            let mut pipe = redis::pipe();
            for text in texts {
                pipe.publish(&channel, text).ignore();
            }
            let sent: redis::RedisResult<()> = pipe.query_async(&mut publish).await;
            if let Err(e) = &sent {
                tracing::warn!(error = %e, conn, "an event for an edge's connection could not be published; letting it go");
            }
            sent.is_ok()
        }
    }));
    tx
}

/// Events published at once at most: what waited while the last ones were published.
const FORWARD_AT_ONCE: usize = 64;

/// Pass connection `conn`'s outbox to its node through `publish` (`false`: it could not),
/// what waited going together (in order, one round trip). When the hub lets the
/// connection go without a close (it could not keep up, or an event could not be
/// written), the node is told to close it as too slow, as a node's own connection loop
/// does: else the client would stay connected to an edge that no longer gets its events.
async fn forward<E, P, F>(mut rx: mpsc::Receiver<Out<E>>, conn: u64, mut publish: P)
where
    E: Serialize,
    P: FnMut(Vec<Vec<u8>>) -> F,
    F: std::future::Future<Output = bool>,
{
    let text = |out: WireOut| serde_json::to_vec(&Down::Out { conn, out }).ok();
    let mut outs = Vec::with_capacity(FORWARD_AT_ONCE);
    loop {
        if rx.recv_many(&mut outs, FORWARD_AT_ONCE).await == 0 {
            break;
        }
        let closing = outs.iter().any(|o| matches!(o, Out::Close(_)));
        let texts: Option<Vec<Vec<u8>>> = outs.drain(..).map(|o| WireOut::of(&o).ok().and_then(text)).collect();
        let Some(texts) = texts else { break };
        if !publish(texts).await || closing {
            return;
        }
    }
    if let Some(close) = text(WireOut::Close { code: p::CloseReason::TooSlow.code() }) {
        publish(vec![close]).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a forwarder published, shared with the test.
    type Seen = Arc<Mutex<Vec<Vec<u8>>>>;

    fn published() -> (Seen, impl FnMut(Vec<Vec<u8>>) -> std::future::Ready<bool>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&seen);
        (seen, move |texts: Vec<Vec<u8>>| {
            into.lock().unwrap().extend(texts);
            std::future::ready(true)
        })
    }

    fn outs(seen: &Mutex<Vec<Vec<u8>>>) -> Vec<serde_json::Value> {
        seen.lock()
            .unwrap()
            .iter()
            .map(|t| serde_json::from_slice::<serde_json::Value>(t).unwrap()["out"].clone())
            .collect()
    }

    #[tokio::test]
    async fn a_connection_let_go_without_a_close_is_closed_as_too_slow_on_its_node() {
        let (tx, rx) = mpsc::channel::<Out<p::DeskEvent>>(8);
        let (seen, publish) = published();
        for _ in 0..3 {
            tx.send(Out::Event(p::Sequenced::plain(p::DeskEvent::Pong))).await.unwrap();
        }
        // The hub lets it go: its sender dropped, no close sent.
        drop(tx);
        forward(rx, 7, publish).await;
        let outs = outs(&seen);
        assert_eq!(outs.len(), 4, "{outs:?}");
        assert!(outs[..3].iter().all(|o| o["out"] == "event"));
        assert_eq!(outs[3], serde_json::json!({"out": "close", "code": p::CloseReason::TooSlow.code()}));
    }

    #[tokio::test]
    async fn a_close_the_hub_sent_is_the_last_word() {
        let (tx, rx) = mpsc::channel::<Out<p::DeskEvent>>(8);
        let (seen, publish) = published();
        tx.send(Out::Event(p::Sequenced::plain(p::DeskEvent::Pong))).await.unwrap();
        tx.send(Out::Close(p::CloseReason::Replaced)).await.unwrap();
        // It ends on the close, while the hub's sender is still there.
        tokio::time::timeout(Duration::from_secs(5), forward(rx, 7, publish)).await.expect("ends on the close");
        drop(tx);
        let outs = outs(&seen);
        assert_eq!(outs.len(), 2, "{outs:?}");
        assert_eq!(outs[1], serde_json::json!({"out": "close", "code": p::CloseReason::Replaced.code()}));
    }

    /// Calls from the stream reach the hub in the stream's order, whether the hub's
    /// channel has room or they wait for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_reach_the_hub_in_the_streams_order() {
        for room in [1, 1000] {
            let (hub, mut commands) = mpsc::channel(room);
            // From a task of the runtime, as the bridge's reader is.
            tokio::spawn(async move {
                let calls = InOrder::new(&Local::new(hub));
                for n in 0..3000 {
                    calls
                        .start(|local| async move {
                            local.nodes(vec![n], Vec::new()).await;
                            tokio::task::yield_now().await;
                        })
                        .await;
                }
            });
            let mut got = Vec::new();
            while got.len() < 3000 {
                match commands.recv().await.unwrap() {
                    crate::hub::Cmd::Nodes { up, .. } => got.extend(up),
                    _ => unreachable!(),
                }
            }
            assert_eq!(got, (0..3000).collect::<Vec<_>>(), "room for {room}");
        }
    }
}
