//! Retention (issue 16): how long each municipality keeps its call records and its audit
//! entries, the purge that deletes what is older, and the audit log as admins read it.
//! Audit entries that concern no one municipality (the centre's own) are kept as long as
//! the longest any municipality asks for.

use super::flag::Flag;
use super::{Store, StoreError, now_ms, timed};

/// A municipality's retention, days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Call records, 30 to 7300 days (default five years).
    #[schemars(range(min = 30, max = 7300))]
    pub records_days: u32,
    /// Audit entries about the municipality, 30 to 7300 days.
    #[schemars(range(min = 30, max = 7300))]
    pub audit_days: u32,
    /// Whether its desks may write handling notes (off by default; ADR 0017).
    pub handling_notes: bool,
    /// Handling notes, 30 to 7300 days (default one year).
    #[schemars(range(min = 30, max = 7300))]
    pub notes_days: u32,
}

/// What a purge deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Call records.
    pub records: u64,
    /// Handling notes (besides those gone with their records) and bookings' intake notes.
    pub notes: u64,
    /// Audit entries.
    pub audit: u64,
}

/// An audit entry as admins read it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct AuditEntry {
    /// Its number.
    pub id: i64,
    /// When, ms since the epoch.
    pub at: i64,
    /// Who: a role and an id (`staff:3`, `desk:2`, `system`), never a name.
    pub actor: String,
    /// What they did.
    pub action: String,
    /// To what (`call_record:12`, `partner:3`).
    pub target: Option<String>,
    /// Whether it was allowed and done.
    pub ok: bool,
    /// The municipality it concerns, when one.
    pub tenant: Option<i64>,
}

const DAY_MS: i64 = 86_400_000;

impl Store {
    /// A municipality's retention; `None` when it does not exist.
    pub async fn retention(&self, tenant: i64) -> Result<Option<Retention>, StoreError> {
        let row: Option<(i64, i64, Flag, i64)> = timed(
            sqlx::query_as(
                "SELECT retain_records_days, retain_audit_days, handling_notes, retain_notes_days FROM tenants WHERE id = $1",
            )
                .bind(tenant)
                .fetch_optional(&self.pool),
        )
        .await?;
        let days = |v: i64| {
            u32::try_from(v).map_err(|_| StoreError::Corrupt { table: "tenants", problem: format!("retention {v}") })
        };
        row.map(|(r, a, handling_notes, n)| {
            Ok(Retention {
                records_days: days(r)?,
                audit_days: days(a)?,
                handling_notes: handling_notes.0,
                notes_days: days(n)?,
            })
        })
        .transpose()
    }

    /// Set a municipality's retention. Returns whether it exists; days out of range are
    /// [`super::Constraint::Check`].
    pub async fn set_retention(&self, tenant: i64, r: Retention) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query(
                "UPDATE tenants SET retain_records_days = $1, retain_audit_days = $2, handling_notes = $3, \
                 retain_notes_days = $4 WHERE id = $5",
            )
            .bind(i64::from(r.records_days))
            .bind(i64::from(r.audit_days))
            .bind(r.handling_notes)
            .bind(i64::from(r.notes_days))
            .bind(tenant)
            .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Delete what every municipality's retention no longer keeps, as of `now` (ms), in
    /// one transaction.
    pub async fn purge(&self, now: i64) -> Result<Purged, StoreError> {
        let tenants: Vec<(i64, i64, i64, i64)> = timed(
            sqlx::query_as("SELECT id, retain_records_days, retain_audit_days, retain_notes_days FROM tenants")
                .fetch_all(&self.pool),
        )
        .await?;
        let mut tx = timed(self.pool.begin()).await?;
        let mut purged = Purged::default();
        for (tenant, records_days, audit_days, notes_days) in &tenants {
            let done = timed(
                sqlx::query("DELETE FROM handling_notes WHERE tenant_id = $1 AND written_at < $2")
                    .bind(tenant)
                    .bind(now - notes_days * DAY_MS)
                    .execute(&mut *tx),
            )
            .await?;
            purged.notes += done.rows_affected();
            // Bookings' intake notes go with the notes, counted from the slot's end; the
            // bookings themselves with the records.
            let done = timed(
                sqlx::query(
                    "UPDATE bookings SET intake_sealed = NULL \
                     WHERE tenant_id = $1 AND end_ms < $2 AND intake_sealed IS NOT NULL",
                )
                .bind(tenant)
                .bind(now - notes_days * DAY_MS)
                .execute(&mut *tx),
            )
            .await?;
            purged.notes += done.rows_affected();
            timed(
                sqlx::query("DELETE FROM bookings WHERE tenant_id = $1 AND end_ms < $2")
                    .bind(tenant)
                    .bind(now - records_days * DAY_MS)
                    .execute(&mut *tx),
            )
            .await?;
            let done = timed(
                sqlx::query("DELETE FROM call_records WHERE tenant_id = $1 AND requested_at < $2")
                    .bind(tenant)
                    .bind(now - records_days * DAY_MS)
                    .execute(&mut *tx),
            )
            .await?;
            purged.records += done.rows_affected();
            let done = timed(
                sqlx::query("DELETE FROM audit_log WHERE tenant_id = $1 AND at < $2")
                    .bind(tenant)
                    .bind(now - audit_days * DAY_MS)
                    .execute(&mut *tx),
            )
            .await?;
            purged.audit += done.rows_affected();
        }
        if let Some(longest) = tenants.iter().map(|t| t.2).max() {
            let done = timed(
                sqlx::query("DELETE FROM audit_log WHERE tenant_id IS NULL AND at < $1")
                    .bind(now - longest * DAY_MS)
                    .execute(&mut *tx),
            )
            .await?;
            purged.audit += done.rows_affected();
        }
        timed(
            sqlx::query("DELETE FROM notices WHERE created_ms < $1")
                .bind(now - super::NOTICE_DAYS * DAY_MS)
                .execute(&mut *tx),
        )
        .await?;
        timed(tx.commit()).await?;
        Ok(purged)
    }

    /// Append to the audit log an entry that concerns `tenant`.
    pub async fn audit_for(
        &self,
        tenant: Option<i64>,
        actor: &str,
        action: &str,
        target: Option<&str>,
        ok: bool,
    ) -> Result<(), StoreError> {
        timed(
            sqlx::query(
                "INSERT INTO audit_log (at, actor, action, target, ok, tenant_id) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(now_ms())
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(ok)
            .bind(tenant)
            .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    /// Audit entries from `since` (ms), newest first, at most `limit`; of one
    /// municipality, or all.
    pub async fn audit_entries(
        &self,
        tenant: Option<i64>,
        since: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        type Row = (i64, i64, String, String, Option<String>, Flag, Option<i64>);
        let rows: Vec<Row> = timed(
            sqlx::query_as(
                "SELECT id, at, actor, action, target, ok, tenant_id FROM audit_log \
                 WHERE at >= $1 AND ($2 IS NULL OR tenant_id = $2) ORDER BY id DESC LIMIT $3",
            )
            .bind(since)
            .bind(tenant)
            .bind(i64::from(limit))
            .fetch_all(&self.pool),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, at, actor, action, target, ok, tenant)| AuditEntry {
                id,
                at,
                actor,
                action,
                target,
                ok: ok.0,
                tenant,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::abandoned as record;

    #[tokio::test]
    async fn each_municipality_keeps_what_it_asks_for_and_no_longer() {
        let dir = std::env::temp_dir().join(format!("kakehashi-store-retention-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).await.unwrap();
        let a = store.insert_tenant("A", 10, "Asia/Tokyo").await.unwrap();
        let b = store.insert_tenant("B", 10, "Asia/Tokyo").await.unwrap();
        let default = Retention { records_days: 1825, audit_days: 1825, handling_notes: false, notes_days: 365 };
        assert_eq!(store.retention(a).await.unwrap(), Some(default));
        let b_keeps = Retention { records_days: 365, audit_days: 90, ..default };
        assert!(store.set_retention(b, b_keeps).await.unwrap());
        assert!(store.set_retention(b, Retention { records_days: 10, ..b_keeps }).await.is_err(), "30 days at least");
        assert!(!store.set_retention(99, b_keeps).await.unwrap());
        let now = 4_000 * DAY_MS;
        let days_ago = |d: i64| now - d * DAY_MS;
        store
            .import_call_records(&[
                record(a, days_ago(1000)),
                record(a, days_ago(2000)),
                record(b, days_ago(100)),
                record(b, days_ago(400)),
            ])
            .await
            .unwrap();
        store.audit_for(Some(b), "staff:1", "x", None, true).await.unwrap();
        let purged = store.purge(now).await.unwrap();
        assert_eq!(purged.records, 2, "A's 2000-day-old one and B's 400-day-old one");
        let left: Vec<i64> = store.call_records(None).await.unwrap().iter().map(|r| now - r.requested_at).collect();
        assert_eq!(left, vec![1000 * DAY_MS, 100 * DAY_MS]);
        assert_eq!(purged.audit, 0, "the entry written now is kept");
        let later = now_ms() + 91 * DAY_MS;
        assert_eq!(store.purge(later).await.unwrap().audit, 1, "B keeps its audit entries 90 days");
        assert!(store.audit_entries(None, 0, 10).await.unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
