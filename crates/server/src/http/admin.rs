//! The admin API under `/api/`: the directory (tenants and their routing policies, desks,
//! interpreters with languages, specialities, tiers and rosters). Admins write; a
//! supervisor reads their own tenant's. Every change is stored first, then applied to
//! the live engine. Bodies are strict: unknown fields are refused and errors name the
//! field. The OpenAPI document is served at `/api/openapi.json`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::{ApiError, PathOf};
use super::who::{Admin, Reader};
use crate::app::App;
use crate::auth::{hash_password_off_runtime, hash_token, new_enrolment_code};
use crate::calls::Client;
use crate::cluster::DirectoryEdit;
use crate::directory::{InterpreterRow, PolicyDoc, RosterDoc, time_zone};
use crate::problem::{Problem, ProblemCode as C, Unit};
use crate::store::{Constraint, StoreError, TwoFactorRule};

/// The directory routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/tenants", get(list_tenants).post(add_tenant))
        .route("/api/tenants/{id}/policy", put(set_policy))
        .route("/api/tenants/{id}/languages", put(set_pinned))
        .route("/api/tenants/{id}/desks", axum::routing::post(add_desk))
        .route("/api/desks/{id}", delete(revoke_desk))
        .route("/api/interpreters", get(list_interpreters).post(add_interpreter))
        .route("/api/interpreters/{id}", put(update_interpreter))
}

async fn apply(app: &App, change: DirectoryEdit) -> Result<(), ApiError> {
    app.router.directory(change).await.map_err(|e| match e.code {
        p::ErrorCode::ShuttingDown => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code, e.message),
        _ => ApiError::conflict(e.code, e.message),
    })
}

/// What a creation answers.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct IdOut {
    /// The new row's id.
    pub id: i64,
}

/// A new tenant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TenantBody {
    /// Name, shown to interpreters.
    #[schemars(schema_with = "crate::directory::schema::name")]
    pub name: String,
    /// Registered foreign residents (for cost splits).
    #[schemars(range(max = 4_294_967_295u32))]
    pub foreign_residents: u32,
    /// IANA time zone, e.g. `Asia/Tokyo`.
    #[schemars(schema_with = "crate::directory::schema::time_zone")]
    pub time_zone: String,
    /// Routing policy; the defaults when absent.
    #[serde(default)]
    pub policy: Option<PolicyDoc>,
    /// Who must sign in with a second factor; `staff` (its supervisors) when absent.
    #[serde(default)]
    pub two_factor: Option<TwoFactorRule>,
}

/// A tenant as listed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TenantOut {
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
    /// Who must sign in with a second factor.
    pub two_factor: TwoFactorRule,
    /// Languages pinned to the front of its desks' grid, in order.
    pub pinned_languages: Vec<String>,
    /// The desk that takes bookings from its standing link (`/start/{id}`), if any.
    pub online_desk: Option<i64>,
}

async fn list_tenants(State(app): State<App>, reader: Reader) -> Result<Json<Vec<TenantOut>>, ApiError> {
    let dir = app.store.directory().await?;
    let mut out = Vec::new();
    for t in dir.tenants.into_iter().filter(|t| reader.sees(t.id)) {
        let two_factor = app.store.two_factor_rule(t.id).await?.unwrap_or(TwoFactorRule::Staff);
        let pinned_languages = app.store.pinned_languages(t.id).await?;
        let online_desk = app.store.online_desk(t.id).await?.flatten();
        out.push(TenantOut {
            id: t.id,
            name: t.name,
            foreign_residents: t.foreign_residents,
            time_zone: t.time_zone,
            policy: t.policy.unwrap_or_default(),
            two_factor,
            pinned_languages,
            online_desk,
        });
    }
    Ok(Json(out))
}

/// A tenant's or desk's name: 1 to 200 characters.
const NAME: Problem = Problem::range(1, 200, Unit::Characters);

async fn add_tenant(
    State(app): State<App>,
    Admin { actor }: Admin,
    JsonBody(b): JsonBody<TenantBody>,
) -> Result<(StatusCode, Json<IdOut>), ApiError> {
    if b.name.trim().is_empty() || b.name.chars().count() > 200 {
        return Err(ApiError::invalid("name", NAME));
    }
    time_zone(&b.time_zone, "time_zone")?;
    let policy_doc = b.policy.unwrap_or_default();
    policy_doc.to_policy()?;
    let id = app.store.insert_tenant(b.name.trim(), i64::from(b.foreign_residents), &b.time_zone).await.map_err(
        |e| match e {
            StoreError::Constraint(Constraint::Unique) => ApiError::taken("name"),
            e => e.into(),
        },
    )?;
    app.store.set_policy(id, &policy_doc).await?;
    if let Some(rule) = b.two_factor {
        app.store.set_two_factor_rule(id, rule).await?;
    }
    let edit = DirectoryEdit::Tenant {
        id,
        name: b.name.trim().to_string(),
        foreign_residents: b.foreign_residents,
        time_zone: b.time_zone.clone(),
        policy: policy_doc,
    };
    apply(&app, edit).await?;
    app.store.audit(&actor, "add_tenant", Some(&format!("tenant:{id}")), true).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// The languages pinned to the front of a tenant's desks' grid.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinnedBody {
    /// In order; every other language follows by answered consultations.
    #[schemars(schema_with = "crate::directory::schema::pinned_languages")]
    pub pinned: Vec<String>,
}

/// `PUT /api/tenants/{id}/languages`: the order a coordinator sets for the grid (a
/// supervisor for their own tenant, an admin for any).
async fn set_pinned(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<i64>,
    JsonBody(b): JsonBody<PinnedBody>,
) -> Result<StatusCode, ApiError> {
    if !reader.sees(id) {
        return Err(ApiError::forbidden("another tenant's grid"));
    }
    let mut seen = Vec::new();
    for (i, tag) in b.pinned.iter().enumerate() {
        let field = || format!("pinned[{i}]");
        let l = d::LanguageId::parse(tag).map_err(|_| ApiError::invalid(&field(), C::NotLanguage))?;
        if l == d::LanguageId::JAPANESE {
            return Err(ApiError::invalid(&field(), C::DeskSide));
        }
        if seen.contains(&l.tag()) {
            return Err(ApiError::invalid(&field(), C::Duplicate));
        }
        seen.push(l.tag());
    }
    let tags: Vec<String> = seen.into_iter().map(str::to_string).collect();
    let done = app.store.set_pinned_languages(id, &tags).await?;
    app.store
        .audit(&format!("staff:{}", reader.id), "set_pinned_languages", Some(&format!("tenant:{id}")), done)
        .await?;
    if done { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::not_found(format!("no tenant {id}"))) }
}

async fn set_policy(
    State(app): State<App>,
    Admin { actor }: Admin,
    PathOf(id): PathOf<i64>,
    JsonBody(doc): JsonBody<PolicyDoc>,
) -> Result<StatusCode, ApiError> {
    doc.to_policy()?;
    if !app.store.set_policy(id, &doc).await? {
        return Err(ApiError::not_found(format!("no tenant {id}")));
    }
    apply(&app, DirectoryEdit::Policy { id, policy: doc }).await?;
    app.store.audit(&actor, "set_policy", Some(&format!("tenant:{id}")), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new desk.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeskBody {
    /// Name, e.g. "City hall, counter 2".
    #[schemars(schema_with = "crate::directory::schema::name")]
    pub name: String,
}

/// A desk created: hand the enrolment code to the person setting up the tablet.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DeskOut {
    /// Id.
    pub id: i64,
    /// Single-use code for `POST /api/enrol`.
    pub enrolment_code: String,
}

async fn add_desk(
    State(app): State<App>,
    Admin { actor }: Admin,
    PathOf(tenant): PathOf<i64>,
    JsonBody(b): JsonBody<DeskBody>,
) -> Result<(StatusCode, Json<DeskOut>), ApiError> {
    if b.name.trim().is_empty() || b.name.chars().count() > 200 {
        return Err(ApiError::invalid("name", NAME));
    }
    let code = new_enrolment_code();
    let id = app.store.insert_desk(tenant, b.name.trim(), &hash_token(&code)).await.map_err(|e| match e {
        StoreError::Constraint(Constraint::ForeignKey) => ApiError::not_found(format!("no tenant {tenant}")),
        e => e.into(),
    })?;
    apply(&app, DirectoryEdit::Desk { id, tenant, name: b.name.trim().to_string() }).await?;
    app.store.audit(&actor, "add_desk", Some(&format!("desk:{id}")), true).await?;
    Ok((StatusCode::CREATED, Json(DeskOut { id, enrolment_code: code })))
}

async fn revoke_desk(
    State(app): State<App>,
    Admin { actor }: Admin,
    PathOf(id): PathOf<i64>,
) -> Result<StatusCode, ApiError> {
    if !crate::auth::revoke_desk(&app.store, id, &actor).await? {
        return Err(ApiError::not_found(format!("no desk {id}")));
    }
    app.router.kick(Client::Desk(id)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// An interpreter's profile.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InterpreterBody {
    /// Sign-in name, 1 to 100 characters (new interpreters only).
    #[serde(default)]
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    pub login: Option<String>,
    /// Initial password, 12 to 256 characters (new interpreters only).
    #[serde(default)]
    #[schemars(length(min = 12, max = 256))]
    pub password: Option<String>,
    /// staff, contractor or volunteer.
    #[schemars(schema_with = "crate::directory::schema::tier")]
    pub tier: String,
    /// Languages paired with Japanese (BCP 47).
    #[schemars(schema_with = "crate::directory::schema::paired_languages")]
    pub languages: Vec<String>,
    /// video, audio, phone.
    #[schemars(schema_with = "crate::directory::schema::modalities")]
    pub modalities: Vec<String>,
    /// immigration, labour, medical, legal, mental_health, general.
    #[serde(default)]
    #[schemars(schema_with = "crate::directory::schema::specialities")]
    pub specialities: Vec<String>,
    /// Tenants served directly.
    #[serde(default)]
    pub tenants: Vec<i64>,
    /// Also in the shared pool.
    #[serde(default)]
    pub shared_pool: bool,
    /// When they work.
    pub roster: RosterDoc,
    /// Reach them by phone: offers ring this number (3 to 20 digits, with `+ - ( )` and
    /// spaces) through the phone gateway, and they need no console. Empty or absent: the
    /// console.
    #[serde(default)]
    pub reach_by_phone: Option<String>,
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

async fn list_interpreters(State(app): State<App>, reader: Reader) -> Result<Json<Vec<InterpreterRow>>, ApiError> {
    let dir = app.store.directory().await?;
    Ok(Json(
        dir.interpreters
            .into_iter()
            .filter(|i| reader.scope.is_none_or(|s| i.tenants.contains(&s) || i.shared_pool))
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
        reach_by_phone: b.reach_by_phone.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
    }
}

/// Validate a profile against the directory; the engine's spec for it.
async fn checked(app: &App, row: &InterpreterRow) -> Result<(), ApiError> {
    let known = app.store.directory().await?.tenants.into_iter().map(|t| t.id).collect::<Vec<_>>();
    if let Some(t) = row.tenants.iter().find(|t| !known.contains(t)) {
        return Err(ApiError::not_found(format!("tenants: no tenant {t}")));
    }
    let spec = row.to_spec()?;
    let at_least_one = Problem::at_least(1, Unit::Entries);
    if spec.pairs.is_empty() {
        return Err(ApiError::invalid("languages", at_least_one));
    }
    if spec.modalities.is_empty() {
        return Err(ApiError::invalid("modalities", at_least_one));
    }
    if row.tenants.is_empty() && !row.shared_pool {
        // Serve at least one tenant, or join the shared pool.
        return Err(ApiError::invalid("tenants", at_least_one));
    }
    if row.reach_by_phone.as_deref().is_some_and(|n| !crate::calls::dialable(n)) {
        return Err(ApiError::invalid("reach_by_phone", C::NotPhone));
    }
    Ok(())
}

async fn add_interpreter(
    State(app): State<App>,
    Admin { actor }: Admin,
    JsonBody(b): JsonBody<InterpreterBody>,
) -> Result<(StatusCode, Json<IdOut>), ApiError> {
    let mut b = b;
    let login = b
        .login
        .take()
        .filter(|l| !l.trim().is_empty() && l.chars().count() <= 100)
        .ok_or_else(|| ApiError::invalid("login", Problem::range(1, 100, Unit::Characters)))?;
    let password = b
        .password
        .take()
        .filter(|p| (12..=256).contains(&p.chars().count()))
        .ok_or_else(|| ApiError::invalid("password", Problem::range(12, 256, Unit::Characters)))?;
    let mut row = row_from(0, login, b);
    checked(&app, &row).await?;
    let hash = hash_password_off_runtime(&password).await?;
    row.id = app.store.insert_interpreter(&row, &hash).await.map_err(|e| match e {
        StoreError::Constraint(Constraint::Unique) => ApiError::taken("login"),
        e => e.into(),
    })?;
    apply(&app, DirectoryEdit::Interpreter { row: row.clone(), new: true }).await?;
    app.store.audit(&actor, "add_interpreter", Some(&format!("interpreter:{}", row.id)), true).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id: row.id })))
}

async fn update_interpreter(
    State(app): State<App>,
    Admin { actor }: Admin,
    PathOf(id): PathOf<i64>,
    JsonBody(b): JsonBody<InterpreterBody>,
) -> Result<StatusCode, ApiError> {
    if b.login.is_some() || b.password.is_some() {
        return Err(ApiError::invalid(if b.login.is_some() { "login" } else { "password" }, C::ReadOnly));
    }
    let row = row_from(id, String::new(), b);
    checked(&app, &row).await?;
    if u32::try_from(id).is_err() {
        return Err(ApiError::not_found(format!("no interpreter {id}")));
    }
    // The engine first: it refuses while an offer rings or a call runs.
    apply(&app, DirectoryEdit::Interpreter { row: row.clone(), new: false }).await?;
    if !app.store.update_interpreter(&row).await? {
        return Err(ApiError::not_found(format!("no interpreter {id}")));
    }
    app.store.audit(&actor, "update_interpreter", Some(&format!("interpreter:{id}")), true).await?;
    Ok(StatusCode::NO_CONTENT)
}
