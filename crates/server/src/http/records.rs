//! Call records over HTTP: a supervisor's tenant's, an admin's of every tenant. No names,
//! numbers or content: ids, languages, tiers, times, outcomes and media quality.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::error::ApiError;
use super::who::Reader;
use crate::app::App;

/// A call record as the API lists it.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct RecordOut {
    id: i64,
    tenant: i64,
    desk: i64,
    language: String,
    speciality: Option<String>,
    modality: String,
    tier: Option<String>,
    interpreter: Option<i64>,
    requested_at: i64,
    offered_at: Option<i64>,
    answered_at: Option<i64>,
    ended_at: i64,
    offers: i64,
    outcome: &'static str,
    desk_outcome: Option<String>,
    /// Fraction of media packets lost, all legs and directions.
    loss: Option<f64>,
    /// Mean round-trip time relay ↔ participants, ms.
    rtt_ms: Option<f64>,
    /// Media reconnections.
    reconnects: Option<i64>,
    /// Residents who joined by link.
    remote_residents: i64,
    /// Guests who joined by link.
    guests: i64,
    /// Phone legs that joined (never their numbers).
    phones: i64,
    /// How the resident took part: `counter`, `remote` (by link) or `phone`.
    mode: &'static str,
    /// What the consultation was about (topic codes), as the desk recorded it.
    topics: Vec<String>,
    /// The municipality (tenant id) the consultation counts for: the resident's, as the
    /// desk recorded it, else the desk's.
    residence: i64,
    /// Where the resident was referred (a partner id), when the desk said.
    referral: Option<i64>,
}

/// Call records of the supervisor's tenant (an admin sees all).
pub(super) async fn call_records(
    State(app): State<App>,
    reader: Reader,
    since: Result<axum::extract::Query<super::clients::Since>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<RecordOut>>, ApiError> {
    let since = super::clients::since(since)?;
    let rows = app.store.call_records_since(reader.scope, since).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| RecordOut {
                mode: r.mode().as_str(),
                residence: r.residence(),
                id: r.id,
                tenant: r.tenant_id,
                desk: r.desk_id,
                language: r.language,
                speciality: r.speciality,
                modality: r.modality,
                tier: r.tier,
                interpreter: r.interpreter_id,
                requested_at: r.requested_at,
                offered_at: r.offered_at,
                answered_at: r.answered_at,
                ended_at: r.ended_at,
                offers: r.offers,
                outcome: r.outcome.as_str(),
                desk_outcome: r.desk_outcome,
                loss: r.loss,
                rtt_ms: r.rtt_ms,
                reconnects: r.reconnects,
                remote_residents: r.remote_residents,
                guests: r.guests,
                phones: r.phones,
                topics: r.topics,
                referral: r.referral_id,
            })
            .collect(),
    ))
}
