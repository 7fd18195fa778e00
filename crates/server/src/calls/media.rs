//! Media: which relay leg is whose, offers on their way to the relay, the relay's reports
//! turned into events for participants, and each call's quality for its record. A
//! participant's number is its identity at the relay: its streams' ids are `p<number>`,
//! and its new offer replaces its earlier leg without the others noticing.

use std::collections::HashMap;

use kakehashi_protocol as p;
use kakehashi_relay::{LegEvent, LegId, LegStats};

use super::call::Who;
use super::convert::err;
use super::{Call, CallId, Core, Delivery, Endpoint, Fact, Output};
use crate::media::{Order, Report};

/// Whose a leg is, and the node whose relay holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Owner {
    pub(super) call: CallId,
    participant: u32,
    party: p::Party,
    endpoint: Endpoint,
    pub(super) node: u64,
}

/// The legs of every call.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Legs {
    /// Open legs.
    pub(super) open: HashMap<LegId, Owner>,
    /// Every leg whose statistics may still come (open, or removed and awaiting its
    /// last), with its latest statistics, for metric deltas.
    pub(super) seen: HashMap<LegId, (Owner, Option<LegStats>)>,
    /// Offers sent to the relay and not yet answered, by tag.
    pub(super) offers: HashMap<u64, Owner>,
    next_tag: u64,
    /// The relays there are and the node each call's media is pinned to
    /// (`media_nodes.rs`).
    pub(super) nodes: super::media_nodes::MediaNodes,
}

impl Legs {
    /// No legs yet; the writer's relay, on node `writer`, is up.
    pub(super) fn on(writer: u64) -> Legs {
        Legs { nodes: super::media_nodes::MediaNodes::on(writer), ..Legs::default() }
    }
}

impl Core {
    /// Open legs by kind of participant, for the gauge.
    pub fn legs_by_party(&self) -> Vec<(p::Party, usize)> {
        p::Party::ALL
            .iter()
            .map(|party| (*party, self.legs.open.values().filter(|o| o.party == *party).count()))
            .collect()
    }

    /// An SDP from the desk or the interpreter of a call.
    pub(super) fn sdp(&mut self, call: CallId, who: &Who, d: p::SessionDescription) -> Result<(), p::ProtocolError> {
        let n = self.calls.get(&call).and_then(|c| c.number_of(who));
        let n = n.ok_or_else(|| err(p::ErrorCode::NotFound, format!("no call {} of yours", call.0)))?;
        self.sdp_of(call, n, d)
    }

    /// An SDP from participant `n` of a live call: an offer gets a new leg (replacing its
    /// earlier one, as after a reconnect); an answer completes the relay's renegotiation.
    pub(super) fn sdp_of(
        &mut self,
        call: CallId,
        n: u32,
        description: p::SessionDescription,
    ) -> Result<(), p::ProtocolError> {
        if !self.settings.media {
            return Err(err(p::ErrorCode::MediaUnavailable, "this server runs without a media relay"));
        }
        let Some(c) = self.calls.get(&call).filter(|c| c.answered()) else {
            return Err(err(p::ErrorCode::NotAllowed, "media starts once the call is answered"));
        };
        let Some(participant) = c.participant(n) else {
            return Err(err(p::ErrorCode::NotFound, "not in this call"));
        };
        let (party, endpoint) = (participant.party, Core::endpoint(call, participant));
        match description.kind {
            p::SdpKind::Offer => {
                let owner = Owner { call, participant: n, party, endpoint, node: self.media_node_for(call) };
                // The relay closes the participant's earlier leg itself when its new offer
                // arrives, so the others' streams of it continue.
                let earlier: Vec<LegId> = self.legs_where(|o| o.call == call && o.participant == n);
                if !earlier.is_empty() {
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.quality.reconnects += 1;
                    }
                    self.fact(Fact::MediaReconnect(owner.party));
                }
                for leg in earlier {
                    self.legs.open.remove(&leg);
                    self.legs.seen.remove(&leg);
                }
                // A desk's or interpreter's leg in another call (it moved on) goes.
                let elsewhere = self.legs_where(|o| o.endpoint == owner.endpoint && o.call != call);
                self.remove_legs(elsewhere);
                self.legs.next_tag += 1;
                let tag = self.legs.next_tag;
                self.legs.offers.insert(tag, owner);
                self.out(Output::Relay {
                    node: owner.node,
                    order: Order::Offer { call: call.0, tag, participant: u64::from(n), sdp: description.sdp },
                });
                Ok(())
            }
            p::SdpKind::Answer => {
                let leg = self
                    .legs_where(|o| o.call == call && o.participant == n)
                    .first()
                    .copied()
                    .ok_or_else(|| err(p::ErrorCode::NotAllowed, "there is no offer from the relay to answer"))?;
                let node = self.legs.open.get(&leg).map_or(self.settings.media_node, |o| o.node);
                self.out(Output::Relay { node, order: Order::Answer { leg, sdp: description.sdp } });
                Ok(())
            }
        }
    }

    /// Trickled ICE candidates: the relay is ICE-lite and learns addresses from the
    /// participant's connectivity checks, so candidates are accepted and not needed.
    pub(super) fn ice(&self) -> Result<(), p::ProtocolError> {
        if self.settings.media {
            Ok(())
        } else {
            Err(err(p::ErrorCode::MediaUnavailable, "this server runs without a media relay"))
        }
    }

    fn legs_where(&self, f: impl Fn(&Owner) -> bool) -> Vec<LegId> {
        let mut legs: Vec<LegId> = self.legs.open.iter().filter(|(_, o)| f(o)).map(|(l, _)| *l).collect();
        legs.sort_unstable();
        legs
    }

    fn remove_legs(&mut self, legs: Vec<LegId>) {
        for leg in legs {
            if let Some(owner) = self.legs.open.remove(&leg) {
                self.out(Output::Relay { node: owner.node, order: Order::Remove { leg } });
            }
        }
    }

    /// Close every leg of a call (it ended).
    pub(super) fn remove_legs_of(&mut self, call: &Call) {
        let legs = self.legs_where(|o| o.call == call.id);
        self.remove_legs(legs);
        self.legs.nodes.unpin(call.id);
    }

    /// Close a participant's legs (it left).
    pub(super) fn remove_legs_of_participant(&mut self, call: CallId, n: u32) {
        let legs = self.legs_where(|o| o.call == call && o.participant == n);
        self.remove_legs(legs);
    }

    pub(super) fn relay_report(&mut self, report: Report) {
        match report {
            Report::Stats { leg, stats } => self.leg_stats(leg, stats),
            Report::Removed { leg, last } => {
                if let Some(stats) = last {
                    self.leg_stats(leg, stats);
                }
                self.legs.seen.remove(&leg);
            }
            Report::Answered { tag, result, refused, .. } => {
                let Some(owner) = self.legs.offers.remove(&tag) else {
                    tracing::debug!(tag, "the relay answered an offer the core no longer holds");
                    return;
                };
                let present = self.calls.get(&owner.call).is_some_and(|c| c.participant(owner.participant).is_some());
                match result {
                    Ok((leg, sdp)) if present => {
                        self.legs.open.insert(leg, owner);
                        self.legs.seen.insert(leg, (owner, None));
                        self.send_sdp(owner, p::SdpKind::Answer, sdp);
                        if !refused.is_empty() {
                            let message = format!(
                                "{}: the offer has no codec this call uses (audio: Opus; video: VP8, or \
                                 H.264 where the call's first video was H.264); the call goes on without it",
                                refused.join(" and ")
                            );
                            self.error_to(owner.endpoint, err(p::ErrorCode::CodecUnsupported, message));
                        }
                    }
                    // The call ended, or the participant left, meanwhile.
                    Ok((leg, _)) => {
                        tracing::debug!(call = owner.call.0, leg = leg.0, "a new leg for a participant gone meanwhile");
                        self.out(Output::Relay { node: owner.node, order: Order::Remove { leg } });
                    }
                    Err(message) => {
                        self.error_to(owner.endpoint, err(p::ErrorCode::InvalidField, format!("sdp: {message}")));
                    }
                }
            }
            Report::Leg { leg, event } => {
                let Some(owner) = self.legs.open.get(&leg).copied() else { return };
                match event {
                    LegEvent::Offer(sdp) => self.send_sdp(owner, p::SdpKind::Offer, sdp),
                    LegEvent::Connected | LegEvent::VideoResumed => {}
                    LegEvent::VideoPaused => self.fact(Fact::VideoPaused(owner.party)),
                    LegEvent::Failed | LegEvent::Closed => self.remove_legs(vec![leg]),
                    LegEvent::NotConnected => {
                        self.remove_legs(vec![leg]);
                        self.not_connected(owner);
                    }
                }
            }
        }
    }

    /// A leg's cumulative statistics: a metric delta since its previous ones, and the
    /// call's quality.
    fn leg_stats(&mut self, leg: LegId, stats: LegStats) {
        let Some((owner, previous)) = self.legs.seen.get_mut(&leg) else { return };
        let owner = *owner;
        let before = previous.replace(stats).unwrap_or_default();
        self.fact(Fact::LegStats { party: owner.party, before: Box::new(before), now: Box::new(stats) });
        if let Some(c) = self.calls.get_mut(&owner.call) {
            if let Some(rtt) = stats.rtt {
                c.quality.rtt_sum += rtt.as_secs_f64();
                c.quality.rtt_samples += 1;
            }
            c.quality.legs.insert(leg, stats);
        }
    }

    /// A participant's newest leg did not connect and the relay dropped it: the participant
    /// is told to offer again (a desk or interpreter away gets it on resuming). Counted as
    /// a reconnect, which the new leg is.
    fn not_connected(&mut self, owner: Owner) {
        tracing::info!(
            call = owner.call.0,
            party = owner.party.as_str(),
            "a leg did not connect: its participant offers again"
        );
        if let Some(c) = self.calls.get_mut(&owner.call) {
            c.quality.reconnects += 1;
        }
        self.fact(Fact::MediaReconnect(owner.party));
        let call = owner.call.0;
        let delivery = match owner.endpoint {
            Endpoint::Desk(desk) => Delivery::Desk(desk, p::DeskEvent::MediaFailed { call }),
            Endpoint::Interpreter(i) => Delivery::Interpreter(i, p::InterpreterEvent::MediaFailed { call }),
            Endpoint::Member(m) => Delivery::Member(m, p::ResidentEvent::MediaFailed {}),
        };
        self.deliver(delivery);
    }

    pub(super) fn send_sdp(&mut self, owner: Owner, kind: p::SdpKind, sdp: String) {
        let description = p::SessionDescription { kind, sdp };
        let call = owner.call.0;
        let delivery = match owner.endpoint {
            Endpoint::Desk(desk) => Delivery::Desk(desk, p::DeskEvent::Sdp { call, description }),
            Endpoint::Interpreter(i) => Delivery::Interpreter(i, p::InterpreterEvent::Sdp { call, description }),
            Endpoint::Member(m) => Delivery::Member(m, p::ResidentEvent::Sdp { description }),
        };
        self.deliver(delivery);
    }
}

/// Where the parts of a document go: everyone else in the call who is connected, and an
/// acknowledgement to the sender.
#[derive(Debug)]
pub struct DocumentRoute {
    /// The parts for the others.
    pub to: Vec<Delivery>,
    /// `document_passed` for the sender.
    pub ack: Delivery,
}

impl Core {
    /// Where the desk's or interpreter's document part goes.
    pub fn document_route(
        &self,
        call: CallId,
        who: &Who,
        document: p::DocumentPart,
    ) -> Result<DocumentRoute, p::ProtocolError> {
        let n = self.calls.get(&call).and_then(|c| c.number_of(who));
        let n = n.ok_or_else(|| err(p::ErrorCode::NotFound, format!("no call {} of yours", call.0)))?;
        self.document_route_of(call, n, document)
    }

    /// Where participant `n`'s document part goes. Nothing of it is kept.
    pub fn document_route_of(
        &self,
        call: CallId,
        n: u32,
        document: p::DocumentPart,
    ) -> Result<DocumentRoute, p::ProtocolError> {
        document.check()?;
        let Some(c) = self.calls.get(&call) else {
            return Err(err(p::ErrorCode::NotFound, format!("no call {}", call.0)));
        };
        if !c.answered() {
            return Err(err(p::ErrorCode::NotAllowed, "documents can be shown once the call has started"));
        }
        let sender = c.participant(n).ok_or_else(|| err(p::ErrorCode::NotFound, "not in this call"))?;
        let from = sender.party;
        let to = c
            .participants
            .iter()
            .filter(|x| x.id != n && !x.away)
            .map(|x| match Core::endpoint(call, x) {
                Endpoint::Desk(desk) => {
                    Delivery::Desk(desk, p::DeskEvent::Document { call: call.0, from, document: document.clone() })
                }
                Endpoint::Interpreter(i) => Delivery::Interpreter(
                    i,
                    p::InterpreterEvent::Document { call: call.0, from, document: document.clone() },
                ),
                Endpoint::Member(m) => {
                    Delivery::Member(m, p::ResidentEvent::Document { from, document: document.clone() })
                }
            })
            .collect();
        let (id, part) = (document.id, document.part);
        let ack = match Core::endpoint(call, sender) {
            Endpoint::Desk(desk) => Delivery::Desk(desk, p::DeskEvent::DocumentPassed { call: call.0, id, part }),
            Endpoint::Interpreter(i) => {
                Delivery::Interpreter(i, p::InterpreterEvent::DocumentPassed { call: call.0, id, part })
            }
            Endpoint::Member(m) => Delivery::Member(m, p::ResidentEvent::DocumentPassed { id, part }),
        };
        Ok(DocumentRoute { to, ack })
    }
}
