//! The phone bridge: residents and interpreters on ordinary phone lines, in the same calls
//! as everyone else (issue 14, `../shared/research/sip-bridge.md`).
//!
//! A phone leg is a SIP dialog with a trunk or a PBX and its RTP in G.711. The bridge joins
//! the call as a participant of kind `phone`, a client of the server like any other: what
//! the phone says enters the call as its own Opus track, and the phone hears an N−1 mix of
//! everyone else.
//!
//! This crate grows from the pure parts, each tested on its own, no I/O:
//! - [`g711`]: PCMU and PCMA, sample by sample;
//! - [`dtmf`]: keys pressed on the phone, from RFC 4733 events or SIP INFO bodies;
//! - [`jitter`]: a small reorder buffer that hands out one frame per 20 ms tick;
//! - [`mixer`]: the N−1 mix (everyone's sum less one's own), clamped;
//! - [`sdp`]: the SIP side's offer and answer for one audio stream (RFC 3264);
//! - [`rtp`]: RTP packets read and written;
//! - [`leg`]: one phone leg's media: symmetric RTP, G.711, keys, a 20 ms clock;
//! - [`gateway`]: the SIP endpoint: calls from the trunks' addresses answered, each
//!   handed to a [`gateway::Switchboard`];
//! - [`register`]: staying registered with a trunk's registrar;
//! - [`dial`]: calls the bridge places through a trunk;
//! - [`timer`]: session timers (RFC 4028), so long calls are not cut by a carrier;
//! - [`opus`]: a phone's voice to Opus and browsers' Opus to the phone, at 8 kHz;
//! - [`callmix`]: one call's sound for its phones: each source decoded once, N−1 mixes,
//!   each phone's voice encoded once;
//! - [`wav`] and [`prompts`]: what callers are told, in their language;
//! - [`metrics`]: the bridge's `kakehashi_phone_*` metrics;
//! - [`tone`]: test tones and Goertzel, for tests and benchmarks;
//! - [`bridge`]: the switchboard that joins phone calls to kakehashi's calls.

pub mod bridge;
pub mod callmix;
pub mod dial;
pub mod dtmf;
pub mod g711;
pub mod gateway;
pub mod jitter;
pub mod leg;
pub mod metrics;
pub mod mixer;
pub mod opus;
mod prompt_files;
pub mod prompts;
pub mod register;
pub mod rtp;
pub mod sdp;
pub mod timer;
pub mod tone;
pub mod wav;

/// Samples in one 20 ms frame at the phone's 8 kHz.
pub const FRAME_8K: usize = 160;
