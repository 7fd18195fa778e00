//! Prometheus metrics. Names `kakehashi_<thing>_<unit>`; counters end `_total`; labels
//! are bounded (tenant name, language, state, outcome, role, direction) and never hold a
//! person, call or interpreter id. Wait-time buckets sit on the service-level thresholds.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
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
}

#[allow(clippy::expect_used)] // metric definitions are constants: a failure is a bug caught by the tests
impl Metrics {
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
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
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
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
