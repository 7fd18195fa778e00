//! Which node's relay holds each call's media (ADR 0022). A single node has one relay,
//! its own (node 0). In a cluster every node runs a relay; the writer is told which are up
//! ([`Input::MediaNodes`](super::Input::MediaNodes), from their presence in Redis) and
//! pins each call, at its first offer, to the relay with the fewest calls, the writer's
//! own last (its CPU serves the call core, and a call whose media is elsewhere keeps
//! flowing while a new writer takes over). A draining relay gets no new call. When a
//! relay is gone its legs are forgotten, its calls unpinned, and each participant still
//! in them told `media_moved` (a desk or interpreter away gets it on resuming): their next offer is pinned anew and the call goes on
//! under the same record.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kakehashi_protocol as p;

use super::{CallId, Core, Delivery, Endpoint, Fact};

/// The relays there are and the node each call's media is pinned to.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct MediaNodes {
    /// Nodes whose relays are up.
    up: BTreeSet<u64>,
    /// Those of them taking no new call.
    draining: BTreeSet<u64>,
    /// Each call's node, from its first offer until it ends.
    pins: HashMap<CallId, u64>,
    /// The node of the writer that runs this core (its relay is up while it runs).
    writer: u64,
}

impl MediaNodes {
    /// The writer's relay, on node `writer`, is up; no call yet.
    pub(super) fn on(writer: u64) -> MediaNodes {
        MediaNodes { up: BTreeSet::from([writer]), writer, ..MediaNodes::default() }
    }

    /// The call ended: its pin goes.
    pub(super) fn unpin(&mut self, call: CallId) {
        self.pins.remove(&call);
    }

    /// The relay a call's media goes to: its pin while that relay is up, otherwise the
    /// up and not draining relay with the fewest calls (the writer's own last, the lower
    /// number on a tie), pinned from now on.
    fn pick(&mut self, call: CallId) -> u64 {
        if let Some(node) = self.pins.get(&call).filter(|n| self.up.contains(n)) {
            return *node;
        }
        let mut load: BTreeMap<u64, usize> =
            self.up.iter().filter(|n| !self.draining.contains(n)).map(|n| (*n, 0)).collect();
        for node in self.pins.values() {
            if let Some(calls) = load.get_mut(node) {
                *calls += 1;
            }
        }
        let others = load.keys().any(|n| *n != self.writer);
        let node = load
            .iter()
            .filter(|(n, _)| !others || **n != self.writer)
            .min_by_key(|(n, calls)| (**calls, **n))
            .map_or(self.writer, |(n, _)| *n);
        self.pins.insert(call, node);
        node
    }
}

impl Core {
    /// The relay `call`'s next offer goes to.
    pub(super) fn media_node_for(&mut self, call: CallId) -> u64 {
        self.legs.nodes.pick(call)
    }

    /// The relays up now and those draining (this writer's own is up while it runs).
    /// The calls of every relay gone move: see the module's documentation.
    pub(super) fn media_nodes(&mut self, up: Vec<u64>, draining: Vec<u64>) {
        let mut up: BTreeSet<u64> = up.into_iter().collect();
        up.insert(self.settings.media_node);
        self.legs.nodes.draining = draining.into_iter().filter(|n| up.contains(n)).collect();
        let gone: BTreeSet<u64> = self.legs.nodes.up.difference(&up).copied().collect();
        self.legs.nodes.up = up;
        if !gone.is_empty() {
            self.relays_gone(&gone);
        }
    }

    /// A new writer runs this core: its own relay is up, the last writer's is gone with it.
    pub(super) fn media_writer_changed(&mut self) {
        let (before, now) = (self.legs.nodes.writer, self.settings.media_node);
        self.legs.nodes.writer = now;
        let mut up: Vec<u64> = self.legs.nodes.up.iter().copied().filter(|n| *n != before).collect();
        up.push(now);
        let draining = self.legs.nodes.draining.iter().copied().collect();
        self.media_nodes(up, draining);
    }

    fn relays_gone(&mut self, gone: &BTreeSet<u64>) {
        let legs = &mut self.legs;
        legs.open.retain(|_, o| !gone.contains(&o.node));
        legs.seen.retain(|_, (o, _)| !gone.contains(&o.node));
        legs.offers.retain(|_, o| !gone.contains(&o.node));
        let mut moved: Vec<CallId> =
            legs.nodes.pins.iter().filter(|(_, n)| gone.contains(n)).map(|(call, _)| *call).collect();
        moved.sort_unstable();
        for call in &moved {
            legs.nodes.pins.remove(call);
        }
        tracing::warn!(relays = ?gone, calls = moved.len(), "media relays gone; their calls' participants offer again");
        for call in moved {
            let Some(c) = self.calls.get_mut(&call) else { continue };
            c.quality.reconnects += 1;
            // Those away too: a desk or interpreter gets it on resuming.
            let everyone: Vec<(p::Party, Endpoint)> =
                c.participants.iter().map(|p| (p.party, Core::endpoint(call, p))).collect();
            for (party, endpoint) in everyone {
                self.fact(Fact::MediaReconnect(party));
                let delivery = match endpoint {
                    Endpoint::Desk(desk) => Delivery::Desk(desk, p::DeskEvent::MediaMoved { call: call.0 }),
                    Endpoint::Interpreter(i) => {
                        Delivery::Interpreter(i, p::InterpreterEvent::MediaMoved { call: call.0 })
                    }
                    Endpoint::Member(m) => Delivery::Member(m, p::ResidentEvent::MediaMoved {}),
                };
                self.deliver(delivery);
            }
        }
    }
}
