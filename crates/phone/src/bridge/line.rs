//! A language line's caller (ADR 0016): a number that answers in one language, or with a
//! short menu of several (each item in its own language: "For English, press 2"). The
//! caller is welcomed, put in the queue of the line's desk, told where they stand (when it
//! changes, and again every [`REMIND`]), and joins the call when an interpreter answers;
//! or hears why not ("all interpreters are busy", "the counter is closed") and the line
//! hangs up. Hanging up while waiting abandons the request.

use std::time::Duration;

use tokio::sync::watch;

use super::play::{self, Played, play};
use super::waiting::Standing;
use super::{Bridge, KEY_WAIT, in_call};
use crate::gateway::Answered;
use crate::metrics::InState;
use crate::prompts::Prompt;

/// How often a waiting caller hears where they stand when nothing changed.
pub const REMIND: Duration = Duration::from_secs(30);
/// Most languages a line's menu offers (one key each).
pub const MENU_MAX: usize = 9;

/// A language line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The number callers dial (compared by its digits).
    pub number: String,
    /// The desk that answers it (its centre staff, on a desk console).
    pub desk: i64,
    /// Its language, or its menu's languages in order (key 1 for the first).
    pub languages: Vec<String>,
}

/// What a waiting caller hears about their place.
fn place(ringing: bool, ahead: u32) -> Vec<Prompt> {
    match (ringing, ahead) {
        (true, _) | (false, 0) => vec![Prompt::LineNext],
        (false, n @ 1..=9) => vec![Prompt::LineAhead, Prompt::Number(n as u8)],
        (false, _) => vec![Prompt::LineMany],
    }
}

/// How the wait ended.
enum Waited {
    /// Answered: join with this token.
    Answered(String),
    /// Told why not (and to hang up).
    Told(Prompt, &'static str),
    /// The caller hung up.
    Gone,
}

impl Bridge {
    /// Play prompts in `language` one after the other; a key does not stop them.
    async fn say(&self, call: &mut Answered, prompts: &[Prompt], language: &str) -> Played {
        for prompt in prompts {
            if play::play_through(call, &self.settings.prompts.get(*prompt, language)).await == Played::Gone {
                return Played::Gone;
            }
        }
        Played::Done
    }

    /// The caller's language: the line's own, or the key they press in its menu.
    async fn choose(&self, call: &mut Answered, line: &Line) -> Option<String> {
        if let [only] = &line.languages[..] {
            return Some(only.clone());
        }
        for _ in 0..2 {
            let mut key = None;
            for (i, language) in line.languages.iter().enumerate().take(MENU_MAX) {
                for prompt in [Prompt::MenuPress, Prompt::Number(i as u8 + 1)] {
                    match play(call, &self.settings.prompts.get(prompt, language)).await {
                        Played::Gone => return None,
                        Played::Key(k) => key = Some(k),
                        Played::Done => {}
                    }
                    if key.is_some() {
                        break;
                    }
                }
                if key.is_some() {
                    break;
                }
            }
            let key = match key {
                Some(k) => k,
                None => match play::key(call, KEY_WAIT).await {
                    Played::Key(k) => k,
                    Played::Gone => return None,
                    Played::Done => continue,
                },
            };
            let chosen = key.to_digit(10).and_then(|d| line.languages.get((d as usize).checked_sub(1)?));
            if let Some(language) = chosen {
                return Some(language.clone());
            }
        }
        None
    }

    /// Queue the caller and wait for the answer, telling them their place.
    async fn wait(&self, call: &mut Answered, desk: i64, language: &str, leg: &mut InState) -> Waited {
        if let Played::Gone = self.say(call, &[Prompt::LineWelcome], language).await {
            return Waited::Gone;
        }
        let Some((line, mut standing)) = self.settings.waiting.call(desk, language) else {
            return Waited::Told(Prompt::Unavailable, "unavailable");
        };
        leg.to("queued");
        let waited = self.hold(call, language, &mut standing).await;
        self.settings.waiting.hang_up(line);
        waited
    }

    async fn hold(&self, call: &mut Answered, language: &str, standing: &mut watch::Receiver<Standing>) -> Waited {
        let mut told: Option<Vec<Prompt>> = None;
        loop {
            let now = standing.borrow_and_update().clone();
            match now {
                Standing::Answered(token) => return Waited::Answered(token),
                Standing::Ended(p) => return ended(p),
                Standing::Lost => return Waited::Told(Prompt::Unavailable, "unavailable"),
                Standing::Asked => {}
                Standing::Waiting { ringing, ahead } => {
                    let prompts = place(ringing, ahead);
                    if told.as_ref() != Some(&prompts) {
                        // What they are told is cut short only by the answer.
                        tokio::select! {
                            played = self.say(call, &prompts, language) => if played == Played::Gone {
                                return Waited::Gone;
                            },
                            _ = standing.wait_for(Standing::settled) => continue,
                        }
                        told = Some(prompts);
                        continue;
                    }
                }
            }
            tokio::select! {
                changed = standing.changed() => if changed.is_err() {
                    return Waited::Told(Prompt::Unavailable, "unavailable");
                },
                heard = play::key(call, REMIND) => match heard {
                    Played::Gone => return Waited::Gone,
                    Played::Done => told = None,
                    Played::Key(_) => {}
                },
            }
        }
    }

    /// A language line's call, from its first ring to the call or the hang-up.
    pub(super) async fn line(&self, mut call: Answered, line: &Line) {
        let metrics = &self.settings.metrics;
        let mut leg = InState::new(metrics, "in", "prompts");
        let Some(language) = self.choose(&mut call, line).await else {
            metrics.calls.with_label_values(&["in", "gone"]).inc();
            return;
        };
        match self.wait(&mut call, line.desk, &language, &mut leg).await {
            Waited::Answered(token) => {
                metrics.calls.with_label_values(&["in", "joined"]).inc();
                play(&mut call, &self.settings.prompts.get(Prompt::Connecting, &language)).await;
                if let Err(e) = in_call::join(&self.settings, call, &token, leg).await {
                    tracing::warn!(error = %e, "a line caller could not join the call");
                }
            }
            Waited::Told(prompt, outcome) => {
                metrics.calls.with_label_values(&["in", outcome]).inc();
                self.say(&mut call, &[prompt], &language).await;
            }
            Waited::Gone => metrics.calls.with_label_values(&["in", "gone"]).inc(),
        }
    }
}

/// What a caller hears when the request ended unanswered, and the outcome counted.
fn ended(reason: kakehashi_protocol::LineEnd) -> Waited {
    use kakehashi_protocol::LineEnd as E;
    match reason {
        E::Closed => Waited::Told(Prompt::LineClosed, "closed"),
        E::Unserved | E::Expired | E::Cancelled => Waited::Told(Prompt::LineBusy, "unserved"),
        E::Misconfigured => {
            tracing::warn!("a language line names a desk or language the server does not have: fix [[phone.line]]");
            Waited::Told(Prompt::Unavailable, "unavailable")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_hears_their_place_as_a_number_from_one_to_nine() {
        assert_eq!(place(false, 0), [Prompt::LineNext]);
        assert_eq!(place(true, 4), [Prompt::LineNext]);
        assert_eq!(place(false, 3), [Prompt::LineAhead, Prompt::Number(3)]);
        assert_eq!(place(false, 9), [Prompt::LineAhead, Prompt::Number(9)]);
        assert_eq!(place(false, 10), [Prompt::LineMany]);
    }
}
