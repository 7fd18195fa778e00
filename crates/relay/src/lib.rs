//! The media relay of kakehashi: a selective forwarding unit in which every participant's
//! peer connection shares **one UDP port**.
//!
//! All sans-I/O:
//! - [`classify`]: what a datagram is (STUN, DTLS, RTP, RTCP), by RFC 7983's first-byte rule;
//! - [`stun`]: a strict parser of the STUN header and its USERNAME attribute;
//! - [`Demux`]: which leg (participant connection) a datagram belongs to: by source
//!   address once learned, otherwise by the ICE username of a STUN binding request, with
//!   a bound on addresses per leg, eviction when a leg closes, junk from unknown sources
//!   dropped after a header's look whichever host sent it, and a budget ([`budget`]) of
//!   connectivity checks per leg, so no flood can crowd out new participants.
//!
//! - [`Relay`]: legs, one `rtc` peer connection per participant (ICE-lite, own ICE
//!   credentials, one host candidate: the shared address, and optionally a passive
//!   ICE-TCP candidate whose connections are cut into packets by [`framing`]), driven
//!   through the demux;
//!   an address is confirmed when the leg's ICE agent answers it with a binding success.
//!   Legs are grouped in sessions: each participant's tracks are added to every other
//!   leg (server-initiated renegotiation) and its RTP forwarded with SSRC and payload
//!   type rewritten per receiving leg.
//!
//! Each leg terminates its own RTCP (reports, NACK, TWCC) through `rtc`'s interceptors;
//! [`Feedback`] passes keyframe requests and reception reports to the relay, which
//! forwards the former (throttled) and reads the latter for round-trip time and the
//! bandwidth policy (ADR 0007). [`codec`] chooses a session's video codec and finds
//! keyframes; forwarded headers keep their sequence numbers and timestamps continuous
//! across a publisher's reconnect. [`Relay::leg_stats`] gives per-leg statistics. The UDP
//! loop that drives the relay is `kakehashi serve`'s `media/`. [`Relay::new`] takes its
//! start time and its source of randomness: the relay reads no clock and draws nothing
//! on its own. With the `testnet` feature, `testnet` is an in-memory network on simulated
//! time (seeded randomness, `rtc` clients) for the tests and the forwarding benchmark.

pub mod budget;
pub mod codec;
mod demux;
mod feedback;
pub mod framing;
mod relay;
mod rewrite;
pub mod stun;
#[cfg(feature = "testnet")]
pub mod testnet;

pub use demux::{Demux, DemuxStats, Drop, Kind, MAX_ADDRESSES_PER_LEG, PROBES_PER_LEG_PER_SEC, Route, classify};
pub use feedback::{FEEDBACK_SLOT, Feedback, has_reception_reports, is_keyframe_request};
pub use relay::{
    CONNECT_WITHIN, LegEvent, LegId, LegStats, MediaStats, OsRandom, Peer, Randomness, Relay, RelayError, SessionId,
    Start, Transmit, Transport,
};
