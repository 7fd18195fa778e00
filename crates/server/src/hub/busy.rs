//! Where the hub's one task spends its time (`kakehashi_hub_busy_seconds_total`, by
//! phase). The hub is a single task: its busy seconds per second of wall time say how
//! near the node is to the most it can dispatch, whatever the machine, and the phases
//! say what to make faster: applying inputs to the core, waiting for the journal to be
//! stored (a cluster writer's Redis round trip; only where a round must be committed
//! before going on, since stores are otherwise pipelined), acting on the outputs (events
//! to connections, records, relay orders), or saving the core.

use std::time::Instant;

use prometheus::Counter;

use crate::metrics::Metrics;

/// A part of a hub round.
#[derive(Clone, Copy, Debug)]
pub(super) enum Phase {
    /// Commands, reports, records written and ticks, through the core.
    Inputs,
    /// Waiting for the journal's entries to be stored (before a command that changes
    /// the connections, a save, or the end).
    Journal,
    /// Acting on the round's outputs and answering the router.
    Act,
    /// Saving the core.
    Save,
}

/// The counters, one per phase, resolved once.
#[derive(Clone, Debug)]
pub(super) struct Busy([Counter; 4]);

impl Busy {
    pub(super) fn new(metrics: &Metrics) -> Busy {
        let phase = |p: &str| metrics.hub_busy.with_label_values(&[p]);
        Busy([phase("inputs"), phase("journal"), phase("act"), phase("save")])
    }

    /// Count the time since `from` to `phase`; the time now, where the next phase begins.
    pub(super) fn since(&self, phase: Phase, from: Instant) -> Instant {
        let now = Instant::now();
        self.0[phase as usize].inc_by(now.duration_since(from).as_secs_f64());
        now
    }
}
