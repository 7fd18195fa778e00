//! The SIP side of the bridge: one endpoint (UDP and TCP on the same address) that takes
//! calls from the trunks' addresses only (anything else is dropped unanswered, as SIP
//! scanners deserve), answers each with one G.711 stream on a socket of its own, and
//! hands the answered call to the [`Switchboard`], which decides what it does (a
//! language line, a PIN, a bridge into a call). Hangs up, holds and keys sent as SIP INFO
//! reach the call's leg through its dialog.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use rsipstack::dialog::DialogId;
use rsipstack::dialog::dialog::{Dialog, DialogState, DialogStateReceiver};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::Endpoint;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::leg::{Heard, Leg, LegCounts};
use crate::register::{BadRegistrar, Registered, Registrar, keep_registered};
use crate::sdp::{self, Local, Negotiated};

/// Where the gateway listens and which addresses it takes calls from.
#[derive(Clone, Debug)]
pub struct Settings {
    /// SIP over UDP on this address.
    pub listen: SocketAddr,
    /// RTP sockets are bound on this address (a port each, chosen by the system).
    pub media_ip: IpAddr,
    /// The trunks' and PBXs' addresses: requests from any other are dropped.
    pub allowed: Vec<IpAddr>,
    /// Registrars to stay registered with (their addresses are allowed too).
    pub registrars: Vec<Registrar>,
}

/// Why a call is not taken: the SIP status and the reason said in a `Warning` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The status.
    pub status: u16,
    /// Why, in words.
    pub reason: String,
}

/// An answered call, for the switchboard to drive: what the phone says and presses comes
/// in `heard`; what it should hear goes out on `say`, 20 ms at a time. Dropping both ends
/// the call (the gateway hangs up).
#[derive(Debug)]
pub struct Answered {
    /// The number that was called (the Request-URI's user part).
    pub number: String,
    /// The phone's frames and keys, and [`Heard::NoMedia`]; closed when the phone hangs up.
    pub heard: mpsc::Receiver<Heard>,
    /// 20 ms frames for the phone to hear (at most a few queued: the leg's clock paces).
    pub say: mpsc::Sender<Vec<i16>>,
    /// The leg's counts.
    pub counts: watch::Receiver<LegCounts>,
    /// For a call placed: dropped (with the call), the gateway hangs up.
    pub hang_up: Option<tokio::sync::oneshot::Sender<()>>,
}

/// What decides what calls do.
#[async_trait::async_trait]
pub trait Switchboard: Send + Sync + 'static {
    /// Whether a call to `number` is taken.
    fn admit(&self, number: &str) -> Result<(), Refusal>;
    /// Drive an answered call until it ends (return to hang up).
    async fn run(&self, call: Answered);
}

/// The gateway's failures to start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The SIP stack.
    #[error("SIP: {0}")]
    Sip(#[from] rsipstack::Error),
    /// A socket.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// A registrar's URI.
    #[error(transparent)]
    Registrar(#[from] BadRegistrar),
}

/// A call's dialog-side handles: where a re-INVITE's new terms and INFO keys go.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) agreed: watch::Sender<Negotiated>,
    pub(crate) local: Local,
    pub(crate) keys: mpsc::Sender<Heard>,
    /// The answer to send when the dialog reaches `Calling`.
    pub(crate) answer: Option<Vec<u8>>,
    /// The session timer's headers for our responses (none without a timer).
    pub(crate) timer: Vec<Header>,
    /// When the phone's side last refreshed the session (a re-INVITE or UPDATE).
    pub(crate) refreshed: watch::Sender<tokio::time::Instant>,
}

pub(crate) type Calls = Arc<Mutex<HashMap<DialogId, Live>>>;

/// The running gateway.
#[derive(Debug)]
pub struct Gateway {
    cancel: CancellationToken,
    pub(crate) context: Arc<Context>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Each registrar's trunk and where its registration stands.
    pub registrations: Vec<(String, watch::Receiver<Registered>)>,
}

impl Gateway {
    /// Bind and serve until [`Gateway::stop`].
    pub async fn start(settings: Settings, switchboard: Arc<dyn Switchboard>) -> Result<Gateway, GatewayError> {
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.child_token());
        let udp = UdpConnection::create_connection(settings.listen, None, Some(cancel.child_token())).await?;
        let addr = udp.get_addr().get_socketaddr()?;
        transport.add_transport(udp.into());
        let mut allowed = settings.allowed.clone();
        for r in &settings.registrars {
            allowed.extend(registrar_ips(&r.server).await);
        }
        transport.set_whitelist(move |ip: IpAddr| {
            let ok = allowed.contains(&ip);
            async move { ok }
        });
        let endpoint = rsipstack::EndpointBuilder::new()
            .with_transport_layer(transport)
            .with_cancel_token(cancel.child_token())
            .with_user_agent("kakehashi")
            .build();
        let incoming = endpoint.incoming_transactions()?;
        let mut registrations = Vec::new();
        for r in &settings.registrars {
            let state = keep_registered(endpoint.inner.clone(), r.clone(), cancel.child_token())?;
            registrations.push((r.trunk.clone(), state));
        }
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (state_tx, state_rx) = dialogs.new_dialog_state_channel();
        let calls: Calls = Arc::default();
        let serving = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = serving.serve().await {
                tracing::warn!(error = %e, "the SIP endpoint stopped");
            }
        });
        tokio::spawn(states(Arc::clone(&dialogs), state_rx, Arc::clone(&calls)));
        let contact: rsipstack::sip::Uri = format!("sip:kakehashi@{addr}")
            .as_str()
            .try_into()
            .map_err(|e: rsipstack::sip::Error| rsipstack::Error::Error(e.to_string()))?;
        let context = Arc::new(Context { settings, switchboard, dialogs, calls, state_tx, contact, endpoint });
        tokio::spawn(Arc::clone(&context).serve(incoming));
        Ok(Gateway { cancel, context, addr, registrations })
    }

    /// Stop taking and serving requests.
    pub fn stop(&self) {
        self.cancel.cancel();
    }
}

/// What the request loop and calls placed share.
pub(crate) struct Context {
    pub(crate) settings: Settings,
    switchboard: Arc<dyn Switchboard>,
    pub(crate) dialogs: Arc<DialogLayer>,
    pub(crate) calls: Calls,
    state_tx: rsipstack::dialog::dialog::DialogStateSender,
    pub(crate) contact: rsipstack::sip::Uri,
    /// Kept alive while serving.
    #[allow(dead_code)]
    endpoint: Endpoint,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Context {
    async fn serve(self: Arc<Self>, mut incoming: rsipstack::transaction::TransactionReceiver) {
        let this = self;
        while let Some(mut tx) = incoming.recv().await {
            if let Some(Dialog::Invite(mut dialog)) = this.dialogs.match_dialog(&tx) {
                tokio::spawn(async move {
                    if let Err(e) = dialog.handle(&mut tx).await {
                        tracing::debug!(error = %e, "an in-dialog request");
                    }
                });
                continue;
            }
            match tx.original.method {
                Method::Invite => {
                    let this = Arc::clone(&this);
                    tokio::spawn(async move { this.invite(tx).await });
                }
                Method::Options => {
                    let _ = tx.reply(StatusCode::OK).await;
                }
                Method::Ack => {}
                Method::Bye | Method::Info | Method::Update | Method::Cancel => {
                    let _ = tx.reply(StatusCode::CallTransactionDoesNotExist).await;
                }
                _ => {
                    let _ = tx.reply(StatusCode::MethodNotAllowed).await;
                }
            }
        }
    }

    /// A new call.
    async fn invite(&self, mut tx: Transaction) {
        let number = tx.original.uri.auth.as_ref().map(|a| a.user.clone()).unwrap_or_default();
        if let Err(r) = self.switchboard.admit(&number) {
            refuse(&mut tx, &r).await;
            return;
        }
        let socket = match tokio::net::UdpSocket::bind(SocketAddr::new(self.settings.media_ip, 0)).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "no RTP socket for a call");
                refuse(&mut tx, &Refusal { status: 503, reason: "no media port free".into() }).await;
                return;
            }
        };
        let Ok(rtp) = socket.local_addr() else { return };
        let local = Local { rtp, session_id: u64::from(rand_u32()), version: 1 };
        let offer = String::from_utf8_lossy(&tx.original.body).into_owned();
        let (agreed, answer) = match sdp::answer(&offer, &local) {
            Ok(a) => a,
            Err(e) => {
                refuse(&mut tx, &Refusal { status: 488, reason: e.to_string() }).await;
                return;
            }
        };
        let mut dialog = match self.dialogs.get_or_create_server_invite(
            &tx,
            self.state_tx.clone(),
            None,
            Some(self.contact.clone()),
        ) {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "an INVITE the dialog layer refused");
                refuse(&mut tx, &Refusal { status: 500, reason: "the call could not be set up".into() }).await;
                return;
            }
        };
        let (agreed_tx, agreed_rx) = watch::channel(agreed);
        let (say_tx, say_rx) = mpsc::channel(5);
        let (heard_tx, heard_rx) = mpsc::channel(64);
        let (counts_tx, counts_rx) = watch::channel(LegCounts::default());
        let terms = crate::timer::as_answerer(&tx.original.headers.0);
        let (refreshed, refreshed_rx) = watch::channel(tokio::time::Instant::now());
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).insert(
            dialog.id(),
            Live {
                agreed: agreed_tx,
                local,
                keys: heard_tx.clone(),
                answer: Some(answer.into_bytes()),
                timer: terms.map(crate::timer::answer_headers).unwrap_or_default(),
                refreshed,
            },
        );
        if let Some(terms) = terms {
            let (refresher, ender) = (dialog.clone(), dialog.clone());
            crate::timer::guard(
                terms,
                refreshed_rx,
                Arc::clone(&self.calls),
                dialog.id(),
                move |h, b| {
                    let d = refresher.clone();
                    async move { d.reinvite(Some(h), Some(b)).await }
                },
                move || async move {
                    let _ = ender.bye().await;
                },
            );
        }
        let leg = Leg::new(socket, rand_u32());
        tokio::spawn(leg.run(agreed_rx, say_rx, heard_tx, counts_tx));
        let switchboard = Arc::clone(&self.switchboard);
        let hangup = dialog.clone();
        let id = dialog.id();
        let calls = Arc::clone(&self.calls);
        tokio::spawn(async move {
            switchboard.run(Answered { number, heard: heard_rx, say: say_tx, counts: counts_rx, hang_up: None }).await;
            // The switchboard is done with the call: hang up (if the phone has not).
            if calls.lock().unwrap_or_else(|e| e.into_inner()).remove(&id).is_some() {
                let _ = hangup.bye().await;
            }
        });
        if let Err(e) = dialog.handle(&mut tx).await {
            tracing::debug!(error = %e, "the INVITE transaction");
        }
    }
}

/// Refuse a new call with its status and a `Warning` saying why.
async fn refuse(tx: &mut Transaction, r: &Refusal) {
    let warning = Header::Warning(format!("399 kakehashi \"{}\"", r.reason.replace('"', "'")).into());
    let _ = tx.reply_with(StatusCode::from(r.status), vec![warning], None).await;
}

/// The dialogs' states: answer when an INVITE is in, take keys sent by INFO and new terms
/// from a re-INVITE, and end the call's leg when the dialog ends.
async fn states(dialogs: Arc<DialogLayer>, mut states: DialogStateReceiver, calls: Calls) {
    while let Some(state) = states.recv().await {
        on_state(&dialogs, &calls, state).await;
    }
}

/// One dialog state (of a call taken or placed).
pub(crate) async fn on_state(dialogs: &DialogLayer, calls: &Calls, state: DialogState) {
    {
        match state {
            DialogState::Calling(id) => {
                let answer = calls
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_mut(&id)
                    .and_then(|l| l.answer.take().map(|a| (a, l.timer.clone())));
                if let (Some((answer, timer)), Some(Dialog::Invite(d))) = (answer, dialogs.get_dialog(&id)) {
                    let mut headers = vec![Header::ContentType("application/sdp".into())];
                    headers.extend(timer);
                    if let Err(e) = d.accept(Some(headers), Some(answer)) {
                        tracing::debug!(error = %e, "answering a call");
                    }
                }
            }
            DialogState::Info(id, request, handle) => {
                let kind = request.headers.iter().find_map(|h| match h {
                    Header::ContentType(c) => Some(c.value().to_string()),
                    _ => None,
                });
                let body = String::from_utf8_lossy(&request.body).into_owned();
                let keys = calls.lock().unwrap_or_else(|e| e.into_inner()).get(&id).map(|l| l.keys.clone());
                match crate::dtmf::info_key(kind.as_deref().unwrap_or(""), &body) {
                    Ok(key) => {
                        if let Some(keys) = keys {
                            let _ = keys.send(Heard::Key(key)).await;
                        }
                        let _ = handle.reply(StatusCode::OK).await;
                    }
                    Err(_) => {
                        let _ = handle.reply(StatusCode::UnsupportedMediaType).await;
                    }
                }
            }
            DialogState::Updated(id, request, handle) => {
                let offer = String::from_utf8_lossy(&request.body).into_owned();
                let answered = {
                    let mut calls = calls.lock().unwrap_or_else(|e| e.into_inner());
                    calls.get_mut(&id).map(|l| {
                        // Any re-INVITE or UPDATE refreshes the session (RFC 4028).
                        l.refreshed.send_replace(tokio::time::Instant::now());
                        let mut headers = l.timer.clone();
                        if offer.trim().is_empty() {
                            // A refresh without an offer: an UPDATE is answered plainly; a
                            // re-INVITE gets our description as the offer.
                            if request.method == Method::Update {
                                return Ok((headers, None));
                            }
                            l.local.version += 1;
                            headers.push(Header::ContentType("application/sdp".into()));
                            let ours = sdp::offer(&l.local, l.agreed.borrow().direction);
                            return Ok((headers, Some(ours.into_bytes())));
                        }
                        l.local.version += 1;
                        sdp::answer(&offer, &l.local).map(|(agreed, answer)| {
                            l.agreed.send_replace(agreed);
                            headers.push(Header::ContentType("application/sdp".into()));
                            (headers, Some(answer.into_bytes()))
                        })
                    })
                };
                match answered {
                    Some(Ok((headers, body))) => {
                        let _ = handle.respond(StatusCode::OK, Some(headers), body).await;
                    }
                    Some(Err(e)) => {
                        let warning = Header::Warning(format!("399 kakehashi \"{e}\"").into());
                        let _ = handle.respond(StatusCode::NotAcceptableHere, Some(vec![warning]), None).await;
                    }
                    None => {
                        let _ = handle.reply(StatusCode::CallTransactionDoesNotExist).await;
                    }
                }
            }
            DialogState::Terminated(id, reason) => {
                tracing::debug!(%id, ?reason, "a phone call ended");
                // Dropping its handles ends the leg and tells the switchboard.
                calls.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
                dialogs.remove_dialog(&id);
            }
            _ => {}
        }
    }
}

/// The addresses of a registrar's host (`sip:host:port`), for the allowed list.
async fn registrar_ips(server: &str) -> Vec<IpAddr> {
    let Ok(uri) = rsipstack::sip::Uri::try_from(server) else { return Vec::new() };
    let host = uri.host_with_port.host.to_string();
    let port = uri.host_with_port.port.map_or(5060, |p| p.value());
    match tokio::net::lookup_host((host.trim_matches(['[', ']']), port)).await {
        Ok(addrs) => addrs.map(|a| a.ip()).collect(),
        Err(e) => {
            tracing::warn!(%server, error = %e, "a registrar's host does not resolve");
            Vec::new()
        }
    }
}

/// A random 32-bit number (SSRCs, session ids).
pub(crate) fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    u32::from_be_bytes(b)
}
