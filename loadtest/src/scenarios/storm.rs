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
use crate::server::{self, Server};
use crate::signal::Signal;

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

/// A small deterministic generator (xorshift), one per simulated person.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponential with this mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// A language index, Zipf-like over `n`.
    pub fn zipf(&mut self, n: usize) -> usize {
        let total: f64 = (1..=n).map(|k| 1.0 / k as f64).sum();
        let mut x = self.unit() * total;
        for k in 1..=n {
            x -= 1.0 / k as f64;
            if x <= 0.0 {
                return k - 1;
            }
        }
        n - 1
    }
}

/// What everyone records.
#[derive(Debug, Default)]
struct Shared {
    calls: AtomicI64,
    max_calls: AtomicI64,
    /// Requests waiting, by language index.
    waiting: [AtomicI64; 24],
    requests: AtomicU64,
    answered: AtomicU64,
    abandoned: AtomicU64,
    unserved: AtomicU64,
    declined: AtomicU64,
    missed: AtomicU64,
    /// (sample ms, calls in progress) per measure.
    request_to_offer: Mutex<Vec<(f64, i64)>>,
    ready_to_offer: Mutex<Vec<(f64, i64)>>,
    accept_to_assigned: Mutex<Vec<(f64, i64)>>,
    /// What each desk saw end: (calls ended, requests cancelled, unserved, expired).
    endings: Mutex<std::collections::BTreeMap<i64, [u64; 4]>>,
    reconnects: AtomicU64,
    residents: AtomicU64,
    /// Desks still running: interpreters stay (and decline new offers) until they are done.
    desks_left: AtomicI64,
}

impl Shared {
    async fn sample(&self, which: &Mutex<Vec<(f64, i64)>>, d: Duration) {
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

#[allow(clippy::too_many_arguments)]
async fn interpreter(
    url: String,
    token: String,
    language: usize,
    mut rng: Rng,
    o: Options,
    shared: Arc<Shared>,
    until: Instant,
) -> Result<(), LoadError> {
    let mut s = Signal::connect(&url, json!({"session": token.clone()}), None).await?;
    s.send(&json!({"type": "set_availability", "availability": "available"})).await?;
    let queue = |shared: &Shared| shared.waiting[language].load(Ordering::Relaxed) > 0;
    let mut ready_at = Some((Instant::now(), queue(&shared)));
    let mut accepted_at: Option<Instant> = None;
    let mut pending_accept: Option<(u64, Instant)> = None;
    let mut call_until: Option<(u64, Instant)> = None;
    let mut wrap_until: Option<Instant> = None;
    // After the end, a call in progress is finished and a ringing offer declined.
    let hard_stop = until + Duration::from_secs_f64(10.0 * o.talk + 60.0);
    while (Instant::now() < until
        || call_until.is_some()
        || pending_accept.is_some()
        || shared.desks_left.load(Ordering::Relaxed) > 0)
        && Instant::now() < hard_stop
    {
        // The next thing this person does by themselves.
        let next = [pending_accept.map(|p| p.1), call_until.map(|c| c.1), wrap_until].into_iter().flatten().min();
        let wait = next.map_or(Duration::from_millis(500), |t| t.saturating_duration_since(Instant::now()));
        let frame = s.recv(wait.min(Duration::from_millis(500))).await.unwrap_or_default();
        if let Some(v) = frame {
            match v["type"].as_str() {
                Some("offer") => {
                    let offer = v["offer"].as_u64().unwrap_or_default();
                    let now = Instant::now();
                    if let Some((at, queue)) = ready_at.take()
                        && queue
                    {
                        shared.sample(&shared.ready_to_offer, now - at).await;
                    }
                    let roll = if Instant::now() >= until { 0.0 } else { rng.unit() };
                    if roll < 0.05 {
                        shared.declined.fetch_add(1, Ordering::Relaxed);
                        s.send(&json!({"type": "decline", "offer": offer})).await?;
                    } else if roll < 0.08 {
                        shared.missed.fetch_add(1, Ordering::Relaxed);
                    } else {
                        pending_accept =
                            Some((offer, now + Duration::from_secs_f64(0.2 * o.think + rng.exp(0.8 * o.think))));
                    }
                }
                Some("assigned") => {
                    let call = v["call"].as_u64().unwrap_or_default();
                    if let Some(at) = accepted_at.take() {
                        shared.sample(&shared.accept_to_assigned, at.elapsed()).await;
                    }
                    call_until = Some((call, Instant::now() + Duration::from_secs_f64(rng.exp(o.talk))));
                    // Churn: the connection drops in the call and comes back with its token.
                    if o.churn && rng.unit() < 0.1 {
                        let (resume, seen) = s.resume_point();
                        s.close().await;
                        tokio::time::sleep(Duration::from_millis(200 + (rng.unit() * 800.0) as u64)).await;
                        s = Signal::connect(&url, json!({"session": token.clone()}), Some((&resume, seen))).await?;
                        if s.welcome["resumed"] != true {
                            return Err(LoadError::Check(format!("an interpreter did not resume: {}", s.welcome)));
                        }
                        shared.reconnects.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Some("offer_closed") if pending_accept.is_some_and(|p| Some(p.0) == v["offer"].as_u64()) => {
                    pending_accept = None;
                }
                Some("presence") if v["presence"] == "not_ready_missed_offers" => {
                    ready_at = Some((Instant::now(), queue(&shared)));
                    s.send(&json!({"type": "set_availability", "availability": "available"})).await?;
                }
                Some("call_ended") => {
                    call_until = None;
                    wrap_until = Some(Instant::now() + Duration::from_secs_f64(0.5 * o.think));
                }
                _ => {}
            }
        }
        let now = Instant::now();
        // At the end of the run, calls in progress end within a few seconds.
        if now >= until
            && let Some((call, at)) = call_until
            && at > until + Duration::from_secs(5)
        {
            call_until = Some((call, until + Duration::from_secs(5)));
        }
        if let Some((offer, at)) = pending_accept
            && at <= now
        {
            pending_accept = None;
            accepted_at = Some(Instant::now());
            s.send(&json!({"type": "accept", "offer": offer})).await?;
        }
        if let Some((call, at)) = call_until
            && at <= now
        {
            call_until = None;
            s.send(&json!({"type": "end_call", "call": call})).await?;
        }
        if let Some(at) = wrap_until
            && at <= now
        {
            wrap_until = None;
            // Ready: from here to the next offer is the system's, if requests wait.
            ready_at = Some((Instant::now(), queue(&shared)));
            s.send(&json!({"type": "set_availability", "availability": "available"})).await?;
        }
    }
    s.close().await;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn desk(
    url: String,
    id: i64,
    token: String,
    mut rng: Rng,
    o: Options,
    shared: Arc<Shared>,
    until: Instant,
) -> Result<(), LoadError> {
    let mut s = Signal::connect(&url, json!({"desk_token": token.clone()}), None).await?;
    let mut ended = [0u64; 4];
    // The language this desk's request is counted as waiting in: only while nobody is
    // being rung for it (a request being rung is nobody else's to take).
    let mut counted: Option<usize> = None;
    let count = |counted: &mut Option<usize>, now: Option<usize>| {
        if *counted != now {
            if let Some(l) = counted.take() {
                shared.waiting[l].fetch_sub(1, Ordering::Relaxed);
            }
            if let Some(l) = now {
                shared.waiting[l].fetch_add(1, Ordering::Relaxed);
            }
            *counted = now;
        }
    };
    let per_desk = o.rate / o.desks.max(1) as f64;
    let mut next_request = Instant::now() + Duration::from_secs_f64(rng.exp(1.0 / per_desk.max(1e-6)));
    let mut waiting: Option<(u64, Instant, usize)> = None;
    let mut sent_at: Option<(Instant, usize)> = None;
    let mut in_call = false;
    let patience = Duration::from_secs_f64(10.0 * o.think + 3.0 * o.talk);
    while Instant::now() < until {
        let idle = waiting.is_none() && sent_at.is_none() && !in_call;
        let wait =
            if idle { next_request.saturating_duration_since(Instant::now()) } else { Duration::from_millis(500) };
        if let Ok(Some(v)) = s.recv(wait.clamp(Duration::from_millis(1), Duration::from_millis(500))).await {
            match v["type"].as_str() {
                Some("queued") => {
                    let request = v["request"].as_u64().unwrap_or_default();
                    let ringing = v["ringing"].as_bool().unwrap_or(false);
                    if let Some((at, l)) = sent_at.take() {
                        if ringing {
                            shared.sample(&shared.request_to_offer, at.elapsed()).await;
                        }
                        waiting = Some((request, Instant::now() + patience, l));
                        count(&mut counted, (!ringing).then_some(l));
                    }
                }
                Some("position") => {
                    if let Some((_, _, l)) = waiting {
                        count(&mut counted, (v["ringing"] != true).then_some(l));
                    }
                }
                Some("assigned") => {
                    waiting = None;
                    count(&mut counted, None);
                    in_call = true;
                    let calls = shared.calls.fetch_add(1, Ordering::Relaxed) + 1;
                    shared.max_calls.fetch_max(calls, Ordering::Relaxed);
                    shared.answered.fetch_add(1, Ordering::Relaxed);
                    // Churn: a remote resident joins from the link, and leaves again.
                    if o.churn && rng.unit() < 0.2 {
                        let call = v["call"].as_u64().unwrap_or_default();
                        s.send(&json!({"type": "invite_resident", "call": call})).await?;
                    }
                }
                Some("invite") => {
                    let token =
                        v["url"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string();
                    let (url, stay) = (url.clone(), Duration::from_secs_f64(rng.unit() * o.talk));
                    shared.residents.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(async move {
                        if let Ok(mut r) = Signal::connect(&url, json!({"invite": token}), None).await {
                            let _ = r.expect("joined", Duration::from_secs(10), |_| {}).await;
                            tokio::time::sleep(stay).await;
                            let _ = r.send(&json!({"type": "leave"})).await;
                            r.close().await;
                        }
                    });
                }
                Some("call_ended") => {
                    in_call = false;
                    ended[0] += 1;
                    shared.calls.fetch_sub(1, Ordering::Relaxed);
                    let call = v["call"].as_u64().unwrap_or_default();
                    s.send(&json!({"type": "record_outcome", "call": call, "outcome": "resolved"})).await?;
                    next_request = Instant::now() + Duration::from_secs_f64(rng.exp(1.0 / per_desk.max(1e-6)));
                }
                Some("unserved") | Some("expired") | Some("cancelled") => {
                    waiting = None;
                    count(&mut counted, None);
                    sent_at = None;
                    match v["type"].as_str() {
                        Some("cancelled") => ended[1] += 1,
                        Some("unserved") => {
                            ended[2] += 1;
                            shared.unserved.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => ended[3] += 1,
                    }
                    next_request = Instant::now() + Duration::from_secs_f64(rng.exp(1.0 / per_desk.max(1e-6)));
                }
                Some("error") if v["code"] == "not_allowed" => {
                    // A cancel that came too late: the request was answered meanwhile.
                }
                _ => {}
            }
        }
        let now = Instant::now();
        if let Some((request, give_up, l)) = waiting
            && give_up <= now
        {
            shared.abandoned.fetch_add(1, Ordering::Relaxed);
            s.send(&json!({"type": "cancel_request", "request": request})).await?;
            waiting = None;
            let _ = l;
            count(&mut counted, None);
        }
        // Churn: the connection drops while waiting and comes back with its token; the
        // request keeps its place.
        if o.churn && waiting.is_some() && rng.unit() < 0.02 {
            let (resume, seen) = s.resume_point();
            s.close().await;
            tokio::time::sleep(Duration::from_millis(100 + (rng.unit() * 500.0) as u64)).await;
            s = Signal::connect(&url, json!({"desk_token": token.clone()}), Some((&resume, seen))).await?;
            if s.welcome["resumed"] != true {
                return Err(LoadError::Check(format!("a desk did not resume: {}", s.welcome)));
            }
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        if waiting.is_none() && sent_at.is_none() && !in_call && now >= next_request {
            let l = rng.zipf(o.languages.clamp(1, LANGUAGES.len()));
            sent_at = Some((Instant::now(), l));
            shared.requests.fetch_add(1, Ordering::Relaxed);
            s.send(&json!({"type": "request_interpreter", "language": LANGUAGES[l]})).await?;
        }
    }
    // Calls in progress end before the desk goes (the interpreters end them); a request
    // still waiting is cancelled.
    if let Some((request, _, _)) = waiting.take() {
        s.send(&json!({"type": "cancel_request", "request": request})).await?;
        count(&mut counted, None);
    }
    let deadline = Instant::now() + Duration::from_secs_f64(10.0 * o.talk + 30.0);
    while Instant::now() < deadline {
        let Ok(Some(v)) = s.recv(Duration::from_millis(500)).await else {
            if !in_call && sent_at.is_none() {
                break;
            }
            continue;
        };
        match v["type"].as_str() {
            Some("assigned") => in_call = true,
            Some("call_ended") => {
                ended[0] += 1;
                in_call = false;
                shared.calls.fetch_sub(1, Ordering::Relaxed);
            }
            Some("cancelled") => {
                ended[1] += 1;
                sent_at = None;
            }
            Some("unserved") => {
                ended[2] += 1;
                sent_at = None;
            }
            Some("expired") => {
                ended[3] += 1;
                sent_at = None;
            }
            Some("queued") => {
                // Sent just before the end: cancel it, and wait for that to end it.
                if let Some(r) = v["request"].as_u64() {
                    s.send(&json!({"type": "cancel_request", "request": r})).await?;
                }
            }
            _ => {}
        }
    }
    shared.endings.lock().await.insert(id, ended);
    shared.desks_left.fetch_sub(1, Ordering::Relaxed);
    s.close().await;
    Ok(())
}

/// Every completed call has exactly one call record, and so has every other ending:
/// the records of the tenant, counted by desk and outcome, match what the desks saw.
async fn check_records(server: &Server, tenant: i64, since_ms: i64, shared: &Shared) -> Result<Value, LoadError> {
    // Records are written just after the engine decides; give the last ones a moment.
    let want: std::collections::BTreeMap<i64, [u64; 4]> = shared.endings.lock().await.clone();
    let total: u64 = want.values().map(|e| e.iter().sum::<u64>()).sum();
    let mut last = Value::Null;
    for _ in 0..50 {
        let records = server.http.get(&format!("/api/call-records?since={since_ms}"), Some(&server.admin)).await?;
        let mut got: std::collections::BTreeMap<i64, [u64; 4]> = Default::default();
        for r in records.as_array().into_iter().flatten().filter(|r| r["tenant"] == tenant) {
            let slot = match r["outcome"].as_str() {
                Some("answered") => 0,
                Some("abandoned") => 1,
                Some("unserved") => 2,
                _ => 3,
            };
            got.entry(r["desk"].as_i64().unwrap_or_default()).or_default()[slot] += 1;
        }
        let got_total: u64 = got.values().map(|e| e.iter().sum::<u64>()).sum();
        let same = want.iter().all(|(d, e)| got.get(d).copied().unwrap_or_default() == *e) && got_total == total;
        if same {
            return Ok(json!({"records": got_total, "desks": want.len(), "matched": true}));
        }
        let diff: Vec<Value> = want
            .iter()
            .filter(|(d, e)| got.get(d).copied().unwrap_or_default() != **e)
            .take(5)
            .map(|(d, e)| json!({"desk": d, "seen": e, "recorded": got.get(d).copied().unwrap_or_default()}))
            .collect();
        last = json!({"seen": total, "recorded": got_total, "differ": diff});
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(LoadError::Check(format!(
        "call records do not match what the desks saw (answered, abandoned, unserved, expired): {last}"
    )))
}

/// Seed, run, report.
pub async fn run(server: &Server, o: &Options) -> Result<(Vec<String>, Value), LoadError> {
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
    let url = server.ws_url();
    let mut tasks = Vec::new();
    for (n, (t, l)) in interpreters.into_iter().enumerate() {
        tasks.push(tokio::spawn(interpreter(
            url.clone(),
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
            url.clone(),
            id,
            t,
            Rng::new(5000 + n as u64),
            o.clone(),
            Arc::clone(&shared),
            until,
        )));
    }
    let mut failures = Vec::new();
    let joined = Instant::now();
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e.to_string()),
            Err(e) => failures.push(e.to_string()),
        }
    }
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
        "scenario": if o.churn { "soak" } else { "storm" },
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
        format!("storm: {} desks, {} interpreters, {} languages, {} s", o.desks, o.interpreters, langs, o.seconds),
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
    if !failures.is_empty() {
        return Err(LoadError::Check(format!("{} simulated people failed; first: {}", failures.len(), failures[0])));
    }
    Ok((lines, value))
}
