//! The relay's sans-I/O core: legs (one `rtc` peer connection per participant) on one
//! shared UDP address, fed through the [`Demux`].
//!
//! Drive it like the engine: [`Relay::handle_datagram`] for every datagram read from the
//! shared socket and [`Relay::handle_tcp`] for every packet read from an ICE-TCP
//! connection, send what [`Relay::poll_transmit`] returns, call
//! [`Relay::handle_timeout`] when [`Relay::poll_timeout`] says so, and read
//! [`Relay::poll_event`] for legs connecting and failing. The relay reads no clock: time
//! is the `now` of the last call that brought one.
//!
//! Each leg is ICE-lite with its own random ICE credentials, answering the participant's
//! offer with one host candidate: the shared address (or the advertised public one), and
//! with [`Relay::with_tcp`] a passive TCP candidate for networks that block UDP.
//! An address is confirmed for a leg when the leg's ICE agent answers a binding request
//! from it with a success response, which it does only after checking MESSAGE-INTEGRITY.
//!
//! A session's participants are numbered by the caller (the server uses their role). A
//! participant's new offer replaces its earlier leg: the others keep their tracks for it,
//! and what they receive continues (same SSRC, sequence numbers and timestamps carried
//! on), so a reconnect costs them neither a renegotiation nor a stall.
//!
//! The module by idea: `types.rs` (what callers see), `leg.rs` (legs and sessions, and a
//! leg leaving), `negotiation.rs` (offers and answers), `packets.rs` (packets in and out
//! through the demultiplexer), `events.rs` (what a peer connection says after a turn),
//! `forwarding.rs` (RTP to the other legs, keyframe requests), `reports.rs` (reception
//! reports, round trips) with `congestion.rs` (the bandwidth policy as a pure state
//! machine), `stats.rs` (statistics).

mod congestion;
mod events;
mod forwarding;
mod leg;
mod negotiation;
mod packets;
mod reports;
mod stats;
mod types;

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use rtc::sansio::Protocol;
use rustc_hash::FxHashMap;

pub use types::{
    CONNECT_WITHIN, LegEvent, LegId, LegStats, MediaStats, Peer, RelayError, SessionId, Transmit, Transport,
};

use crate::demux::Demux;
use leg::{Leg, Session, Source};

/// The relay's legs on one shared address.
pub struct Relay {
    local: SocketAddr,
    advertised: SocketAddr,
    /// The passive TCP candidate's address, if ICE-TCP is on.
    tcp: Option<SocketAddr>,
    demux: Demux<LegId, Peer>,
    legs: FxHashMap<LegId, Leg>,
    sessions: FxHashMap<SessionId, Session>,
    next: u64,
    /// The time of the latest call that brought one.
    now: Instant,
    /// Wall-clock time at `now` when the relay was made: NTP time for round trips.
    clock: (Instant, SystemTime),
    transmit: VecDeque<Transmit>,
    events: VecDeque<(LegId, LegEvent)>,
    /// Legs touched since they were last drained (a datagram, a forwarded packet, a timer,
    /// a description): only these are polled, so a packet costs O(receivers), not O(legs).
    dirty: VecDeque<LegId>,
    /// Every leg's next timer, earliest first: finding the next timeout and the legs due
    /// costs O(log legs), not a poll of every peer connection.
    deadlines: BTreeSet<(Instant, LegId)>,
    /// When a keyframe was last requested of each source.
    keyframe_asked: FxHashMap<(SessionId, Source), Instant>,
    keyframe_requests: u64,
    random: Box<dyn Randomness>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("local", &self.local).field("legs", &self.legs.len()).finish_non_exhaustive()
    }
}

/// Where the relay's randomness comes from: ICE credentials and the SSRCs of forwarded
/// streams. [`OsRandom`] in production; a seeded source makes a test repeatable.
pub trait Randomness: Send {
    /// Fill `bytes`; `false` if no randomness could be had.
    fn fill(&mut self, bytes: &mut [u8]) -> bool;
}

/// The operating system's generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl Randomness for OsRandom {
    fn fill(&mut self, bytes: &mut [u8]) -> bool {
        getrandom::fill(bytes).is_ok()
    }
}

/// The relay's clock at its start: an instant and the wall-clock time then (for the NTP
/// times of round trips). The relay reads no clock after that.
#[derive(Clone, Copy, Debug)]
pub struct Start {
    /// The instant.
    pub now: Instant,
    /// The wall-clock time at that instant.
    pub wall: SystemTime,
}

impl Start {
    /// Now, by the system's clocks (the caller's one reading).
    pub fn system() -> Start {
        Start { now: Instant::now(), wall: SystemTime::now() }
    }
}

impl Relay {
    /// A random string of `len` letters and digits (ICE credentials).
    pub(super) fn random_string(&mut self, len: usize) -> Result<String, RelayError> {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut bytes = vec![0u8; len];
        if !self.random.fill(&mut bytes) {
            return Err(RelayError::Random);
        }
        Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect())
    }

    /// A random SSRC.
    pub(super) fn random_ssrc(&mut self) -> Option<u32> {
        let mut bytes = [0u8; 4];
        self.random.fill(&mut bytes).then(|| u32::from_be_bytes(bytes))
    }
}

/// Index of a kind in per-kind arrays.
fn kind_index(video: bool) -> usize {
    usize::from(video)
}

impl Relay {
    /// A relay on the socket bound at `local`, advertising `advertised` as its candidate
    /// (the public address behind a 1:1 NAT, or `local`), its clock starting at `start`,
    /// its randomness from `random`.
    pub fn new(local: SocketAddr, advertised: SocketAddr, start: Start, random: Box<dyn Randomness>) -> Relay {
        let now = start.now;
        Relay {
            local,
            advertised,
            tcp: None,
            demux: Demux::new(),
            legs: FxHashMap::default(),
            sessions: FxHashMap::default(),
            next: 1,
            now,
            clock: (now, start.wall),
            random,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            dirty: VecDeque::new(),
            deadlines: BTreeSet::new(),
            keyframe_asked: FxHashMap::default(),
            keyframe_requests: 0,
        }
    }

    /// Offer ICE-TCP too: every leg's answer gets a passive TCP candidate at `advertised`
    /// (the listener's address, or its public one). Packets from connections to it come
    /// in through [`Relay::handle_tcp`].
    pub fn with_tcp(mut self, advertised: SocketAddr) -> Relay {
        self.tcp = Some(advertised);
        self
    }

    /// Number legs from `first` (after 1 by default): relays of several nodes whose legs
    /// one controller tracks give each a range of its own.
    pub fn with_legs_from(mut self, first: u64) -> Relay {
        self.next = first.max(1);
        self
    }

    pub(super) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    /// Note that a leg has something to drain.
    pub(super) fn touch(&mut self, id: LegId) {
        if let Some(leg) = self.legs.get_mut(&id)
            && !leg.dirty
        {
            leg.dirty = true;
            self.dirty.push_back(id);
        }
    }

    /// Drain every touched leg (draining can touch more: forwarding, keyframe requests),
    /// then note when each one's next timer is due.
    pub(super) fn process(&mut self) {
        while let Some(id) = self.dirty.pop_front() {
            if let Some(leg) = self.legs.get_mut(&id) {
                leg.dirty = false;
            }
            self.drain_events(id);
            self.flush_leg(id, None);
            self.refresh_deadline(id);
        }
    }

    /// Re-read a leg's next timer. Everything that reaches a peer connection touches its
    /// leg, and every touched leg is drained and then refreshed here, so the index is
    /// current whenever no leg is dirty.
    pub(super) fn refresh_deadline(&mut self, id: LegId) {
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let next = match (leg.pc.poll_timeout(), leg.connect_by) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if next != leg.deadline {
            if let Some(old) = leg.deadline {
                self.deadlines.remove(&(old, id));
            }
            if let Some(next) = next {
                self.deadlines.insert((next, id));
            }
            leg.deadline = next;
        }
    }

    /// The next leg event.
    pub fn poll_event(&mut self) -> Option<(LegId, LegEvent)> {
        if self.events.is_empty() {
            self.process();
        }
        self.events.pop_front()
    }

    /// When to call [`Relay::handle_timeout`]: the earliest timer of any leg.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        // Touched legs may have new timers: drain them first (their output waits in the
        // transmit and event queues).
        self.process();
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Run the timers of the legs that are due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        while let Some(&(at, id)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(leg) = self.legs.get_mut(&id) {
                leg.deadline = None;
                let _ = leg.pc.handle_timeout(now);
                if leg.connect_by.is_some_and(|by| by <= now) {
                    leg.connect_by = None;
                    self.events.push_back((id, LegEvent::NotConnected));
                }
            }
            self.touch(id);
        }
    }

    /// The legs now open.
    pub fn legs(&self) -> impl Iterator<Item = LegId> + '_ {
        self.legs.keys().copied()
    }

    /// How many legs and sessions are open.
    pub fn counts(&self) -> (usize, usize) {
        (self.legs.len(), self.sessions.len())
    }

    /// The confirmed addresses of a leg.
    pub fn addresses(&self, id: LegId) -> &[Peer] {
        self.demux.addresses(id)
    }

    /// Whether a leg has connected, and how many connectivity checks from addresses not
    /// (yet) its own it was handed: for telling, of a leg that never connected, whether
    /// any check reached it.
    pub fn leg_checks(&self, id: LegId) -> Option<(bool, u64)> {
        self.legs.get(&id).map(|l| (l.connected, self.demux.probed(id)))
    }

    /// Demultiplexer counters.
    pub fn demux_stats(&self) -> crate::DemuxStats {
        self.demux.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun;
    use rtc::peer_connection::RTCPeerConnectionBuilder;

    /// An offer from an `rtc` peer connection with one data channel.
    fn offer(now: Instant) -> String {
        let mut pc = RTCPeerConnectionBuilder::new().build(now).unwrap();
        pc.create_data_channel("probe", None).unwrap();
        let offer = pc.create_offer(None).unwrap();
        pc.set_local_description(now, offer).unwrap();
        pc.local_description().unwrap().sdp.clone()
    }

    fn ufrag(sdp: &str) -> String {
        sdp.lines().find_map(|l| l.strip_prefix("a=ice-ufrag:")).unwrap().trim().to_string()
    }

    #[test]
    fn an_unauthenticated_binding_request_does_not_confirm_an_address() {
        let now = Instant::now();
        let local = SocketAddr::from(([127, 0, 0, 1], 3478));
        let mut relay = Relay::new(local, local, Start::system(), Box::new(OsRandom));
        let (leg, answer) = relay.accept_offer(now, SessionId(1), 0, offer(now)).unwrap();
        assert!(answer.contains("a=ice-lite") && answer.contains("127.0.0.1 3478 typ host"), "{answer}");
        let attacker = SocketAddr::from(([127, 0, 0, 9], 4000));
        // It names the leg's ufrag but carries no MESSAGE-INTEGRITY with the ICE password.
        let forged = stun::binding_request([5; 12], &format!("{}:whatever", ufrag(&answer)));
        relay.handle_datagram(now, attacker, &forged);
        while let Some(Transmit { to, data }) = relay.poll_transmit() {
            let success = stun::parse(&data).is_ok_and(|m| m.kind == stun::BINDING_SUCCESS);
            assert!(!(to.addr == attacker && success), "no success response to a forged request");
        }
        assert!(relay.addresses(leg).is_empty());
        assert_eq!(relay.demux_stats().probes, 1);
        // Garbage from the same address is dropped without reaching the leg.
        relay.handle_datagram(now, attacker, &[0x80, 111, 0, 1]);
        assert_eq!(relay.demux_stats().dropped, 1);
        relay.remove_leg(leg);
        assert!(relay.poll_timeout().is_none());
    }

    #[test]
    fn a_malformed_offer_is_refused_with_a_reason() {
        let now = Instant::now();
        let local = SocketAddr::from(([127, 0, 0, 1], 3478));
        let mut relay = Relay::new(local, local, Start::system(), Box::new(OsRandom));
        for bad in ["", "not sdp at all", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"] {
            let err = relay.accept_offer(now, SessionId(1), 0, bad.to_string()).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
        assert_eq!(relay.demux_stats(), crate::DemuxStats::default());
    }
}
