//! One signalling connection in a role: the hello, typed commands out, typed events in.

use std::marker::PhantomData;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use kakehashi_protocol as p;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::ClientError;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A role: what it sends and what it receives.
pub trait Role: Send + 'static {
    /// Its commands.
    type Command: Serialize + Send + Sync;
    /// Its events.
    type Event: DeserializeOwned + std::fmt::Debug + Clone + Send;
    /// The `welcome` among its events.
    fn welcome(event: &Self::Event) -> Option<&p::Welcome>;
    /// The `error` among its events.
    fn error(event: &Self::Event) -> Option<&p::ProtocolError>;
}

/// A desk tablet.
#[derive(Debug)]
pub struct Desk;
/// An interpreter's console.
#[derive(Debug)]
pub struct Interpreter;
/// A resident's (or guest's) page, from a link.
#[derive(Debug)]
pub struct Resident;
/// A supervisor's wallboard.
#[derive(Debug)]
pub struct Supervisor;
/// The phone gateway's control connection.
#[derive(Debug)]
pub struct Gateway;

macro_rules! role {
    ($role:ty, $command:ty, $event:ident) => {
        impl Role for $role {
            type Command = $command;
            type Event = p::$event;
            fn welcome(event: &p::$event) -> Option<&p::Welcome> {
                match event {
                    p::$event::Welcome(w) => Some(w),
                    _ => None,
                }
            }
            fn error(event: &p::$event) -> Option<&p::ProtocolError> {
                match event {
                    p::$event::Error(e) => Some(e),
                    _ => None,
                }
            }
        }
    };
}

role!(Desk, p::DeskCommand, DeskEvent);
role!(Interpreter, p::InterpreterCommand, InterpreterEvent);
role!(Resident, p::ResidentCommand, ResidentEvent);
role!(Supervisor, p::SupervisorCommand, SupervisorEvent);
role!(Gateway, p::GatewayCommand, GatewayEvent);

/// A connected, welcomed client.
#[derive(Debug)]
pub struct Signal<R: Role> {
    tx: SignalTx<R>,
    rx: SignalRx<R>,
    /// The `welcome`.
    pub welcome: p::Welcome,
}

/// The sending half of a connection.
#[derive(Debug)]
pub struct SignalTx<R> {
    sink: SplitSink<Ws, Message>,
    _role: PhantomData<R>,
}

/// The receiving half of a connection.
#[derive(Debug)]
pub struct SignalRx<R> {
    stream: SplitStream<Ws>,
    /// The highest event number received (for a resume).
    pub last_seq: u64,
    _role: PhantomData<R>,
}

fn broken(e: impl std::fmt::Display) -> ClientError {
    ClientError::Connection(e.to_string())
}

impl<R: Role> Signal<R> {
    /// Connect to `url` (`ws://host/ws`) and say hello with `credential`, resuming with a
    /// resume token and the last event number received (see [`Signal::resume_point`]).
    /// A refused hello is [`ClientError::Refused`].
    pub async fn connect(
        url: &str,
        credential: p::Credential,
        resume: Option<(String, u64)>,
    ) -> Result<Signal<R>, ClientError> {
        // As browsers do: no Nagle on the WebSocket.
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(20),
            tokio_tungstenite::connect_async_with_config(url, None, true),
        )
        .await
        .map_err(|_| ClientError::Timeout)?
        .map_err(broken)?;
        let (sink, stream) = ws.split();
        let mut tx = SignalTx { sink, _role: PhantomData };
        let mut rx = SignalRx { stream, last_seq: 0, _role: PhantomData };
        let resumed_from = resume.as_ref().map_or(0, |(_, n)| *n);
        let hello = p::Hello {
            kind: p::HelloTag::Hello,
            protocol: p::PROTOCOL_VERSION,
            credential,
            last_seq: resume.as_ref().map(|(_, n)| *n),
            resume: resume.map(|(t, _)| t),
        };
        tx.send_json(&hello).await?;
        let first = rx.recv(Duration::from_secs(20)).await?;
        if let Some(e) = R::error(&first.event) {
            return Err(ClientError::Refused(e.clone()));
        }
        let Some(welcome) = R::welcome(&first.event).cloned() else {
            return Err(ClientError::Unexpected(format!("{:?} before the welcome", first.event)));
        };
        // A resumed session's numbers go on from where they were.
        rx.last_seq = if welcome.resumed { resumed_from } else { 0 };
        Ok(Signal { tx, rx, welcome })
    }

    /// Send a command.
    pub async fn send(&mut self, cmd: &R::Command) -> Result<(), ClientError> {
        self.tx.send(cmd).await
    }

    /// Send any text (a test of what the server does with garbage).
    pub async fn send_text(&mut self, text: String) -> Result<(), ClientError> {
        self.tx.send_text(text).await
    }

    /// The next event within `wait`.
    pub async fn recv(&mut self, wait: Duration) -> Result<p::Sequenced<R::Event>, ClientError> {
        self.rx.recv(wait).await
    }

    /// Events until `pick` returns something, within `wait`; the others go to `skipped`.
    pub async fn expect<T>(
        &mut self,
        wait: Duration,
        pick: impl FnMut(&R::Event) -> Option<T>,
        skipped: impl FnMut(&R::Event),
    ) -> Result<T, ClientError> {
        self.rx.expect(wait, pick, skipped).await
    }

    /// What a resume of this session needs: its resume token and the last event number
    /// received.
    pub fn resume_point(&self) -> (String, u64) {
        (self.welcome.resume_token.clone(), self.rx.last_seq)
    }

    /// The highest event number received.
    pub fn last_seq(&self) -> u64 {
        self.rx.last_seq
    }

    /// Close politely.
    pub async fn close(mut self) {
        let _ = self.tx.sink.close().await;
    }

    /// The two halves, for a task that reads while another writes.
    pub fn split(self) -> (SignalTx<R>, SignalRx<R>) {
        (self.tx, self.rx)
    }

    /// Put the halves back together.
    pub fn unsplit(tx: SignalTx<R>, rx: SignalRx<R>, welcome: p::Welcome) -> Signal<R> {
        Signal { tx, rx, welcome }
    }
}

impl<R: Role> SignalTx<R> {
    /// Send a command.
    pub async fn send(&mut self, cmd: &R::Command) -> Result<(), ClientError> {
        self.send_json(cmd).await
    }

    async fn send_json<T: Serialize>(&mut self, v: &T) -> Result<(), ClientError> {
        let text = serde_json::to_string(v).map_err(|e| ClientError::Unexpected(e.to_string()))?;
        self.send_text(text).await
    }

    /// Send any text.
    pub async fn send_text(&mut self, text: String) -> Result<(), ClientError> {
        self.sink.send(Message::text(text)).await.map_err(broken)
    }
}

impl<R: Role> SignalRx<R> {
    /// The next event within `wait`; pings are answered by the library and skipped.
    pub async fn recv(&mut self, wait: Duration) -> Result<p::Sequenced<R::Event>, ClientError> {
        loop {
            let next = tokio::time::timeout(wait, self.stream.next()).await.map_err(|_| ClientError::Timeout)?;
            match next {
                Some(Ok(Message::Text(t))) => {
                    let event: p::Sequenced<R::Event> =
                        serde_json::from_str(&t).map_err(|e| ClientError::Unexpected(format!("{e}: {t}")))?;
                    if let Some(seq) = event.seq {
                        self.last_seq = self.last_seq.max(seq);
                    }
                    return Ok(event);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_) | Message::Binary(_))) => continue,
                Some(Ok(Message::Close(frame))) => {
                    return Err(ClientError::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string()))));
                }
                None => return Err(ClientError::Closed(None)),
                Some(Err(e)) => return Err(broken(e)),
            }
        }
    }

    /// Events until `pick` returns something, within `wait`; the others go to `skipped`.
    pub async fn expect<T>(
        &mut self,
        wait: Duration,
        mut pick: impl FnMut(&R::Event) -> Option<T>,
        mut skipped: impl FnMut(&R::Event),
    ) -> Result<T, ClientError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let e = self.recv(left).await?;
            if let Some(t) = pick(&e.event) {
                return Ok(t);
            }
            skipped(&e.event);
        }
    }
}
