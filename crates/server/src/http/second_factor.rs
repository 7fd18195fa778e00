//! Two-factor sign-in over HTTP: each person sets up, checks and removes their own
//! (`/api/me/second-factor`, open to a restricted session so that someone who must have
//! one can get one); an admin removes someone's lost one and sets each tenant's rule.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::{ApiError, PathOf};
use super::who::{Admin, Me};
use crate::app::App;
use crate::auth::{AuthError, second_factor};
use crate::store::{AccountKind, TwoFactorRule};

/// Each person's own routes: wherever people sign in.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/me/second-factor", get(status).post(begin).delete(remove_own))
        .route("/api/me/second-factor/confirm", post(confirm))
}

/// The admin's: with the admin API.
pub(crate) fn admin_routes() -> Router<App> {
    Router::new()
        .route("/api/tenants/{id}/two-factor", put(set_rule))
        .route("/api/staff/{id}/second-factor", delete(remove_staff))
        .route("/api/interpreters/{id}/second-factor", delete(remove_interpreter))
}

/// Where someone stands.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct FactorStatus {
    /// They sign in with a code.
    pub enabled: bool,
    /// A rule says they must (they cannot remove it; a restricted session must set it up).
    pub required: bool,
    /// Recovery codes left unused.
    pub recovery_codes_left: i64,
}

async fn status(State(app): State<App>, me: Me) -> Result<Json<FactorStatus>, ApiError> {
    let (kind, id) = second_factor::account(me.subject);
    let enabled = app.store.second_factor(kind, id).await?.is_some_and(|f| f.confirmed);
    let required = second_factor::required(&app.store, me.subject, app.config.admins_two_factor()).await?;
    let recovery_codes_left = app.store.recovery_codes_left(kind, id).await?;
    Ok(Json(FactorStatus { enabled, required, recovery_codes_left }))
}

/// A set-up begun: for the authenticator app.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Setup {
    /// The secret, base32, to type in.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code (SVG) to scan.
    pub qr_svg: String,
}

/// `POST /api/me/second-factor`: a new secret for the app (replacing one not yet
/// confirmed). Refused while one is enabled.
async fn begin(State(app): State<App>, me: Me) -> Result<(StatusCode, Json<Setup>), ApiError> {
    let (kind, id) = second_factor::account(me.subject);
    let login = app.store.login_of(kind, id).await?.ok_or(AuthError::Refused)?;
    let Some(setup) = second_factor::begin(&app.store, me.subject, &login).await? else {
        return Err(ApiError::conflict(p::ErrorCode::NotAllowed, "two-factor sign-in is already on: remove it first"));
    };
    let qr_svg = qrcode::QrCode::new(setup.uri.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build())
        .map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(Setup { secret: setup.secret, uri: setup.uri, qr_svg })))
}

/// A code from the authenticator app (or, to remove it, a recovery code).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CodeBody {
    /// Six digits, or a recovery code.
    pub code: String,
}

/// Recovery codes, shown once.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RecoveryCodes {
    /// Each works once in place of a code from the app.
    pub recovery_codes: Vec<String>,
}

/// `POST /api/me/second-factor/confirm`: the app's first code turns it on; the answer
/// holds the recovery codes, shown this once.
async fn confirm(
    State(app): State<App>,
    me: Me,
    JsonBody(b): JsonBody<CodeBody>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    match second_factor::confirm(&app.store, me.subject, &b.code).await? {
        Some(recovery_codes) => Ok(Json(RecoveryCodes { recovery_codes })),
        None => Err(ApiError::invalid("code", crate::problem::ProblemCode::WrongCode)),
    }
}

/// `DELETE /api/me/second-factor`: with a current code, where no rule requires it.
async fn remove_own(State(app): State<App>, me: Me, JsonBody(b): JsonBody<CodeBody>) -> Result<StatusCode, ApiError> {
    if second_factor::required(&app.store, me.subject, app.config.admins_two_factor()).await? {
        return Err(ApiError::conflict(p::ErrorCode::NotAllowed, "two-factor sign-in is required for this account"));
    }
    let (kind, id) = second_factor::account(me.subject);
    if !second_factor::verify(&app.store, kind, id, &b.code).await? {
        return Err(AuthError::Refused.into());
    }
    second_factor::remove(&app.store, kind, id, &format!("{}:{id}", kind.table())).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_for(app: &App, actor: &str, kind: AccountKind, id: i64) -> Result<StatusCode, ApiError> {
    if second_factor::remove(&app.store, kind, id, actor).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no second factor for {} {id}", kind.table())))
    }
}

/// `DELETE /api/staff/{id}/second-factor`: an admin removes a lost one; the person sets
/// up a new one at their next sign-in.
async fn remove_staff(
    State(app): State<App>,
    Admin { actor }: Admin,
    PathOf(id): PathOf<i64>,
) -> Result<StatusCode, ApiError> {
    remove_for(&app, &actor, AccountKind::Staff, id).await
}

/// `DELETE /api/interpreters/{id}/second-factor`.
async fn remove_interpreter(
    State(app): State<App>,
    Admin { actor }: Admin,
    PathOf(id): PathOf<i64>,
) -> Result<StatusCode, ApiError> {
    remove_for(&app, &actor, AccountKind::Interpreter, id).await
}

/// A tenant's rule for two-factor sign-in.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleBody {
    /// Who must sign in with a second factor.
    pub two_factor: TwoFactorRule,
}

/// `PUT /api/tenants/{id}/two-factor`.
async fn set_rule(
    State(app): State<App>,
    Admin { actor }: Admin,
    PathOf(id): PathOf<i64>,
    JsonBody(b): JsonBody<RuleBody>,
) -> Result<StatusCode, ApiError> {
    let done = app.store.set_two_factor_rule(id, b.two_factor).await?;
    app.store.audit(&actor, "set_two_factor", Some(&format!("tenant:{id}")), done).await?;
    if done { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::not_found(format!("no tenant {id}"))) }
}
