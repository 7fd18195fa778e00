//! A leg's statistics, cumulative: what it received and sent by kind, what the relay
//! asked and was asked for, loss both ways, round-trip time and the bandwidth policy.

use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::statistics::StatsSelector;
use rtc::statistics::report::RTCStatsReportEntry;

use super::{LegId, LegStats, Relay, kind_index};

impl Relay {
    /// A leg's statistics so far.
    pub fn leg_stats(&mut self, id: LegId) -> Option<LegStats> {
        let now = self.now;
        let leg = self.legs.get_mut(&id)?;
        let report = leg.pc.get_stats(now, StatsSelector::None);
        let mut stats = LegStats {
            rtt: leg.rtt,
            video_paused: leg.congestion.paused(),
            video_pauses: leg.congestion.pauses(),
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
}
