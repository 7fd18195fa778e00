//! A simulated day at a shared centre, and the M/M/N check against Erlang C.
//!
//! ```text
//! cargo run --release -p kakehashi-dispatch --example simulate -- [--seed N] [--scale X] [--hours H]
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Duration;

use kakehashi_dispatch::erlang::Workload;
use kakehashi_dispatch::{Counters, sim};

fn main() {
    let (mut seed, mut scale, mut hours) = (42u64, 1.0f64, 9u64);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--seed" => seed = value.parse().expect("--seed takes a whole number"),
            "--scale" => scale = value.parse().expect("--scale takes a number"),
            "--hours" => hours = value.parse().expect("--hours takes a whole number"),
            other => panic!("unknown flag {other:?}: use --seed, --scale, --hours"),
        }
    }
    let mut cfg = sim::realistic_day(seed, scale);
    cfg.duration = Duration::from_secs(hours * 3600);
    let started = std::time::Instant::now();
    let r = sim::run(&cfg).expect("the engine keeps its invariants");
    let took = started.elapsed();
    println!("A simulated {hours} h day, seed {seed}, load x{scale}: {} engine inputs in {took:.2?}", r.events);
    println!(
        "{:<10} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7}",
        "language", "asked", "answd", "aband", "unserv", "SL20", "SL60", "ASA s", "AHT s"
    );
    let row = |name: &str, c: &Counters| {
        println!(
            "{:<10} {:>6} {:>6} {:>6} {:>6} {:>7.3} {:>7.3} {:>7.1} {:>7.0}",
            name,
            c.requests,
            c.answered,
            c.abandoned,
            c.unserved,
            c.service_level(1).unwrap_or(0.0),
            c.service_level(3).unwrap_or(0.0),
            c.asa().map_or(0.0, |d| d.as_secs_f64()),
            c.aht().map_or(0.0, |d| d.as_secs_f64()),
        );
    };
    for (language, c) in &r.per_language {
        row(language.tag(), c);
    }
    row("all", &r.totals);
    let t = r.totals;
    println!(
        "offers {} (declined {}, missed {}, rescinded {}); abandonment {:.3}; occupancy {:.3}",
        t.offers,
        t.declined,
        t.missed,
        t.rescinded,
        t.abandonment().unwrap_or(0.0),
        r.occupancy
    );

    println!("\nM/M/N against Erlang C (720 calls/h, 240 s exponential handle time, 3 simulated days, seeds 1-4):");
    println!("{:>6} {:>10} {:>10} {:>10} {:>10}", "agents", "SL20 sim", "SL20 C", "ASA sim", "ASA C");
    for agents in [52, 55, 60] {
        let w = Workload { arrivals_per_sec: 0.2, handle_secs: 240.0 };
        let mut c = Counters::default();
        for s in 1..=4 {
            c.add(
                &sim::run(&sim::erlang_check(s, 720.0, 240.0, agents, Duration::from_secs(3 * 86_400))).unwrap().totals,
            );
        }
        println!(
            "{:>6} {:>10.4} {:>10.4} {:>10.2} {:>10.2}",
            agents,
            c.answered_within[1] as f64 / c.answered as f64,
            w.service_level(agents, 20.0),
            c.asa().unwrap().as_secs_f64(),
            w.asa(agents)
        );
    }
}
