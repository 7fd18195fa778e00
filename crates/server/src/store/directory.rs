//! The directory's rows: tenants (with their routing policy), desks, interpreters and
//! staff. Lists and rosters are stored as JSON in the directory model's strict format.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::flag::Flag;
use super::{Store, StoreError, timed};
use crate::directory::{DeskRow, Directory, InterpreterRow, PolicyDoc, RosterDoc, TenantRow};

/// A desk as the admin lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskListing {
    /// Id.
    pub id: i64,
    /// Tenant.
    pub tenant: i64,
    /// Name.
    pub name: String,
    /// Its tablet has used the enrolment code.
    pub enrolled: bool,
    /// Its device was revoked.
    pub revoked: bool,
}

impl Store {
    /// Load the directory.
    pub async fn directory(&self) -> Result<Directory, StoreError> {
        let tenants: Vec<(i64, String, i64, String, Option<String>)> = timed(
            sqlx::query_as("SELECT id, name, foreign_residents, time_zone, policy FROM tenants ORDER BY id")
                .fetch_all(&self.pool),
        )
        .await?;
        let desks: Vec<(i64, i64, String)> = timed(
            sqlx::query_as("SELECT id, tenant_id, name FROM desks WHERE NOT revoked ORDER BY id").fetch_all(&self.pool),
        )
        .await?;
        type Row = (i64, String, String, String, String, String, String, Flag, String, Option<String>);
        let rows: Vec<Row> = timed(
            sqlx::query_as(
                "SELECT id, login, tier, languages, modalities, specialities, tenants, shared_pool, roster, \
                 reach_by_phone FROM interpreters ORDER BY id",
            )
            .fetch_all(&self.pool),
        )
        .await?;
        let mut interpreters = Vec::with_capacity(rows.len());
        for r in rows {
            interpreters.push(InterpreterRow {
                id: r.0,
                login: r.1,
                tier: r.2,
                languages: json("interpreters", &r.3)?,
                modalities: json("interpreters", &r.4)?,
                specialities: json("interpreters", &r.5)?,
                tenants: json("interpreters", &r.6)?,
                shared_pool: r.7.0,
                roster: json("interpreters", &r.8)?,
                reach_by_phone: r.9,
            });
        }
        let tenants = tenants
            .into_iter()
            .map(|t| {
                let policy = t.4.as_deref().map(|p| json::<PolicyDoc>("tenants", p)).transpose()?;
                Ok(TenantRow { id: t.0, name: t.1, foreign_residents: t.2, time_zone: t.3, policy })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Directory {
            tenants,
            desks: desks.into_iter().map(|x| DeskRow { id: x.0, tenant_id: x.1, name: x.2 }).collect(),
            interpreters,
        })
    }

    /// Add a tenant; returns its id. A taken name is [`super::Constraint::Unique`].
    pub async fn insert_tenant(&self, name: &str, foreign_residents: i64, time_zone: &str) -> Result<i64, StoreError> {
        let r = timed(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO tenants (name, foreign_residents, time_zone) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(name)
            .bind(foreign_residents)
            .bind(time_zone)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(r)
    }

    /// Add a desk with the hash of its enrolment code; returns its id. An unknown tenant
    /// is [`super::Constraint::ForeignKey`].
    pub async fn insert_desk(&self, tenant_id: i64, name: &str, enrolment_code_hash: &str) -> Result<i64, StoreError> {
        let r = timed(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO desks (tenant_id, name, enrolment_code_hash) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(tenant_id)
            .bind(name)
            .bind(enrolment_code_hash)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(r)
    }

    /// Add an interpreter with a password hash; returns the id. A taken login is
    /// [`super::Constraint::Unique`].
    pub async fn insert_interpreter(&self, row: &InterpreterRow, password_hash: &str) -> Result<i64, StoreError> {
        let r = timed(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO interpreters (login, password_hash, tier, languages, modalities, specialities, tenants, \
                 shared_pool, roster, reach_by_phone) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(&row.login)
            .bind(password_hash)
            .bind(&row.tier)
            .bind(to_json(&row.languages))
            .bind(to_json(&row.modalities))
            .bind(to_json(&row.specialities))
            .bind(to_json(&row.tenants))
            .bind(row.shared_pool)
            .bind(to_json(&row.roster))
            .bind(&row.reach_by_phone)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(r)
    }

    /// Add a supervisor or admin; returns the id.
    pub async fn insert_staff(
        &self,
        login: &str,
        role: &str,
        tenant_id: Option<i64>,
        password_hash: &str,
    ) -> Result<i64, StoreError> {
        let r = timed(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO staff (login, role, tenant_id, password_hash) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(login)
            .bind(role)
            .bind(tenant_id)
            .bind(password_hash)
            .fetch_one(&self.pool),
        )
        .await?;
        Ok(r)
    }

    /// The languages a tenant pins to the front of its desks' grid, in order.
    pub async fn pinned_languages(&self, tenant: i64) -> Result<Vec<String>, StoreError> {
        let row: Option<(String,)> = timed(
            sqlx::query_as("SELECT pinned_languages FROM tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(&self.pool),
        )
        .await?;
        row.map_or(Ok(Vec::new()), |(text,)| json("tenants", &text))
    }

    /// Pin languages to the front of a tenant's grid; whether the tenant exists.
    pub async fn set_pinned_languages(&self, tenant: i64, tags: &[String]) -> Result<bool, StoreError> {
        let r = timed(
            sqlx::query("UPDATE tenants SET pinned_languages = $1 WHERE id = $2")
                .bind(to_json(&tags))
                .bind(tenant)
                .execute(&self.pool),
        )
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Replace a tenant's routing policy. Returns whether the tenant exists.
    pub async fn set_policy(&self, tenant: i64, policy: &PolicyDoc) -> Result<bool, StoreError> {
        let r = timed(
            sqlx::query("UPDATE tenants SET policy = $1 WHERE id = $2")
                .bind(to_json(policy))
                .bind(tenant)
                .execute(&self.pool),
        )
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Replace an interpreter's profile (not the login or password). Returns whether it
    /// exists.
    pub async fn update_interpreter(&self, row: &InterpreterRow) -> Result<bool, StoreError> {
        let r = timed(
            sqlx::query(
                "UPDATE interpreters SET tier = $1, languages = $2, modalities = $3, specialities = $4, tenants = $5, \
                 shared_pool = $6, roster = $7, reach_by_phone = $8 WHERE id = $9",
            )
            .bind(&row.tier)
            .bind(to_json(&row.languages))
            .bind(to_json(&row.modalities))
            .bind(to_json(&row.specialities))
            .bind(to_json(&row.tenants))
            .bind(row.shared_pool)
            .bind(to_json(&row.roster))
            .bind(&row.reach_by_phone)
            .bind(row.id)
            .execute(&self.pool),
        )
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// An interpreter's roster and its stored text (what [`Store::replace_roster`]
    /// compares); `None` when there is no such interpreter.
    pub async fn stored_roster(&self, id: i64) -> Result<Option<(RosterDoc, String)>, StoreError> {
        let text: Option<String> = timed(
            sqlx::query_scalar("SELECT roster FROM interpreters WHERE id = $1").bind(id).fetch_optional(&self.pool),
        )
        .await?;
        text.map(|text| Ok((json("interpreters", &text)?, text))).transpose()
    }

    /// Replace an interpreter's roster if it is still `was` (its stored text): a change
    /// made from what was read is not lost to another made meanwhile. Returns whether it
    /// was replaced.
    pub async fn replace_roster(&self, id: i64, was: &str, roster: &RosterDoc) -> Result<bool, StoreError> {
        let r = timed(
            sqlx::query("UPDATE interpreters SET roster = $1 WHERE id = $2 AND roster = $3")
                .bind(to_json(roster))
                .bind(id)
                .bind(was)
                .execute(&self.pool),
        )
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Every desk, revoked ones too, for the admin.
    pub async fn desks_all(&self) -> Result<Vec<DeskListing>, StoreError> {
        let rows: Vec<(i64, i64, String, Flag, Flag)> = timed(
            sqlx::query_as(
                "SELECT id, tenant_id, name, token_hash IS NOT NULL, revoked FROM desks ORDER BY tenant_id, id",
            )
            .fetch_all(&self.pool),
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, tenant, name, enrolled, revoked)| DeskListing {
                id,
                tenant,
                name,
                enrolled: enrolled.0,
                revoked: revoked.0,
            })
            .collect())
    }

    /// Whether the directory is empty (no tenant yet).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let n: (i64,) = timed(sqlx::query_as("SELECT COUNT(*) FROM tenants").fetch_one(&self.pool)).await?;
        Ok(n.0 == 0)
    }
}

pub(super) fn json<T: DeserializeOwned>(table: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt { table, problem: e.to_string() })
}

/// The stored JSON form of lists and rosters.
pub(super) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
