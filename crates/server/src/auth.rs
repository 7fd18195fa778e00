//! Credentials: argon2id password hashes, random tokens stored only as hashes, desk
//! enrolment, sign-in sessions with lock-out after repeated failures.

use std::sync::LazyLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use blake2::{Blake2b256, Digest};

use crate::store::{Store, StoreError, now_ms};

/// Why a credential was refused. Deliberately coarse towards clients: a wrong login and
/// a wrong password look the same.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown, wrong, expired or revoked.
    #[error("credential not accepted")]
    Refused,
    /// Too many failures: locked until the given time (ms).
    #[error("account locked")]
    Locked,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed (a bug).
    #[error("password hashing: {0}")]
    Hash(String),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        AuthError::Store(StoreError::Db(e))
    }
}

/// 32 random bytes as 64 hex digits: a token or an enrolment code.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator failing is not something to carry on from.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    hex(&bytes)
}

/// A short enrolment code people can type: 10 characters from an unambiguous alphabet.
pub fn new_enrolment_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 10];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a token: BLAKE2b-256, hex. Tokens are 256 random bits, so a fast
/// hash is enough; the database never holds a usable token.
pub fn hash_token(token: &str) -> String {
    hex(&Blake2b256::digest(token.trim().as_bytes()))
}

/// The most memory a stored hash may ask for: 64 MiB (ours use 19 MiB). A hash that asks
/// for more is refused rather than computed.
const MAX_WORK_BLOCKS: usize = 64 * 1024;

/// An argon2id hash in PHC format, computed in `area` (a work area reused between
/// hashes, grown as needed). Deliberately slow: 19 MiB, tens of milliseconds. Async code
/// calls [`hash_password_off_runtime`].
pub fn hash_password_in(area: &mut Vec<Block>, password: &str) -> Result<String, AuthError> {
    let bad = |e: &dyn std::fmt::Display| AuthError::Hash(e.to_string());
    let params = Params::default();
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    getrandom::fill(&mut salt).map_err(|e| bad(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2id(area, &params, password.as_bytes(), &salt, &mut out).map_err(|e| bad(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| bad(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| bad(&e))?),
        hash: Some(Output::new(&out).map_err(|e| bad(&e))?),
    };
    Ok(hash.to_string())
}

/// An argon2id hash with a fresh work area (tests and tools; the server uses the
/// hashing threads').
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    hash_password_in(&mut Vec::new(), password)
}

/// Whether `password` matches `stored`, an argon2id PHC string. Anything else (another
/// algorithm, a damaged string, a hash asking for more than [`MAX_WORK_BLOCKS`]) does not
/// match. The comparison is in constant time.
fn verify_password_in(area: &mut Vec<Block>, password: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    if hash.algorithm != Algorithm::Argon2id.ident() || hash.version != Some(Version::V0x13.into()) {
        return false;
    }
    let Ok(params) = Params::try_from(&hash) else { return false };
    let mut out = vec![0u8; expected.len()];
    argon2id(area, &params, password.as_bytes(), salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_in(&mut Vec::new(), password, stored)
}

/// Argon2id (version 0x13) of `password` and `salt` into `out`, in `area`.
fn argon2id(
    area: &mut Vec<Block>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let blocks = params.block_count();
    if blocks > MAX_WORK_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    if area.len() < blocks {
        area.resize(blocks, Block::default());
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut area[..blocks],
    )
}

/// A job for a hashing thread, given that thread's work area.
type HashJob = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Password hashes and checks run on a few threads of their own: half the cores, at least
/// one, each with one work area allocated once and reused. The runtime's workers carry
/// every call's signalling and the relay's packets, so a hash never runs on them (a
/// sign-in would stall the media on its worker for its whole duration). A burst of
/// sign-ins at the start of a shift queues here: it can neither take every core nor hold
/// more than one 19 MiB work area per thread. (With a fresh work area per hash, glibc's
/// allocator kept most of them: 200 MiB after a few dozen accounts.)
static HASHERS: LazyLock<Option<std::sync::mpsc::Sender<HashJob>>> = LazyLock::new(|| {
    let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut started = 0;
    for n in 0..(cores / 2).max(1) {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new().name(format!("password-hash-{n}")).spawn(move || {
            let mut area = Vec::new();
            loop {
                // The lock is held only while waiting for the next job, not while it runs.
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(&mut area),
                    Err(_) => return,
                }
            }
        });
        started += usize::from(spawned.is_ok());
    }
    (started > 0).then_some(tx)
});

/// Run a password hash or check on [`HASHERS`] and wait for it without blocking.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T, AuthError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let unavailable = || AuthError::Hash("the password hashing threads are not running".into());
    let hashers = HASHERS.as_ref().ok_or_else(unavailable)?;
    hashers
        .send(Box::new(move |area: &mut Vec<Block>| {
            let _ = tx.send(work(area));
        }))
        .map_err(|_| unavailable())?;
    rx.await.map_err(|_| unavailable())
}

/// [`hash_password`] off the runtime's workers.
pub async fn hash_password_off_runtime(password: &str) -> Result<String, AuthError> {
    let password = password.to_owned();
    off_runtime(move |area| hash_password_in(area, &password)).await?
}

/// Whether `password` matches the PHC hash `stored`, checked off the runtime's workers.
async fn verify_password_off_runtime(password: &str, stored: &str) -> Result<bool, AuthError> {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    off_runtime(move |area| verify_password_in(area, &password, &stored)).await
}

/// Who signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// An interpreter.
    Interpreter(i64),
    /// A supervisor of a tenant, or an admin (tenant `None`).
    Staff {
        /// Id.
        id: i64,
        /// Supervisor or admin.
        admin: bool,
        /// Their tenant; `None` for a centre-wide admin.
        tenant: Option<i64>,
    },
}

/// Limits for sign-in.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Failures in a row before locking.
    pub lockout_after: u32,
    /// Lock length, ms.
    pub lockout_ms: i64,
    /// Session length, ms.
    pub session_ms: i64,
}

impl Store {
    /// Exchange a desk's one-time enrolment code for a long-lived device token.
    /// Returns (desk id, tenant id, token).
    pub async fn enrol_desk(&self, code: &str) -> Result<(i64, i64, String), AuthError> {
        let token = new_token();
        let row: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE desks SET token_hash = ?, enrolment_code_hash = NULL \
             WHERE enrolment_code_hash = ? AND revoked = 0 RETURNING id, tenant_id",
        )
        .bind(hash_token(&token))
        .bind(hash_token(code))
        .fetch_optional(self.pool())
        .await?;
        let ok = row.is_some();
        self.audit(&row.map_or("desk:?".into(), |r| format!("desk:{}", r.0)), "enrol", None, ok).await?;
        let (desk, tenant) = row.ok_or(AuthError::Refused)?;
        Ok((desk, tenant, token))
    }

    /// The desk a device token belongs to: (desk id, tenant id).
    pub async fn desk_by_token(&self, token: &str) -> Result<(i64, i64), AuthError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, tenant_id FROM desks WHERE token_hash = ? AND revoked = 0")
                .bind(hash_token(token))
                .fetch_optional(self.pool())
                .await?;
        row.ok_or(AuthError::Refused)
    }

    /// Revoke a desk's device (lost tablet): its token stops working at once.
    pub async fn revoke_desk(&self, desk: i64, actor: &str) -> Result<(), AuthError> {
        let done = sqlx::query("UPDATE desks SET revoked = 1, token_hash = NULL WHERE id = ?")
            .bind(desk)
            .execute(self.pool())
            .await?;
        self.audit(actor, "revoke_desk", Some(&format!("desk:{desk}")), done.rows_affected() == 1).await?;
        Ok(())
    }

    /// Sign in an interpreter (`staff = false`) or a supervisor/admin (`staff = true`).
    /// Locks the account after `policy.lockout_after` failures in a row.
    pub async fn sign_in(
        &self,
        staff: bool,
        login: &str,
        password: &str,
        policy: Policy,
    ) -> Result<(Subject, String), AuthError> {
        let now = now_ms();
        let table = if staff { "staff" } else { "interpreters" };
        /// id, password hash, failures in a row, locked until, role, tenant.
        type Account = (i64, String, i64, Option<i64>, Option<String>, Option<i64>);
        let row: Option<Account> = if staff {
            sqlx::query_as(
                "SELECT id, password_hash, failed_logins, locked_until, role, tenant_id FROM staff WHERE login = ?",
            )
            .bind(login)
            .fetch_optional(self.pool())
            .await?
        } else {
            sqlx::query_as(
                "SELECT id, password_hash, failed_logins, locked_until, NULL, NULL FROM interpreters WHERE login = ?",
            )
            .bind(login)
            .fetch_optional(self.pool())
            .await?
        };
        let Some((id, hash, failed, locked_until, role, tenant)) = row else {
            // Spend the same time as a real check, so a login's existence does not show.
            let _ = verify_password_off_runtime(
                password,
                "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J1n3o1Ry8mgNZS9C1l0gEOrdTBtcl7QpdIm6aBbJ4WY",
            )
            .await?;
            self.audit(&format!("{table}:?"), "sign_in", None, false).await?;
            return Err(AuthError::Refused);
        };
        let actor = format!("{table}:{id}");
        if locked_until.is_some_and(|t| t > now) {
            self.audit(&actor, "sign_in_locked", None, false).await?;
            return Err(AuthError::Locked);
        }
        if !verify_password_off_runtime(password, &hash).await? {
            let failed = failed + 1;
            let lock = (failed >= i64::from(policy.lockout_after)).then_some(now + policy.lockout_ms);
            let sql = if staff {
                "UPDATE staff SET failed_logins = ?, locked_until = ? WHERE id = ?"
            } else {
                "UPDATE interpreters SET failed_logins = ?, locked_until = ? WHERE id = ?"
            };
            sqlx::query(sql)
                .bind(if lock.is_some() { 0 } else { failed })
                .bind(lock)
                .bind(id)
                .execute(self.pool())
                .await?;
            self.audit(&actor, if lock.is_some() { "sign_in_lockout" } else { "sign_in" }, None, false).await?;
            return Err(if lock.is_some() { AuthError::Locked } else { AuthError::Refused });
        }
        let sql = if staff {
            "UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = ?"
        } else {
            "UPDATE interpreters SET failed_logins = 0, locked_until = NULL WHERE id = ?"
        };
        sqlx::query(sql).bind(id).execute(self.pool()).await?;
        let token = new_token();
        sqlx::query("INSERT INTO sessions (token_hash, kind, subject, expires_at) VALUES (?, ?, ?, ?)")
            .bind(hash_token(&token))
            .bind(table)
            .bind(id)
            .bind(now + policy.session_ms)
            .execute(self.pool())
            .await?;
        self.audit(&actor, "sign_in", None, true).await?;
        let subject = if staff {
            Subject::Staff { id, admin: role.as_deref() == Some("admin"), tenant }
        } else {
            Subject::Interpreter(id)
        };
        Ok((subject, token))
    }

    /// Who a session token belongs to, if it is valid and unexpired.
    pub async fn session(&self, token: &str) -> Result<Subject, AuthError> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT kind, subject FROM sessions WHERE token_hash = ? AND expires_at > ?")
                .bind(hash_token(token))
                .bind(now_ms())
                .fetch_optional(self.pool())
                .await?;
        match row {
            Some((kind, id)) if kind == "interpreters" => Ok(Subject::Interpreter(id)),
            Some((_, id)) => {
                let staff: Option<(String, Option<i64>)> =
                    sqlx::query_as("SELECT role, tenant_id FROM staff WHERE id = ?")
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await?;
                let (role, tenant) = staff.ok_or(AuthError::Refused)?;
                Ok(Subject::Staff { id, admin: role == "admin", tenant })
            }
            None => Err(AuthError::Refused),
        }
    }

    /// End a session (sign out).
    pub async fn end_session(&self, token: &str) -> Result<(), AuthError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(hash_token(token)).execute(self.pool()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{InterpreterRow, RosterDoc};

    const POLICY: Policy = Policy { lockout_after: 3, lockout_ms: 60_000, session_ms: 3_600_000 };

    async fn store(tag: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("kakehashi-auth-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (Store::open(&dir).await.unwrap(), dir)
    }

    #[test]
    fn tokens_and_hashes() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_eq!(hash_token(&a), hash_token(&format!(" {a}\n")));
        assert_ne!(hash_token(&a), a);
        let code = new_enrolment_code();
        assert_eq!(code.len(), 10);
        assert!(code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    /// Hashes stored by earlier versions (the argon2 crate's own hasher) still verify,
    /// ours verify with the crate's checker, and a hash that is not argon2id v19 or asks
    /// for too much memory never matches.
    #[test]
    fn hashes_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default().hash_password(b"correct horse").unwrap().to_string();
        assert!(verify_password("correct horse", &theirs));
        assert!(!verify_password("correct horsf", &theirs));
        let ours = hash_password("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong", &parsed).is_err());
        assert_ne!(ours, hash_password("correct horse").unwrap(), "a fresh salt each time");
        // The same work area serves hashes of any size in turn.
        let mut area = Vec::new();
        let small = ours.replace("m=19456", "m=64");
        assert!(!verify_password_in(&mut area, "correct horse", &small), "other parameters, other hash");
        assert!(verify_password_in(&mut area, "correct horse", &ours));
        for bad in [
            ours.replace("argon2id", "argon2i"),
            ours.replace("v=19", "v=16"),
            ours.replace("m=19456", "m=4194304"),
            ours.replacen('$', "", 1),
            ours[..ours.len() - 10].to_string(),
            String::new(),
        ] {
            assert!(!verify_password_in(&mut area, "correct horse", &bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn desk_enrolment_is_single_use_and_revocable() {
        let (s, dir) = store("desk").await;
        let t = s.insert_tenant("Test City", 100, "Asia/Tokyo").await.unwrap();
        let code = new_enrolment_code();
        let desk = s.insert_desk(t, "Counter 1", &hash_token(&code)).await.unwrap();
        let (d, tenant, token) = s.enrol_desk(&code).await.unwrap();
        assert_eq!((d, tenant), (desk, t));
        assert!(matches!(s.enrol_desk(&code).await, Err(AuthError::Refused)), "the code works once");
        assert_eq!(s.desk_by_token(&token).await.unwrap(), (desk, t));
        s.revoke_desk(desk, "staff:1").await.unwrap();
        assert!(matches!(s.desk_by_token(&token).await, Err(AuthError::Refused)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn sign_in_sessions_and_lockout() {
        let (s, dir) = store("login").await;
        let t = s.insert_tenant("Test City", 100, "Asia/Tokyo").await.unwrap();
        let row = InterpreterRow {
            id: 0,
            login: "an".into(),
            tier: "staff".into(),
            languages: vec!["vi".into()],
            modalities: vec!["video".into()],
            specialities: vec![],
            tenants: vec![t],
            shared_pool: false,
            roster: RosterDoc { always: true, ..RosterDoc::default() },
        };
        let id = s.insert_interpreter(&row, &hash_password("pw-an").unwrap()).await.unwrap();
        let (who, token) = s.sign_in(false, "an", "pw-an", POLICY).await.unwrap();
        assert_eq!(who, Subject::Interpreter(id));
        assert_eq!(s.session(&token).await.unwrap(), Subject::Interpreter(id));
        s.end_session(&token).await.unwrap();
        assert!(matches!(s.session(&token).await, Err(AuthError::Refused)));
        assert!(matches!(s.sign_in(false, "nobody", "x", POLICY).await, Err(AuthError::Refused)));
        assert!(matches!(s.sign_in(false, "an", "bad", POLICY).await, Err(AuthError::Refused)));
        assert!(matches!(s.sign_in(false, "an", "bad", POLICY).await, Err(AuthError::Refused)));
        assert!(matches!(s.sign_in(false, "an", "bad", POLICY).await, Err(AuthError::Locked)));
        assert!(
            matches!(s.sign_in(false, "an", "pw-an", POLICY).await, Err(AuthError::Locked)),
            "locked even with the right password"
        );
        let staff = s.insert_staff("boss", "supervisor", Some(t), &hash_password("pw-boss").unwrap()).await.unwrap();
        let (who, token) = s.sign_in(true, "boss", "pw-boss", POLICY).await.unwrap();
        assert_eq!(who, Subject::Staff { id: staff, admin: false, tenant: Some(t) });
        assert_eq!(s.session(&token).await.unwrap(), who);
        let log = s.audit_log().await.unwrap();
        assert!(
            log.iter().any(|(a, act, _, ok)| a == &format!("interpreters:{id}") && act == "sign_in_lockout" && !ok)
        );
        assert!(
            log.iter().all(|(a, ..)| !a.contains("an") || a.starts_with("interpreters")),
            "no logins in the audit log"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// On a runtime with a single thread, another task keeps running while passwords are
    /// hashed and checked: the work is not done on the runtime's worker. (Done on it, a
    /// hash would complete inside one poll and the ticker would see nothing.)
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_does_not_stall_the_runtime() {
        use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
        let done = AtomicBool::new(false);
        let ticks = AtomicU32::new(0);
        let work = async {
            let hash = hash_password_off_runtime("pw-someone").await.unwrap();
            assert!(verify_password_off_runtime("pw-someone", &hash).await.unwrap());
            assert!(!verify_password_off_runtime("pw-other", &hash).await.unwrap());
            done.store(true, Ordering::SeqCst);
        };
        let ticker = async {
            while !done.load(Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        };
        tokio::join!(work, ticker);
        // Three argon2id runs of 19 MiB take tens of milliseconds at the very least.
        let ticks = ticks.load(Ordering::SeqCst);
        assert!(ticks >= 10, "the runtime stalled: {ticks} ticks during three hashes");
    }
}
