//! The bandwidth policy for one receiving leg (ADR 0007), as a pure state machine: it is
//! fed the loss the participant reports for the video and audio it receives, and says
//! when to pause its video (audio goes on) and when to resume it (from a keyframe).
//!
//! - Video pauses when the smoothed video loss (each report weighs half) is above
//!   [`PAUSE_LOSS`] after at least two reports.
//! - It resumes once the hold has passed and audio loss is at most [`RESUME_LOSS`].
//! - The hold starts at [`FIRST_HOLD`] and doubles (up to [`MAX_HOLD`]) when video has to
//!   be paused again within [`RELAPSE`] of resuming.

use std::time::{Duration, Instant};

/// A smoothed video loss fraction above this, after at least two reports, pauses video.
pub(crate) const PAUSE_LOSS: f64 = 0.15;
/// Video resumes when audio loss is at most this and the hold has passed.
pub(crate) const RESUME_LOSS: f64 = 0.05;
/// The first hold; it doubles when video has to be paused again soon after resuming.
pub(crate) const FIRST_HOLD: Duration = Duration::from_secs(8);
/// The longest hold.
pub(crate) const MAX_HOLD: Duration = Duration::from_secs(64);
/// A pause within this long of resuming counts as "soon after".
pub(crate) const RELAPSE: Duration = Duration::from_secs(30);

/// What the policy decided on a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Stop sending video to this participant.
    Pause,
    /// Send video again, from the next keyframe.
    Resume,
}

/// The policy's state for one receiving leg.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Congestion {
    /// The video loss fraction the participant reports, smoothed.
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

impl Congestion {
    /// A set of reception reports at `now`: the worst video loss among them, and the
    /// audio loss, if they had any.
    pub(crate) fn on_reports(
        &mut self,
        now: Instant,
        video_loss: Option<f64>,
        audio_loss: Option<f64>,
    ) -> Option<Decision> {
        if let Some(loss) = audio_loss {
            self.audio_loss = loss;
        }
        match self.paused_at {
            None => {
                let loss = video_loss?;
                self.video_loss = (self.video_loss + loss) / 2.0;
                self.reports += 1;
                if self.reports < 2 || self.video_loss <= PAUSE_LOSS {
                    return None;
                }
                let relapse = self.resumed_at.is_some_and(|r| now.saturating_duration_since(r) < RELAPSE);
                self.hold = if relapse { (self.hold * 2).min(MAX_HOLD) } else { FIRST_HOLD };
                self.paused_at = Some(now);
                self.pauses += 1;
                self.reports = 0;
                self.video_loss = 0.0;
                Some(Decision::Pause)
            }
            Some(at) => {
                if now.saturating_duration_since(at) < self.hold || self.audio_loss > RESUME_LOSS {
                    return None;
                }
                self.paused_at = None;
                self.resumed_at = Some(now);
                self.reports = 0;
                self.video_loss = 0.0;
                Some(Decision::Resume)
            }
        }
    }

    /// Whether video is paused now.
    pub(crate) fn paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// How many times video was paused.
    pub(crate) fn pauses(&self) -> u32 {
        self.pauses
    }

    /// The hold of the current or last pause.
    #[cfg(test)]
    fn hold(&self) -> Duration {
        self.hold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: Instant, s: u64) -> Instant {
        t + Duration::from_secs(s)
    }

    #[test]
    fn one_bad_report_does_not_pause_two_do_and_audio_decides_the_resume() {
        let t = Instant::now();
        let mut c = Congestion::default();
        assert_eq!(c.on_reports(t, Some(0.9), Some(0.0)), None, "one report is not enough");
        assert_eq!(c.on_reports(secs(t, 1), Some(0.0), None), Some(Decision::Pause), "smoothed: 0.225 after two");
        let mut c = Congestion::default();
        assert_eq!(c.on_reports(t, Some(0.2), None), None);
        assert_eq!(c.on_reports(secs(t, 1), Some(0.1), None), None, "smoothed 0.1: below the line");
        let mut c = Congestion::default();
        assert_eq!(c.on_reports(t, Some(0.4), None), None);
        assert_eq!(c.on_reports(secs(t, 1), Some(0.4), None), Some(Decision::Pause));
        assert!(c.paused());
        // Not before the hold, and not while audio suffers.
        assert_eq!(c.on_reports(secs(t, 5), None, Some(0.0)), None, "within the hold");
        assert_eq!(c.on_reports(secs(t, 10), None, Some(0.2)), None, "audio still lossy");
        assert_eq!(c.on_reports(secs(t, 11), None, Some(0.01)), Some(Decision::Resume));
        assert!(!c.paused());
        assert_eq!(c.pauses(), 1);
    }

    #[test]
    fn a_relapse_soon_after_resuming_doubles_the_hold_up_to_the_limit() {
        let t = Instant::now();
        let mut c = Congestion::default();
        let mut at = t;
        let mut holds = Vec::new();
        for _ in 0..6 {
            c.on_reports(at, Some(0.5), None);
            at += Duration::from_secs(1);
            assert_eq!(c.on_reports(at, Some(0.5), None), Some(Decision::Pause));
            holds.push(c.hold().as_secs());
            at += c.hold();
            assert_eq!(c.on_reports(at, None, Some(0.0)), Some(Decision::Resume));
            at += Duration::from_secs(2);
        }
        assert_eq!(holds, [8, 16, 32, 64, 64, 64]);
        // A pause long after the last resume starts from the first hold again.
        at += RELAPSE;
        c.on_reports(at, Some(0.5), None);
        assert_eq!(c.on_reports(at + Duration::from_secs(1), Some(0.5), None), Some(Decision::Pause));
        assert_eq!(c.hold(), FIRST_HOLD);
    }

    #[test]
    fn light_loss_never_pauses() {
        let t = Instant::now();
        let mut c = Congestion::default();
        for n in 0..100 {
            assert_eq!(c.on_reports(t + Duration::from_secs(n), Some(0.1), Some(0.1)), None);
        }
    }
}
