//! An offer rung on an interpreter's phone (ADR 0016): the bridge calls the number of an
//! interpreter reached by phone, says in Japanese that there is a request and its
//! language, and takes 1 (accept) or 2 (decline). Once the server says the offer is
//! theirs, the interpreter joins the call with the order's token, as its interpreter. An
//! offer that closes meanwhile (missed, taken elsewhere) is told and hung up on; no key
//! is a missed offer, the server's to count.

use std::time::Duration;

use tokio::sync::watch;

use super::play::{self, Played, play};
use super::waiting::Offer;
use super::{BridgeSettings, DialOut, KEY_WAIT, in_call};
use crate::dial::Dial;
use crate::gateway::{Answered, Gateway};
use crate::metrics::InState;
use crate::prompts::Prompt;

/// The server's order to ring an interpreter.
#[derive(Debug)]
pub(super) struct Order {
    pub(super) offer: u64,
    pub(super) token: String,
    pub(super) number: String,
    pub(super) language: String,
    pub(super) ring_secs: u32,
}

/// What the interpreter did.
enum Said {
    Key(char),
    Closed,
    Gone,
}

/// Play `prompts` in Japanese, then wait for a key, twice; an offer that closes stops it.
async fn ask(
    settings: &BridgeSettings,
    call: &mut Answered,
    prompts: &[Prompt],
    state: &mut watch::Receiver<Offer>,
) -> Said {
    let closed = |s: &Offer| *s == Offer::Closed;
    for _ in 0..2 {
        for prompt in prompts {
            let sound = settings.prompts.get(*prompt, "ja");
            tokio::select! {
                played = play(call, &sound) => match played {
                    Played::Key(k) => return Said::Key(k),
                    Played::Gone => return Said::Gone,
                    Played::Done => {}
                },
                _ = state.wait_for(closed) => return Said::Closed,
            }
        }
        tokio::select! {
            heard = play::key(call, KEY_WAIT) => match heard {
                Played::Key(k) => return Said::Key(k),
                Played::Gone => return Said::Gone,
                Played::Done => {}
            },
            _ = state.wait_for(closed) => return Said::Closed,
        }
    }
    Said::Gone
}

/// Ring the interpreter for `order` and act on their key.
pub(super) async fn ring(settings: BridgeSettings, gateway: &Gateway, out: DialOut, order: Order) {
    let metrics = settings.metrics.clone();
    let mut state = settings.waiting.offer_rung(order.offer);
    let mut leg = InState::new(&metrics, "out", "ringing");
    let ring = Duration::from_secs(u64::from(order.ring_secs)).min(out.ring);
    let dial = Dial { number: super::control::normalised(&order.number), trunk: out.trunk, credential: None, ring };
    let outcome = match gateway.dial(dial).await {
        Ok(mut call) => {
            leg.to("prompts");
            let mut prompts = vec![Prompt::OfferIntro];
            prompts.extend(Prompt::name_of(&order.language));
            prompts.push(Prompt::OfferKeys);
            match ask(&settings, &mut call, &prompts, &mut state).await {
                Said::Key('1') => accepted(&settings, call, &order, &mut state, leg).await,
                Said::Key(_) => {
                    settings.waiting.offer_answer(order.offer, false);
                    play::play_through(&mut call, &settings.prompts.get(Prompt::OfferDeclined, "ja")).await;
                    "declined"
                }
                Said::Closed => {
                    play::play_through(&mut call, &settings.prompts.get(Prompt::OfferGone, "ja")).await;
                    "offer_gone"
                }
                Said::Gone => "no_key",
            }
        }
        Err(e) => {
            tracing::info!(error = %e, "an interpreter's phone did not answer an offer");
            "no_answer"
        }
    };
    settings.waiting.offer_done(order.offer);
    metrics.calls.with_label_values(&["offer", outcome]).inc();
}

/// 1 was pressed: the interpreter joins if the offer is still theirs to take.
async fn accepted(
    settings: &BridgeSettings,
    mut call: Answered,
    order: &Order,
    state: &mut watch::Receiver<Offer>,
    leg: InState,
) -> &'static str {
    if !settings.waiting.offer_answer(order.offer, true) {
        play::play_through(&mut call, &settings.prompts.get(Prompt::Unavailable, "ja")).await;
        return "unavailable";
    }
    let settled = tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| *s != Offer::Open)).await;
    let taken = matches!(settled.map(|r| r.map(|s| *s)), Ok(Ok(Offer::Taken)));
    if !taken {
        play::play_through(&mut call, &settings.prompts.get(Prompt::OfferGone, "ja")).await;
        return "offer_gone";
    }
    play::play_through(&mut call, &settings.prompts.get(Prompt::Connecting, "ja")).await;
    if let Err(e) = in_call::join(settings, call, &order.token, leg).await {
        tracing::warn!(error = %e, "an interpreter by phone could not join the call");
    }
    "joined"
}
