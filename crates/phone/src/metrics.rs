//! The bridge's metrics (`kakehashi_phone_*`), for the server's registry when the bridge
//! runs inside it, or for `kakehashi phone`'s own. Labels are bounded (direction, state,
//! outcome, trunk name); never a number or a call.

use prometheus::core::Collector;
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts};

/// Every metric of the bridge.
#[derive(Clone, Debug)]
pub struct PhoneMetrics {
    /// Phone legs now, by direction (`in`, `out`) and state (`ringing`, `prompts`,
    /// `queued`, `in_call`).
    pub legs: IntGaugeVec,
    /// Phone calls that ended their setup, by direction and outcome (`joined`, and for
    /// calls in `gone`, `pin_refused`, `unavailable`, `closed`, `unserved`; for calls out
    /// `no_answer`, `busy`, `refused`, `unreachable`; for offers rung on interpreters'
    /// phones, direction `offer`: `declined`, `offer_gone`, `no_key`, `no_answer`).
    pub calls: IntCounterVec,
    /// From the decision to join (a PIN accepted, a call out answered) until the leg's
    /// media is connected to the relay, by direction.
    pub setup: HistogramVec,
    /// The phones' packets lost, and late for the reorder buffer.
    pub lost: IntCounter,
    /// Late packets.
    pub late: IntCounter,
    /// Interarrival jitter of the phones' packets, sampled every 5 s per leg.
    pub jitter: Histogram,
    /// Time to mix one 20 ms frame of a call for its phones (decode, mix, encode).
    pub mix: Histogram,
    /// Calls whose phones the bridge mixes now (one mix per call, however many phones).
    pub mixes: IntGauge,
    /// 1 while registered with a trunk, by trunk name.
    pub registered: IntGaugeVec,
}

impl Default for PhoneMetrics {
    fn default() -> Self {
        PhoneMetrics::new()
    }
}

fn must<T>(r: prometheus::Result<T>) -> T {
    // The names and labels below are constants: valid by construction (tested).
    match r {
        Ok(t) => t,
        Err(e) => unreachable!("a constant metric definition: {e}"),
    }
}

impl PhoneMetrics {
    /// Fresh metrics, not yet registered.
    pub fn new() -> PhoneMetrics {
        PhoneMetrics {
            legs: must(IntGaugeVec::new(
                Opts::new("kakehashi_phone_legs", "Phone legs now, by direction and state."),
                &["direction", "state"],
            )),
            calls: must(IntCounterVec::new(
                Opts::new("kakehashi_phone_calls_total", "Phone calls by direction and how their setup ended."),
                &["direction", "outcome"],
            )),
            setup: must(HistogramVec::new(
                HistogramOpts::new(
                    "kakehashi_phone_setup_seconds",
                    "From joining (PIN accepted, call answered) to media connected, by direction.",
                )
                .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0]),
                &["direction"],
            )),
            lost: must(IntCounter::new("kakehashi_phone_packets_lost_total", "Phones' RTP packets lost.")),
            late: must(IntCounter::new(
                "kakehashi_phone_packets_late_total",
                "Phones' RTP packets too late for the reorder buffer.",
            )),
            jitter: must(Histogram::with_opts(
                HistogramOpts::new("kakehashi_phone_jitter_seconds", "Interarrival jitter of phones' packets.")
                    .buckets(vec![0.001, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16]),
            )),
            mix: must(Histogram::with_opts(
                HistogramOpts::new(
                    "kakehashi_phone_mix_seconds",
                    "Time to mix one 20 ms frame of a call for its phones.",
                )
                .buckets(vec![0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.005]),
            )),
            mixes: must(IntGauge::new(
                "kakehashi_phone_mixes",
                "Calls whose phones this bridge mixes (one mix per call, however many phones).",
            )),
            registered: must(IntGaugeVec::new(
                Opts::new("kakehashi_phone_registered", "1 while registered with a trunk."),
                &["trunk"],
            )),
        }
    }

    /// Each metric, for a registry.
    pub fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.legs.clone()),
            Box::new(self.calls.clone()),
            Box::new(self.setup.clone()),
            Box::new(self.lost.clone()),
            Box::new(self.late.clone()),
            Box::new(self.jitter.clone()),
            Box::new(self.mix.clone()),
            Box::new(self.mixes.clone()),
            Box::new(self.registered.clone()),
        ]
    }
}

/// A leg counted in a state while it lives there.
#[derive(Debug)]
pub struct InState {
    legs: IntGaugeVec,
    labels: [&'static str; 2],
}

impl InState {
    /// Count a leg of `direction` in `state` until dropped or moved.
    pub fn new(metrics: &PhoneMetrics, direction: &'static str, state: &'static str) -> InState {
        metrics.legs.with_label_values(&[direction, state]).inc();
        InState { legs: metrics.legs.clone(), labels: [direction, state] }
    }

    /// Its direction.
    pub fn direction(&self) -> &'static str {
        self.labels[0]
    }

    /// The leg moves to `state`.
    pub fn to(&mut self, state: &'static str) {
        self.legs.with_label_values(&self.labels).dec();
        self.labels[1] = state;
        self.legs.with_label_values(&self.labels).inc();
    }
}

impl Drop for InState {
    fn drop(&mut self) {
        self.legs.with_label_values(&self.labels).dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_registers_and_a_leg_is_counted_where_it_is() {
        let m = PhoneMetrics::new();
        let registry = prometheus::Registry::new();
        for c in m.collectors() {
            registry.register(c).unwrap();
        }
        let mut leg = InState::new(&m, "in", "prompts");
        assert_eq!(m.legs.with_label_values(&["in", "prompts"]).get(), 1);
        leg.to("in_call");
        assert_eq!(m.legs.with_label_values(&["in", "prompts"]).get(), 0);
        assert_eq!(m.legs.with_label_values(&["in", "in_call"]).get(), 1);
        drop(leg);
        assert_eq!(m.legs.with_label_values(&["in", "in_call"]).get(), 0);
    }
}
