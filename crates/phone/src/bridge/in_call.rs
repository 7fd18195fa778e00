//! A phone leg in its call: joined with the seat's token as a resident-role client, a
//! WebRTC peer of its own that publishes the phone's voice as Opus, and the call's sound
//! mixed for the phone in the call's one mix ([`super::rooms`]), until the phone hangs up
//! or the call ends.

use std::sync::Arc;
use std::time::Duration;

use kakehashi_client::{ClientError, Peer, PeerOptions, Received, Resident, Signal, join_media};
use kakehashi_protocol as p;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

use super::BridgeSettings;
use crate::callmix::Party;
use crate::gateway::{Answered, rand_u32};
use crate::leg::{Heard, LegCounts};
use crate::metrics::InState;
use crate::opus::TICKS_PER_FRAME;

/// Opus's payload type in what the peer negotiates (webrtc-rs's default).
const OPUS_PT: u8 = 111;

/// What the phone's voice is sent as.
struct Voice {
    track: Option<Arc<TrackLocalStaticRTP>>,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    sent: u64,
}

impl Voice {
    async fn send(&mut self, payload: Vec<u8>) {
        let Some(track) = &self.track else { return };
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                payload_type: OPUS_PT,
                marker: self.sent == 0,
                sequence_number: self.seq,
                timestamp: self.timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: payload.into(),
        };
        let _ = track.write_rtp(packet).await;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(TICKS_PER_FRAME);
        self.sent += 1;
    }
}

/// The relay's stream id for a participant (`p<n>`), as a party of the mix.
fn party_of(stream_id: &str) -> Option<Party> {
    stream_id.strip_prefix('p')?.parse().ok()
}

/// Join the call the seat `token` opens and carry the phone's sound until it hangs up
/// (or its line dies) or the call ends. `leg` counts it, in the call from now.
pub(super) async fn join(
    settings: &BridgeSettings,
    mut call: Answered,
    token: &str,
    mut leg: InState,
) -> Result<(), ClientError> {
    let metrics = &settings.metrics;
    let started = Instant::now();
    let credential = p::Credential::Invite(token.to_string());
    let mut signal = Signal::<Resident>::connect(&settings.server, credential, None).await?;
    let (you, in_call) = signal
        .expect(
            Duration::from_secs(10),
            |e| match e {
                p::ResidentEvent::Joined { you, call, .. } => Some((*you, *call)),
                _ => None,
            },
            |_| {},
        )
        .await?;
    // A phone has no camera: every screen shows the leg as audio only, not as a video
    // that never comes.
    signal.send(&p::ResidentCommand::MediaState { muted: false, camera_off: true }).await?;
    let (packets, mut received) = mpsc::unbounded_channel::<Received>();
    let ssrc = rand_u32();
    let options = || PeerOptions {
        ip: settings.media_ip,
        publish: Some(ssrc),
        stream_id: format!("phone-{you}"),
        ..Default::default()
    };
    let peer = Peer::new(options(), Arc::new(packets.clone())).await?;
    let mut voice = Voice { track: peer.audio.clone(), ssrc, seq: (ssrc >> 16) as u16, timestamp: ssrc, sent: 0 };
    let mut media = join_media(signal, peer, None).await?;
    let (publish, mut published) = mpsc::channel::<Vec<u8>>(8);
    let seat =
        settings.rooms.enter(in_call, you, call.say.clone(), publish).map_err(|e| ClientError::Media(e.to_string()))?;
    metrics.mixes.set(settings.rooms.calls() as i64);
    leg.to("in_call");
    // The phone's frames drive the mix; until they flow (or if they stop), a clock does.
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut last_frame = Instant::now() - Duration::from_secs(1);
    let mut connected = media.connected.clone();
    let mut set_up = false;
    let mut frames = 0u64;
    loop {
        tokio::select! {
            heard = call.heard.recv() => match heard {
                Some(Heard::Frame(frame)) => {
                    last_frame = Instant::now();
                    seat.said(frame);
                    if seat.drives() {
                        seat.tick(metrics);
                    }
                    frames += 1;
                    if frames % 250 == 0 {
                        metrics.jitter.observe(call.counts.borrow().jitter_us as f64 / 1e6);
                    }
                }
                Some(Heard::Key(_)) => {}
                Some(Heard::NoMedia) | None => break,
            },
            Some(packet) = received.recv() => {
                if let (false, Some(from)) = (packet.video, party_of(&packet.stream_id)) {
                    if let Err(e) = seat.packet(from, packet.seq, packet.payload.to_vec()) {
                        tracing::debug!(error = %e, "a participant's audio for a phone");
                    }
                }
            }
            event = media.events.recv() => match event {
                None | Some(p::ResidentEvent::CallEnded) => break,
                Some(p::ResidentEvent::ParticipantLeft { participant, .. }) => seat.left(participant),
                // The relay that held the call's media is gone (a new leg, to another), or
                // the phone's leg did not connect and the relay dropped it (a new leg).
                Some(p::ResidentEvent::MediaMoved {} | p::ResidentEvent::MediaFailed {}) => {
                    let (signal, old) = media.stop().await?;
                    old.close().await;
                    let peer = Peer::new(options(), Arc::new(packets.clone())).await?;
                    voice.track = peer.audio.clone();
                    media = join_media(signal, peer, None).await?;
                    connected = media.connected.clone();
                    tracing::info!(call = in_call, "the phone's leg is made anew (its relay is gone, or it did not connect)");
                }
                Some(_) => {}
            },
            _ = clock.tick(), if last_frame.elapsed() > Duration::from_millis(60) => {
                if seat.drives() {
                    seat.tick(metrics);
                }
            }
            Some(packet) = published.recv() => voice.send(packet).await,
            Ok(()) = connected.changed(), if !set_up => {
                if *connected.borrow_and_update() {
                    set_up = true;
                    metrics.setup.with_label_values(&[leg.direction()]).observe(started.elapsed().as_secs_f64());
                }
            }
        }
    }
    drop(seat);
    metrics.mixes.set(settings.rooms.calls() as i64);
    let counts: LegCounts = *call.counts.borrow();
    metrics.lost.inc_by(counts.lost);
    metrics.late.inc_by(counts.late);
    if let Ok((mut signal, peer)) = media.stop().await {
        let _ = signal.send(&p::ResidentCommand::Leave {}).await;
        peer.close().await;
        signal.close().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_id_names_its_participant() {
        assert_eq!(party_of("p12"), Some(12));
        assert_eq!(party_of("client"), None);
        assert_eq!(party_of("p"), None);
    }
}
