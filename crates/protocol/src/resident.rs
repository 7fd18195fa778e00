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
    /// Your microphone or camera changed: the others' screens show it.
    MediaState {
        /// Microphone off.
        muted: bool,
        /// Camera off, or no video (audio only).
        camera_off: bool,
    },
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
    /// Show the desk and the interpreter one part of a document (a photo of a card or
    /// a letter); see the desk's `document`.
    Document {
        /// The part.
        document: DocumentPart,
    },
    /// Keep-alive.
    Ping {},
}

/// What a resident (or a guest, on the same page) receives. Clients ignore fields they do
/// not know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResidentEvent {
    /// The answer to `hello`.
    Welcome(Welcome),
    /// You are in the call (sent after every `welcome`, a resume's too).
    Joined {
        /// The language of the page (BCP 47).
        language: String,
        /// What you are in the call: `resident` or `guest`.
        #[serde(default = "resident")]
        party: Party,
        /// Your number in the call.
        #[serde(default)]
        you: u32,
        /// Everyone in the call now, you included.
        #[serde(default)]
        participants: Vec<Participant>,
        /// The call's number (a phone gateway mixes the phones of one call together).
        #[serde(default)]
        call: u64,
    },
    /// Someone's connection came back, or they joined.
    ParticipantJoined {
        /// Their kind.
        party: Party,
        /// Their number in the call.
        participant: u32,
    },
    /// Someone's connection dropped, or they left.
    ParticipantLeft {
        /// Their kind.
        party: Party,
        /// Their number in the call.
        participant: u32,
        /// Whether they left or dropped.
        #[serde(default)]
        reason: LeftReason,
    },
    /// A part of your document was passed on to the others (answers `document`).
    DocumentPassed {
        /// The document's number.
        id: u32,
        /// The part.
        part: u32,
    },
    /// A part of a document the desk or the interpreter shows.
    Document {
        /// Who shows it.
        from: Party,
        /// The part.
        document: DocumentPart,
    },
    /// The call is over.
    CallEnded,
    /// Someone's microphone or camera changed (from their `media_state`).
    ParticipantMedia {
        /// Their number in the call.
        participant: u32,
        /// Their microphone is off.
        muted: bool,
        /// Their camera is off, or they send no video.
        camera_off: bool,
    },
    /// The relay that held this call's media is gone (a cluster node lost): offer again
    /// (a new leg, as after a reconnect); the call goes on under the same record.
    MediaMoved {},
    /// Your leg did not connect within 15 seconds of the relay's answer (no connectivity
    /// check reached the relay, or the DTLS handshake stalled), and the relay dropped it:
    /// offer again (a new leg, as after a reconnect). Sent only for your newest leg.
    MediaFailed {},
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

fn resident() -> Party {
    Party::Resident
}
