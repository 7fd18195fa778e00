//! The media relay's task: the shared UDP socket, the ICE-TCP listener, and the sans-I/O
//! `Relay`, driven like the hub drives the engine. The hub sends it [`MediaCmd`]s and
//! never waits for it; what the relay has to say comes back to the hub as
//! [`crate::hub::Cmd::Media`].
//!
//! ICE-TCP (RFC 6544), for networks that block UDP: each accepted connection gets a task
//! that cuts its byte stream into RFC 4571 frames for the relay and writes the relay's
//! packets back framed. A connection is closed when its first packet is not STUN (an
//! ICE connectivity check), when no leg has confirmed it [`TCP_UNCONFIRMED`] after it
//! opened (or since its leg went), when it is silent for [`TCP_IDLE`] (ICE consent
//! checks come every few seconds on a live one), and when [`MAX_TCP_CONNECTIONS`] are
//! open new ones are refused. Writes that would wait are dropped, as a datagram would
//! be: a slow connection never stalls the relay.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use kakehashi_relay::framing::{Deframer, frame};
use kakehashi_relay::{Kind, LegEvent, LegId, LegStats, Peer, Relay, SessionId, Transmit, Transport, classify};
use std::collections::HashMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::hub::Cmd;
use crate::metrics::Metrics;

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

/// What a connection task tells the relay's task.
#[derive(Debug)]
enum TcpIn {
    Packet(SocketAddr, BytesMut),
    /// The connection from this address, with this number, closed (a new connection
    /// from the same address may be open already).
    Closed(SocketAddr, u64),
}

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

/// One ICE-TCP connection: frames in to the relay, the relay's packets out, framed.
async fn tcp_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    number: u64,
    mut out: mpsc::Receiver<BytesMut>,
    relay: mpsc::Sender<TcpIn>,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.split();
    let mut deframer = Deframer::default();
    let mut buf = vec![0u8; 4096];
    let mut first = true;
    loop {
        tokio::select! {
            r = tokio::time::timeout(TCP_IDLE, reader.read(&mut buf)) => {
                let n = match r {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => break,
                };
                deframer.push(&buf[..n]);
                while let Some(packet) = deframer.next_packet() {
                    // RFC 6544: a connection starts with a connectivity check.
                    if std::mem::take(&mut first) && classify(&packet) != Kind::Stun {
                        tracing::debug!(%peer, "ICE-TCP connection closed: its first packet is not STUN");
                        let _ = relay.send(TcpIn::Closed(peer, number)).await;
                        return;
                    }
                    if relay.send(TcpIn::Packet(peer, packet)).await.is_err() {
                        return;
                    }
                }
            }
            packet = out.recv() => {
                let Some(packet) = packet else { break };
                let Ok(framed) = frame(&packet) else { continue };
                if writer.write_all(&framed).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = relay.send(TcpIn::Closed(peer, number)).await;
}

/// Run the relay on its sockets until the hub goes away.
pub async fn run(
    sockets: MediaSockets,
    mut commands: mpsc::Receiver<MediaCmd>,
    hub: mpsc::Sender<Cmd>,
    metrics: Metrics,
) {
    let MediaSockets { udp: socket, advertised, tcp } = sockets;
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "media socket has no address; no media");
            return;
        }
    };
    let mut relay = Relay::new(local, advertised);
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
            if hub.send(Cmd::Media(MediaEvent::Leg { leg, event })).await.is_err() {
                return;
            }
        }
        let wake = relay.poll_timeout().map(tokio::time::Instant::from_std);
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
                        tokio::spawn(tcp_connection(stream, peer, accepted_so_far, out_rx, tcp_tx.clone()));
                    }
                    Ok((_, peer)) => tracing::warn!(%peer, "ICE-TCP connection refused: too many open"),
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
                let now = relay.demux_stats();
                metrics.media_dropped.with_label_values(&["unknown_source"]).inc_by(now.dropped - dropped.dropped);
                metrics.media_dropped.with_label_values(&["rate_limited"]).inc_by(now.rate_limited - dropped.rate_limited);
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
