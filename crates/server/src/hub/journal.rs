//! A journaling writer's side of ADR 0021: every input the hub applies is written as a
//! journal entry (`calls::Core::handle_journaled`) and handed to a [`JournalSink`]; the
//! hub acts on what the inputs of a round caused (delivers events, writes records,
//! orders the relay, answers the router) only once the sink has stored them. A round is
//! every input applied since the last store began: while one store is in flight the hub
//! goes on applying what comes (commands, reports, records written, ticks), their
//! outputs held in the core, and when it lands acts on what that store's inputs caused
//! and starts storing the next round ([`Flight`]): one store's round trip for all of
//! them, and the dispatch core busy meanwhile instead of waiting. A command that changes
//! the connections waits until every round before it is stored and acted on (it must
//! follow what their outputs do to them), and so does the saving of the core.
//!
//! An input the hub makes while acting (a connection that could not keep up counts as
//! lost) is stored with the next round, and what follows from it is acted on then.

use crate::calls::Tape;

use super::Hub;

/// Commands taken into one round at most.
pub(super) const ROUND: usize = 64;

/// How often a journaling hub saves its core (and the journal before it can go).
pub(super) const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a journaling writer's entries go.
#[async_trait::async_trait]
pub trait JournalSink: Send + std::fmt::Debug {
    /// Keep this entry (in order) for the next [`JournalSink::store`].
    fn append(&mut self, entry: Vec<u8>);

    /// Start storing every entry appended so far: the future ends once they are stored,
    /// with an error when they can no longer be (this writer must stop: nothing more it
    /// does could be taken over). The hub starts the next store only after it ended.
    fn store(&mut self) -> Storing;

    /// Keep `core` (a saved core) as the state every stored entry led to: a new writer
    /// starts from it and replays only what follows. An error as for `store`. Called
    /// with no store in flight.
    async fn save(&mut self, core: Vec<u8>) -> Result<(), String>;
}

/// A store in flight: [`JournalSink::store`]'s future.
pub type Storing = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// A round being stored, and what to do once it is.
pub(super) struct Flight {
    stored: Storing,
    /// What the round's inputs caused, to act on once stored.
    outputs: Vec<crate::calls::Output>,
    /// The answers to the router the round owes.
    replies: Replies,
}

impl Flight {
    /// The store's end (pending forever with none in flight: a `select!` branch).
    pub(super) async fn landed(flight: &mut Option<Flight>) -> Result<(), String> {
        match flight {
            Some(f) => f.stored.as_mut().await,
            None => std::future::pending().await,
        }
    }
}

impl std::fmt::Debug for Flight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a round of {} outputs being stored", self.outputs.len())
    }
}

/// The hub's journal: the core's token tape and the sink.
#[derive(Debug)]
pub(super) struct Journal {
    pub(super) tape: Tape,
    pub(super) sink: Box<dyn JournalSink>,
    /// The entry being written (its buffer is reused).
    pub(super) entry: Vec<u8>,
    /// Whether entries were appended since the last store.
    pub(super) pending: bool,
}

/// Entries kept in memory, for tests: shared with whoever reads them.
#[derive(Clone, Debug, Default)]
pub struct MemorySink(pub std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

#[async_trait::async_trait]
impl JournalSink for MemorySink {
    fn append(&mut self, entry: Vec<u8>) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(entry);
    }

    fn store(&mut self) -> Storing {
        Box::pin(std::future::ready(Ok(())))
    }

    async fn save(&mut self, _: Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

/// Answers to the router waiting for the round to be committed.
#[derive(Default)]
pub(super) struct Replies(Vec<Box<dyn FnOnce() + Send>>);

impl Replies {
    pub(super) fn push<T: Send + 'static>(&mut self, tx: tokio::sync::oneshot::Sender<T>, value: T) {
        self.0.push(Box::new(move || {
            let _ = tx.send(value);
        }));
    }

    /// Send them all.
    pub(super) fn send(&mut self) {
        for reply in self.0.drain(..) {
            reply();
        }
    }
}

impl std::fmt::Debug for Replies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} replies", self.0.len())
    }
}

impl Hub {
    /// End the round in hand: a hub without a journal acts on it at once; a journaling
    /// hub starts storing it unless a store is in flight (then it grows until that one
    /// lands).
    pub(super) fn commit(&mut self, flight: &mut Option<Flight>) {
        if flight.is_none() {
            *flight = self.launch();
        }
    }

    /// Start storing what was journaled since the last store, taking the outputs and
    /// answers it caused; with nothing to store (or no journal), act on them now.
    fn launch(&mut self) -> Option<Flight> {
        let outputs: Vec<_> = std::iter::from_fn(|| self.core.poll_output()).collect();
        let replies = std::mem::take(&mut self.replies);
        let Some(journal) = self.journal.as_mut().filter(|j| j.pending) else {
            self.act_on(outputs, replies);
            return None;
        };
        journal.pending = false;
        Some(Flight { stored: journal.sink.store(), outputs, replies })
    }

    /// A store landed: act on its round; `false` when it failed (this writer stops).
    pub(super) fn landed(&mut self, flight: &mut Option<Flight>, result: Result<(), String>) -> bool {
        let Some(done) = flight.take() else { return true };
        if let Err(e) = result {
            tracing::error!(error = %e, "the journal cannot be stored: this writer stops");
            return false;
        }
        self.act_on(done.outputs, done.replies);
        true
    }

    /// Wait until every round so far is stored and acted on; `false` when one cannot be
    /// stored (this writer stops).
    pub(super) async fn settle(&mut self, flight: &mut Option<Flight>) -> bool {
        loop {
            if flight.is_some() {
                let began = std::time::Instant::now();
                let result = Flight::landed(flight).await;
                self.busy.since(super::busy::Phase::Journal, began);
                if !self.landed(flight, result) {
                    return false;
                }
            } else if self.journal.as_ref().is_some_and(|j| j.pending) {
                *flight = self.launch();
            } else {
                // What acting caused without a journal entry (none expected).
                let _ = self.launch();
                return true;
            }
        }
    }

    /// A journaling hub saves its core, once every round is stored and acted on; `false`
    /// when the journal cannot take it (this writer stops).
    pub(super) async fn save(&mut self, flight: &mut Option<Flight>) -> bool {
        if self.journal.is_none() {
            return true;
        }
        if !self.settle(flight).await {
            return false;
        }
        let core = match self.core.save() {
            Ok(core) => core,
            Err(e) => {
                // Not expected (outputs are drained by now): the next save tries again.
                tracing::error!(error = %e, "the core could not be saved");
                return true;
            }
        };
        let bytes = core.len();
        let Some(journal) = self.journal.as_mut() else { return true };
        match journal.sink.save(core).await {
            Ok(()) => {
                tracing::debug!(bytes, "core saved");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "the core cannot be saved: this writer stops");
                false
            }
        }
    }
}
