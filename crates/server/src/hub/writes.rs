//! Record writes: each a task of its own (a store call is bounded by the store's
//! timeout), tracked so that the hub waits for them before it stops. What follows a
//! record (the events that say a request ended) is delivered only once it is written;
//! when a write fails, nobody is told the request ended, and the error is logged.

use tokio::task::JoinSet;

use crate::calls::{CallId, Delivery};
use crate::store::{CallRecord, Store};

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
    tasks: JoinSet<Done>,
}

impl Writes {
    /// None yet.
    pub(crate) fn new(store: Store) -> Writes {
        Writes { store, tasks: JoinSet::new() }
    }

    /// Write a call record, then deliver `then`.
    pub(crate) fn record(&mut self, record: CallRecord, keep: Option<CallId>, then: Vec<Delivery>) {
        let store = self.store.clone();
        self.tasks.spawn(async move {
            match store.insert_call_record(&record).await {
                Ok(id) => Done { recorded: keep.map(|call| (call, id)), then },
                Err(e) => {
                    tracing::error!(error = %e, "call record not written; the end is not acknowledged");
                    Done { recorded: None, then: Vec::new() }
                }
            }
        });
    }

    /// Set a record's outcome category, then deliver `then`.
    pub(crate) fn outcome(&mut self, record: i64, tenant: i64, outcome: crate::store::DeskOutcome, then: Delivery) {
        let store = self.store.clone();
        self.tasks.spawn(async move {
            match store.set_desk_outcome(record, tenant, &outcome).await {
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
