//! The edge's router (ADR 0020 point 4): every call goes to the writer on the command
//! stream, its answer and the events of this node's connections come back on this node's
//! channel. Connection numbers become cluster-wide (this node's number, from a counter in
//! Redis, in their high bits). When the channel's subscription breaks, or another node
//! becomes the writer, this node's connections are closed with "shutting down": their
//! clients reconnect and resume, and a resume gets again every event they lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use kakehashi_protocol as p;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot, watch};

use super::keys::Keys;
use super::wire::{Down, InviteWire, Op, Up, global_conn};
use super::{BookingEdit, DirectoryEdit, Router, Unavailable};
use crate::calls::{Client, InviteInfo, MemberKey};
use crate::hub::{Attached, MemberIn, Out, Outbox};

/// How long a call waits for the writer's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// Calls kept on the stream (approximately) for a writer to read.
const STREAM_LENGTH: usize = 100_000;

type Answer = Result<serde_json::Value, p::ProtocolError>;

/// Where events for one of this node's connections go.
#[derive(Debug)]
enum Edgebox {
    Desk(mpsc::Sender<Out<p::DeskEvent>>),
    Interpreter(mpsc::Sender<Out<p::InterpreterEvent>>),
    Resident(mpsc::Sender<Out<p::ResidentEvent>>),
    Gateway(mpsc::Sender<Out<p::GatewayEvent>>),
}

impl Edgebox {
    /// Close the connection (when its queue has room: a full one is closing anyway).
    fn close(&self, reason: p::CloseReason) {
        let _ = match self {
            Edgebox::Desk(tx) => tx.try_send(Out::Close(reason)).is_ok(),
            Edgebox::Interpreter(tx) => tx.try_send(Out::Close(reason)).is_ok(),
            Edgebox::Resident(tx) => tx.try_send(Out::Close(reason)).is_ok(),
            Edgebox::Gateway(tx) => tx.try_send(Out::Close(reason)).is_ok(),
        };
    }
}

#[derive(Debug, Default)]
struct Waiting {
    answers: HashMap<u64, oneshot::Sender<Answer>>,
    boxes: HashMap<u64, Edgebox>,
}

/// The way to a writer on another node.
#[derive(Clone, Debug)]
pub struct Remote {
    node: u64,
    keys: Keys,
    conn: ConnectionManager,
    next: Arc<AtomicU64>,
    waiting: Arc<Mutex<Waiting>>,
    subscribed: watch::Receiver<bool>,
    writer: Arc<AtomicU64>,
}

impl Remote {
    /// Number this node, subscribe to its channel, and start listening on it; the
    /// writer's orders for its relay (on a stream of their own) go to `relay`.
    pub async fn start(
        client: redis::Client,
        keys: Keys,
        relay: mpsc::Sender<crate::media::Order>,
    ) -> redis::RedisResult<Remote> {
        let mut conn = ConnectionManager::new(client.clone()).await?;
        let node: u64 = conn.incr(keys.node_numbers(), 1).await?;
        let (says, subscribed) = watch::channel(false);
        let remote = Remote {
            node,
            keys,
            conn,
            next: Arc::new(AtomicU64::new(1)),
            waiting: Arc::default(),
            subscribed,
            writer: Arc::new(AtomicU64::new(0)),
        };
        tokio::spawn(super::orders::obey(client.clone(), remote.keys.clone(), node, relay));
        tokio::spawn(remote.clone().listen(client, says));
        Ok(remote)
    }

    /// Listen on this node's channel, subscribing again when the subscription breaks.
    async fn listen(self, client: redis::Client, says: watch::Sender<bool>) {
        let channel = self.keys.node(self.node);
        loop {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                    Ok(()) => {
                        says.send_replace(true);
                        tracing::info!(channel, "edge listening for the writer");
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            match serde_json::from_slice::<Down>(message.get_payload_bytes()) {
                                Ok(down) => self.deliver(down),
                                Err(e) => tracing::warn!(error = %e, "a message from the writer could not be read"),
                            }
                        }
                        says.send_replace(false);
                        tracing::warn!("the edge's subscription broke; its connections resume");
                        self.reset();
                    }
                    Err(e) => tracing::warn!(error = %e, "the edge could not subscribe"),
                },
                Err(e) => tracing::warn!(error = %e, "the edge could not reach redis"),
            }
            if says.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn deliver(&self, down: Down) {
        let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match down {
            Down::Reply { id, answer } => {
                if let Some(tx) = waiting.answers.remove(&id) {
                    let _ = tx.send(answer);
                }
            }
            Down::Out { conn, out } => {
                let kept = match waiting.boxes.get(&conn) {
                    Some(Edgebox::Desk(tx)) => pass(tx, out.into_out()),
                    Some(Edgebox::Interpreter(tx)) => pass(tx, out.into_out()),
                    Some(Edgebox::Resident(tx)) => pass(tx, out.into_out()),
                    Some(Edgebox::Gateway(tx)) => pass(tx, out.into_out()),
                    None => true,
                };
                if !kept {
                    waiting.boxes.remove(&conn);
                }
            }
        }
    }

    /// This node's relay reports, to the writer.
    pub async fn relay_reports(&self, reports: Vec<crate::media::Report>) -> Result<(), Unavailable> {
        self.send(Op::Media { reports }).await.map(|_| ())
    }

    /// Close every connection of this node (they reconnect and resume) and fail every
    /// call waiting for an answer.
    pub(super) fn reset(&self) {
        let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        waiting.answers.clear();
        for (_, edgebox) in waiting.boxes.drain() {
            edgebox.close(p::CloseReason::ShuttingDown);
        }
    }

    /// The writer holds the lease with `token`: when that is a new writer, this node's
    /// connections start again with it.
    pub fn writer_is(&self, token: u64) {
        let before = self.writer.swap(token, Ordering::SeqCst);
        if before != 0 && before != token {
            tracing::info!(token, "a new writer; this node's connections resume with it");
            self.reset();
        }
    }

    /// This node's number.
    pub fn node(&self) -> u64 {
        self.node
    }

    async fn send(&self, op: Op) -> Result<Option<oneshot::Receiver<Answer>>, Unavailable> {
        if !*self.subscribed.borrow() {
            return Err(Unavailable);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let wait = op.answers().then(|| {
            let (tx, rx) = oneshot::channel();
            self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).answers.insert(id, tx);
            rx
        });
        let text = serde_json::to_vec(&Up { id, node: self.node, op }).map_err(|_| Unavailable)?;
        let mut conn = self.conn.clone();
        let added: redis::RedisResult<String> = redis::cmd("XADD")
            .arg(self.keys.commands())
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_LENGTH)
            .arg("*")
            .arg("up")
            .arg(text)
            .query_async(&mut conn)
            .await;
        if let Err(e) = added {
            tracing::warn!(error = %e, "a call to the writer could not be sent");
            self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).answers.remove(&id);
            return Err(Unavailable);
        }
        Ok(wait)
    }

    /// Send `op` and wait for its answer.
    async fn ask<T: DeserializeOwned>(&self, op: Op) -> Result<T, p::ProtocolError> {
        let Some(rx) = self.send(op).await? else { return Err(Unavailable.into()) };
        match tokio::time::timeout(ANSWER_WITHIN, rx).await {
            Ok(Ok(answer)) => serde_json::from_value(answer?)
                .map_err(|e| p::ProtocolError { code: p::ErrorCode::Internal, message: e.to_string() }),
            _ => Err(Unavailable.into()),
        }
    }

    /// Send `op`, which has no answer.
    async fn tell(&self, op: Op) {
        let _ = self.send(op).await;
    }

    fn keep(&self, conn: u64, edgebox: Edgebox) -> u64 {
        let conn = global_conn(self.node, conn);
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).boxes.insert(conn, edgebox);
        conn
    }

    fn forget(&self, conn: u64) {
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).boxes.remove(&conn);
    }
}

/// Pass an event on; `false` when the connection is to be let go (gone, too slow, or the
/// event unreadable).
fn pass<E>(tx: &mpsc::Sender<Out<E>>, out: Result<Out<E>, String>) -> bool {
    match out {
        Ok(out) => {
            let closing = matches!(out, Out::Close(_));
            tx.try_send(out).is_ok() && !closing
        }
        Err(e) => {
            tracing::warn!(error = e, "an event from the writer could not be read; letting its connection go");
            false
        }
    }
}

fn unavailable<T>(r: Result<T, p::ProtocolError>) -> Result<T, Unavailable> {
    r.map_err(|_| Unavailable)
}

#[async_trait::async_trait]
impl Router for Remote {
    async fn attach(
        &self,
        client: Client,
        conn: u64,
        outbox: Outbox,
        resume: Option<String>,
        last_seq: Option<u64>,
    ) -> Result<Attached, Unavailable> {
        let edgebox = match outbox {
            Outbox::Desk(tx) => Edgebox::Desk(tx),
            Outbox::Interpreter(tx) => Edgebox::Interpreter(tx),
        };
        let conn = self.keep(conn, edgebox);
        let attached = unavailable(self.ask(Op::Attach { client, conn, resume, last_seq }).await);
        if attached.is_err() {
            self.forget(conn);
        }
        attached
    }

    async fn detach(&self, client: Client, conn: u64, written: u64, ended: bool) {
        let conn = global_conn(self.node, conn);
        self.forget(conn);
        self.tell(Op::Detach { client, conn, written, ended }).await;
    }

    async fn desk(&self, desk: i64, tenant: i64, cmd: p::DeskCommand) -> Result<(), p::ProtocolError> {
        self.ask(Op::Desk { desk, tenant, cmd }).await
    }

    async fn interpreter(&self, id: i64, cmd: p::InterpreterCommand) -> Result<(), p::ProtocolError> {
        self.ask(Op::Interpreter { id, cmd }).await
    }

    async fn join(
        &self,
        token: String,
        resume: Option<String>,
        conn: u64,
        outbox: mpsc::Sender<Out<p::ResidentEvent>>,
    ) -> Result<MemberIn, p::ProtocolError> {
        let conn = self.keep(conn, Edgebox::Resident(outbox));
        let joined = self.ask(Op::Join { token, resume, conn }).await;
        if joined.is_err() {
            self.forget(conn);
        }
        joined
    }

    async fn member(&self, member: MemberKey, cmd: p::ResidentCommand) -> Result<(), p::ProtocolError> {
        self.ask(Op::Member { member, cmd }).await
    }

    async fn member_left(&self, member: MemberKey, conn: u64) {
        let conn = global_conn(self.node, conn);
        self.forget(conn);
        self.tell(Op::MemberLeft { member, conn }).await;
    }

    async fn peek_invite(&self, token: String) -> Result<Option<InviteInfo>, Unavailable> {
        let info: Option<InviteWire> = unavailable(self.ask(Op::PeekInvite { token }).await)?;
        Ok(info.map(InviteInfo::from))
    }

    async fn redeem_pin(&self, pin: String) -> Result<Option<(String, String)>, Unavailable> {
        unavailable(self.ask(Op::RedeemPin { pin }).await)
    }

    async fn gateway(&self, conn: u64, outbox: Option<mpsc::Sender<Out<p::GatewayEvent>>>) {
        let attached = outbox.is_some();
        let conn = match outbox {
            Some(tx) => self.keep(conn, Edgebox::Gateway(tx)),
            None => {
                let conn = global_conn(self.node, conn);
                self.forget(conn);
                conn
            }
        };
        self.tell(Op::Gateway { conn, attached }).await;
    }

    async fn line_call(&self, conn: u64, line: u64, desk: i64, language: String) {
        self.tell(Op::LineCall { conn: global_conn(self.node, conn), line, desk, language }).await;
    }

    async fn offer_answer(&self, offer: u64, accept: bool) -> Result<bool, Unavailable> {
        unavailable(self.ask(Op::OfferAnswer { offer, accept }).await)
    }

    async fn line_hangup(&self, conn: u64, line: u64) {
        self.tell(Op::LineHangup { conn: global_conn(self.node, conn), line }).await;
    }

    async fn dial_failed(&self, dial: u64, reason: p::DialFailure) {
        self.tell(Op::DialFailed { dial, reason }).await;
    }

    async fn snapshot(&self, tenant: Option<i64>) -> Result<p::SupervisorEvent, Unavailable> {
        unavailable(self.ask(Op::Snapshot { tenant }).await)
    }

    async fn directory(&self, edit: DirectoryEdit) -> Result<(), p::ProtocolError> {
        self.ask(Op::Directory { edit }).await
    }

    async fn booking(&self, edit: BookingEdit) -> Result<Option<i64>, p::ProtocolError> {
        self.ask(Op::Booking { change: edit }).await
    }

    async fn online_call(&self, desk: i64, language: String, token_hash: String) -> Result<(), p::ProtocolError> {
        self.ask(Op::OnlineCall { desk, language, token_hash }).await
    }

    async fn online_withdraw(&self, token_hash: String) -> Result<(), p::ProtocolError> {
        self.ask(Op::OnlineWithdraw { token_hash }).await
    }

    async fn notice(&self, to: Vec<i64>, notice: p::InterpreterEvent) {
        self.tell(Op::Notice { to, notice }).await;
    }

    async fn centre(
        &self,
        tenant: i64,
        desk: i64,
        language: Option<kakehashi_dispatch::LanguageId>,
    ) -> Result<crate::calls::CentreView, Unavailable> {
        let language = language.map(|l| l.tag().to_string());
        unavailable(self.ask(Op::Centre { tenant, desk, language }).await)
    }

    async fn assign(&self, scope: Option<i64>, request: u64, interpreter: i64) -> Result<(), p::ProtocolError> {
        self.ask(Op::Assign { scope, request, interpreter }).await
    }

    async fn kick(&self, client: Client) {
        self.tell(Op::Kick { client }).await;
    }

    /// An edge stopping does not stop the writer: its connections close and resume on
    /// another node.
    async fn drain(&self) {}

    /// An edge holds no calls of its own.
    async fn live_calls(&self) -> Result<usize, Unavailable> {
        Ok(0)
    }

    fn writes_here(&self) -> bool {
        false
    }

    fn health(&self) -> Result<(), String> {
        if !*self.subscribed.borrow() {
            Err("not subscribed to this node's channel in redis".into())
        } else if self.writer.load(Ordering::SeqCst) == 0 {
            Err("no writer known yet".into())
        } else {
            Ok(())
        }
    }
}
