//! Record writes, tracked so that the hub waits for them before it stops (each store
//! call is bounded by the store's timeout). What follows a record (the events that say a
//! request ended) is delivered only once it is written.
//!
//! Call records are written by group commit: while one transaction is in flight, the
//! records that end meanwhile wait, and go together in the next (up to [`BATCH`]): one
//! commit (one fsync, one fence check) for all of them, so that a busy node's records
//! cost the database per transaction, not per record. A desk's outcome is a write of
//! its own.
//!
//! A write that fails for a passing reason (the database restarting, unreachable, busy)
//! is tried again, with pauses growing to [`LONGEST_PAUSE`], for up to [`RETRY_FOR`]; a
//! call record under one write key, so that a retry after a commit whose answer was lost
//! finds its row instead of writing a second. A group that fails for a lasting reason
//! is written record by record, so that one bad record fails alone. When a write fails
//! for good, nobody is told the request ended, and the error is logged and counted.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::calls::{CallId, Delivery};
use crate::metrics::Metrics;
use crate::store::{CallRecord, Store, StoreError};

/// How long a write is tried: a database restart or a failover takes seconds.
const RETRY_FOR: Duration = Duration::from_secs(60);
/// The first pause before trying again; each next one is twice as long.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
/// The longest pause between tries.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);
/// Call records in one transaction at most.
const BATCH: usize = 256;

/// One write's tries: after each failure, whether and when to try again; each outcome
/// counted in `kakehashi_store_writes_total`.
struct Retry<'a> {
    metrics: &'a Metrics,
    what: &'static str,
    /// How many records the write carries: what `failed` counts.
    records: usize,
    started: Instant,
    pause: Duration,
}

impl<'a> Retry<'a> {
    fn new(metrics: &'a Metrics, what: &'static str, records: usize) -> Retry<'a> {
        Retry { metrics, what, records, started: Instant::now(), pause: FIRST_PAUSE }
    }

    /// The write failed for good.
    fn failed(&self) {
        self.metrics.store_writes.with_label_values(&[self.what, "failed"]).inc_by(self.records as u64);
    }

    /// The write succeeded.
    fn written<T>(&self, done: T) -> T {
        self.written_many(1);
        done
    }

    /// A write of `n` succeeded.
    fn written_many(&self, n: usize) {
        self.metrics.store_writes.with_label_values(&[self.what, "written"]).inc_by(n as u64);
    }

    /// A try failed with `e`: returns after the pause when it is worth another, or `e`
    /// when it is not (a lasting reason, or [`RETRY_FOR`] spent).
    async fn again(&mut self, e: StoreError) -> Result<(), StoreError> {
        if !e.is_transient() || self.started.elapsed() + self.pause >= RETRY_FOR {
            self.failed();
            return Err(e);
        }
        self.metrics.store_writes.with_label_values(&[self.what, "retried"]).inc();
        let (what, retry_in_ms) = (self.what, self.pause.as_millis() as u64);
        tracing::warn!(error = %e, what, retry_in_ms, "not written yet; trying again");
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        Ok(())
    }
}

/// Write `record` under `key`, tried again as [`Retry`] says.
async fn write_record(store: &Store, metrics: &Metrics, record: &CallRecord, key: &str) -> Result<i64, StoreError> {
    let mut retry = Retry::new(metrics, "call_record", 1);
    loop {
        match store.insert_call_record_once(record, key).await {
            Ok(id) => return Ok(retry.written(id)),
            Err(e) => retry.again(e).await?,
        }
    }
}

/// Set a record's outcome (the same each time: a retry changes nothing twice).
async fn write_outcome(
    store: &Store,
    metrics: &Metrics,
    record: i64,
    tenant: i64,
    outcome: &crate::store::DeskOutcome,
) -> Result<bool, StoreError> {
    let mut retry = Retry::new(metrics, "desk_outcome", 1);
    loop {
        match store.set_desk_outcome(record, tenant, outcome).await {
            Ok(changed) => return Ok(retry.written(changed)),
            Err(e) => retry.again(e).await?,
        }
    }
}

/// A call record waiting for its group's commit.
#[derive(Debug)]
struct Pending {
    record: CallRecord,
    key: String,
    call: CallId,
    then: Vec<Delivery>,
}

impl Pending {
    fn written(self, id: i64) -> Done {
        Done { recorded: Some((self.call, id)), then: self.then }
    }

    fn failed(e: &StoreError) -> Done {
        tracing::error!(error = %e, "call record not written; the end is not acknowledged");
        Done { recorded: None, then: Vec::new() }
    }
}

/// A whole group failed for good: one line says so.
fn all_failed(group: Vec<Pending>, e: &StoreError) -> Vec<Done> {
    tracing::error!(error = %e, records = group.len(), "call records not written; their ends are not acknowledged");
    group.into_iter().map(|_| Done { recorded: None, then: Vec::new() }).collect()
}

/// Write `group` in one transaction, tried again as [`Retry`] says; record by record
/// when it fails for a lasting reason, unless that reason is the fence (a deposed
/// writer's every write would be refused alike).
async fn write_group(store: Store, metrics: Metrics, group: Vec<Pending>) -> Vec<Done> {
    let mut retry = Retry::new(&metrics, "call_record", group.len());
    let failed = loop {
        let rows: Vec<(&CallRecord, &str)> = group.iter().map(|p| (&p.record, p.key.as_str())).collect();
        match store.insert_call_records_once(&rows).await {
            Ok(ids) => {
                retry.written_many(ids.len());
                return group.into_iter().zip(ids).map(|(p, id)| p.written(id)).collect();
            }
            Err(e @ StoreError::Fenced { .. }) => {
                retry.failed();
                return all_failed(group, &e);
            }
            Err(e) if group.len() > 1 && !e.is_transient() => break e,
            Err(e) => {
                if let Err(e) = retry.again(e).await {
                    return all_failed(group, &e);
                }
            }
        }
    };
    tracing::warn!(error = %failed, records = group.len(), "a group of call records failed; writing them one by one");
    let mut done = Vec::with_capacity(group.len());
    for p in group {
        done.push(match write_record(&store, &metrics, &p.record, &p.key).await {
            Ok(id) => p.written(id),
            Err(e) => Pending::failed(&e),
        });
    }
    done
}

/// A write that finished.
#[derive(Debug)]
pub(crate) struct Done {
    /// For an answered call: its number and its record's id.
    pub recorded: Option<(CallId, i64)>,
    /// What to deliver now.
    pub then: Vec<Delivery>,
}

/// The writes in flight.
#[derive(Debug)]
pub(crate) struct Writes {
    store: Store,
    metrics: Metrics,
    /// Each task's finished writes.
    tasks: JoinSet<Vec<Done>>,
    /// Call records waiting for the group commit in flight to end.
    waiting: Vec<Pending>,
    /// The task writing a group of call records, if one is.
    committing: Option<tokio::task::Id>,
    /// Writes finished and not yet taken.
    finished: VecDeque<Done>,
}

impl Writes {
    /// None yet.
    pub(crate) fn new(store: Store, metrics: Metrics) -> Writes {
        Writes {
            store,
            metrics,
            tasks: JoinSet::new(),
            waiting: Vec::new(),
            committing: None,
            finished: VecDeque::new(),
        }
    }

    /// Write a call record under `key`, then deliver `then`: with the next group.
    pub(crate) fn record(&mut self, record: CallRecord, key: String, call: CallId, then: Vec<Delivery>) {
        self.waiting.push(Pending { record, key, call, then });
        if self.committing.is_none() {
            self.commit_group();
        }
    }

    /// Start writing the records waiting (up to [`BATCH`]) as one group.
    fn commit_group(&mut self) {
        let rest = self.waiting.split_off(self.waiting.len().min(BATCH));
        let group = std::mem::replace(&mut self.waiting, rest);
        if group.is_empty() {
            return;
        }
        let (store, metrics) = (self.store.clone(), self.metrics.clone());
        self.committing = Some(self.tasks.spawn(write_group(store, metrics, group)).id());
    }

    /// Set a record's outcome category, then deliver `then`.
    pub(crate) fn outcome(&mut self, record: i64, tenant: i64, outcome: crate::store::DeskOutcome, then: Delivery) {
        let (store, metrics) = (self.store.clone(), self.metrics.clone());
        self.tasks.spawn(async move {
            let done = match write_outcome(&store, &metrics, record, tenant, &outcome).await {
                Ok(true) => Done { recorded: None, then: vec![then] },
                Ok(false) => Done { recorded: None, then: Vec::new() },
                Err(e) => {
                    tracing::error!(error = %e, "the desk's outcome was not recorded");
                    Done { recorded: None, then: Vec::new() }
                }
            };
            vec![done]
        });
    }

    /// Whether nothing is in flight or waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.finished.is_empty() && self.waiting.is_empty()
    }

    /// The next write to finish; `None` when none is in flight.
    pub(crate) async fn next(&mut self) -> Option<Done> {
        loop {
            if let Some(done) = self.finished.pop_front() {
                return Some(done);
            }
            if self.committing.is_none() {
                self.commit_group();
            }
            let joined = self.tasks.join_next_with_id().await?;
            self.joined(joined);
        }
    }

    /// A write that has finished, without waiting; `None` when none has. A journaling
    /// hub takes them into the round in hand, so that a group's records cost one round
    /// (one journal store), not one each.
    pub(crate) fn ready(&mut self) -> Option<Done> {
        loop {
            if let Some(done) = self.finished.pop_front() {
                return Some(done);
            }
            if self.committing.is_none() {
                self.commit_group();
            }
            let joined = self.tasks.try_join_next_with_id()?;
            self.joined(joined);
        }
    }

    /// A write task ended: keep what it finished.
    fn joined(&mut self, joined: Result<(tokio::task::Id, Vec<Done>), tokio::task::JoinError>) {
        let id = match joined {
            Ok((id, done)) => {
                self.finished.extend(done);
                id
            }
            Err(e) => {
                // Its records are not acknowledged, as with a failed write.
                tracing::error!(error = %e, "a record write panicked");
                e.id()
            }
        };
        if self.committing == Some(id) {
            self.committing = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records that end while a group is being committed go together in the next: every
    /// one is acknowledged with its own row, in fewer transactions than records.
    #[tokio::test]
    async fn records_ending_together_are_committed_together() {
        let dir = std::env::temp_dir().join(format!("kakehashi-writes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).await.unwrap();
        let metrics = Metrics::new();
        let mut writes = Writes::new(store.clone(), metrics.clone());
        for n in 0..300 {
            let record = crate::store::abandoned(1, 1_000 + n);
            writes.record(record, format!("key-{n}"), kakehashi_dispatch::RequestId(n as u64), Vec::new());
        }
        // The first is being written alone; the other 299 wait, and go in two groups.
        assert_eq!(writes.waiting.len(), 299);
        let mut ids = Vec::new();
        while let Some(done) = writes.next().await {
            let (call, id) = done.recorded.expect("written");
            ids.push((call.0, id));
        }
        assert_eq!(ids.len(), 300);
        assert!(ids.windows(2).all(|w| w[0].0 + 1 == w[1].0), "acknowledged in order");
        let rows = store.call_records(Some(1)).await.unwrap();
        assert_eq!(rows.len(), 300);
        let written = metrics.store_writes.with_label_values(&["call_record", "written"]).get();
        assert_eq!(written, 300);
        assert!(writes.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A deposed writer's group is refused whole, at once, and counted per record: no
    /// record-by-record fallback (each would be refused alike).
    #[tokio::test]
    async fn a_deposed_writers_group_fails_whole() {
        let dir = std::env::temp_dir().join(format!("kakehashi-writes-fenced-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).await.unwrap();
        let (old, _) = store.take_fence(5).await.unwrap().unwrap();
        store.take_fence(7).await.unwrap().unwrap();
        let metrics = Metrics::new();
        let group = (0..3)
            .map(|n| Pending {
                record: crate::store::abandoned(1, 1_000 + n),
                key: format!("key-{n}"),
                call: kakehashi_dispatch::RequestId(n as u64),
                then: Vec::new(),
            })
            .collect();
        let done = write_group(old, metrics.clone(), group).await;
        assert_eq!(done.len(), 3);
        assert!(done.iter().all(|d| d.recorded.is_none()));
        let count = |result| metrics.store_writes.with_label_values(&["call_record", result]).get();
        assert_eq!((count("failed"), count("retried"), count("written")), (3, 0, 0));
        assert!(store.call_records(None).await.unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// What has finished is taken without waiting, group after group, in order.
    #[tokio::test]
    async fn finished_writes_are_taken_without_waiting() {
        let dir = std::env::temp_dir().join(format!("kakehashi-writes-ready-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).await.unwrap();
        let mut writes = Writes::new(store, Metrics::new());
        assert!(writes.ready().is_none(), "nothing in flight");
        for n in 0..5 {
            let record = crate::store::abandoned(1, 1_000 + n);
            writes.record(record, format!("key-{n}"), kakehashi_dispatch::RequestId(n as u64), Vec::new());
        }
        let mut calls = Vec::new();
        for _ in 0..5_000 {
            while let Some(done) = writes.ready() {
                calls.push(done.recorded.expect("written").0.0);
            }
            if writes.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(calls, vec![0, 1, 2, 3, 4], "the first alone, then the four that waited");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
