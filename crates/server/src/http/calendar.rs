//! A municipality's centre calendar over HTTP (issue 17): its document (the default, a
//! municipal office's, until set) with the next two weeks' plans, whether it is open now
//! and when it next opens; its supervisor or an admin sets it, audited, and a wrong field
//! is named.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Serialize;

use super::body::JsonBody;
use super::error::{ApiError, PathOf};
use super::who::Reader;
use crate::app::App;
use crate::calendar::{CalendarDoc, DayPlan};

/// The routes.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/tenants/{id}/calendar", get(read).put(set))
}

/// How many days ahead a calendar lists.
const DAYS: usize = 14;

/// A calendar as it is read.
#[derive(Serialize, JsonSchema)]
pub(crate) struct CalendarOut {
    /// The document (the default until one is set).
    pub calendar: CalendarDoc,
    /// Whether the municipality has set one.
    pub set: bool,
    /// Open now.
    pub open_now: bool,
    /// When it next opens (now when open), ms since the epoch; none within a year.
    pub next_open: Option<i64>,
    /// The plans of today and the next 13 days, in the calendar's time zone.
    pub days: Vec<DayPlan>,
}

/// `GET /api/tenants/{id}/calendar`.
async fn read(State(app): State<App>, reader: Reader, PathOf(id): PathOf<i64>) -> Result<Json<CalendarOut>, ApiError> {
    if !reader.sees(id) {
        return Err(ApiError::forbidden("another municipality's calendar"));
    }
    let stored = app.store.calendar(id).await?.ok_or_else(|| ApiError::not_found(format!("no tenant {id}")))?;
    let set = stored.is_some();
    let doc = stored.unwrap_or_default();
    let calendar = doc.to_calendar().map_err(|e| ApiError::internal(format!("stored calendar of tenant {id}: {e}")))?;
    let now = jiff::Timestamp::now();
    let days = calendar.days_from(now, DAYS);
    Ok(Json(CalendarOut {
        open_now: calendar.is_open(now),
        next_open: calendar.next_open(now).map(|t| t.as_millisecond()),
        calendar: doc,
        set,
        days,
    }))
}

/// `PUT /api/tenants/{id}/calendar`: its supervisor or an admin, audited.
async fn set(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<i64>,
    JsonBody(doc): JsonBody<CalendarDoc>,
) -> Result<StatusCode, ApiError> {
    if !reader.sees(id) {
        return Err(ApiError::forbidden("another municipality's calendar"));
    }
    doc.to_calendar().map_err(|e| ApiError::invalid(&e.field, e.problem))?;
    if !app.store.set_calendar(id, &doc).await? {
        return Err(ApiError::not_found(format!("no tenant {id}")));
    }
    // The engine's "when" answers keep to it from now on.
    let change = crate::cluster::DirectoryEdit::Calendar { tenant: id, calendar: Some(doc.clone()) };
    app.router.directory(change).await.map_err(|e| ApiError::internal(e.message))?;
    app.store.audit_for(Some(id), &format!("staff:{}", reader.id), "set_calendar", None, true).await?;
    Ok(StatusCode::NO_CONTENT)
}
