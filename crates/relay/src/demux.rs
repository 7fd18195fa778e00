//! Which leg a datagram arriving on the shared UDP port belongs to.
//!
//! A datagram from an address the relay has confirmed for a leg goes to that leg: one
//! hash lookup, the hot path for media (a binding request from it that names another
//! leg is that leg's probe: the address changed hands). From any other address, only a
//! STUN binding request is considered, and only if its USERNAME names a leg's ICE ufrag.
//! It is routed to that leg as a probe, **without** learning the address: the leg's ICE
//! agent checks MESSAGE-INTEGRITY with the ICE password, and the relay calls
//! [`Demux::confirm`] once it has. Everything else from unknown addresses is dropped after a byte's look (not
//! STUN) or a STUN header's (no leg's ufrag), whichever host sent it: no flood, from one
//! host or many, nor junk from a participant's own address (a carrier's NAT shares it),
//! can crowd out a new participant's checks. Each leg's checks have a budget of their own
//! ([`crate::budget`]), so a leaked ufrag lets a flood reach one leg's ICE agent only.

use std::hash::Hash;
use std::net::SocketAddr;
use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::budget::Bucket;
use crate::stun::{self, StunError};

/// Connectivity checks from unconfirmed addresses handed to one leg's ICE agent a second,
/// at most: well above what an ICE agent sends (a check per pair every 50 ms).
pub const PROBES_PER_LEG_PER_SEC: u32 = 200;

/// Addresses one leg may have at once (a phone on Wi-Fi and cellular, IPv4 and IPv6).
/// Confirming one more evicts the least recently used.
pub const MAX_ADDRESSES_PER_LEG: usize = 4;

/// What a datagram is, by its first byte (RFC 7983).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// STUN (0-3).
    Stun,
    /// DTLS (20-63).
    Dtls,
    /// RTP (128-191, second byte not an RTCP type).
    Rtp,
    /// RTCP (128-191, second byte 192-223).
    Rtcp,
    /// Anything else (ZRTP, TURN channels, garbage).
    Other,
}

/// Classify a datagram.
pub fn classify(b: &[u8]) -> Kind {
    match b.first() {
        Some(0..=3) => Kind::Stun,
        Some(20..=63) => Kind::Dtls,
        Some(128..=191) => match b.get(1) {
            Some(192..=223) => Kind::Rtcp,
            Some(_) => Kind::Rtp,
            None => Kind::Other,
        },
        _ => Kind::Other,
    }
}

/// Where a datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<L> {
    /// To this leg, from a confirmed address.
    Leg(L),
    /// A binding request for this leg from an address not yet confirmed: hand it to the
    /// leg's ICE agent, and confirm the address if the agent accepts it.
    Probe(L),
    /// Nowhere.
    Drop(Drop),
}

/// Why a datagram was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    /// Not STUN, from an address no leg has.
    UnknownSource,
    /// STUN, but malformed.
    Malformed(StunError),
    /// A STUN message that is not a binding request with a username, from an unknown address.
    NotABindingRequest,
    /// A binding request naming no leg's ufrag.
    UnknownUfrag,
    /// A check for a leg over that leg's budget of checks.
    RateLimited,
    /// From a confirmed address, but none of STUN, DTLS, RTP or RTCP (RFC 7983's first
    /// byte): nothing a WebRTC peer sends. An empty datagram would make `rtc` log an error
    /// for each one.
    NotWebRtc,
}

/// Counters for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemuxStats {
    /// Datagrams routed to a leg from a confirmed address.
    pub routed: u64,
    /// Binding requests routed as probes.
    pub probes: u64,
    /// Dropped: from unknown sources, malformed, or unknown ufrag.
    pub dropped: u64,
    /// Checks for a leg dropped because the leg was over its budget of checks.
    pub rate_limited: u64,
    /// Datagrams from a confirmed address that no WebRTC peer sends ([`Drop::NotWebRtc`]).
    pub not_webrtc: u64,
}

#[derive(Debug)]
struct LegEntry<A> {
    ufrag: String,
    addresses: Vec<A>,
    probes: Bucket,
    /// Checks handed to the leg's agent so far.
    probed: u64,
}

/// A leg with this ufrag exists already.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ICE ufrag already in use by another leg")]
pub struct DuplicateUfrag;

/// The demultiplexer of the shared port, generic over the leg id and the address (a
/// UDP source, or a TCP connection's remote address with its transport).
#[derive(Debug)]
pub struct Demux<L, A = SocketAddr> {
    by_ufrag: FxHashMap<String, L>,
    /// Confirmed address → (leg, last use), for LRU eviction.
    by_addr: FxHashMap<A, (L, u64)>,
    legs: FxHashMap<L, LegEntry<A>>,
    clock: u64,
    stats: DemuxStats,
}

impl<L: Copy + Eq + Hash, A: Copy + Eq + Hash> Default for Demux<L, A> {
    fn default() -> Self {
        Demux::new()
    }
}

impl<L: Copy + Eq + Hash, A: Copy + Eq + Hash> Demux<L, A> {
    /// An empty demultiplexer.
    pub fn new() -> Demux<L, A> {
        Demux {
            by_ufrag: FxHashMap::default(),
            by_addr: FxHashMap::default(),
            legs: FxHashMap::default(),
            clock: 0,
            stats: DemuxStats::default(),
        }
    }

    /// Register a leg by the ICE ufrag of its local description.
    pub fn add_leg(&mut self, leg: L, ufrag: &str) -> Result<(), DuplicateUfrag> {
        if self.by_ufrag.contains_key(ufrag) {
            return Err(DuplicateUfrag);
        }
        self.remove_leg(leg);
        self.by_ufrag.insert(ufrag.to_string(), leg);
        let probes = Bucket::full(PROBES_PER_LEG_PER_SEC);
        self.legs.insert(leg, LegEntry { ufrag: ufrag.to_string(), addresses: Vec::new(), probes, probed: 0 });
        Ok(())
    }

    /// An ICE restart gave the leg a new ufrag. Its confirmed addresses stay until they
    /// are replaced or the leg closes.
    pub fn set_ufrag(&mut self, leg: L, ufrag: &str) -> Result<(), DuplicateUfrag> {
        if self.by_ufrag.get(ufrag).is_some_and(|l| *l != leg) {
            return Err(DuplicateUfrag);
        }
        if let Some(entry) = self.legs.get_mut(&leg) {
            self.by_ufrag.remove(&entry.ufrag);
            entry.ufrag = ufrag.to_string();
            self.by_ufrag.insert(ufrag.to_string(), leg);
        }
        Ok(())
    }

    /// Forget a leg, its ufrag and all its addresses.
    pub fn remove_leg(&mut self, leg: L) {
        if let Some(entry) = self.legs.remove(&leg) {
            self.by_ufrag.remove(&entry.ufrag);
            for a in entry.addresses {
                self.by_addr.remove(&a);
            }
        }
    }

    /// The leg's ICE agent accepted a binding request from `addr`: route its datagrams
    /// to the leg from now on. An address confirmed by another leg moves to this one.
    /// Returns the address evicted to make room, if any.
    pub fn confirm(&mut self, leg: L, addr: A) -> Option<A> {
        if !self.legs.contains_key(&leg) {
            return None;
        }
        self.clock += 1;
        match self.by_addr.get_mut(&addr) {
            Some(entry) if entry.0 == leg => {
                entry.1 = self.clock;
                return None;
            }
            Some(&mut (other, _)) => {
                if let Some(e) = self.legs.get_mut(&other) {
                    e.addresses.retain(|a| *a != addr);
                }
            }
            None => {}
        }
        let mut evicted = None;
        if let Some(entry) = self.legs.get_mut(&leg) {
            if entry.addresses.len() >= MAX_ADDRESSES_PER_LEG {
                let oldest = entry
                    .addresses
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, a)| self.by_addr.get(a).map_or(0, |e| e.1))
                    .map(|(i, _)| i);
                if let Some(i) = oldest {
                    let a = entry.addresses.swap_remove(i);
                    self.by_addr.remove(&a);
                    evicted = Some(a);
                }
            }
            entry.addresses.push(addr);
        }
        self.by_addr.insert(addr, (leg, self.clock));
        evicted
    }

    /// Where a datagram from `from` goes.
    pub fn route(&mut self, now: Instant, from: A, datagram: &[u8]) -> Route<L> {
        let kind = classify(datagram);
        // A check from a confirmed address naming another leg: the address has changed
        // hands. A NAT gave a freed port to someone else (or the loopback's clients reuse
        // one) while the leg that had it lives on, its participant gone; until it fails,
        // the newcomer's checks would go to it and be refused. The other leg's agent
        // decides: only its password's holder moves the address ([`Demux::confirm`]).
        // Consent checks come every few seconds: a header's look costs nothing here, and
        // media (not STUN) are not looked at.
        if kind == Kind::Stun
            && let Some(&(leg, _)) = self.by_addr.get(&from)
            && let Route::Probe(other) = self.route_unknown(datagram)
            && other != leg
        {
            return self.probe(now, other);
        }
        if let Some(entry) = self.by_addr.get_mut(&from) {
            if kind == Kind::Other {
                self.stats.not_webrtc += 1;
                return Route::Drop(Drop::NotWebRtc);
            }
            self.clock += 1;
            entry.1 = self.clock;
            self.stats.routed += 1;
            return Route::Leg(entry.0);
        }
        if kind != Kind::Stun {
            // Costs a byte's look: no budget needed.
            self.stats.dropped += 1;
            return Route::Drop(Drop::UnknownSource);
        }
        // Whether it names a leg is all that is asked of it, whoever sent it. A budget per
        // source host once came first, and dropped a check unread when its host had sent
        // junk: but a host is often many people (a carrier's NAT puts thousands of phones
        // behind one address), and someone else's junk must not keep a participant out.
        // Reading a STUN header and one attribute is cheap beside receiving the datagram;
        // what costs (the ICE agent's integrity check) is bounded per leg.
        let route = self.route_unknown(datagram);
        if let Route::Probe(leg) = route {
            return self.probe(now, leg);
        }
        self.stats.dropped += 1;
        route
    }

    /// A check for `leg` from an address not (or not yet) its own, within the leg's budget.
    fn probe(&mut self, now: Instant, leg: L) -> Route<L> {
        let Some(entry) = self.legs.get_mut(&leg) else {
            self.stats.dropped += 1;
            return Route::Drop(Drop::UnknownUfrag);
        };
        if !entry.probes.take(now) {
            self.stats.rate_limited += 1;
            return Route::Drop(Drop::RateLimited);
        }
        entry.probed += 1;
        self.stats.probes += 1;
        Route::Probe(leg)
    }

    /// How many checks from addresses not (yet) its own `leg` was handed: none means
    /// none reached the relay, for a leg that never connected.
    pub fn probed(&self, leg: L) -> u64 {
        self.legs.get(&leg).map_or(0, |e| e.probed)
    }

    fn route_unknown(&self, datagram: &[u8]) -> Route<L> {
        let message = match stun::parse(datagram) {
            Ok(m) => m,
            Err(e) => return Route::Drop(Drop::Malformed(e)),
        };
        let Some(ufrag) = message.local_ufrag().filter(|_| message.is_binding_request()) else {
            return Route::Drop(Drop::NotABindingRequest);
        };
        match self.by_ufrag.get(ufrag) {
            Some(leg) => Route::Probe(*leg),
            None => Route::Drop(Drop::UnknownUfrag),
        }
    }

    /// The leg's confirmed addresses.
    pub fn addresses(&self, leg: L) -> &[A] {
        self.legs.get(&leg).map_or(&[], |e| e.addresses.as_slice())
    }

    /// An address is gone (a TCP connection closed): stop routing it. The leg keeps its
    /// other addresses.
    pub fn forget(&mut self, addr: A) {
        if let Some((leg, _)) = self.by_addr.remove(&addr)
            && let Some(entry) = self.legs.get_mut(&leg)
        {
            entry.addresses.retain(|a| *a != addr);
        }
    }

    /// Whether `addr` is confirmed for some leg.
    pub fn is_confirmed(&self, addr: A) -> bool {
        self.by_addr.contains_key(&addr)
    }

    /// Addresses confirmed, over all legs.
    pub fn addresses_confirmed(&self) -> usize {
        self.by_addr.len()
    }

    /// Legs registered.
    pub fn legs(&self) -> usize {
        self.legs.len()
    }

    /// Counters.
    pub fn stats(&self) -> DemuxStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::binding_request;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn rtp() -> Vec<u8> {
        let mut p = vec![0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42];
        p.extend_from_slice(&[0; 20]);
        p
    }

    #[test]
    fn classification_follows_rfc_7983() {
        assert_eq!(classify(&binding_request([0; 12], "a:b")), Kind::Stun);
        assert_eq!(classify(&[22, 254, 253]), Kind::Dtls);
        assert_eq!(classify(&rtp()), Kind::Rtp);
        assert_eq!(classify(&[0x80, 200, 0, 6]), Kind::Rtcp);
        assert_eq!(classify(&[0x81, 205]), Kind::Rtcp);
        assert_eq!(classify(&[0x80]), Kind::Other);
        assert_eq!(classify(&[]), Kind::Other);
        assert_eq!(classify(&[17, 0]), Kind::Other);
        assert_eq!(classify(&[64, 0]), Kind::Other);
        assert_eq!(classify(&[255]), Kind::Other);
    }

    #[test]
    fn binding_requests_probe_and_confirmation_opens_the_fast_path() {
        let t = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "desk").unwrap();
        d.add_leg(2, "intp").unwrap();
        assert_eq!(d.add_leg(3, "desk"), Err(DuplicateUfrag));
        // Media from an unknown address is dropped.
        assert_eq!(d.route(t, addr(5000), &rtp()), Route::Drop(Drop::UnknownSource));
        // A binding request naming leg 2 is a probe; the address is not learned yet.
        let probe = binding_request([1; 12], "intp:remote");
        assert_eq!(d.route(t, addr(5000), &probe), Route::Probe(2));
        assert_eq!(d.route(t, addr(5000), &rtp()), Route::Drop(Drop::UnknownSource));
        // Confirmed: media from there goes to leg 2.
        assert_eq!(d.confirm(2, addr(5000)), None);
        assert_eq!(d.route(t, addr(5000), &rtp()), Route::Leg(2));
        assert_eq!(d.route(t, addr(5000), &probe), Route::Leg(2));
        assert_eq!(d.addresses(2), &[addr(5000)]);
        // Nothing a WebRTC peer sends (an empty datagram; a first byte RFC 7983 gives to no
        // protocol of ours) goes no further, even from there.
        assert_eq!(d.route(t, addr(5000), &[]), Route::Drop(Drop::NotWebRtc));
        assert_eq!(d.route(t, addr(5000), &[17, 0]), Route::Drop(Drop::NotWebRtc));
        assert_eq!(d.stats().not_webrtc, 2);
        // Unknown ufrag, not a binding request, malformed.
        assert_eq!(d.route(t, addr(6000), &binding_request([1; 12], "nobody:x")), Route::Drop(Drop::UnknownUfrag));
        let mut response = binding_request([1; 12], "intp:x");
        response[0] = 0x01; // 0x0101: a binding success response
        assert_eq!(d.route(t, addr(6000), &response), Route::Drop(Drop::NotABindingRequest));
        assert!(matches!(d.route(t, addr(6000), &[0, 1, 0]), Route::Drop(Drop::Malformed(_))));
        let s = d.stats();
        assert_eq!((s.routed, s.probes), (2, 1));
        // Closing the leg forgets its ufrag and addresses.
        d.remove_leg(2);
        assert_eq!(d.route(t, addr(5000), &rtp()), Route::Drop(Drop::UnknownSource));
        assert_eq!(d.route(t, addr(5000), &probe), Route::Drop(Drop::UnknownUfrag));
        assert_eq!(d.legs(), 1);
    }

    #[test]
    fn addresses_per_leg_are_bounded_least_recently_used_first() {
        let t = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "a").unwrap();
        for p in 0..MAX_ADDRESSES_PER_LEG as u16 {
            assert_eq!(d.confirm(1, addr(7000 + p)), None);
        }
        // Traffic on the first keeps it fresh; the second is the least recently used.
        assert_eq!(d.route(t, addr(7000), &rtp()), Route::Leg(1));
        assert_eq!(d.confirm(1, addr(8000)), Some(addr(7001)));
        assert_eq!(d.route(t, addr(7001), &rtp()), Route::Drop(Drop::UnknownSource));
        assert_eq!(d.route(t, addr(7000), &rtp()), Route::Leg(1));
        assert_eq!(d.addresses(1).len(), MAX_ADDRESSES_PER_LEG);
        // An address confirmed by another leg moves to it.
        d.add_leg(2, "b").unwrap();
        d.confirm(2, addr(8000));
        assert_eq!(d.route(t, addr(8000), &rtp()), Route::Leg(2));
        assert_eq!(d.addresses(1).len(), MAX_ADDRESSES_PER_LEG - 1);
    }

    #[test]
    fn a_forgotten_address_routes_nowhere_and_the_leg_keeps_the_others() {
        let t = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "a").unwrap();
        d.confirm(1, addr(7000));
        d.confirm(1, addr(7001));
        d.forget(addr(7000));
        d.forget(addr(7999));
        assert_eq!(d.route(t, addr(7000), &rtp()), Route::Drop(Drop::UnknownSource));
        assert_eq!(d.route(t, addr(7001), &rtp()), Route::Leg(1));
        assert_eq!(d.addresses(1), &[addr(7001)]);
        assert_eq!(d.addresses_confirmed(), 1);
        assert!(d.is_confirmed(addr(7001)) && !d.is_confirmed(addr(7000)));
    }

    #[test]
    fn ice_restart_swaps_the_ufrag_and_keeps_media_flowing() {
        let t = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "old").unwrap();
        d.add_leg(2, "other").unwrap();
        d.confirm(1, addr(9000));
        assert_eq!(d.set_ufrag(1, "other"), Err(DuplicateUfrag));
        d.set_ufrag(1, "new").unwrap();
        assert_eq!(d.route(t, addr(9000), &rtp()), Route::Leg(1), "media keeps flowing during the restart");
        assert_eq!(d.route(t, addr(9001), &binding_request([0; 12], "new:x")), Route::Probe(1));
        assert_eq!(d.route(t, addr(9001), &binding_request([0; 12], "old:x")), Route::Drop(Drop::UnknownUfrag));
    }

    #[test]
    fn junk_from_a_participants_own_host_never_keeps_its_checks_out() {
        let t0 = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "a").unwrap();
        d.confirm(1, addr(1));
        let junk = binding_request([0; 12], "nobody:x");
        // Behind one address (a carrier's NAT): someone floods, on ever-changing ports.
        let shared = [192, 0, 2, 66];
        for i in 0..10_000u16 {
            let from = SocketAddr::from((shared, 4000 + i % 1000));
            assert_eq!(d.route(t0, from, &junk), Route::Drop(Drop::UnknownUfrag));
        }
        // A participant behind the same address gets its check through at once, as do
        // media from known addresses; non-STUN junk costs a byte's look.
        assert_eq!(d.route(t0, SocketAddr::from((shared, 6000)), &binding_request([0; 12], "a:b")), Route::Probe(1));
        assert_eq!(d.route(t0, addr(1), &rtp()), Route::Leg(1));
        assert_eq!(d.route(t0, addr(5), &rtp()), Route::Drop(Drop::UnknownSource));
        let s = d.stats();
        assert_eq!((s.dropped, s.probes, s.rate_limited), (10_001, 1, 0));
    }

    #[test]
    fn an_address_that_changed_hands_goes_to_the_leg_whose_checks_it_sends() {
        let t = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "old").unwrap();
        d.add_leg(2, "new").unwrap();
        d.confirm(1, addr(7000));
        // Leg 1's own checks, and anything else, still go to it.
        assert_eq!(d.route(t, addr(7000), &binding_request([0; 12], "old:x")), Route::Leg(1));
        assert_eq!(d.route(t, addr(7000), &binding_request([0; 12], "nobody:x")), Route::Leg(1));
        // Someone else now has the address: its check goes to its leg, as a probe.
        assert_eq!(d.route(t, addr(7000), &binding_request([0; 12], "new:x")), Route::Probe(2));
        assert_eq!(d.route(t, addr(7000), &rtp()), Route::Leg(1), "until leg 2's agent accepts it");
        assert_eq!((d.probed(1), d.probed(2)), (0, 1));
        d.confirm(2, addr(7000));
        assert_eq!(d.route(t, addr(7000), &rtp()), Route::Leg(2));
        assert!(d.addresses(1).is_empty());
    }

    fn host(i: u32) -> SocketAddr {
        SocketAddr::from((i.to_be_bytes(), 5000))
    }

    #[test]
    fn a_spoofed_flood_from_many_hosts_does_not_shut_out_a_new_one() {
        let t0 = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "a").unwrap();
        let junk = binding_request([0; 12], "nobody:x");
        for i in 0..50_000u32 {
            d.route(t0, host(0x0a00_0000 + i % 20_000), &junk);
        }
        assert_eq!(d.route(t0, addr(3), &binding_request([0; 12], "a:b")), Route::Probe(1));
    }

    #[test]
    fn checks_naming_a_leg_are_bounded_per_leg() {
        let t0 = Instant::now();
        let mut d: Demux<u32> = Demux::new();
        d.add_leg(1, "a").unwrap();
        d.add_leg(2, "b").unwrap();
        let check = binding_request([0; 12], "a:x");
        let mut probes = 0;
        for _ in 0..1000 {
            if d.route(t0, addr(9), &check) == Route::Probe(1) {
                probes += 1;
            }
        }
        assert_eq!(probes, PROBES_PER_LEG_PER_SEC, "a leaked ufrag reaches that leg's agent at a bounded rate");
        assert_eq!(d.route(t0, addr(9), &binding_request([0; 12], "b:x")), Route::Probe(2), "and no other leg's");
    }

    proptest::proptest! {
        /// Fuzz: any datagram from any address gets a route, never a panic, and never
        /// a route to a leg from an unconfirmed address except as a probe.
        #[test]
        fn any_datagram(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), port in 1u16..100) {
            let mut d: Demux<u32> = Demux::new();
            d.add_leg(1, "abcd").unwrap();
            d.confirm(1, addr(50));
            match d.route(Instant::now(), addr(port), &b) {
                Route::Leg(_) => proptest::prop_assert_eq!(port, 50),
                Route::Probe(l) => proptest::prop_assert_eq!(l, 1),
                Route::Drop(_) => {}
            }
        }
    }
}
