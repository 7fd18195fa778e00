//! Bookings as stored (issue 17): made, listed by municipality, desk or interpreter,
//! moved, cancelled (kept, marked), and the live ones reloaded into the engine at start.

use super::flag::Flag;
use super::{Store, StoreError, timed};
use crate::bookings::{BookedModality, Booking, BookingLinks, ResidentJoins, Specialist, SpecialistJoins};

macro_rules! select {
    ($($rest:expr),*) => {
        concat!(
            "SELECT id, tenant_id, desk_id, language, modality, specialist, require_speciality, topic, \
             requested_interpreter, interpreter_id, start_ms, end_ms, resident_joins, specialist_joins, \
             intake_sealed IS NOT NULL AS intake, status, created_by, resident_link_hash, \
             specialist_link_hash FROM bookings ",
            $($rest),*
        )
    };
}

/// Which bookings to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingsOf {
    /// A municipality's.
    Tenant(i64),
    /// Every municipality's.
    All,
    /// A desk's.
    Desk(i64),
    /// An interpreter's.
    Interpreter(i64),
}

impl Store {
    /// Store a new booking (its `id` is ignored); returns its id.
    pub async fn add_booking(&self, b: &Booking, intake_sealed: Option<&str>, now_ms: i64) -> Result<i64, StoreError> {
        let done = timed(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO bookings (tenant_id, desk_id, language, modality, specialist, require_speciality, \
                 topic, requested_interpreter, interpreter_id, start_ms, end_ms, resident_joins, specialist_joins, \
                 intake_sealed, status, created_ms, created_by, resident_link_hash, specialist_link_hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'booked', $15, $16, $17, $18) RETURNING id",
            )
            .bind(b.tenant)
            .bind(b.desk)
            .bind(&b.language)
            .bind(b.modality.as_str())
            .bind(b.specialist.as_str())
            .bind(b.require_speciality)
            .bind(b.topic.map(|t| t.code()))
            .bind(b.requested_interpreter)
            .bind(b.interpreter)
            .bind(b.start)
            .bind(b.end)
            .bind(b.resident.as_str())
            .bind(b.specialist_joins.as_str())
            .bind(intake_sealed)
            .bind(now_ms)
            .bind(&b.created_by)
            .bind(&b.links.resident)
            .bind(&b.links.specialist)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(done)
    }

    /// Take back a booking the engine then refused (never acknowledged to anyone).
    pub async fn drop_booking(&self, id: i64) -> Result<(), StoreError> {
        timed(sqlx::query("DELETE FROM bookings WHERE id = $1").bind(id).execute(&self.pool)).await?;
        Ok(())
    }

    /// A booking by id.
    pub async fn booking(&self, id: i64) -> Result<Option<Booking>, StoreError> {
        let row = timed(sqlx::query(select!("WHERE id = $1")).bind(id).fetch_optional(&self.pool)).await?;
        row.as_ref().map(booking).transpose()
    }

    /// Bookings whose slot overlaps `[from, to)`, by start; cancelled ones too when `all`.
    pub async fn bookings(&self, of: BookingsOf, from: i64, to: i64, all: bool) -> Result<Vec<Booking>, StoreError> {
        macro_rules! within {
            ($filter:literal) => {
                select!(
                    "WHERE ",
                    $filter,
                    " AND end_ms > $2 AND start_ms < $3 AND ($4 OR status = 'booked') ORDER BY start_ms, id LIMIT 5000"
                )
            };
        }
        let (sql, id) = match of {
            BookingsOf::Tenant(t) => (within!("tenant_id = $1"), t),
            BookingsOf::All => (within!("$1 = 0"), 0),
            BookingsOf::Desk(d) => (within!("desk_id = $1"), d),
            BookingsOf::Interpreter(i) => (within!("interpreter_id = $1"), i),
        };
        let rows = timed(sqlx::query(sql).bind(id).bind(from).bind(to).bind(all).fetch_all(&self.pool)).await?;
        rows.iter().map(booking).collect()
    }

    /// Every booking still to hold at `now_ms` (not cancelled, not over), by id: what the
    /// engine reloads at start.
    pub async fn live_bookings(&self, now_ms: i64) -> Result<Vec<Booking>, StoreError> {
        let sql = select!("WHERE status = 'booked' AND end_ms > $1 ORDER BY id");
        let rows = timed(sqlx::query(sql).bind(now_ms).fetch_all(&self.pool)).await?;
        rows.iter().map(booking).collect()
    }

    /// Move a booking to a new slot and interpreter.
    pub async fn move_booking(
        &self,
        id: i64,
        start: i64,
        end: i64,
        requested: Option<i64>,
        interpreter: Option<i64>,
    ) -> Result<(), StoreError> {
        timed(
            sqlx::query(
                "UPDATE bookings SET start_ms = $1, end_ms = $2, requested_interpreter = $3, interpreter_id = $4 \
                 WHERE id = $5",
            )
            .bind(start)
            .bind(end)
            .bind(requested)
            .bind(interpreter)
            .bind(id)
            .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    /// Mark a booking cancelled; whether it was booked.
    pub async fn cancel_booking(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query(
                "UPDATE bookings SET status = 'cancelled', cancelled_ms = $1 WHERE id = $2 AND status = 'booked'",
            )
            .bind(now_ms)
            .bind(id)
            .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// New links for a booking (the hashes; `None` for a party that does not join by
    /// link).
    pub async fn relink_booking(&self, id: i64, links: &BookingLinks) -> Result<(), StoreError> {
        timed(
            sqlx::query("UPDATE bookings SET resident_link_hash = $1, specialist_link_hash = $2 WHERE id = $3")
                .bind(&links.resident)
                .bind(&links.specialist)
                .bind(id)
                .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    /// A booking's sealed intake note and its municipality.
    pub async fn booking_intake(&self, id: i64) -> Result<Option<(i64, Option<String>)>, StoreError> {
        timed(
            sqlx::query_as("SELECT tenant_id, intake_sealed FROM bookings WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool),
        )
        .await
    }

    /// Bookings of `tenant` made by `created_by` since `since_ms` and not cancelled (the
    /// standing link's daily budget).
    pub async fn bookings_made_by(&self, tenant: i64, created_by: &str, since_ms: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = timed(
            sqlx::query_as(
                "SELECT COUNT(*) FROM bookings WHERE tenant_id = $1 AND created_by = $2 AND created_ms >= $3 \
                 AND status = 'booked'",
            )
            .bind(tenant)
            .bind(created_by)
            .bind(since_ms)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(n)
    }

    /// The desk that takes a municipality's online bookings, if it has one (and the
    /// municipality exists: `None` when it does not).
    pub async fn online_desk(&self, tenant: i64) -> Result<Option<Option<i64>>, StoreError> {
        let row: Option<(Option<i64>,)> = timed(
            sqlx::query_as("SELECT online_desk FROM tenants WHERE id = $1").bind(tenant).fetch_optional(&self.pool),
        )
        .await?;
        Ok(row.map(|(d,)| d))
    }

    /// Set (or clear) a municipality's online desk; whether the municipality exists.
    pub async fn set_online_desk(&self, tenant: i64, desk: Option<i64>) -> Result<bool, StoreError> {
        let r = timed(
            sqlx::query("UPDATE tenants SET online_desk = $1 WHERE id = $2")
                .bind(desk)
                .bind(tenant)
                .execute(&self.pool),
        )
        .await?;
        Ok(r.rows_affected() == 1)
    }
}

fn corrupt(problem: String) -> StoreError {
    StoreError::Corrupt { table: "bookings", problem }
}

fn booking(r: &sqlx::any::AnyRow) -> Result<Booking, StoreError> {
    use sqlx::Row;
    let code = |column: &str| -> Result<String, StoreError> { Ok(r.try_get::<String, _>(column)?) };
    let modality = code("modality")?;
    let specialist = code("specialist")?;
    let resident = code("resident_joins")?;
    let joins = code("specialist_joins")?;
    let topic: Option<String> = r.try_get("topic")?;
    Ok(Booking {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant_id")?,
        desk: r.try_get("desk_id")?,
        language: r.try_get("language")?,
        modality: BookedModality::parse(&modality).ok_or_else(|| corrupt(format!("modality {modality:?}")))?,
        specialist: Specialist::parse(&specialist).ok_or_else(|| corrupt(format!("specialist {specialist:?}")))?,
        require_speciality: r.try_get::<Flag, _>("require_speciality")?.0,
        topic: topic
            .map(|t| {
                kakehashi_protocol::Topic::ALL
                    .into_iter()
                    .find(|x| x.code() == t)
                    .ok_or_else(|| corrupt(format!("topic {t:?}")))
            })
            .transpose()?,
        requested_interpreter: r.try_get("requested_interpreter")?,
        interpreter: r.try_get("interpreter_id")?,
        start: r.try_get("start_ms")?,
        end: r.try_get("end_ms")?,
        resident: ResidentJoins::parse(&resident).ok_or_else(|| corrupt(format!("resident_joins {resident:?}")))?,
        specialist_joins: SpecialistJoins::parse(&joins)
            .ok_or_else(|| corrupt(format!("specialist_joins {joins:?}")))?,
        intake: r.try_get::<Flag, _>("intake")?.0,
        status: r.try_get("status")?,
        created_by: r.try_get("created_by")?,
        links: BookingLinks {
            resident: r.try_get("resident_link_hash")?,
            specialist: r.try_get("specialist_link_hash")?,
        },
    })
}
