//! Packets in and out: a datagram or ICE-TCP packet routed by the demultiplexer to its
//! leg (confirming the address when the leg's ICE agent answers a probe), and what legs
//! write moved to the transmit queue.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::BytesMut;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext};

use super::{LegId, Peer, Relay, Transmit, Transport};
use crate::demux::{Kind, Route, classify};
use crate::stun;

impl Relay {
    /// A datagram read from the shared socket.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.handle_packet(now, Peer::udp(from), datagram);
    }

    /// A packet (one RFC 4571 frame's content) read from the TCP connection from `from`.
    /// Ignored if ICE-TCP is off.
    pub fn handle_tcp(&mut self, now: Instant, from: SocketAddr, packet: &[u8]) {
        if self.tcp.is_some() {
            self.handle_packet(now, Peer::tcp(from), packet);
        }
    }

    /// Whether a leg's ICE agent has confirmed `peer` (so its packets reach the leg).
    pub fn is_confirmed(&self, peer: Peer) -> bool {
        self.demux.is_confirmed(peer)
    }

    /// The TCP connection from `from` closed: nothing goes to it any more. Its leg lives
    /// on (its participant may come back over UDP or a new connection) until removed.
    pub fn tcp_closed(&mut self, from: SocketAddr) {
        self.demux.forget(Peer::tcp(from));
    }

    pub(super) fn handle_packet(&mut self, now: Instant, from: Peer, datagram: &[u8]) {
        self.advance(now);
        let (id, probe) = match self.demux.route(now, from, datagram) {
            Route::Leg(id) => (id, false),
            Route::Probe(id) => (id, true),
            Route::Drop(_) => return,
        };
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let message = TaggedBytesMut {
            now,
            // The ICE agent knows the packet's local candidate by this address: the
            // advertised one, which differs from the bound one behind a 1:1 NAT.
            transport: TransportContext {
                local_addr: match from.transport {
                    Transport::Udp => self.advertised,
                    Transport::Tcp => self.tcp.unwrap_or(self.advertised),
                },
                peer_addr: from.addr,
                ecn: None,
                transport_protocol: from.transport.protocol(),
            },
            message: BytesMut::from(datagram),
        };
        // A peer connection refusing a datagram (bad DTLS record, failed integrity) is
        // that leg's business only.
        if leg.pc.handle_read(message).is_err() {
            self.touch(id);
            return;
        }
        if probe {
            self.flush_leg(id, Some(from));
        }
        self.touch(id);
    }

    /// Move a leg's outgoing datagrams to the transmit queue; confirm `probe_from` if the
    /// leg answered it with a binding success.
    pub(super) fn flush_leg(&mut self, id: LegId, probe_from: Option<Peer>) {
        let Some(leg) = self.legs.get_mut(&id) else { return };
        let mut confirmed = false;
        while let Some(out) = leg.pc.poll_write() {
            let to = Peer { transport: Transport::of(out.transport.transport_protocol), addr: out.transport.peer_addr };
            if Some(to) == probe_from
                && classify(&out.message) == Kind::Stun
                && stun::parse(&out.message).is_ok_and(|m| m.kind == stun::BINDING_SUCCESS)
            {
                confirmed = true;
            }
            self.transmit.push_back(Transmit { to, data: out.message });
        }
        if let (true, Some(addr)) = (confirmed, probe_from) {
            self.demux.confirm(id, addr);
        }
    }

    /// The next datagram to send from the shared socket.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.transmit.is_empty() {
            self.process();
        }
        self.transmit.pop_front()
    }
}
