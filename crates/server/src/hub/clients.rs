//! Connected clients: each connection's outbox and the desks' and interpreters' numbered
//! recent events (for a lossless resume; the core keeps their resume tokens). A
//! resumed session this hub holds no events of (it took over from another writer)
//! numbers on from the client's `last_seq`, so the client's count stays true. A delivery to a client
//! that is not keeping up (its outbox full) or whose connection is going lets that
//! connection go; a desk or interpreter may resume within the grace and get again what
//! it lost.

use std::collections::HashMap;
use std::time::Duration;

use kakehashi_protocol as p;
use tokio::sync::mpsc;

use super::recent::Recent;
use crate::calls::{Client, Delivery, Endpoint, MemberKey};

/// Events queued for one client before it counts as too slow and is let go.
pub const CLIENT_QUEUE: usize = 256;

/// What a connection's loop is given to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Out<E> {
    /// An event, numbered for desks and interpreters.
    Event(p::Sequenced<E>),
    /// Close the connection, saying why (after writing what came before).
    Close(p::CloseReason),
}

/// A channel to a desk's or interpreter's connection.
#[derive(Debug)]
pub enum Outbox {
    /// To a desk.
    Desk(mpsc::Sender<Out<p::DeskEvent>>),
    /// To an interpreter.
    Interpreter(mpsc::Sender<Out<p::InterpreterEvent>>),
}

#[derive(Debug)]
struct Attached<T> {
    conn: u64,
    tx: mpsc::Sender<T>,
}

/// The connections let go with their nodes ([`Clients::gone_with_nodes`]), in order.
#[derive(Debug, Default)]
pub struct GoneWithNodes {
    /// Desks and interpreters.
    pub clients: Vec<Client>,
    /// Link participants.
    pub members: Vec<MemberKey>,
    /// Phone gateways' connections.
    pub gateways: Vec<u64>,
}

/// What a delivery found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Sent, kept for a resume, or nobody to send to.
    Done,
    /// The client's connection was let go (full or closing): tell the core it dropped.
    Dropped(Client),
    /// A link participant's connection was let go.
    MemberDropped(MemberKey),
}

/// Every connection the hub can reach.
#[derive(Debug)]
pub struct Clients {
    desks: HashMap<i64, Attached<Out<p::DeskEvent>>>,
    interpreters: HashMap<i64, Attached<Out<p::InterpreterEvent>>>,
    members: HashMap<MemberKey, Attached<Out<p::ResidentEvent>>>,
    /// Phone gateways' connections, the next to get an order first.
    gateways: std::collections::VecDeque<Attached<Out<p::GatewayEvent>>>,
    recent_desk: HashMap<i64, Recent<p::DeskEvent>>,
    recent_interpreter: HashMap<i64, Recent<p::InterpreterEvent>>,
    /// How long a connected client's events are kept: three heartbeats (a dead
    /// connection is noticed within them) and a margin.
    window: Duration,
    /// The cluster's nodes up, as last told ([`Clients::gone_with_nodes`]).
    nodes_up: std::collections::BTreeSet<u64>,
}

impl Clients {
    /// No one yet; `heartbeat` is the connections' ping interval.
    pub fn new(heartbeat: Duration) -> Clients {
        Clients {
            desks: HashMap::new(),
            interpreters: HashMap::new(),
            members: HashMap::new(),
            gateways: std::collections::VecDeque::new(),
            recent_desk: HashMap::new(),
            recent_interpreter: HashMap::new(),
            window: heartbeat * 3 + Duration::from_secs(10),
            nodes_up: std::collections::BTreeSet::new(),
        }
    }

    /// Attach a desk's or interpreter's connection; a resume gets again what it lost
    /// (after `last_seq`, or after what its last connection wrote), a fresh start begins
    /// a new count.
    pub fn attach(&mut self, client: Client, conn: u64, outbox: Outbox, resumed: bool, last_seq: Option<u64>) {
        match (client, outbox) {
            (Client::Desk(desk), Outbox::Desk(tx)) => {
                attach_numbered(&mut self.recent_desk, &mut self.desks, desk, conn, tx, resumed, last_seq);
            }
            (Client::Interpreter(id), Outbox::Interpreter(tx)) => {
                attach_numbered(&mut self.recent_interpreter, &mut self.interpreters, id, conn, tx, resumed, last_seq);
            }
            _ => tracing::error!("a client attached with another role's outbox"),
        }
    }

    /// A desk's or interpreter's connection closed after writing event `written`.
    /// Returns whether it was the client's current connection (or none is current: it was
    /// let go already), so the core should hear it dropped... only in the first case.
    pub fn detach(&mut self, client: Client, conn: u64, written: u64) -> bool {
        let current = match client {
            Client::Desk(d) => self.desks.get(&d).map(|a| a.conn),
            Client::Interpreter(i) => self.interpreters.get(&i).map(|a| a.conn),
        };
        if current == Some(conn) {
            match client {
                Client::Desk(d) => {
                    self.desks.remove(&d);
                }
                Client::Interpreter(i) => {
                    self.interpreters.remove(&i);
                }
            }
        }
        // Unless a newer connection has it already, a client that resumes without saying
        // what it received is taken to have what this one wrote.
        if current == Some(conn) || current.is_none() {
            match client {
                Client::Desk(d) => {
                    if let Some(r) = self.recent_desk.get_mut(&d) {
                        r.written = written;
                    }
                }
                Client::Interpreter(i) => {
                    if let Some(r) = self.recent_interpreter.get_mut(&i) {
                        r.written = written;
                    }
                }
            }
        }
        current == Some(conn)
    }

    /// Attach a link participant's connection (an earlier one of theirs is replaced).
    pub fn attach_member(&mut self, member: MemberKey, conn: u64, tx: mpsc::Sender<Out<p::ResidentEvent>>) {
        if let Some(old) = self.members.insert(member, Attached { conn, tx }) {
            let _ = old.tx.try_send(Out::Close(p::CloseReason::Replaced));
        }
    }

    /// Whether `conn` is the member's current connection (then it is let go).
    pub fn detach_member(&mut self, member: MemberKey, conn: u64) -> bool {
        if self.members.get(&member).is_some_and(|a| a.conn == conn) {
            self.members.remove(&member);
            true
        } else {
            false
        }
    }

    /// Let go of a connection: its loop writes what it has, closes with `reason` and
    /// ends.
    pub fn release(&mut self, endpoint: Endpoint, reason: p::CloseReason) {
        match endpoint {
            Endpoint::Desk(d) => {
                if let Some(a) = self.desks.remove(&d) {
                    let _ = a.tx.try_send(Out::Close(reason));
                }
            }
            Endpoint::Interpreter(i) => {
                if let Some(a) = self.interpreters.remove(&i) {
                    let _ = a.tx.try_send(Out::Close(reason));
                }
            }
            Endpoint::Member(m) => {
                if let Some(a) = self.members.remove(&m) {
                    let _ = a.tx.try_send(Out::Close(reason));
                }
            }
        }
    }

    /// A session ended: its connection (if any) goes, and nothing more is kept for it.
    pub fn forget(&mut self, client: Client) {
        self.release(Endpoint::from(client), p::CloseReason::Ended);
        match client {
            Client::Desk(d) => {
                self.recent_desk.remove(&d);
            }
            Client::Interpreter(i) => {
                self.recent_interpreter.remove(&i);
            }
        }
    }

    /// Send an event: numbered and kept for a desk or interpreter with a session
    /// (connected or held), dropped for anyone without one.
    pub fn deliver(&mut self, delivery: Delivery) -> Delivered {
        let window = self.window;
        match delivery {
            Delivery::Desk(desk, event) => {
                // Positions and pongs are stale by the time a client could get them again.
                let keep = !matches!(event, p::DeskEvent::Position { .. } | p::DeskEvent::Pong);
                let sent = send_numbered(&mut self.recent_desk, &mut self.desks, desk, event, keep, window);
                if sent { Delivered::Done } else { Delivered::Dropped(Client::Desk(desk)) }
            }
            Delivery::Interpreter(id, event) => {
                let keep = !matches!(event, p::InterpreterEvent::Pong);
                let sent = send_numbered(&mut self.recent_interpreter, &mut self.interpreters, id, event, keep, window);
                if sent { Delivered::Done } else { Delivered::Dropped(Client::Interpreter(id)) }
            }
            Delivery::Member(member, event) => {
                let Some(a) = self.members.get(&member) else { return Delivered::Done };
                if a.tx.try_send(Out::Event(p::Sequenced::plain(event))).is_err() {
                    self.members.remove(&member);
                    return Delivered::MemberDropped(member);
                }
                Delivered::Done
            }
            Delivery::Gateway(event) => {
                // Orders go round the connected gateways; one that cannot take it is
                // passed over (its loop notices its own closing).
                let mut event = Out::Event(p::Sequenced::plain(event));
                for _ in 0..self.gateways.len() {
                    let Some(g) = self.gateways.pop_front() else { break };
                    let sent = g.tx.try_send(event);
                    self.gateways.push_back(g);
                    match sent {
                        Ok(()) => break,
                        Err(e) => event = e.into_inner(),
                    }
                }
                Delivered::Done
            }
            Delivery::Gateways(event) => {
                for g in &self.gateways {
                    let _ = g.tx.try_send(Out::Event(p::Sequenced::plain(event.clone())));
                }
                Delivered::Done
            }
            Delivery::Line(key, event) => {
                // A gateway that cannot take it is closing: its callers are cancelled
                // when its connection is gone.
                if let Some(g) = self.gateways.iter().find(|g| g.conn == key.conn) {
                    let _ = g.tx.try_send(Out::Event(p::Sequenced::plain(event)));
                }
                Delivered::Done
            }
        }
    }

    /// The cluster's nodes up are now `up`: let go of every connection made through a node
    /// that was up and is not any more (its number in the connection's high bits; this
    /// node's own are 0). A node never told up is left alone: it may have started since
    /// `up` was read. What the connections' loops wrote is not known: a client resuming
    /// says what it received.
    pub fn gone_with_nodes(&mut self, up: &std::collections::BTreeSet<u64>) -> GoneWithNodes {
        let gone_nodes: std::collections::BTreeSet<u64> = self.nodes_up.difference(up).copied().collect();
        self.nodes_up.clone_from(up);
        let mut out = GoneWithNodes::default();
        if gone_nodes.is_empty() {
            return out;
        }
        let gone = |conn: u64| gone_nodes.contains(&crate::cluster::wire::node_of(conn));
        self.desks.retain(|d, a| {
            let keep = !gone(a.conn);
            if !keep {
                out.clients.push(Client::Desk(*d));
            }
            keep
        });
        self.interpreters.retain(|i, a| {
            let keep = !gone(a.conn);
            if !keep {
                out.clients.push(Client::Interpreter(*i));
            }
            keep
        });
        self.members.retain(|m, a| {
            let keep = !gone(a.conn);
            if !keep {
                out.members.push(*m);
            }
            keep
        });
        self.gateways.retain(|g| {
            let keep = !gone(g.conn);
            if !keep {
                out.gateways.push(g.conn);
            }
            keep
        });
        out.clients.sort_unstable();
        out.members.sort_unstable();
        out
    }

    /// A phone gateway's connection is attached.
    pub fn attach_gateway(&mut self, conn: u64, tx: mpsc::Sender<Out<p::GatewayEvent>>) {
        self.gateways.push_back(Attached { conn, tx });
    }

    /// A phone gateway's connection is gone.
    pub fn detach_gateway(&mut self, conn: u64) {
        self.gateways.retain(|g| g.conn != conn);
    }

    /// Whether a phone gateway is connected.
    pub fn has_gateway(&self) -> bool {
        !self.gateways.is_empty()
    }

    /// Send a document part, numbered but never kept (a resume does not get it again),
    /// unless the receiver's queue is more than a quarter full: then `false`, and nothing
    /// is sent.
    pub fn has_room(&self, delivery: &Delivery) -> bool {
        let headroom = CLIENT_QUEUE * 3 / 4;
        match delivery {
            Delivery::Desk(d, _) => self.desks.get(d).is_none_or(|a| a.tx.capacity() >= headroom),
            Delivery::Interpreter(i, _) => self.interpreters.get(i).is_none_or(|a| a.tx.capacity() >= headroom),
            Delivery::Member(m, _) => self.members.get(m).is_none_or(|a| a.tx.capacity() >= headroom),
            Delivery::Gateway(_) | Delivery::Gateways(_) | Delivery::Line(..) => true,
        }
    }

    /// Pass a document part on, numbered, not kept.
    pub fn pass_document(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Desk(d, event) => {
                if let (Some(a), Some(r)) = (self.desks.get(&d), self.recent_desk.get_mut(&d)) {
                    let _ = a.tx.try_send(Out::Event(p::Sequenced::numbered(r.number(), event)));
                }
            }
            Delivery::Interpreter(i, event) => {
                if let (Some(a), Some(r)) = (self.interpreters.get(&i), self.recent_interpreter.get_mut(&i)) {
                    let _ = a.tx.try_send(Out::Event(p::Sequenced::numbered(r.number(), event)));
                }
            }
            Delivery::Member(m, event) => {
                if let Some(a) = self.members.get(&m) {
                    let _ = a.tx.try_send(Out::Event(p::Sequenced::plain(event)));
                }
            }
            Delivery::Gateway(_) | Delivery::Gateways(_) | Delivery::Line(..) => {}
        }
    }

    /// Whether a desk's or interpreter's connection is attached now.
    pub fn attached(&self, client: Client) -> bool {
        match client {
            Client::Desk(d) => self.desks.contains_key(&d),
            Client::Interpreter(i) => self.interpreters.contains_key(&i),
        }
    }
}

impl From<Client> for Endpoint {
    fn from(c: Client) -> Endpoint {
        match c {
            Client::Desk(d) => Endpoint::Desk(d),
            Client::Interpreter(i) => Endpoint::Interpreter(i),
        }
    }
}

fn attach_numbered<E: Clone>(
    recent: &mut HashMap<i64, Recent<E>>,
    attached: &mut HashMap<i64, Attached<Out<E>>>,
    id: i64,
    conn: u64,
    tx: mpsc::Sender<Out<E>>,
    resumed: bool,
    last_seq: Option<u64>,
) {
    // A session resumed here for the first time (its events were another writer's)
    // numbers on from what the client has.
    let r = recent.entry(id).or_insert_with(|| Recent::from(if resumed { last_seq.unwrap_or(0) } else { 0 }));
    if resumed {
        // What it did not receive comes first, in order.
        for (seq, e) in r.after(last_seq) {
            let _ = tx.try_send(Out::Event(p::Sequenced::numbered(seq, e)));
        }
    } else {
        // A fresh start counts from the beginning.
        *r = Recent::new();
    }
    if let Some(old) = attached.insert(id, Attached { conn, tx }) {
        let _ = old.tx.try_send(Out::Close(p::CloseReason::Replaced));
    }
}

/// Number and keep an event for a client with a session, and send it if connected.
/// `false` when its connection had to be let go.
fn send_numbered<E: Clone>(
    recent: &mut HashMap<i64, Recent<E>>,
    attached: &mut HashMap<i64, Attached<Out<E>>>,
    id: i64,
    event: E,
    keep: bool,
    window: Duration,
) -> bool {
    let Some(r) = recent.get_mut(&id) else { return true };
    let tx = attached.get(&id).map(|a| a.tx.clone());
    let seq = r.record(&event, keep, tx.is_some().then_some(window));
    let Some(tx) = tx else { return true };
    match tx.try_send(Out::Event(p::Sequenced::numbered(seq, event))) {
        Ok(()) => true,
        Err(e) => {
            // Closed (the connection is going) or full (too slow): the connection is let
            // go and may resume within the grace, and get this event again.
            if matches!(e, mpsc::error::TrySendError::Full(_)) {
                tracing::warn!("a connection is not keeping up; letting it go");
            }
            attached.remove(&id);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::wire::global_conn;

    /// Connections through a node that was up and is gone are let go; this node's own and
    /// those of a node never told up stay.
    #[test]
    fn a_gone_nodes_connections_are_let_go() {
        let mut clients = Clients::new(Duration::from_secs(20));
        let (desk_tx, _desk_rx) = mpsc::channel(4);
        let (interp_tx, _interp_rx) = mpsc::channel(4);
        let (member_tx, _member_rx) = mpsc::channel(4);
        let (later_tx, _later_rx) = mpsc::channel(4);
        clients.attach(Client::Desk(1), global_conn(2, 5), Outbox::Desk(desk_tx), false, None);
        clients.attach(Client::Interpreter(7), global_conn(3, 1), Outbox::Interpreter(interp_tx), false, None);
        let member = MemberKey { call: 9, participant: 2 };
        clients.attach_member(member, 4, member_tx);
        let up = |nodes: &[u64]| nodes.iter().copied().collect::<std::collections::BTreeSet<u64>>();
        assert!(clients.gone_with_nodes(&up(&[1, 2, 3])).clients.is_empty(), "all up");
        // A node started since the list was read: its connection is not let go.
        clients.attach(Client::Desk(8), global_conn(4, 1), Outbox::Desk(later_tx), false, None);
        let gone = clients.gone_with_nodes(&up(&[1, 3]));
        assert_eq!(gone.clients, [Client::Desk(1)], "node 2's desk");
        assert!(gone.members.is_empty() && gone.gateways.is_empty(), "this node's own stay");
        assert!(clients.attached(Client::Interpreter(7)) && clients.attached(Client::Desk(8)));
        assert!(!clients.attached(Client::Desk(1)));
    }
}
