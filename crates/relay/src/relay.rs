//! The relay's sans-I/O core: legs (one `rtc` peer connection per participant) on one
//! shared UDP address, fed through the [`Demux`].
//!
//! Drive it like the engine: [`Relay::handle_datagram`] for every datagram read from the
//! shared socket, send what [`Relay::poll_transmit`] returns, call
//! [`Relay::handle_timeout`] when [`Relay::poll_timeout`] says so, and read
//! [`Relay::poll_event`] for legs connecting and failing.
//!
//! Each leg is ICE-lite with its own random ICE credentials, answering the participant's
//! offer with one host candidate: the shared address (or the advertised public one).
//! An address is confirmed for a leg when the leg's ICE agent answers a binding request
//! from it with a success response, which it does only after checking MESSAGE-INTEGRITY.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::BytesMut;
use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::{MediaStreamTrack, MediaStreamTrackId};
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use rustc_hash::FxHashMap;

use crate::demux::{Demux, Kind, Route, classify};
use crate::keyframes::{KEYFRAME_REQUESTS_SLOT, KeyframeRequests, is_keyframe_request};
use crate::stun;

/// A participant's connection to the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LegId(pub u64);

/// A call: the legs whose media is forwarded to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u64);

/// What happened to a leg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegEvent {
    /// ICE and DTLS are up.
    Connected,
    /// The relay renegotiates (a participant's track to add): send this offer to the
    /// participant and give its answer to [`Relay::accept_answer`].
    Offer(String),
    /// The connection failed (consent lost, DTLS failure).
    Failed,
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
    /// The operating system's random generator failed.
    #[error("no randomness for ICE credentials")]
    Random,
}

/// A track a participant publishes.
#[derive(Clone, Debug)]
struct Inbound {
    kind: RtpCodecKind,
    codec: RTCRtpCodec,
    receiver: rtc::rtp_transceiver::RTCRtpReceiverId,
}

/// Keyframe requests to one publisher's track at most this often.
const KEYFRAME_REQUEST_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// A track a leg sends: another participant's, forwarded.
#[derive(Clone, Copy, Debug)]
struct Outbound {
    sender: RTCRtpSenderId,
    ssrc: u32,
    video: bool,
    /// Added since the leg's last answer: ask the publisher for a keyframe when it lands.
    fresh: bool,
}

struct Leg {
    pc: RTCPeerConnection,
    session: SessionId,
    connected: bool,
    /// Tracks this participant publishes.
    inbound: FxHashMap<MediaStreamTrackId, Inbound>,
    /// Tracks this leg sends, by (publishing leg, its track).
    outbound: FxHashMap<(LegId, MediaStreamTrackId), Outbound>,
    /// The same, by the id of the local sending track (how its RTCP is tagged).
    outbound_by_local: FxHashMap<MediaStreamTrackId, (LegId, MediaStreamTrackId)>,
    /// An offer is out and its answer awaited.
    awaiting_answer: bool,
    /// Tracks were added since the last offer.
    needs_offer: bool,
    /// Listed in `Relay::dirty`.
    dirty: bool,
}

/// Datagrams read from unknown sources beyond this many a second are not examined.
const UNKNOWN_PER_SEC: u32 = 2000;

/// The relay's legs on one shared address.
pub struct Relay {
    local: SocketAddr,
    advertised: SocketAddr,
    demux: Demux<LegId>,
    legs: FxHashMap<LegId, Leg>,
    /// The legs of each session, in order of joining.
    sessions: FxHashMap<SessionId, Vec<LegId>>,
    next: u64,
    transmit: VecDeque<(SocketAddr, BytesMut)>,
    events: VecDeque<(LegId, LegEvent)>,
    /// Legs touched since they were last drained (a datagram, a forwarded packet, a timer,
    /// a description): only these are polled, so a packet costs O(receivers), not O(legs).
    dirty: VecDeque<LegId>,
    /// When a keyframe was last requested of each publisher's track.
    keyframe_asked: FxHashMap<(LegId, MediaStreamTrackId), Instant>,
    keyframe_requests: u64,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("local", &self.local).field("legs", &self.legs.len()).finish_non_exhaustive()
    }
}

fn random_string(len: usize) -> Result<String, RelayError> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|_| RelayError::Random)?;
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect())
}

impl Relay {
    /// A relay on the socket bound at `local`, advertising `advertised` as its candidate
    /// (the public address behind a 1:1 NAT, or `local`).
    pub fn new(local: SocketAddr, advertised: SocketAddr) -> Relay {
        Relay {
            local,
            advertised,
            demux: Demux::new(UNKNOWN_PER_SEC),
            legs: FxHashMap::default(),
            sessions: FxHashMap::default(),
            next: 1,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            dirty: VecDeque::new(),
            keyframe_asked: FxHashMap::default(),
            keyframe_requests: 0,
        }
    }

    /// Note that a leg has something to drain.
    fn touch(&mut self, id: LegId) {
        if let Some(leg) = self.legs.get_mut(&id)
            && !leg.dirty
        {
            leg.dirty = true;
            self.dirty.push_back(id);
        }
    }

    /// Drain every touched leg (draining can touch more: forwarding, keyframe requests).
    fn process(&mut self) {
        while let Some(id) = self.dirty.pop_front() {
            if let Some(leg) = self.legs.get_mut(&id) {
                leg.dirty = false;
            }
            self.drain_events(id);
            self.flush_leg(id, None);
        }
    }

    /// Ask a publisher for a keyframe of one of its tracks (throttled per track).
    fn request_keyframe(&mut self, now: Instant, publisher: LegId, track: &MediaStreamTrackId) {
        let key = (publisher, track.clone());
        if self.keyframe_asked.get(&key).is_some_and(|t| now.saturating_duration_since(*t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        let Some(leg) = self.legs.get_mut(&publisher) else { return };
        let Some(receiver_id) = leg.inbound.get(track).map(|i| i.receiver) else { return };
        let Some(mut receiver) = leg.pc.rtp_receiver(receiver_id) else { return };
        let Some(media_ssrc) = receiver.track().ssrcs().last() else { return };
        let pli =
            rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication { sender_ssrc: 0, media_ssrc };
        if receiver.write_rtcp(now, vec![Box::new(pli)]).is_ok() {
            self.keyframe_asked.insert(key, now);
            self.keyframe_requests += 1;
            self.touch(publisher);
        }
    }

    /// Keyframe requests sent to publishers so far.
    pub fn keyframe_requests(&self) -> u64 {
        self.keyframe_requests
    }

    /// Answer a participant's offer: a new leg and the SDP answer to send back.
    pub fn accept_offer(
        &mut self,
        now: Instant,
        session: SessionId,
        offer_sdp: String,
    ) -> Result<(LegId, String), RelayError> {
        let ufrag = random_string(16)?;
        let pwd = random_string(32)?;
        let setting_engine =
            SettingEngineBuilder::new().with_lite(true).with_ice_credentials(ufrag.clone(), pwd).build();
        let mut media_engine = MediaEngine::default();
        media_engine.register_default_codecs()?;
        // Per-leg RTCP: receiver and sender reports, NACK generation and answering, and
        // transport-wide congestion control feedback to publishers.
        let registry = register_default_interceptors(Registry::new(), &mut media_engine)?
            .with(Slot::from(KEYFRAME_REQUESTS_SLOT), KeyframeRequests::default());
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
        let answer = pc.create_answer(None)?;
        pc.set_local_description(now, answer)?;
        let sdp = pc.local_description().map(|d| d.sdp.clone()).unwrap_or_default();
        let id = LegId(self.next);
        self.next += 1;
        // Random 16-character ufrags do not collide in practice; if one did, refuse.
        self.demux.add_leg(id, &ufrag).map_err(|_| RelayError::Random)?;
        self.legs.insert(
            id,
            Leg {
                pc,
                session,
                connected: false,
                inbound: FxHashMap::default(),
                outbound: FxHashMap::default(),
                outbound_by_local: FxHashMap::default(),
                awaiting_answer: false,
                needs_offer: false,
                dirty: false,
            },
        );
        self.sessions.entry(session).or_default().push(id);
        self.touch(id);
        Ok((id, sdp))
    }

    /// The participant's answer to a [`LegEvent::Offer`].
    pub fn accept_answer(&mut self, now: Instant, id: LegId, answer_sdp: String) -> Result<(), RelayError> {
        let leg = self.legs.get_mut(&id).ok_or(RelayError::UnknownLeg)?;
        leg.pc.set_remote_description(now, RTCSessionDescription::answer(answer_sdp)?)?;
        leg.awaiting_answer = false;
        // The subscriber can now decode the video it was just given: from a keyframe.
        let mut fresh: Vec<(LegId, MediaStreamTrackId)> = Vec::new();
        for (key, out) in leg.outbound.iter_mut().filter(|(_, o)| o.fresh) {
            out.fresh = false;
            if out.video {
                fresh.push(key.clone());
            }
        }
        fresh.sort_unstable();
        for (publisher, track) in fresh {
            self.request_keyframe(now, publisher, &track);
        }
        self.offer_if_needed(id);
        self.touch(id);
        Ok(())
    }

    /// Send a new offer to a leg whose tracks changed, unless one is already out.
    fn offer_if_needed(&mut self, id: LegId) {
        let Some(leg) = self.legs.get_mut(&id) else { return };
        if !leg.needs_offer || leg.awaiting_answer || !leg.connected {
            return;
        }
        let offer =
            leg.pc.create_offer(None).and_then(|o| leg.pc.set_local_description(Instant::now(), o.clone()).map(|()| o));
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

    /// Make `to` send the track `track` of `from`.
    fn add_outbound(&mut self, to: LegId, from: LegId, track: &MediaStreamTrackId, inbound: &Inbound) {
        let Some(leg) = self.legs.get_mut(&to) else { return };
        if leg.outbound.contains_key(&(from, track.clone())) {
            return;
        }
        let mut ssrc_bytes = [0u8; 4];
        if getrandom::fill(&mut ssrc_bytes).is_err() {
            return;
        }
        let ssrc = u32::from_be_bytes(ssrc_bytes);
        let local_id = format!("leg{}-{track}", from.0);
        let media = MediaStreamTrack::new(
            format!("leg{}", from.0),
            local_id.clone(),
            local_id.clone(),
            inbound.kind,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                codec: inbound.codec.clone(),
                ..Default::default()
            }],
        );
        if let Ok(sender) = leg.pc.add_track(media) {
            let video = inbound.kind == RtpCodecKind::Video;
            leg.outbound.insert((from, track.clone()), Outbound { sender, ssrc, video, fresh: true });
            leg.outbound_by_local.insert(local_id, (from, track.clone()));
            leg.needs_offer = true;
        }
    }

    /// Forward a packet of `from`'s track to every other leg of the session that sends it.
    fn forward(&mut self, now: Instant, from: LegId, track: &MediaStreamTrackId, packet: &rtc::rtp::Packet) {
        let Some(session) = self.legs.get(&from).map(|l| l.session) else { return };
        let Some(codec) = self.legs.get(&from).and_then(|l| l.inbound.get(track)).map(|i| i.codec.mime_type.clone())
        else {
            return;
        };
        let members = self.sessions.get(&session).cloned().unwrap_or_default();
        let mut sent: Vec<LegId> = Vec::new();
        for id in members.iter().filter(|l| **l != from) {
            let Some(leg) = self.legs.get_mut(id) else { continue };
            let Some(out) = leg.outbound.get(&(from, track.clone())).copied() else { continue };
            let Some(mut sender) = leg.pc.rtp_sender(out.sender) else { continue };
            let pt = sender
                .get_parameters()
                .rtp_parameters
                .codecs
                .iter()
                .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&codec))
                .map(|c| c.payload_type);
            let Some(pt) = pt else { continue };
            let mut p = packet.clone();
            p.header.ssrc = out.ssrc;
            p.header.payload_type = pt;
            // Before the leg's answer the sender is not ready; the packet is dropped.
            if sender.write_rtp(now, p).is_ok() {
                sent.push(*id);
            }
        }
        for id in sent {
            self.touch(id);
        }
    }

    /// Close a leg and forget its addresses.
    pub fn remove_leg(&mut self, id: LegId) {
        if let Some(mut leg) = self.legs.remove(&id) {
            let _ = leg.pc.close();
            if let Some(members) = self.sessions.get_mut(&leg.session) {
                members.retain(|l| *l != id);
                if members.is_empty() {
                    self.sessions.remove(&leg.session);
                }
            }
            self.keyframe_asked.retain(|(publisher, _), _| *publisher != id);
            // The other legs of the session stop sending its tracks: renegotiate them.
            let members = self.sessions.get(&leg.session).cloned().unwrap_or_default();
            for other in members {
                let Some(o) = self.legs.get_mut(&other) else { continue };
                let gone: Vec<(LegId, MediaStreamTrackId)> =
                    o.outbound.keys().filter(|(from, _)| *from == id).cloned().collect();
                for key in gone {
                    if let Some(out) = o.outbound.remove(&key) {
                        let _ = o.pc.remove_track(out.sender);
                        o.needs_offer = true;
                    }
                    o.outbound_by_local.retain(|_, source| *source != key);
                }
                self.offer_if_needed(other);
            }
        }
        self.demux.remove_leg(id);
    }

    /// A datagram read from the shared socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        let (id, probe) = match self.demux.route(now, from, datagram) {
            Route::Leg(id) => (id, false),
            Route::Probe(id) => (id, true),
            Route::Drop(_) => return,
        };
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let message = TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: self.local,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(datagram),
        };
        // A peer connection refusing a datagram (bad DTLS record, failed integrity) is
        // that leg's business only.
        if leg.pc.handle_read(message).is_err() {
            return;
        }
        if probe {
            self.flush_leg(id, Some(from));
        }
        self.touch(id);
    }

    /// Move a leg's outgoing datagrams to the transmit queue; confirm `probe_from` if the
    /// leg answered it with a binding success.
    fn flush_leg(&mut self, id: LegId, probe_from: Option<SocketAddr>) {
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let mut confirmed = false;
        while let Some(out) = leg.pc.poll_write() {
            let to = out.transport.peer_addr;
            if Some(to) == probe_from
                && classify(&out.message) == Kind::Stun
                && stun::parse(&out.message).is_ok_and(|m| m.kind == stun::BINDING_SUCCESS)
            {
                confirmed = true;
            }
            self.transmit.push_back((to, out.message));
        }
        if let (true, Some(addr)) = (confirmed, probe_from) {
            self.demux.confirm(id, addr);
        }
    }

    /// The next datagram to send from the shared socket.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, BytesMut)> {
        if self.transmit.is_empty() {
            self.process();
        }
        self.transmit.pop_front()
    }

    fn drain_events(&mut self, id: LegId) {
        let now = Instant::now();
        let mut opened: Vec<(MediaStreamTrackId, Inbound)> = Vec::new();
        let mut became_connected = false;
        let mut packets: Vec<(MediaStreamTrackId, rtc::rtp::Packet)> = Vec::new();
        let mut keyframes_wanted: Vec<(LegId, MediaStreamTrackId)> = Vec::new();
        {
            let Some(leg) = self.legs.get_mut(&id) else { return };
            while let Some(event) = leg.pc.poll_event() {
                match event {
                    RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => {
                        let e = match state {
                            RTCPeerConnectionState::Connected if !leg.connected => {
                                leg.connected = true;
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
                        if let Some(mut receiver) = leg.pc.rtp_receiver(init.receiver_id) {
                            let kind = receiver.track().kind();
                            let codec =
                                receiver.get_parameters().rtp_parameters.codecs.first().map(|c| c.rtp_codec.clone());
                            if let Some(codec) = codec {
                                let inbound = Inbound { kind, codec, receiver: init.receiver_id };
                                leg.inbound.insert(init.track_id.clone(), inbound.clone());
                                opened.push((init.track_id, inbound));
                            }
                        }
                    }
                    _ => {}
                }
            }
            while let Some(message) = leg.pc.poll_read() {
                match message.message {
                    RTCMessage::RtpPacket(track, packet) => packets.push((track, packet)),
                    // A subscriber asks for a keyframe of a track this leg sends it.
                    RTCMessage::RtcpPacket(local, rtcp) if rtcp.iter().any(|p| is_keyframe_request(p.as_ref())) => {
                        if let Some(source) = leg.outbound_by_local.get(&local) {
                            keyframes_wanted.push(source.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        let others: Vec<LegId> = if opened.is_empty() && !became_connected {
            Vec::new()
        } else {
            let session = self.legs.get(&id).map(|l| l.session);
            session
                .and_then(|s| self.sessions.get(&s))
                .map(|m| m.iter().copied().filter(|l| *l != id).collect())
                .unwrap_or_default()
        };
        // A new track goes to everyone else in the session.
        for (track, inbound) in &opened {
            for other in &others {
                self.add_outbound(*other, id, track, inbound);
            }
        }
        // A newly connected leg receives everyone else's tracks.
        if became_connected {
            for other in &others {
                let tracks: Vec<(MediaStreamTrackId, Inbound)> = self
                    .legs
                    .get(other)
                    .map(|l| l.inbound.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
                for (track, inbound) in tracks {
                    self.add_outbound(id, *other, &track, &inbound);
                }
            }
        }
        if !opened.is_empty() || became_connected {
            for leg in others.iter().copied().chain(std::iter::once(id)) {
                self.offer_if_needed(leg);
            }
        }
        for (track, packet) in packets {
            self.forward(now, id, &track, &packet);
        }
        for (publisher, track) in keyframes_wanted {
            self.request_keyframe(now, publisher, &track);
        }
    }

    /// The next leg event.
    pub fn poll_event(&mut self) -> Option<(LegId, LegEvent)> {
        if self.events.is_empty() {
            self.process();
        }
        self.events.pop_front()
    }

    /// When to call [`Relay::handle_timeout`].
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.legs.values_mut().filter_map(|l| l.pc.poll_timeout()).min()
    }

    /// Let every leg's timers run.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut ids: Vec<LegId> = self.legs.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(leg) = self.legs.get_mut(&id) {
                let _ = leg.pc.handle_timeout(now);
            }
            self.touch(id);
        }
    }

    /// The confirmed addresses of a leg.
    pub fn addresses(&self, id: LegId) -> &[SocketAddr] {
        self.demux.addresses(id)
    }

    /// Demultiplexer counters.
    pub fn demux_stats(&self) -> crate::DemuxStats {
        self.demux.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An offer from an `rtc` peer connection with one data channel.
    fn offer(now: Instant) -> String {
        let mut pc = RTCPeerConnectionBuilder::new().build(now).unwrap();
        pc.create_data_channel("probe", None).unwrap();
        let offer = pc.create_offer(None).unwrap();
        pc.set_local_description(now, offer).unwrap();
        pc.local_description().unwrap().sdp.clone()
    }

    fn ufrag(sdp: &str) -> String {
        sdp.lines().find_map(|l| l.strip_prefix("a=ice-ufrag:")).unwrap().trim().to_string()
    }

    #[test]
    fn an_unauthenticated_binding_request_does_not_confirm_an_address() {
        let now = Instant::now();
        let local = SocketAddr::from(([127, 0, 0, 1], 3478));
        let mut relay = Relay::new(local, local);
        let (leg, answer) = relay.accept_offer(now, SessionId(1), offer(now)).unwrap();
        assert!(answer.contains("a=ice-lite") && answer.contains("127.0.0.1 3478 typ host"), "{answer}");
        let attacker = SocketAddr::from(([127, 0, 0, 9], 4000));
        // It names the leg's ufrag but carries no MESSAGE-INTEGRITY with the ICE password.
        let forged = stun::binding_request([5; 12], &format!("{}:whatever", ufrag(&answer)));
        relay.handle_datagram(now, attacker, &forged);
        while let Some((to, datagram)) = relay.poll_transmit() {
            let success = stun::parse(&datagram).is_ok_and(|m| m.kind == stun::BINDING_SUCCESS);
            assert!(!(to == attacker && success), "no success response to a forged request");
        }
        assert!(relay.addresses(leg).is_empty());
        assert_eq!(relay.demux_stats().probes, 1);
        // Garbage from the same address is dropped without reaching the leg.
        relay.handle_datagram(now, attacker, &[0x80, 111, 0, 1]);
        assert_eq!(relay.demux_stats().dropped, 1);
        relay.remove_leg(leg);
        assert!(relay.poll_timeout().is_none());
    }

    #[test]
    fn a_malformed_offer_is_refused_with_a_reason() {
        let now = Instant::now();
        let local = SocketAddr::from(([127, 0, 0, 1], 3478));
        let mut relay = Relay::new(local, local);
        for bad in ["", "not sdp at all", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"] {
            let err = relay.accept_offer(now, SessionId(1), bad.to_string()).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(relay.demux_stats(), crate::DemuxStats::default());
    }
}
