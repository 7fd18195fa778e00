//! Call records: one row per request that ended, answered or not. No names, phone
//! numbers or anything said, by construction: the columns hold ids, languages, tiers,
//! times, outcomes and media quality.

use super::{Store, StoreError, timed};

/// What happened to a request, for the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RecordOutcome {
    /// An interpreter answered and the call ended.
    Answered,
    /// The desk cancelled.
    Abandoned,
    /// It waited the maximum.
    Expired,
    /// Nobody could take it.
    Unserved,
}

impl RecordOutcome {
    /// The stored label.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordOutcome::Answered => "answered",
            RecordOutcome::Abandoned => "abandoned",
            RecordOutcome::Expired => "expired",
            RecordOutcome::Unserved => "unserved",
        }
    }
}

/// What a desk recorded of a consultation after it: categories only, never free text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeskOutcome {
    /// The handling status: `resolved`, `referred`, `follow_up` or `interrupted`.
    pub status: &'static str,
    /// Topic codes, sorted, each once.
    pub topics: Vec<&'static str>,
    /// The resident's municipality (a tenant id), when the desk gave it.
    pub residence: Option<i64>,
    /// Where the resident was referred (a partner of the desk's municipality).
    pub referral: Option<i64>,
    /// The handling note as sealed by the edge (`crate::notes`), where the municipality
    /// keeps them.
    pub note: Option<String>,
}

/// How the resident took part, for the centre's statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// At the counter, beside the staff member.
    Counter,
    /// Three-way, the resident (or a guest) joining by link from elsewhere.
    Remote,
    /// A phone took part (the phone bridge).
    Phone,
}

impl Mode {
    /// The label reports and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Counter => "counter",
            Mode::Remote => "remote",
            Mode::Phone => "phone",
        }
    }
}

/// One row of `call_records`. No names, phone numbers or content, by construction.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallRecord {
    /// Row id (0 before insertion).
    pub id: i64,
    /// The tenant.
    pub tenant_id: i64,
    /// The desk.
    pub desk_id: i64,
    /// The resident's language (BCP 47).
    pub language: String,
    /// Requested speciality.
    pub speciality: Option<String>,
    /// video, audio or phone.
    pub modality: String,
    /// The interpreter's tier, when answered.
    pub tier: Option<String>,
    /// The interpreter, when answered.
    pub interpreter_id: Option<i64>,
    /// Request time, ms.
    pub requested_at: i64,
    /// First offer, ms.
    pub offered_at: Option<i64>,
    /// Answer time, ms.
    pub answered_at: Option<i64>,
    /// End time, ms.
    pub ended_at: i64,
    /// Offers made.
    pub offers: i64,
    /// How it ended.
    pub outcome: RecordOutcome,
    /// The desk's category after the call.
    pub desk_outcome: Option<String>,
    /// Media quality: the fraction of packets lost, over every leg and direction.
    pub loss: Option<f64>,
    /// Media quality: the mean round-trip time between the relay and the participants, ms.
    pub rtt_ms: Option<f64>,
    /// How many times a participant's media reconnected.
    pub reconnects: Option<i64>,
    /// Residents who joined by link.
    pub remote_residents: i64,
    /// Guests who joined by link.
    pub guests: i64,
    /// Phone legs that joined (never their numbers).
    pub phones: i64,
    /// What the consultation was about (topic codes), as the desk recorded it.
    pub topics: Vec<String>,
    /// The resident's municipality (a tenant id), when the desk gave it.
    pub residence_id: Option<i64>,
    /// Where the resident was referred (a partner), when the desk said.
    pub referral_id: Option<i64>,
}

impl CallRecord {
    /// How the resident took part: a phone leg makes it a phone session, a link a remote one.
    pub fn mode(&self) -> Mode {
        if self.phones > 0 {
            Mode::Phone
        } else if self.remote_residents > 0 || self.guests > 0 {
            Mode::Remote
        } else {
            Mode::Counter
        }
    }

    /// The municipality the consultation counts for: the resident's, else the desk's.
    pub fn residence(&self) -> i64 {
        self.residence_id.unwrap_or(self.tenant_id)
    }
}

/// A `SELECT` of every column [`record`] reads, followed by `$rest`: one static text.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, tenant_id, desk_id, language, speciality, modality, tier, interpreter_id, requested_at, \
             offered_at, answered_at, ended_at, offers, outcome, desk_outcome, loss, rtt_ms, reconnects, \
             remote_residents, guests, phones, topics, residence_id, referral_id FROM call_records ",
            $rest
        )
    };
}

impl Store {
    /// Write a call record; returns its id. Durable when this returns.
    pub async fn insert_call_record(&self, r: &CallRecord) -> Result<i64, StoreError> {
        let mut conn = timed(self.pool.acquire()).await?;
        let rows = timed(insert_rows(&mut conn, &[(r, None)])).await?;
        rows.first()
            .map(|(id, _)| *id)
            .ok_or_else(|| StoreError::Corrupt { table: "call_records", problem: "no id for a new row".into() })
    }

    /// Write a call record under its write key (the core derives it from the request),
    /// once: when an earlier try with the same key was committed (its answer lost to a
    /// dropped connection, or its writer gone), the row it wrote is found and its id
    /// returned instead. What a retried write calls.
    /// A cluster's writer writes it only while the fence is its own (`fence.rs`).
    pub async fn insert_call_record_once(&self, r: &CallRecord, key: &str) -> Result<i64, StoreError> {
        let ids = self.insert_call_records_once(&[(r, key)]).await?;
        ids.first().copied().ok_or_else(|| StoreError::Corrupt { table: "call_records", problem: "no id".into() })
    }

    /// Write records under their write keys, each once as [`Store::insert_call_record_once`]
    /// does, in one transaction (one commit, one fence check: the hub's group commit);
    /// their ids in order. All or none: a retry of the whole finds the rows it wrote.
    /// One statement inserts up to [`ROWS_PER_STATEMENT`] rows, and one more finds the
    /// rows an earlier try wrote, so a group costs a few round trips whatever its size.
    pub async fn insert_call_records_once(&self, records: &[(&CallRecord, &str)]) -> Result<Vec<i64>, StoreError> {
        let mut tx = timed(self.pool.begin()).await?;
        self.check_fence(&mut tx).await?;
        let mut ids = Vec::with_capacity(records.len());
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<_> = chunk.iter().map(|(r, key)| (*r, Some(*key))).collect();
            let mut written: std::collections::HashMap<String, i64> = timed(insert_rows(&mut tx, &rows))
                .await?
                .into_iter()
                .filter_map(|(id, key)| Some((key?, id)))
                .collect();
            if written.len() < chunk.len() {
                let already: Vec<&str> =
                    chunk.iter().map(|(_, key)| *key).filter(|key| !written.contains_key(*key)).collect();
                written.extend(timed(written_before(&mut tx, &already)).await?);
            }
            for (_, key) in chunk {
                let id = written.get(*key).copied().ok_or_else(|| StoreError::Corrupt {
                    table: "call_records",
                    problem: format!("no row for write key {key:?} after its insert"),
                })?;
                ids.push(id);
            }
        }
        timed(tx.commit()).await?;
        Ok(ids)
    }

    /// Write many records, every column, in one transaction: an import of a past period
    /// (from another system, or the benchmark's month). Returns how many.
    pub async fn import_call_records(&self, records: &[CallRecord]) -> Result<usize, StoreError> {
        let mut tx = timed(self.pool.begin()).await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<_> = chunk.iter().map(|r| (r, None)).collect();
            timed(insert_rows(&mut tx, &rows)).await?;
        }
        timed(tx.commit()).await?;
        Ok(records.len())
    }

    /// Set what the desk recorded of a record of its own tenant, and its sealed note if
    /// any, together. Returns whether a row changed.
    pub async fn set_desk_outcome(&self, id: i64, tenant_id: i64, outcome: &DeskOutcome) -> Result<bool, StoreError> {
        let mut tx = timed(self.pool.begin()).await?;
        self.check_fence(&mut tx).await?;
        let done = timed(
            sqlx::query(
                "UPDATE call_records SET desk_outcome = $1, topics = $2, residence_id = $3, referral_id = $4 \
                 WHERE id = $5 AND tenant_id = $6",
            )
            .bind(outcome.status)
            .bind(outcome.topics.join(","))
            .bind(outcome.residence)
            .bind(outcome.referral)
            .bind(id)
            .bind(tenant_id)
            .execute(&mut *tx),
        )
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(sealed) = &outcome.note {
            timed(
                sqlx::query(
                    "INSERT INTO handling_notes (record_id, tenant_id, written_at, sealed) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (record_id) DO UPDATE SET written_at = excluded.written_at, sealed = excluded.sealed",
                )
                .bind(id)
                .bind(tenant_id)
                .bind(super::now_ms())
                .bind(sealed)
                .execute(&mut *tx),
            )
            .await?;
        }
        timed(tx.commit()).await?;
        Ok(true)
    }

    /// Call records, oldest first, of one tenant or all.
    pub async fn call_records(&self, tenant_id: Option<i64>) -> Result<Vec<CallRecord>, StoreError> {
        self.call_records_since(tenant_id, 0).await
    }

    /// How many requests a tenant's desks made per language since `since` (ms), most
    /// first: the desk's language grid puts the most used first.
    pub async fn language_use(&self, tenant_id: i64, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        timed(
            sqlx::query_as(
                "SELECT language, COUNT(*) AS n FROM call_records \
                 WHERE tenant_id = $1 AND requested_at >= $2 AND outcome = 'answered' \
                 GROUP BY language ORDER BY n DESC, language",
            )
            .bind(tenant_id)
            .bind(since)
            .fetch_all(&self.pool),
        )
        .await
    }

    /// An interpreter's answered calls that started since `since` (ms): how many, and their
    /// talk time in ms.
    pub async fn interpreter_day(&self, interpreter_id: i64, since: i64) -> Result<(i64, i64), StoreError> {
        timed(
            sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(ended_at - answered_at), 0) AS BIGINT) FROM call_records \
                 WHERE interpreter_id = $1 AND answered_at >= $2 AND outcome = 'answered'",
            )
            .bind(interpreter_id)
            .bind(since)
            .fetch_one(&self.pool),
        )
        .await
    }

    /// Call records requested since `since` (ms), oldest first, of one tenant or all.
    pub async fn call_records_since(&self, tenant_id: Option<i64>, since: i64) -> Result<Vec<CallRecord>, StoreError> {
        let sql = select!("WHERE ($1 IS NULL OR tenant_id = $1) AND requested_at >= $2 ORDER BY id");
        let rows = timed(sqlx::query(sql).bind(tenant_id).bind(since).fetch_all(&self.pool)).await?;
        rows.iter().map(record).collect()
    }

    /// The records that count for a municipality (at its desks, or of its residents), or
    /// for every one, requested in `[from, to)` (ms), oldest first: what its reports read.
    pub async fn records_counting_for(
        &self,
        municipality: Option<i64>,
        from: i64,
        to: i64,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let sql = select!(
            "WHERE ($1 IS NULL OR tenant_id = $1 OR residence_id = $1) \
             AND requested_at >= $2 AND requested_at < $3 ORDER BY requested_at, id"
        );
        let rows = timed(sqlx::query(sql).bind(municipality).bind(from).bind(to).fetch_all(&self.pool)).await?;
        rows.iter().map(record).collect()
    }

    /// A supervisor's later word on how an interpreted consultation was handled (a follow-up
    /// done, say): sets its status, when the record is answered and of `tenant` (any, for
    /// `None`). Returns whether a row changed.
    pub async fn set_handling_status(&self, id: i64, tenant: Option<i64>, status: &str) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query(
                "UPDATE call_records SET desk_outcome = $1 \
                 WHERE id = $2 AND outcome = 'answered' AND ($3 IS NULL OR tenant_id = $3)",
            )
            .bind(status)
            .bind(id)
            .bind(tenant)
            .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Insert one record, every column, under `key` when given; its id, none when a row of
/// that key exists already.
/// The columns [`insert_rows`] writes, in the order it binds them.
const COLUMNS: &str = "tenant_id, desk_id, language, speciality, modality, tier, interpreter_id, \
     requested_at, offered_at, answered_at, ended_at, offers, outcome, desk_outcome, loss, rtt_ms, \
     reconnects, remote_residents, guests, phones, topics, residence_id, referral_id, write_key";
const COLUMN_COUNT: usize = 24;

/// The most rows one statement carries: 256 × 24 parameters stays well under SQLite's
/// (32,766) and PostgreSQL's (65,535) limits.
pub(super) const ROWS_PER_STATEMENT: usize = 256;

/// Insert rows in one statement (one round trip), skipping those whose write key is
/// already written; the id and key of each row inserted, in no particular order.
async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    rows: &[(&CallRecord, Option<&str>)],
) -> Result<Vec<(i64, Option<String>)>, sqlx::Error> {
    debug_assert!(rows.len() <= ROWS_PER_STATEMENT);
    let mut sql = String::with_capacity(80 + rows.len() * COLUMN_COUNT * 5);
    sql.push_str("INSERT INTO call_records (");
    sql.push_str(COLUMNS);
    sql.push_str(") VALUES ");
    for row in 0..rows.len() {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..COLUMN_COUNT {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * COLUMN_COUNT + column + 1).to_string());
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (write_key) DO NOTHING RETURNING id, write_key");
    // Safe: built of constants and placeholder numbers only; every value is bound.
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for (r, key) in rows {
        query = query
            .bind(r.tenant_id)
            .bind(r.desk_id)
            .bind(&r.language)
            .bind(&r.speciality)
            .bind(&r.modality)
            .bind(&r.tier)
            .bind(r.interpreter_id)
            .bind(r.requested_at)
            .bind(r.offered_at)
            .bind(r.answered_at)
            .bind(r.ended_at)
            .bind(r.offers)
            .bind(r.outcome.as_str())
            .bind(&r.desk_outcome)
            .bind(r.loss)
            .bind(r.rtt_ms)
            .bind(r.reconnects)
            .bind(r.remote_residents)
            .bind(r.guests)
            .bind(r.phones)
            .bind(r.topics.join(","))
            .bind(r.residence_id)
            .bind(r.referral_id)
            .bind(*key);
    }
    query.fetch_all(conn).await
}

/// The ids of rows already written under these keys (by an earlier try), by key.
async fn written_before(conn: &mut sqlx::AnyConnection, keys: &[&str]) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let places: Vec<String> = (1..=keys.len()).map(|n| format!("${n}")).collect();
    let sql = format!("SELECT write_key, id FROM call_records WHERE write_key IN ({})", places.join(", "));
    // Safe: placeholders only; the keys are bound.
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for key in keys {
        query = query.bind(*key);
    }
    query.fetch_all(conn).await
}

/// A row of [`select!`] as a record.
fn record(r: &sqlx::any::AnyRow) -> Result<CallRecord, StoreError> {
    use sqlx::Row;
    let outcome: String = r.try_get("outcome")?;
    let outcome = match outcome.as_str() {
        "answered" => RecordOutcome::Answered,
        "abandoned" => RecordOutcome::Abandoned,
        "expired" => RecordOutcome::Expired,
        "unserved" => RecordOutcome::Unserved,
        other => {
            return Err(StoreError::Corrupt { table: "call_records", problem: format!("outcome {other:?}") });
        }
    };
    let topics: String = r.try_get("topics")?;
    Ok(CallRecord {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        desk_id: r.try_get("desk_id")?,
        language: r.try_get("language")?,
        speciality: r.try_get("speciality")?,
        modality: r.try_get("modality")?,
        tier: r.try_get("tier")?,
        interpreter_id: r.try_get("interpreter_id")?,
        requested_at: r.try_get("requested_at")?,
        offered_at: r.try_get("offered_at")?,
        answered_at: r.try_get("answered_at")?,
        ended_at: r.try_get("ended_at")?,
        offers: r.try_get("offers")?,
        outcome,
        desk_outcome: r.try_get("desk_outcome")?,
        loss: r.try_get("loss")?,
        rtt_ms: r.try_get("rtt_ms")?,
        reconnects: r.try_get("reconnects")?,
        remote_residents: r.try_get("remote_residents")?,
        guests: r.try_get("guests")?,
        phones: r.try_get("phones")?,
        topics: topics.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect(),
        residence_id: r.try_get("residence_id")?,
        referral_id: r.try_get("referral_id")?,
    })
}

/// A test's record: a request of `tenant_id` the desk gave up 1 s after `requested_at`.
#[cfg(test)]
pub(crate) fn abandoned(tenant_id: i64, requested_at: i64) -> CallRecord {
    CallRecord {
        id: 0,
        tenant_id,
        desk_id: 1,
        language: "vi".into(),
        speciality: None,
        modality: "video".into(),
        tier: None,
        interpreter_id: None,
        requested_at,
        offered_at: None,
        answered_at: None,
        ended_at: requested_at + 1000,
        offers: 0,
        outcome: RecordOutcome::Abandoned,
        desk_outcome: None,
        loss: None,
        rtt_ms: None,
        reconnects: None,
        remote_residents: 0,
        guests: 0,
        phones: 0,
        topics: Vec::new(),
        residence_id: None,
        referral_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh write key (the core derives them from the request).
    fn write_key() -> String {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random generator");
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("kakehashi-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[tokio::test]
    async fn records_survive_reopening_and_migrations_apply_once() {
        let dir = temp_dir("reopen");
        let store = Store::open(&dir).await.unwrap();
        let mut r = CallRecord {
            id: 0,
            tenant_id: 1,
            desk_id: 2,
            language: "vi".into(),
            speciality: None,
            modality: "video".into(),
            tier: Some("staff".into()),
            interpreter_id: Some(7),
            requested_at: 1000,
            offered_at: Some(1200),
            answered_at: Some(5000),
            ended_at: 65_000,
            offers: 1,
            outcome: RecordOutcome::Answered,
            desk_outcome: None,
            loss: Some(0.01),
            rtt_ms: Some(12.5),
            reconnects: Some(1),
            remote_residents: 1,
            guests: 0,
            phones: 1,
            topics: Vec::new(),
            residence_id: None,
            referral_id: None,
        };
        r.id = store.insert_call_record(&r).await.unwrap();
        assert_eq!((r.mode(), r.residence()), (Mode::Phone, 1));
        let legal = store.insert_tenant("T", 1, "Asia/Tokyo").await.unwrap();
        let legal = store.add_partner(legal, "法テラス", "legal_aid").await.unwrap();
        let outcome = DeskOutcome {
            status: "resolved",
            topics: vec!["medical", "work"],
            residence: Some(3),
            referral: Some(legal),
            note: None,
        };
        assert!(store.set_desk_outcome(r.id, 1, &outcome).await.unwrap());
        assert!(!store.set_desk_outcome(r.id, 2, &outcome).await.unwrap(), "another tenant's record is untouched");
        store.audit("desk:2", "end_call", Some("call:1"), true).await.unwrap();
        drop(store);
        let again = Store::open(&dir).await.unwrap();
        let rows = again.call_records(Some(1)).await.unwrap();
        r.desk_outcome = Some("resolved".into());
        r.topics = vec!["medical".into(), "work".into()];
        r.residence_id = Some(3);
        r.referral_id = Some(legal);
        assert_eq!(rows, vec![r]);
        assert_eq!(rows[0].residence(), 3, "the consultation counts for the resident's town");
        assert!(again.call_records(Some(2)).await.unwrap().is_empty());
        assert_eq!(again.audit_log().await.unwrap().len(), 1);

        // A retried write under the same key finds its row: one record, the same id.
        let key = write_key();
        assert_eq!(key.len(), 32);
        assert_ne!(key, write_key());
        let mut next = rows[0].clone();
        next.requested_at = 70_000;
        let first = again.insert_call_record_once(&next, &key).await.unwrap();
        assert_eq!(again.insert_call_record_once(&next, &key).await.unwrap(), first);
        assert_ne!(
            again.insert_call_record_once(&next, &write_key()).await.unwrap(),
            first,
            "another key, another row"
        );
        assert_eq!(again.call_records(Some(1)).await.unwrap().len(), 3);
        // Several in one transaction: the one already written found, the others new.
        let (k1, k2) = (write_key(), write_key());
        let ids = again.insert_call_records_once(&[(&next, &k1), (&next, &key), (&next, &k2)]).await.unwrap();
        assert_eq!(ids[1], first);
        assert!(ids[0] != first && ids[2] != first && ids[0] != ids[2]);
        assert_eq!(again.insert_call_records_once(&[(&next, &k2), (&next, &k1)]).await.unwrap(), vec![ids[2], ids[0]]);
        assert_eq!(again.call_records(Some(1)).await.unwrap().len(), 5);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
