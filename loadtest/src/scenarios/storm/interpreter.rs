//! A simulated interpreter: available, rung, thinks, mostly accepts (sometimes declines,
//! sometimes lets it ring out), talks, wraps up, and is available again.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kakehashi_client::{Interpreter, Signal};
use kakehashi_protocol as p;

use super::{Options, Rng, Shared};
use crate::LoadError;
use crate::scenarios::calls::{next_event, reconnect};

type Console = Signal<Interpreter>;

fn available() -> p::InterpreterCommand {
    p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }
}

/// What the interpreter is in the middle of.
#[derive(Debug, Default)]
struct Doing {
    /// Became ready at, and whether requests in the language were waiting then.
    ready_at: Option<(Instant, bool)>,
    accepted_at: Option<Instant>,
    /// An offer to accept at that time.
    pending_accept: Option<(u64, Instant)>,
    /// A call to end at that time.
    call_until: Option<(u64, Instant)>,
    wrap_until: Option<Instant>,
}

/// One interpreter until the end of the run (and until the desks are done).
#[allow(clippy::too_many_arguments)]
pub(super) async fn interpreter(
    url: String,
    token: String,
    language: usize,
    mut rng: Rng,
    o: Options,
    shared: Arc<Shared>,
    until: Instant,
) -> Result<(), LoadError> {
    let credential = || p::Credential::Session(token.clone());
    let mut s = Console::connect(&url, credential(), None).await?;
    s.send(&available()).await?;
    let queue = |shared: &Shared| shared.waiting[language].load(Ordering::Relaxed) > 0;
    let mut d = Doing { ready_at: Some((Instant::now(), queue(&shared))), ..Doing::default() };
    // After the end, a call in progress is finished and a ringing offer declined.
    let hard_stop = until + Duration::from_secs_f64(10.0 * o.talk + 60.0);
    while (Instant::now() < until
        || d.call_until.is_some()
        || d.pending_accept.is_some()
        || shared.desks_left.load(Ordering::Relaxed) > 0)
        && Instant::now() < hard_stop
    {
        // The next thing this person does by themselves.
        let next = [d.pending_accept.map(|p| p.1), d.call_until.map(|c| c.1), d.wrap_until].into_iter().flatten().min();
        let wait = next.map_or(Duration::from_millis(500), |t| t.saturating_duration_since(Instant::now()));
        match next_event(&mut s, wait.clamp(Duration::from_millis(1), Duration::from_millis(500))).await? {
            Some(p::InterpreterEvent::Offer { offer, .. }) => {
                let now = Instant::now();
                if let Some((at, queue)) = d.ready_at.take()
                    && queue
                {
                    shared.sample(&shared.ready_to_offer, now - at).await;
                }
                let roll = if Instant::now() >= until { 0.0 } else { rng.unit() };
                if roll < 0.05 {
                    shared.declined.fetch_add(1, Ordering::Relaxed);
                    s.send(&p::InterpreterCommand::Decline { offer }).await?;
                } else if roll < 0.08 {
                    shared.missed.fetch_add(1, Ordering::Relaxed);
                } else {
                    let think = Duration::from_secs_f64(0.2 * o.think + rng.exp(0.8 * o.think));
                    d.pending_accept = Some((offer, now + think));
                }
            }
            Some(p::InterpreterEvent::Assigned { call, .. }) => {
                if let Some(at) = d.accepted_at.take() {
                    shared.sample(&shared.accept_to_assigned, at.elapsed()).await;
                }
                d.call_until = Some((call, Instant::now() + Duration::from_secs_f64(rng.exp(o.talk))));
                // Churn: the connection drops in the call and comes back with its token.
                if o.churn && rng.unit() < 0.1 {
                    let pause = Duration::from_millis(200 + (rng.unit() * 800.0) as u64);
                    s = reconnect(s, &url, credential(), pause).await?;
                    shared.reconnects.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(p::InterpreterEvent::OfferClosed { offer, .. }) if d.pending_accept.is_some_and(|p| p.0 == offer) => {
                d.pending_accept = None;
            }
            Some(p::InterpreterEvent::Presence { presence: p::PresenceState::NotReadyMissedOffers }) => {
                d.ready_at = Some((Instant::now(), queue(&shared)));
                s.send(&available()).await?;
            }
            Some(p::InterpreterEvent::CallEnded { .. }) => {
                d.call_until = None;
                d.wrap_until = Some(Instant::now() + Duration::from_secs_f64(0.5 * o.think));
            }
            _ => {}
        }
        let now = Instant::now();
        // At the end of the run, calls in progress end within a few seconds.
        if now >= until
            && let Some((call, at)) = d.call_until
            && at > until + Duration::from_secs(5)
        {
            d.call_until = Some((call, until + Duration::from_secs(5)));
        }
        if let Some((offer, at)) = d.pending_accept
            && at <= now
        {
            d.pending_accept = None;
            d.accepted_at = Some(Instant::now());
            s.send(&p::InterpreterCommand::Accept { offer }).await?;
        }
        if let Some((call, at)) = d.call_until
            && at <= now
        {
            d.call_until = None;
            s.send(&p::InterpreterCommand::EndCall { call }).await?;
        }
        if let Some(at) = d.wrap_until
            && at <= now
        {
            d.wrap_until = None;
            // Ready: from here to the next offer is the system's, if requests wait.
            d.ready_at = Some((Instant::now(), queue(&shared)));
            s.send(&available()).await?;
        }
    }
    s.close().await;
    Ok(())
}
