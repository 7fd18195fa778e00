//! The relay's sans-I/O core: legs (one `rtc` peer connection per participant) on one
//! shared UDP address, fed through the [`Demux`].
//!
//! Drive it like the engine: [`Relay::handle_datagram`] for every datagram read from the
//! shared socket and [`Relay::handle_tcp`] for every packet read from an ICE-TCP
//! connection, send what [`Relay::poll_transmit`] returns, call
//! [`Relay::handle_timeout`] when [`Relay::poll_timeout`] says so, and read
//! [`Relay::poll_event`] for legs connecting and failing. The relay reads no clock: time
//! is the `now` of the last call that brought one.
//!
//! Each leg is ICE-lite with its own random ICE credentials, answering the participant's
//! offer with one host candidate: the shared address (or the advertised public one), and
//! with [`Relay::with_tcp`] a passive TCP candidate for networks that block UDP.
//! An address is confirmed for a leg when the leg's ICE agent answers a binding request
//! from it with a success response, which it does only after checking MESSAGE-INTEGRITY.
//!
//! A session's participants are numbered by the caller (the server uses their role). A
//! participant's new offer replaces its earlier leg: the others keep their tracks for it,
//! and what they receive continues (same SSRC, sequence numbers and timestamps carried
//! on), so a reconnect costs them neither a renegotiation nor a stall.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use bytes::BytesMut;
use rtc::ice::tcp_type::TcpType;
use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::{MediaStreamTrack, MediaStreamTrackId};
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::event::{RTCPeerConnectionEvent, RTCTrackEvent};
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use rtc::rtp_transceiver::{RTCRtpReceiverId, RTCRtpSenderId};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use rtc::statistics::StatsSelector;
use rtc::statistics::report::RTCStatsReportEntry;
use rustc_hash::FxHashMap;

use crate::codec::{VideoCodec, media_engine};
use crate::demux::{Demux, Kind, Route, classify};
use crate::feedback::{FEEDBACK_SLOT, Feedback, is_keyframe_request};
use crate::rewrite::{Continuity, ExtensionIds, extension_ids, translate_extensions};
use crate::stun;

/// A participant's connection to the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// What happened to a leg.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// One stream a participant publishes, as the session knows it across reconnects: the
/// participant, audio or video, and its ordinal among the participant's streams of that
/// kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Source {
    participant: u64,
    video: bool,
    n: u8,
}

/// A track a participant publishes.
#[derive(Clone, Debug)]
struct Inbound {
    source: Source,
    codec: RTCRtpCodec,
    receiver: RTCRtpReceiverId,
    /// The ids of the forwarded header extensions on this leg.
    ext: ExtensionIds,
}

/// Keyframe requests to one publisher's track at most this often.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// Whether a receiving track gets video now (the bandwidth policy, ADR 0007).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Forwarding,
    Paused,
    /// Resumed: forwarding starts at the next keyframe.
    AwaitingKeyframe,
}

/// A track a leg sends: another participant's, forwarded.
#[derive(Clone, Debug)]
struct Outbound {
    sender: RTCRtpSenderId,
    ssrc: u32,
    codec: RTCRtpCodec,
    video: bool,
    /// Added since the leg's last answer: ask the publisher for a keyframe when it lands.
    fresh: bool,
    /// The payload type and extension ids on this leg, known once the leg has answered.
    pt: Option<u8>,
    ext: ExtensionIds,
    continuity: Continuity,
    flow: Flow,
}

/// The bandwidth policy's state for one receiving leg (ADR 0007).
#[derive(Clone, Copy, Debug)]
struct Congestion {
    /// The video loss fraction the participant reports, smoothed (each report weighs half).
    video_loss: f64,
    /// Video reports since the last change of state.
    reports: u32,
    paused_at: Option<Instant>,
    /// How long the current pause lasts at least.
    hold: Duration,
    resumed_at: Option<Instant>,
    /// The latest loss fraction the participant reported for audio.
    audio_loss: f64,
    pauses: u32,
}

/// A smoothed video loss fraction above this, after at least two reports, pauses video.
const PAUSE_LOSS: f64 = 0.15;
/// Video resumes when audio loss is at most this and the hold has passed.
const RESUME_LOSS: f64 = 0.05;
/// The first hold; it doubles when video has to be paused again soon after resuming.
const FIRST_HOLD: Duration = Duration::from_secs(8);
const MAX_HOLD: Duration = Duration::from_secs(64);
/// A pause within this long of resuming counts as "soon after".
const RELAPSE: Duration = Duration::from_secs(30);

impl Default for Congestion {
    fn default() -> Self {
        Congestion {
            video_loss: 0.0,
            reports: 0,
            paused_at: None,
            hold: FIRST_HOLD,
            resumed_at: None,
            audio_loss: 0.0,
            pauses: 0,
        }
    }
}

struct Leg {
    pc: RTCPeerConnection,
    session: SessionId,
    participant: u64,
    connected: bool,
    /// Tracks this participant publishes.
    inbound: FxHashMap<MediaStreamTrackId, Inbound>,
    /// Tracks this leg sends, by source.
    outbound: FxHashMap<Source, Outbound>,
    /// The same, by the id of the local sending track (how its RTCP is tagged)...
    outbound_by_local: FxHashMap<MediaStreamTrackId, Source>,
    /// ...and by SSRC (how reception reports name it).
    outbound_by_ssrc: FxHashMap<u32, Source>,
    /// An offer is out and its answer awaited.
    awaiting_answer: bool,
    /// Tracks were added since the last offer.
    needs_offer: bool,
    /// Listed in `Relay::dirty`.
    dirty: bool,
    /// When its peer connection's next timer is due, as listed in `Relay::deadlines`
    /// (refreshed each time the leg is drained).
    deadline: Option<Instant>,
    congestion: Congestion,
    rtt: Option<Duration>,
    keyframe_requests_sent: [u64; 2],
    keyframe_requests_received: [u64; 2],
    nacks_received: [u64; 2],
    /// Cumulative loss the participant reports per stream the relay sends it.
    remote_lost: FxHashMap<u32, (bool, u32)>,
}

/// A call's legs and what they publish.
#[derive(Debug, Default)]
struct Session {
    /// In order of joining.
    legs: Vec<LegId>,
    /// The video codec of every leg (see [`crate::codec`]).
    video: Option<VideoCodec>,
    /// Which leg and track feeds each source now.
    publishers: FxHashMap<Source, (LegId, MediaStreamTrackId)>,
}

/// Packets kept per sending video track to answer NACKs: about half a second of video at
/// 1.2 Mbit/s. `rtc`'s default (1,024) holds eight seconds, whose copies cost 1.2 MB per
/// forwarded video stream; a retransmission later than a few round trips comes too late
/// for interactive video anyway (ADR 0008).
pub(crate) const NACK_BUFFER: u16 = 64;

/// A leg's interceptors: `rtc`'s defaults (receiver and sender reports, NACK generation
/// and answering, transport-wide congestion control feedback to publishers, the MID and
/// RID extensions), with the NACK buffer bounded, and [`Feedback`] last.
fn interceptors(
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

/// Datagrams read from unknown sources beyond this many a second are not examined.
const UNKNOWN_PER_SEC: u32 = 2000;

/// The relay's legs on one shared address.
pub struct Relay {
    local: SocketAddr,
    advertised: SocketAddr,
    /// The passive TCP candidate's address, if ICE-TCP is on.
    tcp: Option<SocketAddr>,
    demux: Demux<LegId, Peer>,
    legs: FxHashMap<LegId, Leg>,
    sessions: FxHashMap<SessionId, Session>,
    next: u64,
    /// The time of the latest call that brought one.
    now: Instant,
    /// Wall-clock time at `now` when the relay was made: NTP time for round trips.
    clock: (Instant, SystemTime),
    transmit: VecDeque<Transmit>,
    events: VecDeque<(LegId, LegEvent)>,
    /// Legs touched since they were last drained (a datagram, a forwarded packet, a timer,
    /// a description): only these are polled, so a packet costs O(receivers), not O(legs).
    dirty: VecDeque<LegId>,
    /// Every leg's next timer, earliest first: finding the next timeout and the legs due
    /// costs O(log legs), not a poll of every peer connection.
    deadlines: BTreeSet<(Instant, LegId)>,
    /// When a keyframe was last requested of each source.
    keyframe_asked: FxHashMap<(SessionId, Source), Instant>,
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

/// Index of a kind in per-kind arrays.
fn kind_index(video: bool) -> usize {
    usize::from(video)
}

impl Relay {
    /// A relay on the socket bound at `local`, advertising `advertised` as its candidate
    /// (the public address behind a 1:1 NAT, or `local`).
    pub fn new(local: SocketAddr, advertised: SocketAddr) -> Relay {
        let now = Instant::now();
        Relay {
            local,
            advertised,
            tcp: None,
            demux: Demux::new(UNKNOWN_PER_SEC),
            legs: FxHashMap::default(),
            sessions: FxHashMap::default(),
            next: 1,
            now,
            clock: (now, SystemTime::now()),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            dirty: VecDeque::new(),
            deadlines: BTreeSet::new(),
            keyframe_asked: FxHashMap::default(),
            keyframe_requests: 0,
        }
    }

    /// Offer ICE-TCP too: every leg's answer gets a passive TCP candidate at `advertised`
    /// (the listener's address, or its public one). Packets from connections to it come
    /// in through [`Relay::handle_tcp`].
    pub fn with_tcp(mut self, advertised: SocketAddr) -> Relay {
        self.tcp = Some(advertised);
        self
    }

    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// The middle 32 bits of the NTP time at `now` (RFC 3550's LSR and DLSR unit).
    fn ntp_middle(&self, now: Instant) -> u32 {
        let wall = self.clock.1 + now.saturating_duration_since(self.clock.0);
        let since_unix = wall.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let seconds = since_unix.as_secs().wrapping_add(2_208_988_800);
        let fraction = (u64::from(since_unix.subsec_nanos()) << 16) / 1_000_000_000;
        (((seconds & 0xffff) << 16) | fraction) as u32
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

    /// Drain every touched leg (draining can touch more: forwarding, keyframe requests),
    /// then note when each one's next timer is due.
    fn process(&mut self) {
        while let Some(id) = self.dirty.pop_front() {
            if let Some(leg) = self.legs.get_mut(&id) {
                leg.dirty = false;
            }
            self.drain_events(id);
            self.flush_leg(id, None);
            self.refresh_deadline(id);
        }
    }

    /// Re-read a leg's next timer. Everything that reaches a peer connection touches its
    /// leg, and every touched leg is drained and then refreshed here, so the index is
    /// current whenever no leg is dirty.
    fn refresh_deadline(&mut self, id: LegId) {
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let next = leg.pc.poll_timeout();
        if next != leg.deadline {
            if let Some(old) = leg.deadline {
                self.deadlines.remove(&(old, id));
            }
            if let Some(next) = next {
                self.deadlines.insert((next, id));
            }
            leg.deadline = next;
        }
    }

    /// Ask the publisher of a source for a keyframe. Requests passed on from subscribers
    /// are throttled per source; the relay's own (a subscriber joined, video resumed) are
    /// `forced`: they are rare, and the subscriber sees nothing until a keyframe comes.
    fn request_keyframe(&mut self, session: SessionId, source: Source, forced: bool) {
        let now = self.now;
        let key = (session, source);
        if !forced
            && self
                .keyframe_asked
                .get(&key)
                .is_some_and(|t| now.saturating_duration_since(*t) < KEYFRAME_REQUEST_INTERVAL)
        {
            return;
        }
        let Some((publisher, track)) = self.sessions.get(&session).and_then(|s| s.publishers.get(&source)).cloned()
        else {
            return;
        };
        let Some(leg) = self.legs.get_mut(&publisher) else { return };
        let Some(receiver_id) = leg.inbound.get(&track).map(|i| i.receiver) else { return };
        let Some(mut receiver) = leg.pc.rtp_receiver(receiver_id) else { return };
        let Some(media_ssrc) = receiver.track().ssrcs().last() else { return };
        let pli =
            rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication { sender_ssrc: 0, media_ssrc };
        if receiver.write_rtcp(now, vec![Box::new(pli)]).is_ok() {
            leg.keyframe_requests_sent[kind_index(source.video)] += 1;
            self.keyframe_asked.insert(key, now);
            self.keyframe_requests += 1;
            self.touch(publisher);
        }
    }

    /// Keyframe requests sent to publishers so far.
    pub fn keyframe_requests(&self) -> u64 {
        self.keyframe_requests
    }

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
        let ufrag = random_string(16)?;
        let pwd = random_string(32)?;
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
    fn offer_if_needed(&mut self, id: LegId) {
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
    fn add_outbound(&mut self, to: LegId, inbound: &Inbound) {
        let Some(leg) = self.legs.get_mut(&to) else { return };
        let source = inbound.source;
        if leg.outbound.contains_key(&source) {
            return;
        }
        let mut ssrc_bytes = [0u8; 4];
        if getrandom::fill(&mut ssrc_bytes).is_err() {
            return;
        }
        let ssrc = u32::from_be_bytes(ssrc_bytes);
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

    /// Forward a packet of `from`'s track to every other leg of the session that sends it.
    fn forward(&mut self, from: LegId, track: &MediaStreamTrackId, packet: &rtc::rtp::Packet) {
        let now = self.now;
        let Relay { legs, sessions, dirty, .. } = self;
        let Some((session, source, ext_in)) =
            legs.get(&from).and_then(|l| l.inbound.get(track).map(|i| (l.session, i.source, i.ext)))
        else {
            return;
        };
        let Some(session) = sessions.get(&session) else { return };
        for id in session.legs.iter().filter(|l| **l != from) {
            let Some(leg) = legs.get_mut(id) else { continue };
            let Some(out) = leg.outbound.get_mut(&source) else { continue };
            // Before the leg's answer there is no payload type yet: the packet is dropped.
            let Some(pt) = out.pt else { continue };
            match out.flow {
                Flow::Forwarding => {}
                Flow::Paused => continue,
                Flow::AwaitingKeyframe => {
                    if !session.video.is_some_and(|c| c.starts_keyframe(&packet.payload)) {
                        continue;
                    }
                    out.flow = Flow::Forwarding;
                    out.continuity.rebase();
                }
            }
            let mut p = packet.clone();
            // Continuity notices a new source by its SSRC: before the SSRC is rewritten.
            out.continuity.apply(now, &mut p.header);
            p.header.ssrc = out.ssrc;
            p.header.payload_type = pt;
            translate_extensions(&mut p.header, &ext_in, &out.ext);
            let sent = leg.pc.rtp_sender(out.sender).is_some_and(|mut s| s.write_rtp(now, p).is_ok());
            if sent && !leg.dirty {
                leg.dirty = true;
                dirty.push_back(*id);
            }
        }
    }

    /// Take a leg out of the relay; `None` if there was none.
    fn take_leg(&mut self, id: LegId) -> Option<Leg> {
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
    fn supersede(&mut self, id: LegId) {
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

    /// A datagram read from the shared socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.handle_packet(now, Peer::udp(from), datagram);
    }

    /// A packet (one RFC 4571 frame's content) read from the TCP connection from `from`.
    /// Ignored if ICE-TCP is off.
    pub fn handle_tcp(&mut self, now: Instant, from: SocketAddr, packet: &[u8]) {
        if self.tcp.is_some() {
            self.handle_packet(now, Peer::tcp(from), packet);
        }
    }

    /// Whether a leg's ICE agent has confirmed `peer` (so its packets reach the leg).
    pub fn is_confirmed(&self, peer: Peer) -> bool {
        self.demux.is_confirmed(peer)
    }

    /// The TCP connection from `from` closed: nothing goes to it any more. Its leg lives
    /// on (its participant may come back over UDP or a new connection) until removed.
    pub fn tcp_closed(&mut self, from: SocketAddr) {
        self.demux.forget(Peer::tcp(from));
    }

    fn handle_packet(&mut self, now: Instant, from: Peer, datagram: &[u8]) {
        self.advance(now);
        let (id, probe) = match self.demux.route(now, from, datagram) {
            Route::Leg(id) => (id, false),
            Route::Probe(id) => (id, true),
            Route::Drop(_) => return,
        };
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let message = TaggedBytesMut {
            now,
            // The ICE agent knows the packet's local candidate by this address: the
            // advertised one, which differs from the bound one behind a 1:1 NAT.
            transport: TransportContext {
                local_addr: match from.transport {
                    Transport::Udp => self.advertised,
                    Transport::Tcp => self.tcp.unwrap_or(self.advertised),
                },
                peer_addr: from.addr,
                ecn: None,
                transport_protocol: from.transport.protocol(),
            },
            message: BytesMut::from(datagram),
        };
        // A peer connection refusing a datagram (bad DTLS record, failed integrity) is
        // that leg's business only.
        if leg.pc.handle_read(message).is_err() {
            self.touch(id);
            return;
        }
        if probe {
            self.flush_leg(id, Some(from));
        }
        self.touch(id);
    }

    /// Move a leg's outgoing datagrams to the transmit queue; confirm `probe_from` if the
    /// leg answered it with a binding success.
    fn flush_leg(&mut self, id: LegId, probe_from: Option<Peer>) {
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let mut confirmed = false;
        while let Some(out) = leg.pc.poll_write() {
            let to = Peer { transport: Transport::of(out.transport.transport_protocol), addr: out.transport.peer_addr };
            if Some(to) == probe_from
                && classify(&out.message) == Kind::Stun
                && stun::parse(&out.message).is_ok_and(|m| m.kind == stun::BINDING_SUCCESS)
            {
                confirmed = true;
            }
            self.transmit.push_back(Transmit { to, data: out.message });
        }
        if let (true, Some(addr)) = (confirmed, probe_from) {
            self.demux.confirm(id, addr);
        }
    }

    /// The next datagram to send from the shared socket.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.transmit.is_empty() {
            self.process();
        }
        self.transmit.pop_front()
    }

    fn drain_events(&mut self, id: LegId) {
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

    /// A participant's reception reports of what the relay sends it: round-trip time, and
    /// the bandwidth policy (ADR 0007).
    fn on_reports(&mut self, id: LegId, session: SessionId, reports: &[(Source, ReceptionReport)]) {
        let now = self.now;
        let ntp_now = self.ntp_middle(now);
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let mut video_loss: Option<f64> = None;
        for (source, block) in reports {
            if block.last_sender_report != 0 {
                let units = ntp_now.wrapping_sub(block.last_sender_report).wrapping_sub(block.delay);
                // Under a minute; anything else is a clock step or a bogus report.
                if units < 60 << 16 {
                    leg.rtt = Some(Duration::from_secs_f64(f64::from(units) / 65_536.0));
                }
            }
            leg.remote_lost.insert(block.ssrc, (source.video, block.total_lost));
            let loss = f64::from(block.fraction_lost) / 256.0;
            if source.video {
                video_loss = Some(video_loss.map_or(loss, |l: f64| l.max(loss)));
            } else {
                leg.congestion.audio_loss = loss;
            }
        }
        let c = &mut leg.congestion;
        let mut resume: Vec<Source> = Vec::new();
        match c.paused_at {
            None => {
                let Some(loss) = video_loss else { return };
                c.video_loss = (c.video_loss + loss) / 2.0;
                c.reports += 1;
                if c.reports < 2 || c.video_loss <= PAUSE_LOSS {
                    return;
                }
                let relapse = c.resumed_at.is_some_and(|r| now.saturating_duration_since(r) < RELAPSE);
                c.hold = if relapse { (c.hold * 2).min(MAX_HOLD) } else { FIRST_HOLD };
                c.paused_at = Some(now);
                c.pauses += 1;
                c.reports = 0;
                c.video_loss = 0.0;
                for out in leg.outbound.values_mut().filter(|o| o.video) {
                    out.flow = Flow::Paused;
                }
                self.events.push_back((id, LegEvent::VideoPaused));
            }
            Some(at) => {
                if now.saturating_duration_since(at) < c.hold || c.audio_loss > RESUME_LOSS {
                    return;
                }
                c.paused_at = None;
                c.resumed_at = Some(now);
                c.reports = 0;
                c.video_loss = 0.0;
                for (source, out) in leg.outbound.iter_mut().filter(|(_, o)| o.video) {
                    out.flow = Flow::AwaitingKeyframe;
                    resume.push(*source);
                }
                self.events.push_back((id, LegEvent::VideoResumed));
            }
        }
        resume.sort_unstable();
        for source in resume {
            self.request_keyframe(session, source, true);
        }
    }

    /// The next leg event.
    pub fn poll_event(&mut self) -> Option<(LegId, LegEvent)> {
        if self.events.is_empty() {
            self.process();
        }
        self.events.pop_front()
    }

    /// When to call [`Relay::handle_timeout`]: the earliest timer of any leg.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Touched legs may have new timers: drain them first (their output waits in the
        // transmit and event queues).
        self.process();
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Run the timers of the legs that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        while let Some(&(at, id)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(leg) = self.legs.get_mut(&id) {
                leg.deadline = None;
                let _ = leg.pc.handle_timeout(now);
            }
            self.touch(id);
        }
    }

    /// A leg's statistics so far.
    pub fn leg_stats(&mut self, id: LegId) -> Option<LegStats> {
        let now = self.now;
        let leg = self.legs.get_mut(&id)?;
        let report = leg.pc.get_stats(now, StatsSelector::None);
        let mut stats = LegStats {
            rtt: leg.rtt,
            video_paused: leg.congestion.paused_at.is_some(),
            video_pauses: leg.congestion.pauses,
            ..LegStats::default()
        };
        for (video, s) in [(false, &mut stats.audio), (true, &mut stats.video)] {
            s.keyframe_requests_sent = leg.keyframe_requests_sent[kind_index(video)];
            s.keyframe_requests_received = leg.keyframe_requests_received[kind_index(video)];
            s.nacks_received = leg.nacks_received[kind_index(video)];
            s.remote_packets_lost =
                leg.remote_lost.values().filter(|(v, _)| *v == video).map(|(_, lost)| u64::from(*lost)).sum();
        }
        for entry in report.iter() {
            match entry {
                RTCStatsReportEntry::InboundRtp(i) => {
                    let r = &i.received_rtp_stream_stats;
                    let (s, clock) = match r.rtp_stream_stats.kind {
                        RtpCodecKind::Audio => (&mut stats.audio, 48_000.0),
                        RtpCodecKind::Video => (&mut stats.video, 90_000.0),
                        _ => continue,
                    };
                    s.packets_received += r.packets_received;
                    s.bytes_received += i.bytes_received + i.header_bytes_received;
                    s.packets_lost += u64::try_from(r.packets_lost).unwrap_or(0);
                    s.jitter = s.jitter.max(r.jitter / clock);
                    s.nacks_sent += u64::from(i.nack_count);
                }
                RTCStatsReportEntry::OutboundRtp(o) => {
                    let sent = &o.sent_rtp_stream_stats;
                    let s = match sent.rtp_stream_stats.kind {
                        RtpCodecKind::Audio => &mut stats.audio,
                        RtpCodecKind::Video => &mut stats.video,
                        _ => continue,
                    };
                    s.packets_sent += sent.packets_sent;
                    s.bytes_sent += sent.bytes_sent + o.header_bytes_sent;
                }
                _ => {}
            }
        }
        Some(stats)
    }

    /// The legs now open.
    pub fn legs(&self) -> impl Iterator<Item = LegId> + '_ {
        self.legs.keys().copied()
    }

    /// How many legs and sessions are open.
    pub fn counts(&self) -> (usize, usize) {
        (self.legs.len(), self.sessions.len())
    }

    /// The confirmed addresses of a leg.
    pub fn addresses(&self, id: LegId) -> &[Peer] {
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
        let (leg, answer) = relay.accept_offer(now, SessionId(1), 0, offer(now)).unwrap();
        assert!(answer.contains("a=ice-lite") && answer.contains("127.0.0.1 3478 typ host"), "{answer}");
        let attacker = SocketAddr::from(([127, 0, 0, 9], 4000));
        // It names the leg's ufrag but carries no MESSAGE-INTEGRITY with the ICE password.
        let forged = stun::binding_request([5; 12], &format!("{}:whatever", ufrag(&answer)));
        relay.handle_datagram(now, attacker, &forged);
        while let Some(Transmit { to, data }) = relay.poll_transmit() {
            let success = stun::parse(&data).is_ok_and(|m| m.kind == stun::BINDING_SUCCESS);
            assert!(!(to.addr == attacker && success), "no success response to a forged request");
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
            let err = relay.accept_offer(now, SessionId(1), 0, bad.to_string()).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(relay.demux_stats(), crate::DemuxStats::default());
    }
}
