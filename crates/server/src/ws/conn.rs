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
                // What the client was already told goes out first (the end of its call,
                // say): the two branches were ready at once and either may win.
                while let Ok(Out::Event(e)) = events.try_recv() {
                    if !socket.send_json(&e).await {
                        return ended(written, p::CloseReason::Done, true);
                    }
                    written = e.seq.unwrap_or(written);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The client's side of a connection without a network: frames in, frames out.
    struct Wire {
        to_server: mpsc::UnboundedSender<Result<Message, Broken>>,
        from_server: mpsc::UnboundedReceiver<Message>,
    }

    #[derive(Debug)]
    struct Broken;

    impl ReadError for Broken {
        fn too_large(&self) -> bool {
            false
        }
    }

    type TestSocket = Socket<
        std::pin::Pin<Box<dyn Sink<Message, Error = std::convert::Infallible> + Send>>,
        std::pin::Pin<Box<dyn Stream<Item = Result<Message, Broken>> + Send>>,
    >;

    fn wire() -> (TestSocket, Wire) {
        let (to_server, rx) = mpsc::unbounded_channel();
        let (tx, from_server) = mpsc::unbounded_channel();
        let sink = futures_util::sink::unfold(tx, |tx: mpsc::UnboundedSender<Message>, m: Message| async move {
            let _ = tx.send(m);
            Ok::<_, std::convert::Infallible>(tx)
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
        (Socket::new(Box::pin(sink), Box::pin(stream), Metrics::new()), Wire { to_server, from_server })
    }

    impl Wire {
        fn send(&self, text: &str) {
            let _ = self.to_server.send(Ok(Message::Text(text.to_string().into())));
        }

        async fn text(&mut self) -> serde_json::Value {
            match self.from_server.recv().await {
                Some(Message::Text(t)) => serde_json::from_str(&t).unwrap(),
                other => panic!("{other:?}"),
            }
        }

        async fn close_code(&mut self) -> u16 {
            loop {
                match self.from_server.recv().await {
                    Some(Message::Close(Some(f))) => return f.code,
                    Some(_) => continue,
                    None => panic!("no close frame"),
                }
            }
        }
    }

    /// Commands as the writer would take them: pings accepted, everything else refused.
    #[derive(Default)]
    struct Writer(Mutex<Vec<p::DeskCommand>>);

    impl Commands<p::DeskCommand> for Writer {
        fn command(
            &self,
            cmd: p::DeskCommand,
        ) -> Pin<Box<dyn Future<Output = Result<(), p::ProtocolError>> + Send + '_>> {
            let refused = !matches!(cmd, p::DeskCommand::Ping {});
            self.0.lock().unwrap().push(cmd);
            Box::pin(async move {
                if refused {
                    Err(p::ProtocolError { code: p::ErrorCode::NotFound, message: "no such request".into() })
                } else {
                    Ok(())
                }
            })
        }
    }

    fn settings() -> (Settings, watch::Sender<bool>) {
        let (tx, closing) = watch::channel(false);
        (Settings { heartbeat: Duration::from_secs(60), rate_limit: 20, closing }, tx)
    }

    #[tokio::test]
    async fn commands_go_to_the_writer_events_come_out_numbered_and_a_replacement_closes_it() {
        let (mut socket, mut wire) = wire();
        let (mut settings, _closing) = settings();
        let (events, rx) = mpsc::channel(8);
        let writer = Writer::default();
        let looping = async {
            run::<p::DeskCommand, p::DeskEvent, _, _, _>(
                &mut socket,
                &mut settings,
                &mut Lifetime::lasting(),
                rx,
                &writer,
            )
            .await
        };
        let client = async {
            wire.send(r#"{"type":"ping"}"#);
            wire.send(r#"{"type":"cancel_request","request":9}"#);
            assert_eq!(wire.text().await["code"], "not_found", "the writer's refusal comes back");
            wire.send("garbage");
            assert_eq!(wire.text().await["code"], "bad_json");
            events.send(Out::Event(p::Sequenced::numbered(7, p::DeskEvent::Pong))).await.unwrap();
            assert_eq!(wire.text().await, serde_json::json!({"seq": 7, "type": "pong"}));
            events.send(Out::Close(p::CloseReason::Replaced)).await.unwrap();
            assert_eq!(wire.close_code().await, 4000);
        };
        let (ended, ()) = tokio::join!(looping, client);
        assert_eq!(ended, Ended { written: 7, reason: p::CloseReason::Replaced, by_client: false });
        assert_eq!(writer.0.lock().unwrap().len(), 2, "garbage never reached the writer");
    }

    #[tokio::test]
    async fn a_signed_out_session_ends_its_connection_and_so_does_shutdown() {
        let (mut socket, mut wire) = wire();
        let (mut settings, closing) = settings();
        let (_events, rx) = mpsc::channel::<Out<p::DeskEvent>>(8);
        let (revoke, revoked) = broadcast::channel(4);
        let mut lifetime = Lifetime { expires_at: None, revocable: Some(("mine".into(), revoked)) };
        let writer = Writer::default();
        let looping =
            run::<p::DeskCommand, p::DeskEvent, _, _, _>(&mut socket, &mut settings, &mut lifetime, rx, &writer);
        let client = async {
            revoke.send("someone else's".into()).unwrap();
            revoke.send("mine".into()).unwrap();
            assert_eq!(wire.text().await["code"], "unauthorized");
            assert_eq!(wire.close_code().await, p::CloseReason::SignedOut.code());
        };
        let (ended, ()) = tokio::join!(looping, client);
        assert_eq!(ended.reason, p::CloseReason::SignedOut);

        let (mut socket, mut wire) = super::tests::wire();
        let (_events, rx) = mpsc::channel::<Out<p::DeskEvent>>(8);
        let mut lasting = Lifetime::lasting();
        let looping =
            run::<p::DeskCommand, p::DeskEvent, _, _, _>(&mut socket, &mut settings, &mut lasting, rx, &writer);
        let client = async {
            closing.send(true).unwrap();
            assert_eq!(wire.text().await["code"], "shutting_down");
            assert_eq!(wire.close_code().await, p::CloseReason::ShuttingDown.code());
        };
        let (ended, ()) = tokio::join!(looping, client);
        assert_eq!(ended.reason, p::CloseReason::ShuttingDown);
    }

    #[tokio::test]
    async fn the_client_going_ends_the_loop_and_an_expired_session_is_closed() {
        let (mut socket, wire) = wire();
        let (mut settings, _closing) = settings();
        let (_events, rx) = mpsc::channel::<Out<p::DeskEvent>>(8);
        let writer = Writer::default();
        drop(wire);
        let ended = run::<p::DeskCommand, p::DeskEvent, _, _, _>(
            &mut socket,
            &mut settings,
            &mut Lifetime::lasting(),
            rx,
            &writer,
        )
        .await;
        assert!(ended.by_client);

        let (mut socket, mut wire) = super::tests::wire();
        let (_events, rx) = mpsc::channel::<Out<p::DeskEvent>>(8);
        let mut lifetime = Lifetime { expires_at: Some(Instant::now() + Duration::from_millis(50)), revocable: None };
        let looping =
            run::<p::DeskCommand, p::DeskEvent, _, _, _>(&mut socket, &mut settings, &mut lifetime, rx, &writer);
        let (ended, code) = tokio::join!(looping, async { wire.close_code().await });
        assert_eq!((ended.reason, code), (p::CloseReason::Expired, p::CloseReason::Expired.code()));
    }

    #[tokio::test]
    async fn shutdown_writes_what_was_queued_before_it_closes() {
        // An event queued and the shutdown signalled at once: whichever the loop sees
        // first, the event reaches the client before the shutdown's error and close.
        for _ in 0..20 {
            let (mut socket, mut wire) = wire();
            let (mut settings, closing) = settings();
            let (events, rx) = mpsc::channel(8);
            let writer = Writer::default();
            let ended_call = p::DeskEvent::CallEnded { call: 3, by: p::Party::Desk };
            events.send(Out::Event(p::Sequenced::numbered(5, ended_call))).await.unwrap();
            closing.send(true).unwrap();
            let ended = run::<p::DeskCommand, p::DeskEvent, _, _, _>(
                &mut socket,
                &mut settings,
                &mut Lifetime::lasting(),
                rx,
                &writer,
            )
            .await;
            assert_eq!(wire.text().await["type"], "call_ended");
            assert_eq!(wire.text().await["code"], "shutting_down");
            assert_eq!(ended, Ended { written: 5, reason: p::CloseReason::ShuttingDown, by_client: false });
        }
    }
}
