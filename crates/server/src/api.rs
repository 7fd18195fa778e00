//! The admin API under `/api/`: the directory (tenants and their routing policies, desks,
//! interpreters with languages, specialities, tiers and rosters). Admins write; a
//! supervisor reads their own tenant's. Every change is stored first, then applied to
//! the live engine. Bodies are strict: unknown fields are refused and errors name the
//! field. The OpenAPI document is served at `/api/openapi.json`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::app::{ApiError, App, bearer, body};
use crate::auth::{AuthError, Subject, hash_password_off_runtime, hash_token, new_enrolment_code};
use crate::directory::{InterpreterRow, RosterDoc, time_zone};
use crate::hub::{Client, Cmd, DirectoryChange};
use crate::policy::PolicyDoc;

/// The directory routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/tenants", get(list_tenants).post(add_tenant))
        .route("/api/tenants/{id}/policy", put(set_policy))
        .route("/api/tenants/{id}/desks", axum::routing::post(add_desk))
        .route("/api/desks/{id}", delete(revoke_desk))
        .route("/api/interpreters", get(list_interpreters).post(add_interpreter))
        .route("/api/interpreters/{id}", put(update_interpreter))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, p::ErrorCode::Internal, e.to_string())
}

fn invalid(field: &str, problem: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, p::ErrorCode::InvalidField, format!("{field}: {problem}"))
}

/// Who may read: an admin (all tenants) or a supervisor (their tenant).
async fn reader(app: &App, headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let token = bearer(headers).ok_or(AuthError::Refused)?;
    match app.store.session(token).await? {
        Subject::Staff { admin: true, .. } => Ok(None),
        Subject::Staff { tenant: Some(t), .. } => Ok(Some(t)),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, p::ErrorCode::NotAllowed, "supervisors and admins only")),
    }
}

/// Only an admin may write; returns the actor for the audit log.
async fn admin(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = bearer(headers).ok_or(AuthError::Refused)?;
    match app.store.session(token).await? {
        Subject::Staff { admin: true, id, .. } => Ok(format!("staff:{id}")),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, p::ErrorCode::NotAllowed, "admins only")),
    }
}

async fn apply(app: &App, change: DirectoryChange) -> Result<(), ApiError> {
    let (reply, wait) = oneshot::channel();
    app.hub.send(Cmd::Directory { change, reply }).await.map_err(internal)?;
    wait.await.map_err(internal)?.map_err(|e| ApiError::new(StatusCode::CONFLICT, e.code, e.message))
}

/// A new tenant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantBody {
    /// Name, shown to interpreters.
    pub name: String,
    /// Registered foreign residents (for cost splits).
    pub foreign_residents: u32,
    /// IANA time zone, e.g. `Asia/Tokyo`.
    pub time_zone: String,
    /// Routing policy; the defaults when absent.
    #[serde(default)]
    pub policy: Option<PolicyDoc>,
}

/// A tenant as listed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TenantOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Registered foreign residents.
    pub foreign_residents: i64,
    /// Time zone.
    pub time_zone: String,
    /// The policy in force.
    pub policy: PolicyDoc,
}

async fn list_tenants(State(app): State<App>, headers: HeaderMap) -> Result<Json<Vec<TenantOut>>, ApiError> {
    let scope = reader(&app, &headers).await?;
    let dir = app.store.directory().await.map_err(internal)?;
    Ok(Json(
        dir.tenants
            .into_iter()
            .filter(|t| scope.is_none_or(|s| s == t.id))
            .map(|t| TenantOut {
                id: t.id,
                name: t.name,
                foreign_residents: t.foreign_residents,
                time_zone: t.time_zone,
                policy: t.policy.unwrap_or_default(),
            })
            .collect(),
    ))
}

async fn add_tenant(
    State(app): State<App>,
    headers: HeaderMap,
    b: Result<Json<TenantBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let actor = admin(&app, &headers).await?;
    let b = body(b)?;
    if b.name.trim().is_empty() || b.name.len() > 200 {
        return Err(invalid("name", "must be 1 to 200 characters"));
    }
    let tz = time_zone(&b.time_zone, "time_zone").map_err(|e| invalid(&e.field, e.problem))?;
    let policy_doc = b.policy.unwrap_or_default();
    let policy = policy_doc.to_policy().map_err(|e| invalid(&e.field, e.problem))?;
    let id =
        app.store.insert_tenant(b.name.trim(), i64::from(b.foreign_residents), &b.time_zone).await.map_err(|e| {
            if e.to_string().contains("UNIQUE") {
                ApiError::new(StatusCode::CONFLICT, p::ErrorCode::InvalidField, "name: a tenant of that name exists")
            } else {
                internal(e)
            }
        })?;
    app.store.set_policy(id, &policy_doc).await.map_err(internal)?;
    let spec = d::TenantSpec {
        id: d::TenantId(u32::try_from(id).map_err(internal)?),
        foreign_residents: b.foreign_residents,
        time_zone: tz,
        policy,
    };
    apply(&app, DirectoryChange::Tenant(id, b.name.trim().to_string(), Box::new(spec))).await?;
    app.store.audit(&actor, "add_tenant", Some(&format!("tenant:{id}")), true).await.map_err(internal)?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))))
}

async fn set_policy(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    b: Result<Json<PolicyDoc>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&app, &headers).await?;
    let doc = body(b)?;
    let policy = doc.to_policy().map_err(|e| invalid(&e.field, e.problem))?;
    if !app.store.set_policy(id, &doc).await.map_err(internal)? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, p::ErrorCode::NotFound, format!("no tenant {id}")));
    }
    apply(&app, DirectoryChange::Policy(id, Box::new(policy))).await?;
    app.store.audit(&actor, "set_policy", Some(&format!("tenant:{id}")), true).await.map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new desk.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeskBody {
    /// Name, e.g. "City hall, counter 2".
    pub name: String,
}

/// A desk created: hand the enrolment code to the person setting up the tablet.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeskOut {
    /// Id.
    pub id: i64,
    /// Single-use code for `POST /api/enrol`.
    pub enrolment_code: String,
}

async fn add_desk(
    State(app): State<App>,
    headers: HeaderMap,
    Path(tenant): Path<i64>,
    b: Result<Json<DeskBody>, JsonRejection>,
) -> Result<(StatusCode, Json<DeskOut>), ApiError> {
    let actor = admin(&app, &headers).await?;
    let b = body(b)?;
    if b.name.trim().is_empty() || b.name.len() > 200 {
        return Err(invalid("name", "must be 1 to 200 characters"));
    }
    let code = new_enrolment_code();
    let id = app.store.insert_desk(tenant, b.name.trim(), &hash_token(&code)).await.map_err(|e| {
        if e.to_string().contains("FOREIGN KEY") {
            ApiError::new(StatusCode::NOT_FOUND, p::ErrorCode::NotFound, format!("no tenant {tenant}"))
        } else {
            internal(e)
        }
    })?;
    apply(&app, DirectoryChange::Desk(id, tenant)).await?;
    app.store.audit(&actor, "add_desk", Some(&format!("desk:{id}")), true).await.map_err(internal)?;
    Ok((StatusCode::CREATED, Json(DeskOut { id, enrolment_code: code })))
}

async fn revoke_desk(State(app): State<App>, headers: HeaderMap, Path(id): Path<i64>) -> Result<StatusCode, ApiError> {
    let actor = admin(&app, &headers).await?;
    app.store.revoke_desk(id, &actor).await?;
    let _ = app.hub.send(Cmd::Kick { client: Client::Desk(id, 0) }).await;
    Ok(StatusCode::NO_CONTENT)
}

/// An interpreter's profile.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InterpreterBody {
    /// Sign-in name (new interpreters only).
    #[serde(default)]
    pub login: Option<String>,
    /// Initial password, 12 characters or more (new interpreters only).
    #[serde(default)]
    pub password: Option<String>,
    /// staff, contractor or volunteer.
    pub tier: String,
    /// Languages paired with Japanese (BCP 47).
    pub languages: Vec<String>,
    /// video, audio, phone.
    pub modalities: Vec<String>,
    /// immigration, labour, medical, legal, mental_health, general.
    #[serde(default)]
    pub specialities: Vec<String>,
    /// Tenants served directly.
    #[serde(default)]
    pub tenants: Vec<i64>,
    /// Also in the shared pool.
    #[serde(default)]
    pub shared_pool: bool,
    /// When they work.
    pub roster: RosterDoc,
}

impl std::fmt::Debug for InterpreterBody {
    /// Never shows the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterpreterBody")
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tier", &self.tier)
            .field("languages", &self.languages)
            .finish_non_exhaustive()
    }
}

async fn list_interpreters(State(app): State<App>, headers: HeaderMap) -> Result<Json<Vec<InterpreterRow>>, ApiError> {
    let scope = reader(&app, &headers).await?;
    let dir = app.store.directory().await.map_err(internal)?;
    Ok(Json(
        dir.interpreters
            .into_iter()
            .filter(|i| scope.is_none_or(|s| i.tenants.contains(&s) || i.shared_pool))
            .collect(),
    ))
}

fn row_from(id: i64, login: String, b: InterpreterBody) -> InterpreterRow {
    InterpreterRow {
        id,
        login,
        tier: b.tier,
        languages: b.languages,
        modalities: b.modalities,
        specialities: b.specialities,
        tenants: b.tenants,
        shared_pool: b.shared_pool,
        roster: b.roster,
    }
}

/// Validate a profile against the directory; the engine's spec for it.
async fn checked(app: &App, row: &InterpreterRow) -> Result<d::InterpreterSpec, ApiError> {
    let known = app.store.directory().await.map_err(internal)?.tenants.into_iter().map(|t| t.id).collect::<Vec<_>>();
    if let Some(t) = row.tenants.iter().find(|t| !known.contains(t)) {
        return Err(invalid("tenants", format!("no tenant {t}")));
    }
    let spec = row.to_spec().map_err(|e| invalid(&e.field, e.problem))?;
    if spec.pairs.is_empty() {
        return Err(invalid("languages", "at least one language"));
    }
    if spec.modalities.is_empty() {
        return Err(invalid("modalities", "at least one modality"));
    }
    if row.tenants.is_empty() && !row.shared_pool {
        return Err(invalid("tenants", "serve at least one tenant or join the shared pool"));
    }
    Ok(spec)
}

async fn add_interpreter(
    State(app): State<App>,
    headers: HeaderMap,
    b: Result<Json<InterpreterBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let actor = admin(&app, &headers).await?;
    let mut b = body(b)?;
    let login = b
        .login
        .take()
        .filter(|l| !l.trim().is_empty() && l.len() <= 100)
        .ok_or_else(|| invalid("login", "required, 1 to 100 characters"))?;
    let password = b
        .password
        .take()
        .filter(|p| p.chars().count() >= 12)
        .ok_or_else(|| invalid("password", "required, at least 12 characters"))?;
    let mut row = row_from(0, login, b);
    let mut spec = checked(&app, &row).await?;
    let hash = hash_password_off_runtime(&password).await?;
    row.id = app.store.insert_interpreter(&row, &hash).await.map_err(|e| {
        if e.to_string().contains("UNIQUE") {
            ApiError::new(StatusCode::CONFLICT, p::ErrorCode::InvalidField, "login: taken")
        } else {
            internal(e)
        }
    })?;
    spec.id = d::InterpreterId(u32::try_from(row.id).map_err(internal)?);
    apply(&app, DirectoryChange::Interpreter(Box::new(spec))).await?;
    app.store
        .audit(&actor, "add_interpreter", Some(&format!("interpreter:{}", row.id)), true)
        .await
        .map_err(internal)?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": row.id }))))
}

async fn update_interpreter(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    b: Result<Json<InterpreterBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let actor = admin(&app, &headers).await?;
    let b = body(b)?;
    if b.login.is_some() || b.password.is_some() {
        return Err(invalid("login", "the login and password are not changed here"));
    }
    let row = row_from(id, String::new(), b);
    let mut spec = checked(&app, &row).await?;
    spec.id = d::InterpreterId(u32::try_from(id).map_err(|_| invalid("id", "out of range"))?);
    // The engine first: it refuses while an offer rings or a call runs.
    apply(&app, DirectoryChange::UpdateInterpreter(Box::new(spec))).await?;
    if !app.store.update_interpreter(&row).await.map_err(internal)? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, p::ErrorCode::NotFound, format!("no interpreter {id}")));
    }
    app.store.audit(&actor, "update_interpreter", Some(&format!("interpreter:{id}")), true).await.map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

fn schema<T: JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
}

/// The OpenAPI document of the HTTP API.
pub fn openapi_document() -> serde_json::Value {
    use serde_json::json;
    let bearer = json!([{ "bearer": [] }]);
    let ok = |d: &str| json!({ "description": d });
    let err = json!({ "description": "an error: {\"error\": {\"code\", \"message\"}}; the message names the field at fault" });
    let with_body = |s: &str| json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{s}") } } } });
    json!({
        "openapi": "3.1.0",
        "info": { "title": "kakehashi", "version": env!("CARGO_PKG_VERSION"), "description": "Directory, credentials and records of a kakehashi server. Signalling is WebSocket at /ws (see proto/)." },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "TenantBody": schema::<TenantBody>(),
                "TenantOut": schema::<TenantOut>(),
                "PolicyDoc": schema::<PolicyDoc>(),
                "DeskBody": schema::<DeskBody>(),
                "DeskOut": schema::<DeskOut>(),
                "InterpreterBody": schema::<InterpreterBody>(),
                "InterpreterOut": schema::<InterpreterRow>(),
            }
        },
        "paths": {
            "/api/enrol": { "post": { "summary": "Exchange a desk's enrolment code for its device token", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["code"], "properties": { "code": { "type": "string" } }, "additionalProperties": false } } } }, "responses": { "200": ok("{desk, tenant, token}"), "401": err.clone() } } },
            "/api/sign-in": { "post": { "summary": "Sign in an interpreter or a supervisor/admin", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["role", "login", "password"], "properties": { "role": { "enum": ["interpreter", "staff"] }, "login": { "type": "string" }, "password": { "type": "string" } }, "additionalProperties": false } } } }, "responses": { "200": ok("{token}"), "401": err.clone(), "429": ok("locked after repeated failures") } } },
            "/api/sign-out": { "post": { "summary": "End the caller's session", "security": bearer, "responses": { "204": ok("signed out"), "401": err.clone() } } },
            "/api/call-records": { "get": { "summary": "Call records of the caller's tenant (all for an admin); no names, numbers or content", "security": bearer, "responses": { "200": ok("records"), "401": err.clone(), "403": err.clone() } } },
            "/api/tenants": {
                "get": { "summary": "Tenants (a supervisor sees their own)", "security": bearer, "responses": { "200": ok("[TenantOut]") } },
                "post": { "summary": "Add a tenant (admin)", "security": bearer, "requestBody": with_body("TenantBody"), "responses": { "201": ok("{id}"), "400": err.clone(), "409": err.clone(), "422": err.clone() } }
            },
            "/api/tenants/{id}/policy": { "put": { "summary": "Replace a tenant's routing policy (admin)", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "requestBody": with_body("PolicyDoc"), "responses": { "204": ok("applied"), "404": err.clone(), "422": err.clone() } } },
            "/api/tenants/{id}/desks": { "post": { "summary": "Add a desk; returns its single-use enrolment code (admin)", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "requestBody": with_body("DeskBody"), "responses": { "201": ok("DeskOut"), "404": err.clone(), "422": err.clone() } } },
            "/api/desks/{id}": { "delete": { "summary": "Revoke a desk's device (admin)", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "responses": { "204": ok("revoked") } } },
            "/api/interpreters": {
                "get": { "summary": "Interpreters (a supervisor sees those serving their tenant)", "security": bearer, "responses": { "200": ok("[InterpreterOut]") } },
                "post": { "summary": "Add an interpreter (admin)", "security": bearer, "requestBody": with_body("InterpreterBody"), "responses": { "201": ok("{id}"), "409": err.clone(), "422": err.clone() } }
            },
            "/api/interpreters/{id}": { "put": { "summary": "Replace an interpreter's profile (admin); refused while they are rung or in a call", "security": bearer, "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }], "requestBody": with_body("InterpreterBody"), "responses": { "204": ok("applied"), "404": err.clone(), "409": err.clone(), "422": err } } },
            "/healthz": { "get": { "responses": { "200": ok("alive") } } },
            "/readyz": { "get": { "responses": { "200": ok("ready"), "503": ok("draining") } } },
            "/metrics": { "get": { "responses": { "200": ok("Prometheus text format") } } },
            "/ws": { "get": { "summary": "WebSocket signalling (see proto/README.md)", "responses": { "101": ok("switching protocols") } } }
        }
    })
}

async fn openapi() -> Json<serde_json::Value> {
    Json(openapi_document())
}
