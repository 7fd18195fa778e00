//! One signalling connection, as a client of any role: the hello, then JSON frames.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::LoadError;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The writing half of a connection.
pub type Sink = futures_util::stream::SplitSink<Ws, Message>;

/// The reading half.
pub type Source = futures_util::stream::SplitStream<Ws>;

/// A connected, welcomed client.
#[derive(Debug)]
pub struct Signal {
    ws: Ws,
    /// The `welcome`.
    pub welcome: Value,
    /// The highest event number (`seq`) received, for a resume.
    pub last_seq: u64,
}

impl Signal {
    /// Connect to `url` and say hello with `credential` (`{"desk_token": …}` and so on),
    /// resuming if given a resume token and the last event number received (see
    /// [`Signal::resume_point`]).
    pub async fn connect(url: &str, credential: Value, resume: Option<(&str, u64)>) -> Result<Signal, LoadError> {
        let fail = |e: String| LoadError::Signal(e);
        // As browsers do: no Nagle on the WebSocket.
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(20),
            tokio_tungstenite::connect_async_with_config(url, None, true),
        )
        .await
        .map_err(|_| fail("connect timed out".into()))?
        .map_err(|e| fail(e.to_string()))?;
        let mut s = Signal { ws, welcome: Value::Null, last_seq: 0 };
        let mut hello =
            json!({"type": "hello", "protocol": kakehashi_protocol::PROTOCOL_VERSION, "credential": credential});
        if let Some((token, last_seq)) = resume {
            hello["resume"] = json!(token);
            hello["last_seq"] = json!(last_seq);
        }
        s.send(&hello).await?;
        let w = s.recv(Duration::from_secs(20)).await?.ok_or_else(|| fail("closed before welcome".into()))?;
        if w["type"] != "welcome" {
            return Err(fail(format!("expected welcome, got {w}")));
        }
        // A resumed session's numbers go on from where they were.
        s.last_seq = if w["resumed"] == true { resume.map_or(0, |(_, n)| n) } else { 0 };
        s.welcome = w;
        Ok(s)
    }

    /// What a resume of this session needs: its resume token and the last event number
    /// received.
    pub fn resume_point(&self) -> (String, u64) {
        (self.welcome["resume_token"].as_str().unwrap_or_default().to_string(), self.last_seq)
    }

    /// Send one frame.
    pub async fn send(&mut self, v: &Value) -> Result<(), LoadError> {
        self.ws.send(Message::text(v.to_string())).await.map_err(|e| LoadError::Signal(e.to_string()))
    }

    /// The next frame within `wait`; `None` when the server closed, an error on timeout.
    pub async fn recv(&mut self, wait: Duration) -> Result<Option<Value>, LoadError> {
        loop {
            let next = tokio::time::timeout(wait, self.ws.next())
                .await
                .map_err(|_| LoadError::Signal("nothing within the wait".into()))?;
            match next {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).map_err(|e| LoadError::Signal(e.to_string()))?;
                    if let Some(seq) = v["seq"].as_u64() {
                        self.last_seq = self.last_seq.max(seq);
                    }
                    return Ok(Some(v));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Binary(_))) => continue,
                Some(Ok(Message::Close(_))) | None => return Ok(None),
                Some(Err(e)) => return Err(LoadError::Signal(e.to_string())),
            }
        }
    }

    /// Frames until one of `kind` (others are passed to `other`).
    pub async fn expect(
        &mut self,
        kind: &str,
        wait: Duration,
        mut other: impl FnMut(&Value),
    ) -> Result<Value, LoadError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let v =
                self.recv(left).await?.ok_or_else(|| LoadError::Signal(format!("closed while waiting for {kind}")))?;
            if v["type"] == kind {
                return Ok(v);
            }
            other(&v);
        }
    }

    /// Close politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// The stream and sink, for a task that reads and writes at once.
    pub fn split(self) -> (Sink, Source) {
        self.ws.split()
    }
}
