//! A booking's link as the resident's page uses it before the slot (issue 17): the slot
//! as a calendar file for their phone. Like the invite's own lookup, a link that does
//! not work costs the asker against the guard on link guessing.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kakehashi_protocol as p;

use super::error::{ApiError, PathOf};
use super::link_guard::LinkAttempt;
use crate::app::{App, ClientAddr};

/// The route.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/invites/{token}/calendar.ics", get(calendar_file))
}

/// `GET /api/invites/{token}/calendar.ics`: the booked slot of a booking's link whose
/// consultation has not begun.
async fn calendar_file(
    State(app): State<App>,
    from: ClientAddr,
    PathOf(token): PathOf<String>,
) -> Result<Response, ApiError> {
    let gone = || {
        ApiError::new(axum::http::StatusCode::NOT_FOUND, p::ErrorCode::NotFound, "no booking is waiting on this link")
    };
    let attempt = LinkAttempt::begin(&app, from, &token, gone)?;
    let info = app.router.peek_invite(token.clone()).await.map_err(ApiError::internal)?;
    let Some((info, start)) = info.and_then(|i| i.starts_at.map(|s| (i, s))) else {
        return Err(attempt.miss(gone()));
    };
    let dir = app.store.directory().await?;
    let tenant = dir.tenants.iter().find(|t| t.id == info.from.tenant).map(|t| t.name.clone()).unwrap_or_default();
    let desk = dir.desks.iter().find(|d| d.id == info.from.desk).map(|d| d.name.clone()).unwrap_or_default();
    let base = app.config.public_base(app.config.listen);
    let url = format!("{base}/join/{token}");
    let host = base.split("://").nth(1).unwrap_or("kakehashi");
    let uid = format!("{}@{host}", &crate::auth::hash_token(&token)[..16]);
    let summary = format!("{tenant} {desk} — 通訳つき相談 / interpreted consultation");
    let ics = crate::bookings::ics::event(
        &uid,
        start.as_millis(),
        info.expires_at.as_millis(),
        &summary,
        &url,
        crate::store::now_ms(),
    );
    let headers = [
        (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"consultation.ics\""),
        (header::CACHE_CONTROL, "no-store"),
    ];
    Ok((headers, ics).into_response())
}
