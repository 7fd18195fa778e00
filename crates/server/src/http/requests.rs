//! A coordinator's hand over HTTP (issue 17): a waiting request of their municipality
//! (any, for an admin) offered to an interpreter they choose, audited. The wallboard's
//! snapshot lists the waiting requests.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::Deserialize;

use super::body::JsonBody;
use super::error::{ApiError, PathOf};
use super::who::Reader;
use crate::app::App;

/// The route.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/requests/{id}/assign", post(assign))
}

/// Whom to ring.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignBody {
    /// The interpreter.
    pub interpreter: i64,
}

/// `POST /api/requests/{id}/assign`: the interpreter is rung now, or the reason why not.
async fn assign(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<u64>,
    JsonBody(b): JsonBody<AssignBody>,
) -> Result<StatusCode, ApiError> {
    let result = app.router.assign(reader.scope, id, b.interpreter).await;
    let target = format!("request:{id} interpreter:{}", b.interpreter);
    app.store
        .audit_for(reader.scope, &format!("staff:{}", reader.id), "assign_request", Some(&target), result.is_ok())
        .await?;
    match result {
        Ok(()) => Ok(StatusCode::ACCEPTED),
        Err(e) if e.code == p::ErrorCode::NotFound => Err(ApiError::not_found(e.message)),
        Err(e) if e.code == p::ErrorCode::NotAllowed => Err(ApiError::conflict(p::ErrorCode::NotAllowed, e.message)),
        Err(e) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code, e.message)),
    }
}
