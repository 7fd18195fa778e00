//! `kakehashi-load`: the load and benchmark tool. It plays desks, interpreters and
//! residents over the real signalling protocol and real WebRTC, as `kakehashi-client`'s
//! typed clients (`webrtc` 0.21.1 participants sending synthetic RTP at realistic rates, with send times
//! inside the payload), against a `kakehashi` server it starts itself or one given by
//! URL, and the same media load against Janus for a side-by-side figure.
//!
//! Scenarios (`kakehashi-load <scenario> --help`):
//! - `storm`: many desks and interpreters over many languages, a busy morning compressed;
//!   the system's share of connect time (request → offer) and accept → call;
//! - `media`: three-party sessions with audio and video; one-way latency and loss
//!   through the relay, media flowing after accept, the server's CPU per forwarded packet
//!   and memory per session (from `/proc`); `--janus` runs the same load against Janus
//!   afterwards and reports the ratio;
//! - `soak`: churn (joins, leaves, reconnects, abandoned requests) for a while, then a
//!   check that every completed call has exactly one call record;
//! - `endure`: calls with media and churn for a long time, the server's memory and
//!   descriptors sampled; then every call's record, every join's media and the
//!   descriptors checked;
//! - `idle`: many idle WebSocket connections, and the server's memory for each.
//!
//! Every scenario prints a readable summary and, with `--json`, one JSON object.

pub mod cluster;
pub mod costs;
pub mod http;
pub mod janus;
pub mod media;
pub mod proc;
pub mod report;
pub mod scenarios;
pub mod server;

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Starting or reaching a server.
    #[error("server: {0}")]
    Server(String),
    /// An HTTP call failed or was refused.
    #[error("http {path}: {message}")]
    Http {
        /// The path.
        path: String,
        /// What happened.
        message: String,
    },
    /// A client of the server (signalling or media) failed.
    #[error("client: {0}")]
    Client(#[from] kakehashi_client::ClientError),
    /// WebRTC.
    #[error("webrtc: {0}")]
    Media(String),
    /// Janus said no.
    #[error("janus: {0}")]
    Janus(String),
    /// A check at the end of a run failed.
    #[error("check failed: {0}")]
    Check(String),
    /// Input or output.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
