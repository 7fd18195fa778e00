//! The bridge's control connection to the server (the `gateway` role), held for as long
//! as the bridge runs: while it is up the server knows a gateway is there and sends it
//! orders to call a number for a seat (a desk's `dial_out`). Each order is placed through
//! the trunk; an answered call hears who is calling (in the call's language) and joins
//! its call with the seat's token, one that fails (or hangs up during the greeting) is
//! reported with why. Lost connections are made again, backing off to 30 s.
//!
//! While a trunk the bridge registers with refuses it or cannot be reached, the bridge
//! lets go of the connection: the server then knows phone calls cannot be made, and
//! desks are told so when they try (`kakehashi_phone_registered` says which trunk).

use std::sync::Arc;
use std::time::Duration;

use kakehashi_client::{ClientError, Gateway as GatewayRole, Signal};
use kakehashi_protocol as p;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::play::{Played, play_through};
use super::{BridgeSettings, in_call};
use crate::dial::{Dial, DialError};
use crate::gateway::Gateway;
use crate::metrics::{InState, PhoneMetrics};
use crate::prompts::Prompt;
use crate::register::Registered;

/// Where calls out go.
#[derive(Clone, Copy, Debug)]
pub struct DialOut {
    /// The trunk's or PBX's SIP address.
    pub trunk: std::net::SocketAddr,
    /// How long a call may ring.
    pub ring: Duration,
}

/// The number as the trunk takes it: digits, and a `+` in front if written.
pub(super) fn normalised(number: &str) -> String {
    let plus = number.trim_start().starts_with('+');
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if plus { format!("+{digits}") } else { digits }
}

/// Why, as the desk is told.
fn failure(e: &DialError) -> p::DialFailure {
    match e {
        DialError::NoAnswer(_) => p::DialFailure::NoAnswer,
        DialError::Refused(486 | 600) => p::DialFailure::Busy,
        DialError::Refused(s) if *s >= 500 && *s != 503 => p::DialFailure::Refused,
        DialError::Refused(503) => p::DialFailure::Unreachable,
        DialError::Refused(_) | DialError::Number(_) | DialError::Sdp(_) => p::DialFailure::Refused,
        DialError::Sip(_) => p::DialFailure::Unreachable,
    }
}

/// A failure's name, as the protocol writes it (a bounded label).
fn serde_name(reason: p::DialFailure) -> &'static str {
    match reason {
        p::DialFailure::NoAnswer => "no_answer",
        p::DialFailure::Busy => "busy",
        p::DialFailure::Refused => "refused",
        p::DialFailure::Unreachable => "unreachable",
    }
}

/// Whether every trunk the bridge registers with has it (or has not answered yet).
fn trunks_usable(gateway: &Gateway) -> bool {
    gateway.registrations.iter().all(|(_, r)| matches!(*r.borrow(), Registered::Pending | Registered::Yes))
}

/// Keep `kakehashi_phone_registered` true to each trunk's registration.
fn watch_registrations(gateway: &Gateway, metrics: &PhoneMetrics) {
    for (trunk, state) in &gateway.registrations {
        let (gauge, mut state) = (metrics.registered.with_label_values(&[trunk.as_str()]), state.clone());
        tokio::spawn(async move {
            loop {
                gauge.set(i64::from(*state.borrow_and_update() == Registered::Yes));
                if state.changed().await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Hold the control connection until `stop`.
pub async fn hold(settings: BridgeSettings, gateway: Arc<Gateway>, dial_out: Option<DialOut>, stop: CancellationToken) {
    watch_registrations(&gateway, &settings.metrics);
    let mut backoff = Duration::from_secs(1);
    loop {
        while !trunks_usable(&gateway) {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = stop.cancelled() => return,
            }
        }
        let connected = tokio::select! {
            c = Signal::<GatewayRole>::connect(
                &settings.server,
                p::Credential::Gateway(settings.gateway_token.clone()),
                None,
            ) => c,
            () = stop.cancelled() => return,
        };
        match connected {
            Ok(signal) => {
                backoff = Duration::from_secs(1);
                tracing::info!("the phone bridge is connected to the server");
                if let Err(e) = serve(signal, &settings, &gateway, dial_out, &stop).await {
                    tracing::warn!(error = %e, "the phone bridge's connection to the server");
                }
                if stop.is_cancelled() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, retry_in = ?backoff, "the phone bridge cannot reach the server"),
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stop.cancelled() => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

/// Line callers are let go when the connection ends.
struct Connected<'a>(&'a super::Waiting);

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        self.0.disconnected();
    }
}

/// One connection's life: orders in, failures and line callers out.
async fn serve(
    signal: Signal<GatewayRole>,
    settings: &BridgeSettings,
    gateway: &Arc<Gateway>,
    dial_out: Option<DialOut>,
    stop: &CancellationToken,
) -> Result<(), ClientError> {
    let (mut tx, mut rx) = signal.split();
    let (to_server, mut commands) = mpsc::channel::<p::GatewayCommand>(256);
    settings.waiting.connected(to_server.clone());
    // However this connection ends, its callers are let go.
    let _callers = Connected(&settings.waiting);
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = check.tick() => {
                if !trunks_usable(gateway) {
                    tracing::warn!("a trunk refuses the bridge or cannot be reached: phone calls are off until it is back");
                    return Ok(());
                }
            }
            event = rx.recv(Duration::from_secs(3600)) => {
                let event = event?.event;
                settings.waiting.heard(&event);
                if let p::GatewayEvent::OfferCall { offer, token, number, language, ring_secs } = event {
                    let Some(out) = dial_out else {
                        tracing::warn!("an interpreter reached by phone cannot be rung: [phone] has no dial_trunk");
                        continue;
                    };
                    let order = super::offer::Order { offer, token, number, language, ring_secs };
                    let (settings, gateway) = (settings.clone(), Arc::clone(gateway));
                    tokio::spawn(async move { super::offer::ring(settings, &gateway, out, order).await });
                    continue;
                }
                let p::GatewayEvent::Dial { dial, token, number, language } = event else { continue };
                let Some(out) = dial_out else {
                    let _ = to_server.send(p::GatewayCommand::DialFailed { dial, reason: p::DialFailure::Unreachable }).await;
                    continue;
                };
                let order = Dial { number: normalised(&number), trunk: out.trunk, credential: None, ring: out.ring };
                let (settings, gateway, failed) = (settings.clone(), Arc::clone(gateway), to_server.clone());
                tokio::spawn(async move {
                    let metrics = settings.metrics.clone();
                    let leg = InState::new(&metrics, "out", "ringing");
                    match gateway.dial(order).await {
                        Ok(mut answered) => {
                            // Whoever answers an unknown number hears who is calling first.
                            let greeting = settings.prompts.get(Prompt::DialGreeting, &language);
                            if play_through(&mut answered, &greeting).await == Played::Gone {
                                metrics.calls.with_label_values(&["out", "gone"]).inc();
                                let reason = p::DialFailure::NoAnswer;
                                let _ = failed.send(p::GatewayCommand::DialFailed { dial, reason }).await;
                                return;
                            }
                            metrics.calls.with_label_values(&["out", "joined"]).inc();
                            if let Err(e) = in_call::join(&settings, answered, &token, leg).await {
                                tracing::warn!(error = %e, "a phone called out could not join its call");
                            }
                        }
                        Err(e) => {
                            tracing::info!(error = %e, "a call out did not connect");
                            let reason = failure(&e);
                            let outcome = serde_name(reason);
                            metrics.calls.with_label_values(&["out", outcome]).inc();
                            let _ = failed.send(p::GatewayCommand::DialFailed { dial, reason }).await;
                        }
                    }
                });
            }
            Some(cmd) = commands.recv() => tx.send(&cmd).await?,
            () = stop.cancelled() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_reach_the_trunk_as_digits_and_failures_as_reasons() {
        assert_eq!(normalised("+81 90-1234-5678"), "+819012345678");
        assert_eq!(normalised("(03) 1234-5678"), "0312345678");
        assert_eq!(failure(&DialError::Refused(486)), p::DialFailure::Busy);
        assert_eq!(failure(&DialError::Refused(404)), p::DialFailure::Refused);
        assert_eq!(failure(&DialError::Refused(503)), p::DialFailure::Unreachable);
        assert_eq!(failure(&DialError::NoAnswer(Duration::from_secs(5))), p::DialFailure::NoAnswer);
    }
}
