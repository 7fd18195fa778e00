//! One node of a cluster (`[cluster]`, ADR 0020), as far as it is built: every node runs
//! the same binary against one Redis and one PostgreSQL; the node holding the writer's
//! lease runs the hub and the relay, the others are edges: they serve every client and
//! the API through [`Remote`] (calls to the writer on the command stream, events back on
//! the node's channel) and claim the lease every third of its time to live. When one
//! wins, it closes its edge connections (their clients resume with it), raises the fence
//! at PostgreSQL to its token, takes over the last writer's state from Redis (or, with
//! none, builds it from PostgreSQL as a single node does at start) and serves, taking
//! the edges' calls (`bridge`). The writer renews its lease; when it loses it (another
//! node holds it, or a renewal has not come back within the time to live) or PostgreSQL
//! refuses one of its writes for a newer token, it exits at once with [`DEPOSED`], for its
//! supervisor (systemd, Kubernetes) to start it again as an edge: nothing it would write
//! after that is accepted. Stopping gracefully, the writer drains like a single node and
//! releases the lease for an edge to take at once. The writer journals every input to
//! Redis and saves its core there (`journal`, ADR 0021): a new writer takes over that
//! state (queued requests, offers, live calls) instead of starting from the database.
//! Every node runs a relay from its start, whatever its role (`relays`, ADR 0022); told
//! to stop, a node's relay drains (no new call's media comes to it), an edge waits up to
//! `drain_secs` for the calls its relay carries to end, and the calls left move.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::Remote;
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
    token: IntGauge,
    changes: IntCounter,
    rtt: Histogram,
    lag: Histogram,
    nodes: IntGauge,
}

#[allow(clippy::expect_used)] // metric definitions are constants: a failure is a bug caught by the tests
impl ClusterMetrics {
    fn new(metrics: &Metrics) -> ClusterMetrics {
        let writer =
            IntGauge::new("kakehashi_cluster_writer", "1 while this node is the cluster's writer.").expect("metric");
        let token = IntGauge::new(
            "kakehashi_cluster_writer_token",
            "The fencing token of the writer this node follows (its own while it writes): a node behind the others has not yet seen a new writer.",
        )
        .expect("metric");
        let changes = IntCounter::new("kakehashi_cluster_leader_changes_total", "Times this node became the writer.")
            .expect("metric");
        let rtt = Histogram::with_opts(
            HistogramOpts::new("kakehashi_cluster_redis_rtt_seconds", "Round trip of the lease's claims to Redis.")
                .buckets(vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]),
        )
        .expect("metric");
        let lag = Histogram::with_opts(
            HistogramOpts::new(
                "kakehashi_cluster_command_lag_seconds",
                "From an edge's call entering the command stream to the writer taking it (Redis's clock against the writer's).",
            )
            .buckets(vec![0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
        )
        .expect("metric");
        let nodes = IntGauge::new(
            "kakehashi_cluster_nodes",
            "Nodes whose relays are present in Redis, as this node last read (ADR 0022).",
        )
        .expect("metric");
        metrics.add(vec![
            Box::new(writer.clone()),
            Box::new(token.clone()),
            Box::new(changes.clone()),
            Box::new(rtt.clone()),
            Box::new(lag.clone()),
            Box::new(nodes.clone()),
        ]);
        ClusterMetrics { writer, token, changes, rtt, lag, nodes }
    }
}

/// A second handle of `listener` (the same socket): an edge serves on it, and the
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

    let (listener, second) = second_handle(listener).map_err(|source| ServeError::Io { addr, source })?;
    let (private, private_second) = match private {
        Some(private) => {
            let at = private.local_addr().map_err(|source| ServeError::Io { addr, source })?;
            let (first, second) = second_handle(private).map_err(|source| ServeError::Private { addr: at, source })?;
            (Some(first), Some(second))
        }
        None => (None, None),
    };
    // From the moment the node is told to stop its relay drains: no new call's media
    // comes to it (ADR 0022).
    let (drain_relay, drains) = watch::channel(false);
    let mut shutdown = Box::pin(async move {
        shutdown.await;
        drain_relay.send_replace(true);
    });
    let keys = Keys::new(section.prefix.clone());
    // Every node runs a relay from its start (ADR 0022): the writer's orders for it come
    // on this node's stream of orders, its reports go up the command stream.
    let (relay_tx, relay_rx) = tokio::sync::mpsc::channel(crate::relay_start::RELAY_ORDERS);
    let (reports_tx, reports_rx) = tokio::sync::mpsc::channel(crate::media::REPORTS);
    let connect = async {
        loop {
            let both = async {
                let conn = redis::aio::ConnectionManager::new(client.clone()).await?;
                let remote = Remote::start(client.clone(), keys.clone(), relay_tx.clone()).await?;
                Ok::<_, redis::RedisError>((conn, remote))
            };
            match both.await {
                Ok(both) => return both,
                Err(e) => {
                    tracing::warn!(error = %e, "redis not reachable; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    };
    let (conn, remote) = tokio::select! {
        both = connect => both,
        () = &mut shutdown => return Ok(()),
    };
    drop(relay_tx);
    let lease_conn = conn.clone();
    let mut lease = Lease::new(conn, keys.clone(), &node, ttl).map_err(|e| bad(&e))?;
    let number = remote.node();
    // Its legs are numbered like its connections: this node's number in the high bits.
    // It runs as long as its orders' senders (the `Remote`'s) live: until the process ends.
    let _relay =
        crate::relay_start::start(&config, &metrics, super::wire::global_conn(number, 1), relay_rx, reports_tx).await?;
    let reporter = tokio::spawn(super::relays::report(reports_rx, remote.clone()));
    let (seen_tx, seen) = watch::channel(super::relays::Relays::default());
    let presence = tokio::spawn(super::relays::present(
        lease_conn.clone(),
        keys.clone(),
        remote.clone(),
        ttl,
        drains,
        seen_tx,
        cluster.nodes.clone(),
    ));
    let relay_stops = |presence: tokio::task::JoinHandle<()>| {
        let (conn, keys) = (lease_conn.clone(), keys.clone());
        async move {
            presence.abort();
            super::relays::withdraw(conn, &keys, number).await;
            reporter.abort();
        }
    };

    // Serve as an edge on second handles of the listeners (the writer serves on the
    // first): every call goes to the writer through Redis.
    let (stop_edge, edge_stops) = watch::channel(false);
    let (closing_tx, closing_rx) = watch::channel(false);
    let router: crate::cluster::SharedRouter = Arc::new(remote.clone());
    let edge_config = Config { public_url: Some(config.public_base(addr)), ..config.clone() };
    let app = crate::app::App::new(edge_config, store.clone(), metrics.clone(), router, closing_rx);
    let mut stops = edge_stops.clone();
    let edge = tokio::spawn(crate::serve::run(second, private_second, app, closing_tx, async move {
        let _ = stops.wait_for(|stop| *stop).await;
    }));
    tracing::info!(%addr, node, number = remote.node(), "cluster node serving as an edge");
    let stop_edge = |edge: tokio::task::JoinHandle<std::io::Result<()>>| async move {
        let _ = stop_edge.send(true);
        let _ = edge.await;
    };

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
                    tracing::warn!(error = %e, "holding the lease, the fence could not be raised; trying again");
                }
            },
            Ok(Standing::Follower { token, .. }) => {
                remote.writer_is(token);
                cluster.token.set(i64::try_from(token).unwrap_or(i64::MAX));
            }
            Err(e) => {
                tracing::warn!(error = %e, "the writer's lease could not be claimed; trying again");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(lease.renew_every()) => {}
            () = &mut shutdown => {
                stop_edge(edge).await;
                let drain = Duration::from_secs(u64::from(config.drain_secs));
                relay_calls_end(&metrics.media_relay_legs, drain).await;
                relay_stops(presence).await;
                return Ok(());
            }
        }
    };
    // This node's edge connections resume with it as the writer.
    stop_edge(edge).await;
    cluster.writer.set(1);
    cluster.token.set(i64::try_from(token).unwrap_or(i64::MAX));
    cluster.changes.inc();
    tracing::info!(node, token, "this node is the cluster's writer");

    // Keep the lease while serving; lose it and exit.
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let keeper = tokio::spawn(keep(lease, token, fenced.clone(), cluster.clone(), deposed, release_rx));
    let journal = super::journal::RedisJournal::new(lease_conn.clone(), keys.clone(), &node, ttl);
    let lag = cluster.lag.clone();
    let orders = super::orders::orders(lease_conn.clone(), keys.clone());
    let stream_keys = keys.clone();
    let bridge: crate::serve::Bridge = Box::new(move |local, reports| {
        tokio::spawn(async move {
            let told = super::relays::tell_writer(seen, local.clone());
            let feeds = super::bridge::Feeds { local, reports, lag };
            tokio::join!(super::bridge::run(client, stream_keys, node, feeds), told);
        })
    });
    let writer = crate::serve::ClusterWriter { bridge, journal, node: number, orders };
    let served = crate::serve::serve_with(listener, private, config, fenced, metrics, Some(writer), shutdown).await;
    // Stopped gracefully: hand the lease over at once; the relay's calls move.
    let _ = release_tx.send(());
    let _ = keeper.await;
    cluster.writer.set(0);
    relay_stops(presence).await;
    served
}

/// An edge stopping: the calls its relay carries end by themselves for up to `within`
/// (its relay drains meanwhile); those left then move to another relay.
async fn relay_calls_end(legs: &IntGauge, within: Duration) {
    let until = Instant::now() + within;
    // The gauge is set every STATS_INTERVAL: wait for one past the drain's start.
    tokio::time::sleep(crate::media::STATS_INTERVAL.min(within)).await;
    while legs.get() > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    if legs.get() > 0 {
        tracing::warn!(legs = legs.get(), "the relay's calls did not end within drain_secs; they move");
    }
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
                        cluster.token.set(i64::try_from(token).unwrap_or(i64::MAX));
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
pub(super) fn step_down(why: &str) -> ! {
    tracing::error!(why, "deposed as the cluster's writer; exiting to start again as an edge");
    std::process::exit(DEPOSED);
}
