//! Legs (one `rtc` peer connection per participant) and sessions (a call's legs), the
//! streams they publish and forward, and how a leg leaves: replaced by its participant's
//! new leg, or removed.

use std::time::{Duration, Instant};

use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::MediaStreamTrackId;
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use rtc::rtp_transceiver::{RTCRtpReceiverId, RTCRtpSenderId};
use rtc::sansio::Protocol;
use rustc_hash::FxHashMap;

use super::congestion::Congestion;
use super::{LegId, Relay, RelayError, SessionId};
use crate::codec::VideoCodec;
use crate::feedback::{FEEDBACK_SLOT, Feedback};
use crate::rewrite::{Continuity, ExtensionIds};

/// One stream a participant publishes, as the session knows it across reconnects: the
/// participant, audio or video, and its ordinal among the participant's streams of that
/// kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Source {
    pub(super) participant: u64,
    pub(super) video: bool,
    pub(super) n: u8,
}

/// A track a participant publishes.
#[derive(Clone, Debug)]
pub(super) struct Inbound {
    pub(super) source: Source,
    pub(super) codec: RTCRtpCodec,
    pub(super) receiver: RTCRtpReceiverId,
    /// The ids of the forwarded header extensions on this leg.
    pub(super) ext: ExtensionIds,
}

/// Keyframe requests to one publisher's track at most this often.
pub(super) const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// Whether a receiving track gets video now (the bandwidth policy, ADR 0007).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Forwarding,
    Paused,
    /// Resumed: forwarding starts at the next keyframe.
    AwaitingKeyframe,
}

/// A track a leg sends: another participant's, forwarded.
#[derive(Clone, Debug)]
pub(super) struct Outbound {
    pub(super) sender: RTCRtpSenderId,
    pub(super) ssrc: u32,
    pub(super) codec: RTCRtpCodec,
    pub(super) video: bool,
    /// Added since the leg's last answer: ask the publisher for a keyframe when it lands.
    pub(super) fresh: bool,
    /// The payload type and extension ids on this leg, known once the leg has answered.
    pub(super) pt: Option<u8>,
    pub(super) ext: ExtensionIds,
    pub(super) continuity: Continuity,
    pub(super) flow: Flow,
}

pub(super) struct Leg {
    pub(super) pc: RTCPeerConnection,
    pub(super) session: SessionId,
    pub(super) participant: u64,
    pub(super) connected: bool,
    /// Until it connects: when it is given up ([`super::LegEvent::NotConnected`]).
    pub(super) connect_by: Option<Instant>,
    /// Tracks this participant publishes.
    pub(super) inbound: FxHashMap<MediaStreamTrackId, Inbound>,
    /// Tracks this leg sends, by source.
    pub(super) outbound: FxHashMap<Source, Outbound>,
    /// The same, by the id of the local sending track (how its RTCP is tagged)...
    pub(super) outbound_by_local: FxHashMap<MediaStreamTrackId, Source>,
    /// ...and by SSRC (how reception reports name it).
    pub(super) outbound_by_ssrc: FxHashMap<u32, Source>,
    /// An offer is out and its answer awaited.
    pub(super) awaiting_answer: bool,
    /// Tracks were added since the last offer.
    pub(super) needs_offer: bool,
    /// Listed in `Relay::dirty`.
    pub(super) dirty: bool,
    /// When its peer connection's next timer is due, as listed in `Relay::deadlines`
    /// (refreshed each time the leg is drained).
    pub(super) deadline: Option<Instant>,
    pub(super) congestion: Congestion,
    pub(super) rtt: Option<Duration>,
    pub(super) keyframe_requests_sent: [u64; 2],
    pub(super) keyframe_requests_received: [u64; 2],
    pub(super) nacks_received: [u64; 2],
    /// Cumulative loss the participant reports per stream the relay sends it.
    pub(super) remote_lost: FxHashMap<u32, (bool, u32)>,
}

/// A call's legs and what they publish.
#[derive(Debug, Default)]
pub(super) struct Session {
    /// In order of joining.
    pub(super) legs: Vec<LegId>,
    /// The video codec of every leg (see [`crate::codec`]).
    pub(super) video: Option<VideoCodec>,
    /// Which leg and track feeds each source now.
    pub(super) publishers: FxHashMap<Source, (LegId, MediaStreamTrackId)>,
}

/// Packets kept per sending video track to answer NACKs: a quarter of a second of video
/// at 1.2 Mbit/s, longer at the lower rates phones send. `rtc`'s default (1,024) holds
/// eight seconds, whose copies cost 1.2 MB per forwarded video stream; a retransmission
/// later than a few round trips comes too late for interactive video anyway (ADR 0008,
/// ADR 0014).
pub(crate) const NACK_BUFFER: u16 = 32;

/// A leg's interceptors: `rtc`'s defaults (receiver and sender reports, NACK generation
/// and answering, transport-wide congestion control feedback to publishers, the MID and
/// RID extensions), with the NACK buffer bounded, and [`Feedback`] last.
pub(super) fn interceptors(
    media_engine: &mut rtc::peer_connection::configuration::media_engine::MediaEngine,
) -> Result<Registry, RelayError> {
    use rtc::interceptor::{NackGeneratorBuilder, NackResponderBuilder};
    use rtc::peer_connection::configuration::interceptor_registry::{
        configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc_receiver_only,
    };
    for parameter in ["", "pli"] {
        media_engine.register_feedback(
            rtc::rtp_transceiver::rtp_sender::RTCPFeedback { typ: "nack".into(), parameter: parameter.into() },
            RtpCodecKind::Video,
        );
    }
    configure_simulcast_extension_headers(media_engine)?;
    let registry = Registry::new()
        .with(Slot::NackResponder, NackResponderBuilder::new().with_size(NACK_BUFFER).build())
        .with(Slot::NackGenerator, NackGeneratorBuilder::new().build());
    let registry = configure_twcc_receiver_only(registry, media_engine)?;
    Ok(configure_rtcp_reports(registry).with(Slot::from(FEEDBACK_SLOT), Feedback::default()))
}

impl Relay {
    /// Take a leg out of the relay; `None` if there was none.
    pub(super) fn take_leg(&mut self, id: LegId) -> Option<Leg> {
        let mut leg = self.legs.remove(&id)?;
        let _ = leg.pc.close();
        if let Some(deadline) = leg.deadline {
            self.deadlines.remove(&(deadline, id));
        }
        self.demux.remove_leg(id);
        if let Some(session) = self.sessions.get_mut(&leg.session) {
            session.legs.retain(|l| *l != id);
            session.publishers.retain(|_, (l, _)| *l != id);
        }
        Some(leg)
    }

    /// A participant's new leg replaces `id`: the others keep sending its sources, which
    /// the new leg's tracks will feed.
    pub(super) fn supersede(&mut self, id: LegId) {
        self.take_leg(id);
    }

    /// Close a leg and forget its addresses: the participant left.
    pub fn remove_leg(&mut self, id: LegId) {
        let Some(leg) = self.take_leg(id) else { return };
        let session_id = leg.session;
        self.keyframe_asked.retain(|(s, source), _| !(*s == session_id && source.participant == leg.participant));
        let members = match self.sessions.get(&session_id) {
            Some(s) if s.legs.is_empty() => {
                self.sessions.remove(&session_id);
                Vec::new()
            }
            Some(s) => s.legs.clone(),
            None => Vec::new(),
        };
        // The other legs stop sending its sources: renegotiate them.
        for other in members {
            let Some(o) = self.legs.get_mut(&other) else { continue };
            let gone: Vec<Source> = o.outbound.keys().filter(|s| s.participant == leg.participant).copied().collect();
            for source in gone {
                if let Some(out) = o.outbound.remove(&source) {
                    let _ = o.pc.remove_track(out.sender);
                    o.outbound_by_ssrc.remove(&out.ssrc);
                    o.needs_offer = true;
                }
                o.outbound_by_local.retain(|_, s| *s != source);
            }
            self.touch(other);
            self.offer_if_needed(other);
        }
    }
}
