//! Where a run's time goes: each process's CPU (a node, Redis, PostgreSQL with its
//! backends, this tool) and the writer hub's busy time by phase
//! (`kakehashi_hub_busy_seconds_total`), between two readings. On one shared machine the
//! processes' shares say who starves whom; the hub's busy seconds per second say how near
//! the writer's one task is to the most it can dispatch, whatever the machine.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::proc;
use crate::server::Server;

/// A process to account for, by name; `children`: with every process it started
/// (PostgreSQL's postmaster and its backends).
#[derive(Clone, Debug)]
pub struct Process {
    pub name: String,
    pub pid: u32,
    pub children: bool,
}

impl Process {
    /// `pid` alone.
    pub fn one(name: impl Into<String>, pid: u32) -> Process {
        Process { name: name.into(), pid, children: false }
    }

    /// CPU time so far (of the children now alive, with `children`).
    fn cpu(&self) -> Duration {
        let own = proc::usage(self.pid).map(|u| u.cpu).unwrap_or_default();
        if !self.children {
            return own;
        }
        own + proc::children(self.pid).into_iter().filter_map(|c| proc::usage(c).map(|u| u.cpu)).sum::<Duration>()
    }
}

/// The hub phases, as the server labels them.
const PHASES: [&str; 4] = ["inputs", "journal", "act", "save"];

/// One reading.
#[derive(Clone, Debug)]
pub struct Reading {
    at: Instant,
    cpu: Vec<Duration>,
    hub: [f64; 4],
}

/// The processes and the node whose hub is read (the writer).
#[derive(Debug)]
pub struct Costs<'a> {
    processes: Vec<Process>,
    writer: &'a Server,
}

impl<'a> Costs<'a> {
    pub fn new(processes: Vec<Process>, writer: &'a Server) -> Costs<'a> {
        Costs { processes, writer }
    }

    /// Read now.
    pub async fn read(&self) -> Reading {
        let text = self.writer.metrics().await;
        let mut hub = [0.0; 4];
        for (i, phase) in PHASES.iter().enumerate() {
            hub[i] = crate::server::series(&text, &format!("kakehashi_hub_busy_seconds_total{{phase=\"{phase}\"}}"));
        }
        Reading { at: Instant::now(), cpu: self.processes.iter().map(Process::cpu).collect(), hub }
    }

    /// What was spent from `a` to `b`: lines for the report, and JSON.
    pub fn between(&self, a: &Reading, b: &Reading) -> (Vec<String>, Value) {
        let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-9);
        let share = |d: f64| d / wall * 100.0;
        let mut cpu = Vec::new();
        let mut total = 0.0;
        for (i, p) in self.processes.iter().enumerate() {
            let used = b.cpu[i].saturating_sub(a.cpu[i]).as_secs_f64();
            total += used;
            cpu.push((p.name.clone(), used));
        }
        let hub: Vec<(&str, f64)> =
            PHASES.iter().enumerate().map(|(i, p)| (*p, (b.hub[i] - a.hub[i]).max(0.0))).collect();
        let busy: f64 = hub.iter().map(|(_, s)| s).sum();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let lines = vec![
            format!(
                "  CPU over {wall:.1} s, % of one core: {} (total {:.0}% of {cores:.0} cores)",
                cpu.iter().map(|(n, s)| format!("{n} {:.0}%", share(*s))).collect::<Vec<_>>().join(", "),
                share(total)
            ),
            format!(
                "  the writer's hub busy {:.0}% of the time: {}",
                share(busy),
                hub.iter().map(|(p, s)| format!("{p} {:.0}%", share(*s))).collect::<Vec<_>>().join(", ")
            ),
        ];
        let value = json!({
            "seconds": crate::report::round(wall),
            "cpu_percent_of_a_core": cpu.iter().map(|(n, s)| (n.clone(), json!(crate::report::round(share(*s))))).collect::<serde_json::Map<_, _>>(),
            "hub_busy_percent": hub.iter().map(|(p, s)| (p.to_string(), json!(crate::report::round(share(*s))))).collect::<serde_json::Map<_, _>>(),
        });
        (lines, value)
    }
}
