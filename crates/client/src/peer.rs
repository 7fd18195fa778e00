//! A WebRTC participant (`webrtc` 0.21.1): one peer connection to the relay that
//! publishes an Opus track (and optionally a VP8 one) with the RTP it is given, answers
//! the relay's offers, and hands every packet it receives, with its stream id (`p<n>`:
//! whose it is), to a [`Packets`] sink.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceCandidateInit, RTCIceGatheringState,
    RTCSessionDescription,
};

use crate::ClientError;

/// A peer's video SSRC is its audio SSRC plus this.
pub const VIDEO_SSRC_OFFSET: u32 = 0x100;

/// A packet as received.
#[derive(Clone, Debug)]
pub struct Received {
    /// Whose stream (the relay's `p<participant>`).
    pub stream_id: String,
    /// Audio or video.
    pub video: bool,
    /// The RTP header's SSRC, as the relay rewrote it.
    pub ssrc: u32,
    /// The RTP sequence number.
    pub seq: u16,
    /// The payload.
    pub payload: bytes::Bytes,
    /// When it arrived.
    pub at: Instant,
}

/// Where received packets go: counted in place (the load tool) or sent on (tests).
pub trait Packets: Send + Sync + 'static {
    /// One packet.
    fn packet(&self, received: Received);
}

impl Packets for tokio::sync::mpsc::UnboundedSender<Received> {
    fn packet(&self, received: Received) {
        let _ = self.send(received);
    }
}

/// What a peer is.
pub struct PeerOptions {
    /// The address its sockets bind (loopback by default).
    pub ip: IpAddr,
    /// Publish Opus with this SSRC (and VP8 with `ssrc + VIDEO_SSRC_OFFSET` when `video`); `None`
    /// only receives.
    pub publish: Option<u32>,
    /// Publish video as well.
    pub video: bool,
    /// The stream id of what it publishes (a browser's `MediaStream.id`).
    pub stream_id: String,
    /// Only an active ICE-TCP candidate, as behind a firewall that blocks UDP.
    pub tcp_only: bool,
    /// ICE checks paced as a browser paces them (every 50 ms, a host pair at once), not
    /// at webrtc-rs's 200 ms. Either way a pair is given up only after five seconds
    /// without an answer, as a browser gives it up.
    pub browser_pacing: bool,
    /// Interceptors to add to the defaults (a test's keyframe-request watcher).
    pub interceptors: Option<Box<dyn FnOnce(rtc::interceptor::Registry) -> rtc::interceptor::Registry + Send>>,
}

impl std::fmt::Debug for PeerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerOptions")
            .field("ip", &self.ip)
            .field("publish", &self.publish)
            .field("video", &self.video)
            .field("tcp_only", &self.tcp_only)
            .finish_non_exhaustive()
    }
}

impl Default for PeerOptions {
    fn default() -> Self {
        PeerOptions {
            ip: IpAddr::from([127, 0, 0, 1]),
            publish: None,
            video: false,
            stream_id: "client".into(),
            tcp_only: false,
            browser_pacing: false,
            interceptors: None,
        }
    }
}

struct Handler {
    gathered: tokio::sync::mpsc::UnboundedSender<()>,
    connected: tokio::sync::watch::Sender<bool>,
    states: States,
    packets: Arc<dyn Packets>,
}

/// The states a peer went through, ICE's and the connection's, in order (`ice:checking`,
/// `ice:connected`, `pc:connecting`, …): where a leg that never connected stopped.
pub type States = Arc<std::sync::Mutex<Vec<String>>>;

fn went(states: &States, state: String) {
    if let Ok(mut s) = states.lock() {
        s.push(state);
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }

    async fn on_ice_connection_state_change(&self, state: webrtc::peer_connection::RTCIceConnectionState) {
        went(&self.states, format!("ice:{state}"));
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        went(&self.states, format!("pc:{state}"));
        let _ = self.connected.send(state == RTCPeerConnectionState::Connected);
    }

    async fn on_track(&self, track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>) {
        let packets = Arc::clone(&self.packets);
        tokio::spawn(async move {
            let stream_id = track.stream_id().await.to_string();
            let video = track.kind().await == RtpCodecKind::Video;
            while let Some(event) = track.poll().await {
                if let webrtc::media_stream::track_remote::TrackRemoteEvent::OnRtpPacket(p) = event {
                    packets.packet(Received {
                        stream_id: stream_id.clone(),
                        video,
                        ssrc: p.header.ssrc,
                        seq: p.header.sequence_number,
                        payload: p.payload,
                        at: Instant::now(),
                    });
                }
            }
        });
    }
}

fn failed(e: impl std::fmt::Display) -> ClientError {
    ClientError::Media(e.to_string())
}

fn local_track(kind: RtpCodecKind, stream_id: &str, ssrc: u32) -> Arc<TrackLocalStaticRTP> {
    let codec = match kind {
        RtpCodecKind::Video => RTCRtpCodec { mime_type: "video/VP8".into(), clock_rate: 90_000, ..Default::default() },
        _ => RTCRtpCodec {
            mime_type: "audio/opus".into(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
            rtcp_feedback: vec![],
        },
    };
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        stream_id.to_string(),
        format!("{stream_id}-{kind}"),
        format!("{stream_id}-{kind}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec,
            ..Default::default()
        }],
    )))
}

/// A participant's peer connection.
pub struct Peer {
    /// The connection.
    pub pc: Arc<dyn PeerConnection>,
    /// The Opus track it publishes.
    pub audio: Option<Arc<TrackLocalStaticRTP>>,
    /// The VP8 track it publishes.
    pub video: Option<Arc<TrackLocalStaticRTP>>,
    /// The SSRC of its audio (its video's is `+ VIDEO_SSRC_OFFSET`).
    pub ssrc: u32,
    tcp_only: bool,
    gathered: tokio::sync::mpsc::UnboundedReceiver<()>,
    gathered_once: bool,
    connected: tokio::sync::watch::Receiver<bool>,
    states: States,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").field("ssrc", &self.ssrc).finish_non_exhaustive()
    }
}

impl Peer {
    /// A peer that hands what it receives to `packets`.
    pub async fn new(options: PeerOptions, packets: Arc<dyn Packets>) -> Result<Peer, ClientError> {
        let (gathered_tx, gathered) = tokio::sync::mpsc::unbounded_channel();
        let (connected_tx, connected) = tokio::sync::watch::channel(false);
        let states = States::default();
        let mut media_engine = webrtc::peer_connection::MediaEngine::default();
        media_engine.register_default_codecs().map_err(failed)?;
        // A candidate pair is given up after GIVE_UP without an answer, as a browser does
        // (Chromium: five unanswered checks over five seconds). webrtc-rs gives up after
        // seven checks: 400 ms at a browser's pacing, so a machine busy for half a second
        // (the load tool and the server share two cores) lost a leg that a browser would
        // have connected.
        const GIVE_UP: Duration = Duration::from_secs(5);
        let interval = Duration::from_millis(if options.browser_pacing { 50 } else { 200 });
        let checks = u16::try_from(GIVE_UP.as_millis() / interval.as_millis()).unwrap_or(u16::MAX);
        let mut settings = webrtc::peer_connection::SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_ice_connection_attempts(Some(interval), Some(checks));
        if options.browser_pacing {
            settings = settings.with_host_acceptance_min_wait(Some(Duration::ZERO));
        }
        if options.tcp_only {
            settings = settings.with_network_types(vec![rtc::ice::network_type::NetworkType::Tcp4]);
        }
        let mut registry = webrtc::peer_connection::register_default_interceptors(
            rtc::interceptor::Registry::new(),
            &mut media_engine,
        )
        .map_err(failed)?;
        if let Some(add) = options.interceptors {
            registry = add(registry);
        }
        let builder = PeerConnectionBuilder::new()
            .with_setting_engine(settings.build())
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler {
                gathered: gathered_tx,
                connected: connected_tx,
                states: Arc::clone(&states),
                packets,
            }));
        let bind = SocketAddr::new(options.ip, 0).to_string();
        let builder = if options.tcp_only {
            builder.with_tcp_addrs(vec![bind]).with_udp_addrs(Vec::<String>::new())
        } else {
            builder.with_udp_addrs(vec![bind])
        };
        let pc: Arc<dyn PeerConnection> = Arc::new(builder.build().await.map_err(failed)?);
        let (mut audio, mut video) = (None, None);
        if let Some(ssrc) = options.publish {
            let a = local_track(RtpCodecKind::Audio, &options.stream_id, ssrc);
            pc.add_track(Arc::clone(&a) as Arc<dyn TrackLocal>).await.map_err(failed)?;
            audio = Some(a);
            if options.video {
                let v = local_track(RtpCodecKind::Video, &options.stream_id, ssrc + VIDEO_SSRC_OFFSET);
                pc.add_track(Arc::clone(&v) as Arc<dyn TrackLocal>).await.map_err(failed)?;
                video = Some(v);
            }
        }
        Ok(Peer {
            pc,
            audio,
            video,
            ssrc: options.publish.unwrap_or_default(),
            tcp_only: options.tcp_only,
            gathered,
            gathered_once: false,
            connected,
            states,
        })
    }

    /// Our offer, with every candidate (the relay does not need trickle).
    pub async fn offer(&mut self) -> Result<String, ClientError> {
        let offer = self.pc.create_offer(None).await.map_err(failed)?;
        self.pc.set_local_description(offer).await.map_err(failed)?;
        self.local().await
    }

    async fn local(&mut self) -> Result<String, ClientError> {
        if !self.gathered_once {
            let _ = tokio::time::timeout(Duration::from_secs(10), self.gathered.recv()).await;
            self.gathered_once = true;
        }
        Ok(self.pc.local_description().await.map(|d| d.sdp).unwrap_or_default())
    }

    /// Take the relay's answer to our offer. Over ICE-TCP, its passive candidates are
    /// added as trickled ones (a browser connects to them by itself).
    pub async fn answered(&self, sdp: String) -> Result<(), ClientError> {
        let passive: Vec<String> = sdp
            .lines()
            .filter_map(|l| l.strip_prefix("a="))
            .filter(|l| l.starts_with("candidate:") && l.contains("tcptype passive"))
            // Component 1 only: RTCP is multiplexed.
            .filter(|l| l.split_whitespace().nth(1) == Some("1"))
            .map(str::to_string)
            .collect();
        self.pc.set_remote_description(RTCSessionDescription::answer(sdp).map_err(failed)?).await.map_err(failed)?;
        if self.tcp_only {
            for candidate in passive {
                self.pc
                    .add_ice_candidate(RTCIceCandidateInit { candidate, ..Default::default() })
                    .await
                    .map_err(failed)?;
            }
        }
        Ok(())
    }

    /// Answer the relay's offer.
    pub async fn answer(&mut self, sdp: String) -> Result<String, ClientError> {
        self.pc.set_remote_description(RTCSessionDescription::offer(sdp).map_err(failed)?).await.map_err(failed)?;
        let answer = self.pc.create_answer(None).await.map_err(failed)?;
        self.pc.set_local_description(answer).await.map_err(failed)?;
        self.local().await
    }

    /// A watch of whether ICE and DTLS are up.
    pub fn connected(&self) -> tokio::sync::watch::Receiver<bool> {
        self.connected.clone()
    }

    /// The states it went through so far (see [`States`]).
    pub fn states(&self) -> States {
        Arc::clone(&self.states)
    }

    /// Wait until ICE and DTLS are up.
    pub async fn until_connected(&mut self, wait: Duration) -> Result<(), ClientError> {
        tokio::time::timeout(wait, self.connected.wait_for(|c| *c))
            .await
            .map_err(|_| ClientError::Media("not connected in time".into()))?
            .map(|_| ())
            .map_err(failed)
    }

    /// Send an RTP packet on the audio or video track (nothing if there is none).
    pub async fn write(&self, video: bool, packet: rtc::rtp::Packet) {
        let track = if video { &self.video } else { &self.audio };
        if let Some(track) = track {
            let _ = track.write_rtp(packet).await;
        }
    }

    /// Close the connection.
    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}
