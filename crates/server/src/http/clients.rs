//! What the web clients read over HTTP, beside the WebSocket: a desk's home screen (its
//! tenant and languages, most used first), an interpreter's day (languages, today's
//! roster, calls and talk time), an invite link's language before the resident joins,
//! and the desks for the admin page. Each answers only its own caller: a desk token
//! sees its desk, a session its interpreter.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, PathOf};
use super::link_guard::LinkAttempt;
use super::who::{Desk, Interpreter, Reader};
use crate::app::{App, ClientAddr};

/// The routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/desk", get(desk))
        .route("/api/me", get(me))
        .route("/api/invites/{token}", get(invite))
        .route("/api/desks", get(desks))
        .route("/api/languages", get(languages))
}

/// A language as a client shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LanguageOut {
    /// BCP 47 tag.
    pub tag: &'static str,
    /// Its name for itself.
    pub native: &'static str,
    /// Its Japanese name.
    pub japanese: &'static str,
    /// Its English name.
    pub english: &'static str,
    /// Requests of this desk's tenant in the last 90 days (desks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<i64>,
}

fn language_out(id: d::LanguageId, uses: Option<i64>) -> LanguageOut {
    let info = id.info();
    LanguageOut { tag: info.tag, native: info.native, japanese: info.japanese, english: info.english, uses }
}

/// A desk's home screen (`DeskHome` in the OpenAPI document).
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "DeskHome")]
pub(crate) struct DeskOut {
    /// The desk.
    pub desk: i64,
    /// Its name ("City hall, counter 2").
    pub name: String,
    /// Its tenant.
    pub tenant: i64,
    /// The tenant's name.
    pub tenant_name: String,
    /// Every language but Japanese, the tenant's most used first, then catalogue order.
    pub languages: Vec<LanguageOut>,
    /// The number callers dial to join a call with a PIN, when joining by phone is set up
    /// (the desk then offers "join by phone").
    pub phone_number: Option<String>,
    /// Whether the desk can call a phone into a call (`dial_out`).
    pub dial_out: bool,
    /// The centre's municipalities (its own first), for the resident's municipality of
    /// residence in the outcome (`record_outcome`'s `residence`).
    pub municipalities: Vec<NamedOut>,
    /// The municipality's partners a resident may be referred to (`record_outcome`'s
    /// `referral`), by name.
    pub partners: Vec<NamedOut>,
    /// Whether its municipality keeps handling notes: the outcome screen offers one.
    pub handling_notes: bool,
    /// The centre's opening hours for today and the next six days, when its municipality
    /// has set its calendar (outside them its phone lines and online desk are closed).
    pub days: Option<Vec<crate::calendar::DayPlan>>,
}

/// A municipality of the centre, or a partner of the desk's, as a desk lists it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NamedOut {
    /// Its id (a tenant's, or a partner's).
    pub id: i64,
    /// Its name.
    pub name: String,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// `GET /api/languages`: the catalogue, Japanese left out (it is the desk's side), for the
/// admin page's forms.
async fn languages(_reader: Reader) -> Json<Vec<LanguageOut>> {
    Json(d::LanguageId::all().filter(|l| *l != d::LanguageId::JAPANESE).map(|l| language_out(l, None)).collect())
}

async fn desk(State(app): State<App>, Desk { desk, tenant }: Desk) -> Result<Json<DeskOut>, ApiError> {
    let dir = app.store.directory().await?;
    let tenant_name = dir.tenants.iter().find(|t| t.id == tenant).map(|t| t.name.clone()).unwrap_or_default();
    let name = dir.desks.iter().find(|d| d.id == desk).map(|d| d.name.clone()).unwrap_or_default();
    let used = app.store.language_use(tenant, crate::store::now_ms() - 90 * DAY_MS).await?;
    let pinned = app.store.pinned_languages(tenant).await?;
    let uses = |tag: &str| used.iter().find(|(t, _)| t == tag).map_or(0, |(_, n)| *n);
    let mut languages: Vec<LanguageOut> = d::LanguageId::all()
        .filter(|l| *l != d::LanguageId::JAPANESE)
        .map(|l| language_out(l, Some(uses(l.tag()))))
        .collect();
    // The coordinator's pins first, in their order; then answered consultations (a tap
    // nobody could take does not promote); equal counts keep the catalogue's order.
    let pin = |tag: &str| pinned.iter().position(|p| p == tag).unwrap_or(usize::MAX);
    languages.sort_by_key(|l| (pin(l.tag), std::cmp::Reverse(l.uses.unwrap_or(0))));
    let phone_number = app.config.phone_number.clone();
    let dial_out = app.config.dials_out();
    let mut municipalities: Vec<NamedOut> =
        dir.tenants.iter().map(|t| NamedOut { id: t.id, name: t.name.clone() }).collect();
    municipalities.sort_by_key(|m| (m.id != tenant, m.id));
    let partners = app.store.partners(tenant, false).await?;
    let partners = partners.into_iter().map(|p| NamedOut { id: p.id, name: p.name }).collect();
    let handling_notes = app.store.handling_notes(tenant).await?;
    let days = match app.store.calendar(tenant).await?.flatten() {
        Some(doc) => Some(doc.to_calendar().map_err(ApiError::internal)?.days_from(jiff::Timestamp::now(), 7)),
        None => None,
    };
    Ok(Json(DeskOut {
        desk,
        name,
        tenant,
        tenant_name,
        languages,
        phone_number,
        dial_out,
        municipalities,
        partners,
        handling_notes,
        days,
    }))
}

/// A window of today's roster.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Window {
    /// From (RFC 3339).
    pub from: String,
    /// Until (RFC 3339).
    pub until: String,
}

/// An interpreter's own profile and day.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct MeOut {
    /// Their id.
    pub id: i64,
    /// Their sign-in name.
    pub login: String,
    /// staff, contractor or volunteer.
    pub tier: String,
    /// Their languages (paired with Japanese).
    pub languages: Vec<LanguageOut>,
    /// video, audio, phone.
    pub modalities: Vec<String>,
    /// Specialities.
    pub specialities: Vec<String>,
    /// On duty all the time (presence alone decides).
    pub always_on: bool,
    /// Today's windows on roster, in the roster's time zone's day.
    pub roster_today: Vec<Window>,
    /// Calls answered today.
    pub calls_today: i64,
    /// Their talk time today, seconds.
    pub talk_secs_today: i64,
}

fn rfc3339(t: d::Timestamp) -> String {
    jiff::Timestamp::from_millisecond(t.as_millis()).map(|t| t.to_string()).unwrap_or_default()
}

/// The windows of `roster` within the local day around `now`, and that day's start.
fn day_windows(roster: &d::Roster, now: jiff::Timestamp) -> (Vec<Window>, i64) {
    let tz = roster.time_zone().clone();
    let day = now.to_zoned(tz.clone()).date();
    let start = day.to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(0);
    let end = day
        .tomorrow()
        .ok()
        .and_then(|t| t.to_zoned(tz).ok())
        .map_or(start + DAY_MS, |z| z.timestamp().as_millisecond());
    let mut windows = Vec::new();
    let mut at = d::Timestamp::from_millis(start);
    // A day has few shifts; the bound guards against a roster that flips every instant.
    for _ in 0..48 {
        if at.as_millis() >= end {
            break;
        }
        let state = roster.state_at(at);
        let change = state.next_change.map_or(end, |c| c.as_millis().min(end));
        if state.on {
            windows.push(Window { from: rfc3339(at), until: rfc3339(d::Timestamp::from_millis(change)) });
        }
        if change <= at.as_millis() {
            break;
        }
        at = d::Timestamp::from_millis(change);
    }
    (windows, start)
}

async fn me(State(app): State<App>, Interpreter(id): Interpreter) -> Result<Json<MeOut>, ApiError> {
    let dir = app.store.directory().await?;
    let row =
        dir.interpreters.into_iter().find(|i| i.id == id).ok_or_else(|| ApiError::not_found("no such interpreter"))?;
    let roster = row.roster.to_roster().map_err(ApiError::internal)?;
    let now = jiff::Timestamp::now();
    let (roster_today, day_start) = if roster.is_always() {
        let tz = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap_or(jiff::tz::TimeZone::UTC);
        let start = now.to_zoned(tz.clone()).date().to_zoned(tz).map_or(0, |z| z.timestamp().as_millisecond());
        (Vec::new(), start)
    } else {
        day_windows(&roster, now)
    };
    let (calls_today, talk_ms) = app.store.interpreter_day(id, day_start).await?;
    let languages = row.languages.iter().filter_map(|t| d::LanguageId::parse(t).ok()).map(|l| language_out(l, None));
    Ok(Json(MeOut {
        id,
        login: row.login,
        tier: row.tier,
        languages: languages.collect(),
        modalities: row.modalities,
        specialities: row.specialities,
        always_on: roster.is_always(),
        roster_today,
        calls_today,
        talk_secs_today: talk_ms / 1000,
    }))
}

/// What a resident's page needs before joining.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct InviteOut {
    /// The page's language (the call's).
    pub language: String,
    /// Who the link is for: `resident` or `guest`.
    pub party: p::Party,
    /// When the link stops working if unused (RFC 3339); once used, it works for the
    /// same person while the consultation lasts.
    pub expires_at: String,
    /// Whether it has been used: opening it again takes its seat back.
    pub used: bool,
    /// Who is inviting: the municipality (tenant; its standing link is `/start/{tenant}`)...
    pub tenant: i64,
    /// ...its name...
    pub tenant_name: String,
    /// ...and its counter (desk).
    pub desk_name: String,
    /// A booking's link whose consultation has not begun: when its slot starts
    /// (RFC 3339). Show it (and offer the calendar file) and ask again later; joining
    /// now is refused with `not_begun`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
    /// A standing link's request still waiting for an interpreter: how many wait before
    /// it. Show it and ask again; joining now is refused with `not_begun`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<u32>,
}

/// An invite link's language, without using the link up. 404 when it is used, expired
/// or its call has ended.
async fn invite(
    State(app): State<App>,
    from: ClientAddr,
    PathOf(token): PathOf<String>,
) -> Result<Json<InviteOut>, ApiError> {
    let gone = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            p::ErrorCode::Unauthorized,
            "this link has been used, has expired, or its consultation has ended",
        )
    };
    let attempt = LinkAttempt::begin(&app, from, &token, gone)?;
    let Some(info) = app.router.peek_invite(token).await.map_err(ApiError::internal)? else {
        return Err(attempt.miss(gone()));
    };
    let dir = app.store.directory().await?;
    let tenant_name = dir.tenants.iter().find(|t| t.id == info.from.tenant).map(|t| t.name.clone()).unwrap_or_default();
    let desk_name = dir.desks.iter().find(|d| d.id == info.from.desk).map(|d| d.name.clone()).unwrap_or_default();
    Ok(Json(InviteOut {
        language: info.language,
        party: info.party,
        expires_at: rfc3339(info.expires_at),
        used: info.used,
        tenant: info.from.tenant,
        tenant_name,
        desk_name,
        starts_at: info.starts_at.map(rfc3339),
        waiting: info.waiting,
    }))
}

/// A desk as the admin page lists it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeskListed {
    /// Id.
    pub id: i64,
    /// Tenant.
    pub tenant: i64,
    /// Name.
    pub name: String,
    /// Its tablet has used the enrolment code.
    pub enrolled: bool,
    /// Its device was revoked.
    pub revoked: bool,
}

async fn desks(State(app): State<App>, reader: Reader) -> Result<Json<Vec<DeskListed>>, ApiError> {
    let rows = app.store.desks_all().await?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| reader.sees(r.tenant))
            .map(|r| DeskListed { id: r.id, tenant: r.tenant, name: r.name, enrolled: r.enrolled, revoked: r.revoked })
            .collect(),
    ))
}

/// `?since=` for the call records: milliseconds since the Unix epoch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Since {
    /// Only records requested at or after this.
    #[serde(default)]
    pub since: Option<i64>,
}

/// The parsed `?since=`, or a message naming the parameter.
pub(crate) fn since(q: Result<Query<Since>, axum::extract::rejection::QueryRejection>) -> Result<i64, ApiError> {
    q.map(|Query(s)| s.since.unwrap_or(0))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, p::ErrorCode::InvalidField, e.body_text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todays_windows_of_a_weekday_roster() {
        let doc: crate::directory::RosterDoc = serde_json::from_value(serde_json::json!({
            "time_zone": "Asia/Tokyo",
            "shifts": [{"days": ["tue"], "start": "09:00", "end": "12:00"}, {"days": ["tue"], "start": "13:00", "end": "17:15"}]
        }))
        .unwrap();
        let roster = doc.to_roster().unwrap();
        // Tuesday 2026-12-01, 10:00 in Tokyo.
        let now: jiff::Timestamp = "2026-12-01T01:00:00Z".parse().unwrap();
        let (w, start) = day_windows(&roster, now);
        assert_eq!(start, "2026-11-30T15:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond());
        let got: Vec<(&str, &str)> = w.iter().map(|w| (w.from.as_str(), w.until.as_str())).collect();
        assert_eq!(
            got,
            vec![("2026-12-01T00:00:00Z", "2026-12-01T03:00:00Z"), ("2026-12-01T04:00:00Z", "2026-12-01T08:15:00Z")]
        );
        // Wednesday: nothing.
        let (w, _) = day_windows(&roster, "2026-12-02T01:00:00Z".parse().unwrap());
        assert!(w.is_empty());
    }
}
