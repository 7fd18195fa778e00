//! The media of one phone leg: a UDP socket of its own, symmetric RTP (sent to where the
//! phone's packets come from, RFC 4961; the SDP's address only until the first packet),
//! G.711 both ways, keys from RFC 4733 events, a reorder buffer, and a 20 ms clock. Each
//! tick hands the owner 20 ms of what the phone said (concealed or silent where packets
//! were lost or late) and sends the phone the next 20 ms it was given (silence if none).
//! Packets of any length (10 to 60 ms) are taken; the leg sends 20 ms.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use crate::FRAME_8K;
use crate::dtmf::Keys;
use crate::jitter::{Jitter, Tick};
use crate::rtp;
use crate::sdp::Negotiated;

/// The reorder buffer: play after 3 packets, hold at most 6 (60 to 120 ms at 20 ms).
const PREFILL: usize = 3;
const DEPTH: usize = 6;
/// No packet for this long, while not held, is a dead line.
pub const MEDIA_TIMEOUT: Duration = Duration::from_secs(15);
/// The first packet may take longer (a phone still connecting its audio path).
pub const FIRST_MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// What a leg tells its owner.
#[derive(Debug, PartialEq)]
pub enum Heard {
    /// 20 ms of the phone's voice (every tick while media flows).
    Frame(Vec<i16>),
    /// A key pressed.
    Key(char),
    /// No media for [`MEDIA_TIMEOUT`] (or [`FIRST_MEDIA_TIMEOUT`] before the first
    /// packet) while not held: the line is dead. Said once.
    NoMedia,
}

/// What a leg counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LegCounts {
    /// Audio packets taken.
    pub received: u64,
    /// Packets sent.
    pub sent: u64,
    /// Keys taken.
    pub keys: u64,
    /// Datagrams that were not RTP, or of a payload type not negotiated.
    pub refused: u64,
    /// Datagrams from another address than the one the leg latched on to.
    pub strangers: u64,
    /// From the reorder buffer: late, lost, dry.
    pub late: u64,
    /// Lost packets.
    pub lost: u64,
    /// Interarrival jitter of the phone's packets (RFC 3550 A.8), microseconds.
    pub jitter_us: u64,
}

/// One leg's media.
#[derive(Debug)]
pub struct Leg {
    socket: UdpSocket,
    ssrc: u32,
}

impl Leg {
    /// A leg on `socket` (bound by the caller, on the address the SDP gives).
    pub fn new(socket: UdpSocket, ssrc: u32) -> Leg {
        Leg { socket, ssrc }
    }

    /// Where the leg takes RTP.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Run until `said` closes or `heard` is dropped: take the phone's packets, and every
    /// 20 ms hand over a frame and send one. `agreed` says the codec, the address and the
    /// direction; a new value (a re-INVITE: hold, a new address) applies at once.
    pub async fn run(
        self,
        mut agreed: watch::Receiver<Negotiated>,
        mut said: mpsc::Receiver<Vec<i16>>,
        heard: mpsc::Sender<Heard>,
        counts: watch::Sender<LegCounts>,
    ) {
        let mut state = State::new(agreed.borrow_and_update().clone(), self.ssrc);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut buf = vec![0u8; 2048];
        let mut out = Vec::with_capacity(200);
        loop {
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    let Ok((n, from)) = received else { continue };
                    if let Some(key) = state.datagram(&buf[..n], from) {
                        if heard.send(Heard::Key(key)).await.is_err() {
                            return;
                        }
                    }
                }
                changed = agreed.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    state.renegotiated(agreed.borrow_and_update().clone());
                }
                _ = tick.tick() => {
                    let frame = match said.try_recv() {
                        Ok(f) => Some(f),
                        Err(mpsc::error::TryRecvError::Empty) => None,
                        Err(mpsc::error::TryRecvError::Disconnected) => return,
                    };
                    if let Some(to) = state.outgoing(frame.as_deref(), &mut out) {
                        let _ = self.socket.send_to(&out, to).await;
                    }
                    let now = Instant::now();
                    let (frame, dead) = state.tick(now);
                    if dead && heard.send(Heard::NoMedia).await.is_err() {
                        return;
                    }
                    if let Some(frame) = frame && heard.send(Heard::Frame(frame)).await.is_err() {
                        return;
                    }
                    counts.send_replace(state.counts());
                }
            }
        }
    }
}

/// The leg's state, apart from its socket and clock (tested alone).
#[derive(Debug)]
struct State {
    agreed: Negotiated,
    /// Where the phone's packets come from, once one has.
    latched: Option<SocketAddr>,
    jitter: Jitter<Vec<u8>>,
    keys: Keys,
    /// Decoded samples not yet handed over.
    pcm: VecDeque<i16>,
    /// The last frame handed over (repeated, fading, to conceal a lost packet).
    last: Vec<i16>,
    decoded: Vec<i16>,
    encoded: Vec<u8>,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    counts: LegCounts,
    started: Instant,
    last_packet: Option<Instant>,
    said_dead: bool,
    /// The last packet's transit time, in 8 kHz ticks, and the jitter estimate.
    transit: Option<f64>,
    interarrival: f64,
    /// The source of the phone's audio: its key events share its sequence numbers.
    audio_ssrc: Option<u32>,
}

impl State {
    fn new(agreed: Negotiated, ssrc: u32) -> State {
        State {
            agreed,
            latched: None,
            jitter: Jitter::new(PREFILL, DEPTH),
            keys: Keys::default(),
            pcm: VecDeque::with_capacity(4 * FRAME_8K),
            last: vec![0; FRAME_8K],
            decoded: Vec::with_capacity(480),
            encoded: Vec::with_capacity(FRAME_8K),
            ssrc,
            seq: (ssrc >> 16) as u16,
            timestamp: ssrc.rotate_left(7),
            counts: LegCounts::default(),
            started: Instant::now(),
            last_packet: None,
            said_dead: false,
            transit: None,
            interarrival: 0.0,
            audio_ssrc: None,
        }
    }

    fn counts(&self) -> LegCounts {
        let j = self.jitter.counts();
        let jitter_us = (self.interarrival / 8000.0 * 1e6) as u64;
        LegCounts { late: j.late, lost: j.lost, jitter_us, ..self.counts }
    }

    fn renegotiated(&mut self, agreed: Negotiated) {
        if agreed.remote != self.agreed.remote {
            // A new address in a re-INVITE: latch again.
            self.latched = None;
        }
        if agreed.direction.receives() && !self.agreed.direction.receives() {
            // Back from a hold: the silence was not a dead line.
            self.last_packet = Some(Instant::now());
        }
        self.agreed = agreed;
    }

    /// A datagram arrived: taken, or counted and dropped. A key if it starts one.
    fn datagram(&mut self, d: &[u8], from: SocketAddr) -> Option<char> {
        match self.latched {
            Some(l) if l != from => {
                self.counts.strangers += 1;
                return None;
            }
            _ => {}
        }
        if rtp::is_rtcp(d) {
            return None;
        }
        let Ok(p) = rtp::parse(d) else {
            self.counts.refused += 1;
            return None;
        };
        self.latched = Some(from);
        self.last_packet = Some(Instant::now());
        if Some(p.payload_type) == self.agreed.dtmf {
            // A key event of the audio's own stream takes a sequence number (RFC 4733
            // §2.1): an empty place in the reorder buffer, so the audio after it is not
            // taken for lost.
            if self.audio_ssrc == Some(p.ssrc) {
                self.jitter.push(p.seq, Vec::new());
            }
            return match self.keys.packet(p.timestamp, p.payload) {
                Ok(Some(k)) => {
                    self.counts.keys += 1;
                    Some(k)
                }
                Ok(None) => None,
                Err(_) => {
                    self.counts.refused += 1;
                    None
                }
            };
        }
        if p.payload_type != self.agreed.payload_type || p.payload.is_empty() || p.payload.len() > 480 {
            self.counts.refused += 1;
            return None;
        }
        self.counts.received += 1;
        self.audio_ssrc = Some(p.ssrc);
        // RFC 3550 A.8: the interarrival jitter, in timestamp units (8 kHz).
        let arrival = self.started.elapsed().as_secs_f64() * 8000.0;
        let transit = arrival - f64::from(p.timestamp);
        if let Some(before) = self.transit {
            let d = (transit - before).abs();
            // A jump of more than a second is a new timestamp base, not jitter.
            if d < 8000.0 {
                self.interarrival += (d - self.interarrival) / 16.0;
            }
        }
        self.transit = Some(transit);
        self.jitter.push(p.seq, p.payload.to_vec());
        None
    }

    /// The 20 ms tick: the phone's next frame (if media has started), and whether the
    /// line just went dead.
    fn tick(&mut self, now: Instant) -> (Option<Vec<i16>>, bool) {
        while self.pcm.len() < FRAME_8K {
            match self.jitter.tick() {
                Tick::Frame(bytes) => {
                    self.agreed.law.decode(&bytes, &mut self.decoded);
                    self.pcm.extend(self.decoded.iter());
                }
                Tick::Lost => {
                    // Conceal: the last frame again, at half its level.
                    let n = usize::try_from(self.agreed.ptime).unwrap_or(20) * 8;
                    let fade: Vec<i16> = self.last.iter().cycle().take(n).map(|s| s / 2).collect();
                    self.pcm.extend(fade);
                }
                Tick::Silent => break,
            }
        }
        let frame = if self.last_packet.is_none() && self.pcm.is_empty() {
            None
        } else {
            let mut f: Vec<i16> = self.pcm.drain(..self.pcm.len().min(FRAME_8K)).collect();
            f.resize(FRAME_8K, 0);
            self.last.clone_from(&f);
            Some(f)
        };
        let quiet_for = now.saturating_duration_since(self.last_packet.unwrap_or(self.started));
        let limit = if self.last_packet.is_some() { MEDIA_TIMEOUT } else { FIRST_MEDIA_TIMEOUT };
        let dead = self.agreed.direction.receives() && quiet_for >= limit && !self.said_dead;
        if dead {
            self.said_dead = true;
        }
        (frame, dead)
    }

    /// The packet to send this tick (`frame`, or silence), and where; nothing while the
    /// leg must not send.
    fn outgoing(&mut self, frame: Option<&[i16]>, out: &mut Vec<u8>) -> Option<SocketAddr> {
        let silence = [0i16; FRAME_8K];
        let frame = frame.unwrap_or(&silence);
        self.timestamp = self.timestamp.wrapping_add(FRAME_8K as u32);
        if !self.agreed.direction.sends() {
            return None;
        }
        let to = self.latched.unwrap_or(self.agreed.remote);
        if to.ip().is_unspecified() || to.port() == 0 {
            return None;
        }
        self.agreed.law.encode(frame, &mut self.encoded);
        self.seq = self.seq.wrapping_add(1);
        let p = rtp::Packet {
            payload_type: self.agreed.payload_type,
            marker: self.counts.sent == 0,
            seq: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            payload: &self.encoded,
        };
        rtp::write(&p, out);
        self.counts.sent += 1;
        Some(to)
    }
}

#[cfg(test)]
#[path = "leg_tests.rs"]
mod tests;
