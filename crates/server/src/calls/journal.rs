//! The core's inputs as a journal (ADR 0021): each input the writer applies becomes an
//! entry (its instant, the input, the tokens it drew), and a core restored from a saved
//! one replays the entries that followed it to the same state. The token source is a
//! [`Tape`]: it records the tokens drawn while the writer runs and plays them back on
//! replay, so invite links and seats come out the same.
//!
//! An entry is a MessagePack array `[instant in ms, input, [tokens]]`; the input is
//! written before it is applied (applying consumes it), the tokens after.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::{Core, Input, Reply, Tokens};

/// Why an entry could not be written or replayed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Writing failed.
    #[error("the input could not be written: {0}")]
    Write(String),
    /// The bytes are not an entry.
    #[error("not a journal entry: {0}")]
    Read(String),
}

#[derive(Debug)]
struct TapeState {
    source: Box<dyn Tokens>,
    /// Recording: the tokens drawn since the last [`Tape::take`].
    drawn: Vec<String>,
    /// Playing back: the tokens still to give, in order.
    playing: Option<VecDeque<String>>,
}

/// The core's token source in a writer that journals: records what it draws, or plays
/// back what an entry recorded.
#[derive(Clone, Debug)]
pub struct Tape(Arc<Mutex<TapeState>>);

impl std::fmt::Debug for dyn Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens")
    }
}

impl Tape {
    /// A tape drawing fresh tokens from `source`.
    pub fn new(source: Box<dyn Tokens>) -> Tape {
        Tape(Arc::new(Mutex::new(TapeState { source, drawn: Vec::new(), playing: None })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TapeState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tokens drawn since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.state().drawn)
    }
}

impl Tokens for Tape {
    fn token(&mut self) -> String {
        let mut state = self.state();
        if let Some(playing) = state.playing.as_mut() {
            if let Some(token) = playing.pop_front() {
                return token;
            }
            // The entry recorded fewer tokens than the replay draws: the replay has
            // gone astray; a fresh token keeps it going, and it is logged.
            tracing::error!("a replayed input drew a token its entry did not record");
        }
        let token = state.source.token();
        if state.playing.is_none() {
            state.drawn.push(token.clone());
        }
        token
    }
}

impl Core {
    /// Apply an input as [`Core::handle`] does, and write it to `entry` as the journal
    /// holds it. The core's token source must be `tape`.
    pub fn handle_journaled(
        &mut self,
        now: d::Timestamp,
        input: Input,
        tape: &Tape,
        entry: &mut Vec<u8>,
    ) -> Result<Result<Reply, p::ProtocolError>, JournalError> {
        use serde::Serializer as _;
        use serde::ser::SerializeTuple as _;
        let write = |e: rmp_serde::encode::Error| JournalError::Write(e.to_string());
        entry.clear();
        let mut serializer = rmp_serde::Serializer::new(&mut *entry).with_struct_map();
        let mut tuple = serializer.serialize_tuple(3).map_err(write)?;
        tuple.serialize_element(&now.as_millis()).map_err(write)?;
        tuple.serialize_element(&input).map_err(write)?;
        tape.take();
        let result = self.handle(now, input);
        tuple.serialize_element(&tape.take()).map_err(write)?;
        tuple.end().map_err(write)?;
        Ok(result)
    }

    /// Apply a journal entry as the writer did, its outputs dropped (they were acted on
    /// when it was written). The core's token source must be `tape`.
    pub fn replay(&mut self, entry: &[u8], tape: &Tape) -> Result<(), JournalError> {
        let (at, input, tokens): (i64, Input, Vec<String>) =
            rmp_serde::from_slice(entry).map_err(|e| JournalError::Read(e.to_string()))?;
        tape.state().playing = Some(tokens.into());
        // A refused input changed nothing when it was written, and changes nothing now.
        let _ = self.handle(d::Timestamp::from_millis(at), input);
        let left = tape.state().playing.take().map_or(0, |left| left.len());
        if left > 0 {
            tracing::error!(left, "a replayed input drew fewer tokens than its entry recorded");
        }
        self.outputs.clear();
        Ok(())
    }
}
