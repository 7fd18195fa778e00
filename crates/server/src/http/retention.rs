//! Retention and the audit log over HTTP (issue 16): a municipality's retention and
//! whether it keeps handling notes (its supervisor reads it, an admin sets it, audited)
//! and the audit log, which admins read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::body::JsonBody;
use super::error::{ApiError, PathOf, QueryOf};
use super::who::{Admin, Reader};
use crate::app::App;
use crate::problem::{Problem, Unit};
use crate::store::{AuditEntry, Constraint, Retention, StoreError};

/// What supervisors read, on every listener.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/tenants/{id}/retention", get(read))
}

/// What admins do, where the admin API is (the operator's listener when there is one).
pub(crate) fn admin_routes() -> Router<App> {
    Router::new().route("/api/tenants/{id}/retention", put(set)).route("/api/audit-log", get(audit_log))
}

/// How long anything is kept: 30 days to 20 years.
const DAYS: Problem = Problem::range(30, 7300, Unit::Days);

/// `GET /api/tenants/{id}/retention`.
async fn read(State(app): State<App>, reader: Reader, PathOf(id): PathOf<i64>) -> Result<Json<Retention>, ApiError> {
    if !reader.sees(id) {
        return Err(ApiError::forbidden("another municipality's retention"));
    }
    app.store.retention(id).await?.map(Json).ok_or_else(|| ApiError::not_found(format!("no tenant {id}")))
}

/// `PUT /api/tenants/{id}/retention` (admin, audited).
async fn set(
    State(app): State<App>,
    admin: Admin,
    PathOf(id): PathOf<i64>,
    JsonBody(r): JsonBody<Retention>,
) -> Result<StatusCode, ApiError> {
    for (field, days) in [("records_days", r.records_days), ("audit_days", r.audit_days), ("notes_days", r.notes_days)]
    {
        if !(30..=7300).contains(&days) {
            return Err(ApiError::invalid(field, DAYS));
        }
    }
    let found = app.store.set_retention(id, r).await.map_err(|e| match e {
        StoreError::Constraint(Constraint::Check) => ApiError::invalid("records_days", DAYS),
        e => e.into(),
    })?;
    if !found {
        return Err(ApiError::not_found(format!("no tenant {id}")));
    }
    let what = format!(
        "records_days:{} audit_days:{} handling_notes:{} notes_days:{}",
        r.records_days, r.audit_days, r.handling_notes, r.notes_days
    );
    app.store.audit_for(Some(id), &admin.actor, "set_retention", Some(&what), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn hundred() -> u32 {
    100
}

/// `GET /api/audit-log`'s query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// Entries at or after this, ms since the epoch.
    #[serde(default)]
    pub since: i64,
    /// One municipality's entries only.
    #[serde(default)]
    pub tenant: Option<i64>,
    /// At most this many, 1 to 1000 (default 100), newest first.
    #[serde(default = "hundred")]
    pub limit: u32,
}

/// `GET /api/audit-log` (admin).
async fn audit_log(
    State(app): State<App>,
    _admin: Admin,
    QueryOf(q): QueryOf<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    if !(1..=1000).contains(&q.limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            kakehashi_protocol::ErrorCode::InvalidField,
            "limit: 1 to 1000",
        ));
    }
    Ok(Json(app.store.audit_entries(q.tenant, q.since, q.limit).await?))
}
