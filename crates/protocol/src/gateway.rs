//! The phone gateway's control connection (ADR 0015, 0016): the bridge between phone
//! lines and calls holds one, with its secret (`Credential::Gateway`). Over it, it redeems
//! the PIN a caller keyed for the seat's token, takes orders to dial a number for a seat,
//! and puts callers of a language line in the queue of the line's desk; each phone leg
//! then joins its call with the seat's token in the `resident` role, as party `phone`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::*;

/// What the gateway sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum GatewayCommand {
    /// A caller keyed this PIN: the seat it opens, if any (answered by `redeemed` or
    /// `pin_refused`, naming the PIN).
    RedeemPin {
        /// The digits keyed, without `#`.
        pin: String,
    },
    /// A `dial` could not be completed (the seat is closed; the desk is told why). A
    /// call that is answered says nothing: its phone joins with the token.
    DialFailed {
        /// The dial's number.
        dial: u64,
        /// Why.
        reason: DialFailure,
    },
    /// A caller on a language line: a request for `language` on behalf of `desk` (the
    /// line's phone desk), answered by `line_queued`, `line_answered` or `line_ended`
    /// naming `line`. The caller's number is not sent.
    LineCall {
        /// The gateway's number for this caller, unique on this connection.
        line: u64,
        /// The desk that answers the line (its centre staff).
        desk: i64,
        /// The caller's language (BCP 47), from the line or its menu.
        language: String,
    },
    /// The caller hung up before an interpreter answered: the request is abandoned.
    LineHangup {
        /// The caller.
        line: u64,
    },
    /// An interpreter reached by phone answered `offer_call`: 1 (`accept: true`) or 2.
    /// An accept is answered by `offer_taken` (join with the order's token) or
    /// `offer_closed` (too late).
    OfferAnswer {
        /// The offer.
        offer: u64,
        /// Accepted, or declined.
        accept: bool,
    },
    /// Keep-alive.
    Ping {},
}

/// Why a language line's caller was not put through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineEnd {
    /// The line's desk is not open: outside the centre's opening hours (where its
    /// municipality has set them), not connected, or the server is stopping.
    Closed,
    /// No interpreter can take it now, or the queue is full: call again later.
    Unserved,
    /// The request waited the longest a request may and ended.
    Expired,
    /// The desk cancelled it.
    Cancelled,
    /// The line is set up wrongly (no such desk, or a language the server does not
    /// know): the gateway's configuration must be fixed.
    Misconfigured,
}

/// Why a call placed by the gateway did not connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DialFailure {
    /// It rang until the gateway gave up.
    NoAnswer,
    /// The line was busy (SIP 486, 600).
    Busy,
    /// The number does not exist or was refused (SIP 404, 484, 403…).
    Refused,
    /// The trunk could not be reached or failed.
    Unreachable,
}

/// What the gateway receives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GatewayEvent {
    /// The answer to `hello`.
    Welcome(Welcome),
    /// The PIN opens a seat: join with this token (`Credential::Invite`). The PIN is used
    /// up; the token works like a used link (a seat while the call lives).
    Redeemed {
        /// The PIN.
        pin: String,
        /// The seat's token.
        token: String,
        /// The call's language (BCP 47): the caller's prompts.
        language: String,
    },
    /// No open seat has this PIN (wrong, used, expired, or its call ended).
    PinRefused {
        /// The PIN.
        pin: String,
    },
    /// Call `number` for a desk and join the phone to the call with `token` (as with a
    /// redeemed PIN). The number is for this call only: never stored or logged.
    Dial {
        /// This order's number, named in `dial_failed`.
        dial: u64,
        /// The seat's token.
        token: String,
        /// The number to call.
        number: String,
        /// The call's language (BCP 47).
        language: String,
    },
    /// A line caller's place in the queue (sent when it changes).
    LineQueued {
        /// The caller.
        line: u64,
        /// Whether an interpreter is being rung for it now.
        ringing: bool,
        /// Requests ahead of it in the same language.
        ahead: u32,
        /// How long the wait may be.
        estimate: WaitEstimate,
    },
    /// An interpreter answered the caller's request: join the call with this token (as
    /// with a redeemed PIN).
    LineAnswered {
        /// The caller.
        line: u64,
        /// The seat's token.
        token: String,
    },
    /// The caller's request ended unanswered: say why and hang up.
    LineEnded {
        /// The caller.
        line: u64,
        /// Why.
        reason: LineEnd,
    },
    /// Ring an interpreter reached by phone with an offer: say the language, take 1 to
    /// accept and 2 to decline (`offer_answer`); no answer within `ring_secs` is a missed
    /// offer. Once taken, the phone joins the call with `token` (`Credential::Invite`)
    /// as its interpreter. The number is for this call only: never stored or logged by
    /// the gateway.
    OfferCall {
        /// The offer.
        offer: u64,
        /// The seat's token, usable once the offer is taken.
        token: String,
        /// The interpreter's number.
        number: String,
        /// The request's language (BCP 47).
        language: String,
        /// How long the offer rings.
        ring_secs: u32,
    },
    /// An accepted offer is the interpreter's: join with the order's token.
    OfferTaken {
        /// The offer.
        offer: u64,
    },
    /// The offer ended without this interpreter (missed, answered elsewhere, cancelled,
    /// or declined): stop ringing, or tell them it is gone. Sent to every gateway.
    OfferClosed {
        /// The offer.
        offer: u64,
    },
    /// Something was refused.
    Error(ProtocolError),
    /// The answer to `ping`.
    Pong,
}
