//! A centre's standing link (issue 17, ADR 0019): `/start/{tenant}` on a poster, the city's
//! web page or Messenger, where a resident picks their language, sees whether it can be
//! served now and the centre's hours, and books a half hour at the municipality's online
//! desk, with no account and no phone number. What it reads and books:
//!
//! - `GET /api/centres/{tenant}`: the centre's name, each language's answer (now, later
//!   today, by booking), whether it is open, its next two weeks' hours;
//! - `GET /api/centres/{tenant}/slots?language=`: the free half hours of a language;
//! - `POST /api/centres/{tenant}/bookings`: one of them booked; the answer is the
//!   resident's link (the join page shows the slot in their language until it begins);
//! - `DELETE /api/invites/{token}/wait`: a resident who waits (from `queue`) stops;
//! - `GET /api/centres/{tenant}/qr.svg`: the link as a QR code for the poster;
//! - `PUT /api/tenants/{id}/online-desk`: which desk takes them (its coordinator).
//!
//! Anyone may call the first four: each is held to the address's budget of the guard, and
//! a municipality takes at most [`DAILY_BOOKINGS`] bookings a day from its link.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::{ApiError, PathOf, QueryOf};
use super::link_guard::LinkAttempt;
use super::who::Reader;
use crate::app::{App, ClientAddr};
use crate::bookings::{BookingIn, ResidentJoins};
use crate::calendar::{CalendarDoc, DayPlan};
use crate::calls::{SLOT_LEAD_MS, SLOT_MINUTES};
use crate::problem::ProblemCode as C;
use crate::store::now_ms;

/// Bookings a municipality takes from its standing link in 24 hours; more are refused
/// with "call the centre" (coordinators see and cancel them on the bookings page).
pub(crate) const DAILY_BOOKINGS: i64 = 30;

/// Who the audit log says booked from the standing link.
const ACTOR: &str = "resident:standing_link";

/// The routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/centres/{tenant}", get(centre))
        .route("/api/centres/{tenant}/slots", get(slots))
        .route("/api/centres/{tenant}/bookings", post(book))
        .route("/api/centres/{tenant}/queue", post(queue))
        .route("/api/centres/{tenant}/qr.svg", get(qr))
        .route("/api/invites/{token}/wait", delete(stop_waiting))
        .route("/api/tenants/{id}/online-desk", put(set_online_desk))
}

/// A language on the standing link.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CentreLanguage {
    /// BCP 47 tag.
    pub tag: String,
    /// Its name for itself.
    pub native: String,
    /// Now, later today, by booking, by phone.
    pub state: p::AvailabilityState,
    /// From when (RFC 3339), for later today and by booking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A centre as its standing link shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CentreOut {
    /// The municipality.
    pub tenant: i64,
    /// Its name.
    pub name: String,
    /// Whether residents may book here (the municipality has an online desk).
    pub bookable: bool,
    /// Whether its online desk takes residents now (connected, within the centre's hours
    /// where they are set): then a resident may wait for an interpreter now.
    pub open_now: bool,
    /// Every language but Japanese, with its answer.
    pub languages: Vec<CentreLanguage>,
    /// The next 14 days' opening hours (in the centre's time zone).
    pub days: Vec<DayPlan>,
    /// The centre's time zone.
    pub time_zone: String,
}

/// Which language's free slots.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlotsQuery {
    /// The resident's language (BCP 47).
    pub language: String,
}

/// A free slot.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SlotOut {
    /// Its start (RFC 3339).
    pub start: String,
    /// Its length in minutes.
    pub minutes: i64,
}

/// A resident's booking from the standing link.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResidentBookingIn {
    /// Their language (BCP 47).
    pub language: String,
    /// One of the free slots' start (RFC 3339).
    pub start: String,
    /// What it is about, if they say.
    #[serde(default)]
    pub topic: Option<p::Topic>,
}

/// The resident's booking made.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ResidentBookedOut {
    /// Their link: it shows the slot (and a calendar file) until the consultation begins,
    /// then lets them in. Keep it: it is not shown again.
    pub link: String,
    /// The slot's start (RFC 3339).
    pub start: String,
}

/// A resident asks to talk now.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueIn {
    /// Their language (BCP 47).
    pub language: String,
}

/// The resident's link while they wait.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct QueuedOut {
    /// Their link: it says where they stand until an interpreter answers, then lets them
    /// in. Keep it: it is not shown again.
    pub link: String,
}

/// The desk that takes a municipality's online bookings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OnlineDeskBody {
    /// A desk of the municipality; null: none (the standing link takes no bookings).
    pub desk: Option<i64>,
}

/// The address's budget, then the municipality: its name and online desk, or 404.
async fn known(app: &App, from: ClientAddr, tenant: i64) -> Result<(String, Option<i64>), ApiError> {
    let (ip, now) = (from.or_unspecified(), tokio::time::Instant::now());
    if !app.guard.allowed(ip, now) {
        return Err(crate::auth::AuthError::Throttled.into());
    }
    let Some(desk) = app.store.online_desk(tenant).await? else {
        let _ = app.guard.spend(ip, now);
        return Err(ApiError::not_found(format!("no centre {tenant}")));
    };
    let dir = app.store.directory().await?;
    let name = dir.tenants.iter().find(|t| t.id == tenant).map(|t| t.name.clone()).unwrap_or_default();
    Ok((name, desk))
}

/// The municipality's online desk for something a resident makes there (a booking, a
/// wait): each costs the address an attempt, so that one phone cannot fill the calendar
/// or the queue.
async fn spend_at_online_desk(app: &App, from: ClientAddr, tenant: i64) -> Result<i64, ApiError> {
    let (_, desk) = known(app, from, tenant).await?;
    let desk = desk.ok_or_else(no_bookings)?;
    app.guard
        .spend(from.or_unspecified(), tokio::time::Instant::now())
        .map_err(|_| crate::auth::AuthError::Throttled)?;
    Ok(desk)
}

fn no_bookings() -> ApiError {
    ApiError::conflict(p::ErrorCode::NotAllowed, "this centre takes no bookings online: call or visit it")
}

/// `GET /api/centres/{tenant}`.
async fn centre(
    State(app): State<App>,
    from: ClientAddr,
    PathOf(tenant): PathOf<i64>,
) -> Result<Json<CentreOut>, ApiError> {
    let (name, desk) = known(&app, from, tenant).await?;
    let view = app.router.centre(tenant, desk.unwrap_or(0), None).await.map_err(ApiError::internal)?;
    let doc = app.store.calendar(tenant).await?.flatten().unwrap_or_default();
    let calendar = doc.to_calendar().or_else(|_| CalendarDoc::default().to_calendar()).map_err(ApiError::internal)?;
    let days = calendar.days_from(jiff::Timestamp::now(), 14);
    let languages = view
        .languages
        .into_iter()
        .filter_map(|a| {
            let native = d::LanguageId::parse(&a.language).ok()?.info().native.to_string();
            Some(CentreLanguage { tag: a.language, native, state: a.state, from: a.from })
        })
        .collect();
    Ok(Json(CentreOut {
        tenant,
        name,
        bookable: desk.is_some(),
        open_now: view.open_now,
        languages,
        days,
        time_zone: doc.time_zone,
    }))
}

/// `GET /api/centres/{tenant}/slots`.
async fn slots(
    State(app): State<App>,
    from: ClientAddr,
    PathOf(tenant): PathOf<i64>,
    QueryOf(q): QueryOf<SlotsQuery>,
) -> Result<Json<Vec<SlotOut>>, ApiError> {
    let (_, desk) = known(&app, from, tenant).await?;
    let desk = desk.ok_or_else(no_bookings)?;
    let language = d::LanguageId::parse(&q.language).map_err(|_| ApiError::invalid("language", C::NotLanguage))?;
    let view = app.router.centre(tenant, desk, Some(language)).await.map_err(ApiError::internal)?;
    let rfc = |ms| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default();
    Ok(Json(view.slots.into_iter().map(|(start, _)| SlotOut { start: rfc(start), minutes: SLOT_MINUTES }).collect()))
}

/// `POST /api/centres/{tenant}/bookings`.
async fn book(
    State(app): State<App>,
    from: ClientAddr,
    PathOf(tenant): PathOf<i64>,
    JsonBody(b): JsonBody<ResidentBookingIn>,
) -> Result<(StatusCode, Json<ResidentBookedOut>), ApiError> {
    let desk = spend_at_online_desk(&app, from, tenant).await?;
    let now = now_ms();
    let start: jiff::Timestamp = b.start.parse().map_err(|_| ApiError::invalid("start", C::NotDateTime))?;
    if start.as_millisecond() < now + SLOT_LEAD_MS / 2 {
        return Err(ApiError::invalid("start", C::TooSoon));
    }
    if app.store.bookings_made_by(tenant, ACTOR, now - 86_400_000).await? >= DAILY_BOOKINGS {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            p::ErrorCode::RateLimited,
            "the centre takes no more online bookings today: call or visit it",
        ));
    }
    let booking = BookingIn {
        tenant: Some(tenant),
        desk: Some(desk),
        language: b.language,
        modality: Default::default(),
        specialist: Default::default(),
        require_speciality: false,
        topic: b.topic,
        interpreter: None,
        start: b.start,
        minutes: u32::try_from(SLOT_MINUTES).unwrap_or(30),
        resident: ResidentJoins::Link,
        specialist_joins: Default::default(),
        intake_note: None,
    };
    let booked = super::bookings::book(&app, tenant, desk, booking, ACTOR, now).await?;
    let link = booked.links.resident_link.ok_or_else(|| ApiError::internal("a resident's booking without a link"))?;
    Ok((StatusCode::CREATED, Json(ResidentBookedOut { link, start: start.to_string() })))
}

/// `POST /api/centres/{tenant}/queue`: the resident waits for an interpreter now, at the
/// online desk (while it is open and someone can take the language).
async fn queue(
    State(app): State<App>,
    from: ClientAddr,
    PathOf(tenant): PathOf<i64>,
    JsonBody(b): JsonBody<QueueIn>,
) -> Result<(StatusCode, Json<QueuedOut>), ApiError> {
    let desk = spend_at_online_desk(&app, from, tenant).await?;
    let language = d::LanguageId::parse(&b.language).map_err(|_| ApiError::invalid("language", C::NotLanguage))?;
    let token = crate::auth::new_token();
    let hash = crate::auth::hash_token(&token);
    app.router.online_call(desk, language.tag().to_string(), hash).await.map_err(|e| match e.code {
        p::ErrorCode::InvalidField => ApiError::invalid("language", C::NotLanguage),
        p::ErrorCode::RateLimited => ApiError::new(StatusCode::TOO_MANY_REQUESTS, e.code, e.message),
        p::ErrorCode::ShuttingDown => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code, e.message),
        _ => ApiError::conflict(e.code, e.message),
    })?;
    let link = format!("{}/join/{token}", app.config.public_base(app.config.listen));
    Ok((StatusCode::CREATED, Json(QueuedOut { link })))
}

/// `DELETE /api/invites/{token}/wait`: the resident with this link (from `queue`) stops
/// waiting: the request is withdrawn as a desk's cancel would, and the link ends. 404 for
/// a link that is unknown, expired or ended; 409 once an interpreter has answered.
async fn stop_waiting(
    State(app): State<App>,
    from: ClientAddr,
    PathOf(token): PathOf<String>,
) -> Result<StatusCode, ApiError> {
    let gone = || ApiError::new(StatusCode::NOT_FOUND, p::ErrorCode::Unauthorized, "no such link");
    let attempt = LinkAttempt::begin(&app, from, &token, gone)?;
    match app.router.online_withdraw(crate::auth::hash_token(&token)).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e) if e.code == p::ErrorCode::Unauthorized => {
            Err(attempt.miss(ApiError::new(StatusCode::NOT_FOUND, e.code, e.message)))
        }
        Err(e) if e.code == p::ErrorCode::ShuttingDown => {
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code, e.message))
        }
        Err(e) => Err(ApiError::conflict(e.code, e.message)),
    }
}

/// `GET /api/centres/{tenant}/qr.svg`: the standing link as a QR code.
async fn qr(State(app): State<App>, from: ClientAddr, PathOf(tenant): PathOf<i64>) -> Result<Response, ApiError> {
    known(&app, from, tenant).await?;
    let url = format!("{}/start/{tenant}", app.config.public_base(app.config.listen));
    let code =
        qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).map_err(ApiError::internal)?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build();
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "no-cache")], svg).into_response())
}

/// `PUT /api/tenants/{id}/online-desk`: its supervisor or an admin.
async fn set_online_desk(
    State(app): State<App>,
    reader: Reader,
    PathOf(tenant): PathOf<i64>,
    JsonBody(b): JsonBody<OnlineDeskBody>,
) -> Result<StatusCode, ApiError> {
    if !reader.sees(tenant) {
        return Err(ApiError::forbidden("another municipality"));
    }
    if let Some(desk) = b.desk {
        let dir = app.store.directory().await?;
        if !dir.desks.iter().any(|d| d.id == desk && d.tenant_id == tenant) {
            return Err(ApiError::invalid("desk", C::Unknown));
        }
    }
    if !app.store.set_online_desk(tenant, b.desk).await? {
        return Err(ApiError::not_found(format!("no municipality {tenant}")));
    }
    let actor = format!("staff:{}", reader.id);
    app.store.audit_for(Some(tenant), &actor, "set_online_desk", Some(&format!("tenant:{tenant}")), true).await?;
    Ok(StatusCode::NO_CONTENT)
}
