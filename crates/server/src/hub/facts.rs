//! The core's facts as Prometheus metrics: requests by outcome, waits, offers, talk time,
//! and each media leg's statistics as deltas since its previous report.

use kakehashi_relay::MediaStats;

use crate::calls::Fact;
use crate::metrics::Metrics;

/// Turns facts into metric updates.
#[derive(Debug)]
pub(crate) struct Facts {
    metrics: Metrics,
}

impl Facts {
    /// Onto these metrics.
    pub(crate) fn new(metrics: Metrics) -> Facts {
        Facts { metrics }
    }

    /// Count one fact.
    pub(crate) fn count(&self, fact: Fact) {
        let m = &self.metrics;
        match fact {
            Fact::RequestEnded { tenant, language, outcome } => {
                m.requests.with_label_values(&[tenant.as_str(), language.as_str(), outcome]).inc();
            }
            Fact::Answered { language, waited } => {
                m.queue_wait.with_label_values(&[language.as_str()]).observe(waited.as_secs_f64());
            }
            Fact::Offer(outcome) => m.offers.with_label_values(&[outcome]).inc(),
            Fact::Talk(talk) => m.call_duration.observe(talk.as_secs_f64()),
            Fact::MediaReconnect(party) => m.media_reconnects.with_label_values(&[party.as_str()]).inc(),
            Fact::VideoPaused(party) => m.media_video_pauses.with_label_values(&[party.as_str()]).inc(),
            Fact::LegStats { party, before, now } => {
                let role = party.as_str();
                for (kind, now, was) in [("audio", &now.audio, &before.audio), ("video", &now.video, &before.video)] {
                    self.media_deltas(role, kind, now, was);
                }
                if let Some(rtt) = now.rtt {
                    m.media_rtt.with_label_values(&[role]).observe(rtt.as_secs_f64());
                }
            }
        }
    }

    fn media_deltas(&self, role: &str, kind: &str, now: &MediaStats, was: &MediaStats) {
        let m = &self.metrics;
        let interval = crate::media::STATS_INTERVAL.as_secs_f64();
        let add = |c: &prometheus::IntCounterVec, direction: &str, now: u64, was: u64| {
            c.with_label_values(&[role, kind, direction]).inc_by(now.saturating_sub(was));
        };
        add(&m.media_packets, "received", now.packets_received, was.packets_received);
        add(&m.media_packets, "sent", now.packets_sent, was.packets_sent);
        add(&m.media_bytes, "received", now.bytes_received, was.bytes_received);
        add(&m.media_bytes, "sent", now.bytes_sent, was.bytes_sent);
        add(&m.media_lost, "received", now.packets_lost, was.packets_lost);
        add(&m.media_lost, "sent", now.remote_packets_lost, was.remote_packets_lost);
        add(&m.media_nacks, "sent", now.nacks_sent, was.nacks_sent);
        add(&m.media_nacks, "received", now.nacks_received, was.nacks_received);
        add(&m.media_keyframe_requests, "sent", now.keyframe_requests_sent, was.keyframe_requests_sent);
        add(&m.media_keyframe_requests, "received", now.keyframe_requests_received, was.keyframe_requests_received);
        if now.packets_received > was.packets_received {
            m.media_jitter.with_label_values(&[role, kind]).observe(now.jitter);
            let bytes = now.bytes_received.saturating_sub(was.bytes_received) as f64;
            m.media_bitrate.with_label_values(&[role, kind, "received"]).observe(bytes / interval);
        }
        if now.packets_sent > was.packets_sent {
            let bytes = now.bytes_sent.saturating_sub(was.bytes_sent) as f64;
            m.media_bitrate.with_label_values(&[role, kind, "sent"]).observe(bytes / interval);
        }
    }
}
