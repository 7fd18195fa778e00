//! Negotiation: a participant's offer answered with a new leg (ICE-lite, its own
//! credentials, one host candidate and optionally a passive TCP one), the relay's own
//! offers when a leg's tracks change, and the participant's answers to them.

use rtc::ice::tcp_type::TcpType;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::RTCPeerConnectionBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rustc_hash::FxHashMap;
use std::time::Instant;

use super::congestion::Congestion;
use super::leg::{Flow, Inbound, Leg, Outbound, Source, interceptors};
use super::{LegEvent, LegId, Relay, RelayError, SessionId};
use crate::codec::{VideoCodec, media_engine};
use crate::rewrite::{Continuity, ExtensionIds, extension_ids};

impl Relay {
    /// Answer a participant's offer: a new leg and the SDP answer to send back. If the
    /// participant has a leg in the session already (it reconnects, or its network
    /// changed), the new leg replaces it and the others' streams of it continue.
    pub fn accept_offer(
        &mut self,
        now: Instant,
        session: SessionId,
        participant: u64,
        offer_sdp: String,
    ) -> Result<(LegId, String), RelayError> {
        self.advance(now);
        let video = self.sessions.get(&session).and_then(|s| s.video).or_else(|| VideoCodec::preferred_in(&offer_sdp));
        let ufrag = self.random_string(16)?;
        let pwd = self.random_string(32)?;
        let setting_engine =
            SettingEngineBuilder::new().with_lite(true).with_ice_credentials(ufrag.clone(), pwd).build();
        let mut media_engine = media_engine(video)?;
        let registry = interceptors(&mut media_engine)?;
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(setting_engine)
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .build(now)?;
        pc.set_remote_description(now, RTCSessionDescription::offer(offer_sdp)?)?;
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: self.advertised.ip().to_string(),
                port: self.advertised.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()?;
        pc.add_local_candidate(RTCIceCandidate::from(&candidate).to_json()?)?;
        if let Some(tcp) = self.tcp {
            let candidate = CandidateHostConfig {
                base_config: CandidateConfig {
                    network: "tcp".to_owned(),
                    address: tcp.ip().to_string(),
                    port: tcp.port(),
                    component: 1,
                    ..Default::default()
                },
                tcp_type: TcpType::Passive,
            }
            .new_candidate_host()?;
            pc.add_local_candidate(RTCIceCandidate::from(&candidate).to_json()?)?;
        }
        let answer = pc.create_answer(None)?;
        pc.set_local_description(now, answer)?;
        let sdp = pc.local_description().map(|d| d.sdp.clone()).unwrap_or_default();
        let id = LegId(self.next);
        self.next += 1;
        // Random 16-character ufrags do not collide in practice; if one did, refuse.
        self.demux.add_leg(id, &ufrag).map_err(|_| RelayError::Random)?;
        let earlier = self.sessions.get(&session).and_then(|s| {
            s.legs.iter().copied().find(|l| self.legs.get(l).is_some_and(|l| l.participant == participant))
        });
        if let Some(earlier) = earlier {
            self.supersede(earlier);
        }
        self.legs.insert(
            id,
            Leg {
                pc,
                session,
                participant,
                connected: false,
                connect_by: Some(now + super::CONNECT_WITHIN),
                inbound: FxHashMap::default(),
                outbound: FxHashMap::default(),
                outbound_by_local: FxHashMap::default(),
                outbound_by_ssrc: FxHashMap::default(),
                awaiting_answer: false,
                needs_offer: false,
                dirty: false,
                deadline: None,
                congestion: Congestion::default(),
                rtt: None,
                keyframe_requests_sent: [0; 2],
                keyframe_requests_received: [0; 2],
                nacks_received: [0; 2],
                remote_lost: FxHashMap::default(),
            },
        );
        let s = self.sessions.entry(session).or_default();
        s.video = s.video.or(video);
        s.legs.push(id);
        self.touch(id);
        Ok((id, sdp))
    }

    /// The participant's answer to a [`LegEvent::Offer`].
    pub fn accept_answer(&mut self, now: Instant, id: LegId, answer_sdp: String) -> Result<(), RelayError> {
        self.advance(now);
        let leg = self.legs.get_mut(&id).ok_or(RelayError::UnknownLeg)?;
        if !leg.awaiting_answer {
            return Err(RelayError::NoOfferOut);
        }
        let answer = RTCSessionDescription::answer(answer_sdp)?;
        if let Err(e) = leg.pc.set_remote_description(now, answer) {
            self.touch(id);
            return Err(e.into());
        }
        leg.awaiting_answer = false;
        // What each sending track negotiated: payload type and extension ids.
        let mut fresh: Vec<Source> = Vec::new();
        let Leg { pc, outbound, outbound_by_ssrc, .. } = leg;
        for (source, out) in outbound.iter_mut() {
            if let Some(mut sender) = pc.rtp_sender(out.sender) {
                let parameters = &sender.get_parameters().rtp_parameters;
                let same_mime = |c: &&rtc::rtp_transceiver::rtp_sender::RTCRtpCodecParameters| {
                    c.rtp_codec.mime_type.eq_ignore_ascii_case(&out.codec.mime_type)
                };
                let exact = parameters
                    .codecs
                    .iter()
                    .filter(same_mime)
                    .find(|c| c.rtp_codec.sdp_fmtp_line == out.codec.sdp_fmtp_line);
                out.pt = exact.or_else(|| parameters.codecs.iter().find(same_mime)).map(|c| c.payload_type);
                out.ext = extension_ids(&parameters.header_extensions);
            }
            outbound_by_ssrc.insert(out.ssrc, *source);
            // The subscriber can now decode the video it was just given: from a keyframe.
            if out.fresh {
                out.fresh = false;
                if out.video {
                    fresh.push(*source);
                }
            }
        }
        let session = leg.session;
        fresh.sort_unstable();
        for source in fresh {
            self.request_keyframe(session, source, true);
        }
        self.offer_if_needed(id);
        self.touch(id);
        Ok(())
    }

    /// Send a new offer to a leg whose tracks changed, unless one is already out.
    pub(super) fn offer_if_needed(&mut self, id: LegId) {
        let now = self.now;
        let Some(leg) = self.legs.get_mut(&id) else { return };
        if !leg.needs_offer || leg.awaiting_answer || !leg.connected {
            return;
        }
        let offer = leg.pc.create_offer(None).and_then(|o| leg.pc.set_local_description(now, o.clone()).map(|()| o));
        match offer {
            Ok(o) => {
                leg.needs_offer = false;
                leg.awaiting_answer = true;
                self.events.push_back((id, LegEvent::Offer(o.sdp)));
                self.touch(id);
            }
            Err(_) => self.events.push_back((id, LegEvent::Failed)),
        }
    }

    /// Make `to` send `source`, published as `inbound`.
    pub(super) fn add_outbound(&mut self, to: LegId, inbound: &Inbound) {
        let source = inbound.source;
        if self.legs.get(&to).is_none_or(|l| l.outbound.contains_key(&source)) {
            return;
        }
        let Some(ssrc) = self.random_ssrc() else { return };
        let Some(leg) = self.legs.get_mut(&to) else { return };
        let kind = if source.video { "video" } else { "audio" };
        let local_id = format!("p{}-{kind}{}", source.participant, source.n);
        let media = MediaStreamTrack::new(
            format!("p{}", source.participant),
            local_id.clone(),
            local_id.clone(),
            if source.video { RtpCodecKind::Video } else { RtpCodecKind::Audio },
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                codec: inbound.codec.clone(),
                ..Default::default()
            }],
        );
        if let Ok(sender) = leg.pc.add_track(media) {
            leg.outbound.insert(
                source,
                Outbound {
                    sender,
                    ssrc,
                    codec: inbound.codec.clone(),
                    video: source.video,
                    fresh: true,
                    pt: None,
                    ext: ExtensionIds::default(),
                    continuity: Continuity::new(inbound.codec.clock_rate),
                    flow: Flow::Forwarding,
                },
            );
            leg.outbound_by_local.insert(local_id, source);
            leg.needs_offer = true;
        }
        self.touch(to);
    }
}
