//! Messages and types shared by every role.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The first frame of every connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// Always `"hello"`.
    #[serde(rename = "type")]
    pub kind: HelloTag,
    /// The protocol version the client speaks; see `PROTOCOL_VERSION`.
    pub protocol: u32,
    /// Who the client is.
    pub credential: Credential,
    /// A resume token from an earlier `welcome`, to take back a dropped session
    /// (its queued request keeps its place, its call stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
}

/// The tag of [`Hello`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HelloTag {
    /// The only value.
    Hello,
}

/// How a client proves who it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Credential {
    /// A desk's device token (from its enrolment code).
    DeskToken(String),
    /// A session token from signing in with a password (interpreters, supervisors).
    Session(String),
    /// A resident's invite token (from the `/join/<token>` link).
    Invite(String),
}

/// What went wrong, for a client to act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON.
    BadJson,
    /// The `type` is not a message of this role.
    UnknownType,
    /// A field is missing, unknown or of the wrong kind or value.
    InvalidField,
    /// The frame exceeds the size limit.
    TooLarge,
    /// The client speaks another protocol version.
    ProtocolVersion,
    /// The credential is missing, wrong, expired or revoked.
    Unauthorized,
    /// Not allowed in the current state (e.g. cancel a request that is already answered).
    NotAllowed,
    /// The thing named does not exist, or not for this client.
    NotFound,
    /// Too many messages: slow down.
    RateLimited,
    /// Media is not available on this server.
    MediaUnavailable,
    /// The server is draining for a restart: reconnect shortly.
    ShuttingDown,
    /// A fault on the server; nothing the client did.
    Internal,
}

/// An error message: a code and a human-readable explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolError {
    /// What went wrong.
    pub code: ErrorCode,
    /// Details for people and logs; never personal data.
    pub message: String,
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ProtocolError {}

/// Sent once, after a valid `hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Welcome {
    /// The protocol version the server speaks.
    pub protocol: u32,
    /// Present to `hello.resume` after a dropped connection, within `resume_grace_secs`.
    pub resume_token: String,
    /// The server pings at this interval; a client silent for three intervals is dropped.
    pub heartbeat_secs: u32,
    /// How long after a drop the session can be resumed.
    pub resume_grace_secs: u32,
    /// Whether this connection took over an earlier session.
    pub resumed: bool,
}

/// How a party takes part in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Audio and video.
    Video,
    /// Audio only.
    Audio,
    /// A phone line.
    Phone,
}

/// Subject matter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Speciality {
    /// Everyday matters.
    General,
    /// Residence status.
    Immigration,
    /// Work and wages.
    Labour,
    /// Health care.
    Medical,
    /// Legal matters.
    Legal,
    /// Mental health.
    MentalHealth,
}

/// An SDP offer or answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionDescription {
    /// `offer` or `answer`.
    pub kind: SdpKind,
    /// The SDP text.
    pub sdp: String,
}

/// The kind of a session description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SdpKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

/// Who is in a call, without names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The desk.
    Desk,
    /// The interpreter.
    Interpreter,
    /// The resident joining remotely.
    Resident,
}

/// The bucketed estimated wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitEstimate {
    /// Under a minute.
    UnderOneMinute,
    /// One to three minutes.
    OneToThreeMinutes,
    /// Three to five minutes.
    ThreeToFiveMinutes,
    /// Five to ten minutes.
    FiveToTenMinutes,
    /// Ten to twenty minutes.
    TenToTwentyMinutes,
    /// Twenty minutes or more.
    OverTwentyMinutes,
    /// Not enough data.
    Unknown,
}
