//! Credentials: desks' device tokens and enrolment codes, interpreters' and staff's
//! password hashes and failure counts, and sign-in sessions. Tokens and codes are stored
//! only as hashes (`auth` makes them); nothing here decides who may do what.

use super::flag::Flag;
use super::{Store, StoreError, timed};

/// Who signs in with a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountKind {
    /// An interpreter.
    Interpreter,
    /// A supervisor or an admin.
    Staff,
}

impl AccountKind {
    /// The table, and the `kind` stored with a session.
    pub fn table(self) -> &'static str {
        match self {
            AccountKind::Interpreter => "interpreters",
            AccountKind::Staff => "staff",
        }
    }
}

/// An account as sign-in needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Its id.
    pub id: i64,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// An admin (staff only).
    pub admin: bool,
    /// A supervisor's tenant (staff only; `None` for a centre-wide admin).
    pub tenant: Option<i64>,
}

/// A live session: whose, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// The kind of account.
    pub kind: AccountKind,
    /// The account's id.
    pub subject: i64,
    /// When it stops working (ms).
    pub expires_at: i64,
    /// An admin (staff only).
    pub admin: bool,
    /// A supervisor's tenant (staff only).
    pub tenant: Option<i64>,
    /// The account must set up a second factor before this session does anything else.
    pub restricted: bool,
}

impl Store {
    /// Use an enrolment code (by hash) once: the desk gets the device token (by hash).
    /// Returns (desk, tenant), or `None` when the code is unknown, used or revoked.
    pub async fn enrol_desk_hashed(&self, code_hash: &str, token_hash: &str) -> Result<Option<(i64, i64)>, StoreError> {
        timed(
            sqlx::query_as(
                "UPDATE desks SET token_hash = $1, enrolment_code_hash = NULL \
                 WHERE enrolment_code_hash = $2 AND NOT revoked RETURNING id, tenant_id",
            )
            .bind(token_hash)
            .bind(code_hash)
            .fetch_optional(&self.pool),
        )
        .await
    }

    /// The desk a device token (by hash) belongs to: (desk, tenant).
    pub async fn desk_by_token_hash(&self, token_hash: &str) -> Result<Option<(i64, i64)>, StoreError> {
        timed(
            sqlx::query_as("SELECT id, tenant_id FROM desks WHERE token_hash = $1 AND NOT revoked")
                .bind(token_hash)
                .fetch_optional(&self.pool),
        )
        .await
    }

    /// Revoke a desk's device; whether the desk exists.
    pub async fn revoke_desk_row(&self, desk: i64) -> Result<bool, StoreError> {
        let done = timed(
            sqlx::query("UPDATE desks SET revoked = TRUE, token_hash = NULL WHERE id = $1")
                .bind(desk)
                .execute(&self.pool),
        )
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An account by login.
    pub async fn account(&self, kind: AccountKind, login: &str) -> Result<Option<Account>, StoreError> {
        type Row = (i64, String, Option<String>, Option<i64>);
        let row: Option<Row> = match kind {
            AccountKind::Staff => {
                timed(
                    sqlx::query_as("SELECT id, password_hash, role, tenant_id FROM staff WHERE login = $1")
                        .bind(login)
                        .fetch_optional(&self.pool),
                )
                .await?
            }
            AccountKind::Interpreter => {
                timed(
                    sqlx::query_as("SELECT id, password_hash, NULL, NULL FROM interpreters WHERE login = $1")
                        .bind(login)
                        .fetch_optional(&self.pool),
                )
                .await?
            }
        };
        Ok(row.map(|(id, password_hash, role, tenant)| Account {
            id,
            password_hash,
            admin: role.as_deref() == Some("admin"),
            tenant,
        }))
    }

    /// Store a new session (by its token's hash).
    pub async fn insert_session(
        &self,
        token_hash: &str,
        kind: AccountKind,
        subject: i64,
        expires_at: i64,
        restricted: bool,
    ) -> Result<(), StoreError> {
        timed(
            sqlx::query(
                "INSERT INTO sessions (token_hash, kind, subject, expires_at, restricted) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(kind.table())
            .bind(subject)
            .bind(expires_at)
            .bind(restricted)
            .execute(&self.pool),
        )
        .await?;
        Ok(())
    }

    /// The session of a token (by hash) if it is unexpired at `now` (ms), with its
    /// account's role.
    pub async fn session_row(&self, token_hash: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        let row: Option<(String, i64, i64, Flag)> = timed(
            sqlx::query_as(
                "SELECT kind, subject, expires_at, restricted FROM sessions WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool),
        )
        .await?;
        let Some((kind, subject, expires_at, Flag(restricted))) = row else { return Ok(None) };
        if kind == AccountKind::Interpreter.table() {
            return Ok(Some(SessionRow {
                kind: AccountKind::Interpreter,
                subject,
                expires_at,
                admin: false,
                tenant: None,
                restricted,
            }));
        }
        let staff: Option<(String, Option<i64>)> = timed(
            sqlx::query_as("SELECT role, tenant_id FROM staff WHERE id = $1").bind(subject).fetch_optional(&self.pool),
        )
        .await?;
        Ok(staff.map(|(role, tenant)| SessionRow {
            kind: AccountKind::Staff,
            subject,
            expires_at,
            admin: role == "admin",
            tenant,
            restricted,
        }))
    }

    /// End a session (by its token's hash); whether it existed.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let done =
            timed(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool))
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forget sessions that expired before `now` (ms).
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done =
            timed(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool)).await?;
        Ok(done.rows_affected())
    }
}
