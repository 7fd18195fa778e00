//! The media relay's task: the shared UDP socket, the ICE-TCP listener (`tcp.rs`), and
//! the sans-I/O `Relay`, driven like the hub drives the call core. It is told what to do
//! through [`Order`]s and reports through its own channel of [`Report`]s. It imports
//! nothing of the layers above it, and **never waits for them**: packet forwarding never
//! stalls on control.
//!
//! The report channel is bounded, and its policy is stated here ([`Reports`]):
//! statistics are offered without waiting and dropped when the channel is full (they are
//! cumulative: the next one carries what the dropped one said; each drop is counted in
//! `kakehashi_media_reports_dropped_total`); every other report (answers, leg events,
//! removals) is never lost: when the channel is full it waits in the task's own queue,
//! in order, and is offered again every round.
//!
//! ICE-TCP: a connection is closed when its first packet is not STUN (an ICE
//! connectivity check), when no leg has confirmed it [`TCP_UNCONFIRMED`] after it opened
//! (or since its leg went), when it is silent for [`TCP_IDLE`] (ICE consent checks come
//! every few seconds on a live one), and when [`MAX_TCP_CONNECTIONS`] are open new ones
//! are refused. Writes that would wait are dropped, as a datagram would be: a slow
//! connection never stalls the relay.

mod kinds;
mod tcp;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use kakehashi_relay::{LegEvent, LegId, LegStats, OsRandom, Peer, Relay, SessionId, Start, Transmit, Transport};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use tcp::TcpIn;

/// An ICE-TCP connection silent this long is closed.
pub const TCP_IDLE: Duration = Duration::from_secs(30);

/// An ICE-TCP connection that no leg has confirmed this long after it opened is closed
/// (checked every [`STATS_INTERVAL`]).
pub const TCP_UNCONFIRMED: Duration = Duration::from_secs(10);

/// ICE-TCP connections open at once; more are refused.
pub const MAX_TCP_CONNECTIONS: usize = 4096;

/// Packets waiting to be written on one ICE-TCP connection; more are dropped.
const TCP_QUEUE: usize = 512;

/// Datagrams read from the shared socket in one round before the relay's output is sent.
const READ_BATCH: usize = 32;

/// Reports the channel to the hub holds.
pub const REPORTS: usize = 4096;

/// Control reports the task keeps while the channel is full, beyond which (a hub gone
/// for minutes) the oldest are dropped with an error in the log.
const HELD_REPORTS: usize = 65_536;

/// How often legs' statistics are reported.
pub const STATS_INTERVAL: Duration = Duration::from_secs(2);

/// The relay's sockets.
#[derive(Debug)]
pub struct MediaSockets {
    /// The shared UDP socket.
    pub udp: UdpSocket,
    /// The address the UDP candidate names.
    pub advertised: SocketAddr,
    /// The ICE-TCP listener and the address its passive candidate names, if on.
    pub tcp: Option<(TcpListener, SocketAddr)>,
}

/// What the relay is told to do.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Order {
    /// A participant's offer for a call: answer it with a new leg. `tag` comes back
    /// with the answer so the sender knows whose it is.
    Offer {
        /// The call (the relay's session).
        call: u64,
        /// Whose offer, for the sender.
        tag: u64,
        /// The participant's number in the call: a new offer from the same one replaces
        /// its earlier leg, the others' streams of it continue, and its streams' ids are
        /// `p<participant>`.
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

/// Where a writer's orders go: its own relay's task, or in a cluster each node's relay
/// (through Redis, `cluster::relays`), the order addressed to the node whose relay it is for.
#[derive(Clone, Debug)]
pub enum Orders {
    /// This process's relay.
    Own(mpsc::Sender<Order>),
    /// The cluster's relays.
    Nodes(mpsc::Sender<(u64, Order)>),
}

impl Orders {
    /// Send without waiting; `false` when the queue is full or its reader gone.
    pub fn send(&self, node: u64, order: Order) -> bool {
        match self {
            Orders::Own(tx) => tx.try_send(order).is_ok(),
            Orders::Nodes(tx) => tx.try_send((node, order)).is_ok(),
        }
    }

    /// Whether the queue is full (an offer now would be lost).
    pub fn busy(&self) -> bool {
        match self {
            Orders::Own(tx) => tx.capacity() == 0,
            Orders::Nodes(tx) => tx.capacity() == 0,
        }
    }
}

/// What the relay reports.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Report {
    /// The answer to [`Order::Offer`], or why there is none.
    Answered {
        /// The call.
        call: u64,
        /// The tag of the offer.
        tag: u64,
        /// The new leg and the SDP answer.
        result: Result<(LegId, String), String>,
        /// Kinds of media the participant offered and the answer refused (no codec in
        /// common): `audio`, `video`.
        #[serde(with = "kinds")]
        refused: Vec<&'static str>,
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

/// The sending end of the report channel, with the policy above: never waits.
#[derive(Debug)]
pub struct Reports {
    tx: mpsc::Sender<Report>,
    held: VecDeque<Report>,
    metrics: Metrics,
}

impl Reports {
    /// Reports into `tx`.
    pub fn new(tx: mpsc::Sender<Report>, metrics: Metrics) -> Reports {
        Reports { tx, held: VecDeque::new(), metrics }
    }

    /// Offer a report without waiting (see the module's policy). `false` once the
    /// receiver is gone.
    pub fn report(&mut self, report: Report) -> bool {
        if !self.flush() {
            return false;
        }
        if let Report::Stats { .. } = report {
            return match self.tx.try_send(report) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.metrics.media_reports_dropped.inc();
                    true
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            };
        }
        if self.held.is_empty() {
            match self.tx.try_send(report) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Full(r)) => self.held.push_back(r),
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        } else {
            self.held.push_back(report);
        }
        if self.held.len() > HELD_REPORTS {
            self.held.pop_front();
            self.metrics.media_reports_dropped.inc();
            tracing::error!("the hub has not read the relay's reports for long: the oldest is dropped");
        }
        true
    }

    /// Offer the held reports again, in order. `false` once the receiver is gone.
    pub fn flush(&mut self) -> bool {
        while let Some(r) = self.held.pop_front() {
            match self.tx.try_send(r) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(r)) => {
                    self.held.push_front(r);
                    return true;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        true
    }

    /// Reports waiting in the task's own queue.
    pub fn held(&self) -> usize {
        self.held.len()
    }
}

/// Run the relay on a thread of its own, with a runtime of its own, until its orders
/// stop. Every packet's buffers are then allocated and freed by one thread (one of the
/// allocator's arenas instead of one per worker the task would migrate across), and the
/// relay never waits behind signalling work. The returned task ends when it has.
pub fn on_own_thread(
    sockets: MediaSockets,
    orders: mpsc::Receiver<Order>,
    reports: Reports,
    metrics: Metrics,
    legs_from: u64,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("kakehashi-media".into()).spawn(move || {
        runtime.block_on(run(sockets, orders, reports, metrics, legs_from));
        let _ = done_tx.send(());
    })?;
    Ok(tokio::spawn(async move {
        let _ = done_rx.await;
    }))
}

/// Run the relay on its sockets until its orders' sender is dropped or its reports'
/// receiver is; its legs are numbered from `legs_from` (in a cluster each node's relay
/// has a range of its own, ADR 0022).
pub async fn run(
    sockets: MediaSockets,
    mut orders: mpsc::Receiver<Order>,
    mut reports: Reports,
    metrics: Metrics,
    legs_from: u64,
) {
    let MediaSockets { udp: socket, advertised, tcp } = sockets;
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "media socket has no address; no media");
            return;
        }
    };
    let mut relay = Relay::new(local, advertised, Start::system(), Box::new(OsRandom)).with_legs_from(legs_from);
    let listener = match tcp {
        Some((listener, tcp_advertised)) => {
            relay = relay.with_tcp(tcp_advertised);
            Some(listener)
        }
        None => None,
    };
    let (tcp_tx, mut tcp_rx) = mpsc::channel::<TcpIn>(1024);
    // Open connections: their number, their write queue, and since when they have been
    // without a confirmed leg.
    let mut connections: HashMap<SocketAddr, (u64, mpsc::Sender<BytesMut>, Instant)> = HashMap::new();
    let mut accepted_so_far = 0u64;
    let mut buf = vec![0u8; 2048];
    let mut stats_tick = tokio::time::interval(STATS_INTERVAL);
    stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // While reports are held, try again soon even if nothing else happens.
    let mut retry = tokio::time::interval(Duration::from_millis(20));
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dropped = kakehashi_relay::DemuxStats::default();
    // When the packet being handled was read, for the latency histogram.
    let mut read_at: Option<Instant> = None;
    loop {
        while let Some(Transmit { to, data }) = relay.poll_transmit() {
            match to.transport {
                // A failed send is a lost packet, as on any network.
                Transport::Udp => {
                    if let Err(e) = socket.try_send_to(&data, to.addr)
                        && e.kind() == std::io::ErrorKind::WouldBlock
                    {
                        let _ = socket.send_to(&data, to.addr).await;
                    }
                }
                Transport::Tcp => {
                    if let Some((_, conn, _)) = connections.get(&to.addr) {
                        let _ = conn.try_send(data);
                    }
                }
            }
        }
        if let Some(t) = read_at.take() {
            metrics.media_relay_latency.observe(t.elapsed().as_secs_f64());
        }
        while let Some((leg, event)) = relay.poll_event() {
            match &event {
                LegEvent::Failed => {
                    tracing::info!(leg = leg.0, "a media leg failed: its DTLS handshake failed, or its path was lost");
                }
                LegEvent::NotConnected => {
                    metrics.media_legs_not_connected.inc();
                    tracing::info!(
                        leg = leg.0,
                        checks = relay.leg_checks(leg).map_or(0, |(_, checks)| checks),
                        "a media leg did not connect in time: given up"
                    );
                }
                LegEvent::Offer(_) => tracing::debug!(leg = leg.0, "the relay offers a leg its changed tracks"),
                other => tracing::debug!(leg = leg.0, event = ?other, "a media leg's event"),
            }
            if !reports.report(Report::Leg { leg, event }) {
                return;
            }
        }
        let wake = relay.poll_timeout().map(tokio::time::Instant::from_std);
        let holding = reports.held() > 0;
        tokio::select! {
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    let now = Instant::now();
                    read_at = Some(now);
                    relay.handle_datagram(now, from, &buf[..n]);
                    // Whatever else has arrived is handled in the same round: a leg that
                    // several of them touch is drained once, and timers are looked up once.
                    for _ in 1..READ_BATCH {
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, from)) => relay.handle_datagram(now, from, &buf[..n]),
                            Err(_) => break,
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "media socket read"),
            },
            accepted = async { match &listener { Some(l) => l.accept().await, None => std::future::pending().await } } => {
                match accepted {
                    Ok((stream, peer)) if connections.len() < MAX_TCP_CONNECTIONS => {
                        let (out_tx, out_rx) = mpsc::channel(TCP_QUEUE);
                        accepted_so_far += 1;
                        connections.insert(peer, (accepted_so_far, out_tx, Instant::now()));
                        metrics.media_tcp_connections.set(connections.len() as i64);
                        tokio::spawn(tcp::connection(stream, peer, accepted_so_far, out_rx, tcp_tx.clone()));
                    }
                    Ok((_, peer)) => tracing::warn!(peer = %crate::pii::Pii(peer), "ICE-TCP connection refused: too many open"),
                    Err(e) => tracing::debug!(error = %e, "ICE-TCP accept"),
                }
            }
            Some(t) = tcp_rx.recv() => match t {
                TcpIn::Packet(from, packet) => {
                    let now = Instant::now();
                    read_at = Some(now);
                    relay.handle_tcp(now, from, &packet);
                }
                TcpIn::Closed(from, number) => {
                    if connections.get(&from).is_some_and(|(n, _, _)| *n == number) {
                        connections.remove(&from);
                        metrics.media_tcp_connections.set(connections.len() as i64);
                        relay.tcp_closed(from);
                    }
                }
            },
            order = orders.recv() => {
                let Some(order) = order else { return };
                if !obey(&mut relay, order, &mut reports) {
                    return;
                }
            }
            () = async { match wake { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                relay.handle_timeout(Instant::now());
            }
            _ = retry.tick(), if holding => {
                if !reports.flush() {
                    return;
                }
            }
            _ = stats_tick.tick() => {
                let now = relay.demux_stats();
                metrics.media_dropped.with_label_values(&["unknown_source"]).inc_by(now.dropped - dropped.dropped);
                metrics.media_dropped.with_label_values(&["rate_limited"]).inc_by(now.rate_limited - dropped.rate_limited);
                metrics.media_dropped.with_label_values(&["not_webrtc"]).inc_by(now.not_webrtc - dropped.not_webrtc);
                dropped = now;
                // Dropping a connection's write queue ends its task, which closes it.
                let at = Instant::now();
                connections.retain(|peer, (_, _, since)| {
                    if relay.is_confirmed(Peer::tcp(*peer)) {
                        *since = at;
                    }
                    at.saturating_duration_since(*since) < TCP_UNCONFIRMED
                });
                metrics.media_tcp_connections.set(connections.len() as i64);
                let legs: Vec<LegId> = relay.legs().collect();
                metrics.media_relay_legs.set(i64::try_from(legs.len()).unwrap_or(i64::MAX));
                for leg in legs {
                    if let Some(stats) = relay.leg_stats(leg)
                        && !reports.report(Report::Stats { leg, stats })
                    {
                        return;
                    }
                }
            }
        }
    }
}

/// Carry out one order; `false` once the reports' receiver is gone.
fn obey(relay: &mut Relay, order: Order, reports: &mut Reports) -> bool {
    match order {
        Order::Offer { call, tag, participant, sdp } => {
            let result = relay.accept_offer(Instant::now(), SessionId(call), participant, sdp.clone());
            let refused = match &result {
                Ok((leg, answer)) => {
                    tracing::debug!(call, participant, leg = leg.0, "a participant's offer answered with a new leg");
                    kakehashi_relay::codec::refused_kinds(&sdp, answer)
                }
                Err(e) => {
                    tracing::info!(call, participant, error = %e, "a participant's offer was refused");
                    Vec::new()
                }
            };
            reports.report(Report::Answered { call, tag, result: result.map_err(|e| e.to_string()), refused })
        }
        Order::Answer { leg, sdp } => match relay.accept_answer(Instant::now(), leg, sdp) {
            Ok(()) => {
                tracing::debug!(leg = leg.0, "a participant's answer taken");
                true
            }
            // A stale answer (the participant offered anew meanwhile, or answered twice)
            // changes nothing: the leg it was for lives on or is gone.
            Err(e @ (kakehashi_relay::RelayError::NoOfferOut | kakehashi_relay::RelayError::UnknownLeg)) => {
                tracing::debug!(error = %e, "answer ignored");
                true
            }
            Err(e) => {
                tracing::info!(leg = leg.0, error = %e, "a participant's answer was refused; its leg fails");
                reports.report(Report::Leg { leg, event: LegEvent::Failed })
            }
        },
        Order::Remove { leg } => {
            if let Some((connected, checks)) = relay.leg_checks(leg) {
                tracing::debug!(leg = leg.0, connected, checks, "a media leg removed");
            }
            let last = relay.leg_stats(leg);
            relay.remove_leg(leg);
            reports.report(Report::Removed { leg, last })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report channel never makes the relay wait: statistics beyond its room are
    /// dropped and counted, control reports are held in order and delivered once there
    /// is room.
    #[tokio::test]
    async fn reports_never_wait_and_control_reports_are_never_lost() {
        let metrics = Metrics::new();
        let (tx, mut rx) = mpsc::channel(2);
        let mut reports = Reports::new(tx, metrics.clone());
        for n in 0..5 {
            assert!(reports.report(Report::Removed { leg: LegId(n), last: None }));
        }
        assert!(reports.report(Report::Stats { leg: LegId(9), stats: LegStats::default() }));
        assert_eq!(reports.held(), 3, "two in the channel, three held");
        assert_eq!(metrics.media_reports_dropped.get(), 1, "the statistics did not fit");
        let mut got = Vec::new();
        while got.len() < 5 {
            let Some(Report::Removed { leg, .. }) = rx.recv().await else { panic!("a removal") };
            got.push(leg.0);
            assert!(reports.flush());
        }
        assert_eq!(got, [0, 1, 2, 3, 4], "in order, none lost");
        assert_eq!(reports.held(), 0);
        drop(rx);
        assert!(!reports.report(Report::Removed { leg: LegId(7), last: None }), "the receiver is gone");
    }
}
