//! `rate`: requests per second through the dispatch path. Desks ask for an interpreter
//! at a steady pace across them; each request is rung at once (idle interpreters of its
//! language are always there), the desk measures request → offer (its `queued {ringing:
//! true}`, sent in the same step as the interpreter's `offer`), withdraws the request and
//! asks again at its next turn. Interpreters stay available and let offers close. On a
//! cluster the desks and interpreters are spread over the nodes: every request crosses
//! the command stream to the writer, and its events come back through Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kakehashi_client::{Desk, Interpreter, Signal};
use kakehashi_protocol as p;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::LoadError;
use crate::costs::Costs;
use crate::report::Samples;
use crate::scenarios::calls::{failures, next_event, none_failed, request};
use crate::scenarios::storm::LANGUAGES;
use crate::server::{self, Server};

/// The scenario's knobs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Desks.
    pub desks: usize,
    /// Interpreters, spread over the languages.
    pub interpreters: usize,
    /// Languages.
    pub languages: usize,
    /// Requests per second over all desks.
    pub rate: f64,
    /// Seconds of traffic.
    pub seconds: u64,
}

/// What the desks measured.
#[derive(Default)]
struct Measured {
    request_to_offer: Samples,
    /// From the request's turn (when the desk was due to ask) to its offer: with the
    /// desk's own lateness, which a saturated machine adds before the request is sent
    /// (no coordinated omission).
    turn_to_offer: Samples,
    /// From the withdrawal to its `cancelled`, which waits for the call record's commit.
    withdraw_to_cancelled: Samples,
    /// Requests sent, rung at once, and not rung at once (every interpreter was busy).
    sent: u64,
    rung: u64,
    queued: u64,
    /// When the last desk finished its turns.
    last_done: Option<Instant>,
}

/// Seed, run, report.
pub async fn run(
    server: &Server,
    urls: &[String],
    costs: &Costs<'_>,
    o: &Options,
) -> Result<(Vec<String>, Value), LoadError> {
    let tenant = server::add_tenant(server, &format!("Rate {}", std::process::id())).await?;
    let desks = server::add_desks(server, tenant, o.desks).await?;
    let langs = o.languages.clamp(1, LANGUAGES.len());
    let who = (0..o.interpreters).map(|n| (format!("rate-{}-{n}", std::process::id()), LANGUAGES[n % langs])).collect();
    let tokens = server::add_interpreters(server, tenant, who).await?;
    // Long enough for the desks to connect and run.
    let until = Instant::now() + Duration::from_secs(o.seconds + 15);
    let mut tasks = Vec::new();
    for (n, token) in tokens.into_iter().enumerate() {
        tasks.push(tokio::spawn(interpreter(urls[n % urls.len()].clone(), token, until)));
    }
    // Interpreters available everywhere before the first request.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let measured = Arc::new(Mutex::new(Measured::default()));
    // Each desk asks every `desks / rate` seconds, the desks' turns spread evenly; they
    // begin together once every desk is connected (connecting is not what is measured).
    let every = Duration::from_secs_f64(o.desks.max(1) as f64 / o.rate.max(1e-3));
    let go = Arc::new(tokio::sync::Barrier::new(o.desks + 1));
    for (n, (_, token)) in desks.into_iter().enumerate() {
        let turn = Turns { offset: every.mul_f64(n as f64 / o.desks.max(1) as f64), every, seconds: o.seconds };
        let language = LANGUAGES[n % langs];
        let node = (n + 1) % urls.len();
        let at = (urls[node].clone(), node);
        tasks.push(tokio::spawn(desk(at, token, language, turn, Arc::clone(&go), Arc::clone(&measured))));
    }
    go.wait().await;
    let began = Instant::now();
    // What the traffic costs, over its seconds (the desks' turns run meanwhile).
    let before = costs.read().await;
    tokio::time::sleep(Duration::from_secs(o.seconds)).await;
    let spent = costs.between(&before, &costs.read().await);
    let failures = failures(tasks).await;
    let m = measured.lock().await;
    // Over the time the desks took, when they fell behind their turns.
    let took = m.last_done.map_or(0.0, |t| t.duration_since(began).as_secs_f64()).max(o.seconds.max(1) as f64);
    let achieved = m.sent as f64 / took;
    let value = json!({
        "scenario": "rate", "nodes": urls.len(), "desks": o.desks, "interpreters": o.interpreters,
        "languages": langs, "seconds": o.seconds, "rate_asked": o.rate,
        "requests": m.sent, "requests_per_second": crate::report::round(achieved),
        "seconds_taken": crate::report::round(took), "turn_to_offer": m.turn_to_offer.json(),
        "withdraw_to_cancelled": m.withdraw_to_cancelled.json(),
        "rung_at_once": m.rung, "queued": m.queued,
        "request_to_offer": m.request_to_offer.json(), "failures": failures, "costs": spent.1,
    });
    let lines = vec![
        format!(
            "rate: {} desks, {} interpreters, {} languages, {} node(s), {} s",
            o.desks,
            o.interpreters,
            langs,
            urls.len(),
            o.seconds
        ),
        format!(
            "  {} requests in {took:.1} s ({achieved:.0}/s, {} asked): {} rung at once, {} queued",
            m.sent, o.rate, m.rung, m.queued
        ),
        format!("  request → offer: {}", m.request_to_offer.line()),
        format!("  turn → offer (the desk's lateness too): {}", m.turn_to_offer.line()),
        format!("  withdrawal → cancelled (its record committed): {}", m.withdraw_to_cancelled.line()),
    ];
    let lines = [lines, spent.0].concat();
    if !failures.is_empty() {
        // Which nodes' desks failed, and what the others had done by then.
        let on = |i: usize| failures.iter().filter(|f| f.ends_with(&format!("on node {i}"))).count();
        let by_node: Vec<String> = (0..urls.len()).map(|i| format!("node {i}: {}", on(i))).collect();
        eprintln!("failed desks by node: {}; requests answered: {}", by_node.join(", "), m.sent);
    }
    none_failed(&failures)?;
    Ok((lines, value))
}

/// An interpreter available until `until`, letting every offer close.
async fn interpreter(url: String, token: String, until: Instant) -> Result<(), LoadError> {
    let mut s = Signal::<Interpreter>::connect(&url, p::Credential::Session(token), None).await?;
    s.send(&p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await?;
    while Instant::now() < until {
        next_event(&mut s, Duration::from_millis(500)).await?;
    }
    s.close().await;
    Ok(())
}

/// A desk's turns: from `offset` after the start, every `every`, for `seconds`.
#[derive(Clone, Copy)]
struct Turns {
    offset: Duration,
    every: Duration,
    seconds: u64,
}

/// A desk on node `node` (its signalling address `url`) asking for `language` at its
/// turns once everyone passed `go`: each request's time to its offer, then withdrawn.
async fn desk(
    (url, node): (String, usize),
    token: String,
    language: &'static str,
    turns: Turns,
    go: Arc<tokio::sync::Barrier>,
    measured: Arc<Mutex<Measured>>,
) -> Result<(), LoadError> {
    let connected = Signal::<Desk>::connect(&url, p::Credential::DeskToken(token), None).await;
    // Every desk passes the barrier, connected or not, so that none waits for ever.
    go.wait().await;
    let mut s = connected?;
    let start = Instant::now();
    let (mut turn, end, every) = (start + turns.offset, start + Duration::from_secs(turns.seconds), turns.every);
    while turn < end {
        tokio::time::sleep_until(turn.into()).await;
        let due = turn;
        turn += every;
        let sent = Instant::now();
        s.send(&request(language)).await?;
        let (request, ringing) = loop {
            match next_event(&mut s, Duration::from_secs(10)).await? {
                Some(p::DeskEvent::Queued { request, ringing, .. }) => break (request, ringing),
                Some(p::DeskEvent::Error(e)) => return Err(LoadError::Check(format!("a request refused: {e:?}"))),
                Some(_) => {}
                None => {
                    let asked = start.elapsed().as_secs_f64();
                    return Err(LoadError::Check(format!(
                        "no answer within 10 s to a request of {asked:.1} s in, on node {node}"
                    )));
                }
            }
        };
        let took = sent.elapsed();
        {
            let mut m = measured.lock().await;
            m.sent += 1;
            if ringing {
                m.rung += 1;
                m.request_to_offer.add(took);
                m.turn_to_offer.add(due.elapsed());
            } else {
                m.queued += 1;
            }
        }
        let withdrawn = Instant::now();
        s.send(&p::DeskCommand::CancelRequest { request }).await?;
        loop {
            match next_event(&mut s, Duration::from_secs(10)).await? {
                Some(p::DeskEvent::Cancelled { .. }) => {
                    measured.lock().await.withdraw_to_cancelled.add(withdrawn.elapsed());
                    break;
                }
                Some(p::DeskEvent::Error(e)) => return Err(LoadError::Check(format!("a withdrawal refused: {e:?}"))),
                Some(_) => {}
                None => return Err(LoadError::Check("no answer to a withdrawal within 10 s".into())),
            }
        }
    }
    s.close().await;
    let mut m = measured.lock().await;
    m.last_done = Some(m.last_done.map_or(Instant::now(), |t| t.max(Instant::now())));
    Ok(())
}
