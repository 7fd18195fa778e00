//! A journaling writer's side of ADR 0021: every input the hub applies is written as a
//! journal entry (`calls::Core::handle_journaled`) and handed to a [`JournalSink`]; the
//! hub acts on what the inputs of a round caused (delivers events, writes records,
//! orders the relay, answers the router) only once the sink has stored them. A round is
//! one command, report, record or tick, with the commands already waiting behind it
//! (up to [`ROUND`]) and every record write already finished (a group commit's records
//! together): one store's round trip for all of them.
//!
//! An input the hub makes while acting (a connection that could not keep up counts as
//! lost) is stored with the next round: what follows from it needs no write-ahead, since
//! a new writer counts every connection as lost anyway.

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

    /// Store every entry appended so far; an error when they can no longer be stored
    /// (this writer must stop: nothing more it does could be taken over).
    async fn store(&mut self) -> Result<(), String>;

    /// Keep `core` (a saved core) as the state every stored entry led to: a new writer
    /// starts from it and replays only what follows. An error as for `store`.
    async fn save(&mut self, core: Vec<u8>) -> Result<(), String>;
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

    async fn store(&mut self) -> Result<(), String> {
        Ok(())
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
    /// Store the journal entries not yet stored; `false` when they cannot be (this
    /// writer stops).
    pub(super) async fn store(&mut self) -> bool {
        let Some(journal) = self.journal.as_mut().filter(|j| j.pending) else { return true };
        if let Err(e) = journal.sink.store().await {
            tracing::error!(error = %e, "the journal cannot be stored: this writer stops");
            return false;
        }
        journal.pending = false;
        true
    }

    /// A journaling hub saves its core, once every entry is stored; `false` when the
    /// journal cannot take it (this writer stops).
    pub(super) async fn save(&mut self) -> bool {
        if self.journal.is_none() {
            return true;
        }
        if !self.store().await {
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
