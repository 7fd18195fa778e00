//! Who is asking, as extractors: the bearer token read and checked once, and the role
//! check written once. A handler that takes [`Admin`] cannot run for anyone else.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::error::ApiError;
use crate::app::App;
use crate::auth::{AuthError, Subject};

/// The bearer token of a request.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// Who a full session belongs to; a restricted one (its account must set up a second
/// factor first) is refused.
async fn subject(parts: &Parts, app: &App) -> Result<Subject, ApiError> {
    let token = bearer(&parts.headers).ok_or(AuthError::Refused)?;
    let session = crate::auth::session(&app.store, token).await?;
    if session.restricted {
        return Err(AuthError::EnrolmentRequired.into());
    }
    Ok(session.subject)
}

/// Anyone signed in with a password, restricted sessions included: for setting up their
/// own second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Me {
    /// Whose session.
    pub subject: Subject,
    /// Whether it is restricted.
    pub restricted: bool,
}

impl FromRequestParts<App> for Me {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or(AuthError::Refused)?;
        let session = crate::auth::session(&app.store, token).await?;
        Ok(Me { subject: session.subject, restricted: session.restricted })
    }
}

/// A supervisor or an admin: what they may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reader {
    /// Their tenant; `None` for an admin (every tenant).
    pub scope: Option<i64>,
    /// Their staff id.
    pub id: i64,
}

impl Reader {
    /// Whether they may read this tenant's things.
    pub fn sees(&self, tenant: i64) -> bool {
        self.scope.is_none_or(|s| s == tenant)
    }
}

impl FromRequestParts<App> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        match subject(parts, app).await? {
            Subject::Staff { admin: true, id, .. } => Ok(Reader { scope: None, id }),
            Subject::Staff { tenant: Some(t), id, .. } => Ok(Reader { scope: Some(t), id }),
            _ => Err(ApiError::forbidden("supervisors and admins only")),
        }
    }
}

/// An admin, who may change the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    /// The actor for the audit log (`staff:<id>`).
    pub actor: String,
}

impl FromRequestParts<App> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        match subject(parts, app).await? {
            Subject::Staff { admin: true, id, .. } => Ok(Admin { actor: format!("staff:{id}") }),
            _ => Err(ApiError::forbidden("admins only")),
        }
    }
}

/// A signed-in interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interpreter(pub i64);

impl FromRequestParts<App> for Interpreter {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        match subject(parts, app).await? {
            Subject::Interpreter(id) => Ok(Interpreter(id)),
            _ => Err(ApiError::forbidden("interpreters only")),
        }
    }
}

/// An enrolled desk, by its device token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Desk {
    /// The desk.
    pub desk: i64,
    /// Its tenant.
    pub tenant: i64,
}

impl FromRequestParts<App> for Desk {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or(AuthError::Refused)?;
        let (desk, tenant) = crate::auth::desk_by_token(&app.store, token).await?;
        Ok(Desk { desk, tenant })
    }
}

/// Anyone with a credential: a supervisor or an admin, an interpreter (full sessions
/// only), or an enrolled desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anyone {
    /// A supervisor or an admin.
    Staff(Reader),
    /// An interpreter.
    Interpreter(i64),
    /// A desk.
    Desk(Desk),
}

impl FromRequestParts<App> for Anyone {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or(AuthError::Refused)?;
        match crate::auth::session(&app.store, token).await {
            Ok(s) if s.restricted => Err(AuthError::EnrolmentRequired.into()),
            Ok(s) => match s.subject {
                Subject::Staff { admin: true, id, .. } => Ok(Anyone::Staff(Reader { scope: None, id })),
                Subject::Staff { tenant: Some(t), id, .. } => Ok(Anyone::Staff(Reader { scope: Some(t), id })),
                Subject::Staff { .. } => Err(ApiError::forbidden("supervisors and admins only")),
                Subject::Interpreter(id) => Ok(Anyone::Interpreter(id)),
            },
            Err(AuthError::Refused) => {
                let (desk, tenant) = crate::auth::desk_by_token(&app.store, token).await?;
                Ok(Anyone::Desk(Desk { desk, tenant }))
            }
            Err(e) => Err(e.into()),
        }
    }
}
