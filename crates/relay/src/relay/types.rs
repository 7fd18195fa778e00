//! What the relay's callers see: legs and sessions, where participants are, what to send,
//! what happened, why something was refused, and statistics.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use rtc::shared::TransportProtocol;

/// A participant's connection to the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LegId(pub u64);

/// A call: the legs whose media is forwarded to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

/// How packets travel between the relay and a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Datagrams on the shared UDP port.
    Udp,
    /// ICE-TCP (RFC 6544): RFC 4571 frames on a connection the participant opened to the
    /// relay's passive TCP candidate.
    Tcp,
}

/// Where a participant is: a UDP source address, or a TCP connection's remote address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Which transport.
    pub transport: Transport,
    /// The remote address.
    pub addr: SocketAddr,
}

impl Transport {
    /// `rtc`'s name for it.
    pub(crate) fn protocol(self) -> TransportProtocol {
        match self {
            Transport::Udp => TransportProtocol::UDP,
            Transport::Tcp => TransportProtocol::TCP,
        }
    }

    /// From `rtc`'s name.
    pub(crate) fn of(protocol: TransportProtocol) -> Transport {
        if protocol == TransportProtocol::TCP { Transport::Tcp } else { Transport::Udp }
    }
}

impl Peer {
    /// A UDP source.
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer { transport: Transport::Udp, addr }
    }

    /// A TCP connection, by its remote address.
    pub fn tcp(addr: SocketAddr) -> Peer {
        Peer { transport: Transport::Tcp, addr }
    }
}

/// A packet for a participant: a datagram to send, or a packet to frame and write on the
/// TCP connection from `to.addr`.
#[derive(Debug)]
pub struct Transmit {
    /// Where.
    pub to: Peer,
    /// What.
    pub data: BytesMut,
}

/// How long a leg may take to connect (ICE and DTLS) after the relay's answer before
/// [`LegEvent::NotConnected`]. A leg connects in well under a second on a working path,
/// in a few seconds through loss (each DTLS flight is retransmitted after a second), and
/// through a TURN server reached over TLS in a few more. The relay's own DTLS (`rtc`)
/// gives up eight seconds after its flight went unanswered, and says so to nobody: after
/// that the handshake cannot complete. Fifteen seconds outlasts that with room, and leaves
/// a new leg time to connect before a person gives up on the call (the load tool's check
/// allows 30 s from the first offer, retries included).
pub const CONNECT_WITHIN: std::time::Duration = std::time::Duration::from_secs(15);

/// What happened to a leg.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LegEvent {
    /// ICE and DTLS are up.
    Connected,
    /// The relay renegotiates (a participant's track to add): send this offer to the
    /// participant and give its answer to [`Relay::accept_answer`].
    Offer(String),
    /// The bandwidth policy stopped sending video to this participant (its reports show
    /// sustained loss); audio goes on.
    VideoPaused,
    /// Video to this participant resumes (from the next keyframe).
    VideoResumed,
    /// The connection failed (consent lost, DTLS failure).
    Failed,
    /// The leg did not connect within [`CONNECT_WITHIN`] of the relay's answer: no
    /// connectivity check reached it, or its DTLS handshake stalled (each side's
    /// retransmissions lost, until one gave up without a word). Nothing will come of it:
    /// remove it, and have the participant make a new leg.
    NotConnected,
    /// The connection closed.
    Closed,
}

/// Why the relay refused something.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The participant's offer or the peer connection refused it.
    #[error("webrtc: {0}")]
    Rtc(#[from] rtc::shared::error::Error),
    /// No such leg.
    #[error("unknown leg")]
    UnknownLeg,
    /// An answer came when no offer of the relay's was waiting for one (a stale answer
    /// after the participant made a new offer, or a duplicate).
    #[error("no offer from the relay is waiting for an answer")]
    NoOfferOut,
    /// The operating system's random generator failed.
    #[error("no randomness for ICE credentials")]
    Random,
}

/// Statistics of one kind of media on one leg, cumulative since the leg started.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MediaStats {
    /// RTP packets received from the participant (what it publishes).
    pub packets_received: u64,
    /// Their bytes (headers and payload).
    pub bytes_received: u64,
    /// Packets of the participant's streams lost on the way to the relay.
    pub packets_lost: u64,
    /// Interarrival jitter of the participant's streams, seconds (the largest).
    pub jitter: f64,
    /// NACKs the relay sent the participant (asking for retransmissions).
    pub nacks_sent: u64,
    /// Keyframe requests the relay sent the participant.
    pub keyframe_requests_sent: u64,
    /// RTP packets sent to the participant (the others' streams).
    pub packets_sent: u64,
    /// Their bytes.
    pub bytes_sent: u64,
    /// Packets the participant reported lost of those the relay sent it.
    pub remote_packets_lost: u64,
    /// NACKs the participant sent.
    pub nacks_received: u64,
    /// Keyframe requests the participant sent.
    pub keyframe_requests_received: u64,
}

/// Statistics of one leg.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LegStats {
    /// Audio.
    pub audio: MediaStats,
    /// Video.
    pub video: MediaStats,
    /// The latest round-trip time, from the participant's reception reports.
    pub rtt: Option<Duration>,
    /// Whether the bandwidth policy holds video back from this participant now.
    pub video_paused: bool,
    /// How many times it did.
    pub video_pauses: u32,
}
