//! The supervisor's wallboard: a live feed of queues and interpreters.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::*;

/// What a supervisor sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SupervisorCommand {
    /// Start receiving snapshots (one now, then every few seconds).
    Subscribe {},
    /// Keep-alive.
    Ping {},
}

/// One language's queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LanguageLive {
    /// The resident's language (BCP 47).
    pub language: String,
    /// Requests waiting.
    pub waiting: u32,
    /// The longest current wait, seconds.
    pub longest_wait_secs: u32,
    /// Interpreters free now.
    pub idle: u32,
    /// Interpreters signed in and on roster.
    pub staffed: u32,
    /// Today's share of requests answered within 20 s, when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level_20s: Option<f64>,
}

/// Interpreters in one presence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PresenceCount {
    /// The presence.
    pub presence: crate::PresenceState,
    /// How many.
    pub count: u32,
}

/// Calls going on now, and who is in them from elsewhere.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CallsLive {
    /// Calls answered and not ended.
    pub calls: u32,
    /// Residents and guests in them by link now.
    pub by_link: u32,
    /// Phone legs in them now (residents or family members on ordinary phones).
    pub phone_legs: u32,
}

/// A request waiting for an interpreter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitingRequest {
    /// Its number.
    pub request: u64,
    /// The desk's name.
    pub desk: String,
    /// The resident's language (BCP 47).
    pub language: String,
    /// Marked urgent.
    pub urgent: bool,
    /// Waited so far, seconds.
    pub waited_secs: u32,
    /// An interpreter is being rung for it now.
    pub ringing: bool,
}

/// What a supervisor receives. Clients ignore fields they do not know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SupervisorEvent {
    /// The answer to `hello`.
    Welcome(Welcome),
    /// The live state of the supervisor's tenant.
    Snapshot {
        /// When (RFC 3339).
        at: String,
        /// Queues by language.
        languages: Vec<LanguageLive>,
        /// Interpreters by presence.
        interpreters: Vec<PresenceCount>,
        /// Calls going on now (absent from servers before 2026-12).
        #[serde(default)]
        calls: CallsLive,
        /// The requests waiting, longest first: what a coordinator may offer by hand to
        /// an interpreter they choose (`POST /api/requests/<request>/assign`).
        #[serde(default)]
        waiting: Vec<WaitingRequest>,
    },
    /// Something was refused.
    Error(ProtocolError),
    /// The answer to `ping`.
    Pong,
}
