//! A client of kakehashi written against the protocol crate's own types, for everything
//! that plays a client: the server's tests, the load tool, and the phone gateway.
//!
//! - [`Signal`]: one signalling connection in a role ([`Desk`], [`Interpreter`],
//!   [`Resident`], [`Supervisor`]): the hello (resuming with the last event number it
//!   saw), typed commands out, typed events in ([`kakehashi_protocol::Sequenced`]), and the
//!   server's close frame with its reason.
//! - [`Peer`]: a WebRTC participant (`webrtc` 0.21.1) that publishes RTP it is given on
//!   an Opus track and optionally a VP8 one, answers the relay's offers, and hands every
//!   packet it receives, with the stream id that says whose it is, to a [`Packets`] sink.
//! - [`join_media`]: a participant's media over its signalling connection: our offer, the
//!   relay's answer, then its renegotiation offers answered, until stopped.

mod error;
mod media;
mod peer;
mod signal;

pub use error::ClientError;
pub use media::{MediaRole, MediaSession, join_media};
pub use peer::{Packets, Peer, PeerOptions, Received, States, VIDEO_SSRC_OFFSET};
pub use signal::{Desk, Gateway, Interpreter, Resident, Role, Signal, SignalRx, SignalTx, Supervisor};
