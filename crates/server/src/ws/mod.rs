//! The WebSocket edge: the upgrade (a place taken under the connection cap), the hello
//! (protocol version and credential), and each role's connection: desks and
//! interpreters attach to the writer through the router and run the common loop
//! (`conn.rs`); residents and guests join from a link; supervisors get snapshots
//! (`supervisor.rs`). Everything is written against `Sink`/`Stream` ([`serve`]), so tests
//! drive a connection without a network.

pub mod conn;
pub mod frame;
mod gateway;
mod supervisor;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{Sink, Stream, StreamExt};
use kakehashi_protocol as p;
use tokio::sync::mpsc;

use crate::app::{App, ClientAddr};
use crate::calls::{Client, MemberKey};
use crate::cluster::SharedRouter;
use crate::hub::{CLIENT_QUEUE, Out, Outbox};
use conn::{Commands, Lifetime, Settings, Socket};
use frame::ReadError;

/// How long a client has to say hello.
pub const HELLO_WITHIN: Duration = Duration::from_secs(10);

/// `GET /ws`.
pub async fn upgrade(State(app): State<App>, from: ClientAddr, upgrade: WebSocketUpgrade) -> Response {
    let Ok(place) = app.ws_places.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    // Small buffers that grow when a frame needs it: most connections are idle desks
    // (tungstenite's defaults hold 128 KiB each way per connection). Frames over the
    // protocol's limit but under the read limit get a `too_large` error.
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(p::READ_LIMIT_BYTES)
        .max_frame_size(p::READ_LIMIT_BYTES)
        .on_upgrade(move |socket| async move {
            let _place = place;
            let (sink, stream) = socket.split();
            let metrics = app.metrics.clone();
            serve(Socket::new(sink, stream, metrics), app, from).await;
        })
}

/// Who a `hello` proved to be.
enum Identity {
    Desk { desk: i64, tenant: i64 },
    Interpreter { id: i64, lifetime: Lifetime },
    Supervisor { tenant: Option<i64>, lifetime: Lifetime },
    Link { token: String },
    Gateway,
}

impl Identity {
    fn role(&self) -> &'static str {
        match self {
            Identity::Desk { .. } => "desk",
            Identity::Interpreter { .. } => "interpreter",
            Identity::Supervisor { .. } => "supervisor",
            Identity::Link { .. } => "resident",
            Identity::Gateway => "gateway",
        }
    }
}

fn unauthorized(m: &str) -> p::ProtocolError {
    p::ProtocolError { code: p::ErrorCode::Unauthorized, message: m.into() }
}

/// What a session credential proves, and how long.
async fn session_identity(app: &App, token: &str) -> Result<Identity, p::ProtocolError> {
    let session = crate::auth::session(&app.store, token).await.map_err(|_| unauthorized("session not accepted"))?;
    if session.restricted {
        return Err(p::ProtocolError {
            code: p::ErrorCode::SecondFactorSetup,
            message: "set up two-factor sign-in first".into(),
        });
    }
    let left = (session.expires_at - crate::store::now_ms()).max(0) as u64;
    let lifetime = Lifetime {
        expires_at: Some(tokio::time::Instant::now() + Duration::from_millis(left)),
        revocable: Some((crate::auth::hash_token(token), app.revocations.subscribe())),
    };
    Ok(match session.subject {
        crate::auth::Subject::Interpreter(id) => Identity::Interpreter { id, lifetime },
        crate::auth::Subject::Staff { admin, tenant, .. } => {
            Identity::Supervisor { tenant: if admin { None } else { tenant }, lifetime }
        }
    })
}

async fn identify(app: &App, hello: &p::Hello) -> Result<Identity, p::ProtocolError> {
    match &hello.credential {
        p::Credential::DeskToken(t) => crate::auth::desk_by_token(&app.store, t)
            .await
            .map(|(desk, tenant)| Identity::Desk { desk, tenant })
            .map_err(|_| unauthorized("desk token not accepted")),
        p::Credential::Session(t) => session_identity(app, t).await,
        p::Credential::Invite(t) => Ok(Identity::Link { token: t.clone() }),
        p::Credential::Gateway(t) => match &app.config.phone_gateway_token {
            Some(secret) if crate::auth::same_secret(t.as_bytes(), secret.as_bytes()) => Ok(Identity::Gateway),
            _ => Err(unauthorized("gateway credential not accepted")),
        },
    }
}

/// Serve one connection: its hello, then its role's loop.
pub async fn serve<S, R, E>(mut socket: Socket<S, R>, app: App, from: ClientAddr)
where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    let hello = match tokio::time::timeout(HELLO_WITHIN, socket.recv()).await {
        Ok(Some(Ok(Message::Text(t)))) => p::parse::<p::Hello>(&t),
        Ok(Some(Ok(_))) => Err(p::ProtocolError {
            code: p::ErrorCode::InvalidField,
            message: "the first frame must be a text hello".into(),
        }),
        _ => {
            socket.close(p::CloseReason::Idle).await;
            return;
        }
    };
    let hello = match hello {
        Ok(h) if h.protocol == p::PROTOCOL_VERSION => h,
        Ok(h) => {
            let m = format!("this server speaks protocol {}, not {}", p::PROTOCOL_VERSION, h.protocol);
            let e = p::ProtocolError { code: p::ErrorCode::ProtocolVersion, message: m };
            return socket.refuse::<p::DeskEvent>(e, p::CloseReason::Refused).await;
        }
        Err(e) => return socket.refuse::<p::DeskEvent>(e, p::CloseReason::Refused).await,
    };
    let identity = match identify(&app, &hello).await {
        Ok(i) => i,
        Err(e) => return socket.refuse::<p::DeskEvent>(e, p::CloseReason::Refused).await,
    };
    let role = identity.role();
    app.metrics.ws_connections.with_label_values(&[role]).inc();
    let conn = app.next_conn();
    let mut settings = Settings {
        heartbeat: Duration::from_secs(u64::from(app.config.heartbeat_secs)),
        rate_limit: app.config.rate_limit_per_sec,
        closing: app.closing.clone(),
    };
    match identity {
        Identity::Desk { desk, tenant } => {
            let commands = DeskCommands {
                router: app.router.clone(),
                store: app.store.clone(),
                notes: app.notes.clone(),
                desk,
                tenant,
            };
            numbered(
                &mut socket,
                &app,
                &mut settings,
                Lifetime::lasting(),
                Client::Desk(desk),
                conn,
                &hello,
                &commands,
            )
            .await;
        }
        Identity::Interpreter { id, lifetime } => {
            let commands = InterpreterCommands { router: app.router.clone(), id };
            numbered(&mut socket, &app, &mut settings, lifetime, Client::Interpreter(id), conn, &hello, &commands)
                .await;
        }
        Identity::Supervisor { tenant, mut lifetime } => {
            let welcome = p::SupervisorEvent::Welcome(welcome(&app, role, false, crate::auth::new_token()));
            if socket.send_json(&welcome).await {
                supervisor::run(&mut socket, &mut settings, &mut lifetime, &app.router, tenant).await;
            }
        }
        Identity::Link { token } => link(&mut socket, &app, &mut settings, from, token, hello.resume, conn).await,
        Identity::Gateway => {
            let welcome = p::GatewayEvent::Welcome(welcome(&app, role, false, crate::auth::new_token()));
            if socket.send_json(&welcome).await {
                let _here = app.gateway_connected();
                gateway::run(&mut socket, &mut settings, &app.router, conn).await;
            }
        }
    }
    app.metrics.ws_connections.with_label_values(&[role]).dec();
}

fn welcome(app: &App, role: &str, resumed: bool, resume_token: String) -> p::Welcome {
    p::Welcome {
        protocol: p::PROTOCOL_VERSION,
        resume_token,
        heartbeat_secs: app.config.heartbeat_secs,
        resume_grace_secs: app.config.resume_grace_secs,
        resumed,
        ice_servers: crate::turn::ice_servers(&app.config, crate::store::now_ms() / 1000, role),
    }
}

/// A role whose events are numbered: desks and interpreters.
trait Numbered: Send + 'static {
    type Event: frame::RoleEvent + std::fmt::Debug;
    fn outbox(tx: mpsc::Sender<Out<Self::Event>>) -> Outbox;
    fn welcome(w: p::Welcome) -> Self::Event;
}

struct DeskCommands {
    router: SharedRouter,
    /// Where a referral is checked: the municipality's partner directory is records'
    /// data, not the writer's.
    store: crate::store::Store,
    /// Seals a handling note before the command goes on: the writer never holds its text.
    notes: std::sync::Arc<crate::notes::NoteKey>,
    desk: i64,
    tenant: i64,
}

impl Numbered for DeskCommands {
    type Event = p::DeskEvent;
    fn outbox(tx: mpsc::Sender<Out<p::DeskEvent>>) -> Outbox {
        Outbox::Desk(tx)
    }
    fn welcome(w: p::Welcome) -> p::DeskEvent {
        p::DeskEvent::Welcome(w)
    }
}

impl Commands<p::DeskCommand> for DeskCommands {
    fn command(
        &self,
        mut cmd: p::DeskCommand,
    ) -> Pin<Box<dyn Future<Output = Result<(), p::ProtocolError>> + Send + '_>> {
        Box::pin(async move {
            if let p::DeskCommand::RecordOutcome { referral: Some(partner), .. } = &cmd {
                referral_allowed(&self.store, *partner, self.tenant).await?;
            }
            if let p::DeskCommand::RecordOutcome { note, .. } = &mut cmd {
                *note = seal_note(&self.store, &self.notes, self.tenant, note.take()).await?;
            }
            self.router.desk(self.desk, self.tenant, cmd).await
        })
    }
}

/// A handling note, sealed, where the desk's municipality keeps them; blank is none.
async fn seal_note(
    store: &crate::store::Store,
    key: &crate::notes::NoteKey,
    tenant: i64,
    note: Option<p::Note>,
) -> Result<Option<p::Note>, p::ProtocolError> {
    let invalid = |message: String| p::ProtocolError { code: p::ErrorCode::InvalidField, message };
    let unreachable = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "a handling note could not be kept");
        p::ProtocolError {
            code: p::ErrorCode::Internal,
            message: "the records cannot be reached now; try again".into(),
        }
    };
    let Some(text) = note
        .as_ref()
        .map(|n| crate::notes::checked(&n.0))
        .transpose()
        .map_err(|e| invalid(format!("note: {e}")))?
        .flatten()
    else {
        return Ok(None);
    };
    if !store.handling_notes(tenant).await.map_err(|e| unreachable(&e))? {
        return Err(invalid("note: this municipality does not keep handling notes".into()));
    }
    key.seal(tenant, text).map(|sealed| Some(p::Note(sealed))).map_err(|e| unreachable(&e))
}

/// A referral names a partner of the desk's own municipality that is not retired.
async fn referral_allowed(store: &crate::store::Store, partner: i64, tenant: i64) -> Result<(), p::ProtocolError> {
    match store.partner(partner).await {
        Ok(Some(p)) if p.tenant == tenant && !p.retired => Ok(()),
        Ok(_) => Err(p::ProtocolError {
            code: p::ErrorCode::InvalidField,
            message: format!("referral: no partner {partner} of this municipality"),
        }),
        Err(e) => {
            tracing::error!(error = %e, "a referral could not be checked");
            Err(p::ProtocolError {
                code: p::ErrorCode::Internal,
                message: "the records cannot be reached now; try again".into(),
            })
        }
    }
}

struct InterpreterCommands {
    router: SharedRouter,
    id: i64,
}

impl Numbered for InterpreterCommands {
    type Event = p::InterpreterEvent;
    fn outbox(tx: mpsc::Sender<Out<p::InterpreterEvent>>) -> Outbox {
        Outbox::Interpreter(tx)
    }
    fn welcome(w: p::Welcome) -> p::InterpreterEvent {
        p::InterpreterEvent::Welcome(w)
    }
}

impl Commands<p::InterpreterCommand> for InterpreterCommands {
    fn command(
        &self,
        cmd: p::InterpreterCommand,
    ) -> Pin<Box<dyn Future<Output = Result<(), p::ProtocolError>> + Send + '_>> {
        Box::pin(self.router.interpreter(self.id, cmd))
    }
}

struct MemberCommands {
    router: SharedRouter,
    member: MemberKey,
}

impl Commands<p::ResidentCommand> for MemberCommands {
    fn command(
        &self,
        cmd: p::ResidentCommand,
    ) -> Pin<Box<dyn Future<Output = Result<(), p::ProtocolError>> + Send + '_>> {
        Box::pin(self.router.member(self.member, cmd))
    }
}

/// A desk's or interpreter's connection: attach (resuming if it can), welcome, the loop,
/// detach.
#[allow(clippy::too_many_arguments)]
async fn numbered<S, R, E, K, C>(
    socket: &mut Socket<S, R>,
    app: &App,
    settings: &mut Settings,
    mut lifetime: Lifetime,
    client: Client,
    conn: u64,
    hello: &p::Hello,
    commands: &K,
) where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
    K: Numbered + Commands<C>,
    C: frame::Command,
{
    let role = match client {
        Client::Desk(_) => "desk",
        Client::Interpreter(_) => "interpreter",
    };
    let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
    let attached = app.router.attach(client, conn, K::outbox(tx), hello.resume.clone(), hello.last_seq).await;
    let Ok(attached) = attached else {
        let e = p::ProtocolError { code: p::ErrorCode::ShuttingDown, message: "the server is stopping".into() };
        return socket.refuse::<K::Event>(e, p::CloseReason::ShuttingDown).await;
    };
    let w = welcome(app, role, attached.resumed, attached.resume_token);
    let ended = if socket.send_json(&K::welcome(w)).await {
        conn::run::<C, K::Event, S, R, E>(socket, settings, &mut lifetime, rx, commands).await
    } else {
        conn::Ended { written: 0, reason: p::CloseReason::Done, by_client: true }
    };
    let session_over = matches!(ended.reason, p::CloseReason::SignedOut | p::CloseReason::Expired);
    app.router.detach(client, conn, ended.written, session_over).await;
}

/// A resident's or guest's connection from a link.
async fn link<S, R, E>(
    socket: &mut Socket<S, R>,
    app: &App,
    settings: &mut Settings,
    from: ClientAddr,
    token: String,
    resume: Option<String>,
    conn: u64,
) where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    let now = tokio::time::Instant::now();
    let ip = from.or_unspecified();
    if !app.guard.allowed(ip, now) {
        let e =
            p::ProtocolError { code: p::ErrorCode::RateLimited, message: "too many attempts; wait a minute".into() };
        return socket.refuse::<p::ResidentEvent>(e, p::CloseReason::Refused).await;
    }
    let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
    let joined = match app.router.join(token, resume, conn, tx).await {
        Ok(j) => j,
        Err(e) => {
            if e.code == p::ErrorCode::Unauthorized {
                let _ = app.guard.spend(ip, now);
            }
            // A page reconnecting to a seat another screen holds now: closed as replaced,
            // so it does not retry.
            let reason =
                if e.code == p::ErrorCode::NotAllowed { p::CloseReason::Replaced } else { p::CloseReason::Refused };
            return socket.refuse::<p::ResidentEvent>(e, reason).await;
        }
    };
    let member = joined.member;
    let w = p::ResidentEvent::Welcome(welcome(app, "resident", joined.resumed, joined.resume_token));
    if socket.send_json(&w).await {
        let commands = MemberCommands { router: app.router.clone(), member };
        let ended = conn::run::<p::ResidentCommand, p::ResidentEvent, S, R, E>(
            socket,
            settings,
            &mut Lifetime::lasting(),
            rx,
            &commands,
        )
        .await;
        tracing::debug!(reason = ended.reason.reason(), "link connection ended");
    }
    app.router.member_left(member, conn).await;
}
