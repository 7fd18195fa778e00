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
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use rustc_hash::FxHashMap;

use crate::demux::{Demux, Kind, Route, classify};
use crate::stun;

/// A participant's connection to the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LegId(pub u64);

/// What happened to a leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegEvent {
    /// ICE and DTLS are up.
    Connected,
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
    /// The operating system's random generator failed.
    #[error("no randomness for ICE credentials")]
    Random,
}

struct Leg {
    pc: RTCPeerConnection,
    connected: bool,
}

/// Datagrams read from unknown sources beyond this many a second are not examined.
const UNKNOWN_PER_SEC: u32 = 2000;

/// The relay's legs on one shared address.
pub struct Relay {
    local: SocketAddr,
    advertised: SocketAddr,
    demux: Demux<LegId>,
    legs: FxHashMap<LegId, Leg>,
    next: u64,
    transmit: VecDeque<(SocketAddr, BytesMut)>,
    events: VecDeque<(LegId, LegEvent)>,
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
            next: 1,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Answer a participant's offer: a new leg and the SDP answer to send back.
    pub fn accept_offer(&mut self, now: Instant, offer_sdp: String) -> Result<(LegId, String), RelayError> {
        let ufrag = random_string(16)?;
        let pwd = random_string(32)?;
        let setting_engine =
            SettingEngineBuilder::new().with_lite(true).with_ice_credentials(ufrag.clone(), pwd).build();
        let mut media_engine = MediaEngine::default();
        media_engine.register_default_codecs()?;
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(setting_engine)
            .with_media_engine(media_engine)
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
        self.legs.insert(id, Leg { pc, connected: false });
        Ok((id, sdp))
    }

    /// Close a leg and forget its addresses.
    pub fn remove_leg(&mut self, id: LegId) {
        if let Some(mut leg) = self.legs.remove(&id) {
            let _ = leg.pc.close();
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
            let mut ids: Vec<LegId> = self.legs.keys().copied().collect();
            ids.sort_unstable();
            for id in ids {
                self.flush_leg(id, None);
                self.drain_events(id);
            }
        }
        self.transmit.pop_front()
    }

    fn drain_events(&mut self, id: LegId) {
        let Some(leg) = self.legs.get_mut(&id) else { return };
        while let Some(event) = leg.pc.poll_event() {
            if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) = event {
                let e = match state {
                    RTCPeerConnectionState::Connected if !leg.connected => {
                        leg.connected = true;
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
        }
        // Media and data are not forwarded yet; what the leg received is discarded.
        while leg.pc.poll_read().is_some() {}
    }

    /// The next leg event.
    pub fn poll_event(&mut self) -> Option<(LegId, LegEvent)> {
        if self.events.is_empty() {
            let mut ids: Vec<LegId> = self.legs.keys().copied().collect();
            ids.sort_unstable();
            for id in ids {
                self.drain_events(id);
            }
        }
        self.events.pop_front()
    }

    /// When to call [`Relay::handle_timeout`].
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.legs.values_mut().filter_map(|l| l.pc.poll_timeout()).min()
    }

    /// Let every leg's timers run.
    pub fn handle_timeout(&mut self, now: Instant) {
        for leg in self.legs.values_mut() {
            let _ = leg.pc.handle_timeout(now);
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
        let (leg, answer) = relay.accept_offer(now, offer(now)).unwrap();
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
            let err = relay.accept_offer(now, bad.to_string()).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(relay.demux_stats(), crate::DemuxStats::default());
    }
}
