//! The media relay of kakehashi: a selective forwarding unit in which every participant's
//! peer connection shares **one UDP port**.
//!
//! Built so far (issue 4 is in progress), all sans-I/O:
//! - [`classify`]: what a datagram is (STUN, DTLS, RTP, RTCP), by RFC 7983's first-byte rule;
//! - [`stun`]: a strict parser of the STUN header and its USERNAME attribute;
//! - [`Demux`]: which leg (participant connection) a datagram belongs to: by source
//!   address once learned, otherwise by the ICE username of a STUN binding request, with
//!   a bound on addresses per leg, eviction when a leg closes, and a rate limit on the
//!   work spent on datagrams from unknown sources.
//!
//! - [`Relay`]: legs, one `rtc` peer connection per participant (ICE-lite, own ICE
//!   credentials, one host candidate: the shared address), driven through the demux;
//!   an address is confirmed when the leg's ICE agent answers it with a binding success.
//!   Legs are grouped in sessions: each participant's tracks are added to every other
//!   leg (server-initiated renegotiation) and its RTP forwarded with SSRC and payload
//!   type rewritten per receiving leg.
//!
//! Each leg terminates its own RTCP (reports, NACK, TWCC) through `rtc`'s interceptors,
//! and [`KeyframeRequests`] passes keyframe requests between subscribers and publishers.
//! The bandwidth policy, statistics, continuity across reconnects and ICE over TCP come
//! next. The UDP loop that drives the relay is `kakehashi serve`'s `media.rs`.

mod demux;
mod keyframes;
mod relay;
pub mod stun;

pub use demux::{Demux, DemuxStats, Drop, Kind, MAX_ADDRESSES_PER_LEG, Route, classify};
pub use keyframes::{KEYFRAME_REQUESTS_SLOT, KeyframeRequests, is_keyframe_request};
pub use relay::{LegEvent, LegId, Relay, RelayError, SessionId};
