//! A simulated desk: asks for an interpreter now and then, in a language drawn by
//! demand; waits, gives up after a while, talks, records the outcome; with churn it
//! drops and resumes while it waits and invites residents who join and leave.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kakehashi_client::{Desk, Resident, Signal};
use kakehashi_protocol as p;

use super::{LANGUAGES, Options, Rng, Shared};
use crate::LoadError;
use crate::scenarios::calls::{next_event, reconnect, request};

/// How the desk's requests ended: calls ended, requests cancelled, unserved, expired.
type Endings = [u64; 4];

/// The language a desk's request is counted as waiting in: only while nobody is being
/// rung for it (a request being rung is nobody else's to take).
struct Counted<'a> {
    shared: &'a Shared,
    language: Option<usize>,
}

impl Counted<'_> {
    fn set(&mut self, now: Option<usize>) {
        if self.language != now {
            if let Some(l) = self.language.take() {
                self.shared.waiting[l].fetch_sub(1, Ordering::Relaxed);
            }
            if let Some(l) = now {
                self.shared.waiting[l].fetch_add(1, Ordering::Relaxed);
            }
            self.language = now;
        }
    }
}

/// A resident who joins from the invite link, stays a while and leaves.
fn resident(url: String, token: String, stay: Duration) {
    tokio::spawn(async move {
        if let Ok(mut r) = Signal::<Resident>::connect(&url, p::Credential::Invite(token), None).await {
            let joined = |e: &p::ResidentEvent| matches!(e, p::ResidentEvent::Joined { .. }).then_some(());
            let _ = r.expect(Duration::from_secs(10), joined, |_| {}).await;
            tokio::time::sleep(stay).await;
            let _ = r.send(&p::ResidentCommand::Leave {}).await;
            r.close().await;
        }
    });
}

/// One desk until the end of the run, then until its calls have ended.
#[allow(clippy::too_many_arguments)]
pub(super) async fn desk(
    url: String,
    id: i64,
    token: String,
    mut rng: Rng,
    o: Options,
    shared: Arc<Shared>,
    until: Instant,
) -> Result<(), LoadError> {
    let credential = || p::Credential::DeskToken(token.clone());
    let mut s = Signal::<Desk>::connect(&url, credential(), None).await?;
    let mut ended: Endings = [0; 4];
    let mut counted = Counted { shared: &shared, language: None };
    let per_desk = o.rate / o.desks.max(1) as f64;
    let gap = |rng: &mut Rng| Duration::from_secs_f64(rng.exp(1.0 / per_desk.max(1e-6)));
    let mut next_request = Instant::now() + gap(&mut rng);
    // The request waiting: its number, when the desk gives up, its language.
    let mut waiting: Option<(u64, Instant, usize)> = None;
    let mut sent_at: Option<(Instant, usize)> = None;
    let mut in_call = false;
    let patience = Duration::from_secs_f64(10.0 * o.think + 3.0 * o.talk);
    while Instant::now() < until {
        let idle = waiting.is_none() && sent_at.is_none() && !in_call;
        let wait =
            if idle { next_request.saturating_duration_since(Instant::now()) } else { Duration::from_millis(500) };
        match next_event(&mut s, wait.clamp(Duration::from_millis(1), Duration::from_millis(500))).await? {
            Some(p::DeskEvent::Queued { request, ringing, .. }) => {
                if let Some((at, l)) = sent_at.take() {
                    if ringing {
                        shared.sample(&shared.request_to_offer, at.elapsed()).await;
                    }
                    waiting = Some((request, Instant::now() + patience, l));
                    counted.set((!ringing).then_some(l));
                }
            }
            Some(p::DeskEvent::Position { ringing, .. }) => {
                if let Some((_, _, l)) = waiting {
                    counted.set((!ringing).then_some(l));
                }
            }
            Some(p::DeskEvent::Assigned { call, .. }) => {
                waiting = None;
                counted.set(None);
                in_call = true;
                let calls = shared.calls.fetch_add(1, Ordering::Relaxed) + 1;
                shared.max_calls.fetch_max(calls, Ordering::Relaxed);
                shared.answered.fetch_add(1, Ordering::Relaxed);
                // Churn: a remote resident joins from the link, and leaves again.
                if o.churn && rng.unit() < 0.2 {
                    s.send(&p::DeskCommand::InviteResident { call }).await?;
                }
            }
            Some(p::DeskEvent::Invite { url: link, .. }) => {
                let token = link.rsplit('/').next().unwrap_or_default().to_string();
                shared.residents.fetch_add(1, Ordering::Relaxed);
                resident(url.clone(), token, Duration::from_secs_f64(rng.unit() * o.talk));
            }
            Some(p::DeskEvent::CallEnded { call, .. }) => {
                in_call = false;
                ended[0] += 1;
                shared.calls.fetch_sub(1, Ordering::Relaxed);
                let outcome = p::OutcomeCategory::Resolved;
                s.send(&p::DeskCommand::RecordOutcome {
                    call,
                    outcome,
                    topics: vec![],
                    residence: None,
                    referral: None,
                    note: None,
                })
                .await?;
                next_request = Instant::now() + gap(&mut rng);
            }
            Some(
                e @ (p::DeskEvent::Unserved { .. } | p::DeskEvent::Expired { .. } | p::DeskEvent::Cancelled { .. }),
            ) => {
                waiting = None;
                counted.set(None);
                sent_at = None;
                match e {
                    p::DeskEvent::Cancelled { .. } => ended[1] += 1,
                    p::DeskEvent::Unserved { .. } => {
                        ended[2] += 1;
                        shared.unserved.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => ended[3] += 1,
                }
                next_request = Instant::now() + gap(&mut rng);
            }
            // A `not_allowed` error is a cancel that came too late: the request was
            // answered meanwhile.
            _ => {}
        }
        let now = Instant::now();
        if let Some((request, give_up, _)) = waiting
            && give_up <= now
        {
            shared.abandoned.fetch_add(1, Ordering::Relaxed);
            s.send(&p::DeskCommand::CancelRequest { request }).await?;
            waiting = None;
            counted.set(None);
        }
        // Churn: the connection drops while waiting and comes back with its token; the
        // request keeps its place.
        if o.churn && waiting.is_some() && rng.unit() < 0.02 {
            let pause = Duration::from_millis(100 + (rng.unit() * 500.0) as u64);
            s = reconnect(s, &url, credential(), pause).await?;
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        if waiting.is_none() && sent_at.is_none() && !in_call && now >= next_request {
            let l = rng.zipf(o.languages.clamp(1, LANGUAGES.len()));
            sent_at = Some((Instant::now(), l));
            shared.requests.fetch_add(1, Ordering::Relaxed);
            s.send(&request(LANGUAGES[l])).await?;
        }
    }
    // Calls in progress end before the desk goes (the interpreters end them); a request
    // still waiting is cancelled.
    if let Some((request, _, _)) = waiting.take() {
        s.send(&p::DeskCommand::CancelRequest { request }).await?;
        counted.set(None);
    }
    let limit = Duration::from_secs_f64(10.0 * o.talk + 30.0);
    wind_down(&mut s, &mut ended, &shared, (in_call, sent_at.is_some()), limit).await?;
    shared.endings.lock().await.insert(id, ended);
    shared.desks_left.fetch_sub(1, Ordering::Relaxed);
    s.close().await;
    Ok(())
}

/// After the run: wait (up to `limit`) until the call in progress and any request just
/// sent have ended.
async fn wind_down(
    s: &mut Signal<Desk>,
    ended: &mut Endings,
    shared: &Shared,
    (mut in_call, mut sent): (bool, bool),
    limit: Duration,
) -> Result<(), LoadError> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let Some(event) = next_event(s, Duration::from_millis(500)).await? else {
            if !in_call && !sent {
                break;
            }
            continue;
        };
        match event {
            p::DeskEvent::Assigned { .. } => in_call = true,
            p::DeskEvent::CallEnded { .. } => {
                ended[0] += 1;
                in_call = false;
                shared.calls.fetch_sub(1, Ordering::Relaxed);
            }
            p::DeskEvent::Cancelled { .. } => {
                ended[1] += 1;
                sent = false;
            }
            p::DeskEvent::Unserved { .. } => {
                ended[2] += 1;
                sent = false;
            }
            p::DeskEvent::Expired { .. } => {
                ended[3] += 1;
                sent = false;
            }
            // Sent just before the end: cancel it, and wait for that to end it.
            p::DeskEvent::Queued { request, .. } => s.send(&p::DeskCommand::CancelRequest { request }).await?,
            _ => {}
        }
    }
    Ok(())
}
