//! Every Redis key cluster mode uses, in one place, under a prefix per deployment (so one
//! Redis may serve several clusters, and a test its own).

/// The keys of one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// The keys under `prefix` (e.g. `kakehashi:asahi`).
    pub fn new(prefix: impl Into<String>) -> Keys {
        Keys { prefix: prefix.into() }
    }

    /// The writer's lease: `node|token`, expiring unless renewed.
    pub fn writer(&self) -> String {
        format!("{}:writer", self.prefix)
    }

    /// The last fencing token granted (only grows).
    pub fn writer_token(&self) -> String {
        format!("{}:writer:token", self.prefix)
    }

    /// The stream of the edges' calls to the writer.
    pub fn commands(&self) -> String {
        format!("{}:commands", self.prefix)
    }

    /// Node `n`'s channel: answers to its calls, events for its connections.
    pub fn node(&self, n: u64) -> String {
        format!("{}:node:{n}", self.prefix)
    }

    /// Node `n`'s relay's orders from the writer (a stream: none lost while the node
    /// is away from Redis).
    pub fn relay_orders(&self, n: u64) -> String {
        format!("{}:node:{n}:orders", self.prefix)
    }

    /// The counter that numbers nodes as they start (a node's number is in its
    /// connections' cluster-wide numbers).
    pub fn node_numbers(&self) -> String {
        format!("{}:nodes", self.prefix)
    }

    /// The nodes whose relays are up, scored by when their presence runs out (ms).
    pub fn relays(&self) -> String {
        format!("{}:relays", self.prefix)
    }

    /// The nodes whose relays take no new call.
    pub fn relays_draining(&self) -> String {
        format!("{}:relays:draining", self.prefix)
    }

    /// The writer's journal: each input it applied, in order (ADR 0021).
    pub fn journal(&self) -> String {
        format!("{}:journal", self.prefix)
    }

    /// The writer's last saved core (`core`) and the journal entry it follows (`after`).
    pub fn saved(&self) -> String {
        format!("{}:saved", self.prefix)
    }
}
