//! The writer's journal in Redis (ADR 0021): each round's entries appended to
//! `<prefix>:journal` and the core saved under `<prefix>:saved` (with the entry it
//! follows, the journal before it trimmed), both through scripts that refuse a node not
//! holding the lease, so a deposed writer adds nothing. A new writer restores the saved
//! core, replays the entries after it and takes over ([`RedisJournal::restore`]).

use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::time::Instant;

use super::keys::Keys;
use crate::calls::{Core, Input, Settings, Tape};
use crate::hub::JournalSink;

/// A script that runs `body` only while the lease (KEYS[1]) names this node (ARGV[1],
/// `node|`): nobody holding it is `NOLEASE` (tried again), another node `DEPOSED`.
macro_rules! held_by_this_node {
    ($body:literal) => {
        concat!(
            "
local holder = redis.call('GET', KEYS[1])
if not holder then
  return redis.error_reply('NOLEASE nobody holds the lease')
end
if string.sub(holder, 1, #ARGV[1]) ~= ARGV[1] then
  return redis.error_reply('DEPOSED another node holds the lease')
end
",
            $body
        )
    };
}

/// Append a round's entries, if this node holds the lease. KEYS: lease, journal. ARGV:
/// `node|`, the entries. Returns the last entry's id. Nobody holding the lease (Redis
/// restarted empty, the writer's renewal not yet in) is an error to try again after.
const APPEND: &str = held_by_this_node!(
    r"local id
for i = 2, #ARGV do
  id = redis.call('XADD', KEYS[2], '*', 'e', ARGV[i])
end
return id
"
);

/// Save the core after entry `after` and trim the journal before it, if this node holds
/// the lease. KEYS: lease, saved, journal. ARGV: `node|`, the core, `after`.
const SAVE: &str = held_by_this_node!(
    r"redis.call('HSET', KEYS[2], 'core', ARGV[2], 'after', ARGV[3])
if ARGV[3] ~= '0-0' then
  redis.call('XTRIM', KEYS[3], 'MINID', ARGV[3])
end
return 1
"
);

/// Entries read at once when replaying.
const READ: usize = 1000;

/// A writer's journal in Redis.
pub struct RedisJournal {
    conn: ConnectionManager,
    keys: Keys,
    /// `node|`: the lease's value starts with it while this node holds it.
    holder: String,
    /// How long a store may keep failing before the writer gives up (its lease's time to
    /// live: by then it is no longer the writer anyway).
    patience: Duration,
    entries: Vec<Vec<u8>>,
    /// The id of the last entry stored (`0-0`: none yet); a store in flight sets it.
    last: std::sync::Arc<std::sync::Mutex<String>>,
    append: redis::Script,
    save: redis::Script,
}

impl std::fmt::Debug for RedisJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisJournal").field("holder", &self.holder).finish_non_exhaustive()
    }
}

impl RedisJournal {
    /// The journal of the cluster under `keys`, written by `node` while it holds the
    /// lease of time to live `ttl`.
    pub fn new(conn: ConnectionManager, keys: Keys, node: &str, ttl: Duration) -> RedisJournal {
        RedisJournal {
            conn,
            keys,
            holder: format!("{node}|"),
            patience: ttl,
            entries: Vec::new(),
            last: std::sync::Arc::new(std::sync::Mutex::new("0-0".into())),
            append: redis::Script::new(APPEND),
            save: redis::Script::new(SAVE),
        }
    }

    /// The core the last writer left: its saved core with the journal after it replayed,
    /// then taken over. `None` when there is none to take over (a fresh cluster, or
    /// Redis lost it): the writer starts from the database.
    pub async fn restore(&mut self, settings: Settings, tape: &Tape) -> Option<Core> {
        match self.restored(settings, tape).await {
            Ok(core) => core,
            Err(e) => {
                tracing::error!(error = %e, "the last writer's state cannot be taken over; starting afresh");
                None
            }
        }
    }

    async fn restored(&mut self, settings: Settings, tape: &Tape) -> Result<Option<Core>, String> {
        let started = Instant::now();
        let (core, after): (Option<Vec<u8>>, Option<String>) = redis::cmd("HMGET")
            .arg(self.keys.saved())
            .arg("core")
            .arg("after")
            .query_async(&mut self.conn)
            .await
            .map_err(|e| e.to_string())?;
        let (Some(core), Some(after)) = (core, after) else { return Ok(None) };
        let mut core = Core::restore(&core, settings, Box::new(tape.clone())).map_err(|e| e.to_string())?;
        if after != "0-0" {
            let first: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(self.keys.journal())
                .arg(&after)
                .arg(&after)
                .query_async(&mut self.conn)
                .await
                .map_err(|e| e.to_string())?;
            if first.ids.is_empty() {
                return Err(format!("the journal does not hold entry {after}, which the saved core follows"));
            }
        }
        let mut from = after;
        let mut replayed = 0usize;
        loop {
            let page: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(self.keys.journal())
                .arg(format!("({from}"))
                .arg("+")
                .arg("COUNT")
                .arg(READ)
                .query_async(&mut self.conn)
                .await
                .map_err(|e| e.to_string())?;
            let Some(last) = page.ids.last() else { break };
            from = last.id.clone();
            for id in &page.ids {
                let entry: Vec<u8> = id.get("e").ok_or_else(|| format!("journal entry {} has no input", id.id))?;
                core.replay(&entry, tape).map_err(|e| format!("journal entry {}: {e}", id.id))?;
                replayed += 1;
            }
        }
        *self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = from;
        let now = core.now();
        let _ = core.handle(now, Input::Takeover);
        while core.poll_output().is_some() {}
        let (live, took_ms) = (core.live_calls(), started.elapsed().as_millis() as u64);
        tracing::info!(replayed, live, took_ms, "took over the last writer's state");
        Ok(Some(core))
    }
}

/// Run a script until it answers, this node is deposed, or `patience` runs out.
async fn fenced(
    conn: &mut ConnectionManager,
    script: &redis::Script,
    args: Vec<Vec<u8>>,
    keys: Vec<String>,
    patience: Duration,
) -> Result<redis::Value, String> {
    let deadline = Instant::now() + patience;
    loop {
        let mut invocation = script.prepare_invoke();
        for key in &keys {
            invocation.key(key);
        }
        for arg in &args {
            invocation.arg(arg.as_slice());
        }
        match invocation.invoke_async::<redis::Value>(conn).await {
            Ok(value) => return Ok(value),
            // Nothing more this writer does could be taken over: it goes, as a
            // deposed writer does (ADR 0020 point 8).
            Err(e) if e.to_string().contains("DEPOSED") => {
                super::node::step_down(&format!("the journal refused it: {e}"))
            }
            Err(e) if Instant::now() >= deadline => {
                super::node::step_down(&format!("the journal could not be written in time: {e}"))
            }
            Err(e) => {
                tracing::warn!(error = %e, "the journal could not be written; trying again");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[async_trait::async_trait]
impl JournalSink for RedisJournal {
    fn append(&mut self, entry: Vec<u8>) {
        self.entries.push(entry);
    }

    fn store(&mut self) -> crate::hub::Storing {
        if self.entries.is_empty() {
            return Box::pin(std::future::ready(Ok(())));
        }
        let mut args = vec![self.holder.clone().into_bytes()];
        args.append(&mut self.entries);
        let keys = vec![self.keys.writer(), self.keys.journal()];
        let (mut conn, script, patience, last) =
            (self.conn.clone(), self.append.clone(), self.patience, std::sync::Arc::clone(&self.last));
        Box::pin(async move {
            let id = fenced(&mut conn, &script, args, keys, patience).await?;
            let id: String = redis::from_redis_value(id).map_err(|e| e.to_string())?;
            *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = id;
            Ok(())
        })
    }

    async fn save(&mut self, core: Vec<u8>) -> Result<(), String> {
        let last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let args = vec![self.holder.clone().into_bytes(), core, last.into_bytes()];
        let keys = vec![self.keys.writer(), self.keys.saved(), self.keys.journal()];
        fenced(&mut self.conn, &self.save, args, keys, self.patience).await.map(|_| ())
    }
}
