//! `kakehashi serve`: open the store, seed the demo if asked, start the relay and the hub
//! (the single writer, around the call core), and serve HTTP and WebSocket until told to
//! stop. Then: not ready, live calls drain (up to `drain_secs`), connections close, the
//! hub finishes the record writes in flight, and the relay stops. Nothing is aborted
//! that holds an acknowledged record.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use crate::app::App;
use crate::calls::{Core, OsTokens, Tape, Tokens};
use crate::config::Config;
use crate::http::Surface;
use crate::hub::{Clock, Hub, HubSettings};
use crate::metrics::Metrics;
use crate::store::Store;

/// How long the hub and the relay get to finish once every connection is closed.
const WIND_DOWN: Duration = Duration::from_secs(10);

/// Commands queued for the hub.
const HUB_INBOX: usize = 4096;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Seeding the demo.
    #[error("demo: {0}")]
    Demo(#[from] crate::auth::AuthError),
    /// The process may not open the file descriptors the configuration needs.
    #[error(transparent)]
    Descriptors(#[from] crate::listener::DescriptorShortage),
    /// The private listener's address is taken or not allowed.
    #[error("private_listen {addr}: {source}")]
    Private {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The phone bridge.
    #[error(transparent)]
    Phone(#[from] crate::phone::PhoneError),
    /// Cluster mode: Redis or the writer's lease.
    #[error("cluster: {0}")]
    Cluster(String),
    /// The key that seals handling notes.
    #[error(transparent)]
    Notes(#[from] crate::notes::NoteError),
    /// Binding or serving.
    #[error("listen on {addr}: {source}")]
    Io {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A cluster writer's task that takes the edges' calls through the in-process router it is
/// given (`cluster::node`), and the relays' reports into the hub's channel of them;
/// stopped with the server.
pub type Bridge = Box<
    dyn FnOnce(crate::cluster::Local, tokio::sync::mpsc::Sender<crate::media::Report>) -> tokio::task::JoinHandle<()>
        + Send,
>;

/// What a cluster's writer adds to serving as a single node does (ADR 0020, 0021, 0022).
pub struct ClusterWriter {
    /// The bridge to the edges' calls.
    pub bridge: Bridge,
    /// The journal it keeps, and the last writer's state it takes over.
    pub journal: crate::cluster::journal::RedisJournal,
    /// This node's number (its relay's, in the call core's pins).
    pub node: u64,
    /// Orders for the cluster's relays, by node.
    pub orders: tokio::sync::mpsc::Sender<(u64, crate::media::Order)>,
}

impl std::fmt::Debug for ClusterWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterWriter").field("journal", &self.journal).finish_non_exhaustive()
    }
}

/// Run the server until `shutdown` resolves, then drain and return.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Io { addr: config.listen, source })?;
    serve_on(listener, config, shutdown).await
}

/// Run on a bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if config.demo && config.phone.is_none() && config.phone_number.is_none() {
        // The demo answers a phone line on loopback: a softphone on this machine can call
        // it (README, "Calling the demo by phone").
        config.phone_number = Some(crate::demo::PHONE_LINE.into());
        config.phone = Some(crate::config::PhoneSection {
            sip_listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            trunks: vec![std::net::IpAddr::from([127, 0, 0, 1])],
            ..Default::default()
        });
    }
    if config.phone.is_some() && config.phone_gateway_token.is_none() {
        config.phone_gateway_token = Some(crate::phone::made_up_secret());
    }
    let private = match config.private_listen {
        Some(at) => {
            let private =
                tokio::net::TcpListener::bind(at).await.map_err(|source| ServeError::Private { addr: at, source })?;
            let bound = private.local_addr().map_err(|source| ServeError::Private { addr: at, source })?;
            tracing::info!(%bound, "private listener: metrics and the admin API");
            Some(private)
        }
        None => None,
    };
    let descriptors = crate::listener::descriptor_budget(config.descriptors_needed())?;
    tracing::debug!(descriptors, "file descriptor limit");
    if config.cluster.is_some() {
        return Box::pin(crate::cluster::node::serve(listener, private, config, shutdown)).await;
    }
    let store = open_store(&config).await?;
    serve_with(listener, private, config, store, Metrics::new(), None, shutdown).await
}

/// The configured store: PostgreSQL when `database` names one, else SQLite in the data
/// directory (which keeps the handling notes' key either way).
pub async fn open_store(config: &Config) -> Result<Store, ServeError> {
    Ok(match &config.database {
        Some(url) => {
            std::fs::create_dir_all(&config.data_dir).map_err(|source| crate::store::StoreError::Dir {
                path: config.data_dir.display().to_string(),
                source,
            })?;
            let store = Store::open_postgres(url).await?;
            tracing::info!("store: PostgreSQL");
            store
        }
        None => Store::open(&config.data_dir).await?,
    })
}

/// Serve as the writer with `store`: the hub, the relay, HTTP and WebSocket, until
/// `shutdown` resolves; then drain as [`run`] says and wind down.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    private: Option<tokio::net::TcpListener>,
    config: Config,
    store: Store,
    metrics: Metrics,
    cluster: Option<ClusterWriter>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Io { addr: config.listen, source })?;
    if config.demo {
        if store.is_empty().await? {
            let creds = crate::demo::seed(&store).await?;
            let made_up = crate::demo::seed_history(&store).await?;
            tracing::info!(made_up, "demo: forty days of made-up consultations for the reports");
            print_demo(&config, addr, &creds);
        } else {
            eprintln!(
                "kakehashi: the demo directory is already in {}; its credentials were printed when it was seeded",
                config.data_dir.display()
            );
        }
    }
    let purge = crate::retention::spawn(store.clone(), crate::retention::EVERY);
    let directory = store.directory().await?;
    let clock = Clock::new();
    let settings = crate::calls::Settings {
        grace: Duration::from_secs(u64::from(config.resume_grace_secs)),
        invite_ttl: Duration::from_secs(u64::from(config.invite_ttl_secs)),
        public_base: config.public_base(addr),
        media: true,
        max_waiting_per_desk: config.max_waiting_per_desk,
        phone_number: config.phone_number.clone(),
        dial_out: config.dials_out(),
        media_node: cluster.as_ref().map_or(0, |c| c.node),
    };
    // A single node's relay is its own; a cluster writer's orders go to every node's
    // relay (its own started with the node) and their reports come through the bridge.
    let (reports_tx, reports_rx) = tokio::sync::mpsc::channel(crate::media::REPORTS);
    let (bridge, mut journal, orders, media_task) = match cluster {
        Some(ClusterWriter { bridge, journal, orders, .. }) => {
            (Some(bridge), Some(journal), crate::media::Orders::Nodes(orders), None)
        }
        None => {
            let (orders, orders_rx) = tokio::sync::mpsc::channel(crate::relay_start::RELAY_ORDERS);
            let relay = crate::relay_start::start(&config, &metrics, 1, orders_rx, reports_tx.clone()).await?;
            (None, None, crate::media::Orders::Own(orders), Some(relay))
        }
    };
    // A cluster's writer journals (its tokens on a tape) and takes over the last
    // writer's state when there is one; otherwise the state starts from the database.
    let tape = Tape::new(Box::new(OsTokens));
    let taken = match journal.as_mut() {
        Some(journal) => journal.restore(settings.clone(), &tape).await,
        None => None,
    };
    let core = match taken {
        Some(core) => core,
        None => {
            let tokens: Box<dyn Tokens> = if journal.is_some() { Box::new(tape.clone()) } else { Box::new(OsTokens) };
            let mut core = Core::new(&directory, settings, tokens, clock.now());
            restore_bookings(&store, &mut core, clock.now()).await?;
            restore_calendars(&store, &mut core, &directory, clock.now()).await?;
            core
        }
    };
    let hub_settings =
        HubSettings { heartbeat: Duration::from_secs(u64::from(config.heartbeat_secs)), inbox: HUB_INBOX };
    let (hub, hub_tx, hub_rx) = Hub::new(core, store.clone(), metrics.clone(), clock, Some(orders), hub_settings);
    let hub = match journal {
        Some(journal) => hub.journaled(tape, Box::new(journal)),
        None => hub,
    };
    let hub_task = tokio::spawn(hub.run(hub_rx, reports_rx));
    let (closing_tx, closing_rx) = watch::channel(false);
    tracing::info!(%addr, tenants = directory.tenants.len(), interpreters = directory.interpreters.len(), "kakehashi listening");
    let local = crate::cluster::Local::new(hub_tx);
    let bridge = bridge.map(|start| start(local.clone(), reports_tx));
    let router: crate::cluster::SharedRouter = Arc::new(local);
    let phone = match &config.phone {
        Some(section) => {
            let phone_metrics = kakehashi_phone::metrics::PhoneMetrics::new();
            metrics.add(phone_metrics.collectors());
            Some(crate::phone::start(section, &config, addr, &phone_metrics).await?)
        }
        None => None,
    };
    let notes = crate::notes::NoteKey::load_or_create(&config.notes_key_path())?;
    // Links made over HTTP (bookings') start where the server is reached.
    let config = Config { public_url: Some(config.public_base(addr)), ..config };
    let app = App::new(config, store, metrics, router, closing_rx).with_notes(notes);
    let result = run(listener, private, app, closing_tx, shutdown).await;
    purge.abort();
    if let Some(bridge) = bridge {
        bridge.abort();
    }
    if let Some(phone) = phone {
        phone.stop();
    }
    // Every connection is closed and the router dropped: the hub finishes its record
    // writes and stops, which stops its own relay (a cluster node's stops with the node).
    let mut tasks = vec![("hub", hub_task)];
    if let Some(relay) = media_task {
        tasks.push(("relay", relay));
    }
    for (name, task) in tasks {
        match tokio::time::timeout(WIND_DOWN, task).await {
            Ok(_) => {}
            Err(_) => tracing::error!(task = name, "did not stop in time"),
        }
    }
    result.map_err(|source| ServeError::Io { addr, source })
}

/// Serve until `shutdown` resolves (on `private` too, if given, its routes only the
/// operator's); then stop taking requests, let live calls end for up
/// to `drain_secs`, close every connection and return.
pub async fn run(
    listener: tokio::net::TcpListener,
    private: Option<tokio::net::TcpListener>,
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
        state.router.drain().await;
        let deadline = tokio::time::Instant::now() + drain;
        let mut every = tokio::time::interval(Duration::from_millis(200));
        while tokio::time::Instant::now() < deadline {
            every.tick().await;
            if state.router.live_calls().await.unwrap_or(0) == 0 {
                break;
            }
        }
        let _ = closing.send(true);
    };
    let bounds = app.config.bounds();
    let refusals: Arc<dyn crate::listener::Refusals> = Arc::new(app.metrics.clone());
    let stop_rx = app.closing.clone();
    let surface = if private.is_some() { Surface::Public } else { Surface::All };
    let private = private.map(|listener| {
        let router = crate::http::router(app.clone(), Surface::All);
        let bounds = crate::listener::Bounds { connections: crate::config::PRIVATE_CONNECTIONS, ..bounds.clone() };
        let serving =
            crate::listener::serve(listener, router, bounds, refusals.clone(), stop_rx.clone(), Duration::from_secs(5));
        tokio::spawn(serving)
    });
    let router = crate::http::router(app, surface);
    let serving = crate::listener::serve(listener, router, bounds, refusals, stop_rx, Duration::from_secs(5));
    tokio::pin!(serving);
    // Serve through the drain; once it is over (`closing` turns true) connections get a
    // few seconds to say goodbye, then we go regardless.
    tokio::select! {
        () = &mut serving => {}
        () = stop => { serving.await; }
    }
    if let Some(private) = private {
        let _ = private.await;
    }
    Ok(())
}

fn print_demo(config: &Config, addr: std::net::SocketAddr, creds: &crate::demo::DemoCredentials) {
    let base = config.public_base(addr);
    let mut out = String::new();
    out.push_str("\nkakehashi demo: Asahi City's centre, serving the city, Minami Town and Kita Town\n\n");
    out.push_str(&format!(
        "  health      {base}/healthz\n  metrics     {base}/metrics\n  websocket   {}/ws\n\n",
        base.replacen("http", "ws", 1)
    ));
    out.push_str("  Desks enrol once: POST /api/enrol {\"code\": \"<code>\"} gives the device token.\n");
    for (name, code) in &creds.desks {
        out.push_str(&format!("    {code}   {name}\n"));
    }
    out.push_str("\n  Interpreters and supervisors sign in: POST /api/sign-in {\"role\": \"interpreter\" | \"staff\", \"login\", \"password\"}\n");
    for (login, password) in creds.interpreters.iter().step_by(6).chain(creds.supervisors.iter()) {
        out.push_str(&format!("    {login:<22} {password}\n"));
    }
    out.push_str(&format!("    (all {} interpreters: password is demo-<login>)\n", creds.interpreters.len()));
    out.push_str(
        "\n  Two-factor sign-in is optional in the demo; outside it, admins and supervisors must set it up.\n",
    );
    eprintln!("{out}");
}

/// Hold again every booking still to come or under way, under its stored number; one
/// whose interpreter had to change is stored with the new one, and one that can no
/// longer be held is logged (it stays listed, for a coordinator to move or cancel).
async fn restore_bookings(
    store: &Store,
    core: &mut Core,
    now: kakehashi_dispatch::Timestamp,
) -> Result<(), ServeError> {
    use crate::calls::{BookingChange, Input, Reply};
    let live = store.live_bookings(now.as_millis()).await?;
    let count = live.len();
    for b in live {
        let (id, before, slot) = (b.id, b.interpreter, (b.start, b.end, b.requested_interpreter));
        match core.handle(now, Input::Booking(BookingChange::Restore(Box::new(b)))) {
            Ok(Reply::Booked { interpreter }) if Some(interpreter) != before => {
                tracing::warn!(
                    booking = id,
                    before,
                    interpreter,
                    "a booking's interpreter could not be held again; another is"
                );
                store.move_booking(id, slot.0, slot.1, slot.2, Some(interpreter)).await?;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(booking = id, error = %e.message, "a booking could not be held again"),
        }
    }
    if count > 0 {
        tracing::info!(count, "bookings held again");
    }
    Ok(())
}

/// Each municipality's centre calendar, where set, for the engine's "when" answers.
async fn restore_calendars(
    store: &Store,
    core: &mut Core,
    directory: &crate::directory::Directory,
    now: kakehashi_dispatch::Timestamp,
) -> Result<(), ServeError> {
    use crate::calls::{DirectoryChange, Input};
    for t in &directory.tenants {
        let Some(Some(doc)) = store.calendar(t.id).await? else { continue };
        match doc.to_calendar() {
            Ok(c) => {
                let _ = core.handle(now, Input::Directory(DirectoryChange::Calendar(t.id, Some(Box::new(c)))));
            }
            Err(e) => tracing::warn!(tenant = t.id, error = %e, "stored calendar refused; answers ignore it"),
        }
    }
    Ok(())
}
