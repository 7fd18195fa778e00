//! Second factors: each account's TOTP secret (pending until its owner proves their app
//! has it), the last step accepted, one-time recovery codes (as hashes), and who must have
//! one (each tenant's `two_factor` rule). `auth::second_factor` decides; this stores.

use super::accounts::AccountKind;
use super::flag::Flag;
use super::{Store, StoreError, timed};

/// A tenant's rule for who must sign in with a second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TwoFactorRule {
    /// Nobody must; anyone may opt in.
    Optional,
    /// Its supervisors must.
    Staff,
    /// Its supervisors and the interpreters who serve it must.
    Everyone,
}

impl TwoFactorRule {
    fn as_str(self) -> &'static str {
        match self {
            TwoFactorRule::Optional => "optional",
            TwoFactorRule::Staff => "staff",
            TwoFactorRule::Everyone => "everyone",
        }
    }

    /// From the column (the schema's CHECK allows nothing else).
    pub fn parse(s: &str) -> TwoFactorRule {
        match s {
            "optional" => TwoFactorRule::Optional,
            "everyone" => TwoFactorRule::Everyone,
            _ => TwoFactorRule::Staff,
        }
    }
}

/// An account's second factor as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorRow {
    /// The TOTP secret, base32.
    pub secret: String,
    /// Whether its owner has proved their app has it.
    pub confirmed: bool,
    /// The last step accepted.
    pub last_step: i64,
}

impl Store {
    /// The account's second factor, if it has begun setting one up.
    pub async fn second_factor(&self, kind: AccountKind, account: i64) -> Result<Option<FactorRow>, StoreError> {
        let row: Option<(String, Flag, i64)> = timed(
            sqlx::query_as("SELECT secret, confirmed, last_step FROM second_factors WHERE kind = $1 AND account = $2")
                .bind(kind.table())
                .bind(account)
                .fetch_optional(&self.pool),
        )
        .await?;
        Ok(row.map(|(secret, confirmed, last_step)| FactorRow { secret, confirmed: confirmed.0, last_step }))
    }

    /// Store a new pending secret, replacing a pending one; false if the account has a
    /// confirmed factor (it must be removed first).
    pub async fn begin_second_factor(&self, kind: AccountKind, account: i64, secret: &str) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query(
                "INSERT INTO second_factors (kind, account, secret) VALUES ($1, $2, $3) \
                 ON CONFLICT (kind, account) DO UPDATE SET secret = excluded.secret, last_step = 0 \
                 WHERE NOT second_factors.confirmed",
            )
            .bind(kind.table())
            .bind(account)
            .bind(secret)
            .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Confirm the pending factor at `step`, with new recovery codes (by hash) replacing
    /// any old ones, and lift the restriction on the account's sessions. False if there
    /// was nothing pending.
    pub async fn confirm_second_factor(
        &self,
        kind: AccountKind,
        account: i64,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError> {
        let mut tx = timed(self.pool.begin()).await?;
        let done = timed(
            sqlx::query(
                "UPDATE second_factors SET confirmed = TRUE, last_step = $1 \
                 WHERE kind = $2 AND account = $3 AND NOT confirmed",
            )
            .bind(step)
            .bind(kind.table())
            .bind(account)
            .execute(&mut *tx),
        )
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        delete_of(&mut tx, "DELETE FROM recovery_codes WHERE kind = $1 AND account = $2", kind, account).await?;
        for hash in recovery_hashes {
            timed(
                sqlx::query("INSERT INTO recovery_codes (code_hash, kind, account) VALUES ($1, $2, $3)")
                    .bind(hash)
                    .bind(kind.table())
                    .bind(account)
                    .execute(&mut *tx),
            )
            .await?;
        }
        timed(
            sqlx::query("UPDATE sessions SET restricted = FALSE WHERE kind = $1 AND subject = $2")
                .bind(kind.table())
                .bind(account)
                .execute(&mut *tx),
        )
        .await?;
        timed(tx.commit()).await?;
        Ok(true)
    }

    /// Record `step` as used if it is later than the last one: false if it is not (a
    /// code used twice, even by two sign-ins at once).
    pub async fn advance_second_factor(&self, kind: AccountKind, account: i64, step: i64) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query(
                "UPDATE second_factors SET last_step = $1 \
                 WHERE kind = $2 AND account = $3 AND confirmed AND last_step < $4",
            )
            .bind(step)
            .bind(kind.table())
            .bind(account)
            .bind(step)
            .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Use a recovery code (by hash) of the account, once; whether it was unused.
    pub async fn use_recovery_code(
        &self,
        kind: AccountKind,
        account: i64,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query(
                "UPDATE recovery_codes SET used_at = $1 \
                 WHERE code_hash = $2 AND kind = $3 AND account = $4 AND used_at IS NULL",
            )
            .bind(now)
            .bind(code_hash)
            .bind(kind.table())
            .bind(account)
            .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Recovery codes the account has left.
    pub async fn recovery_codes_left(&self, kind: AccountKind, account: i64) -> Result<i64, StoreError> {
        let (n,): (i64,) = timed(
            sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE kind = $1 AND account = $2 AND used_at IS NULL")
                .bind(kind.table())
                .bind(account)
                .fetch_one(&self.pool),
        )
        .await?;
        Ok(n)
    }

    /// Remove the account's second factor and recovery codes; whether it had one.
    pub async fn remove_second_factor(&self, kind: AccountKind, account: i64) -> Result<bool, StoreError> {
        let mut tx = timed(self.pool.begin()).await?;
        let done =
            delete_of(&mut tx, "DELETE FROM second_factors WHERE kind = $1 AND account = $2", kind, account).await?;
        delete_of(&mut tx, "DELETE FROM recovery_codes WHERE kind = $1 AND account = $2", kind, account).await?;
        timed(tx.commit()).await?;
        Ok(done == 1)
    }

    /// An account's login (for the label in the authenticator app).
    pub async fn login_of(&self, kind: AccountKind, account: i64) -> Result<Option<String>, StoreError> {
        let sql = match kind {
            AccountKind::Staff => "SELECT login FROM staff WHERE id = $1",
            AccountKind::Interpreter => "SELECT login FROM interpreters WHERE id = $1",
        };
        let row: Option<(String,)> = timed(sqlx::query_as(sql).bind(account).fetch_optional(&self.pool)).await?;
        Ok(row.map(|(l,)| l))
    }

    /// A tenant's rule; `None` if there is no such tenant.
    pub async fn two_factor_rule(&self, tenant: i64) -> Result<Option<TwoFactorRule>, StoreError> {
        let row: Option<(String,)> = timed(
            sqlx::query_as("SELECT two_factor FROM tenants WHERE id = $1").bind(tenant).fetch_optional(&self.pool),
        )
        .await?;
        Ok(row.map(|(s,)| TwoFactorRule::parse(&s)))
    }

    /// Set a tenant's rule; whether the tenant exists.
    pub async fn set_two_factor_rule(&self, tenant: i64, rule: TwoFactorRule) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query("UPDATE tenants SET two_factor = $1 WHERE id = $2")
                .bind(rule.as_str())
                .bind(tenant)
                .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether some tenant the interpreter serves requires interpreters' second factor.
    pub async fn interpreter_needs_second_factor(&self, interpreter: i64) -> Result<bool, StoreError> {
        // The interpreter's tenants are a JSON list: read in Rust, alike on both databases.
        let served: Option<(String,)> = timed(
            sqlx::query_as("SELECT tenants FROM interpreters WHERE id = $1")
                .bind(interpreter)
                .fetch_optional(&self.pool),
        )
        .await?;
        let Some((served,)) = served else { return Ok(false) };
        let served: Vec<i64> = serde_json::from_str(&served)
            .map_err(|e| StoreError::Corrupt { table: "interpreters", problem: format!("tenants: {e}") })?;
        let strict: Vec<(i64,)> =
            timed(sqlx::query_as("SELECT id FROM tenants WHERE two_factor = 'everyone'").fetch_all(&self.pool)).await?;
        Ok(strict.iter().any(|(t,)| served.contains(t)))
    }
}

/// Run one of this file's deletions of an account's rows (`… WHERE kind = ? AND account
/// = ?`) in a transaction; how many went.
async fn delete_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sql: &'static str,
    kind: AccountKind,
    account: i64,
) -> Result<u64, StoreError> {
    let done = timed(sqlx::query(sql).bind(kind.table()).bind(account).execute(&mut **tx)).await?;
    Ok(done.rows_affected())
}
