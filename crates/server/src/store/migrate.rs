//! The schema's migrations, compiled in, for each database: the same numbers, tables,
//! columns and rules in SQLite's form (`migrations/`) and PostgreSQL's
//! (`migrations/postgres/`), applied in order, each once. Never edit one that has
//! shipped: add another, to both folders.

use super::{Backend, Store, StoreError, now_ms, timed};

macro_rules! migrations {
    ($dir:literal: $($n:literal $file:literal),* $(,)?) => {
        &[$(($n, include_str!(concat!("../../migrations/", $dir, $file)))),*]
    };
}

macro_rules! both {
    ($($n:literal $file:literal),* $(,)?) => {
        /// SQLite's.
        const SQLITE: &[(i64, &str)] = migrations!("": $($n $file),*);
        /// PostgreSQL's.
        const POSTGRES: &[(i64, &str)] = migrations!("postgres/": $($n $file),*);
    };
}

both! {
    1 "0001_init.sql",
    2 "0002_policies.sql",
    3 "0003_offered_at.sql",
    4 "0004_interpreter_day.sql",
    5 "0005_second_factor.sql",
    6 "0006_pinned_languages.sql",
    7 "0007_remote_parties.sql",
    8 "0008_reach_by_phone.sql",
    9 "0009_consultation_topics.sql",
    10 "0010_partners.sql",
    11 "0011_report_indexes.sql",
    12 "0012_cost_split.sql",
    13 "0013_retention.sql",
    14 "0014_handling_notes.sql",
    15 "0015_calendar.sql",
    16 "0016_bookings.sql",
    17 "0017_online_desk.sql",
    18 "0018_notices.sql",
    19 "0019_record_write_keys.sql",
    20 "0020_writer_fence.sql",
}

/// PostgreSQL's advisory lock key that several nodes starting at once migrate under.
const MIGRATION_LOCK: i64 = 0x6b6b_6d69;

impl Store {
    /// Apply the migrations not applied yet, each in a transaction of its own.
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        let list = match self.backend {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        };
        for (version, sql) in list {
            let mut tx = timed(self.pool.begin()).await?;
            if self.backend == Backend::Postgres {
                // Until this transaction ends, another node's migration waits here.
                timed(sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx)).await?;
            }
            timed(
                sqlx::query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                )
                .execute(&mut *tx),
            )
            .await?;
            let done: Option<(i64,)> = timed(
                sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx),
            )
            .await?;
            if done.is_some() {
                continue;
            }
            // Compiled-in migration text, never user input.
            timed(sqlx::raw_sql(sqlx::AssertSqlSafe(*sql)).execute(&mut *tx)).await?;
            timed(
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(now_ms())
                    .execute(&mut *tx),
            )
            .await?;
            timed(tx.commit()).await?;
            tracing::info!(version, "applied migration");
        }
        Ok(())
    }
}
