//! A municipality's partner directory over HTTP (issue 16): where its desks refer
//! residents. Its supervisors and the centre's admins list, add, rename and retire
//! partners; every change is audited. A desk names one with its outcome (`referral`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::admin::IdOut;
use super::body::JsonBody;
use super::error::{ApiError, PathOf};
use super::who::Reader;
use crate::app::App;
use crate::problem::{Problem, Unit};
use crate::store::{Constraint, PARTNER_KINDS, Partner, StoreError};

/// The partner routes.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/tenants/{id}/partners", get(list).post(add)).route("/api/partners/{id}", put(update))
}

/// A partner as it is added or changed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PartnerBody {
    /// Its name, as staff know it.
    #[schemars(schema_with = "crate::directory::schema::name")]
    pub name: String,
    /// What kind of organisation it is.
    #[schemars(schema_with = "kind_schema")]
    pub kind: String,
    /// No longer offered to desks (records that name it keep it).
    #[serde(default)]
    pub retired: bool,
}

fn kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": PARTNER_KINDS })
}

impl PartnerBody {
    /// The trimmed name, or why the body is refused.
    fn checked(&self) -> Result<&str, ApiError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(ApiError::invalid("name", Problem::range(1, 200, Unit::Characters)));
        }
        if !PARTNER_KINDS.contains(&self.kind.as_str()) {
            return Err(ApiError::invalid("kind", Problem::one_of(&PARTNER_KINDS)));
        }
        Ok(name)
    }
}

fn taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Constraint(Constraint::Unique) => ApiError::taken("name"),
        e => e.into(),
    }
}

/// `GET /api/tenants/{id}/partners`: every partner of the municipality, retired ones too.
async fn list(State(app): State<App>, reader: Reader, PathOf(id): PathOf<i64>) -> Result<Json<Vec<Partner>>, ApiError> {
    if !reader.sees(id) {
        return Err(ApiError::forbidden("another municipality's partners"));
    }
    Ok(Json(app.store.partners(id, true).await?))
}

/// `POST /api/tenants/{id}/partners`.
async fn add(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<i64>,
    JsonBody(b): JsonBody<PartnerBody>,
) -> Result<(StatusCode, Json<IdOut>), ApiError> {
    if !reader.sees(id) {
        return Err(ApiError::forbidden("another municipality's partners"));
    }
    let name = b.checked()?;
    let partner = app.store.add_partner(id, name, &b.kind).await.map_err(|e| match e {
        StoreError::Constraint(Constraint::ForeignKey) => ApiError::not_found(format!("no tenant {id}")),
        e => taken(e),
    })?;
    if b.retired {
        app.store.update_partner(partner, name, &b.kind, true).await?;
    }
    let actor = format!("staff:{}", reader.id);
    app.store.audit_for(Some(id), &actor, "add_partner", Some(&format!("partner:{partner}")), true).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id: partner })))
}

/// `PUT /api/partners/{id}`: rename, re-kind, retire or bring back.
async fn update(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<i64>,
    JsonBody(b): JsonBody<PartnerBody>,
) -> Result<StatusCode, ApiError> {
    let name = b.checked()?;
    let tenant = match app.store.partner(id).await? {
        Some(p) if reader.sees(p.tenant) => p.tenant,
        _ => return Err(ApiError::not_found(format!("no partner {id}"))),
    };
    app.store.update_partner(id, name, &b.kind, b.retired).await.map_err(taken)?;
    let actor = format!("staff:{}", reader.id);
    app.store.audit_for(Some(tenant), &actor, "update_partner", Some(&format!("partner:{id}")), true).await?;
    Ok(StatusCode::NO_CONTENT)
}
