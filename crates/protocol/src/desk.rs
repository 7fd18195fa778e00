//! The desk tablet at the counter.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::*;
use crate::gateway::DialFailure;

/// What a desk sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeskCommand {
    /// Ask for an interpreter for the resident's language.
    RequestInterpreter {
        /// The resident's language, a BCP 47 tag (`vi`, `pt-BR`, `ja-x-easy`).
        language: String,
        /// Video unless said otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        modality: Option<Modality>,
        /// Subject matter, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        speciality: Option<Speciality>,
        /// An urgent case goes ahead of normal ones (within the tenant's credit).
        #[serde(default)]
        urgent: bool,
        /// The interpreter of a returning case (`interpreter` of an earlier `assigned`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preferred_interpreter: Option<u32>,
    },
    /// Stop waiting.
    CancelRequest {
        /// The request.
        request: u64,
    },
    /// Hang up.
    EndCall {
        /// The call.
        call: u64,
    },
    /// Create a single-use link for a resident who is elsewhere (the same as `invite`
    /// with `party: "resident"`).
    InviteResident {
        /// The call.
        call: u64,
    },
    /// Create a single-use link for someone to join the call from elsewhere: a
    /// `resident`, or a `guest` (a remote specialist, a second member of staff). Each
    /// link admits one person; invite again for each.
    Invite {
        /// The call.
        call: u64,
        /// Who the link is for: `resident` or `guest`.
        party: Party,
    },
    /// Call a phone into the call (a resident without data, or whose link failed): the
    /// phone gateway dials `number` and the phone joins as party `phone`. Answered by
    /// `dialling`, then the phone's `participant_joined`, or `dial_failed`. The number is
    /// used for this call only: never stored, logged or shown to anyone else.
    DialOut {
        /// The call.
        call: u64,
        /// The number: 3 to 20 digits, with `+`, `-`, spaces and parentheses allowed.
        number: String,
    },
    /// After the call: what came of it, as categories, never free text. One tap is
    /// enough (`outcome`); the topics and the resident's municipality are optional.
    RecordOutcome {
        /// The call.
        call: u64,
        /// The handling status.
        outcome: OutcomeCategory,
        /// What the consultation was about (several allowed, each once).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        topics: Vec<Topic>,
        /// The municipality (tenant id) the resident lives in, when it is not the desk's:
        /// a shared centre's desk serves residents of every member town.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        residence: Option<i64>,
        /// Where the resident was referred: a partner of the desk's municipality (its
        /// partner directory, `GET /api/desk`'s `partners`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        referral: Option<i64>,
        /// A short handling note, where the desk's municipality keeps them (`GET
        /// /api/desk`'s `handling_notes`): at most 500 characters, sealed by the server
        /// at once and readable only by the municipality's supervisors. Never personal
        /// details the consultation does not need.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Note>,
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
    /// Show the others in the call one part of a document (a photo); they receive
    /// `document` events. Refused with `rate_limited` while they are still receiving
    /// earlier parts: send that part again a moment later.
    Document {
        /// The call.
        call: u64,
        /// The part.
        document: DocumentPart,
    },
    /// Keep-alive; answered by `pong`.
    Ping {},
}

fn resident() -> Party {
    Party::Resident
}

/// A handling note's text. Formatting it for a log shows `<note>`, never the text.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Note(#[schemars(length(max = 2000))] pub String);

impl std::fmt::Debug for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<note>")
    }
}

/// What came of a consultation, as the desk records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeCategory {
    /// Resolved at the desk.
    Resolved,
    /// Referred to another office or organisation.
    Referred,
    /// A follow-up is needed.
    FollowUp,
    /// Cut short (connection, resident left).
    Interrupted,
}

impl OutcomeCategory {
    /// The code, as records and reports store it.
    pub fn code(self) -> &'static str {
        match self {
            OutcomeCategory::Resolved => "resolved",
            OutcomeCategory::Referred => "referred",
            OutcomeCategory::FollowUp => "follow_up",
            OutcomeCategory::Interrupted => "interrupted",
        }
    }
}

/// How a booked consultation's resident takes part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResidentJoins {
    /// At the counter, beside the desk.
    #[default]
    Counter,
    /// From a link sent ahead.
    Link,
    /// By phone: the desk calls them at the slot.
    Phone,
}

impl ResidentJoins {
    /// Its name on the wire (and in the store).
    pub fn as_str(self) -> &'static str {
        match self {
            ResidentJoins::Counter => "counter",
            ResidentJoins::Link => "link",
            ResidentJoins::Phone => "phone",
        }
    }

    /// From its name.
    pub fn parse(code: &str) -> Option<Self> {
        [ResidentJoins::Counter, ResidentJoins::Link, ResidentJoins::Phone].into_iter().find(|j| j.as_str() == code)
    }
}

/// What a consultation was about: the taxonomy of the centres' reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Residence status, visas (在留資格).
    ResidenceStatus,
    /// Work, employment, labour conditions.
    Work,
    /// Medical care, health insurance.
    Medical,
    /// Welfare, benefits.
    Welfare,
    /// Childcare and schooling.
    ChildcareSchooling,
    /// Long-term care, the elderly.
    Care,
    /// Housing.
    Housing,
    /// Tax and pension.
    TaxPension,
    /// Studying Japanese.
    JapaneseStudy,
    /// Domestic violence.
    DomesticViolence,
    /// Hardship, poverty, debt.
    Hardship,
    /// Anything else.
    Other,
}

impl Topic {
    /// Every topic, in the order screens list them.
    pub const ALL: [Topic; 12] = [
        Topic::ResidenceStatus,
        Topic::Work,
        Topic::Medical,
        Topic::Welfare,
        Topic::ChildcareSchooling,
        Topic::Care,
        Topic::Housing,
        Topic::TaxPension,
        Topic::JapaneseStudy,
        Topic::DomesticViolence,
        Topic::Hardship,
        Topic::Other,
    ];

    /// Its code, as the protocol and the records write it.
    pub fn code(self) -> &'static str {
        match self {
            Topic::ResidenceStatus => "residence_status",
            Topic::Work => "work",
            Topic::Medical => "medical",
            Topic::Welfare => "welfare",
            Topic::ChildcareSchooling => "childcare_schooling",
            Topic::Care => "care",
            Topic::Housing => "housing",
            Topic::TaxPension => "tax_pension",
            Topic::JapaneseStudy => "japanese_study",
            Topic::DomesticViolence => "domestic_violence",
            Topic::Hardship => "hardship",
            Topic::Other => "other",
        }
    }
}

/// What the desk can do when nobody can interpret now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Suggestion {
    /// Someone is rostered later today, from this time (RFC 3339).
    LaterToday {
        /// From when.
        from: String,
    },
    /// Book a slot: someone is rostered from this time on a later day.
    Booking {
        /// From when.
        from: String,
    },
    /// Use a phone interpretation line.
    Phone,
}

/// What a desk receives. Clients ignore fields they do not know: the server may add
/// fields within a protocol version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeskEvent {
    /// The answer to `hello`.
    Welcome(Welcome),
    /// The request is accepted; an interpreter is ringing or it waits.
    Queued {
        /// The request.
        request: u64,
        /// Whether an interpreter is being rung now.
        ringing: bool,
        /// Requests ahead in the same language.
        position: u32,
        /// Estimated wait.
        estimate: WaitEstimate,
    },
    /// An updated place in the queue.
    Position {
        /// The request.
        request: u64,
        /// Whether an interpreter is being rung now.
        ringing: bool,
        /// Requests ahead.
        position: u32,
        /// Estimated wait.
        estimate: WaitEstimate,
    },
    /// A caller on a language line waits: a request of this desk (its phone desk) that
    /// the desk did not make. Its `queued`, `position`, `assigned`, `unserved`, `expired`
    /// and `cancelled` follow as for the desk's own; the desk may cancel it.
    LineCall {
        /// The request.
        request: u64,
        /// The caller's language (BCP 47).
        language: String,
        /// Not a phone caller: a resident from the centre's standing link, who joins the
        /// call from their link once an interpreter answers.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        online: bool,
    },
    /// A booked consultation's slot began: a request of this desk that the desk did not
    /// make, ringing the interpreter held for it (outside the queue). Its `assigned`,
    /// `expired` (the slot ended unanswered) and `cancelled` follow as for the desk's own;
    /// the desk may cancel it.
    BookingCall {
        /// The request.
        request: u64,
        /// The booking.
        booking: u64,
        /// The resident's language (BCP 47).
        language: String,
        /// When the slot ends (RFC 3339).
        ends_at: String,
        /// How the resident takes part: by `phone`, the desk calls them once the
        /// interpreter is in (`dial_out`); by `link`, they join from it.
        #[serde(default)]
        resident: ResidentJoins,
    },
    /// What the desk's language grid can offer: now, later today (from when), by booking
    /// (from when), or only by phone; the same answer a request would get. The whole list
    /// after each `welcome`, then the languages whose answer changed.
    Availability {
        /// The languages.
        languages: Vec<LanguageAvailability>,
    },
    /// Nobody can interpret this now.
    Unserved {
        /// The request.
        request: u64,
        /// What to do instead.
        suggestion: Suggestion,
    },
    /// The request waited the maximum and ended.
    Expired {
        /// The request.
        request: u64,
    },
    /// The request was cancelled.
    Cancelled {
        /// The request.
        request: u64,
    },
    /// An interpreter answered: the call starts.
    Assigned {
        /// The request.
        request: u64,
        /// The call (same number as the request).
        call: u64,
        /// A reference to the interpreter, for `preferred_interpreter` in a returning case.
        interpreter: u32,
        /// The desk's own number in the call.
        #[serde(default)]
        you: u32,
        /// Everyone in the call now, the desk included.
        #[serde(default)]
        participants: Vec<Participant>,
    },
    /// Someone joined the call, or their connection came back.
    ParticipantJoined {
        /// The call.
        call: u64,
        /// Their kind.
        party: Party,
        /// Their number in the call (their media's stream id is `p<participant>`).
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
        /// Whether they left or dropped (and may come back).
        #[serde(default)]
        reason: LeftReason,
    },
    /// The call is over.
    CallEnded {
        /// The call.
        call: u64,
        /// Who ended it.
        by: Party,
    },
    /// A link for someone to join from elsewhere (answers `invite` and `invite_resident`).
    Invite {
        /// The call.
        call: u64,
        /// Who the link is for.
        #[serde(default = "resident")]
        party: Party,
        /// The link to send (`/join/<token>` on this server).
        url: String,
        /// The same link as a QR code, an SVG document.
        qr_svg: String,
        /// When the link stops working (RFC 3339).
        expires_at: String,
    },
    /// A seat for someone to join by phone (answers `invite` with party `phone`): they
    /// call the number and key the PIN, then `#`.
    PhoneInvite {
        /// The call.
        call: u64,
        /// The number to call.
        number: String,
        /// The one-time PIN, six digits.
        pin: String,
        /// When the PIN stops working if unused (RFC 3339).
        expires_at: String,
    },
    /// The gateway is calling the number (answers `dial_out`).
    Dialling {
        /// The call.
        call: u64,
    },
    /// The number could not be reached; nobody joined.
    DialFailed {
        /// The call.
        call: u64,
        /// Why.
        reason: DialFailure,
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
    /// The outcome was recorded.
    OutcomeRecorded {
        /// The call.
        call: u64,
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
    /// Something the desk sent was refused; the connection stays unless said otherwise.
    Error(ProtocolError),
    /// The answer to `ping`.
    Pong,
}

/// One language of the desk's grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LanguageAvailability {
    /// The language (BCP 47).
    pub language: String,
    /// Whether and when it can be served.
    pub state: AvailabilityState,
    /// From when (RFC 3339), for `later_today` and `booking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// Whether a language can be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityState {
    /// Someone is on duty now (a request may still wait).
    Now,
    /// Someone comes on duty later today.
    LaterToday,
    /// Someone is on duty on a later day: book a slot.
    Booking,
    /// Nobody covers it: a phone interpretation line.
    Phone,
}
