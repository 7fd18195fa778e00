//! Handling notes over HTTP (issue 16, ADR 0017): only the supervisors of the
//! municipality whose desk wrote a note read it (not the centre's admins), each read
//! audited; the daily report says which consultations have one and, asked to, carries
//! them. Notes are never in statistics or shared reports.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use schemars::JsonSchema;
use serde::Serialize;

use super::error::{ApiError, PathOf};
use super::who::Reader;
use crate::app::App;
use crate::reports::{DailyReport, Period};

/// The route.
pub(crate) fn routes() -> Router<App> {
    Router::new().route("/api/call-records/{id}/note", get(read))
}

/// A note as its reader gets it.
#[derive(Serialize, JsonSchema)]
pub(crate) struct NoteOut {
    /// The call record.
    pub record: i64,
    /// When it was written, ms since the epoch.
    pub written_at: i64,
    /// The text.
    pub note: String,
}

/// The municipality whose notes `reader` may read: a supervisor's own; admins none.
fn reads_notes_of(reader: Reader) -> Result<i64, ApiError> {
    reader.scope.ok_or_else(|| ApiError::forbidden("handling notes are for the municipality's own supervisors"))
}

/// `GET /api/call-records/{id}/note`: audited, read or refused.
async fn read(State(app): State<App>, reader: Reader, PathOf(id): PathOf<i64>) -> Result<Json<NoteOut>, ApiError> {
    let actor = format!("staff:{}", reader.id);
    let target = format!("call_record:{id}");
    let tenant = reads_notes_of(reader)?;
    let Some(sealed) = app.store.note(id).await?.filter(|n| n.tenant == tenant) else {
        app.store.audit_for(Some(tenant), &actor, "read_note", Some(&target), false).await?;
        return Err(ApiError::not_found(format!("no handling note on record {id} of your municipality")));
    };
    let note = app.notes.open(tenant, &sealed.sealed).map_err(ApiError::internal)?;
    app.store.audit_for(Some(tenant), &actor, "read_note", Some(&target), true).await?;
    Ok(Json(NoteOut { record: id, written_at: sealed.written_at, note }))
}

/// Mark the daily report's consultations that have a note of the municipality's desks
/// (for its own supervisors), and put the notes in when asked (each read audited).
pub(super) async fn into_daily(
    app: &App,
    reader: Reader,
    report: &mut DailyReport,
    day: Period,
    include: bool,
) -> Result<(), ApiError> {
    let own = reader.scope == Some(report.municipality);
    if include && !own {
        return Err(ApiError::forbidden("handling notes are for the municipality's own supervisors"));
    }
    if !own {
        return Ok(());
    }
    let tenant = report.municipality;
    let noted = app.store.noted_records(tenant, day.from, day.to).await?;
    for row in &mut report.rows {
        row.has_note = noted.contains(&row.record);
    }
    if !include {
        return Ok(());
    }
    let actor = format!("staff:{}", reader.id);
    for sealed in app.store.notes_between(tenant, day.from, day.to).await? {
        let text = app.notes.open(tenant, &sealed.sealed).map_err(ApiError::internal)?;
        app.store
            .audit_for(Some(tenant), &actor, "read_note", Some(&format!("call_record:{}", sealed.record)), true)
            .await?;
        if let Some(row) = report.rows.iter_mut().find(|r| r.record == sealed.record) {
            row.note = Some(text);
        }
    }
    report.notes_included = true;
    Ok(())
}
