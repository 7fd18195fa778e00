//! The hub: one task that owns the dispatch engine and the connected clients' channels.
//!
//! Connections send [`Cmd`]s; the hub applies them to the engine, turns the engine's
//! outputs into protocol events for the clients concerned, and writes a call record for
//! every request that ends, before telling anyone it ended. It also fires the engine's
//! timers, pushes queue positions to waiting desks, refreshes gauges, and ends the
//! sessions of clients that dropped and did not come back within the grace period.

use std::collections::HashMap;
use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::store::{CallRecord, RecordOutcome, Store};

/// Events queued for one client before it counts as too slow and is dropped.
pub const CLIENT_QUEUE: usize = 256;

/// Events kept for a desk or an interpreter to resume with; the oldest go first beyond
/// this.
const MISSED: usize = 128;

/// A numbered event on its way to a desk's or an interpreter's connection.
pub type Numbered<E> = (u64, E);

/// The recent events of one desk or interpreter, numbered, so that a client that
/// resumes gets again what it did not receive: what its old connection never wrote,
/// what it wrote but the client never read (the network went), and what happened while
/// it was away.
#[derive(Debug)]
struct Recent<E> {
    /// The number of the last event sent.
    last: u64,
    /// The last number a closed connection wrote to its socket (what a client that does
    /// not say `last_seq` is taken to have).
    written: u64,
    /// Events worth sending again, oldest first, with when they were sent.
    kept: std::collections::VecDeque<(u64, Instant, E)>,
}

impl<E: Clone> Recent<E> {
    fn new() -> Recent<E> {
        Recent { last: 0, written: 0, kept: std::collections::VecDeque::new() }
    }

    fn number(&mut self) -> u64 {
        self.last += 1;
        self.last
    }

    /// Number an event, and keep it if it is worth sending again (`window` as for
    /// [`Recent::keep`]).
    fn record(&mut self, event: &E, worth_keeping: bool, window: Option<Duration>) -> u64 {
        let seq = self.number();
        if worth_keeping {
            self.keep(seq, Instant::now(), event.clone(), window);
        }
        seq
    }

    /// Keep an event. While the client is connected, events older than `window` are
    /// let go: a connection that dies silently is noticed within it, so the client
    /// either had them or will resume and get them again.
    fn keep(&mut self, seq: u64, now: Instant, event: E, window: Option<Duration>) {
        if let Some(window) = window {
            while self.kept.front().is_some_and(|(_, at, _)| now.duration_since(*at) > window) {
                self.kept.pop_front();
            }
        }
        if self.kept.len() == MISSED {
            self.kept.pop_front();
        }
        self.kept.push_back((seq, now, event));
    }

    /// The kept events after `seen` (or after what the last connection wrote), in order.
    fn after(&self, seen: Option<u64>) -> Vec<Numbered<E>> {
        let seen = seen.unwrap_or(self.written);
        self.kept.iter().filter(|(seq, ..)| *seq > seen).map(|(seq, _, e)| (*seq, e.clone())).collect()
    }
}

/// The engine's time: wall-clock milliseconds, advanced by tokio's clock (so tests can
/// pause and advance time).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base_ms: i64,
    base: Instant,
}

impl Clock {
    /// A clock reading the system time now.
    pub fn new() -> Clock {
        Clock { base_ms: crate::store::now_ms(), base: Instant::now() }
    }

    /// The current instant.
    pub fn now(&self) -> d::Timestamp {
        d::Timestamp::from_millis(self.base_ms + self.base.elapsed().as_millis() as i64)
    }

    /// The tokio instant of a timestamp.
    pub fn instant(&self, t: d::Timestamp) -> Instant {
        let ms = (t.as_millis() - self.base_ms).max(0) as u64;
        self.base + Duration::from_millis(ms)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// The hub's settings.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// How long a dropped client's session is kept for it to resume.
    pub grace: Duration,
    /// The interval of the connections' heartbeats.
    pub heartbeat: Duration,
    /// How long an invite link works.
    pub invite_ttl: Duration,
    /// The base of invite links (`https://kakehashi.example`).
    pub public_base: String,
    /// The media relay's task; `None` runs without media.
    pub media: Option<mpsc::Sender<crate::media::MediaCmd>>,
}

/// Who gets what the relay says about a leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Desk(i64),
    Interpreter(i64),
    Resident(u64),
}

impl Owner {
    /// The metric label of the participant's role.
    fn role(self) -> &'static str {
        match self {
            Owner::Desk(_) => "desk",
            Owner::Interpreter(_) => "interpreter",
            Owner::Resident(_) => "resident",
        }
    }

    /// The participant's number within its call, for the relay: stable across the
    /// participant's reconnections (one desk, one interpreter, one resident per call).
    fn participant(self) -> u64 {
        match self {
            Owner::Desk(_) => 0,
            Owner::Interpreter(_) => 1,
            Owner::Resident(_) => 2,
        }
    }
}

/// A call's media quality so far: each leg's latest statistics (a leg replaced by a
/// reconnect keeps its last), and the reconnections.
#[derive(Debug, Default)]
struct Quality {
    legs: HashMap<kakehashi_relay::LegId, kakehashi_relay::LegStats>,
    rtt_sum: f64,
    rtt_samples: u32,
    reconnects: i64,
}

impl Quality {
    /// (loss fraction, mean round trip ms, reconnects) for the call record; `None`s for
    /// a call without media.
    fn summary(&self) -> (Option<f64>, Option<f64>, Option<i64>) {
        if self.legs.is_empty() {
            return (None, None, None);
        }
        let (mut lost, mut expected) = (0u64, 0u64);
        for s in self.legs.values() {
            for m in [&s.audio, &s.video] {
                lost += m.packets_lost + m.remote_packets_lost;
                expected += m.packets_received + m.packets_lost + m.packets_sent;
            }
        }
        let loss = if expected == 0 { 0.0 } else { lost as f64 / expected as f64 };
        let rtt = (self.rtt_samples > 0).then(|| self.rtt_sum / f64::from(self.rtt_samples) * 1000.0);
        (Some(loss), rtt, Some(self.reconnects))
    }
}

/// A media leg's place: its call, whose it is, where its messages go.
#[derive(Clone, Copy, Debug)]
struct LegOwner {
    call: d::RequestId,
    owner: Owner,
}

/// A resident's invite: bound to a live call and its language, used once.
#[derive(Clone, Debug)]
struct Invite {
    call: d::RequestId,
    language: String,
    expires_at: d::Timestamp,
}

/// Who a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Client {
    /// A desk: (desk id, tenant id).
    Desk(i64, i64),
    /// An interpreter.
    Interpreter(i64),
}

/// A resident in a call.
#[derive(Debug)]
pub struct ResidentJoined {
    /// The resident's number for its commands (stable across its reconnections).
    pub id: u64,
    /// The page's language.
    pub language: String,
    /// The token to come back with after a drop.
    pub resume_token: String,
    /// Whether this connection took over a dropped one.
    pub resumed: bool,
}

/// A resident's place: its call, its current connection and channel.
#[derive(Debug)]
struct Resident {
    call: d::RequestId,
    tx: mpsc::Sender<p::ResidentEvent>,
    conn: u64,
    /// The hash of its resume token.
    resume: String,
    /// Its connection dropped; it is held until then.
    dropped_until: Option<Instant>,
}

/// A channel to one connection.
#[derive(Debug)]
pub enum Outbox {
    /// To a desk.
    Desk(mpsc::Sender<Numbered<p::DeskEvent>>),
    /// To an interpreter.
    Interpreter(mpsc::Sender<Numbered<p::InterpreterEvent>>),
}

type Reply = oneshot::Sender<Result<(), p::ProtocolError>>;

/// What connections ask of the hub.
#[derive(Debug)]
pub enum Cmd {
    /// A connection of `client` opened; `conn` identifies it. `resume` and `last_seq`
    /// are the `hello`'s; the reply says whether the earlier session was taken back, and
    /// gives the token for the next resume.
    Attach {
        client: Client,
        conn: u64,
        outbox: Outbox,
        resume: Option<String>,
        last_seq: Option<u64>,
        reply: oneshot::Sender<(bool, String)>,
    },
    /// A resident opens an invite link, or comes back with its resume token after its
    /// connection dropped.
    ResidentJoin {
        token: String,
        resume: Option<String>,
        conn: u64,
        outbox: mpsc::Sender<p::ResidentEvent>,
        reply: oneshot::Sender<Result<ResidentJoined, p::ProtocolError>>,
    },
    /// An invite link's language and expiry, without using it up: `None` when it no
    /// longer works.
    PeekInvite { token: String, reply: oneshot::Sender<Option<(String, d::Timestamp)>> },
    /// A resident's command (`id` from [`ResidentJoined`]).
    Resident { id: u64, cmd: p::ResidentCommand, reply: Reply },
    /// A resident's connection `conn` closed: it may come back within the grace.
    ResidentLeft { id: u64, conn: u64 },
    /// That connection closed; `written` is the number of the last event it wrote.
    Detach { client: Client, conn: u64, written: u64 },
    /// A desk command.
    Desk { desk: i64, tenant: i64, cmd: p::DeskCommand, reply: Reply },
    /// An interpreter command.
    Interpreter { id: i64, cmd: p::InterpreterCommand, reply: Reply },
    /// A supervisor's snapshot of a tenant (or all, for an admin).
    Snapshot { tenant: Option<i64>, reply: oneshot::Sender<p::SupervisorEvent> },
    /// A call record was written (from the writer task).
    Recorded { call: d::RequestId, id: i64, tenant: i64, desk: i64 },
    /// An event for a desk, from a task that wrote a record first: sent now, or kept
    /// for the desk if its connection is down.
    ToDesk { desk: i64, event: p::DeskEvent },
    /// The same for an interpreter.
    ToInterpreter { id: i64, event: p::InterpreterEvent },
    /// A change to the directory, already stored.
    Directory { change: DirectoryChange, reply: Reply },
    /// Close a client's connection and end its session (its credential was revoked).
    /// For a desk only the desk id matters.
    Kick { client: Client },
    /// The media relay speaks.
    Media(crate::media::MediaEvent),
    /// Stop taking requests (draining before shutdown).
    Drain,
    /// How many calls are live (for draining).
    LiveCalls { reply: oneshot::Sender<usize> },
}

/// A directory change for the live engine.
#[derive(Debug)]
pub enum DirectoryChange {
    /// A new tenant (id, name, spec).
    Tenant(i64, String, Box<d::TenantSpec>),
    /// A tenant's new policy.
    Policy(i64, Box<d::RoutingPolicy>),
    /// A new desk (desk, tenant).
    Desk(i64, i64),
    /// A new interpreter.
    Interpreter(Box<d::InterpreterSpec>),
    /// An interpreter's new profile.
    UpdateInterpreter(Box<d::InterpreterSpec>),
}

#[derive(Clone, Debug)]
struct Pending {
    tenant: i64,
    desk: i64,
    language: String,
    modality: d::Modality,
    speciality: Option<d::Speciality>,
    requested_at: i64,
    offered_at: Option<i64>,
    offers: i64,
    interpreter: Option<i64>,
    answered_at: Option<i64>,
    last_position: Option<(u32, p::WaitEstimate, bool)>,
}

struct Attached<T> {
    conn: u64,
    tx: mpsc::Sender<T>,
}

/// The hub's state; run it with [`Hub::run`].
pub struct Hub {
    engine: d::Engine,
    clock: Clock,
    store: Store,
    metrics: Metrics,
    grace: Duration,
    tenant_names: HashMap<i64, String>,
    tiers: HashMap<i64, d::Tier>,
    pending: HashMap<d::RequestId, Pending>,
    /// Calls whose record is written, for the desk's outcome category: call → (record id,
    /// tenant, desk, when). Kept for a day.
    recorded: HashMap<d::RequestId, (i64, i64, i64, Instant)>,
    desks: HashMap<i64, Attached<Numbered<p::DeskEvent>>>,
    interpreters: HashMap<i64, Attached<Numbered<p::InterpreterEvent>>>,
    /// Residents in calls, by their number (their first connection's).
    residents: HashMap<u64, Resident>,
    /// Open invites by token hash.
    invites: HashMap<String, Invite>,
    /// The token each client can resume with.
    resume_tokens: HashMap<Client, String>,
    invite_ttl: Duration,
    public_base: String,
    media: Option<mpsc::Sender<crate::media::MediaCmd>>,
    /// Media legs and whose they are.
    media_legs: HashMap<kakehashi_relay::LegId, LegOwner>,
    /// Every leg whose statistics may still come (open, or removed and awaiting its last),
    /// with its latest statistics, for metric deltas. A leg leaves when the relay reports
    /// it removed, or when it is replaced by its participant's new leg.
    media_seen: HashMap<kakehashi_relay::LegId, (LegOwner, Option<kakehashi_relay::LegStats>)>,
    /// Media quality of live calls, for their records.
    media_quality: HashMap<d::RequestId, Quality>,
    /// Offers sent to the relay and not yet answered, by tag.
    media_offers: HashMap<u64, LegOwner>,
    next_tag: u64,
    /// Dropped clients and when their grace ends.
    dropped: HashMap<Client, Instant>,
    /// The recent events of desks and interpreters with a session, for their resumes.
    recent_desk: HashMap<i64, Recent<p::DeskEvent>>,
    recent_interpreter: HashMap<i64, Recent<p::InterpreterEvent>>,
    /// How long a connected client's events are kept: three heartbeats (a dead
    /// connection is noticed within them) and a margin.
    window: Duration,
    draining: bool,
    tx: mpsc::Sender<Cmd>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("pending", &self.pending.len()).field("draining", &self.draining).finish()
    }
}

fn err(code: p::ErrorCode, message: impl Into<String>) -> p::ProtocolError {
    p::ProtocolError { code, message: message.into() }
}

fn engine_error(e: d::Error) -> p::ProtocolError {
    use d::Error as E;
    let code = match &e {
        E::UnknownRequest(_) | E::UnknownOffer(_) | E::NotYourOffer { .. } | E::UnknownBooking(_) => {
            p::ErrorCode::NotFound
        }
        E::OfferClosed(_) | E::NotWaiting(_) | E::NotInCall(_) | E::InvalidTransition { .. } => {
            p::ErrorCode::NotAllowed
        }
        E::Invalid { .. } => p::ErrorCode::InvalidField,
        _ => p::ErrorCode::Internal,
    };
    err(code, e.to_string())
}

fn rfc3339(t: d::Timestamp) -> String {
    jiff::Timestamp::from_millisecond(t.as_millis()).map(|t| t.to_string()).unwrap_or_default()
}

fn estimate(e: d::WaitEstimate) -> p::WaitEstimate {
    match e {
        d::WaitEstimate::UnderOneMinute => p::WaitEstimate::UnderOneMinute,
        d::WaitEstimate::OneToThreeMinutes => p::WaitEstimate::OneToThreeMinutes,
        d::WaitEstimate::ThreeToFiveMinutes => p::WaitEstimate::ThreeToFiveMinutes,
        d::WaitEstimate::FiveToTenMinutes => p::WaitEstimate::FiveToTenMinutes,
        d::WaitEstimate::TenToTwentyMinutes => p::WaitEstimate::TenToTwentyMinutes,
        d::WaitEstimate::OverTwentyMinutes => p::WaitEstimate::OverTwentyMinutes,
        d::WaitEstimate::Unknown => p::WaitEstimate::Unknown,
    }
}

fn modality_in(m: Option<p::Modality>) -> d::Modality {
    match m {
        None | Some(p::Modality::Video) => d::Modality::Video,
        Some(p::Modality::Audio) => d::Modality::Audio,
        Some(p::Modality::Phone) => d::Modality::Phone,
    }
}

fn modality_out(m: d::Modality) -> p::Modality {
    match m {
        d::Modality::Video => p::Modality::Video,
        d::Modality::Audio => p::Modality::Audio,
        d::Modality::Phone => p::Modality::Phone,
    }
}

fn speciality_in(s: p::Speciality) -> d::Speciality {
    match s {
        p::Speciality::General => d::Speciality::General,
        p::Speciality::Immigration => d::Speciality::Immigration,
        p::Speciality::Labour => d::Speciality::Labour,
        p::Speciality::Medical => d::Speciality::Medical,
        p::Speciality::Legal => d::Speciality::Legal,
        p::Speciality::MentalHealth => d::Speciality::MentalHealth,
    }
}

fn speciality_out(s: d::Speciality) -> p::Speciality {
    match s {
        d::Speciality::General => p::Speciality::General,
        d::Speciality::Immigration => p::Speciality::Immigration,
        d::Speciality::Labour => p::Speciality::Labour,
        d::Speciality::Medical => p::Speciality::Medical,
        d::Speciality::Legal => p::Speciality::Legal,
        d::Speciality::MentalHealth => p::Speciality::MentalHealth,
    }
}

fn presence_out(s: d::Presence) -> p::PresenceState {
    match s {
        d::Presence::Offline => p::PresenceState::Offline,
        d::Presence::Available => p::PresenceState::Available,
        d::Presence::Offered => p::PresenceState::Offered,
        d::Presence::InCall => p::PresenceState::InCall,
        d::Presence::WrapUp => p::PresenceState::WrapUp,
        d::Presence::NotReady(d::NotReadyReason::Manual) => p::PresenceState::NotReady,
        d::Presence::NotReady(d::NotReadyReason::MissedOffers) => p::PresenceState::NotReadyMissedOffers,
    }
}

fn id32(id: i64) -> u32 {
    u32::try_from(id).unwrap_or(u32::MAX)
}

/// Build the engine from the directory. Invalid rows are skipped with a warning (the
/// admin API refuses them; this guards against hand edits).
fn engine_from(directory: &Directory, now: d::Timestamp) -> (d::Engine, HashMap<i64, String>, HashMap<i64, d::Tier>) {
    let mut engine = d::Engine::new();
    let mut names = HashMap::new();
    let mut tiers = HashMap::new();
    for t in &directory.tenants {
        let Ok(tz) = crate::directory::time_zone(&t.time_zone, "time_zone") else {
            tracing::warn!(tenant = t.id, "tenant has an unknown time zone; skipped");
            continue;
        };
        let spec = d::TenantSpec {
            id: d::TenantId(id32(t.id)),
            foreign_residents: u32::try_from(t.foreign_residents).unwrap_or(u32::MAX),
            time_zone: tz,
            policy: match t.policy.as_ref().map(|p| p.to_policy()) {
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    tracing::warn!(tenant = t.id, error = %e, "stored policy refused; using the defaults");
                    d::RoutingPolicy::default()
                }
                None => d::RoutingPolicy::default(),
            },
        };
        if engine.add_tenant(now, spec).is_ok() {
            names.insert(t.id, t.name.clone());
        }
    }
    for desk in &directory.desks {
        if let Err(e) = engine.add_desk(now, d::DeskId(id32(desk.id)), d::TenantId(id32(desk.tenant_id))) {
            tracing::warn!(desk = desk.id, error = %e, "desk skipped");
        }
    }
    for i in &directory.interpreters {
        match i.to_spec() {
            Ok(spec) => {
                tiers.insert(i.id, spec.tier);
                if let Err(e) = engine.add_interpreter(now, spec) {
                    tracing::warn!(interpreter = i.id, error = %e, "interpreter skipped");
                }
            }
            Err(e) => tracing::warn!(interpreter = i.id, error = %e, "interpreter skipped"),
        }
    }
    while engine.poll_output().is_some() {}
    (engine, names, tiers)
}

impl Hub {
    /// A hub over the stored directory, and the sender connections use to reach it.
    pub fn new(
        directory: &Directory,
        store: Store,
        metrics: Metrics,
        clock: Clock,
        settings: HubSettings,
    ) -> (Hub, mpsc::Sender<Cmd>, mpsc::Receiver<Cmd>) {
        let (tx, rx) = mpsc::channel(4096);
        let (engine, tenant_names, tiers) = engine_from(directory, clock.now());
        let hub = Hub {
            engine,
            clock,
            store,
            metrics,
            grace: settings.grace,
            tenant_names,
            tiers,
            pending: HashMap::new(),
            recorded: HashMap::new(),
            desks: HashMap::new(),
            interpreters: HashMap::new(),
            dropped: HashMap::new(),
            recent_desk: HashMap::new(),
            recent_interpreter: HashMap::new(),
            window: settings.heartbeat * 3 + Duration::from_secs(10),
            residents: HashMap::new(),
            invites: HashMap::new(),
            resume_tokens: HashMap::new(),
            invite_ttl: settings.invite_ttl,
            public_base: settings.public_base,
            media: settings.media,
            media_legs: HashMap::new(),
            media_seen: HashMap::new(),
            media_quality: HashMap::new(),
            media_offers: HashMap::new(),
            next_tag: 1,
            draining: false,
            tx: tx.clone(),
        };
        (hub, tx, rx)
    }

    /// Run until every sender is dropped.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = self.engine.poll_timeout().map(|t| self.clock.instant(t));
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                () = async { match wake { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                    self.engine.handle_timeout(self.clock.now());
                }
                _ = tick.tick() => self.each_second(),
            }
            self.flush();
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        let now = self.clock.now();
        match cmd {
            Cmd::Attach { client, conn, outbox, resume, last_seq, reply } => {
                let held = self.dropped.contains_key(&client) || self.attached(client);
                let resumed = held && resume.is_some() && self.resume_tokens.get(&client) == resume.as_ref();
                if self.dropped.remove(&client).is_some() && !resumed {
                    // A fresh start: what the dropped session held ends now.
                    self.end_session(now, client);
                }
                let token = crate::auth::new_token();
                self.resume_tokens.insert(client, token.clone());
                let _ = reply.send((resumed, token));
                if resumed {
                    self.tell_calls_of(client, true);
                }
                match (client, outbox) {
                    (Client::Desk(desk, _), Outbox::Desk(tx)) => {
                        // What it did not receive comes first, in order; a fresh start
                        // has nothing to catch up on.
                        let recent = self.recent_desk.entry(desk).or_insert_with(Recent::new);
                        if resumed {
                            for e in recent.after(last_seq) {
                                let _ = tx.try_send(e);
                            }
                        } else {
                            recent.kept.clear();
                        }
                        self.desks.insert(desk, Attached { conn, tx });
                        // Tell a resumed desk where its requests stand at the next tick.
                        for p in self.pending.values_mut().filter(|p| p.desk == desk) {
                            p.last_position = None;
                        }
                    }
                    (Client::Interpreter(id), Outbox::Interpreter(tx)) => {
                        let recent = self.recent_interpreter.entry(id).or_insert_with(Recent::new);
                        if resumed {
                            for e in recent.after(last_seq) {
                                let _ = tx.try_send(e);
                            }
                        } else {
                            recent.kept.clear();
                        }
                        self.interpreters.insert(id, Attached { conn, tx });
                        let presence = self.engine.presence(d::InterpreterId(id32(id))).map(presence_out);
                        if let Ok(presence) = presence {
                            self.send_interpreter(id, p::InterpreterEvent::Presence { presence });
                        }
                    }
                    _ => {}
                }
            }
            Cmd::ResidentJoin { token, resume, conn, outbox, reply } => {
                let result = self.resident_join(now, &token, resume, conn, outbox);
                let _ = reply.send(result);
            }
            Cmd::PeekInvite { token, reply } => {
                let live = self
                    .invites
                    .get(&crate::auth::hash_token(&token))
                    .filter(|i| {
                        i.expires_at > now && self.pending.get(&i.call).is_some_and(|p| p.answered_at.is_some())
                    })
                    .map(|i| (i.language.clone(), i.expires_at));
                let _ = reply.send(live);
            }
            Cmd::Resident { id, cmd, reply } => {
                let result = self.resident_command(id, cmd);
                let _ = reply.send(result);
            }
            Cmd::ResidentLeft { id, conn } => {
                let grace = self.grace;
                if let Some(r) = self.residents.get_mut(&id).filter(|r| r.conn == conn && r.dropped_until.is_none()) {
                    // Held for the grace: a phone that changed networks comes back.
                    r.dropped_until = Some(Instant::now() + grace);
                    let call = r.call;
                    self.tell_call(call, p::Party::Resident, false);
                }
            }
            Cmd::Detach { client, conn, written } => {
                let current = match client {
                    Client::Desk(desk, _) => self.desks.get(&desk).map(|a| a.conn),
                    Client::Interpreter(id) => self.interpreters.get(&id).map(|a| a.conn),
                };
                if current == Some(conn) {
                    match client {
                        Client::Desk(desk, _) => {
                            self.desks.remove(&desk);
                        }
                        Client::Interpreter(id) => {
                            self.interpreters.remove(&id);
                        }
                    }
                    self.dropped.insert(client, Instant::now() + self.grace);
                }
                // Unless a newer connection has it already: a client that resumes
                // without saying what it received is taken to have what this one
                // wrote, and the others in its calls hear that it dropped (it may come
                // back). (A connection let go for being slow is no longer current when
                // its detach comes.)
                if current == Some(conn) || current.is_none() {
                    match client {
                        Client::Desk(desk, _) => {
                            if let Some(r) = self.recent_desk.get_mut(&desk) {
                                r.written = written;
                            }
                        }
                        Client::Interpreter(id) => {
                            if let Some(r) = self.recent_interpreter.get_mut(&id) {
                                r.written = written;
                            }
                        }
                    }
                    self.tell_calls_of(client, false);
                }
            }
            Cmd::Desk { desk, tenant, cmd, reply } => {
                let result = self.desk_command(now, desk, tenant, cmd);
                let _ = reply.send(result);
            }
            Cmd::Interpreter { id, cmd, reply } => {
                let result = self.interpreter_command(now, id, cmd);
                let _ = reply.send(result);
            }
            Cmd::Snapshot { tenant, reply } => {
                let _ = reply.send(self.snapshot(tenant));
            }
            Cmd::Recorded { call, id, tenant, desk } => {
                self.recorded.insert(call, (id, tenant, desk, Instant::now()));
            }
            Cmd::ToDesk { desk, event } => self.send_desk(desk, event),
            Cmd::ToInterpreter { id, event } => self.send_interpreter(id, event),
            Cmd::Directory { change, reply } => {
                let result = self.directory(now, change);
                let _ = reply.send(result);
            }
            Cmd::Kick { client } => {
                // The credential is revoked: the connection closes and the session ends now.
                match client {
                    Client::Desk(desk, _) => {
                        self.desks.remove(&desk);
                    }
                    Client::Interpreter(id) => {
                        self.interpreters.remove(&id);
                    }
                }
                // Keys hold the tenant too; the API knows only the desk, so match on ids.
                let same = |c: &Client| match (c, client) {
                    (Client::Desk(a, _), Client::Desk(b, _)) => *a == b,
                    (c, client) => *c == client,
                };
                self.dropped.retain(|c, _| !same(c));
                self.resume_tokens.retain(|c, _| !same(c));
                self.end_session(now, client);
                self.forget_missed(client);
            }
            Cmd::Media(event) => {
                self.media_event(event);
                self.count_media_legs();
            }
            Cmd::Drain => self.draining = true,
            Cmd::LiveCalls { reply } => {
                let _ = reply.send(self.pending.values().filter(|p| p.answered_at.is_some()).count());
            }
        }
    }

    fn directory(&mut self, now: d::Timestamp, change: DirectoryChange) -> Result<(), p::ProtocolError> {
        match change {
            DirectoryChange::Tenant(id, name, spec) => {
                self.engine.add_tenant(now, *spec).map_err(engine_error)?;
                self.tenant_names.insert(id, name);
            }
            DirectoryChange::Policy(tenant, policy) => {
                self.engine.set_policy(now, d::TenantId(id32(tenant)), *policy).map_err(engine_error)?;
            }
            DirectoryChange::Desk(desk, tenant) => {
                self.engine.add_desk(now, d::DeskId(id32(desk)), d::TenantId(id32(tenant))).map_err(engine_error)?;
            }
            DirectoryChange::Interpreter(spec) => {
                let (id, tier) = (i64::from(spec.id.0), spec.tier);
                self.engine.add_interpreter(now, *spec).map_err(engine_error)?;
                self.tiers.insert(id, tier);
            }
            DirectoryChange::UpdateInterpreter(spec) => {
                let (id, tier) = (i64::from(spec.id.0), spec.tier);
                self.engine.update_interpreter(now, *spec).map_err(engine_error)?;
                self.tiers.insert(id, tier);
            }
        }
        Ok(())
    }

    fn desk_command(
        &mut self,
        now: d::Timestamp,
        desk: i64,
        tenant: i64,
        cmd: p::DeskCommand,
    ) -> Result<(), p::ProtocolError> {
        match cmd {
            p::DeskCommand::RequestInterpreter { language, modality, speciality, urgent, preferred_interpreter } => {
                if self.draining {
                    return Err(err(p::ErrorCode::ShuttingDown, "the server is restarting; try again in a moment"));
                }
                let lang = d::LanguageId::parse(&language)
                    .map_err(|e| err(p::ErrorCode::InvalidField, format!("language: {e}")))?;
                let mut spec = d::RequestSpec::new(d::TenantId(id32(tenant)), d::DeskId(id32(desk)), lang);
                spec.modality = modality_in(modality);
                spec.speciality = speciality.map(speciality_in);
                spec.priority = if urgent { d::Priority::Urgent } else { d::Priority::Normal };
                spec.preferred = preferred_interpreter.map(d::InterpreterId);
                if spec.preferred.is_some_and(|i| self.engine.presence(i).is_err()) {
                    spec.preferred = None;
                }
                let pending = Pending {
                    tenant,
                    desk,
                    language: lang.tag().to_string(),
                    modality: spec.modality,
                    speciality: spec.speciality,
                    requested_at: now.as_millis(),
                    offered_at: None,
                    offers: 0,
                    interpreter: None,
                    answered_at: None,
                    last_position: None,
                };
                // The id the engine will issue is only known after submit; outputs are
                // drained afterwards, so registering then is in time.
                let id = self.engine.submit(now, spec).map_err(engine_error)?;
                self.pending.insert(id, pending);
                Ok(())
            }
            p::DeskCommand::CancelRequest { request } => {
                let id = self.own_request(desk, request)?;
                self.engine.cancel(now, id).map_err(engine_error)
            }
            p::DeskCommand::EndCall { call } => {
                let id = self.own_request(desk, call)?;
                self.end_call(now, id, p::Party::Desk)
            }
            p::DeskCommand::RecordOutcome { call, outcome } => {
                let key = d::RequestId(call);
                let (record, rec_tenant) = match self.recorded.get(&key) {
                    Some(&(r, t, d, _)) if t == tenant && d == desk => {
                        self.recorded.remove(&key);
                        (r, t)
                    }
                    _ => return Err(err(p::ErrorCode::NotFound, format!("no ended call {call} of this desk"))),
                };
                let (store, hub) = (self.store.clone(), self.tx.clone());
                let label = match outcome {
                    p::OutcomeCategory::Resolved => "resolved",
                    p::OutcomeCategory::Referred => "referred",
                    p::OutcomeCategory::FollowUp => "follow_up",
                    p::OutcomeCategory::Interrupted => "interrupted",
                };
                tokio::spawn(async move {
                    match store.set_desk_outcome(record, rec_tenant, label).await {
                        Ok(true) => {
                            let _ = hub.send(Cmd::ToDesk { desk, event: p::DeskEvent::OutcomeRecorded { call } }).await;
                        }
                        Ok(false) => {}
                        Err(e) => tracing::error!(error = %e, "could not record the desk's outcome"),
                    }
                });
                Ok(())
            }
            p::DeskCommand::InviteResident { call } => self.invite(now, desk, call),
            p::DeskCommand::Sdp { call, description } => {
                let id = self.own_request(desk, call)?;
                self.media_sdp(id, LegOwner { call: id, owner: Owner::Desk(desk) }, description)
            }
            p::DeskCommand::Ice { call, .. } => {
                self.own_request(desk, call)?;
                self.media_ice()
            }
            p::DeskCommand::Document { call, document } => {
                let id = self.own_request(desk, call)?;
                self.share_document(id, p::Party::Desk, None, document)
            }
            p::DeskCommand::Ping {} => {
                self.send_desk(desk, p::DeskEvent::Pong);
                Ok(())
            }
        }
    }

    /// A request of this desk, or `not_found` (also for other desks' requests).
    fn own_request(&self, desk: i64, request: u64) -> Result<d::RequestId, p::ProtocolError> {
        let id = d::RequestId(request);
        match self.pending.get(&id) {
            Some(p) if p.desk == desk => Ok(id),
            _ => Err(err(p::ErrorCode::NotFound, format!("no request {request} of this desk"))),
        }
    }

    fn interpreter_command(
        &mut self,
        now: d::Timestamp,
        id: i64,
        cmd: p::InterpreterCommand,
    ) -> Result<(), p::ProtocolError> {
        let me = d::InterpreterId(id32(id));
        match cmd {
            p::InterpreterCommand::SetAvailability { availability } => {
                let a = match availability {
                    p::Availability::Available => d::Availability::Available,
                    p::Availability::NotReady => d::Availability::NotReady,
                    p::Availability::Offline => d::Availability::Offline,
                };
                self.engine.set_availability(now, me, a).map_err(engine_error)
            }
            p::InterpreterCommand::Accept { offer } => {
                self.engine.accept(now, d::OfferId(offer), me).map_err(engine_error)
            }
            p::InterpreterCommand::Decline { offer } => {
                self.engine.decline(now, d::OfferId(offer), me).map_err(engine_error)
            }
            p::InterpreterCommand::EndCall { call } => {
                let call_id = d::RequestId(call);
                match self.pending.get(&call_id) {
                    Some(p) if p.interpreter == Some(id) => self.end_call(now, call_id, p::Party::Interpreter),
                    _ => Err(err(p::ErrorCode::NotFound, format!("no call {call} of yours"))),
                }
            }
            p::InterpreterCommand::Sdp { call, description } => {
                let call_id = d::RequestId(call);
                match self.pending.get(&call_id) {
                    Some(p) if p.interpreter == Some(id) => {}
                    _ => return Err(err(p::ErrorCode::NotFound, format!("no call {call} of yours"))),
                }
                let owner = LegOwner { call: call_id, owner: Owner::Interpreter(id) };
                self.media_sdp(call_id, owner, description)
            }
            p::InterpreterCommand::Ice { call, .. } => match self.pending.get(&d::RequestId(call)) {
                Some(p) if p.interpreter == Some(id) => self.media_ice(),
                _ => Err(err(p::ErrorCode::NotFound, format!("no call {call} of yours"))),
            },
            p::InterpreterCommand::Document { call, document } => match self.pending.get(&d::RequestId(call)) {
                Some(p) if p.interpreter == Some(id) => {
                    self.share_document(d::RequestId(call), p::Party::Interpreter, None, document)
                }
                _ => Err(err(p::ErrorCode::NotFound, format!("no call {call} of yours"))),
            },
            p::InterpreterCommand::Ping {} => {
                self.send_interpreter(id, p::InterpreterEvent::Pong);
                Ok(())
            }
        }
    }

    /// End a call: the engine first, then the record is written, and only then are the
    /// desk and the interpreter told.
    fn end_call(&mut self, now: d::Timestamp, call: d::RequestId, by: p::Party) -> Result<(), p::ProtocolError> {
        self.engine.end_call(now, call).map_err(engine_error)?;
        let Some(pending) = self.pending.remove(&call) else { return Ok(()) };
        // A resident in the call is told, and links to it stop working.
        let residents: Vec<u64> = self.residents.iter().filter(|(_, r)| r.call == call).map(|(k, _)| *k).collect();
        for id in residents {
            if let Some(r) = self.residents.remove(&id) {
                let _ = r.tx.try_send(p::ResidentEvent::CallEnded);
            }
        }
        self.invites.retain(|_, i| i.call != call);
        self.remove_media_of(call);
        let talk = now.as_millis() - pending.answered_at.unwrap_or(now.as_millis());
        self.metrics.call_duration.observe(talk as f64 / 1000.0);
        self.count_request(&pending, "answered");
        let mut record = self.record(&pending, RecordOutcome::Answered, now);
        // Quality up to the legs' latest statistics (at most `STATS_INTERVAL` old).
        (record.loss, record.rtt_ms, record.reconnects) =
            self.media_quality.remove(&call).map(|q| q.summary()).unwrap_or((None, None, None));
        let interpreter = pending.interpreter;
        let (store, hub, tenant, desk) = (self.store.clone(), self.tx.clone(), pending.tenant, pending.desk);
        tokio::spawn(async move {
            match store.insert_call_record(&record).await {
                Ok(id) => {
                    // Through the hub: it reaches the client's connection of now, or
                    // waits for it if the connection is down.
                    let _ = hub.send(Cmd::Recorded { call, id, tenant, desk }).await;
                    let _ = hub.send(Cmd::ToDesk { desk, event: p::DeskEvent::CallEnded { call: call.0, by } }).await;
                    if let Some(id) = interpreter {
                        let event = p::InterpreterEvent::CallEnded { call: call.0, by };
                        let _ = hub.send(Cmd::ToInterpreter { id, event }).await;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "call record not written; the end of the call is not acknowledged")
                }
            }
        });
        Ok(())
    }

    /// An SDP from a participant of a live call: an offer gets a new leg (replacing the
    /// participant's earlier one, as after a reconnect); an answer completes the relay's
    /// renegotiation.
    fn media_sdp(
        &mut self,
        call: d::RequestId,
        who: LegOwner,
        description: p::SessionDescription,
    ) -> Result<(), p::ProtocolError> {
        let Some(media) = self.media.clone() else {
            return Err(err(p::ErrorCode::MediaUnavailable, "this server runs without a media relay"));
        };
        if self.pending.get(&call).is_none_or(|p| p.answered_at.is_none()) {
            return Err(err(p::ErrorCode::NotAllowed, "media starts once the call is answered"));
        }
        let busy = |_| err(p::ErrorCode::Internal, "the media relay is busy; try again");
        match description.kind {
            p::SdpKind::Offer => {
                // A participant's new offer replaces its leg in the relay (a reconnect, a
                // network change): the relay closes the earlier one itself, so the others'
                // streams of this participant continue.
                let earlier: Vec<kakehashi_relay::LegId> = self
                    .media_legs
                    .iter()
                    .filter(|(_, o)| o.call == call && o.owner == who.owner)
                    .map(|(l, _)| *l)
                    .collect();
                if !earlier.is_empty() {
                    self.media_quality.entry(call).or_default().reconnects += 1;
                    self.metrics.media_reconnects.with_label_values(&[who.owner.role()]).inc();
                }
                for leg in earlier {
                    self.media_legs.remove(&leg);
                    self.media_seen.remove(&leg);
                }
                // A leg of the same participant in another call (it moved on) goes.
                self.remove_media_where(|o| o.owner == who.owner && o.call != call);
                let tag = self.next_tag;
                self.next_tag += 1;
                self.media_offers.insert(tag, who);
                let participant = who.owner.participant();
                media
                    .try_send(crate::media::MediaCmd::Offer { call: call.0, tag, participant, sdp: description.sdp })
                    .map_err(busy)
            }
            p::SdpKind::Answer => {
                let leg = self
                    .media_legs
                    .iter()
                    .find(|(_, o)| o.call == call && o.owner == who.owner)
                    .map(|(l, _)| *l)
                    .ok_or_else(|| err(p::ErrorCode::NotAllowed, "there is no offer from the relay to answer"))?;
                media.try_send(crate::media::MediaCmd::Answer { leg, sdp: description.sdp }).map_err(busy)
            }
        }
    }

    /// Trickled ICE candidates: the relay is ICE-lite and learns addresses from the
    /// participant's connectivity checks, so candidates are accepted and not needed.
    fn media_ice(&self) -> Result<(), p::ProtocolError> {
        if self.media.is_some() {
            Ok(())
        } else {
            Err(err(p::ErrorCode::MediaUnavailable, "this server runs without a media relay"))
        }
    }

    /// Close every leg of a call.
    fn remove_media_of(&mut self, call: d::RequestId) {
        self.remove_media_where(|o| o.call == call);
    }

    /// Close the legs of one participant (a new offer replaces them; a resident left).
    fn remove_media_owned(&mut self, owner: Owner) {
        self.remove_media_where(|o| o.owner == owner);
    }

    fn remove_media_where(&mut self, doomed: impl Fn(&LegOwner) -> bool) {
        let mut gone: Vec<kakehashi_relay::LegId> =
            self.media_legs.iter().filter(|(_, o)| doomed(o)).map(|(l, _)| *l).collect();
        gone.sort_unstable();
        for leg in gone {
            self.media_legs.remove(&leg);
            if let Some(media) = &self.media {
                let _ = media.try_send(crate::media::MediaCmd::Remove { leg });
            }
        }
    }

    fn media_event(&mut self, event: crate::media::MediaEvent) {
        use crate::media::MediaEvent;
        match event {
            MediaEvent::Stats { leg, stats } => self.media_stats(leg, stats),
            MediaEvent::Removed { leg, last } => {
                if let Some(stats) = last {
                    self.media_stats(leg, stats);
                }
                self.media_seen.remove(&leg);
            }
            MediaEvent::Answered { tag, result, .. } => {
                let Some(who) = self.media_offers.remove(&tag) else { return };
                match result {
                    Ok((leg, sdp)) if self.pending.contains_key(&who.call) => {
                        self.media_legs.insert(leg, who);
                        self.media_seen.insert(leg, (who, None));
                        self.media_quality.entry(who.call).or_default();
                        self.send_sdp(who, p::SdpKind::Answer, sdp);
                    }
                    Ok((leg, _)) => {
                        // The call ended meanwhile.
                        if let Some(media) = &self.media {
                            let _ = media.try_send(crate::media::MediaCmd::Remove { leg });
                        }
                    }
                    Err(message) => {
                        self.send_owner_error(who.owner, err(p::ErrorCode::InvalidField, format!("sdp: {message}")))
                    }
                }
            }
            MediaEvent::Leg { leg, event } => {
                let Some(who) = self.media_legs.get(&leg).copied() else { return };
                match event {
                    kakehashi_relay::LegEvent::Offer(sdp) => self.send_sdp(who, p::SdpKind::Offer, sdp),
                    kakehashi_relay::LegEvent::Connected | kakehashi_relay::LegEvent::VideoResumed => {}
                    kakehashi_relay::LegEvent::VideoPaused => {
                        self.metrics.media_video_pauses.with_label_values(&[who.owner.role()]).inc();
                    }
                    kakehashi_relay::LegEvent::Failed | kakehashi_relay::LegEvent::Closed => {
                        self.media_legs.remove(&leg);
                        if let Some(media) = &self.media {
                            let _ = media.try_send(crate::media::MediaCmd::Remove { leg });
                        }
                    }
                }
            }
        }
    }

    /// A leg's cumulative statistics: metric deltas since its previous ones, and the call's
    /// quality.
    fn media_stats(&mut self, leg: kakehashi_relay::LegId, stats: kakehashi_relay::LegStats) {
        let Some((who, previous)) = self.media_seen.get_mut(&leg) else { return };
        let who = *who;
        let before = previous.replace(stats).unwrap_or_default();
        let role = who.owner.role();
        let m = &self.metrics;
        let interval = crate::media::STATS_INTERVAL.as_secs_f64();
        for (kind, now, was) in [("audio", &stats.audio, &before.audio), ("video", &stats.video, &before.video)] {
            let add = |c: &prometheus::IntCounterVec, direction: &str, now: u64, was: u64| {
                c.with_label_values(&[role, kind, direction]).inc_by(now.saturating_sub(was));
            };
            add(&m.media_packets, "received", now.packets_received, was.packets_received);
            add(&m.media_packets, "sent", now.packets_sent, was.packets_sent);
            add(&m.media_bytes, "received", now.bytes_received, was.bytes_received);
            add(&m.media_bytes, "sent", now.bytes_sent, was.bytes_sent);
            add(&m.media_lost, "received", now.packets_lost, was.packets_lost);
            add(&m.media_lost, "sent", now.remote_packets_lost, was.remote_packets_lost);
            add(&m.media_nacks, "sent", now.nacks_sent, was.nacks_sent);
            add(&m.media_nacks, "received", now.nacks_received, was.nacks_received);
            add(&m.media_keyframe_requests, "sent", now.keyframe_requests_sent, was.keyframe_requests_sent);
            add(&m.media_keyframe_requests, "received", now.keyframe_requests_received, was.keyframe_requests_received);
            if now.packets_received > was.packets_received {
                m.media_jitter.with_label_values(&[role, kind]).observe(now.jitter);
                let bytes = now.bytes_received.saturating_sub(was.bytes_received) as f64;
                m.media_bitrate.with_label_values(&[role, kind, "received"]).observe(bytes / interval);
            }
            if now.packets_sent > was.packets_sent {
                let bytes = now.bytes_sent.saturating_sub(was.bytes_sent) as f64;
                m.media_bitrate.with_label_values(&[role, kind, "sent"]).observe(bytes / interval);
            }
        }
        if let Some(rtt) = stats.rtt {
            m.media_rtt.with_label_values(&[role]).observe(rtt.as_secs_f64());
        }
        if let Some(q) = self.media_quality.get_mut(&who.call) {
            if let Some(rtt) = stats.rtt {
                q.rtt_sum += rtt.as_secs_f64();
                q.rtt_samples += 1;
            }
            q.legs.insert(leg, stats);
        }
    }

    /// Open legs by role, for the gauge.
    fn count_media_legs(&self) {
        for role in ["desk", "interpreter", "resident"] {
            let n = self.media_legs.values().filter(|o| o.owner.role() == role).count();
            self.metrics.media_legs.with_label_values(&[role]).set(n as i64);
        }
    }

    fn send_sdp(&mut self, who: LegOwner, kind: p::SdpKind, sdp: String) {
        let description = p::SessionDescription { kind, sdp };
        let call = who.call.0;
        match who.owner {
            Owner::Desk(desk) => self.send_desk(desk, p::DeskEvent::Sdp { call, description }),
            Owner::Interpreter(id) => self.send_interpreter(id, p::InterpreterEvent::Sdp { call, description }),
            Owner::Resident(conn) => {
                if let Some(r) = self.residents.get(&conn) {
                    let _ = r.tx.try_send(p::ResidentEvent::Sdp { description });
                }
            }
        }
    }

    fn send_owner_error(&mut self, owner: Owner, e: p::ProtocolError) {
        match owner {
            Owner::Desk(desk) => self.send_desk(desk, p::DeskEvent::Error(e)),
            Owner::Interpreter(id) => self.send_interpreter(id, p::InterpreterEvent::Error(e)),
            Owner::Resident(conn) => {
                if let Some(r) = self.residents.get(&conn) {
                    let _ = r.tx.try_send(p::ResidentEvent::Error(e));
                }
            }
        }
    }

    fn record(&self, p: &Pending, outcome: RecordOutcome, now: d::Timestamp) -> CallRecord {
        CallRecord {
            id: 0,
            tenant_id: p.tenant,
            desk_id: p.desk,
            language: p.language.clone(),
            speciality: p.speciality.map(|s| s.as_str().to_string()),
            modality: p.modality.as_str().to_string(),
            tier: p.interpreter.and_then(|i| self.tiers.get(&i)).map(|t| t.as_str().to_string()),
            interpreter_id: p.interpreter,
            requested_at: p.requested_at,
            offered_at: p.offered_at,
            answered_at: p.answered_at,
            ended_at: now.as_millis(),
            offers: p.offers,
            outcome,
            desk_outcome: None,
            loss: None,
            rtt_ms: None,
            reconnects: None,
        }
    }

    fn count_request(&self, p: &Pending, outcome: &str) {
        let tenant = self.tenant_names.get(&p.tenant).map_or("unknown", String::as_str);
        self.metrics.requests.with_label_values(&[tenant, p.language.as_str(), outcome]).inc();
    }

    /// Nothing more is kept for a client whose session ended.
    fn forget_missed(&mut self, client: Client) {
        match client {
            Client::Desk(desk, _) => {
                self.recent_desk.remove(&desk);
            }
            Client::Interpreter(id) => {
                self.recent_interpreter.remove(&id);
            }
        }
    }

    /// Whether a client's connection is down but its session held (within the grace).
    fn held(&self, client: Client) -> bool {
        self.dropped.keys().any(|c| match (c, client) {
            (Client::Desk(a, _), Client::Desk(b, _)) => *a == b,
            (c, client) => *c == client,
        })
    }

    fn send_desk(&mut self, desk: i64, event: p::DeskEvent) {
        let attached = self.desks.get(&desk).map(|a| a.tx.clone());
        // Positions and pongs are stale by the time a client could get them again.
        let keep = !matches!(event, p::DeskEvent::Position { .. } | p::DeskEvent::Pong);
        if attached.is_none() && !self.held(Client::Desk(desk, 0)) {
            return;
        }
        let window = attached.is_some().then_some(self.window);
        let seq = self.recent_desk.entry(desk).or_insert_with(Recent::new).record(&event, keep, window);
        let Some(tx) = attached else { return };
        if let Err(e) = tx.try_send((seq, event)) {
            // Closed (the connection is going) or full (too slow): the connection is let
            // go and may resume within the grace, and get this event again.
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                tracing::warn!(desk, "desk connection is not keeping up; dropping it");
            }
            let tenant = self.pending.values().find(|p| p.desk == desk).map_or(0, |p| p.tenant);
            let client = self.resume_tokens.keys().copied().find(|c| matches!(c, Client::Desk(d, _) if *d == desk));
            self.desks.remove(&desk);
            self.dropped.insert(client.unwrap_or(Client::Desk(desk, tenant)), Instant::now() + self.grace);
        }
    }

    fn send_interpreter(&mut self, id: i64, event: p::InterpreterEvent) {
        let attached = self.interpreters.get(&id).map(|a| a.tx.clone());
        let keep = !matches!(event, p::InterpreterEvent::Pong);
        if attached.is_none() && !self.held(Client::Interpreter(id)) {
            return;
        }
        let window = attached.is_some().then_some(self.window);
        let seq = self.recent_interpreter.entry(id).or_insert_with(Recent::new).record(&event, keep, window);
        let Some(tx) = attached else { return };
        if let Err(e) = tx.try_send((seq, event)) {
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                tracing::warn!(interpreter = id, "interpreter connection is not keeping up; dropping it");
            }
            self.interpreters.remove(&id);
            self.dropped.insert(Client::Interpreter(id), Instant::now() + self.grace);
        }
    }

    /// The next event number of a desk or an interpreter, for an event that is sent
    /// once and never again (a document's part).
    fn number(&mut self, client: Client) -> u64 {
        match client {
            Client::Desk(desk, _) => self.recent_desk.entry(desk).or_insert_with(Recent::new).number(),
            Client::Interpreter(id) => self.recent_interpreter.entry(id).or_insert_with(Recent::new).number(),
        }
    }

    /// Turn the engine's outputs into events.
    fn flush(&mut self) {
        let now = self.clock.now();
        while let Some(out) = self.engine.poll_output() {
            match out {
                d::Output::Queued { request, outlook } => {
                    let Some(p) = self.pending.get_mut(&request) else { continue };
                    let (ringing, position, est) = match outlook {
                        d::Outlook::Ringing => (true, 0, p::WaitEstimate::Unknown),
                        d::Outlook::Wait { position, estimate: e } => (false, position as u32, estimate(e)),
                    };
                    p.last_position = Some((position, est, ringing));
                    let desk = p.desk;
                    self.send_desk(desk, p::DeskEvent::Queued { request: request.0, ringing, position, estimate: est });
                }
                d::Output::Offered { offer, request, interpreter, ring_until } => {
                    let Some(p) = self.pending.get_mut(&request) else { continue };
                    p.offers += 1;
                    p.offered_at.get_or_insert(now.as_millis());
                    let event = p::InterpreterEvent::Offer {
                        offer: offer.0,
                        tenant: self.tenant_names.get(&p.tenant).cloned().unwrap_or_default(),
                        language: p.language.clone(),
                        modality: modality_out(p.modality),
                        speciality: p.speciality.map(speciality_out),
                        ring_until: rfc3339(ring_until),
                    };
                    self.send_interpreter(i64::from(interpreter.0), event);
                }
                d::Output::OfferClosed { offer, interpreter, reason, .. } => {
                    let (label, reason) = match reason {
                        d::OfferEnd::Declined => ("declined", p::OfferClosedReason::Declined),
                        d::OfferEnd::Missed => ("missed", p::OfferClosedReason::Missed),
                        d::OfferEnd::Rescinded(d::RescindReason::AnsweredElsewhere) => {
                            ("rescinded", p::OfferClosedReason::AnsweredElsewhere)
                        }
                        d::OfferEnd::Rescinded(d::RescindReason::RequestEnded) => {
                            ("rescinded", p::OfferClosedReason::RequestEnded)
                        }
                        d::OfferEnd::Rescinded(d::RescindReason::InterpreterLeft) => {
                            ("rescinded", p::OfferClosedReason::YouLeft)
                        }
                    };
                    self.metrics.offers.with_label_values(&[label]).inc();
                    self.send_interpreter(
                        i64::from(interpreter.0),
                        p::InterpreterEvent::OfferClosed { offer: offer.0, reason },
                    );
                }
                d::Output::Assigned { request, interpreter, offer, waited, .. } => {
                    self.metrics.offers.with_label_values(&["accepted"]).inc();
                    let Some(p) = self.pending.get_mut(&request) else { continue };
                    p.interpreter = Some(i64::from(interpreter.0));
                    p.answered_at = Some(now.as_millis());
                    self.metrics.queue_wait.with_label_values(&[p.language.as_str()]).observe(waited.as_secs_f64());
                    let desk = p.desk;
                    self.send_desk(
                        desk,
                        p::DeskEvent::Assigned { request: request.0, call: request.0, interpreter: interpreter.0 },
                    );
                    self.send_interpreter(
                        i64::from(interpreter.0),
                        p::InterpreterEvent::Assigned { offer: offer.0, call: request.0 },
                    );
                    // A desk whose connection is down at that moment: the interpreter knows
                    // it is waiting for the desk (it hears again when the desk is back).
                    if !self.desks.contains_key(&desk) {
                        let party = p::Party::Desk;
                        self.send_interpreter(
                            i64::from(interpreter.0),
                            p::InterpreterEvent::ParticipantLeft { call: request.0, party },
                        );
                    }
                }
                d::Output::Ended { request, outcome } => {
                    let Some(p) = self.pending.remove(&request) else { continue };
                    self.media_quality.remove(&request);
                    let (label, record_outcome, event) = match outcome {
                        d::Outcome::Abandoned => {
                            ("abandoned", RecordOutcome::Abandoned, p::DeskEvent::Cancelled { request: request.0 })
                        }
                        d::Outcome::Expired => {
                            ("expired", RecordOutcome::Expired, p::DeskEvent::Expired { request: request.0 })
                        }
                        d::Outcome::Unserved(s) => (
                            "unserved",
                            RecordOutcome::Unserved,
                            p::DeskEvent::Unserved {
                                request: request.0,
                                suggestion: match s {
                                    d::Suggestion::LaterToday(t) => p::Suggestion::LaterToday { from: rfc3339(t) },
                                    d::Suggestion::Booking(t) => p::Suggestion::Booking { from: rfc3339(t) },
                                    d::Suggestion::Phone => p::Suggestion::Phone,
                                },
                            },
                        ),
                    };
                    self.count_request(&p, label);
                    let record = self.record(&p, record_outcome, now);
                    let (store, hub, desk) = (self.store.clone(), self.tx.clone(), p.desk);
                    tokio::spawn(async move {
                        match store.insert_call_record(&record).await {
                            Ok(_) => {
                                let _ = hub.send(Cmd::ToDesk { desk, event }).await;
                            }
                            Err(e) => tracing::error!(error = %e, "request record not written"),
                        }
                    });
                }
                d::Output::PresenceChanged { interpreter, presence } => {
                    self.send_interpreter(
                        i64::from(interpreter.0),
                        p::InterpreterEvent::Presence { presence: presence_out(presence) },
                    );
                }
                d::Output::StepAdvanced { .. }
                | d::Output::CallEnded { .. }
                | d::Output::BookingStarted { .. }
                | d::Output::BookingEnded { .. } => {}
            }
        }
    }

    /// Once a second: positions to waiting desks, gauges, and the grace of dropped clients.
    fn each_second(&mut self) {
        let now = self.clock.now();
        let standings = self.engine.standings();
        for (request, s) in standings {
            let Some(p) = self.pending.get_mut(&request) else { continue };
            let current = (s.position as u32, estimate(s.estimate), s.ringing > 0);
            if p.last_position != Some(current) {
                p.last_position = Some(current);
                let desk = p.desk;
                self.send_desk(
                    desk,
                    p::DeskEvent::Position {
                        request: request.0,
                        ringing: current.2,
                        position: current.0,
                        estimate: current.1,
                    },
                );
            }
        }
        self.metrics.queue_depth.reset();
        for l in self.engine.live_languages() {
            let tag = l.pair.other(d::LanguageId::JAPANESE).tag();
            self.metrics.queue_depth.with_label_values(&[tag]).set(l.waiting as i64);
        }
        let mut counts: HashMap<&'static str, i64> = HashMap::new();
        for id in self.tiers.keys() {
            if let Ok(presence) = self.engine.presence(d::InterpreterId(id32(*id))) {
                *counts.entry(presence.as_str()).or_default() += 1;
            }
        }
        for state in ["offline", "available", "offered", "in_call", "wrap_up", "not_ready"] {
            self.metrics.interpreters.with_label_values(&[state]).set(counts.get(state).copied().unwrap_or(0));
        }
        // Clients that dropped and did not come back: end what they held.
        let expired: Vec<Client> =
            self.dropped.iter().filter(|(_, until)| **until <= Instant::now()).map(|(c, _)| *c).collect();
        for client in expired {
            self.dropped.remove(&client);
            self.end_session(now, client);
            self.forget_missed(client);
        }
        // Residents that dropped and did not come back.
        let gone: Vec<u64> = self
            .residents
            .iter()
            .filter(|(_, r)| r.dropped_until.is_some_and(|u| u <= Instant::now()))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.residents.remove(&id);
            self.remove_media_owned(Owner::Resident(id));
        }
        // Invites past their time; outcome categories not given within a day.
        self.invites.retain(|_, i| i.expires_at > now);
        self.recorded.retain(|_, (.., at)| at.elapsed() < Duration::from_secs(24 * 3600));
    }

    fn attached(&self, client: Client) -> bool {
        match client {
            Client::Desk(desk, _) => self.desks.contains_key(&desk),
            Client::Interpreter(id) => self.interpreters.contains_key(&id),
        }
    }

    /// End what a client's session held: a desk's waiting requests are abandoned and its
    /// calls ended; an interpreter's calls are ended and they are signed out.
    fn end_session(&mut self, now: d::Timestamp, client: Client) {
        match client {
            Client::Desk(desk, _) => {
                let mut mine: Vec<(d::RequestId, bool)> = self
                    .pending
                    .iter()
                    .filter(|(_, p)| p.desk == desk)
                    .map(|(id, p)| (*id, p.answered_at.is_some()))
                    .collect();
                mine.sort_unstable();
                for (id, in_call) in mine {
                    let _ = if in_call {
                        self.end_call(now, id, p::Party::Desk)
                    } else {
                        self.engine.cancel(now, id).map_err(engine_error)
                    };
                }
            }
            Client::Interpreter(id) => {
                let mut calls: Vec<d::RequestId> =
                    self.pending.iter().filter(|(_, p)| p.interpreter == Some(id)).map(|(r, _)| *r).collect();
                calls.sort_unstable();
                for call in calls {
                    let _ = self.end_call(now, call, p::Party::Interpreter);
                }
                let _ = self.engine.set_availability(now, d::InterpreterId(id32(id)), d::Availability::Offline);
            }
        }
    }

    /// Create a single-use link for a resident to join the desk's live call.
    fn invite(&mut self, now: d::Timestamp, desk: i64, call: u64) -> Result<(), p::ProtocolError> {
        let id = self.own_request(desk, call)?;
        let language = match self.pending.get(&id) {
            Some(p) if p.answered_at.is_some() => p.language.clone(),
            _ => return Err(err(p::ErrorCode::NotAllowed, "a resident can be invited once the call has started")),
        };
        let token = crate::auth::new_token();
        let expires_at = now + self.invite_ttl;
        self.invites.insert(crate::auth::hash_token(&token), Invite { call: id, language, expires_at });
        let url = format!("{}/join/{token}", self.public_base);
        let qr_svg = qrcode::QrCode::new(url.as_bytes())
            .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build())
            .map_err(|e| err(p::ErrorCode::Internal, e.to_string()))?;
        self.send_desk(desk, p::DeskEvent::Invite { call, url, qr_svg, expires_at: rfc3339(expires_at) });
        Ok(())
    }

    fn resident_join(
        &mut self,
        now: d::Timestamp,
        token: &str,
        resume: Option<String>,
        conn: u64,
        outbox: mpsc::Sender<p::ResidentEvent>,
    ) -> Result<ResidentJoined, p::ProtocolError> {
        let refused =
            || err(p::ErrorCode::Unauthorized, "this link has been used, has expired, or its consultation has ended");
        let resume_token = crate::auth::new_token();
        let resume_hash = crate::auth::hash_token(&resume_token);
        // A resident coming back: its resume token names its place (the invite is used).
        if let Some(resume) = resume {
            let hash = crate::auth::hash_token(&resume);
            if let Some((&id, r)) = self.residents.iter_mut().find(|(_, r)| r.resume == hash) {
                r.tx = outbox;
                r.conn = conn;
                r.resume = resume_hash;
                let was_dropped = r.dropped_until.take().is_some();
                let call = r.call;
                let language = self.pending.get(&call).map(|p| p.language.clone()).unwrap_or_default();
                if was_dropped {
                    self.tell_call(call, p::Party::Resident, true);
                }
                return Ok(ResidentJoined { id, language, resume_token, resumed: true });
            }
        }
        // Single use: the invite is taken out whatever happens next.
        let invite = self.invites.remove(&crate::auth::hash_token(token)).ok_or_else(refused)?;
        if invite.expires_at <= now || self.pending.get(&invite.call).is_none_or(|p| p.answered_at.is_none()) {
            return Err(refused());
        }
        self.residents
            .insert(conn, Resident { call: invite.call, tx: outbox, conn, resume: resume_hash, dropped_until: None });
        self.tell_call(invite.call, p::Party::Resident, true);
        Ok(ResidentJoined { id: conn, language: invite.language, resume_token, resumed: false })
    }

    fn resident_command(&mut self, conn: u64, cmd: p::ResidentCommand) -> Result<(), p::ProtocolError> {
        let Some((call, tx)) = self.residents.get(&conn).map(|r| (r.call, r.tx.clone())) else {
            return Err(err(p::ErrorCode::NotAllowed, "not in a call"));
        };
        match cmd {
            p::ResidentCommand::Leave {} => {
                self.residents.remove(&conn);
                self.remove_media_owned(Owner::Resident(conn));
                self.tell_call(call, p::Party::Resident, false);
                let _ = tx.try_send(p::ResidentEvent::CallEnded);
                Ok(())
            }
            p::ResidentCommand::Ping {} => {
                let _ = tx.try_send(p::ResidentEvent::Pong);
                Ok(())
            }
            p::ResidentCommand::Sdp { description } => {
                self.media_sdp(call, LegOwner { call, owner: Owner::Resident(conn) }, description)
            }
            p::ResidentCommand::Ice { .. } => self.media_ice(),
            p::ResidentCommand::Document { document } => {
                self.share_document(call, p::Party::Resident, Some(conn), document)
            }
        }
    }

    /// Pass one part of a document to everyone else in a live call, keeping nothing. A
    /// part is refused (`rate_limited`, to be sent again) while any receiver's queue is
    /// more than a quarter full, so documents never crowd out a client's other events.
    fn share_document(
        &mut self,
        call: d::RequestId,
        from: p::Party,
        from_resident: Option<u64>,
        document: p::DocumentPart,
    ) -> Result<(), p::ProtocolError> {
        document.check()?;
        let Some(pending) = self.pending.get(&call) else {
            return Err(err(p::ErrorCode::NotFound, format!("no call {}", call.0)));
        };
        if pending.answered_at.is_none() {
            return Err(err(p::ErrorCode::NotAllowed, "documents can be shown once the call has started"));
        }
        let desk = (from != p::Party::Desk).then(|| self.desks.get(&pending.desk).map(|a| a.tx.clone())).flatten();
        let interpreter = (from != p::Party::Interpreter)
            .then(|| pending.interpreter.and_then(|i| self.interpreters.get(&i)).map(|a| a.tx.clone()))
            .flatten();
        let residents: Vec<mpsc::Sender<p::ResidentEvent>> = self
            .residents
            .iter()
            .filter(|(id, r)| r.call == call && Some(**id) != from_resident && r.dropped_until.is_none())
            .map(|(_, r)| r.tx.clone())
            .collect();
        let headroom = CLIENT_QUEUE * 3 / 4;
        let busy = desk.as_ref().is_some_and(|t| t.capacity() < headroom)
            || interpreter.as_ref().is_some_and(|t| t.capacity() < headroom)
            || residents.iter().any(|t| t.capacity() < headroom);
        if busy {
            return Err(err(
                p::ErrorCode::RateLimited,
                "the others are still receiving earlier parts; send this part again shortly",
            ));
        }
        let c = call.0;
        let (desk_id, interpreter_id) = (pending.desk, pending.interpreter);
        if let Some(tx) = desk {
            let seq = self.number(Client::Desk(desk_id, 0));
            let _ = tx.try_send((seq, p::DeskEvent::Document { call: c, from, document: document.clone() }));
        }
        if let (Some(tx), Some(id)) = (interpreter, interpreter_id) {
            let seq = self.number(Client::Interpreter(id));
            let _ = tx.try_send((seq, p::InterpreterEvent::Document { call: c, from, document: document.clone() }));
        }
        for tx in residents {
            let _ = tx.try_send(p::ResidentEvent::Document { from, document: document.clone() });
        }
        let (id, part) = (document.id, document.part);
        match (from, from_resident) {
            (p::Party::Resident, Some(resident)) => {
                if let Some(r) = self.residents.get(&resident) {
                    let _ = r.tx.try_send(p::ResidentEvent::DocumentPassed { id, part });
                }
            }
            (p::Party::Desk, _) => {
                self.send_desk(desk_id, p::DeskEvent::DocumentPassed { call: c, id, part });
            }
            (p::Party::Interpreter, _) => {
                if let Some(i) = interpreter_id {
                    self.send_interpreter(i, p::InterpreterEvent::DocumentPassed { call: c, id, part });
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Tell the others in a client's live calls that its connection dropped or came back.
    fn tell_calls_of(&mut self, client: Client, joined: bool) {
        let (mut calls, party): (Vec<d::RequestId>, p::Party) = match client {
            Client::Desk(desk, _) => (
                self.pending
                    .iter()
                    .filter(|(_, p)| p.desk == desk && p.answered_at.is_some())
                    .map(|(r, _)| *r)
                    .collect(),
                p::Party::Desk,
            ),
            Client::Interpreter(id) => (
                self.pending
                    .iter()
                    .filter(|(_, p)| p.interpreter == Some(id) && p.answered_at.is_some())
                    .map(|(r, _)| *r)
                    .collect(),
                p::Party::Interpreter,
            ),
        };
        calls.sort_unstable();
        for call in calls {
            self.tell_call(call, party, joined);
        }
    }

    /// Tell the others of a call (its desk, interpreter and residents, but not `party`
    /// itself) that `party` joined or left.
    fn tell_call(&mut self, call: d::RequestId, party: p::Party, joined: bool) {
        let Some(pending) = self.pending.get(&call) else { return };
        let (desk, interpreter) = (pending.desk, pending.interpreter);
        let interpreter = interpreter.filter(|_| party != p::Party::Interpreter);
        let c = call.0;
        if party != p::Party::Desk {
            let event = if joined {
                p::DeskEvent::ParticipantJoined { call: c, party }
            } else {
                p::DeskEvent::ParticipantLeft { call: c, party }
            };
            self.send_desk(desk, event);
        }
        if let Some(i) = interpreter {
            if joined {
                self.send_interpreter(i, p::InterpreterEvent::ParticipantJoined { call: c, party });
            } else {
                self.send_interpreter(i, p::InterpreterEvent::ParticipantLeft { call: c, party });
            }
        }
        if party != p::Party::Resident {
            let event = if joined {
                p::ResidentEvent::ParticipantJoined { party }
            } else {
                p::ResidentEvent::ParticipantLeft { party }
            };
            for r in self.residents.values() {
                if r.call == call {
                    let _ = r.tx.try_send(event.clone());
                }
            }
        }
    }

    /// The live state for a supervisor: the tenant's own waiting requests and service
    /// level, and the interpreters who could serve it (all tenants for an admin). A
    /// supervisor never sees another municipality's requests, nor interpreters who serve
    /// only other municipalities.
    fn snapshot(&self, tenant: Option<i64>) -> p::SupervisorEvent {
        let scope = tenant.map(|t| d::TenantId(id32(t)));
        let mine = |t: d::TenantId| scope.is_none_or(|x| x == t);
        let mut totals: HashMap<String, d::Counters> = HashMap::new();
        for r in self.engine.counter_rows().into_iter().filter(|r| mine(r.tenant)) {
            totals.entry(r.language.tag().to_string()).or_default().add(&r.counters);
        }
        let live = match scope {
            Some(t) => self.engine.live_languages_of(t),
            None => self.engine.live_languages(),
        };
        let languages = live
            .into_iter()
            .map(|l| {
                let tag = l.pair.other(d::LanguageId::JAPANESE).tag().to_string();
                p::LanguageLive {
                    waiting: l.waiting as u32,
                    longest_wait_secs: l.longest_wait.as_secs() as u32,
                    idle: l.idle as u32,
                    staffed: l.staffed as u32,
                    service_level_20s: totals.get(&tag).and_then(|c| c.service_level(1)),
                    language: tag,
                }
            })
            .collect();
        let mut counts: HashMap<p::PresenceState, u32> = HashMap::new();
        for (presence, n) in self.engine.presence_counts(scope) {
            *counts.entry(presence_out(presence)).or_default() += n as u32;
        }
        let mut interpreters: Vec<p::PresenceCount> =
            counts.into_iter().map(|(presence, count)| p::PresenceCount { presence, count }).collect();
        interpreters.sort_by_key(|c| c.presence as u8);
        p::SupervisorEvent::Snapshot { at: rfc3339(self.clock.now()), languages, interpreters }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a resume gets again: the kept events after the number the client says (or
    /// after what the last connection wrote), never more than [`MISSED`], and while
    /// connected only those inside the window.
    #[test]
    fn recent_events_are_bounded_and_picked_by_number() {
        let mut r: Recent<u32> = Recent::new();
        let t0 = Instant::now();
        for n in 0..10 {
            let seq = r.number();
            r.keep(seq, t0 + Duration::from_secs(n), n as u32, None);
        }
        let picked: Vec<u64> = r.after(Some(7)).iter().map(|(seq, _)| *seq).collect();
        assert_eq!(picked, [8, 9, 10]);
        r.written = 9;
        assert_eq!(r.after(None), [(10, 9)]);
        assert!(r.after(Some(10)).is_empty() && r.after(Some(u64::MAX)).is_empty());
        // Connected: anything older than the window goes when the next event comes.
        let seq = r.number();
        r.keep(seq, t0 + Duration::from_secs(20), 10, Some(Duration::from_secs(12)));
        assert_eq!(r.after(Some(0)).first().map(|(seq, _)| *seq), Some(9), "kept from 8 s on");
        // Never more than MISSED, the oldest going first.
        for n in 0..(MISSED as u32 * 2) {
            r.record(&n, true, None);
        }
        assert_eq!(r.kept.len(), MISSED);
        assert_eq!(r.after(Some(0)).last().map(|(seq, _)| *seq), Some(r.last));
        // Positions and pongs are numbered but not kept.
        let before = r.kept.len();
        let seq = r.record(&0, false, None);
        assert_eq!((seq, r.kept.len()), (r.last, before));
    }
}
