//! Rosters apart from the rest of a profile (issue 17): an interpreter reads theirs and
//! sets their own days off and extra hours (`/api/me/roster`), which their coordinators
//! see marked as theirs; a coordinator replaces the rest of the roster of an interpreter
//! who serves their municipality (`/api/interpreters/{id}/roster`), an admin anyone's.
//! Each changes its part of the roster as stored, compared and replaced at once, so an
//! interpreter's own days and a coordinator's hours changed at the same moment are both
//! kept. A roster change applies to the engine in any state: a call in progress goes on.

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
use crate::problem::{FieldProblem, Problem, Unit};

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
    /// The roster. Entries marked `own` are the interpreter's to change: those sent are
    /// ignored, and the interpreter's as stored kept (unless the roster is always on,
    /// which has no days).
    pub roster: RosterDoc,
}

/// Tries of a roster change, each after another change made meanwhile.
const TRIES: usize = 5;

async fn row_of(app: &App, id: i64) -> Result<InterpreterRow, ApiError> {
    let dir = app.store.directory().await?;
    dir.interpreters.into_iter().find(|i| i.id == id).ok_or_else(|| ApiError::not_found(format!("no interpreter {id}")))
}

/// Change `id`'s roster by `change` (given the roster as stored), apply it to the engine
/// and store it if the stored roster is still the one it changed, audited as `actor`'s
/// `action` (in `scope`'s log); when another change came meanwhile, `change` is made
/// again on that one. The roster stored.
async fn update(
    app: &App,
    id: i64,
    scope: Option<i64>,
    (actor, action): (&str, &str),
    change: impl Fn(RosterDoc) -> Result<RosterDoc, ApiError>,
) -> Result<RosterDoc, ApiError> {
    for _ in 0..TRIES {
        let Some((stored, text)) = app.store.stored_roster(id).await? else {
            return Err(ApiError::not_found(format!("no interpreter {id}")));
        };
        let roster = change(stored)?;
        roster.to_roster()?;
        // Applied before it is stored: the change stored last was also applied last
        // (its read, and so its application, came after the store before it).
        app.router.directory(DirectoryEdit::Roster { id, roster: roster.clone() }).await.map_err(|e| match e.code {
            p::ErrorCode::ShuttingDown => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code, e.message),
            _ => ApiError::conflict(e.code, e.message),
        })?;
        if app.store.replace_roster(id, &text, &roster).await? {
            app.store.audit_for(scope, actor, action, Some(&format!("interpreter:{id}")), true).await?;
            return Ok(roster);
        }
    }
    Err(ApiError::conflict(p::ErrorCode::NotAllowed, "the roster kept changing meanwhile: try again"))
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
        return Err(ApiError::invalid("off", Problem::at_most(OWN_DAYS_MAX as u64, Unit::Entries)));
    }
    // Checked alone first, so that a problem names the entry as sent.
    let alone = RosterDoc {
        time_zone: Some("UTC".into()),
        off: own.off.clone(),
        extra: own.extra.clone(),
        ..RosterDoc::default()
    };
    alone.to_roster().map_err(|e| FieldProblem { field: e.field.trim_start_matches("roster.").into(), ..e })?;
    own.off.iter_mut().for_each(|o| o.own = true);
    own.extra.iter_mut().for_each(|x| x.own = true);
    let actor = format!("interpreter:{id}");
    let roster = update(&app, id, None, (&actor, "set_own_days"), |mut roster| {
        if roster.always {
            return Err(ApiError::conflict(
                p::ErrorCode::InvalidField,
                "your roster is always on: ask your coordinator to set your hours before taking days off",
            ));
        }
        roster.off.retain(|o| !o.own);
        roster.extra.retain(|x| !x.own);
        roster.off.extend(own.off.iter().cloned());
        roster.extra.extend(own.extra.iter().cloned());
        Ok(roster)
    })
    .await?;
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
    let actor = format!("staff:{}", reader.id);
    update(&app, id, reader.scope, (&actor, "set_roster"), |stored| {
        let mut roster = body.roster.clone();
        roster.off.retain(|o| !o.own);
        roster.extra.retain(|x| !x.own);
        // Always on has no days: the interpreter's own go with the coordinator's.
        if !roster.always {
            roster.off.extend(stored.off.into_iter().filter(|o| o.own));
            roster.extra.extend(stored.extra.into_iter().filter(|x| x.own));
        }
        Ok(roster)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
