//! Record writes: each a task of its own (a store call is bounded by the store's
//! timeout), tracked so that the hub waits for them before it stops. What follows a
//! record (the events that say a request ended) is delivered only once it is written.
//! A write that fails for a passing reason (the database restarting, unreachable, busy)
//! is tried again, with pauses growing to [`LONGEST_PAUSE`], for up to [`RETRY_FOR`]; a
//! call record under one write key, so that a retry after a commit whose answer was lost
//! finds its row instead of writing a second. When a write fails for good, nobody is
//! told the request ended, and the error is logged and counted.

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

/// One write's tries: after each failure, whether and when to try again; each outcome
/// counted in `kakehashi_store_writes_total`.
struct Retry<'a> {
    metrics: &'a Metrics,
    what: &'static str,
    started: Instant,
    pause: Duration,
}

impl<'a> Retry<'a> {
    fn new(metrics: &'a Metrics, what: &'static str) -> Retry<'a> {
        Retry { metrics, what, started: Instant::now(), pause: FIRST_PAUSE }
    }

    /// The write succeeded.
    fn written<T>(&self, done: T) -> T {
        self.metrics.store_writes.with_label_values(&[self.what, "written"]).inc();
        done
    }

    /// A try failed with `e`: returns after the pause when it is worth another, or `e`
    /// when it is not (a lasting reason, or [`RETRY_FOR`] spent).
    async fn again(&mut self, e: StoreError) -> Result<(), StoreError> {
        if !e.is_transient() || self.started.elapsed() + self.pause >= RETRY_FOR {
            self.metrics.store_writes.with_label_values(&[self.what, "failed"]).inc();
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
    let mut retry = Retry::new(metrics, "call_record");
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
    let mut retry = Retry::new(metrics, "desk_outcome");
    loop {
        match store.set_desk_outcome(record, tenant, outcome).await {
            Ok(changed) => return Ok(retry.written(changed)),
            Err(e) => retry.again(e).await?,
        }
    }
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
    tasks: JoinSet<Done>,
}

impl Writes {
    /// None yet.
    pub(crate) fn new(store: Store, metrics: Metrics) -> Writes {
        Writes { store, metrics, tasks: JoinSet::new() }
    }

    /// Write a call record under `key`, then deliver `then`.
    pub(crate) fn record(&mut self, record: CallRecord, key: String, call: CallId, then: Vec<Delivery>) {
        let (store, metrics) = (self.store.clone(), self.metrics.clone());
        self.tasks.spawn(async move {
            match write_record(&store, &metrics, &record, &key).await {
                Ok(id) => Done { recorded: Some((call, id)), then },
                Err(e) => {
                    tracing::error!(error = %e, "call record not written; the end is not acknowledged");
                    Done { recorded: None, then: Vec::new() }
                }
            }
        });
    }

    /// Set a record's outcome category, then deliver `then`.
    pub(crate) fn outcome(&mut self, record: i64, tenant: i64, outcome: crate::store::DeskOutcome, then: Delivery) {
        let (store, metrics) = (self.store.clone(), self.metrics.clone());
        self.tasks.spawn(async move {
            match write_outcome(&store, &metrics, record, tenant, &outcome).await {
                Ok(true) => Done { recorded: None, then: vec![then] },
                Ok(false) => Done { recorded: None, then: Vec::new() },
                Err(e) => {
                    tracing::error!(error = %e, "the desk's outcome was not recorded");
                    Done { recorded: None, then: Vec::new() }
                }
            }
        });
    }

    /// Whether nothing is in flight.
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The next write to finish; `None` when none is in flight.
    pub(crate) async fn next(&mut self) -> Option<Done> {
        loop {
            match self.tasks.join_next().await? {
                Ok(done) => return Some(done),
                Err(e) => tracing::error!(error = %e, "a record write panicked"),
            }
        }
    }
}
