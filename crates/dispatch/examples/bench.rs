//! Benchmark of the dispatch engine at steady state under load.
//!
//! Builds a shared centre (3 tenants, 24 languages with Zipf-like demand, interpreters
//! distributed like the demand, 40% staff / 30% contractors / 30% volunteers, a fifth
//! also covering English), signs half of them in, fills every one with a call, queues
//! the requested backlog, then runs cycles of real traffic and times each engine input:
//! a call ends → the interpreter is ready again and is offered the best waiting request
//! (sometimes declines, and the request is re-routed) → accepts → a new request arrives
//! and is queued. Timers (ring time-outs, step widening, expiry) fire as simulated time
//! passes, 10 ms per cycle.
//!
//! ```text
//! cargo run --release -p kakehashi-dispatch --example bench -- --json
//! cargo run --release -p kakehashi-dispatch --example bench -- --interpreters 15000 --queued 50000 --cycles 300000
//! ```
//!
//! "Events" are all engine inputs; "decisions" are the inputs that route: a submit, a
//! ready interpreter, a decline, a batch of due timers. Times are measured around each
//! input including draining its outputs; one core (the engine is single-threaded).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use kakehashi_dispatch::sim::Rng;
use kakehashi_dispatch::*;

struct Args {
    json: bool,
    interpreters: u32,
    queued: usize,
    cycles: u64,
    seed: u64,
    scaling: bool,
}

fn args() -> Args {
    let mut a = Args { json: false, interpreters: 15_000, queued: 50_000, cycles: 300_000, seed: 1, scaling: true };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = |name: &str| -> u64 {
            let v = it.next().unwrap_or_else(|| panic!("{name} needs a value"));
            v.parse().unwrap_or_else(|_| panic!("{name}: {v:?} is not a whole number"))
        };
        match flag.as_str() {
            "--json" => a.json = true,
            "--interpreters" => a.interpreters = num("--interpreters") as u32,
            "--queued" => a.queued = num("--queued") as usize,
            "--cycles" => a.cycles = num("--cycles"),
            "--seed" => a.seed = num("--seed"),
            "--no-scaling" => a.scaling = false,
            "--help" | "-h" => {
                println!("bench [--json] [--interpreters N] [--queued N] [--cycles N] [--seed N] [--no-scaling]");
                std::process::exit(0);
            }
            other => panic!("unknown flag {other:?}; try --help"),
        }
    }
    a
}

struct Centre {
    e: Engine,
    now: Timestamp,
    rng: Rng,
    languages: Vec<LanguageId>,
    cumulative: Vec<f64>,
    in_call: Vec<(RequestId, InterpreterId)>,
    next_desk: u32,
}

impl Centre {
    fn pick_language(&mut self) -> usize {
        let u = self.rng.unit() * self.cumulative.last().unwrap();
        self.cumulative.iter().position(|c| u < *c).unwrap_or(self.cumulative.len() - 1)
    }

    fn request(&mut self) -> RequestSpec {
        let l = self.pick_language();
        self.next_desk = (self.next_desk + 1) % 6;
        let tenant = TenantId(self.next_desk / 2);
        let mut spec = RequestSpec::new(tenant, DeskId(self.next_desk), self.languages[l]);
        if self.rng.below(10) == 0 {
            spec.speciality = Some(Speciality::ALL[1 + self.rng.below(5) as usize]);
        }
        if self.rng.below(20) == 0 {
            spec.priority = Priority::Urgent;
        }
        spec
    }

    /// Drain outputs; accept every offer when `accept` is set (used while filling).
    fn drain(&mut self, accept: bool) -> Vec<(OfferId, RequestId, InterpreterId)> {
        let mut offers = Vec::new();
        while let Some(o) = self.e.poll_output() {
            match o {
                Output::Offered { offer, request, interpreter, .. } => offers.push((offer, request, interpreter)),
                Output::Assigned { request, interpreter, .. } => self.in_call.push((request, interpreter)),
                _ => {}
            }
        }
        if accept {
            for (o, _, i) in &offers {
                self.e.accept(self.now, *o, *i).unwrap();
            }
            let _ = self.drain(false);
            return Vec::new();
        }
        offers
    }
}

fn build(interpreters: u32, queued: usize, seed: u64) -> Centre {
    let languages: Vec<LanguageId> =
        LanguageId::all().filter(|l| *l != LanguageId::JAPANESE && *l != LanguageId::EASY_JAPANESE).take(24).collect();
    let mut acc = 0.0;
    let cumulative: Vec<f64> = (0..languages.len())
        .map(|i| {
            acc += 1.0 / (i as f64 + 1.0);
            acc
        })
        .collect();
    let mut c = Centre {
        e: Engine::new(),
        now: Timestamp::from_secs(1_800_000_000),
        rng: Rng::new(seed),
        languages,
        cumulative,
        in_call: Vec::new(),
        next_desk: 0,
    };
    let policy = RoutingPolicy { max_wait: Duration::from_secs(6 * 3600), wrap_up: None, ..RoutingPolicy::default() };
    for t in 0..3 {
        c.e.add_tenant(
            c.now,
            TenantSpec {
                id: TenantId(t),
                foreign_residents: 5_000,
                time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(9)),
                policy: policy.clone(),
            },
        )
        .unwrap();
        for d in 0..2 {
            c.e.add_desk(c.now, DeskId(t * 2 + d), TenantId(t)).unwrap();
        }
    }
    let english = LanguagePair::with_japanese(LanguageId::ENGLISH).unwrap();
    for id in 0..interpreters {
        let l = c.pick_language();
        let primary = LanguagePair::with_japanese(c.languages[l]).unwrap();
        let mut pairs = vec![primary];
        if c.rng.below(5) == 0 && primary != english {
            pairs.push(english);
        }
        let tier = match c.rng.below(10) {
            0..4 => Tier::Staff,
            4..7 => Tier::Contractor,
            _ => Tier::Volunteer,
        };
        let (tenants, shared_pool) = if c.rng.below(5) == 0 {
            (vec![TenantId(c.rng.below(3) as u32)], true)
        } else {
            (vec![TenantId(0), TenantId(1), TenantId(2)], false)
        };
        let specialities: SpecialitySet = Speciality::ALL.iter().copied().filter(|_| c.rng.below(3) == 0).collect();
        c.e.add_interpreter(
            c.now,
            InterpreterSpec {
                id: InterpreterId(id),
                pairs,
                modalities: ModalitySet::all(),
                specialities,
                tier,
                tenants,
                shared_pool,
                roster: Roster::always(),
            },
        )
        .unwrap();
        if id % 2 == 0 {
            c.e.set_availability(c.now, InterpreterId(id), Availability::Available).unwrap();
        }
    }
    c.drain(true);
    // Fill every signed-in interpreter with a call: ask for the languages that have idle
    // interpreters, and let steps widen until every offer is accepted.
    loop {
        let idle: Vec<LanguageId> =
            c.e.live_languages().iter().filter(|l| l.idle > 0).map(|l| l.pair.other(LanguageId::JAPANESE)).collect();
        if idle.is_empty() {
            break;
        }
        for language in idle {
            let tenant = TenantId(0);
            c.e.submit(c.now, RequestSpec::new(tenant, DeskId(0), language)).unwrap();
            c.drain(true);
        }
        // Step time by less than the ring time-out, so every offer is answered.
        for _ in 0..60 {
            c.now = c.now + Duration::from_secs(5);
            c.e.handle_timeout(c.now);
            c.drain(true);
        }
    }
    // Requests left over from filling, then the backlog.
    // The backlog arrives over the last half hour, as it would, so that its timers
    // (step widening) fall due spread out rather than all at one instant.
    let waiting: usize = c.e.live_tenants().iter().map(|t| t.waiting).sum();
    let backlog = queued.saturating_sub(waiting).max(1) as u64;
    let gap = Duration::from_micros(1_800_000_000 / backlog);
    for _ in 0..backlog {
        c.now = c.now + gap;
        c.e.handle_timeout(c.now);
        c.drain(true);
        let spec = c.request();
        c.e.submit(c.now, spec).unwrap();
        c.drain(true);
    }
    c
}

struct Figures {
    interpreters: u32,
    online: usize,
    languages: usize,
    queued: usize,
    events: u64,
    decisions: usize,
    engine_secs: f64,
    wall_secs: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
    setup_secs: f64,
}

fn measure(interpreters: u32, queued: usize, cycles: u64, seed: u64) -> Figures {
    let setup = Instant::now();
    let mut c = build(interpreters, queued, seed);
    let setup_secs = setup.elapsed().as_secs_f64();
    let online = c.in_call.len();
    let queued_now: usize = c.e.live_tenants().iter().map(|t| t.waiting).sum();
    let mut decisions: Vec<u32> = Vec::with_capacity(cycles as usize * 3);
    let mut events = 0u64;
    let mut engine = Duration::ZERO;
    let wall = Instant::now();
    let mut kinds: [Vec<u32>; 6] = Default::default();
    macro_rules! timed {
        ($decision:expr, $body:expr) => {
            timed!($decision, 0, $body)
        };
        ($decision:expr, $kind:expr, $body:expr) => {{
            let t = Instant::now();
            let r = $body;
            let offers = c.drain(false);
            let d = t.elapsed();
            engine += d;
            events += 1;
            if $decision {
                decisions.push(d.as_nanos() as u32);
            }
            kinds[$kind].push(d.as_nanos() as u32);
            (r, offers)
        }};
    }
    for _ in 0..cycles {
        c.now = c.now + Duration::from_millis(10);
        if c.e.poll_timeout().is_some_and(|t| t <= c.now) {
            let now = c.now;
            let (_, offers) = timed!(true, 1, c.e.handle_timeout(now));
            for (o, _, i) in offers {
                let now = c.now;
                timed!(false, c.e.accept(now, o, i).unwrap());
            }
        }
        if c.in_call.is_empty() {
            break;
        }
        let k = c.rng.below(c.in_call.len() as u64) as usize;
        let (request, interpreter) = c.in_call.swap_remove(k);
        let now = c.now;
        timed!(false, 2, c.e.end_call(now, request).unwrap());
        let (_, mut offers) = timed!(true, 3, c.e.set_availability(now, interpreter, Availability::Available).unwrap());
        if c.rng.below(20) == 0
            && let Some((o, _, i)) = offers.pop()
        {
            let (_, more) = timed!(true, 4, c.e.decline(now, o, i).unwrap());
            offers.extend(more);
        }
        for (o, _, i) in offers {
            timed!(false, c.e.accept(now, o, i).unwrap());
        }
        let spec = c.request();
        let (_, offers) = timed!(true, 5, c.e.submit(now, spec).unwrap());
        for (o, _, i) in offers {
            timed!(false, c.e.accept(now, o, i).unwrap());
        }
    }
    let wall_secs = wall.elapsed().as_secs_f64();
    if std::env::var_os("BENCH_KINDS").is_some() {
        for (name, v) in ["accept", "timers", "end_call", "ready", "decline", "submit"].iter().zip(kinds.iter_mut()) {
            v.sort_unstable();
            let q = |p: f64| v.get(((v.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0) as f64 / 1000.0;
            eprintln!(
                "  {name:>8}: n {:>8} p50 {:>8.2} µs p99 {:>8.2} µs max {:>10.1} µs",
                v.len(),
                q(0.5),
                q(0.99),
                q(1.0)
            );
        }
    }
    decisions.sort_unstable();
    let q = |p: f64| decisions.get(((decisions.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0) as f64 / 1000.0;
    Figures {
        interpreters,
        online,
        languages: c.languages.len(),
        queued: queued_now,
        events,
        decisions: decisions.len(),
        engine_secs: engine.as_secs_f64(),
        wall_secs,
        p50: q(0.50),
        p99: q(0.99),
        p999: q(0.999),
        max: decisions.last().copied().unwrap_or(0) as f64 / 1000.0,
        setup_secs,
    }
}

fn json(f: &Figures) -> String {
    format!(
        concat!(
            "{{\"interpreters\":{},\"online\":{},\"languages\":{},\"queued\":{},\"events\":{},\"decisions\":{},",
            "\"events_per_sec\":{:.0},\"wall_events_per_sec\":{:.0},\"decision_p50_us\":{:.3},\"decision_p99_us\":{:.3},",
            "\"decision_p999_us\":{:.3},\"decision_max_us\":{:.3},\"setup_secs\":{:.2}}}"
        ),
        f.interpreters,
        f.online,
        f.languages,
        f.queued,
        f.events,
        f.decisions,
        f.events as f64 / f.engine_secs,
        f.events as f64 / f.wall_secs,
        f.p50,
        f.p99,
        f.p999,
        f.max,
        f.setup_secs
    )
}

fn main() {
    let a = args();
    let main = measure(a.interpreters, a.queued, a.cycles, a.seed);
    let scaling: Vec<Figures> = if a.scaling {
        [1_000, 10_000, 100_000].iter().map(|n| measure(*n, a.queued, a.cycles, a.seed)).collect()
    } else {
        Vec::new()
    };
    if a.json {
        let body = json(&main);
        let runs: Vec<String> = scaling.iter().map(json).collect();
        let ratio = match (scaling.first(), scaling.last()) {
            (Some(small), Some(big)) if scaling.len() > 1 => {
                format!(",\"p50_ratio_100k_to_1k\":{:.2}", big.p50 / small.p50)
            }
            _ => String::new(),
        };
        println!("{},\"scaling\":[{}]{}}}", &body[..body.len() - 1], runs.join(","), ratio);
    } else {
        for f in std::iter::once(&main).chain(&scaling) {
            println!(
                "{:>7} interpreters ({} online), {} languages, {} queued: {} events, {:.2} M events/s (engine), decision p50 {:.2} µs p99 {:.2} µs p99.9 {:.2} µs max {:.1} µs",
                f.interpreters,
                f.online,
                f.languages,
                f.queued,
                f.events,
                f.events as f64 / f.engine_secs / 1e6,
                f.p50,
                f.p99,
                f.p999,
                f.max
            );
        }
    }
}
