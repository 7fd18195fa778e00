//! Registration with a trunk's registrar (RFC 3261 section 10): REGISTER with digest
//! authentication, refreshed at three quarters of the expiry the registrar grants, with a
//! back-off from 1 s to 60 s while it refuses or cannot be reached. The state is watched:
//! metrics, the readiness page and the desks' "phone is unavailable" read it.

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::registration::{RefreshOutcome, Registration};
use rsipstack::transaction::endpoint::EndpointInnerRef;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A registrar to stay registered with.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Registrar {
    /// The trunk's name (in logs and metrics).
    pub trunk: String,
    /// The registrar's URI (`sip:host:port`).
    pub server: String,
    /// The account.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The digest realm, if the trunk fixes one.
    pub realm: Option<String>,
    /// Seconds asked for.
    pub expires: u32,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("trunk", &self.trunk)
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires", &self.expires)
            .finish()
    }
}

/// Where a registration stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registered {
    /// Not answered yet.
    Pending,
    /// Registered (refreshed at three quarters of what the registrar granted).
    Yes,
    /// The registrar said no (a wrong password: 403; 401 again): retried with back-off.
    Refused {
        /// Its status.
        status: u16,
    },
    /// No answer, or no way to send: retried with back-off.
    Unreachable {
        /// What failed.
        reason: String,
    },
}

/// A registrar's URI that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("the registrar {0:?} is not a SIP URI: {1}")]
pub struct BadRegistrar(pub String, pub String);

/// Stay registered until `cancel`: the state, watched.
pub fn keep_registered(
    endpoint: EndpointInnerRef,
    registrar: Registrar,
    cancel: CancellationToken,
) -> Result<watch::Receiver<Registered>, BadRegistrar> {
    let server: rsipstack::sip::Uri = registrar
        .server
        .as_str()
        .try_into()
        .map_err(|e: rsipstack::sip::Error| BadRegistrar(registrar.server.clone(), e.to_string()))?;
    let (tx, rx) = watch::channel(Registered::Pending);
    let credential = Credential {
        username: registrar.username.clone(),
        password: registrar.password.clone(),
        realm: registrar.realm.clone(),
        auth_username: None,
    };
    tokio::spawn(async move {
        let mut registration = Registration::new(endpoint, Some(credential));
        let trunk = registrar.trunk.clone();
        registration
            .keep_alive(server, registrar.expires, cancel, |outcome| {
                let state = match outcome {
                    RefreshOutcome::Registered(_) => Registered::Yes,
                    RefreshOutcome::Rejected(r) => Registered::Refused { status: r.status_code.code() },
                    RefreshOutcome::Failed(e) => Registered::Unreachable { reason: e.to_string() },
                };
                if state != Registered::Yes {
                    tracing::warn!(%trunk, ?state, "registration with the trunk failed; retrying");
                }
                tx.send_replace(state);
            })
            .await;
    });
    Ok(rx)
}
