//! The staffing plan over HTTP (issue 16): a municipality's (its supervisor, or an admin)
//! or the whole centre's (admins), from the last weeks of records and the interpreters'
//! rosters, as JSON, CSV or a workbook.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::error::{ApiError, QueryOf};
use super::reports::{Context, Format, bad_query, context, date, download};
use super::who::Reader;
use crate::app::App;
use crate::problem::{Problem, ProblemCode as C, Unit};
use crate::reports::staffing::{Aim, Rostered, staffing};
use crate::reports::{Lang, Period};

/// The route.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/reports/staffing", get(plan))
}

fn four() -> u32 {
    4
}

fn eighty() -> f64 {
    0.8
}

fn twenty() -> f64 {
    20.0
}

/// `GET /api/reports/staffing`'s query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaffingQuery {
    /// The municipality; an admin may leave it out for the whole centre.
    #[serde(default)]
    pub municipality: Option<i64>,
    /// Weeks of history, 1 to 26 (default 4).
    #[serde(default = "four")]
    pub weeks: u32,
    /// The service level to reach, above 0 and below 1 (default 0.8).
    #[serde(default = "eighty")]
    pub target: f64,
    /// Answered within this many seconds, 1 to 600 (default 20).
    #[serde(default = "twenty")]
    pub secs: f64,
    /// The plan as of this day, `YYYY-MM-DD` (default today): history ends the day
    /// before, rosters are read from it on.
    #[serde(default)]
    pub as_of: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    #[serde(default)]
    pub format: Format,
    /// `ja` (default) or `en`.
    #[serde(default)]
    pub lang: Lang,
}

/// `GET /api/reports/staffing`.
async fn plan(
    State(app): State<App>,
    reader: Reader,
    QueryOf(q): QueryOf<StaffingQuery>,
) -> Result<Response, ApiError> {
    if !(1..=26).contains(&q.weeks) {
        return Err(bad_query("weeks", Problem::range(1, 26, Unit::Number)));
    }
    if !(q.target > 0.0 && q.target < 1.0) {
        return Err(bad_query("target", C::NotFraction));
    }
    if !(1.0..=600.0).contains(&q.secs) {
        return Err(bad_query("secs", Problem::range(1, 600, Unit::Seconds)));
    }
    if q.municipality.is_none() && reader.scope.is_some() {
        return Err(ApiError::forbidden("the whole centre's plan is for admins: name your municipality"));
    }
    let Context { tz, .. } = context(&app, reader, q.municipality).await?;
    let today = match &q.as_of {
        Some(d) => date("as_of", d)?,
        None => jiff::Zoned::now().with_time_zone(tz.clone()).date(),
    };
    let aim = Aim { weeks: q.weeks, target: q.target, secs: q.secs, today };
    let first = today
        .checked_sub(jiff::Span::new().days(i64::from(q.weeks) * 7))
        .map_err(|_| bad_query("as_of", C::NotDate))?;
    let from = Period::day(first, &tz).map_err(|_| bad_query("as_of", C::NotDate))?.from;
    let to = Period::day(today, &tz).map_err(|_| bad_query("as_of", C::NotDate))?.from;
    let records = app.store.records_counting_for(q.municipality, from, to).await?;
    let mut interpreters = Vec::new();
    for i in app.store.directory().await?.interpreters {
        if q.municipality.is_some_and(|m| !i.shared_pool && !i.tenants.contains(&m)) {
            continue;
        }
        match i.roster.to_roster() {
            Ok(roster) => interpreters.push(Rostered { languages: i.languages.clone(), roster }),
            Err(e) => tracing::warn!(interpreter = i.id, problem = %e.problem, "staffing plan: roster skipped"),
        }
    }
    let plan = staffing(&records, &interpreters, aim, &tz).map_err(|e| ApiError::internal(format!("staffing: {e}")))?;
    let file = match q.municipality {
        Some(m) => format!("staffing-{m}-{}", plan.to),
        None => format!("staffing-{}", plan.to),
    };
    match q.format {
        Format::Json => Ok(Json(plan).into_response()),
        format => download(&plan.tables(q.lang), format, &file),
    }
}
