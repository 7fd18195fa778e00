//! The HTTP listener: accepts TCP connections and serves each with hyper, within bounds
//! a slow or hostile client cannot stretch.
//!
//! - **Connections**: at most [`Bounds::connections`] open at once (each holds a file
//!   descriptor), and at most [`Bounds::per_address`] from one IP address. A connection
//!   over either bound is closed at once, before anything is read from it.
//! - **Headers**: a request's headers must arrive within [`Bounds::header_timeout`], and an
//!   idle keep-alive connection waits for its next request no longer than that either
//!   (hyper's header-read timer runs from the moment it waits for a request head).
//! - **Requests**: a handler answers within [`Bounds::request_timeout`] (a WebSocket
//!   upgrade answers at once; its connection is bounded by its own heartbeats).
//!
//! The descriptor budget is checked when the server starts ([`descriptor_budget`]): the
//! soft limit is raised as far as needed and the hard limit allows, and a configuration
//! that needs more descriptors than the process may have is refused with the numbers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// The limits the listener keeps.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// TCP connections open at once (HTTP requests and WebSockets together).
    pub connections: usize,
    /// TCP connections open at once from one IP address.
    pub per_address: usize,
    /// How long a request's headers may take to arrive, and a keep-alive connection may
    /// sit idle between requests.
    pub header_timeout: Duration,
    /// How long a handler may take to answer.
    pub request_timeout: Duration,
    /// Addresses exempt from the per-address bound (trusted reverse proxies).
    pub unlimited: crate::config::Proxies,
}

/// Open connections per IP address; a [`AddressSlot`] gives its place back when dropped.
#[derive(Debug, Default)]
struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place in [`PerAddress`].
#[derive(Debug)]
struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn take(table: &Arc<PerAddress>, ip: IpAddr, limit: usize) -> Option<AddressSlot> {
        let mut open = table.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(AddressSlot { table: table.clone(), ip })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// What the listener counts, for metrics.
pub trait Refusals: Send + Sync + 'static {
    /// A connection was closed unread: `reason` is `capacity` or `per_address`.
    fn refused(&self, reason: &'static str);
}

/// Serve `router` on `listener` until `stop` turns true; then stop accepting, ask every
/// connection to finish its request, and return once all have closed or `grace` has
/// passed. Each request carries the peer's address as [`ConnectInfo`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    bounds: Bounds,
    refusals: Arc<dyn Refusals>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let request_limit = bounds.request_timeout;
    let router = router.layer(axum::middleware::from_fn(move |req, next: axum::middleware::Next| {
        request_timeout(request_limit, req, next)
    }));
    let permits = Arc::new(Semaphore::new(bounds.connections));
    let per_address = Arc::new(PerAddress::default());
    let mut tasks = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, or the peer reset before we took it: wait a
                    // moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refusals.refused("capacity");
            tracing::warn!("connection refused: the server is at its connection limit");
            continue;
        };
        let limit = if bounds.unlimited.contains(&peer.ip()) { usize::MAX } else { bounds.per_address };
        let Some(slot) = PerAddress::take(&per_address, peer.ip(), limit) else {
            refusals.refused("per_address");
            tracing::debug!("connection refused: too many from one address");
            continue;
        };
        // No Nagle: an event often follows another at once (presence, then assigned), and
        // would otherwise wait for the client's delayed ACK, 40 ms.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req.map(axum::body::Body::new)
            },
        ));
        let mut stop = stop.clone();
        let header_timeout = bounds.header_timeout;
        tasks.spawn(async move {
            let _held = (permit, slot);
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let conn = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                () = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    // Upgraded connections (WebSockets) end through their own loops, which watch the
    // same signal; plain requests finish the one in flight.
    let deadline = tokio::time::sleep(grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = tasks.join_next() => if next.is_none() { break },
            () = &mut deadline => {
                tracing::warn!(open = tasks.len(), "connections still open after the grace; closing them");
                tasks.abort_all();
                break;
            }
        }
    }
}

/// Until the stop signal turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn request_timeout(
    limit: Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "the request took too long; try again").into_response(),
    }
}

/// Why the process cannot have the descriptors its configuration needs.
#[derive(Debug, thiserror::Error)]
#[error(
    "the configuration needs {needed} file descriptors (max_connections, the media relay's TCP connections, the store) \
     but the process may open at most {allowed}: raise the limit (systemd: LimitNOFILE) or lower max_connections"
)]
pub struct DescriptorShortage {
    /// What the configuration needs.
    pub needed: u64,
    /// The hard limit.
    pub allowed: u64,
}

/// Make sure the process may open `needed` descriptors: raise the soft limit towards the
/// hard one if it is lower. Returns the soft limit now in force.
pub fn descriptor_budget(needed: u64) -> Result<u64, DescriptorShortage> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        // Not knowable here (not Linux or BSD): trust the operator.
        return Ok(needed);
    };
    if soft >= needed {
        return Ok(soft);
    }
    if hard < needed {
        return Err(DescriptorShortage { needed, allowed: hard });
    }
    match setrlimit(Resource::RLIMIT_NOFILE, needed, hard) {
        Ok(()) => Ok(needed),
        Err(_) => Err(DescriptorShortage { needed, allowed: soft }),
    }
}

/// Descriptors the server needs beside its HTTP connections: the store's pool, the media
/// sockets and listener, the process's own, and a margin.
pub const DESCRIPTORS_BESIDE_CONNECTIONS: u64 = 256;

/// The address a request came from (set by [`serve`]; tests that call the router
/// directly get `None`).
pub fn peer(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_address_slots_are_bounded_and_given_back() {
        let table = Arc::new(PerAddress::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let a = PerAddress::take(&table, ip, 2);
        let b = PerAddress::take(&table, ip, 2);
        assert!(a.is_some() && b.is_some());
        assert!(PerAddress::take(&table, ip, 2).is_none(), "a third from the same address");
        assert!(PerAddress::take(&table, IpAddr::from([192, 0, 2, 2]), 2).is_some(), "another address");
        drop(a);
        assert!(PerAddress::take(&table, ip, 2).is_some(), "a place given back");
        drop(b);
    }
}
