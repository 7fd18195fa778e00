//! The writer's lease in Redis, with a fencing token (ADR 0020). One Lua script takes a
//! free lease with a new token, extends the holder's own, or says who holds it; the holder
//! renews it every third of its time to live and steps down by its own clock when a
//! renewal has not come back within the time to live, counted from when it was sent. The
//! token only grows, even when Redis restarts empty: the caller passes a floor (the
//! highest token PostgreSQL has accepted) and no token at or below it is granted. Safety
//! rests on the token being checked where writes land; the clock only makes a writer
//! step down early.
//!
//! A lease that vanishes with Redis's data (a restart without persistence) is still the
//! writer's until the time it would have run out: a node that saw it held does not take
//! it before then, so the writer, renewing every third of that time, takes it back and
//! a Redis restart costs no leader change. A lease released or run out leaves the token
//! counter behind and is taken at once.

use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::time::Instant;

use super::keys::Keys;

/// Take, extend, or report: KEYS[1] the lease, KEYS[2] the token counter; ARGV[1] this
/// node, ARGV[2] the time to live (ms), ARGV[3] the floor, ARGV[4] `1` to leave a lease
/// lost with Redis's data (no counter either) untaken. Answers `{held, token, holder,
/// ms to live}`; a lease left untaken is `{0, 0, ''}`.
const CLAIM: &str = r"
local lease = redis.call('GET', KEYS[1])
if lease then
  local sep = string.find(lease, '|', 1, true)
  local holder = string.sub(lease, 1, sep - 1)
  local token = tonumber(string.sub(lease, sep + 1))
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, token, holder, tonumber(ARGV[2])}
  end
  return {0, token, holder, redis.call('PTTL', KEYS[1])}
end
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then
  return {0, 0, '', 0}
end
local token = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if token <= floor then
  token = floor + 1
  redis.call('SET', KEYS[2], token)
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return {1, token, ARGV[1], tonumber(ARGV[2])}
";

/// Give up the lease only if it is still this grant: KEYS[1] the lease; ARGV[1] `node|token`.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Why the lease could not be asked about.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Redis answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time.
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// The node id cannot be used.
    #[error("node id {0:?}: use 1 to 64 letters, digits, '-', '_' or '.'")]
    BadNode(String),
}

/// Where this node stands after asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// This node is the writer, with this token. `fresh` when the grant is new (taken now,
    /// or taken again after it lapsed): the writer's state must be rebuilt first.
    Writer {
        /// The fencing token of the grant.
        token: u64,
        /// A new grant, not an extension of the one held.
        fresh: bool,
    },
    /// Another node is the writer.
    Follower {
        /// The writer's node id.
        writer: String,
        /// Its token.
        token: u64,
    },
}

/// A grant this node holds, until its own deadline.
#[derive(Clone, Copy, Debug)]
struct Held {
    token: u64,
    until: Instant,
}

/// Another node's grant as last seen, and when it runs out unless renewed.
#[derive(Clone, Debug)]
struct Seen {
    writer: String,
    token: u64,
    until: Instant,
}

/// The writer's lease as one node sees it.
pub struct Lease {
    conn: ConnectionManager,
    keys: Keys,
    node: String,
    ttl: Duration,
    claim: redis::Script,
    release: redis::Script,
    held: Option<Held>,
    seen: Option<Seen>,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("node", &self.node).field("ttl", &self.ttl).field("held", &self.held).finish()
    }
}

/// Whether `node` may name a node: it is stored as `node|token`.
pub(crate) fn valid_node(node: &str) -> bool {
    (1..=64).contains(&node.len()) && node.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

impl Lease {
    /// The lease of the cluster under `keys`, asked about by `node`, granted for `ttl`.
    pub fn new(conn: ConnectionManager, keys: Keys, node: &str, ttl: Duration) -> Result<Lease, LeaseError> {
        if !valid_node(node) {
            return Err(LeaseError::BadNode(node.into()));
        }
        Ok(Lease {
            conn,
            keys,
            node: node.into(),
            ttl,
            claim: redis::Script::new(CLAIM),
            release: redis::Script::new(RELEASE),
            held: None,
            seen: None,
        })
    }

    /// How often the holder should renew: a third of the time to live, so that one lost
    /// renewal does not cost the lease.
    pub fn renew_every(&self) -> Duration {
        self.ttl / 3
    }

    /// Take the lease if it is free, extend it if it is ours, or learn who holds it.
    /// `floor`: no token at or below it is granted (the highest PostgreSQL accepted).
    /// On an error the grant held, if any, runs out by its own deadline.
    pub async fn claim(&mut self, floor: u64) -> Result<Standing, LeaseError> {
        let sent = Instant::now();
        // Another's grant seen still running: should it vanish, it vanished with Redis.
        let spare = self.seen.as_ref().is_some_and(|seen| sent < seen.until);
        let mut call = self.claim.prepare_invoke();
        call.key(self.keys.writer()).key(self.keys.writer_token());
        call.arg(&self.node).arg(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)).arg(floor);
        call.arg(u8::from(spare));
        let wait = self.ttl / 2;
        let answer: (i64, u64, String, i64) = tokio::time::timeout(wait, call.invoke_async(&mut self.conn))
            .await
            .map_err(|_| LeaseError::Timeout(wait))??;
        let (held, token, holder, to_live) = answer;
        if held == 1 {
            let fresh = self.held.is_none_or(|h| h.token != token || h.until <= sent);
            self.held = Some(Held { token, until: sent + self.ttl });
            self.seen = None;
            return Ok(Standing::Writer { token, fresh });
        }
        self.held = None;
        match (holder.is_empty(), &self.seen) {
            // Left untaken: the writer seen is still the writer, until its grant runs out.
            (true, Some(seen)) => Ok(Standing::Follower { writer: seen.writer.clone(), token: seen.token }),
            _ => {
                let to_live = Duration::from_millis(u64::try_from(to_live).unwrap_or(0));
                self.seen = Some(Seen { writer: holder.clone(), token, until: Instant::now() + to_live });
                Ok(Standing::Follower { writer: holder, token })
            }
        }
    }

    /// The token this node may write with at `now`: its grant, until its own deadline.
    pub fn holds(&self, now: Instant) -> Option<u64> {
        self.held.filter(|h| now < h.until).map(|h| h.token)
    }

    /// Give the lease up (stopping gracefully), if it is still this node's grant: another
    /// node may take it at once instead of after the time to live.
    pub async fn release(&mut self) -> Result<(), LeaseError> {
        let Some(held) = self.held.take() else { return Ok(()) };
        let mut call = self.release.prepare_invoke();
        call.key(self.keys.writer()).arg(format!("{}|{}", self.node, held.token));
        let wait = self.ttl / 2;
        let _: i64 = tokio::time::timeout(wait, call.invoke_async(&mut self.conn))
            .await
            .map_err(|_| LeaseError::Timeout(wait))??;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::valid_node;

    #[test]
    fn a_node_id_cannot_smuggle_the_separator() {
        assert!(valid_node("node-1.tokyo_a"));
        for bad in ["", "a|7", "a b", "ノード", &"x".repeat(65)] {
            assert!(!valid_node(bad), "{bad:?}");
        }
    }
}
