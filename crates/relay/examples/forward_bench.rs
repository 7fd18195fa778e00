//! CPU per forwarded packet: 30 three-party sessions at realistic rates, no sockets.
//!
//! Every participant is a sans-I/O `rtc` peer connection wired to the relay through an
//! in-memory network (each has its own address; the relay one shared address). Each
//! publishes Opus (50 packets/s, 120 bytes) and VP8 (about 1.2 Mbit/s: 120 packets/s of
//! 1,200 bytes). After ICE, DTLS and the relay's renegotiations, it runs for a number of
//! simulated-rate seconds and reports the relay's CPU per forwarded packet: the time
//! spent inside the relay (SRTP decryption of each inbound packet, the interceptors, the
//! forwarding and SRTP encryption for each receiver) divided by the packets it forwarded.
//! The clients' own work is not counted.
//!
//! ```text
//! cargo run --release -p kakehashi-relay --example forward_bench -- [sessions] [seconds]
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use kakehashi_relay::{LegEvent, LegId, Relay, SessionId};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};

struct Participant {
    pc: RTCPeerConnection,
    addr: SocketAddr,
    leg: LegId,
    audio: RTCRtpSenderId,
    video: RTCRtpSenderId,
    ssrc: u32,
    connected: bool,
    received: u64,
}

fn codec(kind: RtpCodecKind) -> RTCRtpCodec {
    match kind {
        RtpCodecKind::Audio => RTCRtpCodec {
            mime_type: "audio/opus".into(),
            clock_rate: 48000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
            rtcp_feedback: vec![],
        },
        _ => RTCRtpCodec {
            mime_type: "video/VP8".into(),
            clock_rate: 90000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
    }
}

fn track(id: usize, kind: RtpCodecKind, ssrc: u32) -> MediaStreamTrack {
    MediaStreamTrack::new(
        format!("p{id}"),
        format!("p{id}-{kind}"),
        format!("p{id}-{kind}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec: codec(kind),
            ..Default::default()
        }],
    )
}

fn tagged(now: Instant, local: SocketAddr, peer: SocketAddr, data: &[u8]) -> TaggedBytesMut {
    TaggedBytesMut {
        now,
        transport: TransportContext {
            local_addr: local,
            peer_addr: peer,
            ecn: None,
            transport_protocol: TransportProtocol::UDP,
        },
        message: BytesMut::from(data),
    }
}

struct Net {
    relay: Relay,
    relay_addr: SocketAddr,
    people: Vec<Participant>,
    by_addr: HashMap<SocketAddr, usize>,
    relay_time: Duration,
}

impl Net {
    /// Move every datagram and event until nothing moves; `measure` times the relay's share.
    fn pump(&mut self, measure: bool) {
        loop {
            let mut moved = false;
            let now = Instant::now();
            for p in &mut self.people {
                while let Some(out) = p.pc.poll_write() {
                    moved = true;
                    let t = Instant::now();
                    self.relay.handle_datagram(now, p.addr, &out.message);
                    if measure {
                        self.relay_time += t.elapsed();
                    }
                }
                while let Some(e) = p.pc.poll_event() {
                    if let RTCPeerConnectionEvent::OnConnectionStateChangeEvent(RTCPeerConnectionState::Connected) = e {
                        p.connected = true;
                    }
                }
                while let Some(m) = p.pc.poll_read() {
                    if let RTCMessage::RtpPacket(..) = m.message {
                        p.received += 1;
                    }
                }
            }
            loop {
                let t = Instant::now();
                let out = self.relay.poll_transmit();
                if measure {
                    self.relay_time += t.elapsed();
                }
                let Some((to, datagram)) = out else { break };
                moved = true;
                if let Some(&i) = self.by_addr.get(&to) {
                    let _ = self.people[i].pc.handle_read(tagged(now, to, self.relay_addr, &datagram));
                }
            }
            let t = Instant::now();
            let event = self.relay.poll_event();
            if measure {
                self.relay_time += t.elapsed();
            }
            if let Some((leg, event)) = event {
                moved = true;
                if let LegEvent::Offer(sdp) = event {
                    let i = self.people.iter().position(|p| p.leg == leg).expect("a participant per leg");
                    let pc = &mut self.people[i].pc;
                    pc.set_remote_description(now, RTCSessionDescription::offer(sdp).unwrap()).unwrap();
                    let answer = pc.create_answer(None).unwrap();
                    pc.set_local_description(now, answer).unwrap();
                    let sdp = pc.local_description().unwrap().sdp.clone();
                    self.relay.accept_answer(now, leg, sdp).unwrap();
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn tick(&mut self) {
        let now = Instant::now();
        for p in &mut self.people {
            let _ = p.pc.handle_timeout(now);
        }
        self.relay.handle_timeout(now);
    }
}

/// Resident memory of this process, bytes (Linux).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args.next().map_or(30, |a| a.parse().expect("sessions"));
    let seconds: u64 = args.next().map_or(5, |a| a.parse().expect("seconds"));
    let relay_addr = SocketAddr::from(([10, 0, 0, 1], 3478));
    let mut net = Net {
        relay: Relay::new(relay_addr, relay_addr),
        relay_addr,
        people: Vec::new(),
        by_addr: HashMap::new(),
        relay_time: Duration::ZERO,
    };
    let setup = Instant::now();
    let rss_before = rss_bytes();
    for s in 0..sessions {
        for k in 0..3 {
            let id = s * 3 + k;
            let addr = SocketAddr::from(([10, 1, (id / 200) as u8, (id % 200) as u8 + 1], 50_000));
            let now = Instant::now();
            let mut me = MediaEngine::default();
            me.register_default_codecs().unwrap();
            let mut pc = RTCPeerConnectionBuilder::new().with_media_engine(me).build(now).unwrap();
            let audio = pc.add_track(track(id, RtpCodecKind::Audio, 0x10_0000 + id as u32 * 2)).unwrap();
            let video = pc.add_track(track(id, RtpCodecKind::Video, 0x10_0001 + id as u32 * 2)).unwrap();
            let offer = pc.create_offer(None).unwrap();
            pc.set_local_description(now, offer).unwrap();
            let candidate = CandidateHostConfig {
                base_config: CandidateConfig {
                    network: "udp".into(),
                    address: addr.ip().to_string(),
                    port: addr.port(),
                    component: 1,
                    ..Default::default()
                },
                ..Default::default()
            }
            .new_candidate_host()
            .unwrap();
            pc.add_local_candidate(RTCIceCandidate::from(&candidate).to_json().unwrap()).unwrap();
            let sdp = pc.local_description().unwrap().sdp.clone();
            let (leg, answer) = net.relay.accept_offer(now, SessionId(s as u64), k as u64, sdp).unwrap();
            pc.set_remote_description(now, RTCSessionDescription::answer(answer).unwrap()).unwrap();
            net.by_addr.insert(addr, net.people.len());
            net.people.push(Participant {
                pc,
                addr,
                leg,
                audio,
                video,
                ssrc: 0x10_0000 + id as u32 * 2,
                connected: false,
                received: 0,
            });
        }
    }
    // Connect everyone and let the renegotiations settle.
    let deadline = Instant::now() + Duration::from_secs(30);
    while net.people.iter().any(|p| !p.connected) && Instant::now() < deadline {
        net.tick();
        net.pump(false);
        std::thread::sleep(Duration::from_millis(2));
    }
    let connected = net.people.iter().filter(|p| p.connected).count();
    // Prime every track (a track opens on its first packet), then let renegotiation finish.
    let mut seq = 0u32;
    let send = |net: &mut Net, video: bool, seq: u32| {
        let now = Instant::now();
        for p in &mut net.people {
            let (sender, pt, size, ts, ssrc) =
                if video { (p.video, 96, 1200, seq * 750, p.ssrc + 1) } else { (p.audio, 111, 120, seq * 960, p.ssrc) };
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: pt,
                    sequence_number: seq as u16,
                    timestamp: ts,
                    ssrc,
                    ..Default::default()
                },
                payload: bytes::Bytes::from(vec![0u8; size]),
            };
            if let Some(mut s) = p.pc.rtp_sender(sender) {
                let _ = s.write_rtp(now, packet);
            }
        }
    };
    for _ in 0..10 {
        send(&mut net, false, seq);
        send(&mut net, true, seq);
        seq += 1;
        net.tick();
        net.pump(false);
    }
    let setup_secs = setup.elapsed().as_secs_f64();
    let received_before: u64 = net.people.iter().map(|p| p.received).sum();
    // Steady state: per simulated second, 50 audio and 120 video packets per participant.
    let wall = Instant::now();
    for _ in 0..seconds {
        for slot in 0..120u32 {
            send(&mut net, true, seq);
            if slot % 12 < 5 {
                send(&mut net, false, seq);
            }
            seq += 1;
            net.pump(true);
        }
        net.tick();
        net.pump(true);
    }
    let wall_secs = wall.elapsed().as_secs_f64();
    // Process memory per session, clients included (each session: three clients and three
    // legs); an upper bound on the relay's own share.
    let rss_per_session = rss_bytes().saturating_sub(rss_before) / sessions.max(1) as u64;
    let forwarded = net.people.iter().map(|p| p.received).sum::<u64>() - received_before;
    let expected = (sessions * 3 * 2) as u64 * seconds * 170;
    let per_packet_us = net.relay_time.as_secs_f64() * 1e6 / forwarded.max(1) as f64;
    println!(
        "{{\"sessions\":{sessions},\"participants\":{},\"connected\":{connected},\"simulated_seconds\":{seconds},\"forwarded\":{forwarded},\"expected\":{expected},\"relay_cpu_us_per_forwarded_packet\":{per_packet_us:.2},\"forwarded_per_cpu_second\":{:.0},\"wall_secs\":{wall_secs:.2},\"setup_secs\":{setup_secs:.2},\"process_rss_kib_per_session_clients_included\":{}}}",
        net.people.len(),
        1e6 / per_packet_us,
        rss_per_session / 1024
    );
}
