//! Rosters apart from the rest of a profile (issue 17): an interpreter reads theirs and
//! sets their own days off and extra hours (`/api/me/roster`), which their coordinators
//! see marked as theirs; a coordinator replaces the roster of an interpreter who serves
//! their municipality (`/api/interpreters/{id}/roster`), an admin anyone's. A roster
//! change applies to the engine in any state: a call in progress goes on.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::body::JsonBody;
use super::error::{ApiError, PathOf};
use super::who::{Interpreter, Reader};
use crate::app::App;
use crate::cluster::DirectoryEdit;
use crate::directory::{ExtraDoc, InterpreterRow, OffDoc, RosterDoc};

/// Days off and extra windows one interpreter may keep of their own.
pub(crate) const OWN_DAYS_MAX: usize = 100;

/// The routes.
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/me/roster", get(mine).put(set_own_days))
        .route("/api/interpreters/{id}/roster", put(set_roster))
}

/// An interpreter's roster as they see it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct MyRoster {
    /// The whole roster; entries with `own` are theirs to change.
    pub roster: RosterDoc,
}

/// An interpreter's own days off and extra hours: they replace every entry marked `own`
/// (a coordinator's entries stay).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OwnDays {
    /// Days off (inclusive ranges), at most 100 with the extras.
    #[serde(default)]
    pub off: Vec<OffDoc>,
    /// Extra windows they offer, at most 100 with the days off.
    #[serde(default)]
    pub extra: Vec<ExtraDoc>,
}

/// A coordinator's roster for an interpreter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RosterBody {
    /// The roster; entries marked `own` are kept as the interpreter's.
    pub roster: RosterDoc,
}

async fn row_of(app: &App, id: i64) -> Result<InterpreterRow, ApiError> {
    let dir = app.store.directory().await?;
    dir.interpreters.into_iter().find(|i| i.id == id).ok_or_else(|| ApiError::not_found(format!("no interpreter {id}")))
}

/// Store and apply `roster` for `id`, audited as `actor`'s `action` (in `scope`'s log).
async fn save(
    app: &App,
    id: i64,
    roster: RosterDoc,
    scope: Option<i64>,
    actor: &str,
    action: &str,
) -> Result<(), ApiError> {
    roster.to_roster().map_err(|e| ApiError::invalid(&e.field, e.problem))?;
    app.router.directory(DirectoryEdit::Roster { id, roster: roster.clone() }).await.map_err(|e| match e.code {
        p::ErrorCode::ShuttingDown => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code, e.message),
        _ => ApiError::conflict(e.code, e.message),
    })?;
    if !app.store.set_roster(id, &roster).await? {
        return Err(ApiError::not_found(format!("no interpreter {id}")));
    }
    app.store.audit_for(scope, actor, action, Some(&format!("interpreter:{id}")), true).await?;
    Ok(())
}

/// `GET /api/me/roster`.
async fn mine(State(app): State<App>, Interpreter(id): Interpreter) -> Result<Json<MyRoster>, ApiError> {
    Ok(Json(MyRoster { roster: row_of(&app, id).await?.roster }))
}

/// `PUT /api/me/roster`: the interpreter's own days off and extra hours.
async fn set_own_days(
    State(app): State<App>,
    Interpreter(id): Interpreter,
    JsonBody(mut own): JsonBody<OwnDays>,
) -> Result<Json<MyRoster>, ApiError> {
    if own.off.len() + own.extra.len() > OWN_DAYS_MAX {
        return Err(ApiError::invalid("off", format!("at most {OWN_DAYS_MAX} days off and extra windows together")));
    }
    // Checked alone first, so that a problem names the entry as sent.
    let alone = RosterDoc {
        time_zone: Some("UTC".into()),
        off: own.off.clone(),
        extra: own.extra.clone(),
        ..RosterDoc::default()
    };
    alone.to_roster().map_err(|e| ApiError::invalid(e.field.trim_start_matches("roster."), e.problem))?;
    let mut roster = row_of(&app, id).await?.roster;
    if roster.always {
        return Err(ApiError::conflict(
            p::ErrorCode::InvalidField,
            "your roster is always on: ask your coordinator to set your hours before taking days off",
        ));
    }
    own.off.iter_mut().for_each(|o| o.own = true);
    own.extra.iter_mut().for_each(|x| x.own = true);
    roster.off.retain(|o| !o.own);
    roster.extra.retain(|x| !x.own);
    roster.off.extend(own.off);
    roster.extra.extend(own.extra);
    save(&app, id, roster.clone(), None, &format!("interpreter:{id}"), "set_own_days").await?;
    Ok(Json(MyRoster { roster }))
}

/// `PUT /api/interpreters/{id}/roster`: a coordinator's calendar for an interpreter who
/// serves their municipality (an admin: anyone).
async fn set_roster(
    State(app): State<App>,
    reader: Reader,
    PathOf(id): PathOf<i64>,
    JsonBody(body): JsonBody<RosterBody>,
) -> Result<StatusCode, ApiError> {
    let row = row_of(&app, id).await?;
    if reader.scope.is_some_and(|s| !row.tenants.contains(&s)) {
        return Err(ApiError::not_found(format!("no interpreter {id} serving your municipality")));
    }
    save(&app, id, body.roster, reader.scope, &format!("staff:{}", reader.id), "set_roster").await?;
    Ok(StatusCode::NO_CONTENT)
}
