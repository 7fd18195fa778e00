//! The HTTP edge: the router ([`router`]), health and metrics, credentials
//! (`accounts.rs`), the admin API (`admin.rs`, documented by `openapi.rs`), call records
//! (`records.rs`), the centre's reports (`reports.rs`, the cost split in `cost_split.rs`, the staffing
//! plan in `staffing.rs`), retention and the audit log (`retention.rs`), handling notes (`notes.rs`), each municipality's
//! calendar (`calendar.rs`), what the pages read (`clients.rs`), the pages themselves (`pages.rs`),
//! and the WebSocket upgrade (`crate::ws`). One error type for every handler
//! (`error.rs`), and extractors that say who is asking (`who.rs`). Handlers reach the
//! writer only through the router in [`App`].

mod accounts;
mod admin;
mod assets;
pub mod body;
pub(crate) mod booking_links;
pub(crate) mod bookings;
pub(crate) mod calendar;
pub(crate) mod centres;
mod clients;
mod cost_split;
pub mod error;
mod link_guard;
pub(crate) mod notes;
pub(crate) mod notices;
mod openapi;
pub mod pages;
pub(crate) mod partners;
pub(crate) mod records;
pub(crate) mod reports;
pub(crate) mod requests;
mod retention;
pub(crate) mod rosters;
mod second_factor;
mod staffing;
pub mod who;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use error::ApiError;
pub use openapi::openapi_document;

use crate::app::App;

/// Which routes a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// Everything: the only listener, or the operator's private one.
    All,
    /// Everything but the operator's routes (`/metrics`, the admin API and page), which
    /// the private listener serves.
    Public,
}

/// The router of the HTTP routes of `surface`.
pub fn router(app: App, surface: Surface) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(clients::routes())
        .merge(bookings::routes())
        .merge(requests::routes())
        .merge(booking_links::routes())
        .merge(partners::routes())
        .merge(reports::routes())
        .merge(cost_split::routes())
        .merge(staffing::routes())
        .merge(retention::routes())
        .merge(rosters::routes())
        .merge(notes::routes())
        .merge(notices::routes())
        .merge(calendar::routes())
        .merge(centres::routes())
        .merge(second_factor::routes())
        .merge(pages::routes());
    if surface == Surface::All {
        router = router
            .route("/metrics", get(metrics))
            .merge(admin::routes())
            .merge(second_factor::admin_routes())
            .merge(retention::admin_routes())
            .merge(pages::operator_routes());
    }
    router
        .route("/ws", get(crate::ws::upgrade))
        .route("/api/enrol", post(accounts::enrol))
        .route("/api/sign-in", post(accounts::sign_in))
        .route("/api/sign-out", post(accounts::sign_out))
        .route("/api/call-records", get(records::call_records))
        .route("/api/openapi.json", get(openapi::openapi))
        .layer(axum::middleware::from_fn(error::log_faults))
        .with_state(app)
}

/// Ready or draining, or not ready while the store does not answer (a node that cannot
/// write records must not take calls); a node that is ready but cannot make or take
/// phone calls says so on a second line and stays ready, since everything else it does
/// works. In a cluster, `/readyz?writer` is ready on the writer only (for a load balancer
/// that must reach the writer's media relay, as a Kubernetes Service of media ports does).
async fn readyz(State(app): State<App>, uri: axum::http::Uri) -> Response {
    let writer_only = uri.query().is_some_and(|q| q.split('&').any(|p| p == "writer"));
    if writer_only && !app.router.writes_here() {
        (StatusCode::SERVICE_UNAVAILABLE, "edge: the writer is another node").into_response()
    } else if !app.ready() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    } else if let Err(e) = app.store.ping().await {
        (StatusCode::SERVICE_UNAVAILABLE, format!("store: unavailable: {e}")).into_response()
    } else if let Err(e) = app.router.health() {
        (StatusCode::SERVICE_UNAVAILABLE, format!("cluster: {e}")).into_response()
    } else if app.phone_up() {
        (StatusCode::OK, "ready").into_response()
    } else {
        let phone = "phone: unavailable: no phone gateway is connected (a trunk refuses its registration or \
                     cannot be reached, see kakehashi_phone_registered; or the bridge cannot reach this server)";
        (StatusCode::OK, format!("ready\n{phone}")).into_response()
    }
}

/// Prometheus text; with `metrics_token` configured, only for `Authorization: Bearer <it>`.
async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    if let Some(token) = &app.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !crate::auth::same_secret(given.as_bytes(), token.as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "metrics need the configured bearer token",
            )
                .into_response();
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response()
}

#[cfg(test)]
mod tests;
