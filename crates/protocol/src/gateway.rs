//! The phone gateway's control connection (ADR 0015): the bridge between phone lines and
//! calls holds one, with its secret (`Credential::Gateway`). Over it, it redeems the PIN
//! a caller keyed for the seat's token; each phone leg then joins its call with that token
//! in the `resident` role, as party `phone`.

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
    /// Keep-alive.
    Ping {},
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
    /// Something was refused.
    Error(ProtocolError),
    /// The answer to `ping`.
    Pong,
}
