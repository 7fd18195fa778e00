//! `endure`: a long run of three-party calls with media and churn. A fixed number of
//! desks each hold a call after call for the whole run: request, an interpreter from the
//! pool accepts, the desk invites a resident who joins from the link, all three send
//! audio and video, the desk ends the call after a while and starts the next. Churn on
//! top: residents drop (tab killed) and come back with the same link; interpreters'
//! media legs drop and reconnect within the call. The server's resident memory and open
//! descriptors are sampled all along. At the end every call must have exactly one call
//! record, every join must have had media from the others, and the descriptors must be
//! back where they started.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kakehashi_client::{Desk, Interpreter, MediaRole, MediaSession, Resident, Signal, join_media};
use kakehashi_protocol as p;
use serde_json::{Value, json};
use tokio::sync::{Mutex, watch};

use crate::LoadError;
use crate::media::{self, PeerEvent, Rates, Stats};
use crate::proc;
use crate::scenarios::calls::{assigned_call, failures, invite_token, next_event, none_failed, offer_of, request};
use crate::scenarios::storm::Rng;
use crate::server::{self, Server};

/// The run's knobs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Calls at once (one desk each); interpreters are a tenth more.
    pub calls: usize,
    /// Seconds of calls.
    pub seconds: u64,
    /// Seconds before memory counts as warmed up.
    pub warmup: u64,
    /// Seconds a call lasts, on average.
    pub talk: f64,
    /// Seconds between samples of the server.
    pub sample: u64,
    /// What each participant sends.
    pub rates: Rates,
}

/// Media must reach a newcomer from the others within this.
const MEDIA_WAIT: Duration = Duration::from_secs(30);
/// A request must be answered within this (interpreters outnumber desks).
const ANSWER_WAIT: Duration = Duration::from_secs(60);

/// One reading of the server.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at: f64,
    rss_kib: u64,
    fds: usize,
    calls: i64,
    cpu: f64,
}

/// What every simulated person shares.
#[derive(Debug, Default)]
struct Shared {
    /// A call's end, by call number, for whoever is in it besides the desk.
    ends: std::sync::Mutex<HashMap<u64, watch::Sender<bool>>>,
    /// Calls each desk saw end (desk id → count).
    ended: Mutex<BTreeMap<i64, u64>>,
    calls: AtomicI64,
    max_calls: AtomicI64,
    joins: AtomicU64,
    media_failures: AtomicU64,
    first_failure: std::sync::Mutex<Option<String>>,
    resident_returns: AtomicU64,
    leg_restarts: AtomicU64,
    /// Legs the relay gave up (`media_failed`) and their participants made anew.
    legs_given_up: AtomicU64,
    /// The next SSRC block (one per peer).
    ssrc: AtomicU32,
    stats: Arc<Stats>,
}

impl Shared {
    /// The watch of `call`'s end (made by whoever asks first).
    fn end_of(&self, call: u64) -> watch::Receiver<bool> {
        let mut ends = self.ends.lock().unwrap_or_else(|e| e.into_inner());
        ends.entry(call).or_insert_with(|| watch::channel(false).0).subscribe()
    }

    fn end(&self, call: u64) {
        let sender = self.ends.lock().unwrap_or_else(|e| e.into_inner()).remove(&call);
        match sender {
            Some(s) => {
                let _ = s.send(true);
            }
            None => {
                // Nobody watches yet: leave it ended for whoever comes.
                let (s, _) = watch::channel(true);
                self.ends.lock().unwrap_or_else(|e| e.into_inner()).insert(call, s);
            }
        }
    }

    fn failed(&self, what: String) {
        // Each as it happens, beside the server's log when it is shown (LOAD_SERVER_LOG).
        eprintln!("at {} ms (unix): {what}", now_ms());
        self.media_failures.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_failure.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(what);
    }
}

/// A publishing peer on the next SSRC block, its media joined to `call` over `signal`;
/// then wait until it hears the other `others` publishers (a failure is counted, unless
/// the call ended meanwhile: `end`). A leg the relay gives up (`media_failed`) is made
/// anew, as a browser does, within the same wait.
#[allow(clippy::too_many_arguments)]
async fn on_media<R: MediaRole>(
    mut signal: Signal<R>,
    call: Option<u64>,
    others: usize,
    end: Option<&mut watch::Receiver<bool>>,
    o: &Options,
    shared: &Shared,
    stop: &Arc<AtomicBool>,
    who: &str,
) -> Result<MediaSession<R>, LoadError> {
    shared.joins.fetch_add(1, Ordering::Relaxed);
    let mut wait = Wait {
        heard: std::collections::BTreeSet::new(),
        others,
        deadline: tokio::time::Instant::now() + MEDIA_WAIT,
        errors: Vec::new(),
    };
    let (ended_tx, mut ended) = watch::channel(false);
    let end = end.unwrap_or(&mut ended);
    loop {
        let ssrc = 0x1000_0000 + shared.ssrc.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x200) % 0xE000_0000;
        let (peer, mut firsts) =
            media::peer(std::net::IpAddr::from([127, 0, 0, 1]), Some(ssrc), Arc::clone(&shared.stats)).await?;
        let publisher = media::publish(&peer, ssrc, o.rates, Arc::clone(stop));
        let mut session = join_media(signal, peer, call).await?;
        match wait.until_heard(&mut session, &mut firsts, end).await {
            Heard::All | Heard::Ended => {
                drop(ended_tx);
                return Ok(session);
            }
            Heard::TimedOut => {
                let leg = if *session.connected.borrow() { "connected" } else { "not connected" };
                let answering = if session.running() { "answering" } else { "no longer answering the relay" };
                let states = session.states.lock().map(|s| s.join(" ")).unwrap_or_default();
                shared.failed(format!(
                    "{who}: heard {} of {others} others within {MEDIA_WAIT:?}; its leg {leg} (states: {states}), {answering}; errors: {:?}",
                    wait.heard.len(),
                    wait.errors,
                ));
                drop(ended_tx);
                return Ok(session);
            }
            Heard::GivenUp => {
                // The relay gave the leg up: a new one, within the same wait.
                shared.legs_given_up.fetch_add(1, Ordering::Relaxed);
                if let Some(p) = publisher {
                    p.abort();
                }
                let (back, old) = session.stop().await?;
                old.close().await;
                signal = back;
            }
        }
    }
}

/// How a participant's wait to hear the others ended.
enum Heard {
    /// Each of them.
    All,
    /// Its call ended first.
    Ended,
    /// Not all within [`MEDIA_WAIT`].
    TimedOut,
    /// The relay gave its leg up (`media_failed`).
    GivenUp,
}

/// A participant's wait to hear the others, across the legs it makes: whom it heard, by
/// when, and the server's errors meanwhile (nobody else reads them while the media runs).
struct Wait {
    heard: std::collections::BTreeSet<u32>,
    others: usize,
    deadline: tokio::time::Instant,
    errors: Vec<String>,
}

impl Wait {
    async fn until_heard<R: MediaRole>(
        &mut self,
        session: &mut MediaSession<R>,
        firsts: &mut tokio::sync::mpsc::UnboundedReceiver<PeerEvent>,
        end: &mut watch::Receiver<bool>,
    ) -> Heard {
        while self.heard.len() < self.others {
            tokio::select! {
                first = tokio::time::timeout_at(self.deadline, firsts.recv()) => match first {
                    Ok(Some(PeerEvent::FirstFrom(from, _))) => {
                        self.heard.insert(from);
                    }
                    _ => return Heard::TimedOut,
                },
                Some(event) = session.events.recv() => {
                    self.errors.extend(R::error(&event).map(|e| format!("{:?} {}", e.code, e.message)));
                    if R::leg_dropped(&event) {
                        self.errors.push("media_failed: the relay gave the leg up".into());
                        return Heard::GivenUp;
                    }
                }
                _ = end.wait_for(|e| *e) => return Heard::Ended,
            }
        }
        Heard::All
    }
}

/// Stop a participant's media: its publisher, its peer; the signalling comes back.
async fn off_media<R: MediaRole>(session: MediaSession<R>, stop: &AtomicBool) -> Result<Signal<R>, LoadError> {
    stop.store(true, Ordering::Relaxed);
    let (signal, peer) = session.stop().await?;
    peer.close().await;
    Ok(signal)
}

/// Sleep until `until` or the call's end, whichever first; true if it ended.
async fn until_or_end(until: Instant, end: &mut watch::Receiver<bool>) -> bool {
    let ended = tokio::time::timeout_at(until.into(), end.wait_for(|e| *e)).await;
    matches!(ended, Ok(Ok(_)))
}

/// One desk: call after call until `until`.
async fn desk(
    url: String,
    id: i64,
    token: String,
    mut rng: Rng,
    o: Options,
    shared: Arc<Shared>,
    until: Instant,
) -> Result<(), LoadError> {
    let mut d = Signal::<Desk>::connect(&url, p::Credential::DeskToken(token), None).await?;
    let wait = Duration::from_secs(10);
    while Instant::now() < until {
        d.send(&request("vi")).await?;
        let call = d.expect(ANSWER_WAIT, assigned_call, |_| {}).await?;
        let now = shared.calls.fetch_add(1, Ordering::Relaxed) + 1;
        shared.max_calls.fetch_max(now, Ordering::Relaxed);
        d.send(&p::DeskCommand::InviteResident { call }).await?;
        let link = d.expect(wait, invite_token, |_| {}).await?;
        let resident = tokio::spawn(resident(
            url.clone(),
            link,
            call,
            Rng::new((rng.unit() * 1e15) as u64),
            o.clone(),
            Arc::clone(&shared),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let session =
            on_media(d, Some(call), 2, None, &o, &shared, &stop, &format!("desk {id} in call {call}")).await?;
        // Talk: at least a few seconds, at most four times the mean, ending with the run.
        let talk = rng.exp(o.talk).clamp(o.talk / 4.0, o.talk * 4.0);
        let end_at = (Instant::now() + Duration::from_secs_f64(talk)).min(until.max(Instant::now()));
        tokio::time::sleep_until(end_at.into()).await;
        d = off_media(session, &stop).await?;
        d.send(&p::DeskCommand::EndCall { call }).await?;
        d.expect(wait, |e| matches!(e, p::DeskEvent::CallEnded { call: c, .. } if *c == call).then_some(()), |_| {})
            .await?;
        shared.end(call);
        *shared.ended.lock().await.entry(id).or_default() += 1;
        shared.calls.fetch_sub(1, Ordering::Relaxed);
        resident.await.map_err(|e| LoadError::Check(e.to_string()))??;
        // The next resident steps up to the counter.
        tokio::time::sleep(Duration::from_secs_f64(0.5 + rng.unit() * 2.0)).await;
    }
    d.close().await;
    Ok(())
}

/// The resident of one call: joins from the link with media; one in three drops (the tab
/// is killed) and comes back with the same link; leaves when the call ends.
async fn resident(
    url: String,
    link: String,
    call: u64,
    mut rng: Rng,
    o: Options,
    shared: Arc<Shared>,
) -> Result<(), LoadError> {
    let mut end = shared.end_of(call);
    let credential = || p::Credential::Invite(link.clone());
    let joined = |e: &p::ResidentEvent| match e {
        p::ResidentEvent::Joined { you, .. } => Some(*you),
        _ => None,
    };
    let wait = Duration::from_secs(10);
    let mut r = Signal::<Resident>::connect(&url, credential(), None).await?;
    let you = r.expect(wait, joined, |_| {}).await?;
    let mut stop = Arc::new(AtomicBool::new(false));
    let who = format!("resident of call {call}");
    let mut session = on_media(r, None, 2, Some(&mut end), &o, &shared, &stop, &who).await?;
    if rng.unit() < 1.0 / 3.0 {
        let drop_at = Instant::now() + Duration::from_secs_f64(2.0 + rng.unit() * o.talk / 4.0);
        if !until_or_end(drop_at, &mut end).await {
            let signal = off_media(session, &stop).await?;
            signal.close().await;
            tokio::time::sleep(Duration::from_secs_f64(1.0 + rng.unit() * 2.0)).await;
            if *end.borrow() {
                return Ok(());
            }
            let back = Signal::<Resident>::connect(&url, credential(), None).await;
            let mut r = match back {
                Ok(r) => r,
                // The call ended meanwhile: the link has nothing to join.
                Err(_) if *end.borrow() => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let again = r.expect(wait, joined, |_| {}).await?;
            if again != you {
                return Err(LoadError::Check(format!("{who} came back as participant {again}, not {you}")));
            }
            shared.resident_returns.fetch_add(1, Ordering::Relaxed);
            stop = Arc::new(AtomicBool::new(false));
            session = on_media(r, None, 2, Some(&mut end), &o, &shared, &stop, &format!("{who}, back")).await?;
        }
    }
    let _ = end.wait_for(|e| *e).await;
    let signal = off_media(session, &stop).await?;
    signal.close().await;
    Ok(())
}

/// One interpreter: available, accepts every offer, joins with media; in one call in five
/// its media leg drops and reconnects; available again after each call.
async fn interpreter(
    url: String,
    token: String,
    mut rng: Rng,
    o: Options,
    shared: Arc<Shared>,
    until: Instant,
) -> Result<(), LoadError> {
    let available = p::InterpreterCommand::SetAvailability { availability: p::Availability::Available };
    let mut i = Signal::<Interpreter>::connect(&url, p::Credential::Session(token), None).await?;
    i.send(&available).await?;
    let wait = Duration::from_secs(10);
    // Desks stop asking at `until`; their last calls end soon after.
    while Instant::now() < until + Duration::from_secs(5) {
        let Some(event) = next_event(&mut i, Duration::from_millis(500)).await? else { continue };
        let Some(offer) = offer_of(&event) else {
            if matches!(event, p::InterpreterEvent::Presence { presence: p::PresenceState::NotReadyMissedOffers }) {
                i.send(&available).await?;
            }
            continue;
        };
        i.send(&p::InterpreterCommand::Accept { offer }).await?;
        let assigned = |e: &p::InterpreterEvent| match e {
            p::InterpreterEvent::Assigned { call, .. } => Some(*call),
            _ => None,
        };
        let call = i.expect(wait, assigned, |_| {}).await?;
        let mut end = shared.end_of(call);
        let mut stop = Arc::new(AtomicBool::new(false));
        let who = format!("interpreter in call {call}");
        let mut session = on_media(i, Some(call), 2, Some(&mut end), &o, &shared, &stop, &who).await?;
        if rng.unit() < 0.2 {
            let drop_at = Instant::now() + Duration::from_secs_f64(2.0 + rng.unit() * o.talk / 4.0);
            if !until_or_end(drop_at, &mut end).await {
                let signal = off_media(session, &stop).await?;
                shared.leg_restarts.fetch_add(1, Ordering::Relaxed);
                stop = Arc::new(AtomicBool::new(false));
                session =
                    on_media(signal, Some(call), 2, Some(&mut end), &o, &shared, &stop, &format!("{who}, new leg"))
                        .await?;
            }
        }
        let _ = end.wait_for(|e| *e).await;
        i = off_media(session, &stop).await?;
        i.send(&available).await?;
    }
    i.close().await;
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Every call a desk saw end has exactly one call record, answered; nothing else.
async fn check_records(
    server: &Server,
    tenant: i64,
    since_ms: i64,
    want: &BTreeMap<i64, u64>,
) -> Result<Value, LoadError> {
    let total: u64 = want.values().sum();
    let mut last = Value::Null;
    for _ in 0..50 {
        let records = server.http.get(&format!("/api/call-records?since={since_ms}"), Some(&server.admin)).await?;
        let mut got: BTreeMap<i64, u64> = BTreeMap::new();
        let mut other = 0u64;
        for r in records.as_array().into_iter().flatten().filter(|r| r["tenant"] == tenant) {
            if r["outcome"] == "answered" {
                *got.entry(r["desk"].as_i64().unwrap_or_default()).or_default() += 1;
            } else {
                other += 1;
            }
        }
        let recorded: u64 = got.values().sum();
        if got == *want && other == 0 {
            return Ok(json!({"calls": total, "records": recorded, "matched": true}));
        }
        last = json!({"calls": total, "answered_records": recorded, "other_records": other});
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(LoadError::Check(format!("call records do not match the calls the desks ended: {last}")))
}

/// Least-squares slope of memory over time, KiB per minute.
fn slope_kib_per_minute(samples: &[Sample]) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) =
        (samples.iter().map(|s| s.at).sum::<f64>() / n, samples.iter().map(|s| s.rss_kib as f64).sum::<f64>() / n);
    let sxy: f64 = samples.iter().map(|s| (s.at - mx) * (s.rss_kib as f64 - my)).sum();
    let sxx: f64 = samples.iter().map(|s| (s.at - mx).powi(2)).sum();
    if sxx == 0.0 { 0.0 } else { sxy / sxx * 60.0 }
}

/// Seed, run, sample, check, report.
pub async fn run(server: &Server, o: &Options) -> Result<(Vec<String>, Value), LoadError> {
    let tenant = server::add_tenant(server, &format!("Endurance {}", std::process::id())).await?;
    let desks = server::add_desks(server, tenant, o.calls).await?;
    let pool = o.calls + o.calls.div_ceil(10);
    let who = (0..pool).map(|n| (format!("endure-{}-{n}", std::process::id()), "vi")).collect();
    let interpreters = server::add_interpreters(server, tenant, who).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let gone = || LoadError::Server("the server process is gone".into());
    let before = proc::usage(server.pid).ok_or_else(gone)?;
    let fds_before = proc::fds(server.pid);
    let shared = Arc::new(Shared { stats: Arc::new(Stats::default()), ..Shared::default() });
    let since_ms = now_ms() - 1000;
    let start = Instant::now();
    let until = start + Duration::from_secs(o.seconds);
    let url = server.ws_url();
    let mut tasks = Vec::new();
    for (n, token) in interpreters.into_iter().enumerate() {
        let task = interpreter(url.clone(), token, Rng::new(100 + n as u64), o.clone(), Arc::clone(&shared), until);
        tasks.push(tokio::spawn(task));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (n, (id, token)) in desks.into_iter().enumerate() {
        let task = desk(url.clone(), id, token, Rng::new(9000 + n as u64), o.clone(), Arc::clone(&shared), until);
        tasks.push(tokio::spawn(task));
        // Desks open one after another, as a morning starts.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The server's readings, all along.
    let sampling = {
        let (shared, pid, every) = (Arc::clone(&shared), server.pid, Duration::from_secs(o.sample.max(1)));
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(every);
            while let Some(u) = proc::usage(pid) {
                tick.tick().await;
                samples.push(Sample {
                    at: start.elapsed().as_secs_f64(),
                    rss_kib: u.rss / 1024,
                    fds: proc::fds(pid),
                    calls: shared.calls.load(Ordering::Relaxed),
                    cpu: u.cpu.as_secs_f64(),
                });
                if Instant::now() > until {
                    break;
                }
            }
            samples
        })
    };
    let failures = failures(tasks).await;
    let samples = sampling.await.map_err(|e| LoadError::Check(e.to_string()))?;
    // Everyone gone: what is left over.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = proc::usage(server.pid).ok_or_else(gone)?;
    let fds_after = proc::fds(server.pid);
    // What the relay dropped before it reached a leg: stale datagrams of legs gone, and
    // (with no attacker: never) checks over a leg's budget.
    let metrics = server.metrics().await;
    let dropped =
        |reason: &str| server::series(&metrics, &format!("kakehashi_media_dropped_total{{reason=\"{reason}\"}}"));
    let (unknown_source, rate_limited) = (dropped("unknown_source"), dropped("rate_limited"));
    let not_webrtc = dropped("not_webrtc");
    none_failed(&failures)?;
    let ended = shared.ended.lock().await.clone();
    let records = check_records(server, tenant, since_ms, &ended).await?;
    let warm: Vec<Sample> = samples.iter().copied().filter(|s| s.at >= o.warmup as f64).collect();
    let warm_first = warm.first().map_or(0, |s| s.rss_kib);
    let warm_max = warm.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let warm_last = warm.last().map_or(0, |s| s.rss_kib);
    let fds_warm = (warm.iter().map(|s| s.fds).min().unwrap_or(0), warm.iter().map(|s| s.fds).max().unwrap_or(0));
    let slope = slope_kib_per_minute(&warm);
    let calls_total: u64 = ended.values().sum();
    // Memory per call: the server's growth over the calls in progress at that moment.
    let busy: Vec<&Sample> = warm.iter().filter(|s| s.calls > 0).collect();
    let per_call_kib =
        busy.iter().map(|s| (s.rss_kib as f64 - (before.rss / 1024) as f64) / s.calls as f64).fold(f64::NAN, f64::min);
    let value = json!({
        "scenario": "endure",
        "calls_at_once": o.calls, "interpreters": pool, "seconds": o.seconds, "warmup": o.warmup, "talk": o.talk,
        "rates": {"video_pps": o.rates.video_pps, "video_bytes": o.rates.video_bytes, "audio_pps": o.rates.audio_pps},
        "calls": calls_total,
        "max_calls_at_once": shared.max_calls.load(Ordering::Relaxed),
        "media_joins": shared.joins.load(Ordering::Relaxed),
        "media_failures": shared.media_failures.load(Ordering::Relaxed),
        "resident_returns": shared.resident_returns.load(Ordering::Relaxed),
        "leg_restarts": shared.leg_restarts.load(Ordering::Relaxed),
        "legs_given_up": shared.legs_given_up.load(Ordering::Relaxed),
        "packets_received": shared.stats.ever.load(Ordering::Relaxed),
        "relay_dropped": {"unknown_source": unknown_source, "rate_limited": rate_limited, "not_webrtc": not_webrtc},
        "records": records,
        "server": {
            "rss_kib_before": before.rss / 1024,
            "rss_kib_after_warmup": warm_first,
            "rss_kib_max_after_warmup": warm_max,
            "rss_kib_at_end": warm_last,
            "rss_slope_kib_per_minute": (slope * 10.0).round() / 10.0,
            "rss_kib_after_all_calls": after.rss / 1024,
            "kib_per_call_least": if per_call_kib.is_finite() { per_call_kib.round() } else { 0.0 },
            "fds_before": fds_before, "fds_during": [fds_warm.0, fds_warm.1], "fds_after": fds_after,
            "cpu_seconds": ((after.cpu.as_secs_f64() - before.cpu.as_secs_f64()) * 10.0).round() / 10.0,
        },
        "samples": samples.iter().map(|s| json!([s.at.round(), s.rss_kib, s.fds, s.calls, (s.cpu * 10.0).round() / 10.0])).collect::<Vec<_>>(),
    });
    let lines = vec![
        format!(
            "endure: {} calls at once for {} s ({} interpreters), calls of {} s on average",
            o.calls, o.seconds, pool, o.talk
        ),
        format!(
            "  {} calls ended, at most {} at once; {} media joins, {} without media from the others; {} residents back by their link, {} interpreter legs reconnected; {} legs given up by the relay and made anew",
            calls_total,
            value["max_calls_at_once"],
            value["media_joins"],
            value["media_failures"],
            value["resident_returns"],
            value["leg_restarts"],
            value["legs_given_up"]
        ),
        format!(
            "  the relay dropped {unknown_source} datagrams from unknown sources, {rate_limited} over a budget \
             and {not_webrtc} that were no WebRTC"
        ),
        format!("  call records: {records}"),
        format!(
            "  server memory: {} KiB before, {} KiB after the warm-up, at most {} KiB, {} KiB at the end ({:+.1} KiB/min); {} KiB once every call ended",
            before.rss / 1024,
            warm_first,
            warm_max,
            warm_last,
            slope,
            after.rss / 1024
        ),
        format!("  open descriptors: {fds_before} before, {}–{} during, {fds_after} after", fds_warm.0, fds_warm.1),
    ];
    let mut problems = Vec::new();
    if shared.media_failures.load(Ordering::Relaxed) > 0 {
        let first = shared.first_failure.lock().unwrap_or_else(|e| e.into_inner()).clone().unwrap_or_default();
        problems.push(format!("{} joins without media; first: {first}", value["media_failures"]));
    }
    // The store's pool opens up to four connections on demand; a leak would be per call.
    if fds_after > fds_before + 6 {
        problems.push(format!("open descriptors grew from {fds_before} to {fds_after}"));
    }
    if !problems.is_empty() {
        for l in &lines {
            eprintln!("{l}");
        }
        return Err(LoadError::Check(problems.join("; ")));
    }
    Ok((lines, value))
}
