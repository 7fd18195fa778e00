//! WebRTC participants from `webrtc` 0.21.1: a peer connection that publishes Opus (50
//! packets a second) and VP8 (about 1.2 Mbit/s: 120 packets a second of 1,200 bytes) of
//! synthetic RTP, each payload carrying its publisher and its send time, and counts what
//! it receives: packets, one-way latency, loss by sequence numbers.
//!
//! The same peer serves kakehashi (one connection that publishes and receives) and Janus
//! (one that publishes, another that receives).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCSessionDescription,
};

use crate::LoadError;
use crate::report::Samples;

/// Bytes of a video packet, and packets a second: 1.15 Mbit/s of payload.
pub const VIDEO_BYTES: usize = 1200;
/// Video packets a second.
pub const VIDEO_PPS: u32 = 120;
/// Bytes of an Opus packet (a 20 ms frame at about 48 kbit/s).
pub const AUDIO_BYTES: usize = 120;
/// Audio packets a second.
pub const AUDIO_PPS: u32 = 50;
/// A keyframe every this many video packets (a frame per packet here).
const KEYFRAME_EVERY: u32 = 240;

const MAGIC: [u8; 4] = *b"KKLT";

/// The clock every payload's send time is measured on (one process, one clock).
fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// Time since the first payload clock reading, for debugging output.
pub fn debug_clock() -> Duration {
    base().elapsed()
}

fn micros_now() -> u64 {
    base().elapsed().as_micros() as u64
}

/// A payload: for video, a VP8 payload descriptor and header first (so a relay that
/// waits for a keyframe finds one), then the marker: magic, publisher, send time.
pub fn payload(video: bool, keyframe: bool, publisher: u32) -> Bytes {
    let mut p = Vec::with_capacity(if video { VIDEO_BYTES } else { AUDIO_BYTES });
    if video {
        // S=1, partition 0; the header's P bit is 0 for a keyframe.
        p.extend_from_slice(&[0x10, u8::from(!keyframe)]);
    }
    p.extend_from_slice(&MAGIC);
    p.extend_from_slice(&publisher.to_be_bytes());
    p.extend_from_slice(&micros_now().to_be_bytes());
    p.resize(if video { VIDEO_BYTES } else { AUDIO_BYTES }, 0);
    Bytes::from(p)
}

/// (publisher, send time µs) of a payload made by [`payload`].
pub fn marker(payload: &[u8]) -> Option<(u32, u64)> {
    let at = payload.windows(4).take(4).position(|w| w == MAGIC)?;
    let p = payload.get(at + 4..at + 16)?;
    Some((
        u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
        u64::from_be_bytes([p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]]),
    ))
}

/// One received stream's numbers within the measured window.
#[derive(Debug, Default)]
struct Stream {
    first: AtomicI64,
    last: AtomicI64,
    count: AtomicU64,
}

/// What every receiver of a run counts.
#[derive(Debug, Default)]
pub struct Stats {
    /// Count only while this is set.
    pub measuring: AtomicBool,
    /// RTP packets received while measuring.
    pub packets: AtomicU64,
    /// Their payload bytes.
    pub bytes: AtomicU64,
    /// Packets received at all (for "is media flowing").
    pub ever: AtomicU64,
    latency_us: Mutex<Vec<u32>>,
    streams: Mutex<Vec<Arc<Stream>>>,
}

impl Stats {
    /// One-way latency samples (send → receive), milliseconds.
    pub fn latency(&self) -> Samples {
        let mut s = Samples::default();
        for us in self.latency_us.lock().map(|v| v.clone()).unwrap_or_default() {
            s.add_ms(f64::from(us) / 1000.0);
        }
        s
    }

    /// (expected, received) over the measured window, by sequence numbers.
    pub fn loss(&self) -> (u64, u64) {
        let mut expected = 0;
        let mut received = 0;
        for s in self.streams.lock().map(|v| v.clone()).unwrap_or_default() {
            let (first, last, count) =
                (s.first.load(Ordering::Relaxed), s.last.load(Ordering::Relaxed), s.count.load(Ordering::Relaxed));
            if count > 0 && last >= first {
                expected += (last - first + 1) as u64;
                received += count;
            }
        }
        (expected, received)
    }

    fn stream(&self) -> Arc<Stream> {
        let s = Arc::new(Stream { first: AtomicI64::new(-1), last: AtomicI64::new(-1), count: AtomicU64::new(0) });
        if let Ok(mut v) = self.streams.lock() {
            v.push(Arc::clone(&s));
        }
        s
    }
}

/// What a peer tells its owner.
#[derive(Debug)]
pub enum PeerEvent {
    /// The first packet from this publisher arrived.
    FirstFrom(u32, Instant),
}

struct Handler {
    gathered: tokio::sync::mpsc::UnboundedSender<()>,
    connected: tokio::sync::watch::Sender<bool>,
    stats: Arc<Stats>,
    events: tokio::sync::mpsc::UnboundedSender<PeerEvent>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if std::env::var_os("LOAD_DEBUG").is_some() {
            eprintln!("{:?} peer connection {state}", debug_clock());
        }
        let _ = self.connected.send(state == RTCPeerConnectionState::Connected);
    }

    async fn on_track(&self, track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>) {
        let stats = Arc::clone(&self.stats);
        let events = self.events.clone();
        tokio::spawn(async move {
            let stream = stats.stream();
            // Sequence numbers extended past their 16-bit wrap.
            let mut cycles: i64 = 0;
            let mut last_seq: Option<u16> = None;
            let mut seen: std::collections::BTreeSet<u32> = Default::default();
            while let Some(event) = track.poll().await {
                let webrtc::media_stream::track_remote::TrackRemoteEvent::OnRtpPacket(p) = event else { continue };
                let seq = p.header.sequence_number;
                if let Some(prev) = last_seq
                    && seq < 0x1000
                    && prev > 0xf000
                {
                    cycles += 1;
                }
                last_seq = Some(seq);
                let ext = cycles * 65_536 + i64::from(seq);
                stats.ever.fetch_add(1, Ordering::Relaxed);
                let Some((publisher, sent)) = marker(&p.payload) else {
                    if std::env::var_os("LOAD_DEBUG").is_some() {
                        eprintln!(
                            "unmarked payload of {} bytes: {:02x?}",
                            p.payload.len(),
                            &p.payload[..p.payload.len().min(12)]
                        );
                    }
                    continue;
                };
                if seen.insert(publisher) {
                    if std::env::var_os("LOAD_DEBUG").is_some() {
                        eprintln!("{:?} first packet from {publisher:x}", debug_clock());
                    }
                    let _ = events.send(PeerEvent::FirstFrom(publisher, Instant::now()));
                }
                if !stats.measuring.load(Ordering::Relaxed) {
                    continue;
                }
                stats.packets.fetch_add(1, Ordering::Relaxed);
                stats.bytes.fetch_add(p.payload.len() as u64, Ordering::Relaxed);
                if stream.first.load(Ordering::Relaxed) < 0 {
                    stream.first.store(ext, Ordering::Relaxed);
                }
                stream.last.fetch_max(ext, Ordering::Relaxed);
                stream.count.fetch_add(1, Ordering::Relaxed);
                let latency = micros_now().saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
                if let Ok(mut v) = stats.latency_us.lock() {
                    v.push(latency);
                }
            }
        });
    }
}

/// A peer connection of the load.
pub struct Peer {
    /// The connection.
    pub pc: Arc<dyn PeerConnection>,
    audio: Option<Arc<TrackLocalStaticRTP>>,
    video: Option<Arc<TrackLocalStaticRTP>>,
    /// The audio SSRC (video's is one more).
    ssrc: u32,
    gathered: tokio::sync::mpsc::UnboundedReceiver<()>,
    gathered_once: bool,
    connected: tokio::sync::watch::Receiver<bool>,
    /// First packets from each publisher.
    pub events: tokio::sync::mpsc::UnboundedReceiver<PeerEvent>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").field("publishes", &self.audio.is_some()).finish_non_exhaustive()
    }
}

fn webrtc_err(e: impl std::fmt::Display) -> LoadError {
    LoadError::Media(e.to_string())
}

fn track(kind: RtpCodecKind, id: &str, ssrc: u32) -> Arc<TrackLocalStaticRTP> {
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
        format!("load-{id}"),
        format!("load-{id}-{kind}"),
        format!("load-{id}-{kind}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec,
            ..Default::default()
        }],
    )))
}

impl Peer {
    /// A peer on loopback. With `publish`, it has an Opus and a VP8 track (SSRCs from
    /// `ssrc`); without, it only receives (Janus's subscriber side).
    pub async fn new(publish: Option<u32>, stats: Arc<Stats>) -> Result<Peer, LoadError> {
        Peer::on(std::net::IpAddr::from([127, 0, 0, 1]), publish, stats).await
    }

    /// A peer with its socket on `ip`.
    pub async fn on(ip: std::net::IpAddr, publish: Option<u32>, stats: Arc<Stats>) -> Result<Peer, LoadError> {
        let (gathered_tx, gathered) = tokio::sync::mpsc::unbounded_channel();
        let (connected_tx, connected) = tokio::sync::watch::channel(false);
        let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
        let mut media_engine = webrtc::peer_connection::MediaEngine::default();
        media_engine.register_default_codecs().map_err(webrtc_err)?;
        // ICE paced as a browser paces it (checks every 50 ms, a host pair taken at once),
        // not at webrtc-rs's 200 ms: connect times are then what a browser would see.
        let setting_engine = webrtc::peer_connection::SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_ice_connection_attempts(Some(Duration::from_millis(50)), None)
            .with_host_acceptance_min_wait(Some(Duration::ZERO))
            .build();
        let registry = webrtc::peer_connection::register_default_interceptors(
            rtc::interceptor::Registry::new(),
            &mut media_engine,
        )
        .map_err(webrtc_err)?;
        let pc = PeerConnectionBuilder::new()
            .with_setting_engine(setting_engine)
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler {
                gathered: gathered_tx,
                connected: connected_tx,
                stats,
                events: events_tx,
            }))
            .with_udp_addrs(vec![std::net::SocketAddr::new(ip, 0).to_string()])
            .build()
            .await
            .map_err(webrtc_err)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let (mut audio, mut video) = (None, None);
        if let Some(ssrc) = publish {
            let a = track(RtpCodecKind::Audio, &ssrc.to_string(), ssrc);
            let v = track(RtpCodecKind::Video, &ssrc.to_string(), ssrc + 1);
            pc.add_track(Arc::clone(&a) as Arc<dyn TrackLocal>).await.map_err(webrtc_err)?;
            pc.add_track(Arc::clone(&v) as Arc<dyn TrackLocal>).await.map_err(webrtc_err)?;
            audio = Some(a);
            video = Some(v);
        }
        Ok(Peer {
            pc,
            audio,
            video,
            ssrc: publish.unwrap_or_default(),
            gathered,
            gathered_once: false,
            connected,
            events,
        })
    }

    /// Our offer, with every candidate (the servers do not need trickle).
    pub async fn offer(&mut self) -> Result<String, LoadError> {
        let offer = self.pc.create_offer(None).await.map_err(webrtc_err)?;
        self.pc.set_local_description(offer).await.map_err(webrtc_err)?;
        self.local().await
    }

    async fn local(&mut self) -> Result<String, LoadError> {
        self.gather().await;
        Ok(self.pc.local_description().await.map(|d| d.sdp).unwrap_or_default())
    }

    /// Wait for ICE gathering, the first time only (later descriptions reuse it).
    async fn gather(&mut self) {
        if !self.gathered_once {
            let _ = tokio::time::timeout(Duration::from_secs(10), self.gathered.recv()).await;
            self.gathered_once = true;
        }
    }

    /// Take the answer to our offer.
    pub async fn answered(&self, sdp: String) -> Result<(), LoadError> {
        self.pc
            .set_remote_description(RTCSessionDescription::answer(sdp).map_err(webrtc_err)?)
            .await
            .map_err(webrtc_err)
    }

    /// Answer an offer.
    pub async fn answer(&mut self, sdp: String) -> Result<String, LoadError> {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(sdp).map_err(webrtc_err)?)
            .await
            .map_err(webrtc_err)?;
        let answer = self.pc.create_answer(None).await.map_err(webrtc_err)?;
        self.pc.set_local_description(answer).await.map_err(webrtc_err)?;
        self.local().await
    }

    /// Wait until ICE and DTLS are up.
    pub async fn until_connected(&mut self, wait: Duration) -> Result<(), LoadError> {
        tokio::time::timeout(wait, self.connected.wait_for(|c| *c))
            .await
            .map_err(|_| LoadError::Media("not connected in time".into()))?
            .map(|_| ())
            .map_err(webrtc_err)
    }

    /// A publisher that sends at the realistic rates until `stop` is set; `id` goes into
    /// every payload.
    pub fn publish(&self, id: u32, stop: Arc<AtomicBool>) -> Option<tokio::task::JoinHandle<()>> {
        let (audio, video) = (self.audio.clone()?, self.video.clone()?);
        let ssrc = self.ssrc;
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / u64::from(VIDEO_PPS)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut n, mut audio_n) = (0u32, 0u32);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let video_packet = rtc::rtp::Packet {
                    header: rtc::rtp::header::Header {
                        version: 2,
                        payload_type: 96,
                        sequence_number: n as u16,
                        timestamp: n.wrapping_mul(90_000 / VIDEO_PPS),
                        ssrc: ssrc + 1,
                        marker: true,
                        ..Default::default()
                    },
                    payload: payload(true, n % KEYFRAME_EVERY == 0, id),
                };
                let _ = video.write_rtp(video_packet).await;
                // 50 audio packets for each 120 video ones.
                if (n + 1) * AUDIO_PPS / VIDEO_PPS > n * AUDIO_PPS / VIDEO_PPS {
                    let audio_packet = rtc::rtp::Packet {
                        header: rtc::rtp::header::Header {
                            version: 2,
                            payload_type: 111,
                            sequence_number: audio_n as u16,
                            timestamp: audio_n.wrapping_mul(960),
                            ssrc,
                            ..Default::default()
                        },
                        payload: payload(false, false, id),
                    };
                    let _ = audio.write_rtp(audio_packet).await;
                    audio_n += 1;
                }
                n += 1;
            }
        }))
    }

    /// Close the connection.
    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}

/// The address this machine sends from by default (its primary IPv4), or loopback. Janus
/// gathers candidates on the machine's interfaces but not on loopback, so its peers sit
/// on this address; traffic between two local addresses still never leaves the host.
pub fn primary_ip() -> std::net::IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|()| s))
        .and_then(|s| s.local_addr())
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_publisher_and_time() {
        let v = payload(true, true, 42);
        assert_eq!(v.len(), VIDEO_BYTES);
        assert_eq!(&v[..2], &[0x10, 0x00], "a VP8 keyframe");
        assert_eq!(payload(true, false, 1)[1], 1);
        let (who, at) = marker(&v).unwrap();
        assert_eq!(who, 42);
        assert!(at <= micros_now());
        let a = payload(false, false, 7);
        assert_eq!(a.len(), AUDIO_BYTES);
        assert_eq!(marker(&a).unwrap().0, 7);
        assert!(marker(b"nothing here at all").is_none());
    }
}
