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
    /// With `resume`: the highest `seq` of the events the client received before the
    /// drop. The server sends again every later event it still holds, those the old
    /// connection wrote but the client never read included. Without it, the server
    /// sends again only what the old connection did not write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
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
    /// A resident's invite token (from the `/join/<token>` link); for a phone, the token
    /// the gateway got for the PIN the caller keyed (`redeemed`).
    Invite(String),
    /// The phone gateway's secret (the server's `phone_gateway_token`): the `gateway` role.
    Gateway(String),
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
    /// Signing in: the password was right and the account has two-factor sign-in; send
    /// it again with the code from the authenticator app (or a recovery code).
    SecondFactorRequired,
    /// The session may only set up two-factor sign-in, which its account must have
    /// (`/api/me/second-factor`).
    SecondFactorSetup,
    /// Not allowed in the current state (e.g. cancel a request that is already answered).
    NotAllowed,
    /// The thing named does not exist, or not for this client.
    NotFound,
    /// Too many messages: slow down.
    RateLimited,
    /// Media is not available on this server.
    MediaUnavailable,
    /// (After an SDP answer) part of an offer was refused: it has no codec the call uses
    /// (audio: Opus; video: VP8, or H.264 in a call whose first video was H.264). The call
    /// goes on without that kind of media; the message names it.
    CodecUnsupported,
    /// The server is draining for a restart: reconnect shortly.
    ShuttingDown,
    /// A booking's link opened before its consultation has begun (the interpreter has
    /// not answered yet): try again later (`GET /api/invites/<token>` says when it starts).
    NotBegun,
    /// A fault on the server; nothing the client did.
    Internal,
}

/// An error message: a code and a human-readable explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
    /// STUN/TURN servers for the peer connection, when the server has them configured
    /// (for networks where neither UDP nor ICE-TCP to the relay gets through). TURN
    /// credentials are short-lived.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ice_servers: Vec<IceServer>,
}

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IceServer {
    /// `turn:` / `turns:` / `stun:` URLs.
    pub urls: Vec<String>,
    /// The TURN username (an expiry time and a random name, RFC 7635's REST form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The TURN password for that username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The largest document a participant can show, in parts.
pub const MAX_DOCUMENT_PARTS: u32 = 200;

/// The most base64 characters in one part (45,000 bytes of image, so a frame with its
/// envelope stays under [`crate::MAX_FRAME_BYTES`]).
pub const MAX_DOCUMENT_PART_CHARS: usize = 60_000;

/// The kinds of image a document can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DocumentMime {
    /// JPEG, what phone cameras take.
    #[serde(rename = "image/jpeg")]
    Jpeg,
    /// PNG.
    #[serde(rename = "image/png")]
    Png,
    /// WebP.
    #[serde(rename = "image/webp")]
    Webp,
}

/// One part of a document a participant shows the others in the call: a photo of a
/// residence card, a letter, a form. The server passes each part on and keeps nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentPart {
    /// The sender's number for this document (the parts of one document share it).
    pub id: u32,
    /// This part's index, from 0.
    pub part: u32,
    /// How many parts the document has, at most [`MAX_DOCUMENT_PARTS`].
    pub parts: u32,
    /// The image's type.
    pub mime: DocumentMime,
    /// The part's bytes in standard base64, at most [`MAX_DOCUMENT_PART_CHARS`].
    pub data: String,
}

impl DocumentPart {
    /// Check the numbers and the encoding; the error says what is wrong.
    pub fn check(&self) -> Result<(), ProtocolError> {
        let bad = |m: String| ProtocolError { code: ErrorCode::InvalidField, message: m };
        if self.parts == 0 || self.parts > MAX_DOCUMENT_PARTS {
            return Err(bad(format!("document.parts: {} is not 1 to {MAX_DOCUMENT_PARTS}", self.parts)));
        }
        if self.part >= self.parts {
            return Err(bad(format!("document.part: {} is not below parts ({})", self.part, self.parts)));
        }
        if self.data.is_empty() || self.data.len() > MAX_DOCUMENT_PART_CHARS {
            return Err(bad(format!(
                "document.data: {} characters; a part has 1 to {MAX_DOCUMENT_PART_CHARS}",
                self.data.len()
            )));
        }
        let b = self.data.as_bytes();
        let body = b.strip_suffix(b"==").or_else(|| b.strip_suffix(b"=")).unwrap_or(b);
        if b.len() % 4 != 0 || !body.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/') {
            return Err(bad("document.data: not standard base64".into()));
        }
        Ok(())
    }
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

/// What kind of participant someone in a call is, without names. A call has one desk
/// and one interpreter, and any number of the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The desk.
    Desk,
    /// The interpreter.
    Interpreter,
    /// A resident joining remotely, from a link.
    Resident,
    /// A leg on an ordinary phone line, bridged by the phone gateway.
    Phone,
    /// A guest from a link: a remote specialist (a lawyer, an immigration officer), or a
    /// second member of staff.
    Guest,
}

impl Party {
    /// Every kind, in order.
    pub const ALL: [Party; 5] = [Party::Desk, Party::Interpreter, Party::Resident, Party::Phone, Party::Guest];

    /// The lowercase name, as on the wire and in metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Desk => "desk",
            Party::Interpreter => "interpreter",
            Party::Resident => "resident",
            Party::Phone => "phone",
            Party::Guest => "guest",
        }
    }
}

/// Someone in a call: their number within the call and their kind. The relay's stream
/// ids are `p<id>`: a track whose stream id is `p3` is participant 3's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Participant {
    /// Their number within the call, stable across their reconnections.
    pub id: u32,
    /// Their kind.
    pub party: Party,
    /// Their connection is down; they may come back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub away: bool,
    /// Their microphone is off (they said so with `media_state`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub muted: bool,
    /// Their camera is off, or they send no video (audio only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub camera_off: bool,
}

/// Why someone is no longer in a call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    /// They left (or their session ended).
    #[default]
    Left,
    /// Their connection dropped: they may come back within the resume grace
    /// (`participant_joined` says so).
    Dropped,
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
