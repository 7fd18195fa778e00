//! Each municipality's centre calendar (issue 17), stored as its JSON document.

use super::directory::{json, to_json};
use super::{Store, StoreError, timed};
use crate::calendar::CalendarDoc;

impl Store {
    /// A municipality's calendar: `Some(None)` when it has none set yet, `None` when the
    /// municipality does not exist.
    pub async fn calendar(&self, tenant: i64) -> Result<Option<Option<CalendarDoc>>, StoreError> {
        let row: Option<(Option<String>,)> =
            timed(sqlx::query_as("SELECT calendar FROM tenants WHERE id = $1").bind(tenant).fetch_optional(&self.pool))
                .await?;
        row.map(|(text,)| text.map(|t| json("tenants", &t)).transpose()).transpose()
    }

    /// Set a municipality's calendar; whether it exists.
    pub async fn set_calendar(&self, tenant: i64, doc: &CalendarDoc) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query("UPDATE tenants SET calendar = $1 WHERE id = $2")
                .bind(to_json(doc))
                .bind(tenant)
                .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
