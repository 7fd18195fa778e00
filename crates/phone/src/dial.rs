//! Calls the bridge places: to a resident the desk dials, to an interpreter reached by
//! phone. The INVITE goes through the trunk with our offer; early media (a 183 with SDP:
//! ringback, the carrier's announcements) flows at once; a ring timeout CANCELs. The
//! number is personal data: it is used for the call and never logged.

use std::net::SocketAddr;
use std::time::Duration;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::invitation::InviteOption;
use tokio::sync::{mpsc, watch};

use crate::g711::Law;
use crate::gateway::{Answered, Gateway, Live, on_state, rand_u32};
use crate::leg::{Leg, LegCounts};
use crate::sdp::{self, Direction, Local, Negotiated, SdpError};

/// A call to place.
#[derive(Clone)]
pub struct Dial {
    /// The number (digits, `+` allowed).
    pub number: String,
    /// The trunk's host and port.
    pub trunk: SocketAddr,
    /// The account the trunk may challenge the INVITE for.
    pub credential: Option<(String, String)>,
    /// How long to let it ring.
    pub ring: Duration,
}

impl std::fmt::Debug for Dial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dial").field("number", &"<redacted>").field("trunk", &self.trunk).finish_non_exhaustive()
    }
}

/// Why a call placed did not connect.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DialError {
    /// Not a number.
    #[error("{0:?} is not a phone number (digits, with + at the start at most)")]
    Number(String),
    /// Nobody answered in time (the INVITE was cancelled).
    #[error("no answer within {0:?}")]
    NoAnswer(Duration),
    /// The far end or the trunk said no (486 busy, 404, 603 declined…).
    #[error("refused with {0}")]
    Refused(u16),
    /// The answer's SDP cannot be used.
    #[error(transparent)]
    Sdp(#[from] SdpError),
    /// The SIP stack or a socket.
    #[error("SIP: {0}")]
    Sip(String),
}

impl Dial {
    fn checked_number(&self) -> Result<&str, DialError> {
        let n = self.number.trim();
        let digits = n.strip_prefix('+').unwrap_or(n);
        if digits.is_empty() || digits.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit()) {
            // The refusal names what was wrong, not the number (personal data).
            return Err(DialError::Number(format!("{} characters", n.chars().count())));
        }
        Ok(n)
    }
}

impl Gateway {
    /// Place a call; once answered, it is driven like a call taken.
    pub async fn dial(&self, d: Dial) -> Result<Answered, DialError> {
        let number = d.checked_number()?.to_string();
        let c = &self.context;
        let sip = |e: &dyn std::fmt::Display| DialError::Sip(e.to_string());
        let socket = tokio::net::UdpSocket::bind(SocketAddr::new(c.settings.media_ip, 0)).await.map_err(|e| sip(&e))?;
        let rtp = socket.local_addr().map_err(|e| sip(&e))?;
        let local = Local { rtp, session_id: u64::from(rand_u32()), version: 1 };
        let offer = sdp::offer(&local, Direction::SendRecv);
        let uri = |s: String| rsipstack::sip::Uri::try_from(s.as_str()).map_err(|e| sip(&e));
        let callee = uri(format!("sip:{number}@{}", d.trunk))?;
        let caller = uri(format!("sip:kakehashi@{}", self.addr))?;
        // Until an answer says otherwise, the leg neither sends nor expects media.
        let silent = Negotiated {
            remote: SocketAddr::new(rtp.ip(), 0),
            law: Law::Mu,
            payload_type: 0,
            dtmf: None,
            ptime: 20,
            direction: Direction::Inactive,
        };
        let (agreed_tx, agreed_rx) = watch::channel(silent);
        let (say_tx, say_rx) = mpsc::channel(5);
        let (heard_tx, heard_rx) = mpsc::channel(64);
        let (counts_tx, counts_rx) = watch::channel(LegCounts::default());
        tokio::spawn(Leg::new(socket, rand_u32()).run(agreed_rx, say_rx, heard_tx.clone(), counts_tx));
        // This call's dialog states: early media here; the rest as for calls taken.
        let (state_tx, mut state_rx) = c.dialogs.new_dialog_state_channel();
        let (early_tx, dialogs, calls) = (agreed_tx.clone(), c.dialogs.clone(), c.calls.clone());
        tokio::spawn(async move {
            while let Some(state) = state_rx.recv().await {
                match state {
                    DialogState::Early(_, ref response) if !response.body.is_empty() => {
                        if let Ok(agreed) = sdp::answered(&String::from_utf8_lossy(&response.body)) {
                            early_tx.send_replace(agreed);
                        }
                    }
                    DialogState::Terminated(..) => {
                        // The end: its handles (this task's among them) go, the leg stops.
                        on_state(&dialogs, &calls, state).await;
                        break;
                    }
                    other => on_state(&dialogs, &calls, other).await,
                }
            }
        });
        let option = InviteOption {
            callee,
            caller,
            contact: c.contact.clone(),
            content_type: Some("application/sdp".into()),
            offer: Some(offer.into_bytes()),
            credential: d.credential.clone().map(|(username, password)| Credential {
                username,
                password,
                realm: None,
                auth_username: None,
            }),
            // Our own Call-ID (the stack's default names another project's domain).
            call_id: Some(format!("{:08x}{:08x}{:08x}@kakehashi", rand_u32(), rand_u32(), rand_u32())),
            headers: Some(crate::timer::offer_headers()),
            ..Default::default()
        };
        let (dialog, response) = match tokio::time::timeout(d.ring, c.dialogs.do_invite(option, state_tx)).await {
            Err(_) => return Err(DialError::NoAnswer(d.ring)),
            Ok(Err(e)) => return Err(sip(&e)),
            Ok(Ok(r)) => r,
        };
        let response = response.ok_or_else(|| DialError::Sip("no final response".into()))?;
        let status = response.status_code.code();
        if !(200..300).contains(&status) {
            return Err(DialError::Refused(status));
        }
        let agreed = match sdp::answered(&String::from_utf8_lossy(&response.body)) {
            Ok(a) => a,
            Err(e) => {
                let _ = dialog.bye().await;
                return Err(e.into());
            }
        };
        agreed_tx.send_replace(agreed);
        let terms = crate::timer::as_caller(&response.headers.0);
        let (refreshed, refreshed_rx) = watch::channel(tokio::time::Instant::now());
        c.calls.lock().unwrap_or_else(|e| e.into_inner()).insert(
            dialog.id(),
            Live { agreed: agreed_tx, local, keys: heard_tx, answer: None, timer: Vec::new(), refreshed },
        );
        if let Some(terms) = terms {
            let (refresher, ender) = (dialog.clone(), dialog.clone());
            crate::timer::guard(
                terms,
                refreshed_rx,
                c.calls.clone(),
                dialog.id(),
                move |h, b| {
                    let d = refresher.clone();
                    async move { d.reinvite(Some(h), Some(b)).await }
                },
                move || async move {
                    let _ = ender.hangup().await;
                },
            );
        }
        // Hang up when the caller of `dial` is done with the call.
        let (calls, id) = (c.calls.clone(), dialog.id());
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = done_rx.await;
            if calls.lock().unwrap_or_else(|e| e.into_inner()).remove(&id).is_some() {
                let _ = dialog.bye().await;
            }
        });
        Ok(Answered { number, heard: heard_rx, say: say_tx, counts: counts_rx, hang_up: Some(done_tx) })
    }
}
