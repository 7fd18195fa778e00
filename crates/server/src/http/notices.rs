//! Coordinators' notices to interpreters (issue 17): Funabashi shares changing information
//! by mailing list; here a municipality's supervisor sends a short text to the
//! interpreters who serve it (an admin: to every interpreter, or to one municipality's).
//! It is stored, pushed to the consoles connected now (`notice`), and listed for 30 days
//! on every console (`GET /api/notices`); audited. Kept 90 days.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::admin::IdOut;
use super::body::JsonBody;
use super::error::ApiError;
use super::who::Anyone;
use crate::app::App;
use crate::problem::{Problem, ProblemCode, Unit};
use crate::store::now_ms;

/// The longest notice, in characters.
pub(crate) const NOTICE_CHARS: usize = 500;
/// How far back consoles list notices.
const LISTED_DAYS: i64 = 30;

/// The routes.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/notices", get(list).post(send))
}

/// A notice to send.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoticeIn {
    /// The text, 1 to 500 characters.
    #[schemars(length(min = 1, max = 500))]
    pub text: String,
    /// The municipality whose interpreters are told (a supervisor's own when absent; an
    /// admin's: every interpreter when absent).
    #[serde(default)]
    pub tenant: Option<i64>,
}

/// A notice as listed.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NoticeOut {
    /// Its number.
    pub id: i64,
    /// Who sent it: the municipality's name, or the centre's ("center").
    pub from: String,
    /// Its municipality; none: the whole centre.
    pub tenant: Option<i64>,
    /// The text.
    pub text: String,
    /// When it was sent (RFC 3339).
    pub at: String,
}

fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

/// The sender's name as interpreters read it.
fn from_name(dir: &crate::directory::Directory, tenant: Option<i64>) -> String {
    tenant.and_then(|t| dir.tenants.iter().find(|x| x.id == t)).map_or_else(|| "center".to_string(), |t| t.name.clone())
}

/// `POST /api/notices`.
async fn send(
    State(app): State<App>,
    who: Anyone,
    JsonBody(b): JsonBody<NoticeIn>,
) -> Result<(StatusCode, Json<IdOut>), ApiError> {
    let Anyone::Staff(reader) = who else { return Err(ApiError::forbidden("coordinators send notices")) };
    let tenant = match (reader.scope, b.tenant) {
        (Some(own), Some(t)) if t != own => return Err(ApiError::forbidden("another municipality's interpreters")),
        (Some(own), _) => Some(own),
        (None, t) => t,
    };
    let text = b.text.trim();
    if text.is_empty() || text.chars().count() > NOTICE_CHARS {
        return Err(ApiError::invalid("text", Problem::range(1, NOTICE_CHARS as u64, Unit::Characters)));
    }
    let dir = app.store.directory().await?;
    if let Some(t) = tenant
        && !dir.tenants.iter().any(|x| x.id == t)
    {
        return Err(ApiError::invalid("tenant", ProblemCode::Unknown));
    }
    let now = now_ms();
    let actor = format!("staff:{}", reader.id);
    let id = app.store.add_notice(tenant, text, &actor, now).await?;
    let to = dir.interpreters.iter().filter(|i| tenant.is_none_or(|t| i.tenants.contains(&t))).map(|i| i.id).collect();
    let event =
        p::InterpreterEvent::Notice { id, from: from_name(&dir, tenant), text: text.to_string(), at: rfc3339(now) };
    app.router.notice(to, event).await;
    app.store.audit_for(tenant, &actor, "send_notice", Some(&format!("notice:{id}")), true).await?;
    Ok((StatusCode::CREATED, Json(IdOut { id })))
}

/// `GET /api/notices`: an interpreter's (the whole centre's and their municipalities'),
/// a supervisor's municipality's, or every one for an admin; the last 30 days.
async fn list(State(app): State<App>, who: Anyone) -> Result<Json<Vec<NoticeOut>>, ApiError> {
    let dir = app.store.directory().await?;
    let tenants: Option<Vec<i64>> = match who {
        Anyone::Interpreter(i) => {
            Some(dir.interpreters.iter().find(|x| x.id == i).map(|x| x.tenants.clone()).unwrap_or_default())
        }
        Anyone::Staff(r) => r.scope.map(|s| vec![s]),
        Anyone::Desk(_) => return Err(ApiError::forbidden("notices are for interpreters and coordinators")),
    };
    let notices = app.store.notices(tenants.as_deref(), now_ms() - LISTED_DAYS * 86_400_000).await?;
    Ok(Json(
        notices
            .into_iter()
            .map(|n| NoticeOut {
                id: n.id,
                from: from_name(&dir, n.tenant),
                tenant: n.tenant,
                text: n.text,
                at: rfc3339(n.created_ms),
            })
            .collect(),
    ))
}
