//! Every SQL statement of the server, written once for SQLite (one node) and PostgreSQL (a
//! cluster, ADR 0020) through `sqlx`'s `Any` driver: placeholders `$1`, `$2`…, flags
//! written `TRUE`/`FALSE` and read as [`flag::Flag`], new ids by `RETURNING id`. The directory (`directory.rs`),
//! credentials (`accounts.rs`), call records (`records.rs`), the partner directory
//! (`partners.rs`), the cost split rule (`cost_split.rs`), retention and its purge
//! (`retention.rs`), sealed handling notes (`notes.rs`), each municipality's calendar
//! (`calendar.rs`) and the audit log.
//!
//! WAL journal with `synchronous = FULL`: a transaction is on disk when its commit
//! returns, so a call record acknowledged to a client survives a crash. Every query runs
//! under [`timed`], which bounds it and sorts the database's refusals into
//! [`StoreError::Constraint`] by kind (never by matching message text). Migrations are
//! SQL files compiled in, applied in order, each once. The store is called and never
//! calls up: it imports nothing of the server but plain data types.

mod accounts;
mod bookings;
mod calendar;
mod cost_split;
mod directory;
mod fence;
mod flag;
mod migrate;
mod notes;
mod notices;
mod partners;
mod records;
mod retention;
mod second_factor;

pub use accounts::{Account, AccountKind, SessionRow};
pub use bookings::BookingsOf;
pub use cost_split::CostSplitRule;
pub use directory::DeskListing;
pub use notes::SealedNote;
pub use notices::{NOTICE_DAYS, Notice};
pub use partners::{KINDS as PARTNER_KINDS, Partner};
#[cfg(test)]
pub(crate) use records::abandoned;
pub use records::{CallRecord, DeskOutcome, Mode, RecordOutcome};
pub use retention::{AuditEntry, Purged, Retention};
pub use second_factor::{FactorRow, TwoFactorRule};

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

/// The longest any store call may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite or the driver.
    #[error("database: {0}")]
    Db(sqlx::Error),
    /// The database refused a write that breaks one of its rules.
    #[error("database refused the write: {0:?} constraint")]
    Constraint(Constraint),
    /// The data directory.
    #[error("data directory {path}: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A call took longer than the timeout.
    #[error("database call timed out")]
    Timeout,
    /// The database has accepted a newer writer: this node's writes are refused (ADR
    /// 0020). It must stop writing.
    #[error("deposed: the database has accepted writer token {newer}, this node writes with {ours}")]
    Fenced {
        /// This node's token.
        ours: u64,
        /// The database's.
        newer: u64,
    },
    /// A row holds something the server cannot read (a bug or a hand edit).
    #[error("corrupt row in {table}: {problem}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// Which rule a refused write broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// A value that must be unique is taken (a tenant's name, a login).
    Unique,
    /// A reference to a row that does not exist (a desk of an unknown tenant).
    ForeignKey,
    /// A value outside its allowed set.
    Check,
    /// A required value is missing.
    NotNull,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        let kind = match &e {
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => Some(Constraint::Unique),
                ErrorKind::ForeignKeyViolation => Some(Constraint::ForeignKey),
                ErrorKind::CheckViolation => Some(Constraint::Check),
                ErrorKind::NotNullViolation => Some(Constraint::NotNull),
                _ => None,
            },
            _ => None,
        };
        match kind {
            Some(c) => StoreError::Constraint(c),
            None => StoreError::Db(e),
        }
    }
}

impl StoreError {
    /// Whether trying again later may succeed: the database was unreachable, restarting,
    /// busy or slow, or chose this transaction to fail (serialization, deadlock). A refused
    /// value or a corrupt row fails the same way every time.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Timeout => true,
            StoreError::Db(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    // PostgreSQL's connection exceptions (08), shutdowns and restarts
                    // (57P0x), out of resources (53), serialization and deadlock (40);
                    // SQLite's busy and locked (5, 6, and their extended codes; PostgreSQL's
                    // are always five characters, SQLite's fewer).
                    let sqlite = code.len() < 5;
                    if sqlite {
                        matches!(code.parse::<i32>().map(|c| c & 0xff), Ok(5 | 6))
                    } else {
                        ["08", "57P0", "53", "40"].iter().any(|class| code.starts_with(class))
                    }
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Run one database call, bounded by [`TIMEOUT`].
pub(crate) async fn timed<T>(f: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, StoreError> {
    tokio::time::timeout(TIMEOUT, f).await.map_err(|_| StoreError::Timeout)?.map_err(StoreError::from)
}

/// Which database a store is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One node's file.
    Sqlite,
    /// A cluster's server (ADR 0020).
    Postgres,
}

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// A cluster's writer: the token its record writes are fenced with (`fence.rs`).
    fence: Option<fence::Fence>,
}

/// `path` as an SQLite URL (percent-encoded: a `?` or `#` in a directory name is a name).
fn sqlite_url(path: &Path) -> String {
    let mut url = String::from("sqlite://");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' | b'~' => url.push(char::from(b)),
            _ => url.push_str(&format!("%{b:02X}")),
        }
    }
    url.push_str("?mode=rwc");
    url
}

impl Store {
    /// Open (creating if needed) `kakehashi.sqlite3` in `dir` and apply migrations.
    pub async fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir { path: dir.display().to_string(), source })?;
        sqlx::any::install_default_drivers();
        let url = sqlite_url(&dir.join("kakehashi.sqlite3"));
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL, and a commit on disk when it returns (a record acknowledged to a
                    // client survives a crash); foreign keys checked; a busy database waited for.
                    sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                         PRAGMA busy_timeout = 5000;",
                    )
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .connect(&url);
        let store = Store { pool: timed(pool).await?, backend: Backend::Sqlite, fence: None };
        store.migrate().await?;
        Ok(store)
    }

    /// Connect to a PostgreSQL database (`postgres://user@host:port/db`) and apply
    /// migrations: the store of a cluster's nodes. Each node may start at once; the
    /// migrations are applied once, under a lock. A commit returns when it is durable
    /// (the server's `synchronous_commit`, on by default).
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new().max_connections(8).acquire_timeout(TIMEOUT).connect(url);
        let store = Store { pool: timed(pool).await?, backend: Backend::Postgres, fence: None };
        store.migrate().await?;
        Ok(store)
    }

    /// Whether the database answers, within a second: what `/readyz` asks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let ask = async {
            let mut conn = self.pool.acquire().await?;
            sqlx::query("SELECT 1").execute(&mut *conn).await
        };
        tokio::time::timeout(Duration::from_secs(1), ask).await.map_err(|_| StoreError::Timeout)??;
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Append to the audit log an entry of the centre's own (no one municipality's).
    /// `actor` is a role and id (`desk:3`, `interpreter:12`), never a name.
    pub async fn audit(&self, actor: &str, action: &str, target: Option<&str>, ok: bool) -> Result<(), StoreError> {
        self.audit_for(None, actor, action, target, ok).await
    }

    /// The audit log, oldest first: (actor, action, target, ok).
    pub async fn audit_log(&self) -> Result<Vec<(String, String, Option<String>, bool)>, StoreError> {
        let rows: Vec<(String, String, Option<String>, flag::Flag)> =
            timed(sqlx::query_as("SELECT actor, action, target, ok FROM audit_log ORDER BY id").fetch_all(&self.pool))
                .await?;
        Ok(rows.into_iter().map(|(actor, action, target, ok)| (actor, action, target, ok.0)).collect())
    }
}

/// Milliseconds since the Unix epoch, from the system clock (the shell's clock, not the engine's).
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
