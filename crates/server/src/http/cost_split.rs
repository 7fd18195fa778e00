//! The shared centre's cost split over HTTP (issue 16): the rule (any supervisor or admin
//! reads it; an admin sets it, with the members' foreign resident counts, audited) and a
//! month's split as JSON, CSV or a workbook: every member's share, or one member's
//! statement. The split is the members' common business: each sees the others' shares.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::{ApiError, QueryOf};
use super::reports::{Format, bad_query, download, month};
use super::who::{Admin, Reader};
use crate::app::App;
use crate::problem::{Problem, ProblemCode as C, Unit};
use crate::reports::Lang;
use crate::reports::cost_split::{Member, cost_split};
use crate::store::{Constraint, CostSplitRule, StoreError};

/// The routes.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/cost-split", get(rule).put(set_rule)).route("/api/reports/cost-split", get(split))
}

/// A member's foreign residents, as the rule weighs them.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Residents {
    /// The municipality (tenant id).
    pub municipality: i64,
    /// Its foreign residents (the registry's count at the centre's reference date).
    pub count: u32,
}

/// The rule and the counts it weighs by.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleBody {
    /// The joint cost of a month, yen.
    #[schemars(range(min = 0, max = 1_000_000_000_000i64))]
    pub monthly_cost: i64,
    /// Percent split equally among the members (均等割).
    #[schemars(range(max = 100))]
    pub equal_percent: u8,
    /// Percent split by each member's share of foreign residents (人口割).
    #[schemars(range(max = 100))]
    pub residents_percent: u8,
    /// Percent split by each member's residents' use (利用割). The three add up to 100.
    #[schemars(range(max = 100))]
    pub usage_percent: u8,
    /// What use is counted in.
    #[schemars(schema_with = "basis_schema")]
    pub usage_basis: String,
    /// Each member's foreign residents (members left out keep theirs).
    #[serde(default)]
    pub foreign_residents: Vec<Residents>,
}

fn basis_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ["minutes", "consultations"] })
}

impl RuleBody {
    fn rule(&self) -> CostSplitRule {
        CostSplitRule {
            monthly_cost: self.monthly_cost,
            equal_percent: self.equal_percent,
            residents_percent: self.residents_percent,
            usage_percent: self.usage_percent,
            usage_basis: self.usage_basis.clone(),
        }
    }
}

/// `GET /api/cost-split`.
async fn rule(State(app): State<App>, _reader: Reader) -> Result<Json<RuleBody>, ApiError> {
    let rule = app.store.cost_split_rule().await?;
    let tenants = app.store.directory().await?.tenants;
    let foreign_residents = tenants
        .iter()
        .map(|t| Residents { municipality: t.id, count: u32::try_from(t.foreign_residents).unwrap_or(u32::MAX) })
        .collect();
    Ok(Json(RuleBody {
        monthly_cost: rule.monthly_cost,
        equal_percent: rule.equal_percent,
        residents_percent: rule.residents_percent,
        usage_percent: rule.usage_percent,
        usage_basis: rule.usage_basis,
        foreign_residents,
    }))
}

/// `PUT /api/cost-split` (admin): the rule and the members' counts, together.
async fn set_rule(
    State(app): State<App>,
    admin: Admin,
    JsonBody(b): JsonBody<RuleBody>,
) -> Result<StatusCode, ApiError> {
    let r = &b.rule();
    if r.monthly_cost < 0 || r.monthly_cost > 1_000_000_000_000 {
        return Err(ApiError::invalid("monthly_cost", Problem::range(0, 1_000_000_000_000, Unit::Yen)));
    }
    if [r.equal_percent, r.residents_percent, r.usage_percent].iter().map(|p| u32::from(*p)).sum::<u32>() != 100 {
        // equal_percent, residents_percent and usage_percent.
        return Err(ApiError::invalid("usage_percent", C::NotHundred));
    }
    if !["minutes", "consultations"].contains(&r.usage_basis.as_str()) {
        return Err(ApiError::invalid("usage_basis", Problem::one_of(&["minutes", "consultations"])));
    }
    let counts: Vec<(i64, i64)> = b.foreign_residents.iter().map(|c| (c.municipality, i64::from(c.count))).collect();
    let known = app.store.set_cost_split(r, &counts).await.map_err(|e| match e {
        StoreError::Constraint(Constraint::Check) => ApiError::invalid("usage_percent", C::NotHundred),
        e => e.into(),
    })?;
    if !known {
        return Err(ApiError::invalid("foreign_residents", C::Unknown));
    }
    app.store.audit(&admin.actor, "set_cost_split", None, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/reports/cost-split`'s query.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitQuery {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// One member's statement; every member's share without it.
    #[serde(default)]
    pub municipality: Option<i64>,
    /// `json` (default), `csv` or `xlsx`.
    #[serde(default)]
    pub format: Format,
    /// `ja` (default) or `en`.
    #[serde(default)]
    pub lang: Lang,
}

/// `GET /api/reports/cost-split?month=[&municipality=][&format=][&lang=]`.
async fn split(State(app): State<App>, _reader: Reader, QueryOf(q): QueryOf<SplitQuery>) -> Result<Response, ApiError> {
    let first = month(&q.month)?;
    let directory = app.store.directory().await?;
    let Some(centre) = directory.tenants.first() else {
        return Err(ApiError::not_found("the centre has no members yet"));
    };
    if let Some(m) = q.municipality
        && !directory.tenants.iter().any(|t| t.id == m)
    {
        return Err(ApiError::not_found(format!("no municipality {m}")));
    }
    let tz = jiff::tz::TimeZone::get(&centre.time_zone)
        .map_err(|e| ApiError::internal(format!("time zone {}: {e}", centre.time_zone)))?;
    let period = crate::reports::Period::month(first, &tz).map_err(|_| bad_query("month", C::NotMonth))?;
    let records = app.store.records_counting_for(None, period.from, period.to).await?;
    let members: Vec<Member> = directory
        .tenants
        .iter()
        .map(|t| Member { id: t.id, name: t.name.clone(), foreign_residents: t.foreign_residents })
        .collect();
    let rule = app.store.cost_split_rule().await?;
    let mut split = cost_split(&records, &members, &rule, first, &tz)
        .map_err(|e| ApiError::internal(format!("cost split: {e}")))?;
    if let Some(m) = q.municipality {
        split.members.retain(|s| s.municipality == m);
    }
    let file = match q.municipality {
        Some(m) => format!("cost-split-{m}-{}", split.month),
        None => format!("cost-split-{}", split.month),
    };
    match q.format {
        Format::Json => Ok(Json(split).into_response()),
        format => download(&[split.table(q.lang)], format, &file),
    }
}
