//! The HTTP and WebSocket shell: `/healthz`, `/readyz`, `/metrics`, `/ws`, and the API
//! under `/api/`. [`run`] takes a bound listener and a shutdown future, so tests bind
//! port 0 and stop the server when they like.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{State, rejection::JsonRejection};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_protocol as p;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, watch};

use crate::auth::{AuthError, Policy, Subject};
use crate::config::Config;
use crate::hub::{CLIENT_QUEUE, Client, Cmd, Numbered, Outbox};
use crate::metrics::Metrics;
use crate::store::Store;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct App {
    /// Settings.
    pub config: Arc<Config>,
    /// Records.
    pub store: Store,
    /// Metrics.
    pub metrics: Metrics,
    /// The hub.
    pub hub: mpsc::Sender<Cmd>,
    ready: Arc<AtomicBool>,
    /// A place per WebSocket connection, taken at the upgrade and held until the
    /// connection ends: the cap cannot be raced by clients that upgrade together.
    ws_places: Arc<tokio::sync::Semaphore>,
    next_conn: Arc<AtomicUsize>,
    closing: watch::Receiver<bool>,
}

impl App {
    /// The shared state; `closing` turns true when connections must end.
    pub fn new(
        config: Config,
        store: Store,
        metrics: Metrics,
        hub: mpsc::Sender<Cmd>,
        closing: watch::Receiver<bool>,
    ) -> App {
        let ws_places = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
        App {
            config: Arc::new(config),
            store,
            metrics,
            hub,
            ready: Arc::new(AtomicBool::new(true)),
            ws_places,
            next_conn: Arc::new(AtomicUsize::new(1)),
            closing,
        }
    }

    fn policy(&self) -> Policy {
        Policy {
            lockout_after: self.config.lockout_after,
            lockout_ms: i64::from(self.config.lockout_secs) * 1000,
            session_ms: i64::from(self.config.session_ttl_secs) * 1000,
        }
    }
}

/// The router.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/ws", get(ws))
        .route("/api/enrol", post(enrol))
        .route("/api/sign-in", post(sign_in))
        .route("/api/sign-out", post(sign_out))
        .route("/api/call-records", get(call_records))
        .merge(crate::api::routes())
        .merge(crate::clients::routes())
        .merge(crate::web::routes())
        .with_state(app)
}

/// Serve until `shutdown` resolves; then stop taking requests, let live calls end for up
/// to `drain_secs`, close every connection and return.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: App,
    closing: watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let drain = Duration::from_secs(u64::from(app.config.drain_secs));
    let state = app.clone();
    let stop = async move {
        shutdown.await;
        tracing::info!("shutting down: not ready, draining live calls");
        state.ready.store(false, Ordering::SeqCst);
        let _ = state.hub.send(Cmd::Drain).await;
        let deadline = tokio::time::Instant::now() + drain;
        while tokio::time::Instant::now() < deadline {
            let (tx, rx) = oneshot::channel();
            if state.hub.send(Cmd::LiveCalls { reply: tx }).await.is_err() || rx.await.unwrap_or(0) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = closing.send(true);
    };
    let bounds = app.config.bounds();
    let refusals: Arc<dyn crate::listener::Refusals> = Arc::new(app.metrics.clone());
    let stop_rx = app.closing.clone();
    let serving = crate::listener::serve(listener, router(app), bounds, refusals, stop_rx, Duration::from_secs(5));
    tokio::pin!(serving);
    // Serve through the drain; once it is over (`closing` turns true) connections get a
    // few seconds to say goodbye, then we go regardless.
    tokio::select! {
        () = &mut serving => {}
        () = stop => { serving.await; }
    }
    Ok(())
}

async fn readyz(State(app): State<App>) -> Response {
    if app.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    }
}

async fn metrics(State(app): State<App>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response()
}

// ---- API --------------------------------------------------------------------------

/// An API error: a status, a code and a safe message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: p::ErrorCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: p::ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = ?self.code, message = %self.message, "api error");
        }
        (self.status, Json(serde_json::json!({ "error": p::ProtocolError { code: self.code, message: self.message } })))
            .into_response()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Refused => ApiError::new(StatusCode::UNAUTHORIZED, p::ErrorCode::Unauthorized, "not accepted"),
            AuthError::Locked => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                p::ErrorCode::Unauthorized,
                "too many failed attempts; try again later",
            ),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, p::ErrorCode::Internal, other.to_string()),
        }
    }
}

/// A JSON body, refused with the reason (naming the field) when it does not fit.
pub(crate) fn body<T: DeserializeOwned>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, p::ErrorCode::InvalidField, e.body_text()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    code: String,
}

#[derive(Serialize)]
struct Enrolled {
    desk: i64,
    tenant: i64,
    token: String,
}

async fn enrol(State(app): State<App>, b: Result<Json<EnrolBody>, JsonRejection>) -> Result<Json<Enrolled>, ApiError> {
    let b = body(b)?;
    let (desk, tenant, token) = app.store.enrol_desk(&b.code).await?;
    Ok(Json(Enrolled { desk, tenant, token }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Role {
    Interpreter,
    Staff,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInBody {
    role: Role,
    login: String,
    password: String,
}

#[derive(Serialize)]
struct SignedIn {
    token: String,
}

async fn sign_in(
    State(app): State<App>,
    b: Result<Json<SignInBody>, JsonRejection>,
) -> Result<Json<SignedIn>, ApiError> {
    let b = body(b)?;
    let (_, token) = app.store.sign_in(matches!(b.role, Role::Staff), &b.login, &b.password, app.policy()).await?;
    Ok(Json(SignedIn { token }))
}

/// End the caller's session; its token stops working at once.
async fn sign_out(State(app): State<App>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or(AuthError::Refused)?;
    app.store.session(token).await?;
    app.store.end_session(token).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

#[derive(Serialize)]
struct RecordOut {
    id: i64,
    tenant: i64,
    desk: i64,
    language: String,
    speciality: Option<String>,
    modality: String,
    tier: Option<String>,
    interpreter: Option<i64>,
    requested_at: i64,
    offered_at: Option<i64>,
    answered_at: Option<i64>,
    ended_at: i64,
    offers: i64,
    outcome: &'static str,
    desk_outcome: Option<String>,
    /// Fraction of media packets lost, all legs and directions.
    loss: Option<f64>,
    /// Mean round-trip time relay ↔ participants, ms.
    rtt_ms: Option<f64>,
    /// Media reconnections.
    reconnects: Option<i64>,
}

/// Call records of the supervisor's tenant (an admin sees all).
async fn call_records(
    State(app): State<App>,
    headers: HeaderMap,
    since: Result<axum::extract::Query<crate::clients::Since>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<RecordOut>>, ApiError> {
    let since = crate::clients::since(since)?;
    let token = bearer(&headers).ok_or(AuthError::Refused)?;
    let tenant = match app.store.session(token).await? {
        Subject::Staff { admin: true, .. } => None,
        Subject::Staff { tenant: Some(t), .. } => Some(t),
        _ => return Err(ApiError::new(StatusCode::FORBIDDEN, p::ErrorCode::NotAllowed, "supervisors and admins only")),
    };
    let rows = app
        .store
        .call_records_since(tenant, since)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, p::ErrorCode::Internal, e.to_string()))?;
    Ok(Json(
        rows.into_iter()
            .map(|r| RecordOut {
                id: r.id,
                tenant: r.tenant_id,
                desk: r.desk_id,
                language: r.language,
                speciality: r.speciality,
                modality: r.modality,
                tier: r.tier,
                interpreter: r.interpreter_id,
                requested_at: r.requested_at,
                offered_at: r.offered_at,
                answered_at: r.answered_at,
                ended_at: r.ended_at,
                offers: r.offers,
                outcome: r.outcome.as_str(),
                desk_outcome: r.desk_outcome,
                loss: r.loss,
                rtt_ms: r.rtt_ms,
                reconnects: r.reconnects,
            })
            .collect(),
    ))
}

// ---- WebSocket ----------------------------------------------------------------------

async fn ws(State(app): State<App>, upgrade: WebSocketUpgrade) -> Response {
    let Ok(place) = app.ws_places.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    // Small buffers that grow when a frame needs it: most connections are idle desks
    // (tungstenite's defaults hold 128 KiB each way per connection).
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(p::MAX_FRAME_BYTES)
        .max_frame_size(p::MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let _place = place;
            connection(socket, app).await;
        })
}

/// Who a `hello` proved to be.
enum Identity {
    Desk(i64, i64),
    Interpreter(i64),
    Supervisor(Option<i64>),
    Resident(String),
}

async fn send_json<T: Serialize>(socket: &mut WebSocket, app: &App, value: &T) -> bool {
    send_text(socket, app, serde_json::to_string(value).unwrap_or_default()).await
}

async fn send_text(socket: &mut WebSocket, app: &App, text: String) -> bool {
    app.metrics.ws_messages.with_label_values(&["out"]).inc();
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn refuse(mut socket: WebSocket, app: &App, e: p::ProtocolError) {
    let _ =
        send_json(&mut socket, app, &serde_json::json!({"type": "error", "code": e.code, "message": e.message})).await;
    let _ = socket.send(Message::Close(None)).await;
}

async fn identify(app: &App, hello: &p::Hello) -> Result<Identity, p::ProtocolError> {
    let unauthorized = |m: &str| p::ProtocolError { code: p::ErrorCode::Unauthorized, message: m.into() };
    match &hello.credential {
        p::Credential::DeskToken(t) => app
            .store
            .desk_by_token(t)
            .await
            .map(|(d, t)| Identity::Desk(d, t))
            .map_err(|_| unauthorized("desk token not accepted")),
        p::Credential::Session(t) => match app.store.session(t).await {
            Ok(Subject::Interpreter(id)) => Ok(Identity::Interpreter(id)),
            Ok(Subject::Staff { admin, tenant, .. }) => Ok(Identity::Supervisor(if admin { None } else { tenant })),
            Err(_) => Err(unauthorized("session not accepted")),
        },
        p::Credential::Invite(t) => Ok(Identity::Resident(t.clone())),
    }
}

async fn connection(mut socket: WebSocket, app: App) {
    let first = tokio::time::timeout(Duration::from_secs(10), socket.recv()).await;
    let text = match first {
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(_))) => {
            return refuse(socket, &app, perr(p::ErrorCode::InvalidField, "the first frame must be a text hello"))
                .await;
        }
        _ => return,
    };
    app.metrics.ws_messages.with_label_values(&["in"]).inc();
    let hello: p::Hello = match p::parse(&text) {
        Ok(h) => h,
        Err(e) => return refuse(socket, &app, e).await,
    };
    if hello.protocol != p::PROTOCOL_VERSION {
        let m = format!("this server speaks protocol {}, not {}", p::PROTOCOL_VERSION, hello.protocol);
        return refuse(socket, &app, perr(p::ErrorCode::ProtocolVersion, m)).await;
    }
    let identity = match identify(&app, &hello).await {
        Ok(i) => i,
        Err(e) => return refuse(socket, &app, e).await,
    };
    let conn = app.next_conn.fetch_add(1, Ordering::SeqCst) as u64;
    let role = match identity {
        Identity::Desk(..) => "desk",
        Identity::Interpreter(_) => "interpreter",
        Identity::Supervisor(_) => "supervisor",
        Identity::Resident(_) => "resident",
    };
    app.metrics.ws_connections.with_label_values(&[role]).inc();
    let ice_servers = crate::turn::ice_servers(&app.config, crate::store::now_ms() / 1000, role);
    let welcome = |resumed: bool, resume_token: String| p::Welcome {
        protocol: p::PROTOCOL_VERSION,
        resume_token,
        heartbeat_secs: app.config.heartbeat_secs,
        resume_grace_secs: app.config.resume_grace_secs,
        resumed,
        ice_servers: ice_servers.clone(),
    };
    let hub = app.hub.clone();
    match identity {
        Identity::Desk(desk, tenant) => {
            let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
            let client = Client::Desk(desk, tenant);
            let mut written = 0;
            if let Some((resumed, token)) = attach(&app, client, conn, Outbox::Desk(tx), &hello).await
                && send_json(&mut socket, &app, &p::DeskEvent::Welcome(welcome(resumed, token))).await
            {
                let command = move |cmd| {
                    let (reply, wait) = oneshot::channel();
                    (Cmd::Desk { desk, tenant, cmd, reply }, wait)
                };
                written = session(&mut socket, &app, rx, command, &hub).await;
            }
            let _ = app.hub.send(Cmd::Detach { client, conn, written }).await;
        }
        Identity::Interpreter(id) => {
            let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
            let client = Client::Interpreter(id);
            let mut written = 0;
            if let Some((resumed, token)) = attach(&app, client, conn, Outbox::Interpreter(tx), &hello).await
                && send_json(&mut socket, &app, &p::InterpreterEvent::Welcome(welcome(resumed, token))).await
            {
                let command = move |cmd| {
                    let (reply, wait) = oneshot::channel();
                    (Cmd::Interpreter { id, cmd, reply }, wait)
                };
                written = session(&mut socket, &app, rx, command, &hub).await;
            }
            let _ = app.hub.send(Cmd::Detach { client, conn, written }).await;
        }
        Identity::Supervisor(tenant) => {
            if send_json(&mut socket, &app, &p::SupervisorEvent::Welcome(welcome(false, crate::auth::new_token())))
                .await
            {
                supervisor(&mut socket, &app, tenant).await;
            }
        }
        Identity::Resident(token) => {
            let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
            let (reply, wait) = oneshot::channel();
            let resume = hello.resume.clone();
            let joined = match app.hub.send(Cmd::ResidentJoin { token, resume, conn, outbox: tx, reply }).await {
                Ok(()) => wait.await.unwrap_or_else(|_| Err(perr(p::ErrorCode::Internal, "the server is stopping"))),
                Err(_) => Err(perr(p::ErrorCode::Internal, "the server is stopping")),
            };
            match joined {
                Ok(joined) => {
                    let id = joined.id;
                    if send_json(
                        &mut socket,
                        &app,
                        &p::ResidentEvent::Welcome(welcome(joined.resumed, joined.resume_token)),
                    )
                    .await
                        && send_json(&mut socket, &app, &p::ResidentEvent::Joined { language: joined.language }).await
                    {
                        let command = move |cmd| {
                            let (reply, wait) = oneshot::channel();
                            (Cmd::Resident { id, cmd, reply }, wait)
                        };
                        let _ = session(&mut socket, &app, rx, command, &hub).await;
                    }
                    let _ = app.hub.send(Cmd::ResidentLeft { id, conn }).await;
                }
                Err(e) => refuse_in_place(&mut socket, &app, e).await,
            }
        }
    }
    app.metrics.ws_connections.with_label_values(&[role]).dec();
}

/// Attach a connection to the hub: (resumed, next resume token).
async fn attach(app: &App, client: Client, conn: u64, outbox: Outbox, hello: &p::Hello) -> Option<(bool, String)> {
    let (reply, wait) = oneshot::channel();
    let (resume, last_seq) = (hello.resume.clone(), hello.last_seq);
    app.hub.send(Cmd::Attach { client, conn, outbox, resume, last_seq, reply }).await.ok()?;
    wait.await.ok()
}

async fn refuse_in_place(socket: &mut WebSocket, app: &App, e: p::ProtocolError) {
    let _ = send_json(socket, app, &serde_json::json!({"type": "error", "code": e.code, "message": e.message})).await;
    let _ = socket.send(Message::Close(None)).await;
}

fn perr(code: p::ErrorCode, message: impl Into<String>) -> p::ProtocolError {
    p::ProtocolError { code, message: message.into() }
}

/// A per-connection token bucket: `rate` tokens a second, bursts of twice that.
struct Bucket {
    tokens: f64,
    rate: f64,
    last: tokio::time::Instant,
}

impl Bucket {
    fn new(rate: u32) -> Bucket {
        Bucket { tokens: f64::from(rate) * 2.0, rate: f64::from(rate), last: tokio::time::Instant::now() }
    }

    fn take(&mut self, cost: f64) -> bool {
        let now = tokio::time::Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

/// A connection's two budgets: frames of commands, and bytes of documents (parts of a
/// photo come many at once and would exhaust the frame budget).
struct Limits {
    frames: Bucket,
    document_bytes: Bucket,
}

/// Bytes of document parts a connection may send per second (bursts of twice that): a
/// phone photo of a few megabytes passes in a second or two.
const DOCUMENT_BYTES_PER_SEC: u32 = 4 * 1024 * 1024;

impl Limits {
    fn new(app: &App) -> Limits {
        Limits {
            frames: Bucket::new(app.config.rate_limit_per_sec),
            document_bytes: Bucket::new(DOCUMENT_BYTES_PER_SEC),
        }
    }
}

/// A role's command, as the rate limit sees it.
trait Command: DeserializeOwned {
    /// The size of the document part it carries, if it is one.
    fn document_bytes(&self) -> Option<usize> {
        None
    }
}

impl Command for p::DeskCommand {
    fn document_bytes(&self) -> Option<usize> {
        match self {
            p::DeskCommand::Document { document, .. } => Some(document.data.len()),
            _ => None,
        }
    }
}

impl Command for p::InterpreterCommand {
    fn document_bytes(&self) -> Option<usize> {
        match self {
            p::InterpreterCommand::Document { document, .. } => Some(document.data.len()),
            _ => None,
        }
    }
}

impl Command for p::ResidentCommand {
    fn document_bytes(&self) -> Option<usize> {
        match self {
            p::ResidentCommand::Document { document } => Some(document.data.len()),
            _ => None,
        }
    }
}

impl Command for p::SupervisorCommand {}

/// How a role's events carry an error.
trait RoleEvent: Serialize {
    fn error(e: p::ProtocolError) -> Self;
}

/// What a connection's loop writes: a desk's or an interpreter's numbered event, or a
/// resident's event (residents' events carry no number).
trait Outgoing: Send {
    /// The event for the loop's error answers.
    type Event: RoleEvent;
    /// Its number (0 for none) and its text.
    fn text(&self) -> (u64, String);
}

impl<E: RoleEvent + Send> Outgoing for Numbered<E> {
    type Event = E;
    fn text(&self) -> (u64, String) {
        (self.0, p::sequenced(self.0, &self.1).unwrap_or_default())
    }
}

impl Outgoing for p::ResidentEvent {
    type Event = p::ResidentEvent;
    fn text(&self) -> (u64, String) {
        (0, serde_json::to_string(self).unwrap_or_default())
    }
}

impl RoleEvent for p::DeskEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::DeskEvent::Error(e)
    }
}

impl RoleEvent for p::InterpreterEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::InterpreterEvent::Error(e)
    }
}

impl RoleEvent for p::ResidentEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::ResidentEvent::Error(e)
    }
}

impl RoleEvent for p::SupervisorEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::SupervisorEvent::Error(e)
    }
}

/// What a frame from the client led to.
enum Frame<C> {
    Command(C),
    Refused(p::ProtocolError),
    Alive,
    Closed,
}

/// Read one frame: parse it, count it, apply the rate limit (document parts against the
/// byte budget, everything else, refusals included, against the frame budget).
fn frame<C: Command>(msg: Option<Result<Message, axum::Error>>, app: &App, limits: &mut Limits) -> Frame<C> {
    match msg {
        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => Frame::Closed,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Frame::Alive,
        Some(Ok(Message::Binary(_))) => {
            Frame::Refused(perr(p::ErrorCode::InvalidField, "binary frames are not part of the protocol"))
        }
        Some(Ok(Message::Text(t))) => {
            app.metrics.ws_messages.with_label_values(&["in"]).inc();
            let parsed = p::parse::<C>(&t);
            let allowed = match parsed.as_ref().ok().and_then(Command::document_bytes) {
                Some(bytes) => limits.document_bytes.take(bytes as f64),
                None => limits.frames.take(1.0),
            };
            if !allowed {
                return Frame::Refused(perr(p::ErrorCode::RateLimited, "too many messages; slow down"));
            }
            match parsed {
                Ok(c) => Frame::Command(c),
                Err(e) => Frame::Refused(e),
            }
        }
    }
}

/// The loop of a desk or interpreter connection. Returns the number of the last event it
/// wrote to the socket: the hub keeps the recent events, and a client that resumes gets
/// again those after what it says it received (or, if it does not say, after this).
async fn session<C, O>(
    socket: &mut WebSocket,
    app: &App,
    mut events: mpsc::Receiver<O>,
    command: impl Fn(C) -> (Cmd, oneshot::Receiver<Result<(), p::ProtocolError>>),
    hub: &mpsc::Sender<Cmd>,
) -> u64
where
    C: Command,
    O: Outgoing,
{
    let heartbeat = Duration::from_secs(u64::from(app.config.heartbeat_secs));
    let mut ping = tokio::time::interval(heartbeat);
    let mut last_seen = tokio::time::Instant::now();
    let mut limits = Limits::new(app);
    let mut refusals = 0u32;
    let mut written = 0;
    let mut closing = app.closing.clone();
    loop {
        tokio::select! {
            msg = socket.recv() => {
                last_seen = tokio::time::Instant::now();
                match frame::<C>(msg, app, &mut limits) {
                    Frame::Closed => {
                        tracing::debug!("client closed the connection");
                        break;
                    }
                    Frame::Alive => {}
                    Frame::Refused(e) => {
                        refusals += 1;
                        // A client that sends little but garbage is cut off.
                        if refusals > 100 || !send_json(socket, app, &O::Event::error(e)).await {
                            break;
                        }
                    }
                    Frame::Command(c) => {
                        let (cmd, wait) = command(c);
                        if hub.send(cmd).await.is_err() {
                            break;
                        }
                        match wait.await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => {
                                if !send_json(socket, app, &O::Event::error(e)).await {
                                    break;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                }
            }
            event = events.recv() => match event {
                Some(e) => {
                    let (seq, text) = e.text();
                    if !send_text(socket, app, text).await {
                        break;
                    }
                    written = seq;
                }
                None => {
                    tracing::debug!("the hub let go of this connection");
                    break;
                }
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > heartbeat * 3 {
                    tracing::debug!("client silent for three heartbeats");
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            _ = closing.changed() => {
                let _ = send_json(socket, app, &O::Event::error(perr(p::ErrorCode::ShuttingDown, "the server is restarting; reconnect shortly"))).await;
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
    written
}

/// A supervisor's connection: snapshots on subscribe and every 2 s after.
async fn supervisor(socket: &mut WebSocket, app: &App, tenant: Option<i64>) {
    let mut limits = Limits::new(app);
    let mut every = tokio::time::interval(Duration::from_secs(2));
    let mut subscribed = false;
    let mut closing = app.closing.clone();
    loop {
        tokio::select! {
            msg = socket.recv() => match frame::<p::SupervisorCommand>(msg, app, &mut limits) {
                Frame::Closed => break,
                Frame::Alive => {}
                Frame::Refused(e) => {
                    if !send_json(socket, app, &p::SupervisorEvent::error(e)).await {
                        break;
                    }
                }
                Frame::Command(p::SupervisorCommand::Ping {}) => {
                    if !send_json(socket, app, &p::SupervisorEvent::Pong).await {
                        break;
                    }
                }
                Frame::Command(p::SupervisorCommand::Subscribe {}) => {
                    subscribed = true;
                    every.reset_immediately();
                }
            },
            _ = every.tick(), if subscribed => {
                let (reply, wait) = oneshot::channel();
                if app.hub.send(Cmd::Snapshot { tenant, reply }).await.is_err() {
                    break;
                }
                match wait.await {
                    Ok(s) if send_json(socket, app, &s).await => {}
                    _ => break,
                }
            }
            _ = closing.changed() => break,
        }
    }
}
