//! The interpreter's console.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::*;

/// What an interpreter can ask to become.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Ready for offers (also ends wrap-up).
    Available,
    /// Signed in, not taking calls.
    NotReady,
    /// Signed out.
    Offline,
}

/// An interpreter's presence as the server sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// Signed out.
    Offline,
    /// Ready.
    Available,
    /// An offer is ringing.
    Offered,
    /// In a call.
    InCall,
    /// After a call.
    WrapUp,
    /// Not ready (by choice).
    NotReady,
    /// Not ready after missing offers in a row.
    NotReadyMissedOffers,
}

/// How an offer ended without being accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferClosedReason {
    /// You declined.
    Declined,
    /// It rang out.
    Missed,
    /// Someone else answered first.
    AnsweredElsewhere,
    /// The desk cancelled or the request expired.
    RequestEnded,
    /// You went not ready or offline.
    YouLeft,
}

/// What an interpreter sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum InterpreterCommand {
    /// Become available, not ready or offline.
    SetAvailability {
        /// What to become.
        availability: Availability,
    },
    /// Take an offer.
    Accept {
        /// The offer.
        offer: u64,
    },
    /// Turn an offer down.
    Decline {
        /// The offer.
        offer: u64,
    },
    /// Hang up.
    EndCall {
        /// The call.
        call: u64,
    },
    /// Your microphone or camera changed: the others' screens show it.
    MediaState {
        /// The call.
        call: u64,
        /// Microphone off.
        muted: bool,
        /// Camera off, or no video (audio only).
        camera_off: bool,
    },
    /// Media negotiation.
    Sdp {
        /// The call.
        call: u64,
        /// Offer or answer.
        description: SessionDescription,
    },
    /// An ICE candidate.
    Ice {
        /// The call.
        call: u64,
        /// The candidate line.
        candidate: String,
    },
    /// Show the others one part of a document; see the desk's `document`.
    Document {
        /// The call.
        call: u64,
        /// The part.
        document: DocumentPart,
    },
    /// Keep-alive.
    Ping {},
}

/// What an interpreter receives. Clients ignore fields they do not know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InterpreterEvent {
    /// The answer to `hello`.
    Welcome(Welcome),
    /// Your presence changed.
    Presence {
        /// The new presence.
        presence: PresenceState,
    },
    /// A call is ringing for you.
    Offer {
        /// Answer with `accept` or `decline` and this number.
        offer: u64,
        /// The requesting municipality's name.
        tenant: String,
        /// The requesting desk's name ("City hall, counter 2").
        #[serde(default)]
        desk: String,
        /// The desk marked it urgent.
        #[serde(default)]
        urgent: bool,
        /// When the desk asked (RFC 3339): how long it has waited.
        #[serde(default)]
        requested_at: String,
        /// The resident's language (BCP 47).
        language: String,
        /// Video, audio or phone.
        modality: Modality,
        /// Subject matter, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        speciality: Option<Speciality>,
        /// When it rings out (RFC 3339).
        ring_until: String,
        /// The booking this is the slot of (you were held for it): not from the queue.
        /// A declined or missed booking rings again after a pause until the slot ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        booking: Option<u64>,
    },
    /// An offer ended without your answer taking effect.
    OfferClosed {
        /// The offer.
        offer: u64,
        /// Why.
        reason: OfferClosedReason,
    },
    /// You answered: the call starts.
    Assigned {
        /// The offer you accepted.
        offer: u64,
        /// The call.
        call: u64,
        /// Your number in the call.
        #[serde(default)]
        you: u32,
        /// Everyone in the call now, you included.
        #[serde(default)]
        participants: Vec<Participant>,
    },
    /// Someone joined the call, or their connection came back.
    ParticipantJoined {
        /// The call.
        call: u64,
        /// Their kind.
        party: Party,
        /// Their number in the call.
        participant: u32,
    },
    /// Someone left the call, or their connection dropped.
    ParticipantLeft {
        /// The call.
        call: u64,
        /// Their kind.
        party: Party,
        /// Their number in the call.
        participant: u32,
        /// Whether they left or dropped.
        #[serde(default)]
        reason: LeftReason,
    },
    /// The call is over; wrap-up begins.
    CallEnded {
        /// The call.
        call: u64,
        /// Who ended it.
        by: Party,
    },
    /// A part of your document was passed on to the others (answers `document`).
    DocumentPassed {
        /// The call.
        call: u64,
        /// The document's number.
        id: u32,
        /// The part.
        part: u32,
    },
    /// A part of a document another participant shows.
    Document {
        /// The call.
        call: u64,
        /// Who shows it.
        from: Party,
        /// The part.
        document: DocumentPart,
    },
    /// Someone's microphone or camera changed (from their `media_state`).
    ParticipantMedia {
        /// The call.
        call: u64,
        /// Their number in the call.
        participant: u32,
        /// Their microphone is off.
        muted: bool,
        /// Their camera is off, or they send no video.
        camera_off: bool,
    },
    /// The relay that held this call's media is gone (a cluster node lost): offer again
    /// (a new leg, as after a reconnect); the call goes on under the same record.
    MediaMoved {
        /// The call.
        call: u64,
    },
    /// Your leg did not connect within 15 seconds of the relay's answer (no connectivity
    /// check reached the relay, or the DTLS handshake stalled), and the relay dropped it:
    /// offer again (a new leg, as after a reconnect). Sent only for your newest leg.
    MediaFailed {
        /// The call.
        call: u64,
    },
    /// Media negotiation.
    Sdp {
        /// The call.
        call: u64,
        /// Offer or answer.
        description: SessionDescription,
    },
    /// An ICE candidate.
    Ice {
        /// The call.
        call: u64,
        /// The candidate line.
        candidate: String,
    },
    /// A coordinator's notice to interpreters (changing information, a closure, a
    /// training): shown on the console, which also lists the recent ones
    /// (`GET /api/notices`).
    Notice {
        /// Its number.
        id: i64,
        /// Who sent it: their municipality's name, or the centre's.
        from: String,
        /// The text, at most 500 characters.
        text: String,
        /// When it was sent (RFC 3339).
        at: String,
    },
    /// A slot you are held for begins soon (15 minutes before; once per booking, to a
    /// connected console).
    BookingSoon {
        /// The booking.
        booking: i64,
        /// When its slot begins (RFC 3339).
        starts_at: String,
        /// The resident's language.
        language: String,
    },
    /// Something you sent was refused.
    Error(ProtocolError),
    /// The answer to `ping`.
    Pong,
}
