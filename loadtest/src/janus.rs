//! Janus (Debian's `janus` 1.1.2) as the peer of the side-by-side media run: its
//! VideoRoom plugin over its WebSocket API (`janus-protocol`). Each participant is what a
//! browser would be: one Janus session, a publisher handle with one peer connection
//! that sends Opus and VP8, and a subscriber handle with one peer connection that
//! receives the room's other publishers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::LoadError;

/// A Janus process started with the repository's configuration (`loadtest/janus/`).
#[derive(Debug)]
pub struct Janus {
    /// Its WebSocket API.
    pub ws: SocketAddr,
    /// Its pid, for `/proc`.
    pub pid: u32,
    child: tokio::process::Child,
    logs: PathBuf,
}

impl Janus {
    /// Start Janus through `scripts/janus.sh` (which installs it when missing and `exec`s
    /// it, so the child is Janus itself) on a free WebSocket port, and wait for it.
    pub async fn start(repo: &Path) -> Result<Janus, LoadError> {
        let port = crate::server::free_port()?;
        let logs = std::env::temp_dir().join(format!("kakehashi-load-janus-{}-{port}.log", std::process::id()));
        let child = tokio::process::Command::new(repo.join("scripts/janus.sh"))
            .args(["start", &port.to_string()])
            .env("JANUS_LOG", &logs)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| LoadError::Janus(format!("scripts/janus.sh: {e}")))?;
        let pid = child.id().ok_or_else(|| LoadError::Janus("no pid".into()))?;
        let ws = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(ws).await.is_ok() {
                return Ok(Janus { ws, pid, child, logs });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&logs).unwrap_or_default();
        Err(LoadError::Janus(format!("no WebSocket on {ws} after 30 s; its log:\n{log}")))
    }

    /// Stop it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let _ = std::fs::remove_file(&self.logs);
    }
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

/// One Janus API session over its own WebSocket, as a browser tab has.
#[derive(Debug)]
pub struct Session {
    out: mpsc::UnboundedSender<Value>,
    pending: Pending,
    /// Plugin events (with their JSEP) by handle.
    events: Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>>,
    next: AtomicU64,
    /// The session id.
    pub id: u64,
}

impl Session {
    /// Connect and create a session; keep it alive every 20 s.
    pub async fn open(ws: SocketAddr) -> Result<Arc<Session>, LoadError> {
        let mut request = format!("ws://{ws}/").into_client_request().map_err(|e| LoadError::Janus(e.to_string()))?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "janus-protocol".parse().map_err(|_| LoadError::Janus("header".into()))?);
        let (stream, _) = tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| LoadError::Janus("connect timed out".into()))?
            .map_err(|e| LoadError::Janus(e.to_string()))?;
        let (mut sink, mut source) = stream.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<Value>();
        tokio::spawn(async move {
            while let Some(v) = outgoing.recv().await {
                if sink.send(Message::text(v.to_string())).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let events: Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>> = Arc::default();
        let (p, e) = (Arc::clone(&pending), Arc::clone(&events));
        tokio::spawn(async move {
            while let Some(Ok(msg)) = source.next().await {
                let Message::Text(t) = msg else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&t) else { continue };
                let kind = v["janus"].as_str().unwrap_or_default();
                // "ack" only says a request was taken; its answer comes as an event.
                if kind == "ack" {
                    continue;
                }
                if kind == "event"
                    && let Some(handle) = v["sender"].as_u64()
                    && v["transaction"].is_null()
                {
                    if let Some(tx) = e.lock().await.get(&handle) {
                        let _ = tx.send(v);
                    }
                    continue;
                }
                if let Some(t) = v["transaction"].as_str()
                    && let Some(tx) = p.lock().await.remove(t)
                {
                    let _ = tx.send(v);
                    continue;
                }
                if let Some(handle) = v["sender"].as_u64()
                    && let Some(tx) = e.lock().await.get(&handle)
                {
                    let _ = tx.send(v);
                }
            }
        });
        let mut s = Session { out, pending, events, next: AtomicU64::new(1), id: 0 };
        let created = s.call(json!({"janus": "create"})).await?;
        s.id = created["data"]["id"].as_u64().ok_or_else(|| LoadError::Janus(format!("create: {created}")))?;
        let s = Arc::new(s);
        let keep = Arc::downgrade(&s);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(20)).await;
                let Some(s) = keep.upgrade() else { break };
                let _ = s.out.send(json!({"janus": "keepalive", "session_id": s.id, "transaction": "keepalive"}));
            }
        });
        Ok(s)
    }

    /// Send a request and wait for its answer (success, error, or the plugin's event).
    async fn call(&self, mut v: Value) -> Result<Value, LoadError> {
        let t = format!("t{}", self.next.fetch_add(1, Ordering::Relaxed));
        v["transaction"] = json!(t);
        if self.id != 0 {
            v["session_id"] = json!(self.id);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().await.insert(t, tx);
        self.out.send(v).map_err(|_| LoadError::Janus("connection closed".into()))?;
        let answer = tokio::time::timeout(Duration::from_secs(20), rx)
            .await
            .map_err(|_| LoadError::Janus("no answer within 20 s".into()))?
            .map_err(|_| LoadError::Janus("connection closed".into()))?;
        if answer["janus"] == "error" || answer["plugindata"]["data"]["error"].is_string() {
            return Err(LoadError::Janus(answer.to_string()));
        }
        Ok(answer)
    }

    /// Attach a VideoRoom handle; its id and its events.
    pub async fn attach(&self) -> Result<(u64, mpsc::UnboundedReceiver<Value>), LoadError> {
        self.attach_plugin("janus.plugin.videoroom").await
    }

    /// Attach a handle of `plugin`; its id and its events.
    pub async fn attach_plugin(&self, plugin: &str) -> Result<(u64, mpsc::UnboundedReceiver<Value>), LoadError> {
        let a = self.call(json!({"janus": "attach", "plugin": plugin})).await?;
        let handle = a["data"]["id"].as_u64().ok_or_else(|| LoadError::Janus(format!("attach: {a}")))?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.events.lock().await.insert(handle, tx);
        Ok((handle, rx))
    }

    /// A plugin request on a handle, with a JSEP if given; the answer.
    pub async fn message(&self, handle: u64, body: Value, jsep: Option<Value>) -> Result<Value, LoadError> {
        let mut m = json!({"janus": "message", "handle_id": handle, "body": body});
        if let Some(j) = jsep {
            m["jsep"] = j;
        }
        self.call(m).await
    }

    /// End the session (Janus closes its peer connections).
    pub async fn destroy(&self) {
        let _ = self.call(json!({"janus": "destroy"})).await;
    }
}

/// An event of a handle carrying a JSEP, within `wait`.
pub async fn jsep(events: &mut mpsc::UnboundedReceiver<Value>, wait: Duration) -> Result<Value, LoadError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let v = tokio::time::timeout(left, events.recv())
            .await
            .map_err(|_| LoadError::Janus("no JSEP in time".into()))?
            .ok_or_else(|| LoadError::Janus("handle closed".into()))?;
        if v["jsep"].is_object() {
            return Ok(v);
        }
    }
}
