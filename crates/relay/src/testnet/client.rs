//! A client of the test network: its `rtc` peer connection, what it publishes and what it
//! received.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use rtc::peer_connection::RTCPeerConnection;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};
use rtc::shared::error::Error;
use rtc::shared::{TaggedBytesMut, TransportContext};

use crate::codec::FORWARDED_EXTENSIONS;
use crate::{LegId, SessionId, Transport};

/// An RTP packet a client received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Its SSRC.
    pub ssrc: u32,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// Payload type.
    pub payload_type: u8,
    /// Header extensions (id, value).
    pub extensions: Vec<(u8, Bytes)>,
    /// The payload.
    pub payload: Bytes,
    /// When (simulated).
    pub at: Instant,
}

/// What a client publishes and how.
#[derive(Clone, Copy, Debug)]
pub struct Publish {
    /// An Opus track.
    pub audio: bool,
    /// A VP8 track.
    pub video: bool,
    /// The payload types the client registers for Opus and VP8 (the relay translates).
    pub payload_types: (u8, u8),
}

impl Default for Publish {
    fn default() -> Self {
        Publish { audio: true, video: true, payload_types: (111, 96) }
    }
}

/// A participant's side.
pub struct Client {
    /// Its peer connection.
    pub pc: RTCPeerConnection,
    /// Its address.
    pub addr: SocketAddr,
    /// UDP, or a TCP connection to the relay's passive candidate.
    pub transport: Transport,
    /// Its leg in the relay.
    pub leg: LegId,
    /// Its session.
    pub session: SessionId,
    /// Its number in the session.
    pub participant: u64,
    pub(super) senders: [Option<(RTCRtpSenderId, u32)>; 2],
    pub(super) publish: Publish,
    pub(super) next_seq: [u16; 2],
    pub(super) next_ts: [u32; 2],
    /// ICE and DTLS are up.
    pub connected: bool,
    /// Replaced or left: no longer on the network.
    pub gone: bool,
    /// RTP received, in order of arrival.
    pub received: Vec<Received>,
    /// Keyframe requests received.
    pub keyframe_requests: Vec<Instant>,
    /// Renegotiation offers from the relay.
    pub offers: u32,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("addr", &self.addr).field("leg", &self.leg).finish_non_exhaustive()
    }
}

impl Client {
    /// The SSRC it publishes `video` or audio with.
    pub fn ssrc(&self, video: bool) -> Option<u32> {
        self.senders[usize::from(video)].map(|(_, ssrc)| ssrc)
    }
}

/// A datagram as `rtc` takes it.
pub(super) fn tagged(
    now: Instant,
    local: SocketAddr,
    peer: SocketAddr,
    transport: Transport,
    data: &[u8],
) -> TaggedBytesMut {
    TaggedBytesMut {
        now,
        transport: TransportContext {
            local_addr: local,
            peer_addr: peer,
            ecn: None,
            transport_protocol: transport.protocol(),
        },
        message: BytesMut::from(data),
    }
}

pub(super) fn client_engine(publish: Publish) -> Result<MediaEngine, Error> {
    let mut me = MediaEngine::default();
    let fb = |typ: &str, parameter: &str| RTCPFeedback { typ: typ.into(), parameter: parameter.into() };
    me.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: "audio/opus".into(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
                rtcp_feedback: vec![],
            },
            payload_type: publish.payload_types.0,
        },
        RtpCodecKind::Audio,
    )?;
    me.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: "video/VP8".into(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: vec![fb("nack", ""), fb("nack", "pli"), fb("ccm", "fir")],
            },
            payload_type: publish.payload_types.1,
        },
        RtpCodecKind::Video,
    )?;
    me.register_header_extension(
        RTCRtpHeaderExtensionCapability { uri: FORWARDED_EXTENSIONS[0].into() },
        RtpCodecKind::Audio,
        None,
    )?;
    Ok(me)
}

pub(super) fn codec_of(video: bool) -> RTCRtpCodec {
    if video {
        RTCRtpCodec { mime_type: "video/VP8".into(), clock_rate: 90_000, ..Default::default() }
    } else {
        RTCRtpCodec {
            mime_type: "audio/opus".into(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
            rtcp_feedback: vec![],
        }
    }
}
