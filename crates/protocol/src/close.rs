//! Why the server closes a connection: every connection it closes gets a WebSocket close
//! frame with one of these codes and its reason (RFC 6455 §7.4: 1000–1015 are the
//! standard's, 4000–4999 are ours).

/// A reason the server closes a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The call is over, or the participant left it (1000).
    Done,
    /// The server is restarting: reconnect shortly and resume (1001).
    ShuttingDown,
    /// A frame too large to read at all (1009); frames over `MAX_FRAME_BYTES` but under
    /// [`READ_LIMIT_BYTES`] get an `error {code: "too_large"}` and the connection stays.
    TooLarge,
    /// A newer connection of the same client took its session over (4000).
    Replaced,
    /// The session was signed out (4001).
    SignedOut,
    /// The session expired: sign in again (4002).
    Expired,
    /// The hello was refused: wrong credential or protocol version (4003); an `error`
    /// frame before the close says which.
    Refused,
    /// The client did not read its events fast enough: reconnect and resume (4004).
    TooSlow,
    /// Silent for three heartbeats (4005).
    Idle,
    /// Too many refused frames (4006).
    Garbage,
    /// The session ended on the server: its credential was revoked, or it was away
    /// longer than the grace (4007).
    Ended,
}

/// The largest frame the server reads; bigger ones close the connection (1009).
pub const READ_LIMIT_BYTES: usize = 256 * 1024;

impl CloseReason {
    /// The close code.
    pub fn code(self) -> u16 {
        match self {
            CloseReason::Done => 1000,
            CloseReason::ShuttingDown => 1001,
            CloseReason::TooLarge => 1009,
            CloseReason::Replaced => 4000,
            CloseReason::SignedOut => 4001,
            CloseReason::Expired => 4002,
            CloseReason::Refused => 4003,
            CloseReason::TooSlow => 4004,
            CloseReason::Idle => 4005,
            CloseReason::Garbage => 4006,
            CloseReason::Ended => 4007,
        }
    }

    /// The close frame's reason text.
    pub fn reason(self) -> &'static str {
        match self {
            CloseReason::Done => "done",
            CloseReason::ShuttingDown => "shutting down",
            CloseReason::TooLarge => "frame too large",
            CloseReason::Replaced => "replaced by a newer connection",
            CloseReason::SignedOut => "signed out",
            CloseReason::Expired => "session expired",
            CloseReason::Refused => "hello refused",
            CloseReason::TooSlow => "too slow to read its events",
            CloseReason::Idle => "silent for three heartbeats",
            CloseReason::Garbage => "too many refused frames",
            CloseReason::Ended => "session ended",
        }
    }

    /// The reason of a close code, if it is one of these.
    pub fn from_code(code: u16) -> Option<CloseReason> {
        [
            CloseReason::Done,
            CloseReason::ShuttingDown,
            CloseReason::TooLarge,
            CloseReason::Replaced,
            CloseReason::SignedOut,
            CloseReason::Expired,
            CloseReason::Refused,
            CloseReason::TooSlow,
            CloseReason::Idle,
            CloseReason::Garbage,
            CloseReason::Ended,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}
