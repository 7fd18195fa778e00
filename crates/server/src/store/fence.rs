//! The writer's fence at PostgreSQL (ADR 0020): the highest token of the writer's lease
//! the database has accepted, in a one-row table. A node that wins the lease raises it to
//! its token before it writes ([`Store::take_fence`]); each of its record writes then
//! reads it under a shared row lock in the same transaction ([`Store::check_fence`]) and is
//! refused when a newer writer has raised it. A newer writer's raise waits for the older
//! writer's open transactions (the shared locks) and every later one of the older writer
//! sees the raise: no write of a deposed writer lands after its successor took over, and
//! the writer's own writes do not queue behind each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

use super::{Backend, Store, StoreError, timed};

/// A writer's token, and how it tells its node it was deposed.
#[derive(Clone, Debug)]
pub(crate) struct Fence {
    /// Shared by every clone of the store: raised in place when the lease is granted again.
    token: Arc<AtomicU64>,
    deposed: Arc<Notify>,
}

/// A token as the database holds it (`BIGINT`).
fn as_db(token: u64) -> i64 {
    i64::try_from(token).unwrap_or(i64::MAX)
}

impl Store {
    /// The highest writer token the database has accepted: the floor of the next claim.
    pub async fn fence_floor(&self) -> Result<u64, StoreError> {
        let sql = "SELECT token FROM writer_fence WHERE id = 1";
        let token: i64 = timed(sqlx::query_scalar(sql).fetch_one(&self.pool)).await?;
        Ok(u64::try_from(token).unwrap_or(0))
    }

    /// Raise the fence to `token`, a grant of the writer's lease: the store this node
    /// writes with from now on, every record write checked against it, and what wakes
    /// when a write is refused. `None` when the database has accepted a newer token (this
    /// grant is already stale).
    pub async fn take_fence(&self, token: u64) -> Result<Option<(Store, Arc<Notify>)>, StoreError> {
        let sql = "UPDATE writer_fence SET token = $1 WHERE id = 1 AND token <= $1";
        let raised = timed(sqlx::query(sql).bind(as_db(token)).execute(&self.pool)).await?;
        if raised.rows_affected() != 1 {
            return Ok(None);
        }
        let deposed = Arc::new(Notify::new());
        let fence = Fence { token: Arc::new(AtomicU64::new(token)), deposed: deposed.clone() };
        Ok(Some((Store { fence: Some(fence), ..self.clone() }, deposed)))
    }

    /// A writer's lease granted again with a higher `token` (Redis lost it): raise the
    /// fence to it, for this store and every clone of it. False when the database has
    /// accepted a newer writer meanwhile, or this store has no fence.
    pub async fn raise_fence(&self, token: u64) -> Result<bool, StoreError> {
        let Some(fence) = &self.fence else { return Ok(false) };
        let sql = "UPDATE writer_fence SET token = $1 WHERE id = 1 AND token <= $1";
        let raised = timed(sqlx::query(sql).bind(as_db(token)).execute(&self.pool)).await?;
        if raised.rows_affected() != 1 {
            return Ok(false);
        }
        fence.token.fetch_max(token, Ordering::SeqCst);
        Ok(true)
    }

    /// Inside a write transaction of a fenced store: go on only while the fence is still
    /// this writer's token. A single node's store has no fence and always goes on.
    pub(crate) async fn check_fence(&self, tx: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        let Some(fence) = &self.fence else { return Ok(()) };
        // SQLite has no row locks; a fence is only ever taken on PostgreSQL (cluster mode
        // requires it), where FOR SHARE lets the writer's transactions run side by side.
        let sql = match self.backend {
            Backend::Postgres => "SELECT token FROM writer_fence WHERE id = 1 FOR SHARE",
            Backend::Sqlite => "SELECT token FROM writer_fence WHERE id = 1",
        };
        let seen: i64 = timed(sqlx::query_scalar(sql).fetch_one(&mut *tx)).await?;
        let ours = fence.token.load(Ordering::SeqCst);
        if seen > as_db(ours) {
            fence.deposed.notify_one();
            return Err(StoreError::Fenced { ours, newer: u64::try_from(seen).unwrap_or(0) });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CallRecord;

    fn record() -> CallRecord {
        crate::store::records::abandoned(1, 1)
    }

    #[tokio::test]
    async fn a_deposed_writer_is_refused_and_told() {
        let dir = std::env::temp_dir().join(format!("kakehashi-fence-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).await.unwrap();
        assert_eq!(store.fence_floor().await.unwrap(), 0);
        let (old, old_deposed) = store.take_fence(5).await.unwrap().expect("the first writer");
        old.insert_call_record_once(&record(), "a").await.unwrap();
        assert_eq!(store.fence_floor().await.unwrap(), 5);
        let (new, _) = store.take_fence(7).await.unwrap().expect("a newer writer");
        assert!(store.take_fence(6).await.unwrap().is_none(), "a stale grant is refused");
        let told = old_deposed.notified();
        match old.insert_call_record_once(&record(), "b").await {
            Err(StoreError::Fenced { ours: 5, newer: 7 }) => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
        told.await;
        new.insert_call_record_once(&record(), "c").await.unwrap();
        // Granted again with a higher token: every clone of the writer's store follows.
        let clone = new.clone();
        assert!(new.raise_fence(9).await.unwrap());
        clone.insert_call_record_once(&record(), "d").await.unwrap();
        assert!(!old.raise_fence(8).await.unwrap(), "below the fence");
        assert!(!store.raise_fence(10).await.unwrap(), "a store without a fence raises nothing");
        assert_eq!(store.call_records(None).await.unwrap().len(), 3, "the deposed writer's record is not there");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
