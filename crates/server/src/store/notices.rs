//! Coordinators' notices to interpreters as stored (issue 17): a municipality's, or the
//! whole centre's; kept [`NOTICE_DAYS`] days.

use super::{Store, StoreError, timed};

/// How long a notice is kept.
pub const NOTICE_DAYS: i64 = 90;

/// A notice as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Its number.
    pub id: i64,
    /// The municipality it is from; `None`: the whole centre.
    pub tenant: Option<i64>,
    /// The text.
    pub text: String,
    /// When it was sent, ms since the epoch.
    pub created_ms: i64,
}

impl Store {
    /// Store a notice; its number.
    pub async fn add_notice(&self, tenant: Option<i64>, text: &str, by: &str, now_ms: i64) -> Result<i64, StoreError> {
        let r = timed(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO notices (tenant_id, text, created_ms, created_by) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(tenant)
            .bind(text)
            .bind(now_ms)
            .bind(by)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(r)
    }

    /// Notices since `since_ms`, newest first: the whole centre's and those of `tenants`
    /// (every municipality's when `None`), at most 100.
    pub async fn notices(&self, tenants: Option<&[i64]>, since_ms: i64) -> Result<Vec<Notice>, StoreError> {
        let rows: Vec<(i64, Option<i64>, String, i64)> = timed(
            sqlx::query_as(
                "SELECT id, tenant_id, text, created_ms FROM notices WHERE created_ms >= $1 \
                 ORDER BY created_ms DESC, id DESC LIMIT 500",
            )
            .bind(since_ms)
            .fetch_all(&self.pool),
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter(|r| match (tenants, r.1) {
                (None, _) | (_, None) => true,
                (Some(ts), Some(t)) => ts.contains(&t),
            })
            .take(100)
            .map(|(id, tenant, text, created_ms)| Notice { id, tenant, text, created_ms })
            .collect())
    }
}
