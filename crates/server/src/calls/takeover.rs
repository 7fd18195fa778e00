//! A new writer took over (ADR 0021): the core it restored and replayed had connections,
//! media legs and phone gateways on the writer that is gone. Every connection counts as
//! lost (each client and link participant is held for the grace and may resume on any
//! node), the legs on the last writer's relay are gone with it (their participants are
//! told to offer again; legs on other nodes' relays carry on, ADR 0022),
//! and the gateways are gone until one connects to this writer. Records the last writer
//! ordered and never saw written are ordered again under the same write keys.

use kakehashi_dispatch as d;

use super::{Client, Core, MemberKey, Who};

impl Core {
    pub(super) fn takeover(&mut self, now: d::Timestamp) {
        let connected: Vec<Client> = self.sessions.connected_clients().collect();
        for client in connected {
            self.detached(now, client);
        }
        let members: Vec<MemberKey> = self
            .calls
            .values()
            .flat_map(|call| {
                call.participants
                    .iter()
                    .filter(|p| !p.away && matches!(p.who, Who::Link(_)))
                    .map(|p| MemberKey { call: call.id.0, participant: p.id })
            })
            .collect();
        for member in members {
            self.member_dropped(now, member);
        }
        self.media_writer_changed();
        let conns: std::collections::BTreeSet<u64> = self.lines.conns().collect();
        for conn in conns {
            self.gateway_gone(now, conn);
        }
        self.gateways(now, false);
        self.order_unwritten();
    }
}
