//! WebRTC participants from `webrtc` 0.21.1: a peer connection that publishes Opus (50
//! packets a second) and VP8 (about 1.2 Mbit/s: 120 packets a second of 1,200 bytes, or
//! lighter: [`Rates`]) of synthetic RTP, each payload carrying its publisher and its send time, and counts what
//! it receives: packets, one-way latency, loss by sequence numbers.
//!
//! The peer is `kakehashi-client`'s participant; here is what it sends and how what it
//! receives is counted. The same peer serves kakehashi (one connection that publishes and
//! receives) and Janus (one that publishes, another that receives).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use kakehashi_client::{Packets, Peer, PeerOptions, Received, VIDEO_SSRC_OFFSET};
use webrtc::media_stream::track_local::TrackLocal;

use crate::LoadError;
use crate::report::Samples;

/// What each publisher sends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rates {
    /// Video packets a second (a frame per packet).
    pub video_pps: u32,
    /// Bytes of a video packet.
    pub video_bytes: usize,
    /// Audio packets a second.
    pub audio_pps: u32,
    /// Bytes of an Opus packet.
    pub audio_bytes: usize,
    /// A keyframe every this many video packets.
    pub keyframe_every: u32,
}

impl Rates {
    /// A desk's tablet camera: VP8 at about 1.2 Mbit/s (120 packets a second of 1,200
    /// bytes), Opus at 50 packets a second (20 ms frames, about 48 kbit/s).
    pub const FULL: Rates =
        Rates { video_pps: 120, video_bytes: 1200, audio_pps: 50, audio_bytes: 120, keyframe_every: 240 };
    /// A phone on a poor network: VP8 at 15 frames a second of 800 bytes (about 100
    /// kbit/s), the same Opus. What the endurance run uses, so that its clients (on the
    /// same cores as the server) keep up with a hundred calls.
    pub const LIGHT: Rates =
        Rates { video_pps: 15, video_bytes: 800, audio_pps: 50, audio_bytes: 120, keyframe_every: 30 };
}

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
pub fn payload(video: bool, keyframe: bool, publisher: u32, bytes: usize) -> Bytes {
    let mut p = Vec::with_capacity(bytes);
    if video {
        // S=1, partition 0; the header's P bit is 0 for a keyframe.
        p.extend_from_slice(&[0x10, u8::from(!keyframe)]);
    }
    p.extend_from_slice(&MAGIC);
    p.extend_from_slice(&publisher.to_be_bytes());
    p.extend_from_slice(&micros_now().to_be_bytes());
    p.resize(bytes.max(p.len()), 0);
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

/// One received stream's sequence numbers, extended past their 16-bit wrap.
#[derive(Debug)]
struct Sequence {
    cycles: i64,
    last: Option<u16>,
    stream: Arc<Stream>,
}

/// One peer's receiver: counts into the run's [`Stats`] and tells its owner when the
/// first packet from each publisher arrives.
struct Tally {
    stats: Arc<Stats>,
    events: tokio::sync::mpsc::UnboundedSender<PeerEvent>,
    /// By (SSRC, video).
    sequences: Mutex<HashMap<(u32, bool), Sequence>>,
    seen: Mutex<BTreeSet<u32>>,
}

impl Packets for Tally {
    fn packet(&self, p: Received) {
        let stats = &self.stats;
        stats.ever.fetch_add(1, Ordering::Relaxed);
        let Some((publisher, sent)) = marker(&p.payload) else {
            if std::env::var_os("LOAD_DEBUG").is_some() {
                eprintln!(
                    "unmarked payload of {} bytes: {:02x?}",
                    p.payload.len(),
                    &p.payload[..p.payload.len().min(12)]
                );
            }
            return;
        };
        if self.seen.lock().is_ok_and(|mut seen| seen.insert(publisher)) {
            if std::env::var_os("LOAD_DEBUG").is_some() {
                eprintln!("{:?} first packet from {publisher:x}", debug_clock());
            }
            let _ = self.events.send(PeerEvent::FirstFrom(publisher, p.at));
        }
        let Ok(mut sequences) = self.sequences.lock() else { return };
        let sequence = sequences.entry((p.ssrc, p.video)).or_insert_with(|| Sequence {
            cycles: 0,
            last: None,
            stream: stats.stream(),
        });
        if let Some(prev) = sequence.last
            && p.seq < 0x1000
            && prev > 0xf000
        {
            sequence.cycles += 1;
        }
        sequence.last = Some(p.seq);
        let ext = sequence.cycles * 65_536 + i64::from(p.seq);
        if !stats.measuring.load(Ordering::Relaxed) {
            return;
        }
        stats.packets.fetch_add(1, Ordering::Relaxed);
        stats.bytes.fetch_add(p.payload.len() as u64, Ordering::Relaxed);
        let stream = &sequence.stream;
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
}

/// A peer of the load (`kakehashi-client`'s participant), its sockets on `ip`. With
/// `publish`, it has an Opus and a VP8 track (SSRCs from `publish`); without, it only
/// receives (Janus's subscriber side). ICE is paced as a browser paces it, so connect
/// times are what a browser would see. What it receives is counted into `stats`; the
/// receiver tells when the first packet from each publisher arrived.
pub async fn peer(
    ip: std::net::IpAddr,
    publish: Option<u32>,
    stats: Arc<Stats>,
) -> Result<(Peer, tokio::sync::mpsc::UnboundedReceiver<PeerEvent>), LoadError> {
    let (events, firsts) = tokio::sync::mpsc::unbounded_channel();
    let tally = Tally { stats, events, sequences: Mutex::default(), seen: Mutex::default() };
    let options = PeerOptions {
        ip,
        publish,
        video: true,
        stream_id: format!("load-{}", publish.unwrap_or_default()),
        browser_pacing: true,
        ..PeerOptions::default()
    };
    let peer = Peer::new(options, Arc::new(tally)).await?;
    Ok((peer, firsts))
}

/// A publisher that sends on `peer`'s tracks at `rates` until `stop` is set; `id` goes
/// into every payload. `None` if the peer publishes nothing.
pub fn publish(peer: &Peer, id: u32, rates: Rates, stop: Arc<AtomicBool>) -> Option<tokio::task::JoinHandle<()>> {
    let (audio, video) = (peer.audio.clone()?, peer.video.clone()?);
    let ssrc = peer.ssrc;
    // One tick per packet of the faster stream; the slower one sends on the ticks where
    // its own count moves on.
    let (fast, slow) = (rates.video_pps.max(rates.audio_pps).max(1), rates.video_pps.min(rates.audio_pps));
    let video_leads = rates.video_pps >= rates.audio_pps;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / u64::from(fast)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut video_n, mut audio_n) = (0u32, 0u32);
        let mut n = 0u32;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let slow_due = (n + 1) * slow / fast > n * slow / fast;
            let (send_video, send_audio) = if video_leads { (true, slow_due) } else { (slow_due, true) };
            n = n.wrapping_add(1);
            if send_video {
                let video_packet = rtc::rtp::Packet {
                    header: rtc::rtp::header::Header {
                        version: 2,
                        payload_type: 96,
                        sequence_number: video_n as u16,
                        timestamp: video_n.wrapping_mul(90_000 / rates.video_pps.max(1)),
                        ssrc: ssrc + VIDEO_SSRC_OFFSET,
                        marker: true,
                        ..Default::default()
                    },
                    payload: payload(true, video_n % rates.keyframe_every.max(1) == 0, id, rates.video_bytes),
                };
                let _ = video.write_rtp(video_packet).await;
                video_n += 1;
            }
            if send_audio {
                let audio_packet = rtc::rtp::Packet {
                    header: rtc::rtp::header::Header {
                        version: 2,
                        payload_type: 111,
                        sequence_number: audio_n as u16,
                        timestamp: audio_n.wrapping_mul(960),
                        ssrc,
                        ..Default::default()
                    },
                    payload: payload(false, false, id, rates.audio_bytes),
                };
                let _ = audio.write_rtp(audio_packet).await;
                audio_n += 1;
            }
        }
    }))
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
        let v = payload(true, true, 42, 1200);
        assert_eq!(v.len(), 1200);
        assert_eq!(&v[..2], &[0x10, 0x00], "a VP8 keyframe");
        assert_eq!(payload(true, false, 1, 1200)[1], 1);
        let (who, at) = marker(&v).unwrap();
        assert_eq!(who, 42);
        assert!(at <= micros_now());
        let a = payload(false, false, 7, 120);
        assert_eq!(a.len(), 120);
        assert_eq!(marker(&a).unwrap().0, 7);
        assert!(marker(b"nothing here at all").is_none());
    }
}
