//! `storm`: a busy morning, compressed. Many desks ask for interpreters in many
//! languages (Zipf-like demand); interpreters answer after a human-like pause, sometimes
//! decline, sometimes let an offer ring out; calls last a while; desks give up after a
//! while. Signalling only, no media: this measures the dispatch path.
//!
//! The system's share of connect time is what the server adds between a person's action
//! and the next person being asked:
//! - **request → offer**, for a request rung at once (an interpreter was free): measured
//!   at the desk as request → `queued {ringing: true}`, which the hub sends in the same
//!   step and the same flush as the interpreter's `offer`;
//! - **ready → offer**, for an interpreter who becomes free while requests in their
//!   language wait;
//! - **accept → assigned**, at the interpreter.
//!
//! Each sample is tagged with the calls in progress when it was taken, so the figure at a
//! given concurrency can be read off.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::LoadError;
use crate::report::Samples;
use crate::scenarios::calls::{failures, none_failed};
use crate::server::{self, Server};

mod desk;
mod interpreter;
mod records;
mod rng;

use desk::desk;
use interpreter::interpreter;
use records::check_records;
pub use rng::Rng;

/// The scenario's knobs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Desks.
    pub desks: usize,
    /// Interpreters.
    pub interpreters: usize,
    /// Languages (at most 24), demand falling with rank.
    pub languages: usize,
    /// Seconds of traffic.
    pub seconds: u64,
    /// Requests per second over all desks.
    pub rate: f64,
    /// Seconds a call lasts, on average.
    pub talk: f64,
    /// Seconds an interpreter takes to answer, on average.
    pub think: f64,
    /// Only samples taken with at least this many calls in progress count for the
    /// headline figure.
    pub at_least: i64,
    /// Churn (the soak): desks drop and resume while they wait, interpreters drop and
    /// resume in calls, residents join calls and leave; then every completed call must
    /// have exactly one call record.
    pub churn: bool,
}

/// The 24 languages of the storm, most asked first.
pub const LANGUAGES: [&str; 24] = [
    "vi", "zh", "pt", "fil", "ne", "en", "id", "ko", "es", "th", "my", "si", "bn", "km", "mn", "ru", "uk", "hi", "ur",
    "fa", "fr", "ms", "tr", "ar",
];

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
/// What everyone records.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) calls: AtomicI64,
    pub(crate) max_calls: AtomicI64,
    /// Requests waiting, by language index.
    pub(crate) waiting: [AtomicI64; 24],
    pub(crate) requests: AtomicU64,
    pub(crate) answered: AtomicU64,
    pub(crate) abandoned: AtomicU64,
    pub(crate) unserved: AtomicU64,
    pub(crate) declined: AtomicU64,
    pub(crate) missed: AtomicU64,
    /// (sample ms, calls in progress) per measure.
    pub(crate) request_to_offer: Mutex<Vec<(f64, i64)>>,
    pub(crate) ready_to_offer: Mutex<Vec<(f64, i64)>>,
    pub(crate) accept_to_assigned: Mutex<Vec<(f64, i64)>>,
    /// What each desk saw end: (calls ended, requests cancelled, unserved, expired).
    pub(crate) endings: Mutex<std::collections::BTreeMap<i64, [u64; 4]>>,
    pub(crate) reconnects: AtomicU64,
    pub(crate) residents: AtomicU64,
    /// Desks still running: interpreters stay (and decline new offers) until they are done.
    pub(crate) desks_left: AtomicI64,
}

impl Shared {
    pub(crate) async fn sample(&self, which: &Mutex<Vec<(f64, i64)>>, d: Duration) {
        which.lock().await.push((d.as_secs_f64() * 1000.0, self.calls.load(Ordering::Relaxed)));
    }
}

fn samples(v: &[(f64, i64)], at_least: i64) -> Samples {
    let mut s = Samples::default();
    for (ms, calls) in v {
        if *calls >= at_least {
            s.add_ms(*ms);
        }
    }
    s
}

/// Seed through `server`, run with the desks and interpreters spread over `urls` (one
/// node's, or a cluster's), report.
pub async fn run(server: &Server, urls: &[String], o: &Options) -> Result<(Vec<String>, Value), LoadError> {
    let tenant = server::add_tenant(server, &format!("Storm {}", std::process::id())).await?;
    let seeded = Instant::now();
    let desks = server::add_desks(server, tenant, o.desks).await?;
    if std::env::var_os("LOAD_DEBUG").is_some() {
        eprintln!("seeded {} desks in {:?}", o.desks, seeded.elapsed());
    }
    let langs = o.languages.clamp(1, LANGUAGES.len());
    // Interpreters spread like the demand, every language covered at least once.
    let mut rng = Rng::new(7);
    let spread: Vec<usize> = (0..o.interpreters).map(|n| if n < langs { n } else { rng.zipf(langs) }).collect();
    let who =
        spread.iter().enumerate().map(|(n, l)| (format!("storm-{}-{n}", std::process::id()), LANGUAGES[*l])).collect();
    let seeded = Instant::now();
    let tokens = server::add_interpreters(server, tenant, who).await?;
    if std::env::var_os("LOAD_DEBUG").is_some() {
        eprintln!("seeded {} interpreters in {:?}", o.interpreters, seeded.elapsed());
    }
    let interpreters: Vec<(String, usize)> = tokens.into_iter().zip(spread).collect();
    let shared = Arc::new(Shared::default());
    shared.desks_left.store(desks.len() as i64, Ordering::Relaxed);
    let since_ms = now_ms() - 1000;
    let until = Instant::now() + Duration::from_secs(o.seconds);
    let mut tasks = Vec::new();
    for (n, (t, l)) in interpreters.into_iter().enumerate() {
        tasks.push(tokio::spawn(interpreter(
            urls[n % urls.len()].clone(),
            t,
            l,
            Rng::new(1000 + n as u64),
            o.clone(),
            Arc::clone(&shared),
            until,
        )));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (n, (id, t)) in desks.into_iter().enumerate() {
        tasks.push(tokio::spawn(desk(
            urls[(n + 1) % urls.len()].clone(),
            id,
            t,
            Rng::new(5000 + n as u64),
            o.clone(),
            Arc::clone(&shared),
            until,
        )));
    }
    let joined = Instant::now();
    let failures = failures(tasks).await;
    if std::env::var_os("LOAD_DEBUG").is_some() {
        eprintln!(
            "everyone finished {:?} after the end",
            joined.elapsed().saturating_sub(until.saturating_duration_since(joined))
        );
    }
    let records = if o.churn && failures.is_empty() {
        Some(check_records(server, tenant, since_ms, &shared).await?)
    } else {
        None
    };
    let r2o = shared.request_to_offer.lock().await.clone();
    let ready = shared.ready_to_offer.lock().await.clone();
    let a2a = shared.accept_to_assigned.lock().await.clone();
    // The headline: the exact measures (request → offer when rung at once, accept →
    // assigned) at the concurrency asked. Ready → offer is reported beside them: it also
    // holds waits for a request the interpreter may take (the desks' view of what waits
    // lags by up to a second).
    let mut both = r2o.clone();
    both.extend(a2a.iter().copied());
    let headline = samples(&both, o.at_least);
    let value = json!({
        "scenario": if o.churn { "soak" } else { "storm" }, "nodes": urls.len(),
        "desks": o.desks, "interpreters": o.interpreters, "languages": langs, "seconds": o.seconds,
        "requests": shared.requests.load(Ordering::Relaxed),
        "answered": shared.answered.load(Ordering::Relaxed),
        "abandoned": shared.abandoned.load(Ordering::Relaxed),
        "unserved": shared.unserved.load(Ordering::Relaxed),
        "declined": shared.declined.load(Ordering::Relaxed),
        "missed": shared.missed.load(Ordering::Relaxed),
        "max_concurrent_calls": shared.max_calls.load(Ordering::Relaxed),
        "request_to_offer": samples(&r2o, 0).json(),
        "ready_to_offer": samples(&ready, 0).json(),
        "accept_to_assigned": samples(&a2a, 0).json(),
        "at_least_calls": o.at_least,
        "system_share_at_concurrency": headline.json(),
        "reconnects": shared.reconnects.load(Ordering::Relaxed),
        "residents": shared.residents.load(Ordering::Relaxed),
        "records": records,
        "failures": failures,
    });
    let lines = vec![
        format!(
            "storm: {} desks, {} interpreters, {} languages, {} node(s), {} s",
            o.desks,
            o.interpreters,
            langs,
            urls.len(),
            o.seconds
        ),
        format!(
            "  {} requests: {} answered, {} abandoned, {} unserved; offers declined {}, missed {}; at most {} calls at once",
            value["requests"],
            value["answered"],
            value["abandoned"],
            value["unserved"],
            value["declined"],
            value["missed"],
            value["max_concurrent_calls"]
        ),
        format!("  request → offer (rung at once): {}", samples(&r2o, 0).line()),
        format!("  ready → offer (requests waiting): {}", samples(&ready, 0).line()),
        format!("  accept → assigned: {}", samples(&a2a, 0).line()),
        format!("  system share with at least {} calls in progress: {}", o.at_least, headline.line()),
    ];
    let mut lines = lines;
    if o.churn {
        lines.push(format!(
            "  churn: {} reconnects, {} residents joined; records: {}",
            value["reconnects"], value["residents"], value["records"]
        ));
    }
    none_failed(&failures)?;
    Ok((lines, value))
}
