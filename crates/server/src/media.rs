//! The media relay's task: the shared UDP socket and the sans-I/O `Relay`, driven like
//! the hub drives the engine. The hub sends it [`MediaCmd`]s and never waits for it;
//! what the relay has to say comes back to the hub as [`crate::hub::Cmd::Media`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use kakehashi_relay::{LegEvent, LegId, LegStats, Relay, SessionId};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::hub::Cmd;

/// What the hub asks of the relay.
#[derive(Debug)]
pub enum MediaCmd {
    /// A participant's offer for a call: answer it with a new leg. `tag` comes back
    /// with the answer so the hub knows whose it is.
    Offer {
        /// The call (the session).
        call: u64,
        /// Whose offer, for the hub.
        tag: u64,
        /// The participant within the call (its role): a new offer from the same one
        /// replaces its earlier leg, and the others' streams of it continue.
        participant: u64,
        /// The SDP.
        sdp: String,
    },
    /// A participant's answer to the relay's renegotiation offer.
    Answer {
        /// The leg.
        leg: LegId,
        /// The SDP.
        sdp: String,
    },
    /// Close a leg.
    Remove {
        /// The leg.
        leg: LegId,
    },
}

/// What the relay tells the hub.
#[derive(Debug)]
pub enum MediaEvent {
    /// The answer to [`MediaCmd::Offer`], or why there is none.
    Answered {
        /// The call.
        call: u64,
        /// The tag of the offer.
        tag: u64,
        /// The new leg and the SDP answer.
        result: Result<(LegId, String), String>,
    },
    /// Something happened to a leg (connected, failed, a renegotiation offer).
    Leg {
        /// The leg.
        leg: LegId,
        /// What.
        event: LegEvent,
    },
    /// A leg's cumulative statistics, every [`STATS_INTERVAL`].
    Stats {
        /// The leg.
        leg: LegId,
        /// Its statistics.
        stats: LegStats,
    },
    /// A leg is removed, with its last statistics if the relay still had it.
    Removed {
        /// The leg.
        leg: LegId,
        /// Its last statistics.
        last: Option<LegStats>,
    },
}

/// How often legs' statistics go to the hub.
pub const STATS_INTERVAL: Duration = Duration::from_secs(2);

/// Run the relay on `socket` until the hub goes away.
pub async fn run(
    socket: UdpSocket,
    advertised: SocketAddr,
    mut commands: mpsc::Receiver<MediaCmd>,
    hub: mpsc::Sender<Cmd>,
) {
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "media socket has no address; no media");
            return;
        }
    };
    let mut relay = Relay::new(local, advertised);
    let mut buf = vec![0u8; 2048];
    let mut stats_tick = tokio::time::interval(STATS_INTERVAL);
    stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        while let Some((to, datagram)) = relay.poll_transmit() {
            // A failed send is a lost packet, as on any network.
            let _ = socket.send_to(&datagram, to).await;
        }
        while let Some((leg, event)) = relay.poll_event() {
            if hub.send(Cmd::Media(MediaEvent::Leg { leg, event })).await.is_err() {
                return;
            }
        }
        let wake = relay.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, from)) => relay.handle_datagram(Instant::now(), from, &buf[..n]),
                Err(e) => tracing::debug!(error = %e, "media socket read"),
            },
            command = commands.recv() => match command {
                Some(MediaCmd::Offer { call, tag, participant, sdp }) => {
                    let result = relay
                        .accept_offer(Instant::now(), SessionId(call), participant, sdp)
                        .map_err(|e| e.to_string());
                    if hub.send(Cmd::Media(MediaEvent::Answered { call, tag, result })).await.is_err() {
                        return;
                    }
                }
                Some(MediaCmd::Answer { leg, sdp }) => {
                    match relay.accept_answer(Instant::now(), leg, sdp) {
                        Ok(()) => {}
                        // A stale answer (the participant offered anew meanwhile, or answered
                        // twice) changes nothing: the leg it was for lives on or is gone.
                        Err(e @ (kakehashi_relay::RelayError::NoOfferOut | kakehashi_relay::RelayError::UnknownLeg)) => {
                            tracing::debug!(error = %e, "answer ignored");
                        }
                        Err(e) => {
                            tracing::debug!(error = %e, "answer refused");
                            let _ = hub.send(Cmd::Media(MediaEvent::Leg { leg, event: LegEvent::Failed })).await;
                        }
                    }
                }
                Some(MediaCmd::Remove { leg }) => {
                    let last = relay.leg_stats(leg);
                    relay.remove_leg(leg);
                    if hub.send(Cmd::Media(MediaEvent::Removed { leg, last })).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            () = async { match wake { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                relay.handle_timeout(Instant::now());
            }
            _ = stats_tick.tick() => {
                let legs: Vec<LegId> = relay.legs().collect();
                for leg in legs {
                    if let Some(stats) = relay.leg_stats(leg)
                        && hub.send(Cmd::Media(MediaEvent::Stats { leg, stats })).await.is_err()
                    {
                        return;
                    }
                }
            }
        }
    }
}
