//! The phone bridge inside `kakehashi serve` (the `[phone]` section, ADR 0015): the SIP
//! gateway of `kakehashi-phone` with its switchboard, a client of this very server over
//! loopback, holding the gateway's secret like a bridge that runs elsewhere; and the same
//! bridge alone (`kakehashi phone`), against a server elsewhere, with its own `/metrics`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use kakehashi_phone::bridge::{Bridge, BridgeSettings, DialOut, Waiting};
use kakehashi_phone::gateway::Gateway;
use kakehashi_phone::metrics::PhoneMetrics;
use kakehashi_phone::prompts::Prompts;

use crate::config::{AloneConfig, Config, PhoneSection};

/// Why the bridge did not start.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    /// A recorded prompt is unusable.
    #[error("phone.prompts_dir: {0}")]
    Prompts(#[from] kakehashi_phone::prompts::PromptError),
    /// The SIP endpoint.
    #[error("phone: {0}")]
    Gateway(#[from] kakehashi_phone::gateway::GatewayError),
    /// The metrics listener's address.
    #[error("metrics_listen {at}: {source}")]
    Metrics {
        /// The address.
        at: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A language line has the PIN line's number.
    #[error("phone.line: {0} is the PIN line's number; give the line a number of its own")]
    LineNumber(String),
    /// `phone_number` or the gateway's secret is missing (validation prevents it).
    #[error("phone: {0} is missing")]
    Missing(&'static str),
}

/// A secret for the bridge inside the server, when the configuration gives none.
pub fn made_up_secret() -> String {
    let mut bytes = [0u8; 24];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The server's WebSocket as the bridge reaches it: over loopback when it listens on
/// every address.
fn server_url(bound: SocketAddr) -> String {
    let host = match bound.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => SocketAddr::from(([127, 0, 0, 1], bound.port())),
        ip if ip.is_unspecified() => SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, bound.port())),
        _ => bound,
    };
    format!("ws://{host}/ws")
}

/// The bridge, running.
#[derive(Debug)]
pub struct Phone {
    gateway: Arc<Gateway>,
    stop: tokio_util::sync::CancellationToken,
}

impl Phone {
    /// Stop answering and placing calls, and let go of the server.
    pub fn stop(&self) {
        self.stop.cancel();
        self.gateway.stop();
    }
}

/// Start the bridge for the server listening on `bound`: the SIP endpoint, and the
/// control connection over which the server orders calls out.
pub async fn start(
    section: &PhoneSection,
    config: &Config,
    bound: SocketAddr,
    metrics: &PhoneMetrics,
) -> Result<Phone, PhoneError> {
    let number = config.phone_number.clone().ok_or(PhoneError::Missing("phone_number"))?;
    let token = config.phone_gateway_token.clone().ok_or(PhoneError::Missing("phone_gateway_token"))?;
    let digits: String = section.pin_line.as_deref().unwrap_or(&number).chars().filter(char::is_ascii_digit).collect();
    let phone = bridge(section, server_url(bound), token, number, metrics, Arc::default()).await?;
    if config.demo {
        eprintln!("  phone line  sip:{digits}@{} (a softphone joins a call with the desk's PIN)\n", phone.gateway.addr);
    }
    Ok(phone)
}

/// The bridge for the server at `server` (its WebSocket URL).
async fn bridge(
    section: &PhoneSection,
    server: String,
    gateway_token: String,
    number: String,
    metrics: &PhoneMetrics,
    waiting: Arc<Waiting>,
) -> Result<Phone, PhoneError> {
    let prompts = match &section.prompts_dir {
        Some(dir) => Prompts::with_recorded(dir)?,
        None => Prompts::built_in(),
    };
    for language in section.line.iter().flat_map(|l| &l.languages) {
        let base = language.split('-').next().unwrap_or(language);
        if !prompts.has(kakehashi_phone::prompts::Prompt::LineWelcome, language)
            && !prompts.has(kakehashi_phone::prompts::Prompt::LineWelcome, base)
        {
            tracing::warn!(
                language,
                "a language line's callers will hear English prompts: none are built in for their language; add recordings to phone.prompts_dir"
            );
        }
    }
    let pin_line = section.pin_line.clone().unwrap_or(number);
    let pin_digits: String = pin_line.chars().filter(char::is_ascii_digit).collect();
    if let Some(line) =
        section.line.iter().find(|l| l.number.chars().filter(char::is_ascii_digit).eq(pin_digits.chars()))
    {
        return Err(PhoneError::LineNumber(line.number.clone()));
    }
    let settings = BridgeSettings {
        server,
        gateway_token,
        pin_line,
        lines: section.lines(),
        waiting,
        rooms: Arc::default(),
        media_ip: section.peer_ip,
        prompts,
        metrics: metrics.clone(),
    };
    let gateway = Arc::new(Gateway::start(section.gateway(), Arc::new(Bridge::new(settings.clone()))).await?);
    tracing::info!(sip = %gateway.addr, trunks = section.trunks.len(), "phone bridge listening");
    let dial_out = section
        .dial_trunk
        .map(|trunk| DialOut { trunk, ring: std::time::Duration::from_secs(u64::from(section.ring_secs)) });
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(kakehashi_phone::bridge::hold(settings, Arc::clone(&gateway), dial_out, stop.clone()));
    Ok(Phone { gateway, stop })
}

/// `kakehashi phone`: the bridge on its own, against a server elsewhere, until
/// `shutdown`; `/metrics` and `/readyz` on `metrics_listen` if set (ready while the
/// bridge is connected to the server, which it is only while its trunks have it).
pub async fn alone(config: AloneConfig, shutdown: impl Future<Output = ()>) -> Result<(), PhoneError> {
    let metrics = PhoneMetrics::new();
    let waiting = Arc::<Waiting>::default();
    let registry = prometheus::Registry::new();
    for c in metrics.collectors() {
        if let Err(e) = registry.register(c) {
            tracing::warn!(error = %e, "a metric could not be registered");
        }
    }
    let serving = match config.metrics_listen {
        Some(at) => {
            let listener =
                tokio::net::TcpListener::bind(at).await.map_err(|source| PhoneError::Metrics { at, source })?;
            tracing::info!(%at, "phone bridge metrics");
            let connected = Arc::clone(&waiting);
            let app =
                axum::Router::new().route("/readyz", axum::routing::get(move || ready(Arc::clone(&connected)))).route(
                    "/metrics",
                    axum::routing::get(move || {
                        let registry = registry.clone();
                        async move {
                            let mut out = Vec::new();
                            let _ = prometheus::Encoder::encode(
                                &prometheus::TextEncoder::new(),
                                &registry.gather(),
                                &mut out,
                            );
                            ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
                        }
                    }),
                );
            Some(tokio::spawn(async move { axum::serve(listener, app).await }))
        }
        None => None,
    };
    let phone =
        bridge(&config.phone, config.server, config.gateway_token, config.phone_number, &metrics, waiting).await?;
    shutdown.await;
    tracing::info!("phone bridge stopping");
    phone.stop();
    if let Some(serving) = serving {
        serving.abort();
    }
    Ok(())
}

/// The bridge alone is ready while it holds its connection to the server.
async fn ready(waiting: Arc<Waiting>) -> (axum::http::StatusCode, &'static str) {
    if waiting.is_connected() {
        (axum::http::StatusCode::OK, "ready")
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "not connected to the server: it cannot be reached, or a trunk refuses this bridge's registration or cannot be reached (see kakehashi_phone_registered)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_reaches_a_wildcard_server_over_loopback() {
        assert_eq!(server_url("0.0.0.0:8080".parse().unwrap()), "ws://127.0.0.1:8080/ws");
        assert_eq!(server_url("[::]:8080".parse().unwrap()), "ws://[::1]:8080/ws");
        assert_eq!(server_url("192.0.2.1:80".parse().unwrap()), "ws://192.0.2.1:80/ws");
        assert_eq!(made_up_secret().len(), 48);
    }
}
