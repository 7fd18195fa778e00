//! A participant's reception reports of what the relay sends it: the round-trip time,
//! the loss it reports (for the statistics), and the bandwidth policy's decisions
//! (`congestion.rs`).

use std::time::{Duration, Instant, SystemTime};

use rtc::rtcp::reception_report::ReceptionReport;

use super::congestion::Decision;
use super::leg::{Flow, Source};
use super::{LegEvent, LegId, Relay, SessionId};

impl Relay {
    /// A participant's reception reports of what the relay sends it: round-trip time, and
    /// the bandwidth policy (ADR 0007).
    pub(super) fn on_reports(&mut self, id: LegId, session: SessionId, reports: &[(Source, ReceptionReport)]) {
        let now = self.now;
        let ntp_now = self.ntp_middle(now);
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let (mut video_loss, mut audio_loss): (Option<f64>, Option<f64>) = (None, None);
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
                audio_loss = Some(loss);
            }
        }
        let mut resume: Vec<Source> = Vec::new();
        match leg.congestion.on_reports(now, video_loss, audio_loss) {
            None => {}
            Some(Decision::Pause) => {
                for out in leg.outbound.values_mut().filter(|o| o.video) {
                    out.flow = Flow::Paused;
                }
                self.events.push_back((id, LegEvent::VideoPaused));
            }
            Some(Decision::Resume) => {
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

    /// The middle 32 bits of the NTP time at `now` (RFC 3550's LSR and DLSR unit).
    pub(super) fn ntp_middle(&self, now: Instant) -> u32 {
        let wall = self.clock.1 + now.saturating_duration_since(self.clock.0);
        let since_unix = wall.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        let seconds = since_unix.as_secs().wrapping_add(2_208_988_800);
        let fraction = (u64::from(since_unix.subsec_nanos()) << 16) / 1_000_000_000;
        (((seconds & 0xffff) << 16) | fraction) as u32
    }
}
