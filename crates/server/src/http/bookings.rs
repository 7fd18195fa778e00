//! Bookings over HTTP (issue 17): a municipality's supervisors, the centre's admins and
//! desks book slots, move and cancel them; everyone lists the bookings that are theirs
//! (a supervisor the municipality's, a desk its own, an interpreter the ones they are
//! held for). The engine holds the interpreter or the booking is refused with its reason
//! (409); a slot outside the centre's calendar is refused when the municipality has set
//! one. Every change is audited; an intake note is sealed and read only by the
//! municipality's supervisors, each read audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::{ApiError, PathOf, QueryOf};
use super::who::{Anyone, Reader};
use crate::app::App;
use crate::bookings::{
    Booking, BookingIn, BookingLinks, BookingMove, ResidentJoins, Specialist, SpecialistJoins, language, slot,
};
use crate::cluster::BookingEdit;
use crate::problem::ProblemCode as C;
use crate::store::{BookingsOf, now_ms};

/// The routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/bookings", get(list).post(add))
        .route("/api/bookings/{id}", get(one).put(move_to).delete(cancel))
        .route("/api/bookings/{id}/intake", get(read_intake))
        .route("/api/bookings/{id}/links", post(relink))
}

/// The longest span a listing covers, in days.
const SPAN_DAYS: i64 = 92;

/// Which bookings to list.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// A municipality (admins; a supervisor's own otherwise).
    pub tenant: Option<i64>,
    /// From, ms since the epoch (default: 12 hours ago).
    pub from: Option<i64>,
    /// Until, ms since the epoch (default: 31 days after `from`; at most 92 days are
    /// listed; none when it is not after `from`).
    pub to: Option<i64>,
    /// Cancelled ones too.
    #[serde(default)]
    pub cancelled: bool,
}

/// A booking as listed: with the names people know.
#[derive(Serialize, JsonSchema)]
pub(crate) struct BookingOut {
    /// The booking.
    #[serde(flatten)]
    pub booking: Booking,
    /// The municipality's name.
    pub tenant_name: String,
    /// The desk's name.
    pub desk_name: String,
}

/// The answer to a booking made or moved.
#[derive(Serialize, JsonSchema)]
pub(crate) struct BookedOut {
    /// The booking's number.
    pub id: i64,
    /// The interpreter held.
    pub interpreter: i64,
    /// The links to send (made with the booking only).
    #[serde(flatten)]
    pub links: LinksOut,
}

/// A booking's links, to send to the people who join by link. Given once: asking again
/// makes new ones (`POST /api/bookings/{id}/links`) and the old ones stop working.
#[derive(Serialize, JsonSchema, Default)]
pub(crate) struct LinksOut {
    /// The resident's, when they join by link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident_link: Option<String>,
    /// The specialist's, when they join remotely (as a guest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specialist_link: Option<String>,
}

/// New links for the parties of `b` who join by link: their hashes and the links.
fn new_links(app: &App, b: &Booking) -> (BookingLinks, LinksOut) {
    let base = app.config.public_base(app.config.listen);
    let make = |wanted: bool| {
        wanted.then(|| {
            let token = crate::auth::new_token();
            (crate::auth::hash_token(&token), format!("{base}/join/{token}"))
        })
    };
    let resident = make(b.resident == ResidentJoins::Link);
    let specialist = make(b.specialist != Specialist::None && b.specialist_joins == SpecialistJoins::Remote);
    let hashes = BookingLinks {
        resident: resident.as_ref().map(|r| r.0.clone()),
        specialist: specialist.as_ref().map(|s| s.0.clone()),
    };
    (hashes, LinksOut { resident_link: resident.map(|r| r.1), specialist_link: specialist.map(|s| s.1) })
}

/// An intake note as its reader gets it.
#[derive(Serialize, JsonSchema)]
pub(crate) struct IntakeOut {
    /// The booking.
    pub booking: i64,
    /// The text.
    pub note: String,
}

fn actor(who: Anyone) -> String {
    match who {
        Anyone::Staff(r) => format!("staff:{}", r.id),
        Anyone::Interpreter(i) => format!("interpreter:{i}"),
        Anyone::Desk(d) => format!("desk:{}", d.desk),
    }
}

/// Whether `who` may see (and, but for interpreters, change) booking `b`.
fn sees(who: Anyone, b: &Booking) -> bool {
    match who {
        Anyone::Staff(r) => r.sees(b.tenant),
        Anyone::Interpreter(i) => b.interpreter == Some(i),
        Anyone::Desk(d) => d.desk == b.desk,
    }
}

fn refused(e: p::ProtocolError) -> ApiError {
    match e.code {
        p::ErrorCode::NotAllowed => ApiError::conflict(p::ErrorCode::NotAllowed, e.message),
        p::ErrorCode::InvalidField => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code, format!("booking: {}", e.message))
        }
        p::ErrorCode::NotFound => ApiError::not_found(e.message),
        _ => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code, e.message),
    }
}

/// `GET /api/bookings`.
async fn list(
    State(app): State<App>,
    who: Anyone,
    QueryOf(q): QueryOf<ListQuery>,
) -> Result<Json<Vec<BookingOut>>, ApiError> {
    let from = q.from.unwrap_or_else(|| now_ms() - 12 * 3_600_000);
    let to = q.to.unwrap_or(from.saturating_add(31 * 86_400_000)).min(from.saturating_add(SPAN_DAYS * 86_400_000));
    if to <= from {
        return Ok(Json(Vec::new()));
    }
    let of = match (who, q.tenant) {
        (Anyone::Staff(r), Some(t)) if r.sees(t) => BookingsOf::Tenant(t),
        (Anyone::Staff(_), Some(_)) => return Err(ApiError::forbidden("another municipality's bookings")),
        (Anyone::Staff(r), None) => r.scope.map_or(BookingsOf::All, BookingsOf::Tenant),
        (Anyone::Desk(d), _) => BookingsOf::Desk(d.desk),
        (Anyone::Interpreter(i), _) => BookingsOf::Interpreter(i),
    };
    let bookings = app.store.bookings(of, from, to, q.cancelled).await?;
    named(&app, bookings).await.map(Json)
}

async fn named(app: &App, bookings: Vec<Booking>) -> Result<Vec<BookingOut>, ApiError> {
    let dir = app.store.directory().await?;
    let tenant_name = |id| dir.tenants.iter().find(|t| t.id == id).map(|t| t.name.clone()).unwrap_or_default();
    let desk_name = |id| dir.desks.iter().find(|d| d.id == id).map(|d| d.name.clone()).unwrap_or_default();
    Ok(bookings
        .into_iter()
        .map(|b| BookingOut { tenant_name: tenant_name(b.tenant), desk_name: desk_name(b.desk), booking: b })
        .collect())
}

/// A booking `who` may see, or 404.
async fn visible(app: &App, who: Anyone, id: i64) -> Result<Booking, ApiError> {
    match app.store.booking(id).await? {
        Some(b) if sees(who, &b) => Ok(b),
        _ => Err(ApiError::not_found(format!("no booking {id}"))),
    }
}

/// `GET /api/bookings/{id}`.
async fn one(State(app): State<App>, who: Anyone, PathOf(id): PathOf<i64>) -> Result<Json<BookingOut>, ApiError> {
    let b = visible(&app, who, id).await?;
    let mut out = named(&app, vec![b]).await?;
    out.pop().map(Json).ok_or_else(|| ApiError::not_found(format!("no booking {id}")))
}

/// `POST /api/bookings`.
async fn add(
    State(app): State<App>,
    who: Anyone,
    JsonBody(b): JsonBody<BookingIn>,
) -> Result<(StatusCode, Json<BookedOut>), ApiError> {
    let now = now_ms();
    let dir = app.store.directory().await?;
    let (tenant, desk) = match who {
        Anyone::Interpreter(_) => return Err(ApiError::forbidden("coordinators and desks book")),
        Anyone::Desk(d) if b.desk.is_some_and(|x| x != d.desk) => {
            return Err(ApiError::forbidden("a desk books for itself"));
        }
        Anyone::Desk(d) => (d.tenant, d.desk),
        Anyone::Staff(r) => {
            let desk = b.desk.ok_or_else(|| ApiError::invalid("desk", C::Required))?;
            let of = dir.desks.iter().find(|d| d.id == desk).map(|d| d.tenant_id);
            let tenant = of.ok_or_else(|| ApiError::invalid("desk", C::Unknown))?;
            if !r.sees(tenant) || b.tenant.is_some_and(|t| t != tenant) {
                return Err(ApiError::forbidden("another municipality's desk"));
            }
            (tenant, desk)
        }
    };
    if let Some(i) = b.interpreter
        && !dir.interpreters.iter().any(|x| x.id == i)
    {
        return Err(ApiError::invalid("interpreter", C::Unknown));
    }
    let booked = book(&app, tenant, desk, b, &actor(who), now).await?;
    Ok((StatusCode::CREATED, Json(booked)))
}

/// Book `b` at `desk` of `tenant` for `actor` (checked: the desk is the tenant's, the
/// named interpreter exists): stored, the interpreter held, audited; or refused.
pub(crate) async fn book(
    app: &App,
    tenant: i64,
    desk: i64,
    b: BookingIn,
    actor: &str,
    now: i64,
) -> Result<BookedOut, ApiError> {
    let language = language(&b.language)?;
    let (start, end) = slot(&b.start, b.minutes, now)?;
    within_calendar(app, tenant, start, end).await?;
    let sealed = seal_intake(app, tenant, b.intake_note.as_deref()).await?;
    let booking = Booking {
        id: 0,
        tenant,
        desk,
        language,
        modality: b.modality,
        specialist: b.specialist,
        require_speciality: b.require_speciality,
        topic: b.topic,
        requested_interpreter: b.interpreter,
        interpreter: b.interpreter,
        start,
        end,
        resident: b.resident,
        specialist_joins: b.specialist_joins,
        intake: sealed.is_some(),
        status: "booked".into(),
        created_by: actor.to_string(),
        links: BookingLinks::default(),
    };
    let (links, urls) = new_links(app, &booking);
    let booking = Booking { links, ..booking };
    let id = app.store.add_booking(&booking, sealed.as_deref(), now).await?;
    let held = app.router.booking(BookingEdit::book(Booking { id, ..booking })).await;
    let target = format!("booking:{id}");
    let interpreter = match held {
        Ok(Some(i)) => i,
        Ok(None) => return Err(ApiError::internal("the core held nobody")),
        Err(e) => {
            app.store.drop_booking(id).await?;
            app.store.audit_for(Some(tenant), actor, "book", Some(&target), false).await?;
            return Err(refused(e));
        }
    };
    app.store.move_booking(id, start, end, b.interpreter, Some(interpreter)).await?;
    app.store.audit_for(Some(tenant), actor, "book", Some(&target), true).await?;
    Ok(BookedOut { id, interpreter, links: urls })
}

/// Refuse a slot outside the municipality's calendar, when it has set one.
async fn within_calendar(app: &App, tenant: i64, start: i64, end: i64) -> Result<(), ApiError> {
    let Some(Some(doc)) = app.store.calendar(tenant).await? else { return Ok(()) };
    let calendar = doc.to_calendar().map_err(|e| ApiError::internal(format!("stored calendar of {tenant}: {e}")))?;
    let at = |ms| jiff::Timestamp::from_millisecond(ms).map_err(ApiError::internal);
    calendar.covers(at(start)?, at(end)?).map_err(|why| ApiError::conflict(p::ErrorCode::NotAllowed, why))
}

/// The sealed intake note, where the municipality keeps notes.
async fn seal_intake(app: &App, tenant: i64, note: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(text) =
        note.map(crate::notes::checked).transpose().map_err(|e| ApiError::invalid("intake_note", e))?.flatten()
    else {
        return Ok(None);
    };
    if !app.store.handling_notes(tenant).await? {
        return Err(ApiError::invalid("intake_note", C::NotKept));
    }
    app.notes.seal(tenant, text).map(Some).map_err(ApiError::internal)
}

/// `PUT /api/bookings/{id}`: a new slot (and interpreter) for a booking not yet begun.
async fn move_to(
    State(app): State<App>,
    who: Anyone,
    PathOf(id): PathOf<i64>,
    JsonBody(m): JsonBody<BookingMove>,
) -> Result<Json<BookedOut>, ApiError> {
    if matches!(who, Anyone::Interpreter(_)) {
        return Err(ApiError::forbidden("coordinators and desks move bookings"));
    }
    let b = visible(&app, who, id).await?;
    if !b.booked() {
        return Err(ApiError::conflict(p::ErrorCode::NotAllowed, "the booking is cancelled"));
    }
    let (start, end) = slot(&m.start, m.minutes, now_ms())?;
    within_calendar(&app, b.tenant, start, end).await?;
    let moved = Booking { start, end, requested_interpreter: m.interpreter, ..b };
    let target = format!("booking:{id}");
    let actor = actor(who);
    let tenant = moved.tenant;
    match app.router.booking(BookingEdit::moved(moved)).await {
        Ok(Some(interpreter)) => {
            app.store.move_booking(id, start, end, m.interpreter, Some(interpreter)).await?;
            app.store.audit_for(Some(tenant), &actor, "move_booking", Some(&target), true).await?;
            Ok(Json(BookedOut { id, interpreter, links: LinksOut::default() }))
        }
        Ok(None) => Err(ApiError::internal("the core held nobody")),
        Err(e) => {
            app.store.audit_for(Some(tenant), &actor, "move_booking", Some(&target), false).await?;
            Err(refused(e))
        }
    }
}

/// `POST /api/bookings/{id}/links`: new links for the people who join by link (the old
/// ones stop working; someone already in keeps their place).
async fn relink(State(app): State<App>, who: Anyone, PathOf(id): PathOf<i64>) -> Result<Json<LinksOut>, ApiError> {
    if matches!(who, Anyone::Interpreter(_)) {
        return Err(ApiError::forbidden("coordinators and desks send links"));
    }
    let b = visible(&app, who, id).await?;
    if !b.booked() || b.end <= now_ms() {
        return Err(ApiError::conflict(p::ErrorCode::NotAllowed, "the booking is cancelled or over"));
    }
    let (links, urls) = new_links(&app, &b);
    app.router.booking(BookingEdit::Relink { id, links: links.clone() }).await.map_err(refused)?;
    app.store.relink_booking(id, &links).await?;
    app.store.audit_for(Some(b.tenant), &actor(who), "relink_booking", Some(&format!("booking:{id}")), true).await?;
    Ok(Json(urls))
}

/// `DELETE /api/bookings/{id}`: cancelled (kept, marked); its interpreter is free again.
async fn cancel(State(app): State<App>, who: Anyone, PathOf(id): PathOf<i64>) -> Result<StatusCode, ApiError> {
    if matches!(who, Anyone::Interpreter(_)) {
        return Err(ApiError::forbidden("coordinators and desks cancel bookings"));
    }
    let b = visible(&app, who, id).await?;
    if !b.booked() {
        return Ok(StatusCode::NO_CONTENT);
    }
    app.router.booking(BookingEdit::Cancel { id }).await.map_err(refused)?;
    app.store.cancel_booking(id, now_ms()).await?;
    app.store.audit_for(Some(b.tenant), &actor(who), "cancel_booking", Some(&format!("booking:{id}")), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/bookings/{id}/intake`: for the municipality's own supervisors, audited.
async fn read_intake(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<i64>,
) -> Result<Json<IntakeOut>, ApiError> {
    let actor = format!("staff:{}", reader.id);
    let target = format!("booking:{id}");
    let tenant =
        reader.scope.ok_or_else(|| ApiError::forbidden("intake notes are for the municipality's own supervisors"))?;
    let Some((_, Some(sealed))) = app.store.booking_intake(id).await?.filter(|(t, _)| *t == tenant) else {
        app.store.audit_for(Some(tenant), &actor, "read_intake", Some(&target), false).await?;
        return Err(ApiError::not_found(format!("no intake note on booking {id} of your municipality")));
    };
    let note = app.notes.open(tenant, &sealed).map_err(ApiError::internal)?;
    app.store.audit_for(Some(tenant), &actor, "read_intake", Some(&target), true).await?;
    Ok(Json(IntakeOut { booking: id, note }))
}
