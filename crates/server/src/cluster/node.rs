//! One node of a cluster (`[cluster]`, ADR 0020), as far as it is built: every node runs
//! the same binary against one Redis and one PostgreSQL; the node holding the writer's
//! lease serves everything, the others stand by. A standby answers `/healthz`, `/readyz`
//! (503, naming the writer, so a load balancer sends nobody to it) and `/metrics` (on
//! `private_listen` when set, as a writer does), and
//! claims the lease every third of its time to live. When it wins, it raises the fence at
//! PostgreSQL to its token, rebuilds the writer's state from PostgreSQL (the directory,
//! bookings and calendars, as a single node does at start) and serves. The writer renews
//! its lease; when it loses it (another node holds it, or a renewal has not come back
//! within the time to live) or PostgreSQL refuses one of its writes for a newer token, it
//! exits at once with [`DEPOSED`], for its supervisor (systemd, Kubernetes) to start it
//! again as a standby: nothing it would write after that is accepted. Stopping gracefully,
//! the writer drains like a single node and releases the lease for a standby to take at
//! once. Not yet built: edges forwarding commands to the writer through Redis, state in
//! Redis that survives the writer (queued requests and live calls are the writer's own
//! today, and end with it).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::keys::Keys;
use super::lease::{Lease, Standing};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::serve::ServeError;
use crate::store::Store;

/// The exit status of a writer that lost its lease (`EX_TEMPFAIL`): start it again.
pub const DEPOSED: i32 = 75;

/// The cluster's own metrics, beside the server's.
#[derive(Clone)]
struct ClusterMetrics {
    writer: IntGauge,
    changes: IntCounter,
    rtt: Histogram,
}

#[allow(clippy::expect_used)] // metric definitions are constants: a failure is a bug caught by the tests
impl ClusterMetrics {
    fn new(metrics: &Metrics) -> ClusterMetrics {
        let writer =
            IntGauge::new("kakehashi_cluster_writer", "1 while this node is the cluster's writer.").expect("metric");
        let changes = IntCounter::new("kakehashi_cluster_leader_changes_total", "Times this node became the writer.")
            .expect("metric");
        let rtt = Histogram::with_opts(
            HistogramOpts::new("kakehashi_cluster_redis_rtt_seconds", "Round trip of the lease's claims to Redis.")
                .buckets(vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]),
        )
        .expect("metric");
        metrics.add(vec![Box::new(writer.clone()), Box::new(changes.clone()), Box::new(rtt.clone())]);
        ClusterMetrics { writer, changes, rtt }
    }
}

/// What a standby says on `/readyz`.
#[derive(Clone)]
struct Standby {
    says: watch::Receiver<String>,
    metrics: Metrics,
}

/// A standby's routes; `/metrics` only where the operator's routes are (`with_metrics`:
/// the private listener when there is one, else the public).
fn standby_routes(standby: Standby, with_metrics: bool) -> Router {
    async fn ready(State(s): State<Standby>) -> Response {
        (StatusCode::SERVICE_UNAVAILABLE, s.says.borrow().clone()).into_response()
    }
    async fn metrics(State(s): State<Standby>) -> Response {
        s.metrics.render().into_response()
    }
    let routes = Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(ready));
    let routes = if with_metrics { routes.route("/metrics", get(metrics)) } else { routes };
    routes.fallback(ready).with_state(standby)
}

/// A second handle of `listener` (the same socket): a standby answers on it, and the
/// writer later serves on the first.
fn second_handle(listener: TcpListener) -> std::io::Result<(TcpListener, TcpListener)> {
    let first = listener.into_std()?;
    let second = first.try_clone()?;
    Ok((TcpListener::from_std(first)?, TcpListener::from_std(second)?))
}

/// Serve as one node of the cluster until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    private: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let Some(section) = config.cluster.clone() else { return Err(ServeError::Cluster("no [cluster] section".into())) };
    let node = section.node_id();
    let ttl = Duration::from_millis(u64::from(section.lease_ms));
    let store = crate::serve::open_store(&config).await?;
    let metrics = Metrics::new();
    let cluster = ClusterMetrics::new(&metrics);
    let bad = |e: &dyn std::fmt::Display| ServeError::Cluster(e.to_string());
    let client = redis::Client::open(section.redis.as_str()).map_err(|e| bad(&e))?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io { addr: config.listen, source })?;

    // Stand by on second handles of the listeners; the writer serves on the first.
    let (listener, second) = second_handle(listener).map_err(|source| ServeError::Io { addr, source })?;
    let (private, private_second) = match private {
        Some(private) => {
            let at = private.local_addr().map_err(|source| ServeError::Io { addr, source })?;
            let (first, second) = second_handle(private).map_err(|source| ServeError::Private { addr: at, source })?;
            (Some(first), Some(second))
        }
        None => (None, None),
    };
    let (says, said) = watch::channel(format!("standby: node {node} is starting"));
    let (stop_standby, standby_stops) = watch::channel(false);
    let standing = Standby { says: said, metrics: metrics.clone() };
    let refusals: Arc<dyn crate::listener::Refusals> = Arc::new(metrics.clone());
    let mut standby = tokio::task::JoinSet::new();
    let public_metrics = private_second.is_none();
    for (handle, with_metrics) in [(Some(second), public_metrics), (private_second, true)] {
        let Some(handle) = handle else { continue };
        let routes = standby_routes(standing.clone(), with_metrics);
        let stops = standby_stops.clone();
        let grace = Duration::from_secs(1);
        standby.spawn(crate::listener::serve(handle, routes, config.bounds(), refusals.clone(), stops, grace));
    }
    tracing::info!(%addr, node, "cluster node standing by");

    let mut shutdown = Box::pin(shutdown);
    let connect = async {
        loop {
            match redis::aio::ConnectionManager::new(client.clone()).await {
                Ok(conn) => return conn,
                Err(e) => {
                    says.send_replace(format!("standby: redis: {e}"));
                    tracing::warn!(error = %e, "redis not reachable; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    };
    let conn = tokio::select! {
        conn = connect => conn,
        () = &mut shutdown => { let _ = stop_standby.send(true); standby.join_all().await; return Ok(()); }
    };
    let mut lease = Lease::new(conn, Keys::new(section.prefix.clone()), &node, ttl).map_err(|e| bad(&e))?;

    // Claim until this node writes.
    let (token, fenced, deposed) = loop {
        let standing = match store.fence_floor().await {
            Ok(floor) => claim(&mut lease, floor, &cluster).await,
            Err(e) => Err(e.into()),
        };
        match standing {
            Ok(Standing::Writer { token, .. }) => match store.take_fence(token).await {
                Ok(Some((fenced, deposed))) => break (token, fenced, deposed),
                Ok(None) => tracing::warn!(token, "the lease's token is below the database's fence; claiming again"),
                Err(e) => {
                    says.send_replace(format!("standby: store: {e}"));
                    tracing::warn!(error = %e, "holding the lease, the fence could not be raised; trying again");
                }
            },
            Ok(Standing::Follower { writer, .. }) => {
                says.send_replace(format!("standby: node {writer} writes"));
            }
            Err(e) => {
                says.send_replace(format!("standby: {e}"));
                tracing::warn!(error = %e, "the writer's lease could not be claimed; trying again");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(lease.renew_every()) => {}
            () = &mut shutdown => { let _ = stop_standby.send(true); standby.join_all().await; return Ok(()); }
        }
    };
    let _ = stop_standby.send(true);
    standby.join_all().await;
    cluster.writer.set(1);
    cluster.changes.inc();
    tracing::info!(node, token, "this node is the cluster's writer");

    // Keep the lease while serving; lose it and exit.
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let keeper = tokio::spawn(keep(lease, token, fenced.clone(), cluster.clone(), deposed, release_rx));
    let served = crate::serve::serve_with(listener, private, config, fenced, metrics, shutdown).await;
    // Stopped gracefully: hand the lease over at once.
    let _ = release_tx.send(());
    let _ = keeper.await;
    cluster.writer.set(0);
    served
}

/// Ask Redis, timed; no new grant at or below `floor`.
async fn claim(lease: &mut Lease, floor: u64, cluster: &ClusterMetrics) -> Result<Standing, ServeError> {
    let sent = Instant::now();
    let standing = lease.claim(floor).await.map_err(|e| ServeError::Cluster(e.to_string()))?;
    cluster.rtt.observe(sent.elapsed().as_secs_f64());
    Ok(standing)
}

/// Renew the lease every third of its time to live until told to release it; exit the
/// process with [`DEPOSED`] the moment this node may no longer write.
async fn keep(
    mut lease: Lease,
    mut token: u64,
    store: Store,
    cluster: ClusterMetrics,
    deposed: Arc<Notify>,
    mut release: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(lease.renew_every()) => {}
            () = deposed.notified() => step_down("the database refused a write: a newer writer holds the fence"),
            _ = &mut release => {
                if let Err(e) = lease.release().await {
                    tracing::warn!(error = %e, "the lease could not be released; it runs out by itself");
                }
                return;
            }
        }
        // The floor is this node's own token: the database is not asked (a PostgreSQL
        // restart must not cost the lease); a newer writer's token shows in Redis, or
        // fails the raise below.
        match claim(&mut lease, token, &cluster).await {
            Ok(Standing::Writer { fresh: false, .. }) => {}
            Ok(Standing::Writer { fresh: true, token: granted }) => {
                // Redis lost the lease (restarted empty) and granted it again, with a
                // higher token: the fence follows it.
                match store.raise_fence(granted).await {
                    Ok(true) => {
                        token = granted;
                        tracing::info!(token, "the lease was granted again; the fence follows");
                    }
                    Ok(false) => step_down("a newer writer holds the fence"),
                    Err(e) => tracing::warn!(error = %e, "the fence could not follow the new grant yet"),
                }
            }
            Ok(Standing::Follower { writer, .. }) => step_down(&format!("node {writer} holds the lease")),
            Err(e) => tracing::warn!(error = %e, "the lease could not be renewed"),
        }
        if lease.holds(Instant::now()).is_none() {
            step_down("the lease ran out before a renewal came back");
        }
    }
}

/// This node may no longer write: go, at once (see the module's documentation).
fn step_down(why: &str) -> ! {
    tracing::error!(why, "deposed as the cluster's writer; exiting to start again as a standby");
    std::process::exit(DEPOSED);
}
