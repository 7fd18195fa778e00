//! One connection's loop after its hello, written against any `Sink` and `Stream` of
//! WebSocket messages so that tests drive it without a network: the client's frames are
//! sorted ([`super::frame`]) and carried to the router; the writer's events are written
//! in order; heartbeats go out and a silent client is let go; and the connection ends,
//! always with a close frame saying why, when the client goes, the server lets go of
//! it, its session is signed out or expires, or the server shuts down.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use kakehashi_protocol as p;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

use super::frame::{Command, Frame, Limits, ReadError, RoleEvent, frame};
use crate::hub::Out;
use crate::metrics::Metrics;

/// The two halves of a connection, with the counting of frames.
#[derive(Debug)]
pub struct Socket<S, R> {
    sink: S,
    stream: R,
    metrics: Metrics,
}

impl<S, R, E> Socket<S, R>
where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    /// Over these halves.
    pub fn new(sink: S, stream: R, metrics: Metrics) -> Socket<S, R> {
        Socket { sink, stream, metrics }
    }

    /// The next frame from the client.
    pub async fn recv(&mut self) -> Option<Result<Message, E>> {
        let msg = self.stream.next().await;
        if let Some(Ok(Message::Text(_))) = &msg {
            self.metrics.ws_messages.with_label_values(&["in"]).inc();
        }
        msg
    }

    /// Write a message as JSON text; `false` when the connection is gone.
    pub async fn send_json<T: Serialize>(&mut self, value: &T) -> bool {
        let Ok(text) = serde_json::to_string(value) else { return false };
        self.metrics.ws_messages.with_label_values(&["out"]).inc();
        self.sink.send(Message::Text(text.into())).await.is_ok()
    }

    /// Write a WebSocket ping.
    pub async fn ping(&mut self) -> bool {
        self.sink.send(Message::Ping(Default::default())).await.is_ok()
    }

    /// Close with a code and reason.
    pub async fn close(&mut self, reason: p::CloseReason) {
        let frame = CloseFrame { code: reason.code(), reason: reason.reason().into() };
        let _ = self.sink.send(Message::Close(Some(frame))).await;
        let _ = self.sink.close().await;
    }

    /// Refuse with an error, then close.
    pub async fn refuse<V: RoleEvent>(&mut self, e: p::ProtocolError, reason: p::CloseReason) {
        let _ = self.send_json(&V::error(e)).await;
        self.close(reason).await;
    }
}

/// How long a connection's credential lives, and how it can be taken away.
#[derive(Debug)]
pub struct Lifetime {
    /// When the session it signed in with expires.
    pub expires_at: Option<Instant>,
    /// The hash of its session token, and the channel that says which are signed out.
    pub revocable: Option<(String, broadcast::Receiver<std::sync::Arc<str>>)>,
}

impl Lifetime {
    /// A credential that lasts (a desk's device token, an invite).
    pub fn lasting() -> Lifetime {
        Lifetime { expires_at: None, revocable: None }
    }

    /// Until the credential is signed out (`SignedOut`) or expires (`Expired`).
    pub async fn ends(&mut self) -> p::CloseReason {
        let expiry = async {
            match self.expires_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let revoked = async {
            match &mut self.revocable {
                Some((mine, rx)) => loop {
                    match rx.recv().await {
                        Ok(hash) if *hash == **mine => return,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                    }
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = expiry => p::CloseReason::Expired,
            () = revoked => p::CloseReason::SignedOut,
        }
    }
}

/// What a connection's loop needs besides its socket.
#[derive(Debug)]
pub struct Settings {
    /// The heartbeat: pings this often, and three silent ones end the connection.
    pub heartbeat: Duration,
    /// Commands a second (bursts of twice that).
    pub rate_limit: u32,
    /// Turns true when the server shuts down.
    pub closing: watch::Receiver<bool>,
}

/// Carries a role's commands to the writer.
pub trait Commands<C>: Send + Sync {
    /// Carry one command; the writer's refusal, if any.
    fn command(&self, cmd: C) -> Pin<Box<dyn Future<Output = Result<(), p::ProtocolError>> + Send + '_>>;
}

/// How a connection's loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ended {
    /// The number of the last event it wrote (0 if none was numbered).
    pub written: u64,
    /// Why it ended.
    pub reason: p::CloseReason,
    /// Whether the client went (closed, or the network failed) rather than the server.
    pub by_client: bool,
}

/// Refused frames a connection may send before it is cut off.
const MAX_REFUSALS: u32 = 100;

/// The loop of a desk's, interpreter's or link participant's connection.
pub async fn run<C, V, S, R, E>(
    socket: &mut Socket<S, R>,
    settings: &mut Settings,
    lifetime: &mut Lifetime,
    mut events: mpsc::Receiver<Out<V>>,
    commands: &dyn Commands<C>,
) -> Ended
where
    C: Command,
    V: RoleEvent,
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    let heartbeat = settings.heartbeat;
    let mut ping = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
    let mut last_seen = Instant::now();
    let mut limits = Limits::new(settings.rate_limit);
    let mut refusals = 0u32;
    let mut written = 0;
    let ended = |written, reason, by_client| Ended { written, reason, by_client };
    loop {
        tokio::select! {
            msg = socket.recv() => {
                last_seen = Instant::now();
                match frame::<C, E>(msg, &mut limits) {
                    Frame::Closed { too_large } => {
                        if too_large {
                            socket.close(p::CloseReason::TooLarge).await;
                        }
                        let reason = if too_large { p::CloseReason::TooLarge } else { p::CloseReason::Done };
                        return ended(written, reason, !too_large);
                    }
                    Frame::Alive => {}
                    Frame::Refused(e) => {
                        refusals += 1;
                        if refusals > MAX_REFUSALS {
                            socket.refuse::<V>(e, p::CloseReason::Garbage).await;
                            return ended(written, p::CloseReason::Garbage, false);
                        }
                        if !socket.send_json(&V::error(e)).await {
                            return ended(written, p::CloseReason::Done, true);
                        }
                    }
                    Frame::Command(c) => {
                        if let Err(e) = commands.command(c).await {
                            let stopping = e.code == p::ErrorCode::ShuttingDown && *settings.closing.borrow();
                            if !socket.send_json(&V::error(e)).await {
                                return ended(written, p::CloseReason::Done, true);
                            }
                            if stopping {
                                socket.close(p::CloseReason::ShuttingDown).await;
                                return ended(written, p::CloseReason::ShuttingDown, false);
                            }
                        }
                    }
                }
            }
            out = events.recv() => match out {
                Some(Out::Event(e)) => {
                    if !socket.send_json(&e).await {
                        return ended(written, p::CloseReason::Done, true);
                    }
                    written = e.seq.unwrap_or(written);
                }
                Some(Out::Close(reason)) => {
                    socket.close(reason).await;
                    return ended(written, reason, false);
                }
                None => {
                    // Let go without a word: it was not keeping up.
                    socket.close(p::CloseReason::TooSlow).await;
                    return ended(written, p::CloseReason::TooSlow, false);
                }
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > heartbeat * 3 {
                    socket.close(p::CloseReason::Idle).await;
                    return ended(written, p::CloseReason::Idle, false);
                }
                if !socket.ping().await {
                    return ended(written, p::CloseReason::Done, true);
                }
            }
            reason = lifetime.ends() => {
                socket.refuse::<V>(
                    p::ProtocolError { code: p::ErrorCode::Unauthorized, message: reason.reason().into() },
                    reason,
                ).await;
                return ended(written, reason, false);
            }
            () = closing(&mut settings.closing) => {
                let e = p::ProtocolError { code: p::ErrorCode::ShuttingDown, message: "the server is restarting; reconnect shortly".into() };
                socket.refuse::<V>(e, p::CloseReason::ShuttingDown).await;
                return ended(written, p::CloseReason::ShuttingDown, false);
            }
        }
    }
}

/// Until the shutdown signal turns true.
pub async fn closing(rx: &mut watch::Receiver<bool>) {
    let signalled = rx.wait_for(|c| *c).await.is_ok();
    if !signalled {
        // The sender is gone without a signal: never.
        std::future::pending::<()>().await;
    }
}
