//! Participants with media for the tests: the client crate's peer publishing marked RTP
//! (whose and which packet, in the payload's last bytes), what each hears, and the
//! keyframe requests that reach its video track.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kakehashi_client::{MediaRole, MediaSession, Packets, Peer, PeerOptions, Received, join_media};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

use crate::support::{Client, Noise};

/// What a participant heard: the publisher and number in the payload, the RTP header's
/// SSRC and sequence number as the relay sent them, and whose stream the relay said it
/// was (`p<participant>`).
#[derive(Clone, Debug)]
pub struct Heard {
    pub who: u8,
    pub video: bool,
    pub n: u32,
    pub ssrc: u32,
    pub seq: u16,
    pub stream: String,
}

/// A payload ending in the markers: kind, publisher, number. Video ones start with a VP8
/// payload descriptor (a keyframe when `key`), so the relay sees real frame boundaries.
pub fn marked_payload(video: bool, key: bool, who: u8, n: u32) -> bytes::Bytes {
    let mut p = if video { vec![0x10, u8::from(!key)] } else { Vec::new() };
    p.resize(if video { 600 } else { 80 }, 0);
    p.extend_from_slice(&[u8::from(video), who]);
    p.extend_from_slice(&n.to_be_bytes());
    bytes::Bytes::from(p)
}

/// Decodes the markers of what arrives and sends them on.
pub struct HeardSink(pub tokio::sync::mpsc::UnboundedSender<Heard>);

impl Packets for HeardSink {
    fn packet(&self, r: Received) {
        if let Some(m) = r.payload.len().checked_sub(6).map(|at| &r.payload[at..]) {
            let _ = self.0.send(Heard {
                who: m[1],
                video: m[0] == 1,
                n: u32::from_be_bytes([m[2], m[3], m[4], m[5]]),
                ssrc: r.ssrc,
                seq: r.seq,
                stream: r.stream_id,
            });
        }
    }
}

/// A participant's media over its signalling connection.
pub struct Media<R: MediaRole> {
    session: MediaSession<R>,
    audio: Arc<TrackLocalStaticRTP>,
    video: Option<Arc<TrackLocalStaticRTP>>,
    ssrc: u32,
    /// When keyframe requests for the video track arrived.
    pub keyframe_requests: tokio::sync::mpsc::UnboundedReceiver<Instant>,
}

impl<R: MediaRole + Noise> Media<R> {
    /// Send audio or video packet `n` (see [`marked_payload`]), RTP numbering from `n`.
    /// Video is one packet per frame, a keyframe every 25; nothing if it has no video.
    pub async fn send(&self, video: bool, who: u8, n: u32) {
        let (track, payload_type, ticks, ssrc) = match (video, &self.video) {
            (false, _) => (&self.audio, 111, 960, self.ssrc),
            (true, Some(track)) => (track, 96, 3000, self.ssrc + 0x100),
            (true, None) => return,
        };
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                payload_type,
                sequence_number: n as u16,
                timestamp: n * ticks,
                ssrc,
                marker: video,
                ..Default::default()
            },
            payload: marked_payload(video, n % 25 == 0, who, n),
        };
        let _ = track.write_rtp(packet).await;
    }

    /// Wait until the peer connection is connected (at most 10 s).
    pub async fn until_connected(&mut self) {
        self.session.until_connected(Duration::from_secs(10)).await.expect("connected within 10 s");
    }

    /// Wait for an event that `wanted` picks among those the media session passed by
    /// (within `wait`).
    pub async fn until_event(&mut self, wait: Duration, wanted: impl Fn(&R::Event) -> bool) {
        let found = tokio::time::timeout(wait, async {
            while let Some(event) = self.session.events.recv().await {
                if wanted(&event) {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(matches!(found, Ok(true)), "the event did not come within {wait:?}");
    }

    /// When this participant last answered one of the relay's offers.
    pub fn answered(&self) -> Option<Instant> {
        *self.session.answered.lock().unwrap()
    }

    /// Close the peer connection (the network went away); the signalling connection
    /// comes back.
    pub async fn hang_up(self) -> Client<R> {
        let (sig, peer) = self.session.stop().await.unwrap();
        peer.close().await;
        Client { sig }
    }
}

/// A participant's WebRTC side: publishes one Opus track with SSRC `ssrc` (and a VP8
/// track with `ssrc + 0x100` if `video`), answers the relay's offers over its signalling
/// connection, reports what it hears. Over `tcp` it has only an active ICE-TCP candidate,
/// as behind a firewall that blocks UDP. `call` is `Some` for desks and interpreters.
pub async fn media<R: MediaRole + Noise>(
    client: Client<R>,
    call: Option<u64>,
    who: u8,
    ssrc: u32,
    tcp: bool,
    video: bool,
    heard: tokio::sync::mpsc::UnboundedSender<Heard>,
) -> Media<R> {
    let options = PeerOptions {
        publish: Some(ssrc),
        video,
        stream_id: format!("client{who}"),
        tcp_only: tcp,
        // The relay's own feedback interceptor, last: it shows keyframe requests to the
        // video track.
        interceptors: Some(Box::new(|r: rtc::interceptor::Registry| {
            r.with(rtc::interceptor::Slot::from(kakehashi_relay::FEEDBACK_SLOT), kakehashi_relay::Feedback::default())
        })),
        ..PeerOptions::default()
    };
    let peer = Peer::new(options, Arc::new(HeardSink(heard))).await.unwrap();
    let audio = peer.audio.clone().unwrap();
    let video_track = peer.video.clone();
    let (keyframe_tx, keyframe_requests) = tokio::sync::mpsc::unbounded_channel();
    if let Some(watched) = video_track.clone() {
        tokio::spawn(async move {
            use webrtc::media_stream::track_local::TrackLocalEvent;
            while let Some(event) = watched.poll().await {
                if let TrackLocalEvent::OnRtcpPacket(packets) = event
                    && packets.iter().any(|p| kakehashi_relay::is_keyframe_request(p.as_ref()))
                {
                    let _ = keyframe_tx.send(Instant::now());
                }
            }
        });
    }
    let session = join_media(client.sig, peer, call).await.unwrap();
    Media { session, audio, video: video_track, ssrc, keyframe_requests }
}

/// What arrived on `heard` so far, by publisher.
pub fn heard_by(heard: &mut tokio::sync::mpsc::UnboundedReceiver<Heard>) -> std::collections::BTreeMap<u8, Vec<Heard>> {
    let mut by: std::collections::BTreeMap<u8, Vec<Heard>> = Default::default();
    while let Ok(h) = heard.try_recv() {
        by.entry(h.who).or_default().push(h);
    }
    by
}
