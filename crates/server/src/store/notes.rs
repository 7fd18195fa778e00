//! Handling notes as stored (issue 16, ADR 0017): sealed text only (`crate::notes` seals
//! and opens), whether a municipality keeps them, and what its daily report may show.

use std::collections::HashSet;

use super::flag::Flag;
use super::{Store, StoreError, timed};

/// A sealed note and whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedNote {
    /// Its call record.
    pub record: i64,
    /// The municipality whose desk wrote it.
    pub tenant: i64,
    /// When, ms since the epoch.
    pub written_at: i64,
    /// The sealed form.
    pub sealed: String,
}

impl Store {
    /// Whether a municipality keeps handling notes.
    pub async fn handling_notes(&self, tenant: i64) -> Result<bool, StoreError> {
        let on: Option<(Flag,)> = timed(
            sqlx::query_as("SELECT handling_notes FROM tenants WHERE id = $1").bind(tenant).fetch_optional(&self.pool),
        )
        .await?;
        Ok(on.is_some_and(|o| o.0.0))
    }

    /// A record's note.
    pub async fn note(&self, record: i64) -> Result<Option<SealedNote>, StoreError> {
        let row: Option<(i64, i64, i64, String)> = timed(
            sqlx::query_as("SELECT record_id, tenant_id, written_at, sealed FROM handling_notes WHERE record_id = $1")
                .bind(record)
                .fetch_optional(&self.pool),
        )
        .await?;
        Ok(row.map(|(record, tenant, written_at, sealed)| SealedNote { record, tenant, written_at, sealed }))
    }

    /// A municipality's notes on records requested in `[from, to)`.
    pub async fn notes_between(&self, tenant: i64, from: i64, to: i64) -> Result<Vec<SealedNote>, StoreError> {
        let rows: Vec<(i64, i64, i64, String)> = timed(
            sqlx::query_as(
                "SELECT n.record_id, n.tenant_id, n.written_at, n.sealed FROM handling_notes n \
                 JOIN call_records r ON r.id = n.record_id \
                 WHERE n.tenant_id = $1 AND r.requested_at >= $2 AND r.requested_at < $3 ORDER BY n.record_id",
            )
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(record, tenant, written_at, sealed)| SealedNote { record, tenant, written_at, sealed })
            .collect())
    }

    /// Which of a municipality's records requested in `[from, to)` have a note (not the
    /// notes: telling that one exists reads none).
    pub async fn noted_records(&self, tenant: i64, from: i64, to: i64) -> Result<HashSet<i64>, StoreError> {
        let rows: Vec<(i64,)> = timed(
            sqlx::query_as(
                "SELECT n.record_id FROM handling_notes n JOIN call_records r ON r.id = n.record_id \
                 WHERE n.tenant_id = $1 AND r.requested_at >= $2 AND r.requested_at < $3",
            )
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool),
        )
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}
