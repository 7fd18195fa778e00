//! What every handler of the edge shares ([`App`]) and who is asking ([`ClientAddr`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tokio::sync::{broadcast, watch};

use crate::auth::Guard;
use crate::cluster::SharedRouter;
use crate::config::Config;
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
    /// The way to the writer (hub).
    pub router: SharedRouter,
    /// Slows password guessing and link guessing.
    pub guard: Guard,
    /// Says which session tokens (by hash) were signed out, so their live connections end.
    pub revocations: broadcast::Sender<Arc<str>>,
    pub(crate) ready: Arc<AtomicBool>,
    /// A place per WebSocket connection, taken at the upgrade and held until the
    /// connection ends: the cap cannot be raced by clients that upgrade together.
    pub(crate) ws_places: Arc<tokio::sync::Semaphore>,
    /// The key that seals handling notes (ADR 0017); in memory only until
    /// [`App::with_notes`] gives the one from its file.
    pub notes: Arc<crate::notes::NoteKey>,
    next_conn: Arc<AtomicU64>,
    /// Phone gateways' connections open here (one per bridge that can take calls).
    gateways: Arc<AtomicUsize>,
    /// Turns true when connections must end.
    pub(crate) closing: watch::Receiver<bool>,
}

impl App {
    /// The shared state; `closing` turns true when connections must end.
    pub fn new(
        config: Config,
        store: Store,
        metrics: Metrics,
        router: SharedRouter,
        closing: watch::Receiver<bool>,
    ) -> App {
        let ws_places = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
        let guard = Guard::new(crate::auth::GuardSettings {
            lockout_after: config.lockout_after,
            lockout: Duration::from_secs(u64::from(config.lockout_secs)),
            attempts_per_minute: config.sign_in_attempts_per_minute,
        });
        App {
            config: Arc::new(config),
            store,
            metrics,
            router,
            guard,
            revocations: broadcast::channel(256).0,
            ready: Arc::new(AtomicBool::new(true)),
            ws_places,
            notes: Arc::new(crate::notes::NoteKey::ephemeral()),
            next_conn: Arc::new(AtomicU64::new(1)),
            gateways: Arc::new(AtomicUsize::new(0)),
            closing,
        }
    }

    /// The same, sealing handling notes with `key`.
    pub fn with_notes(mut self, key: crate::notes::NoteKey) -> App {
        self.notes = Arc::new(key);
        self
    }

    /// A fresh connection number.
    pub fn next_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether the server takes new work (not draining).
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// A phone gateway's connection, counted while the guard lives.
    pub(crate) fn gateway_connected(&self) -> GatewayHere {
        self.gateways.fetch_add(1, Ordering::SeqCst);
        GatewayHere(Arc::clone(&self.gateways))
    }

    /// Whether phone calls can be made and taken now: no phone line is configured, or a
    /// gateway is connected (a bridge lets go of its connection while a trunk refuses it
    /// or cannot be reached).
    pub fn phone_up(&self) -> bool {
        self.config.phone_number.is_none() || self.gateways.load(Ordering::SeqCst) > 0
    }

    /// How long a session token from signing in lasts.
    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.session_ttl_secs))
    }

    /// The terms of signing in.
    pub fn sign_in_terms(&self) -> crate::auth::Terms {
        crate::auth::Terms { ttl: self.session_ttl(), admins_two_factor: self.config.admins_two_factor() }
    }
}

/// A phone gateway's connection, counted in [`App::phone_up`] until dropped.
#[derive(Debug)]
pub(crate) struct GatewayHere(Arc<AtomicUsize>);

impl Drop for GatewayHere {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The address of the client asking: the TCP peer, or, when the peer is one of the
/// configured `trusted_proxies`, the last address in `X-Forwarded-For` that is not a
/// trusted proxy. `None` when the request did not come through the listener (tests that
/// call the router directly).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The address, or the unspecified address when unknown (one shared budget).
    pub fn or_unspecified(self) -> IpAddr {
        self.0.unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }
}

impl FromRequestParts<App> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let peer = crate::listener::peer(&parts.extensions).map(|a: SocketAddr| a.ip());
        let trusted = app.config.trusted_proxy_list();
        let Some(peer) = peer else { return Ok(ClientAddr(None)) };
        if !trusted.contains(&peer) {
            return Ok(ClientAddr(Some(peer)));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        let client = forwarded.into_iter().rev().find(|a| !trusted.contains(a)).unwrap_or(peer);
        Ok(ClientAddr(Some(client)))
    }
}
