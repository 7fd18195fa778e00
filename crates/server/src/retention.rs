//! The retention purge, running by itself (issue 16): at start and then every hour, call
//! records, handling notes and audit entries older than their municipality's retention
//! are deleted
//! (`Store::purge`); each purge that deletes anything is logged and leaves an audit entry.

use std::time::Duration;

use crate::store::{Purged, Store, now_ms};

/// How often the purge runs.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Run the purge now and every `every` until the task is aborted.
pub fn spawn(store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            once(&store).await;
        }
    })
}

/// One purge, logged; `None` when the store failed (logged too; the next one retries).
pub async fn once(store: &Store) -> Option<Purged> {
    match store.purge(now_ms()).await {
        Ok(p) if p.records + p.notes + p.audit > 0 => {
            tracing::info!(
                records = p.records,
                notes = p.notes,
                audit = p.audit,
                "retention: purged what is past its keeping"
            );
            let what = format!("call_records:{} handling_notes:{} audit_entries:{}", p.records, p.notes, p.audit);
            if let Err(e) = store.audit("system", "retention_purge", Some(&what), true).await {
                tracing::error!(error = %e, "retention: the purge could not be audited");
            }
            Some(p)
        }
        Ok(p) => {
            tracing::debug!("retention: nothing past its keeping");
            Some(p)
        }
        Err(e) => {
            tracing::error!(error = %e, "retention: the purge failed; it runs again within the hour");
            None
        }
    }
}
