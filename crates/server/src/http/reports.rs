//! The centre's reports over HTTP (issue 16): a municipality's daily report as JSON (the
//! page draws it), CSV or an Excel workbook, and a supervisor's later word on a
//! consultation's handling status. A supervisor reads their own municipality's, an admin
//! any; a member town never another's. What a report holds is in `crate::reports`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::Deserialize;

use super::body::JsonBody;
use super::error::{ApiError, PathOf, QueryOf};
use super::who::Reader;
use crate::app::App;
use crate::problem::{Problem, ProblemCode as C};
use crate::reports::{self, Lang, Names, Table};

/// The report routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/reports/daily", get(daily))
        .route("/api/reports/monthly", get(monthly))
        .route("/api/reports/shared", get(shared))
        .route("/api/call-records/{id}/status", put(set_status))
}

/// What a report is downloaded as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// The report's data, for the page.
    #[default]
    Json,
    /// CSV, UTF-8 with a byte order mark.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// `GET /api/reports/daily`'s query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DailyQuery {
    /// The municipality (tenant id).
    pub municipality: i64,
    /// The local day, `YYYY-MM-DD`, in the municipality's time zone.
    pub date: String,
    /// `json` (default), `csv` or `xlsx`.
    #[serde(default)]
    pub format: Format,
    /// The language of a file's headings and labels: `ja` (default) or `en`.
    #[serde(default)]
    pub lang: Lang,
    /// With the handling notes (the municipality's own supervisors only; each note read is
    /// audited).
    #[serde(default)]
    pub notes: bool,
}

/// `GET /api/reports/monthly`'s and `/shared`'s query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonthQuery {
    /// The municipality (tenant id); an admin may leave it out for the whole centre.
    #[serde(default)]
    pub municipality: Option<i64>,
    /// The month, `YYYY-MM`, in the municipality's time zone.
    pub month: String,
    /// `json` (default), `csv` or `xlsx`.
    #[serde(default)]
    pub format: Format,
    /// The language of a file's headings and labels: `ja` (default) or `en`.
    #[serde(default)]
    pub lang: Lang,
}

/// What a report names and where it is: every name, the interpreters' logins, and the
/// time zone of the municipality (the centre's first, for the whole centre), when the
/// reader may see it.
pub(super) struct Context {
    pub(super) names: Names,
    pub(super) tz: jiff::tz::TimeZone,
    pub(super) logins: std::collections::BTreeMap<i64, String>,
}

pub(super) async fn context(app: &App, reader: Reader, id: Option<i64>) -> Result<Context, ApiError> {
    if let Some(id) = id
        && !reader.sees(id)
    {
        return Err(ApiError::forbidden("another municipality's reports"));
    }
    let directory = app.store.directory().await?;
    let tenant = match id {
        Some(id) => directory.tenants.iter().find(|t| t.id == id),
        None => directory.tenants.first(),
    };
    let Some(tenant) = tenant else {
        return Err(ApiError::not_found(format!("no municipality {}", id.unwrap_or_default())));
    };
    let tz = jiff::tz::TimeZone::get(&tenant.time_zone)
        .map_err(|e| ApiError::internal(format!("tenant {} time zone {}: {e}", tenant.id, tenant.time_zone)))?;
    let names = Names {
        tenants: directory.tenants.iter().map(|t| (t.id, t.name.clone())).collect(),
        desks: app.store.desks_all().await?.into_iter().map(|d| (d.id, d.name)).collect(),
        partners: app.store.partner_names().await?.into_iter().collect(),
    };
    let logins = directory.interpreters.iter().map(|i| (i.id, i.login.clone())).collect();
    Ok(Context { names, tz, logins })
}

/// A query parameter refused: 400, naming it.
pub(super) fn bad_query(field: &str, problem: impl Into<Problem>) -> ApiError {
    ApiError::invalid(field, problem).with_status(StatusCode::BAD_REQUEST)
}

/// A day as `YYYY-MM-DD`, or the error that names the parameter.
pub(super) fn date(field: &str, text: &str) -> Result<jiff::civil::Date, ApiError> {
    let valid = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    valid.then(|| text.parse::<jiff::civil::Date>().ok()).flatten().ok_or_else(|| bad_query(field, C::NotDate))
}

/// `GET /api/reports/daily?municipality=&date=[&format=][&lang=]`.
async fn daily(State(app): State<App>, reader: Reader, QueryOf(q): QueryOf<DailyQuery>) -> Result<Response, ApiError> {
    let day = date("date", &q.date)?;
    let Context { names, tz, .. } = context(&app, reader, Some(q.municipality)).await?;
    let period = reports::Period::day(day, &tz).map_err(|_| bad_query("date", C::NotDate))?;
    let records = app.store.records_counting_for(Some(q.municipality), period.from, period.to).await?;
    let mut report = reports::daily(&records, &names, q.municipality, day, &tz)
        .map_err(|e| ApiError::internal(format!("daily: {e}")))?;
    super::notes::into_daily(&app, reader, &mut report, period, q.notes).await?;
    let file = format!("daily-{}-{}", q.municipality, report.date);
    match q.format {
        Format::Json => Ok(Json(report).into_response()),
        format => download(&[report.table(q.lang)], format, &file),
    }
}

/// A month as `YYYY-MM`: its first day.
pub(super) fn month(text: &str) -> Result<jiff::civil::Date, ApiError> {
    let bad = || bad_query("month", C::NotMonth);
    let (y, m) = text.split_once('-').filter(|(y, m)| y.len() == 4 && m.len() == 2).ok_or_else(bad)?;
    let (y, m) = (y.parse::<i16>().map_err(|_| bad())?, m.parse::<i8>().map_err(|_| bad())?);
    jiff::civil::Date::new(y, m, 1).map_err(|_| bad())
}

/// `GET /api/reports/monthly?month=[&municipality=][&format=][&lang=]`: a municipality's
/// month, with its interpreters' activity; without `municipality`, the whole centre's
/// (admins only), with the interpreters' logins for their statements.
async fn monthly(
    State(app): State<App>,
    reader: Reader,
    QueryOf(q): QueryOf<MonthQuery>,
) -> Result<Response, ApiError> {
    if q.municipality.is_none() && reader.scope.is_some() {
        return Err(ApiError::forbidden("the whole centre's statistics are for admins: name your municipality"));
    }
    month_report(&app, reader, &q, true, "monthly").await
}

/// `GET /api/reports/shared?month=[&format=][&lang=]`: the shared centre's month across
/// its members, without the interpreters: every member's supervisor may read it.
async fn shared(State(app): State<App>, reader: Reader, QueryOf(q): QueryOf<MonthQuery>) -> Result<Response, ApiError> {
    if q.municipality.is_some() {
        return Err(bad_query("municipality", C::NotApplicable));
    }
    month_report(&app, reader, &q, false, "shared").await
}

async fn month_report(
    app: &App,
    reader: Reader,
    q: &MonthQuery,
    interpreters: bool,
    kind: &str,
) -> Result<Response, ApiError> {
    let first = month(&q.month)?;
    let ctx = context(app, reader, q.municipality).await?;
    let period = reports::Period::month(first, &ctx.tz).map_err(|_| bad_query("month", C::NotMonth))?;
    let records = app.store.records_counting_for(q.municipality, period.from, period.to).await?;
    let scope = reports::monthly::Scope {
        municipality: q.municipality,
        logins: (reader.scope.is_none() && interpreters).then_some(&ctx.logins),
        interpreters,
    };
    let report = reports::monthly(&records, &ctx.names, scope, first, &ctx.tz)
        .map_err(|e| ApiError::internal(format!("monthly: {e}")))?;
    let file = match q.municipality {
        Some(m) => format!("{kind}-{m}-{}", report.month),
        None => format!("{kind}-{}", report.month),
    };
    match q.format {
        Format::Json => Ok(Json(report).into_response()),
        format => download(&report.tables(q.lang), format, &file),
    }
}

/// A report's tables as a file to save.
pub(super) fn download(tables: &[Table], format: Format, name: &str) -> Result<Response, ApiError> {
    let (body, mime, ext) = match format {
        Format::Csv => (reports::table::csv(tables), "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            reports::xlsx::workbook(tables).map_err(|e| ApiError::internal(format!("workbook: {e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        Format::Json => return Err(ApiError::internal("download of json")),
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\""))
        .map_err(|e| ApiError::internal(format!("file name: {e}")))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(mime)), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

/// `PUT /api/call-records/{id}/status`'s body.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    /// The handling status now.
    pub status: p::OutcomeCategory,
}

/// `PUT /api/call-records/{id}/status`: a supervisor of the desk's municipality (or an
/// admin) updates an interpreted consultation's handling status later, audited.
async fn set_status(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<i64>,
    JsonBody(b): JsonBody<StatusBody>,
) -> Result<StatusCode, ApiError> {
    let actor = format!("staff:{}", reader.id);
    let target = format!("call_record:{id}");
    if !app.store.set_handling_status(id, reader.scope, b.status.code()).await? {
        app.store.audit_for(reader.scope, &actor, "set_handling_status", Some(&target), false).await?;
        return Err(ApiError::not_found(format!("no interpreted consultation {id} of your municipality")));
    }
    app.store.audit_for(reader.scope, &actor, "set_handling_status", Some(&target), true).await?;
    Ok(StatusCode::NO_CONTENT)
}
