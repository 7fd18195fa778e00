//! The switchboard that joins phone calls to kakehashi's calls, as a client of the
//! server (ADR 0015). A call to the PIN line hears "enter your PIN" (Japanese, then
//! English), keys it, and the bridge redeems it over its control connection; with the seat's
//! token the phone leg joins the call in the `resident` role, as party `phone`, with a
//! WebRTC peer of its own: its voice published as Opus, the call's sound mixed for it
//! ([`in_call`]). The bridge also holds a control connection ([`hold`]) over which the
//! server orders calls out for desks, and over which language lines' callers wait in the
//! queue of their line's desk ([`line`], ADR 0016).

mod control;
mod in_call;
mod line;
mod offer;
mod play;
mod rooms;
mod waiting;

pub use control::{DialOut, hold};
pub use line::{Line, MENU_MAX, REMIND};
pub use rooms::Rooms;
pub use waiting::{Offer, Standing, Waiting};

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::dtmf::{Entered, Entry};
use crate::gateway::{Answered, Refusal, Switchboard};
use crate::metrics::{InState, PhoneMetrics};
use crate::prompts::{Prompt, Prompts};
use play::{Played, play};

/// Wrong PINs a caller may key before the line gives up.
pub const PIN_TRIES: u32 = 3;
/// How long the line waits for a key before it asks again (and, the second time, hangs up).
pub const KEY_WAIT: Duration = Duration::from_secs(15);
/// The longest PIN taken (the server's are six digits).
const PIN_MAX: usize = 12;

/// Where the bridge finds the server, and what it answers.
#[derive(Clone)]
pub struct BridgeSettings {
    /// The server's WebSocket (`ws://127.0.0.1:8080/ws`).
    pub server: String,
    /// The gateway's secret (the server's `phone_gateway_token`).
    pub gateway_token: String,
    /// The number a trunk calls for the PIN line (compared by digits alone).
    pub pin_line: String,
    /// Language lines.
    pub lines: Vec<Line>,
    /// Line callers waiting on the control connection.
    pub waiting: Arc<Waiting>,
    /// The calls the phones are in, one mix each.
    pub rooms: Arc<Rooms>,
    /// The address the bridge's WebRTC peers bind (where the relay can reach them).
    pub media_ip: IpAddr,
    /// What callers are told.
    pub prompts: Prompts,
    /// `kakehashi_phone_*`.
    pub metrics: PhoneMetrics,
}

impl std::fmt::Debug for BridgeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeSettings")
            .field("server", &self.server)
            .field("pin_line", &self.pin_line)
            .field("lines", &self.lines)
            .field("media_ip", &self.media_ip)
            .finish_non_exhaustive()
    }
}

/// The bridge.
#[derive(Debug)]
pub struct Bridge {
    settings: BridgeSettings,
}

/// The digits of a number (`03-1234-5678` and `0312345678` are one line).
fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// How a PIN call ended before it joined.
#[derive(Debug)]
enum Outcome {
    /// Joined with this seat token, in this language.
    Seat { token: String, language: String },
    /// The caller hung up, or stopped keying.
    Gone,
    /// Told why, and to hang up.
    Refused(Prompt),
}

impl Bridge {
    /// A bridge with these settings.
    pub fn new(settings: BridgeSettings) -> Bridge {
        Bridge { settings }
    }

    /// A prompt in Japanese then English: the PIN line does not know the caller's language
    /// until the PIN says it. A key cuts it short.
    async fn both(&self, call: &mut Answered, prompt: Prompt) -> Played {
        for lang in ["ja", "en"] {
            let played = play(call, &self.settings.prompts.get(prompt, lang)).await;
            if !matches!(played, Played::Done) {
                return played;
            }
        }
        Played::Done
    }

    /// The PIN, keyed (ended by `#`), or `None` when the caller is gone or silent.
    async fn pin(&self, call: &mut Answered, prompt: Prompt) -> Option<String> {
        let mut entry = Entry::new(PIN_MAX);
        let mut first = match self.both(call, prompt).await {
            Played::Done => None,
            Played::Key(k) => Some(k),
            Played::Gone => return None,
        };
        let mut asked = 1;
        loop {
            let key = match first.take() {
                Some(k) => k,
                None => match play::key(call, KEY_WAIT).await {
                    Played::Key(k) => k,
                    Played::Gone => return None,
                    Played::Done if asked < 2 && entry.so_far().is_empty() => {
                        asked += 1;
                        match self.both(call, prompt).await {
                            Played::Done => continue,
                            Played::Key(k) => k,
                            Played::Gone => return None,
                        }
                    }
                    Played::Done => return None,
                },
            };
            match entry.key(key) {
                Entered::Done(pin) if !pin.is_empty() => return Some(pin),
                Entered::More | Entered::Done(_) => {}
                Entered::TooLong => return Some(String::new()),
            }
        }
    }

    /// Ask for the PIN until it opens a seat, at most [`PIN_TRIES`] times.
    async fn redeem(&self, call: &mut Answered) -> Outcome {
        let mut prompt = Prompt::PinEnter;
        for _ in 0..PIN_TRIES {
            let Some(pin) = self.pin(call, prompt).await else { return Outcome::Gone };
            match redeem(&self.settings, &pin).await {
                Ok(Some((token, language))) => return Outcome::Seat { token, language },
                Ok(None) => prompt = Prompt::PinWrong,
                Err(e) => {
                    tracing::warn!(error = e, "a PIN could not be redeemed");
                    return Outcome::Refused(Prompt::Unavailable);
                }
            }
        }
        Outcome::Refused(Prompt::PinRefused)
    }
}

/// Redeem `pin` over the control connection: the seat's token and the call's language,
/// or `None` when the PIN opens nothing; an error when the server cannot be asked now.
async fn redeem(settings: &BridgeSettings, pin: &str) -> Result<Option<(String, String)>, &'static str> {
    if pin.is_empty() {
        return Ok(None);
    }
    let asked = settings.waiting.redeem(pin).ok_or("the bridge is not connected to the server")?;
    match tokio::time::timeout(Duration::from_secs(10), asked).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(_)) => Err("the connection to the server was lost"),
        Err(_) => Err("the server did not answer in 10 s"),
    }
}

#[async_trait::async_trait]
impl Switchboard for Bridge {
    fn admit(&self, number: &str) -> Result<(), Refusal> {
        let called = digits(number);
        if !called.is_empty()
            && (called == digits(&self.settings.pin_line)
                || self.settings.lines.iter().any(|l| digits(&l.number) == called))
        {
            Ok(())
        } else {
            Err(Refusal { status: 404, reason: "no line on this number".into() })
        }
    }

    async fn run(&self, mut call: Answered) {
        let called = digits(&call.number);
        if let Some(line) = self.settings.lines.iter().find(|l| digits(&l.number) == called) {
            return self.line(call, line).await;
        }
        let metrics = &self.settings.metrics;
        let leg = InState::new(metrics, "in", "prompts");
        let outcome = self.redeem(&mut call).await;
        let said = match &outcome {
            Outcome::Seat { .. } => "joined",
            Outcome::Refused(Prompt::Unavailable) => "unavailable",
            Outcome::Refused(_) => "pin_refused",
            Outcome::Gone => "gone",
        };
        metrics.calls.with_label_values(&["in", said]).inc();
        match outcome {
            Outcome::Seat { token, language } => {
                play(&mut call, &self.settings.prompts.get(Prompt::Connecting, &language)).await;
                if let Err(e) = in_call::join(&self.settings, call, &token, leg).await {
                    tracing::warn!(error = %e, "a phone leg could not join its call");
                }
            }
            Outcome::Refused(prompt) => {
                self.both(&mut call, prompt).await;
            }
            Outcome::Gone => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_its_digits() {
        assert_eq!(digits("+81 3-1234-5678"), "81312345678");
        assert_eq!(digits("(03) 1234 5678"), digits("0312345678"));
    }
}
