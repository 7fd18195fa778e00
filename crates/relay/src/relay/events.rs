//! What a leg's peer connection says after each turn: connected, failed or closed; a
//! track opened (a new source for the others, or one that continues after a reconnect);
//! RTP to forward; RTCP from subscribers (keyframe requests, NACKs, reception reports).

use rtc::media_stream::MediaStreamTrackId;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::sansio::Protocol;

use super::leg::{Inbound, Source};
use super::{LegEvent, LegId, Relay, kind_index};
use crate::feedback::is_keyframe_request;
use crate::rewrite::extension_ids;

impl Relay {
    pub(super) fn drain_events(&mut self, id: LegId) {
        let mut opened: Vec<Inbound> = Vec::new();
        let mut became_connected = false;
        let mut packets: Vec<(MediaStreamTrackId, rtc::rtp::Packet)> = Vec::new();
        let mut keyframes_wanted: Vec<Source> = Vec::new();
        let mut reports: Vec<(Source, ReceptionReport)> = Vec::new();
        let session;
        {
            let Some(leg) = self.legs.get_mut(&id) else { return };
            session = leg.session;
            while let Some(event) = leg.pc.poll_event() {
                match event {
                    RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => {
                        let e = match state {
                            RTCPeerConnectionState::Connected if !leg.connected => {
                                leg.connected = true;
                                leg.connect_by = None;
                                became_connected = true;
                                Some(LegEvent::Connected)
                            }
                            RTCPeerConnectionState::Failed => Some(LegEvent::Failed),
                            RTCPeerConnectionState::Closed => Some(LegEvent::Closed),
                            _ => None,
                        };
                        if let Some(e) = e {
                            self.events.push_back((id, e));
                        }
                    }
                    RTCPeerConnectionEvent::OnTrack(RTCTrackEvent::OnOpen(init)) => {
                        // A track opens again after each renegotiation: it is the same source.
                        if let Some(known) = leg.inbound.get_mut(&init.track_id) {
                            known.receiver = init.receiver_id;
                            continue;
                        }
                        if let Some(mut receiver) = leg.pc.rtp_receiver(init.receiver_id) {
                            let video = receiver.track().kind() == RtpCodecKind::Video;
                            let parameters = &receiver.get_parameters().rtp_parameters;
                            let codec = parameters.codecs.first().map(|c| c.rtp_codec.clone());
                            let ext = extension_ids(&parameters.header_extensions);
                            if let Some(codec) = codec {
                                let n = leg.inbound.values().filter(|i| i.source.video == video).count();
                                let n = u8::try_from(n).unwrap_or(u8::MAX);
                                let source = Source { participant: leg.participant, video, n };
                                let inbound = Inbound { source, codec, receiver: init.receiver_id, ext };
                                leg.inbound.insert(init.track_id.clone(), inbound.clone());
                                if let Some(s) = self.sessions.get_mut(&session) {
                                    s.publishers.insert(source, (id, init.track_id));
                                }
                                opened.push(inbound);
                            }
                        }
                    }
                    _ => {}
                }
            }
            while let Some(message) = leg.pc.poll_read() {
                match message.message {
                    RTCMessage::RtpPacket(track, packet) => packets.push((track, packet)),
                    RTCMessage::RtcpPacket(local, rtcp) => {
                        for packet in &rtcp {
                            // A subscriber asks for a keyframe of a track this leg sends it.
                            if is_keyframe_request(packet.as_ref()) {
                                if let Some(source) = leg.outbound_by_local.get(&local) {
                                    leg.keyframe_requests_received[kind_index(source.video)] += 1;
                                    keyframes_wanted.push(*source);
                                }
                                continue;
                            }
                            if let Some(nack) = packet
                                .as_any()
                                .downcast_ref::<rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack>()
                            {
                                if let Some(source) = leg.outbound_by_ssrc.get(&nack.media_ssrc) {
                                    leg.nacks_received[kind_index(source.video)] += 1;
                                }
                                continue;
                            }
                            let any = packet.as_any();
                            let blocks = any
                                .downcast_ref::<ReceiverReport>()
                                .map(|r| r.reports.as_slice())
                                .or_else(|| any.downcast_ref::<SenderReport>().map(|r| r.reports.as_slice()))
                                .unwrap_or_default();
                            for block in blocks {
                                if let Some(source) = leg.outbound_by_ssrc.get(&block.ssrc) {
                                    reports.push((*source, block.clone()));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let others: Vec<LegId> = if opened.is_empty() && !became_connected {
            Vec::new()
        } else {
            self.sessions
                .get(&session)
                .map(|s| s.legs.iter().copied().filter(|l| *l != id).collect())
                .unwrap_or_default()
        };
        // A new track goes to everyone else in the session; one that continues a source
        // they already receive (a reconnect) feeds it, from a keyframe.
        for inbound in &opened {
            for other in &others {
                let continues = self.legs.get(other).is_some_and(|l| l.outbound.contains_key(&inbound.source));
                if continues {
                    if inbound.source.video {
                        self.request_keyframe(session, inbound.source, false);
                    }
                } else {
                    self.add_outbound(*other, inbound);
                }
            }
        }
        // A newly connected leg receives everyone else's tracks.
        if became_connected {
            for other in &others {
                let tracks: Vec<Inbound> =
                    self.legs.get(other).map(|l| l.inbound.values().cloned().collect()).unwrap_or_default();
                for inbound in tracks {
                    self.add_outbound(id, &inbound);
                }
            }
        }
        if !opened.is_empty() || became_connected {
            for leg in others.iter().copied().chain(std::iter::once(id)) {
                self.offer_if_needed(leg);
            }
        }
        for (track, packet) in packets {
            self.forward(id, &track, &packet);
        }
        for source in keyframes_wanted {
            self.request_keyframe(session, source, false);
        }
        if !reports.is_empty() {
            self.on_reports(id, session, &reports);
        }
    }
}
