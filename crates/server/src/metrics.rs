//! Prometheus metrics. Names `kakehashi_<thing>_<unit>`; counters end `_total`; labels
//! are bounded (tenant name, language, state, outcome, role, direction) and never hold a
//! person, call or interpreter id. Wait-time buckets sit on the service-level thresholds.

use prometheus::{
    CounterVec, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric the server exports.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests that ended, by tenant, language and outcome.
    pub requests: IntCounterVec,
    /// Time from request to answer, by language.
    pub queue_wait: HistogramVec,
    /// Requests waiting now, by language.
    pub queue_depth: IntGaugeVec,
    /// Interpreters by presence.
    pub interpreters: IntGaugeVec,
    /// Offers by how they ended.
    pub offers: IntCounterVec,
    /// Talk time of calls.
    pub call_duration: Histogram,
    /// Open WebSocket connections by role.
    pub ws_connections: IntGaugeVec,
    /// WebSocket frames by direction.
    pub ws_messages: IntCounterVec,
    /// Media: RTP packets by role, kind and direction (`received` from the participant,
    /// `sent` to it).
    pub media_packets: IntCounterVec,
    /// Media: their bytes.
    pub media_bytes: IntCounterVec,
    /// Media: packets lost by role, kind and direction (`received`: on the way to the
    /// relay; `sent`: reported lost by the participant).
    pub media_lost: IntCounterVec,
    /// Media: NACKs by role, kind and direction (`sent` by the relay, `received` from the
    /// participant).
    pub media_nacks: IntCounterVec,
    /// Media: keyframe requests, likewise.
    pub media_keyframe_requests: IntCounterVec,
    /// Media: interarrival jitter of what participants send, by role and kind.
    pub media_jitter: HistogramVec,
    /// Media: round-trip time relay ↔ participant, by role.
    pub media_rtt: HistogramVec,
    /// Media: rate in bytes per second by role, kind and direction, sampled per leg.
    pub media_bitrate: HistogramVec,
    /// Media: video paused by the bandwidth policy, by role of the receiver.
    pub media_video_pauses: IntCounterVec,
    /// Media: reconnections (a participant's new leg replacing its earlier one), by role.
    pub media_reconnects: IntCounterVec,
    /// Media: legs open now, by role.
    pub media_legs: IntGaugeVec,
    /// Media: time from reading a datagram or ICE-TCP packet to having sent everything
    /// the relay had to send because of it (the latency the relay adds, queueing in the
    /// relay's loop included).
    pub media_relay_latency: Histogram,
    /// Media: ICE-TCP connections open now.
    pub media_tcp_connections: prometheus::IntGauge,
    /// Legs this node's relay holds.
    pub media_relay_legs: prometheus::IntGauge,
    /// Media: datagrams the relay dropped before any leg saw them, by reason
    /// (`unknown_source`: not from a participant; `rate_limited`: a check for a leg over
    /// that leg's budget of connectivity checks; `not_webrtc`: from a participant's
    /// address, but nothing WebRTC sends).
    pub media_dropped: IntCounterVec,
    /// Media: the relay's reports dropped because the hub was not reading them (only
    /// statistics, which are cumulative; see `media`'s report policy).
    pub media_reports_dropped: prometheus::IntCounter,
    /// Media: legs given up because they had not connected 15 s after the relay's answer
    /// (their participants are told to offer again).
    pub media_legs_not_connected: prometheus::IntCounter,
    /// HTTP: TCP connections closed unread, by reason (`capacity`: every place taken;
    /// `per_address`: too many from one address).
    pub http_refused: IntCounterVec,
    /// Store: record writes by what (`call_record`, `desk_outcome`) and result (`written`,
    /// `retried`: a try failed for a passing reason, `failed`: given up).
    pub store_writes: IntCounterVec,
    /// The hub's one task: seconds busy, by phase (`inputs`, `journal`, `act`, `save`;
    /// `hub/busy.rs`).
    pub hub_busy: CounterVec,
}

#[allow(clippy::expect_used)] // metric definitions are constants: a failure is a bug caught by the tests
impl Metrics {
    /// Add metrics defined elsewhere (the phone bridge's).
    pub fn add(&self, collectors: Vec<Box<dyn prometheus::core::Collector>>) {
        for c in collectors {
            if let Err(e) = self.registry.register(c) {
                tracing::warn!(error = %e, "a metric could not be registered");
            }
        }
    }

    /// A fresh registry with every metric.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("kakehashi_requests_total", "Interpreter requests that ended, by tenant, language and outcome."),
            &["tenant", "language", "outcome"],
        )
        .expect("metric");
        let queue_wait = HistogramVec::new(
            HistogramOpts::new("kakehashi_queue_wait_seconds", "Time from request to answer.")
                .buckets(vec![10.0, 20.0, 30.0, 60.0, 120.0, 300.0]),
            &["language"],
        )
        .expect("metric");
        let queue_depth = IntGaugeVec::new(Opts::new("kakehashi_queue_depth", "Requests waiting now."), &["language"])
            .expect("metric");
        let interpreters =
            IntGaugeVec::new(Opts::new("kakehashi_interpreters", "Interpreters by presence."), &["state"])
                .expect("metric");
        let offers = IntCounterVec::new(Opts::new("kakehashi_offers_total", "Offers by how they ended."), &["outcome"])
            .expect("metric");
        let call_duration = Histogram::with_opts(
            HistogramOpts::new("kakehashi_call_duration_seconds", "Talk time of interpreted calls.")
                .buckets(vec![60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0]),
        )
        .expect("metric");
        let ws_connections =
            IntGaugeVec::new(Opts::new("kakehashi_ws_connections", "Open WebSocket connections."), &["role"])
                .expect("metric");
        let ws_messages =
            IntCounterVec::new(Opts::new("kakehashi_ws_messages_total", "WebSocket frames."), &["direction"])
                .expect("metric");
        let media = |name: &str, help: &str| {
            IntCounterVec::new(Opts::new(name, help), &["role", "kind", "direction"]).expect("metric")
        };
        let media_packets = media("kakehashi_media_packets_total", "RTP packets through the relay.");
        let media_bytes = media("kakehashi_media_bytes_total", "RTP bytes through the relay.");
        let media_lost = media("kakehashi_media_packets_lost_total", "RTP packets lost.");
        let media_nacks = media("kakehashi_media_nacks_total", "NACKs (retransmission requests).");
        let media_keyframe_requests = media("kakehashi_media_keyframe_requests_total", "Keyframe requests (PLI, FIR).");
        let media_jitter = HistogramVec::new(
            HistogramOpts::new("kakehashi_media_jitter_seconds", "Interarrival jitter of participants' streams.")
                .buckets(vec![0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2]),
            &["role", "kind"],
        )
        .expect("metric");
        // 150 ms is the one-way budget for conversation (ITU-T G.114); 300 ms round trip.
        let media_rtt = HistogramVec::new(
            HistogramOpts::new("kakehashi_media_rtt_seconds", "Round-trip time between relay and participant.")
                .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.15, 0.3, 0.5, 1.0]),
            &["role"],
        )
        .expect("metric");
        let media_bitrate = HistogramVec::new(
            HistogramOpts::new(
                "kakehashi_media_rate_bytes_per_second",
                "Media rate per leg over each sampling interval (Prometheus base unit: bytes; ×8 for bits).",
            )
            .buckets(vec![2e3, 4e3, 8e3, 16e3, 32e3, 64e3, 125e3, 187.5e3, 312.5e3]),
            &["role", "kind", "direction"],
        )
        .expect("metric");
        let media_video_pauses = IntCounterVec::new(
            Opts::new("kakehashi_media_video_pauses_total", "Video paused for a receiver by the bandwidth policy."),
            &["role"],
        )
        .expect("metric");
        let media_reconnects = IntCounterVec::new(
            Opts::new("kakehashi_media_reconnects_total", "Participants' media reconnections."),
            &["role"],
        )
        .expect("metric");
        let media_legs =
            IntGaugeVec::new(Opts::new("kakehashi_media_legs", "Media legs open now."), &["role"]).expect("metric");
        let media_relay_latency = Histogram::with_opts(
            HistogramOpts::new(
                "kakehashi_media_relay_latency_seconds",
                "From reading a packet to having sent what it caused: the latency the relay adds.",
            )
            .buckets(vec![0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05]),
        )
        .expect("metric");
        let media_tcp_connections =
            prometheus::IntGauge::new("kakehashi_media_tcp_connections", "ICE-TCP connections open now.")
                .expect("metric");
        let media_relay_legs = prometheus::IntGauge::new(
            "kakehashi_media_relay_legs",
            "Legs this node's relay holds now (in a cluster, of the calls pinned to it), every 2 s.",
        )
        .expect("metric");
        let media_dropped = IntCounterVec::new(
            Opts::new("kakehashi_media_dropped_total", "Datagrams dropped before reaching a leg, by reason."),
            &["reason"],
        )
        .expect("metric");
        let media_legs_not_connected = prometheus::IntCounter::new(
            "kakehashi_media_legs_not_connected_total",
            "Media legs given up because they had not connected (ICE and DTLS) 15 s after the relay's answer; \
             their participants are told to offer again.",
        )
        .expect("metric");
        let media_reports_dropped = prometheus::IntCounter::new(
            "kakehashi_media_reports_dropped_total",
            "Relay statistics reports dropped because the hub was not reading them.",
        )
        .expect("metric");
        let http_refused = IntCounterVec::new(
            Opts::new("kakehashi_http_connections_refused_total", "TCP connections closed unread, by reason."),
            &["reason"],
        )
        .expect("metric");
        let store_writes = IntCounterVec::new(
            Opts::new("kakehashi_store_writes_total", "Record writes to the store, by what and result."),
            &["what", "result"],
        )
        .expect("metric");
        let hub_busy = CounterVec::new(
            Opts::new(
                "kakehashi_hub_busy_seconds_total",
                "Seconds the hub's one task was busy, by phase: per second of wall time, how near the node is to the most it can dispatch.",
            ),
            &["phase"],
        )
        .expect("metric");
        for c in [
            Box::new(http_refused.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(hub_busy.clone()),
            Box::new(store_writes.clone()),
            Box::new(media_reports_dropped.clone()),
            Box::new(media_legs_not_connected.clone()),
            Box::new(requests.clone()),
            Box::new(media_packets.clone()),
            Box::new(media_bytes.clone()),
            Box::new(media_lost.clone()),
            Box::new(media_nacks.clone()),
            Box::new(media_keyframe_requests.clone()),
            Box::new(media_jitter.clone()),
            Box::new(media_rtt.clone()),
            Box::new(media_bitrate.clone()),
            Box::new(media_video_pauses.clone()),
            Box::new(media_reconnects.clone()),
            Box::new(media_legs.clone()),
            Box::new(media_relay_latency.clone()),
            Box::new(media_tcp_connections.clone()),
            Box::new(media_relay_legs.clone()),
            Box::new(media_dropped.clone()),
            Box::new(queue_wait.clone()),
            Box::new(queue_depth.clone()),
            Box::new(interpreters.clone()),
            Box::new(offers.clone()),
            Box::new(call_duration.clone()),
            Box::new(ws_connections.clone()),
            Box::new(ws_messages.clone()),
        ] {
            registry.register(c).expect("unique metric");
        }
        Metrics {
            registry,
            requests,
            queue_wait,
            queue_depth,
            interpreters,
            offers,
            call_duration,
            ws_connections,
            ws_messages,
            media_packets,
            media_bytes,
            media_lost,
            media_nacks,
            media_keyframe_requests,
            media_jitter,
            media_rtt,
            media_bitrate,
            media_video_pauses,
            media_reconnects,
            media_legs,
            media_relay_latency,
            media_tcp_connections,
            media_relay_legs,
            media_dropped,
            media_reports_dropped,
            media_legs_not_connected,
            http_refused,
            store_writes,
            hub_busy,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl crate::listener::Refusals for Metrics {
    fn refused(&self, reason: &'static str) {
        self.http_refused.with_label_values(&[reason]).inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
