//! The HTTP edge: the router ([`router`]), health and metrics, credentials
//! (`accounts.rs`), the admin API (`admin.rs`, documented by `openapi.rs`), call records
//! (`records.rs`), what the pages read (`clients.rs`), the pages themselves (`pages.rs`),
//! and the WebSocket upgrade (`crate::ws`). One error type for every handler
//! (`error.rs`), and extractors that say who is asking (`who.rs`). Handlers reach the
//! writer only through the router in [`App`].

mod accounts;
mod admin;
mod clients;
pub mod error;
mod openapi;
pub mod pages;
mod records;
pub mod who;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use error::ApiError;
pub use openapi::openapi_document;

use crate::app::App;

/// The router of every HTTP route.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/ws", get(crate::ws::upgrade))
        .route("/api/enrol", post(accounts::enrol))
        .route("/api/sign-in", post(accounts::sign_in))
        .route("/api/sign-out", post(accounts::sign_out))
        .route("/api/call-records", get(records::call_records))
        .route("/api/openapi.json", get(openapi::openapi))
        .merge(admin::routes())
        .merge(clients::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn(error::log_faults))
        .with_state(app)
}

async fn readyz(State(app): State<App>) -> Response {
    if app.ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response()
    }
}

async fn metrics(State(app): State<App>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response()
}

#[cfg(test)]
mod tests;
