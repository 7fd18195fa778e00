//! The resident's join page, opened from an invite link.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::*;

/// What a resident sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResidentCommand {
    /// Leave the call.
    Leave {},
    /// Media negotiation.
    Sdp {
        /// Offer or answer.
        description: SessionDescription,
    },
    /// An ICE candidate.
    Ice {
        /// The candidate line.
        candidate: String,
    },
    /// Keep-alive.
    Ping {},
}

/// What a resident receives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResidentEvent {
    /// The answer to `hello`.
    Welcome(Welcome),
    /// You are in the call.
    Joined {
        /// The language of the page (BCP 47).
        language: String,
    },
    /// The call is over.
    CallEnded,
    /// Media negotiation.
    Sdp {
        /// Offer or answer.
        description: SessionDescription,
    },
    /// An ICE candidate.
    Ice {
        /// The candidate line.
        candidate: String,
    },
    /// Something was refused.
    Error(ProtocolError),
    /// The answer to `ping`.
    Pong,
}
