//! An in-memory network on simulated time: `rtc` clients, each at its own address, and one
//! [`Relay`]. Nothing reads a clock: [`TestNet::advance`] moves time, so tests of
//! forwarding, loss, NACK, keyframes and the bandwidth policy are deterministic and run
//! faster than real time. A drop rule decides the fate of every datagram. A client may
//! join over ICE-TCP instead of UDP: its packets then go through [`Relay::handle_tcp`] as
//! if on a connection from its address (framing is tested in [`crate::framing`]).

mod client;
mod seeded;

pub use client::{Client, Publish, Received};
use client::{client_engine, codec_of, tagged};
pub use seeded::Seeded;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use rtc::ice::network_type::NetworkType;
use rtc::ice::tcp_type::TcpType;
use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::RTCPeerConnectionBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::rtp::header::{EXTENSION_PROFILE_ONE_BYTE, Extension};
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use rustc_hash::FxHashMap;

use crate::codec::FORWARDED_EXTENSIONS;
use crate::{
    FEEDBACK_SLOT, Feedback, LegEvent, LegId, Peer, Relay, RelayError, SessionId, Start, Transmit, Transport,
    is_keyframe_request,
};

/// An RTP packet a client received.
/// Decides whether a datagram (from, to, bytes) is lost.
pub type DropRule = Box<dyn FnMut(SocketAddr, SocketAddr, &[u8]) -> bool>;

/// Traffic from elsewhere (an attacker's flood), delivered to the relay just before each
/// datagram a client sends, so it is always in the way.
pub type Crossfire = Box<dyn FnMut(&mut Relay, Instant)>;

/// The network.
pub struct TestNet {
    /// The relay.
    pub relay: Relay,
    /// Its address (UDP; with [`TestNet::with_tcp`], its passive TCP candidate too).
    pub relay_addr: SocketAddr,
    /// Simulated time.
    pub now: Instant,
    /// Every client that ever joined (a rejoin adds one and marks the old one gone).
    pub clients: Vec<Client>,
    by_addr: FxHashMap<SocketAddr, usize>,
    /// Leg events other than offers (which the clients answer).
    pub events: Vec<(Instant, LegId, LegEvent)>,
    /// Loses datagrams.
    pub drop: Option<DropRule>,
    /// Sends the relay other traffic before each client datagram.
    pub crossfire: Option<Crossfire>,
    /// Keep every received packet (off for the benchmark).
    pub record: bool,
    /// Time spent inside the relay while `measure` is set.
    pub relay_time: Duration,
    /// Measure the relay's time.
    pub measure: bool,
    /// While `measure` is set: for each datagram a client sent, nanoseconds from handing
    /// it to the relay until the relay's transmit queue is empty again (every copy of it
    /// is out): the latency the relay adds when it is not queueing.
    pub service_ns: Vec<u32>,
    /// Packets received by all clients.
    pub delivered: u64,
    /// The address the next client to join takes, instead of a new one: a NAT that gives
    /// a freed port to someone else.
    pub next_address: Option<SocketAddr>,
    next_host: u32,
}

impl std::fmt::Debug for TestNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNet").field("clients", &self.clients.len()).finish_non_exhaustive()
    }
}

/// Why the network could not do something.
#[derive(Debug, thiserror::Error)]
pub enum TestNetError {
    /// A peer connection refused.
    #[error("webrtc: {0}")]
    Rtc(#[from] Error),
    /// The relay refused.
    #[error("relay: {0}")]
    Relay(#[from] RelayError),
}

/// A relay on simulated time: its wall clock starts at a fixed date, its randomness is
/// seeded from `now`.
fn simulated_relay(now: Instant, local: SocketAddr, public: SocketAddr) -> Relay {
    // 2027-01-15 00:00 UTC: any fixed date will do for the NTP times of round trips.
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Relay::new(local, public, Start { now, wall }, Box::new(Seeded::new(now)))
}

impl TestNet {
    /// An empty network at `now`.
    pub fn new(now: Instant) -> TestNet {
        let relay_addr = SocketAddr::from(([10, 0, 0, 1], 3478));
        TestNet::behind_nat(now, relay_addr, relay_addr)
    }

    /// An empty network whose relay is bound at `local` and advertises `public`, as
    /// behind a 1:1 NAT: clients send to `public`, the relay reads from its socket.
    pub fn behind_nat(now: Instant, local: SocketAddr, public: SocketAddr) -> TestNet {
        let relay_addr = public;
        TestNet {
            relay: simulated_relay(now, local, public),
            relay_addr,
            now,
            clients: Vec::new(),
            by_addr: FxHashMap::default(),
            events: Vec::new(),
            drop: None,
            crossfire: None,
            record: true,
            relay_time: Duration::ZERO,
            measure: false,
            service_ns: Vec::new(),
            delivered: 0,
            next_address: None,
            next_host: 2,
        }
    }

    /// The relay offers ICE-TCP too, on its address's port.
    pub fn with_tcp(mut self) -> TestNet {
        let placeholder = simulated_relay(self.now, self.relay_addr, self.relay_addr);
        let relay = std::mem::replace(&mut self.relay, placeholder);
        self.relay = relay.with_tcp(self.relay_addr);
        self
    }

    /// A client joins `session` as `participant` from a new address; returns its index.
    /// A participant that is already in the session is replaced (a reconnect).
    pub fn join(&mut self, session: SessionId, participant: u64, publish: Publish) -> Result<usize, TestNetError> {
        self.join_over(session, participant, publish, Transport::Udp)
    }

    /// [`TestNet::join`] over `transport`: over TCP, the client has only an active TCP
    /// candidate, as behind a firewall that blocks UDP.
    pub fn join_over(
        &mut self,
        session: SessionId,
        participant: u64,
        publish: Publish,
        transport: Transport,
    ) -> Result<usize, TestNetError> {
        let host = self.next_host;
        self.next_host += 1;
        let addr = self
            .next_address
            .take()
            .unwrap_or_else(|| SocketAddr::from(([10, 1, (host >> 8) as u8, host as u8], 40_000)));
        let now = self.now;
        let mut me = client_engine(publish)?;
        let registry = register_default_interceptors(Registry::new(), &mut me)?
            .with(Slot::from(FEEDBACK_SLOT), Feedback::default());
        let mut builder = RTCPeerConnectionBuilder::new().with_media_engine(me).with_interceptor_registry(registry);
        if transport == Transport::Tcp {
            builder = builder.with_setting_engine(
                SettingEngineBuilder::new().with_network_types(vec![NetworkType::Tcp4, NetworkType::Tcp6]).build(),
            );
        }
        let mut pc = builder.build(now)?;
        let mut senders = [None, None];
        for (video, wanted) in [(false, publish.audio), (true, publish.video)] {
            if !wanted {
                continue;
            }
            let ssrc = 0x1000_0000 | (host << 4) | u32::from(video);
            let kind = if video { RtpCodecKind::Video } else { RtpCodecKind::Audio };
            let id = format!("c{host}-{kind}");
            let track = MediaStreamTrack::new(
                format!("c{host}"),
                id.clone(),
                id,
                kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                    codec: codec_of(video),
                    ..Default::default()
                }],
            );
            senders[usize::from(video)] = Some((pc.add_track(track)?, ssrc));
        }
        let offer = pc.create_offer(None)?;
        pc.set_local_description(now, offer)?;
        let candidate = match transport {
            Transport::Udp => CandidateHostConfig {
                base_config: CandidateConfig {
                    network: "udp".into(),
                    address: addr.ip().to_string(),
                    port: addr.port(),
                    component: 1,
                    ..Default::default()
                },
                ..Default::default()
            },
            // RFC 6544: an active candidate's port is 9; it connects, it never listens.
            Transport::Tcp => CandidateHostConfig {
                base_config: CandidateConfig {
                    network: "tcp".into(),
                    address: addr.ip().to_string(),
                    port: 9,
                    component: 1,
                    ..Default::default()
                },
                tcp_type: TcpType::Active,
            },
        }
        .new_candidate_host()?;
        pc.add_local_candidate(RTCIceCandidate::from(&candidate).to_json()?)?;
        let sdp = pc.local_description().map(|d| d.sdp.clone()).unwrap_or_default();
        let (leg, answer) = self.relay.accept_offer(now, session, participant, sdp)?;
        pc.set_remote_description(now, RTCSessionDescription::answer(answer)?)?;
        for c in self.clients.iter_mut().filter(|c| c.session == session && c.participant == participant) {
            c.gone = true;
            self.by_addr.remove(&c.addr);
        }
        let index = self.clients.len();
        self.by_addr.insert(addr, index);
        // Each client starts its numbering somewhere else, as browsers do at random.
        let start = (host as u16).wrapping_mul(7919);
        self.clients.push(Client {
            pc,
            addr,
            transport,
            leg,
            session,
            participant,
            senders,
            publish,
            next_seq: [start, start.wrapping_add(1000)],
            next_ts: [u32::from(start) * 960, u32::from(start) * 3000],
            connected: false,
            gone: false,
            received: Vec::new(),
            keyframe_requests: Vec::new(),
            offers: 0,
        });
        Ok(index)
    }

    /// A client leaves: its leg is removed.
    pub fn leave(&mut self, index: usize) {
        let c = &mut self.clients[index];
        c.gone = true;
        self.by_addr.remove(&c.addr);
        self.relay.remove_leg(c.leg);
        self.pump();
    }

    /// Client `index` vanishes without a word (its tab is killed, its network gone): its
    /// leg stays in the relay, with its address, until removed or failed.
    pub fn vanish(&mut self, index: usize) {
        let c = &mut self.clients[index];
        c.gone = true;
        self.by_addr.remove(&c.addr);
    }

    /// Client `index`'s TCP connection closes: it is off the network, and the relay is told.
    pub fn close_tcp(&mut self, index: usize) {
        let c = &mut self.clients[index];
        c.gone = true;
        self.by_addr.remove(&c.addr);
        self.relay.tcp_closed(c.addr);
        self.pump();
    }

    /// Client `index` sends one RTP packet of audio or video with `payload` (audio packets
    /// carry an audio level of `0x80 | index`).
    pub fn send(&mut self, index: usize, video: bool, payload: Bytes) {
        let now = self.now;
        let c = &mut self.clients[index];
        let Some((sender_id, ssrc)) = c.senders[usize::from(video)] else { return };
        let k = usize::from(video);
        let seq = c.next_seq[k];
        let ts = c.next_ts[k];
        c.next_seq[k] = seq.wrapping_add(1);
        c.next_ts[k] = ts.wrapping_add(if video { 3000 } else { 960 });
        let pt = if video { c.publish.payload_types.1 } else { c.publish.payload_types.0 };
        let Some(mut sender) = c.pc.rtp_sender(sender_id) else { return };
        let level_id = sender
            .get_parameters()
            .rtp_parameters
            .header_extensions
            .iter()
            .find(|e| e.uri == FORWARDED_EXTENSIONS[0])
            .map(|e| e.id as u8);
        let mut header = rtc::rtp::Header {
            version: 2,
            payload_type: pt,
            sequence_number: seq,
            timestamp: ts,
            ssrc,
            ..Default::default()
        };
        if let (false, Some(id)) = (video, level_id) {
            header.extension = true;
            header.extension_profile = EXTENSION_PROFILE_ONE_BYTE;
            header.extensions = vec![Extension { id, payload: Bytes::from(vec![0x80 | index as u8]) }];
        }
        let _ = sender.write_rtp(now, rtc::rtp::Packet { header, payload });
    }

    /// Client `index` sends a receiver report on stream `ssrc` (one the relay sends it)
    /// with `fraction_lost` (of 256) and cumulative `total_lost`.
    pub fn report(&mut self, index: usize, ssrc: u32, fraction_lost: u8, total_lost: u32) {
        let now = self.now;
        let c = &mut self.clients[index];
        let Some((sender, _)) = c.senders.iter().flatten().next().copied() else { return };
        let rr = rtc::rtcp::receiver_report::ReceiverReport {
            ssrc: 1,
            reports: vec![rtc::rtcp::reception_report::ReceptionReport {
                ssrc,
                fraction_lost,
                total_lost,
                ..Default::default()
            }],
            ..Default::default()
        };
        if let Some(mut s) = c.pc.rtp_sender(sender) {
            let _ = s.write_rtcp(now, vec![Box::new(rr)]);
        }
    }

    fn deliver_to_relay(&mut self, from: Peer, datagram: &[u8]) {
        if let Some(rule) = &mut self.drop
            && rule(from.addr, self.relay_addr, datagram)
        {
            return;
        }
        if let Some(flood) = &mut self.crossfire {
            flood(&mut self.relay, self.now);
        }
        let t = Instant::now();
        match from.transport {
            Transport::Udp => self.relay.handle_datagram(self.now, from.addr, datagram),
            Transport::Tcp => self.relay.handle_tcp(self.now, from.addr, datagram),
        }
        if self.measure {
            self.relay_time += t.elapsed();
        }
    }

    /// Move every datagram and event until nothing moves.
    pub fn pump(&mut self) {
        for _ in 0..100_000 {
            let mut moved = false;
            let now = self.now;
            for i in 0..self.clients.len() {
                if self.clients[i].gone {
                    continue;
                }
                while let Some(out) = self.clients[i].pc.poll_write() {
                    moved = true;
                    let from = Peer { transport: self.clients[i].transport, addr: self.clients[i].addr };
                    let relay_time = self.relay_time;
                    self.deliver_to_relay(from, &out.message);
                    self.drain_relay(now);
                    if self.measure {
                        // The relay's share only: the clients' work during the drain is not counted.
                        let ns = (self.relay_time - relay_time).as_nanos();
                        self.service_ns.push(u32::try_from(ns).unwrap_or(u32::MAX));
                    }
                }
                let record = self.record;
                let c = &mut self.clients[i];
                while let Some(e) = c.pc.poll_event() {
                    if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(RTCPeerConnectionState::Connected) = e {
                        c.connected = true;
                    }
                }
                while let Some(m) = c.pc.poll_read() {
                    match m.message {
                        RTCMessage::RtpPacket(_, p) => {
                            self.delivered += 1;
                            if record {
                                c.received.push(Received {
                                    ssrc: p.header.ssrc,
                                    seq: p.header.sequence_number,
                                    timestamp: p.header.timestamp,
                                    payload_type: p.header.payload_type,
                                    extensions: p.header.extensions.iter().map(|e| (e.id, e.payload.clone())).collect(),
                                    payload: p.payload,
                                    at: now,
                                });
                            }
                        }
                        RTCMessage::RtcpPacket(_, packets)
                            if packets.iter().any(|p| is_keyframe_request(p.as_ref())) =>
                        {
                            c.keyframe_requests.push(now);
                        }
                        _ => {}
                    }
                }
            }
            moved |= self.drain_relay(now);
            let t = Instant::now();
            let event = self.relay.poll_event();
            if self.measure {
                self.relay_time += t.elapsed();
            }
            if let Some((leg, event)) = event {
                moved = true;
                match event {
                    LegEvent::Offer(sdp) => {
                        if let Some(c) = self.clients.iter_mut().find(|c| c.leg == leg && !c.gone) {
                            c.offers += 1;
                            let answered = RTCSessionDescription::offer(sdp)
                                .and_then(|o| c.pc.set_remote_description(now, o))
                                .and_then(|()| c.pc.create_answer(None))
                                .and_then(|a| c.pc.set_local_description(now, a));
                            if answered.is_ok() {
                                let sdp = c.pc.local_description().map(|d| d.sdp.clone()).unwrap_or_default();
                                let _ = self.relay.accept_answer(now, leg, sdp);
                            }
                        }
                    }
                    other => self.events.push((now, leg, other)),
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Deliver what the relay has to send; whether there was anything.
    fn drain_relay(&mut self, now: Instant) -> bool {
        let mut moved = false;
        loop {
            let t = Instant::now();
            let out = self.relay.poll_transmit();
            if self.measure {
                self.relay_time += t.elapsed();
            }
            let Some(Transmit { to, data }) = out else { return moved };
            moved = true;
            if let Some(rule) = &mut self.drop
                && rule(self.relay_addr, to.addr, &data)
            {
                continue;
            }
            if let Some(&i) = self.by_addr.get(&to.addr)
                && self.clients[i].transport == to.transport
            {
                let relay_addr = self.relay_addr;
                let _ = self.clients[i].pc.handle_read(tagged(now, to.addr, relay_addr, to.transport, &data));
            }
        }
    }

    /// Let `dt` of simulated time pass, firing every timer on the way.
    pub fn advance(&mut self, dt: Duration) {
        let target = self.now + dt;
        for _ in 0..100_000 {
            let next = self
                .clients
                .iter_mut()
                .filter(|c| !c.gone)
                .filter_map(|c| c.pc.poll_timeout())
                .chain(self.relay.poll_timeout())
                .min();
            let Some(next) = next.filter(|n| *n <= target) else { break };
            self.now = self.now.max(next);
            let now = self.now;
            for c in self.clients.iter_mut().filter(|c| !c.gone) {
                if c.pc.poll_timeout().is_some_and(|t| t <= now) {
                    let _ = c.pc.handle_timeout(now);
                }
            }
            if self.relay.poll_timeout().is_some_and(|t| t <= now) {
                let t = Instant::now();
                self.relay.handle_timeout(now);
                if self.measure {
                    self.relay_time += t.elapsed();
                }
            }
            self.pump();
            if next >= target {
                break;
            }
        }
        self.now = target;
        self.pump();
    }

    /// Advance in steps of `step` until every live client is connected, at most `limit`.
    pub fn connect_all(&mut self, step: Duration, limit: Duration) -> bool {
        let until = self.now + limit;
        while self.now < until {
            self.advance(step);
            if self.clients.iter().filter(|c| !c.gone).all(|c| c.connected) {
                return true;
            }
        }
        false
    }
}
