//! Credentials over HTTP: a desk enrols once with its code; interpreters and staff sign
//! in with a password (through the guard) and out. Signing out ends the session's live
//! connections too.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::ApiError;
use super::who::bearer;
use crate::app::{App, ClientAddr};
use crate::auth::{Attempt, AuthError};
use crate::store::AccountKind;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EnrolBody {
    code: String,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct Enrolled {
    desk: i64,
    tenant: i64,
    token: String,
}

/// `POST /api/enrol`: a desk's one-time code for its device token. Failed codes count
/// against the address's attempts.
pub(super) async fn enrol(
    State(app): State<App>,
    from: ClientAddr,
    JsonBody(b): JsonBody<EnrolBody>,
) -> Result<Json<Enrolled>, ApiError> {
    let (ip, now) = (from.or_unspecified(), tokio::time::Instant::now());
    if !app.guard.allowed(ip, now) {
        return Err(AuthError::Throttled.into());
    }
    match crate::auth::enrol_desk(&app.store, b.code.trim()).await {
        Ok((desk, tenant, token)) => Ok(Json(Enrolled { desk, tenant, token })),
        Err(AuthError::Refused) => {
            let _ = app.guard.spend(ip, now);
            Err(AuthError::Refused.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(super) enum Role {
    Interpreter,
    Staff,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SignInBody {
    role: Role,
    login: String,
    password: String,
    /// The code from the authenticator app, or a recovery code.
    #[serde(default)]
    code: Option<String>,
}

#[derive(Serialize, JsonSchema)]
pub(super) struct SignedIn {
    token: String,
    /// The session may only set up two-factor sign-in (`/api/me/second-factor`), which
    /// the account must have before anything else.
    second_factor_setup: bool,
    /// Who signed in: `interpreter`, `supervisor` (one tenant) or `admin` (every tenant),
    /// so a page offers only what the role may do.
    role: SignedInRole,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum SignedInRole {
    Interpreter,
    Supervisor,
    Admin,
}

/// `POST /api/sign-in`.
pub(super) async fn sign_in(
    State(app): State<App>,
    from: ClientAddr,
    JsonBody(b): JsonBody<SignInBody>,
) -> Result<Json<SignedIn>, ApiError> {
    let kind = match b.role {
        Role::Staff => AccountKind::Staff,
        Role::Interpreter => AccountKind::Interpreter,
    };
    let attempt = Attempt { kind, login: &b.login, password: &b.password, code: b.code.as_deref() };
    let done =
        crate::auth::sign_in_from(&app.store, &app.guard, from.or_unspecified(), attempt, app.sign_in_terms()).await?;
    let role = match done.subject {
        crate::auth::Subject::Interpreter(_) => SignedInRole::Interpreter,
        crate::auth::Subject::Staff { admin: true, .. } => SignedInRole::Admin,
        crate::auth::Subject::Staff { .. } => SignedInRole::Supervisor,
    };
    Ok(Json(SignedIn { token: done.token, second_factor_setup: done.restricted, role }))
}

/// `POST /api/sign-out`: the token stops working at once, and connections opened with it
/// close.
pub(super) async fn sign_out(State(app): State<App>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or(AuthError::Refused)?;
    if !crate::auth::end_session(&app.store, token).await? {
        return Err(AuthError::Refused.into());
    }
    let _ = app.revocations.send(crate::auth::hash_token(token).into());
    Ok(StatusCode::NO_CONTENT)
}
