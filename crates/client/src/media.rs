//! A participant's media over its signalling connection: our offer, the relay's answer,
//! then the relay's renegotiation offers answered, in a task of its own until stopped.
//! The role's `sdp` command and event are the only ones it handles; it hands the
//! connection back when stopped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kakehashi_protocol as p;
use tokio::sync::oneshot;

use crate::{ClientError, Desk, Interpreter, Peer, Resident, Role, Signal};

/// A role whose `sdp` messages a participant exchanges.
pub trait MediaRole: Role {
    /// Our `sdp` command (desks and interpreters name their call).
    fn sdp(call: Option<u64>, description: p::SessionDescription) -> Self::Command;
    /// The relay's `sdp` among the events.
    fn sdp_of(event: &Self::Event) -> Option<&p::SessionDescription>;
    /// Whether the event says the relay dropped our leg because it did not connect
    /// (`media_failed`): a new leg is wanted.
    fn leg_dropped(event: &Self::Event) -> bool;
}

impl MediaRole for Desk {
    fn sdp(call: Option<u64>, description: p::SessionDescription) -> p::DeskCommand {
        p::DeskCommand::Sdp { call: call.unwrap_or_default(), description }
    }
    fn sdp_of(event: &p::DeskEvent) -> Option<&p::SessionDescription> {
        match event {
            p::DeskEvent::Sdp { description, .. } => Some(description),
            _ => None,
        }
    }
    fn leg_dropped(event: &p::DeskEvent) -> bool {
        matches!(event, p::DeskEvent::MediaFailed { .. })
    }
}

impl MediaRole for Interpreter {
    fn sdp(call: Option<u64>, description: p::SessionDescription) -> p::InterpreterCommand {
        p::InterpreterCommand::Sdp { call: call.unwrap_or_default(), description }
    }
    fn sdp_of(event: &p::InterpreterEvent) -> Option<&p::SessionDescription> {
        match event {
            p::InterpreterEvent::Sdp { description, .. } => Some(description),
            _ => None,
        }
    }
    fn leg_dropped(event: &p::InterpreterEvent) -> bool {
        matches!(event, p::InterpreterEvent::MediaFailed { .. })
    }
}

impl MediaRole for Resident {
    fn sdp(_: Option<u64>, description: p::SessionDescription) -> p::ResidentCommand {
        p::ResidentCommand::Sdp { description }
    }
    fn sdp_of(event: &p::ResidentEvent) -> Option<&p::SessionDescription> {
        match event {
            p::ResidentEvent::Sdp { description, .. } => Some(description),
            _ => None,
        }
    }
    fn leg_dropped(event: &p::ResidentEvent) -> bool {
        matches!(event, p::ResidentEvent::MediaFailed { .. })
    }
}

/// A participant's media, running.
#[derive(Debug)]
pub struct MediaSession<R: Role> {
    /// When this participant last answered one of the relay's offers.
    pub answered: Arc<Mutex<Option<Instant>>>,
    /// Whether ICE and DTLS are up.
    pub connected: tokio::sync::watch::Receiver<bool>,
    /// The states the peer went through.
    pub states: crate::peer::States,
    /// The role's other events, as they arrive; closed when the connection is.
    pub events: tokio::sync::mpsc::UnboundedReceiver<R::Event>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<(Signal<R>, Peer)>,
}

impl<R: Role> MediaSession<R> {
    /// Wait until connected.
    pub async fn until_connected(&mut self, wait: Duration) -> Result<(), ClientError> {
        tokio::time::timeout(wait, self.connected.wait_for(|c| *c))
            .await
            .map_err(|_| ClientError::Media("not connected in time".into()))?
            .map(|_| ())
            .map_err(|e| ClientError::Media(e.to_string()))
    }

    /// Whether descriptions are still exchanged: `false` once the signalling connection
    /// closed or an offer of the relay's could not be answered.
    pub fn running(&self) -> bool {
        !self.task.is_finished()
    }

    /// Stop exchanging descriptions: the signalling connection and the peer come back
    /// (the peer still connected; close it to hang up).
    pub async fn stop(mut self) -> Result<(Signal<R>, Peer), ClientError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.map_err(|e| ClientError::Media(e.to_string()))
    }
}

/// Offer `peer`'s media for `call` over `signal`, and keep answering the relay in a task.
/// Events other than `sdp` that arrive meanwhile go to [`MediaSession::events`].
pub async fn join_media<R: MediaRole>(
    mut signal: Signal<R>,
    mut peer: Peer,
    call: Option<u64>,
) -> Result<MediaSession<R>, ClientError> {
    let sdp = peer.offer().await?;
    signal.send(&R::sdp(call, p::SessionDescription { kind: p::SdpKind::Offer, sdp })).await?;
    let answered = Arc::new(Mutex::new(None));
    let answered_at = Arc::clone(&answered);
    let connected = peer.connected();
    let states = peer.states();
    let (stop, mut stopped) = oneshot::channel::<()>();
    let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                next = signal.recv(Duration::from_secs(3600)) => next,
                _ = &mut stopped => break,
            };
            let Ok(event) = next else { break };
            let Some(d) = R::sdp_of(&event.event) else {
                let _ = events_tx.send(event.event);
                continue;
            };
            match d.kind {
                p::SdpKind::Answer => {
                    if peer.answered(d.sdp.clone()).await.is_err() {
                        break;
                    }
                }
                p::SdpKind::Offer => {
                    let Ok(sdp) = peer.answer(d.sdp.clone()).await else { break };
                    let answer = R::sdp(call, p::SessionDescription { kind: p::SdpKind::Answer, sdp });
                    // Stamped before sending: what the answer causes at the relay may be
                    // seen elsewhere before this task runs again.
                    if let Ok(mut at) = answered_at.lock() {
                        *at = Some(Instant::now());
                    }
                    if signal.send(&answer).await.is_err() {
                        break;
                    }
                }
            }
        }
        (signal, peer)
    });
    Ok(MediaSession { answered, connected, states, events, stop: Some(stop), task })
}
