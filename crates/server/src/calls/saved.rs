//! The core saved and restored: its whole state as bytes (MessagePack with named
//! fields, after a four-byte format number), and back. Cluster mode's writer saves it with the
//! position of its journal, and a new writer restores it and replays what followed
//! (ADR 0021). A restored core carries on exactly as the saved one would have: the
//! engine's and the core's tests show it on simulated days.
//!
//! Settings and the token source are not state: the restoring node gives its own.

use kakehashi_dispatch as d;

use super::{Core, Settings, Tokens};

/// The format written; a saved core of another format is refused (a node of another
/// version starts afresh instead of misreading it).
const FORMAT: u32 = 2;

/// Why a saved core could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SavedError {
    /// Its outputs were not all taken (save between inputs, after draining them).
    #[error("the core has outputs not yet taken")]
    Busy,
    /// Writing failed.
    #[error("the core could not be written: {0}")]
    Write(#[from] rmp_serde::encode::Error),
    /// The bytes are not a saved core of this format.
    #[error("not a saved core of format {FORMAT}: {0}")]
    Read(String),
}

/// The token source of a core just read, until the restoring node gives its own.
pub(super) fn no_tokens() -> Box<dyn Tokens> {
    Box::new(super::OsTokens)
}

impl Core {
    /// The core's state as bytes.
    pub fn save(&self) -> Result<Vec<u8>, SavedError> {
        if !self.outputs.is_empty() {
            return Err(SavedError::Busy);
        }
        let mut bytes = FORMAT.to_be_bytes().to_vec();
        rmp_serde::encode::write_named(&mut bytes, self)?;
        Ok(bytes)
    }

    /// A core from what [`Core::save`] wrote, with this node's settings and tokens.
    pub fn restore(bytes: &[u8], settings: Settings, tokens: Box<dyn Tokens>) -> Result<Core, SavedError> {
        let Some((head, body)) = bytes.split_first_chunk::<4>() else {
            return Err(SavedError::Read("it is too short".into()));
        };
        let format = u32::from_be_bytes(*head);
        if format != FORMAT {
            return Err(SavedError::Read(format!("it is of format {format}")));
        }
        let mut core: Core = rmp_serde::from_slice(body).map_err(|e| SavedError::Read(e.to_string()))?;
        core.settings = settings;
        core.tokens = tokens;
        Ok(core)
    }

    /// The instant of the last input.
    pub fn now(&self) -> d::Timestamp {
        self.now
    }
}
