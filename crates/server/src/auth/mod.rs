//! Credentials: desk enrolment and device tokens, sign-in with passwords (argon2id, on
//! threads of their own), sessions, and the guard that slows guessing. Refusals are
//! deliberately coarse: an unknown login, a wrong password and a held-back attempt look
//! the same, and take the same time. The SQL is in `store`.

mod guard;
mod passwords;
pub mod second_factor;
mod tokens;
pub mod totp;

use std::net::IpAddr;
use std::time::Duration;

pub use guard::{Guard, GuardSettings, Throttled};
pub use passwords::{hash_password, hash_password_in, hash_password_off_runtime};
pub use tokens::{hash_token, new_enrolment_code, new_token, same_secret};

use crate::store::{AccountKind, Store, StoreError, now_ms};

/// Why a credential was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown, wrong, expired, revoked or held back: all look the same to the client.
    #[error("credential not accepted")]
    Refused,
    /// Too many attempts from the client's address: it waits (this says nothing about
    /// any login).
    #[error("too many attempts from this address")]
    Throttled,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed (a bug, or the hashing threads are gone).
    #[error("password hashing: {0}")]
    Hash(String),
    /// The password was right and the account has a second factor: sign in again with
    /// its code.
    #[error("the code from the authenticator app is needed")]
    SecondFactorNeeded,
    /// The session may only set up a second factor, which its account must have.
    #[error("set up two-factor sign-in first")]
    EnrolmentRequired,
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

/// A live session: whose, and until when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// Whose.
    pub subject: Subject,
    /// When it stops working (ms since the epoch).
    pub expires_at: i64,
    /// It may only set up a second factor.
    pub restricted: bool,
}

/// The terms sign-in works under.
#[derive(Clone, Copy, Debug)]
pub struct Terms {
    /// How long a session lasts.
    pub ttl: Duration,
    /// Whether admins must have a second factor.
    pub admins_two_factor: bool,
}

/// A session opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    /// Whose.
    pub subject: Subject,
    /// Its token.
    pub token: String,
    /// It may only set up a second factor (the account must have one and has none).
    pub restricted: bool,
}

/// A sign-in attempt.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    /// Interpreter or staff.
    pub kind: AccountKind,
    /// The login.
    pub login: &'a str,
    /// The password.
    pub password: &'a str,
    /// A code from the authenticator app, or a recovery code, if the account has a
    /// second factor.
    pub code: Option<&'a str>,
}

impl std::fmt::Display for Attempt<'_> {
    /// The account's key for the guard (never logged: it holds the login).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.table(), self.login)
    }
}

/// Exchange a desk's one-time enrolment code for a long-lived device token.
/// Returns (desk id, tenant id, token).
pub async fn enrol_desk(store: &Store, code: &str) -> Result<(i64, i64, String), AuthError> {
    let token = new_token();
    let row = store.enrol_desk_hashed(&hash_token(&code.to_ascii_uppercase()), &hash_token(&token)).await?;
    let ok = row.is_some();
    store.audit(&row.map_or("desk:?".into(), |r| format!("desk:{}", r.0)), "enrol", None, ok).await?;
    let (desk, tenant) = row.ok_or(AuthError::Refused)?;
    Ok((desk, tenant, token))
}

/// The desk a device token belongs to: (desk id, tenant id).
pub async fn desk_by_token(store: &Store, token: &str) -> Result<(i64, i64), AuthError> {
    store.desk_by_token_hash(&hash_token(token)).await?.ok_or(AuthError::Refused)
}

/// Revoke a desk's device (a lost tablet): its token stops working at once. Whether the
/// desk exists.
pub async fn revoke_desk(store: &Store, desk: i64, actor: &str) -> Result<bool, AuthError> {
    let done = store.revoke_desk_row(desk).await?;
    store.audit(actor, "revoke_desk", Some(&format!("desk:{desk}")), done).await?;
    Ok(done)
}

/// Sign in without a guard (tools and tests): a session for the right password (and
/// code, if the account has a second factor).
pub async fn sign_in(store: &Store, attempt: Attempt<'_>, terms: Terms) -> Result<SignedIn, AuthError> {
    let subject = check(store, attempt).await?;
    let gate = second_factor::gate(store, subject, attempt.code, terms.admins_two_factor).await?;
    open_session(store, attempt.kind, subject, terms.ttl, gate).await
}

/// Sign in from an address, through the guard: [`AuthError::Throttled`] when the address
/// has used its attempts; otherwise a session token, or [`AuthError::Refused`] for an
/// unknown login, a wrong password or an attempt the guard holds back, alike.
pub async fn sign_in_from(
    store: &Store,
    guard: &Guard,
    from: IpAddr,
    attempt: Attempt<'_>,
    terms: Terms,
) -> Result<SignedIn, AuthError> {
    let now = tokio::time::Instant::now();
    let _in_flight = guard.begin(from, now).await.map_err(|_| AuthError::Throttled)?;
    let key = attempt.to_string();
    if guard.held_back(&key, from, now) {
        // As long as a real check, and the same answer.
        let _ = passwords::verify_password_off_runtime(attempt.password, passwords::DECOY_HASH).await?;
        store.audit(&format!("{}:?", attempt.kind.table()), "sign_in_held_back", None, false).await?;
        return Err(AuthError::Refused);
    }
    let checked = match check(store, attempt).await {
        Ok(subject) => {
            second_factor::gate(store, subject, attempt.code, terms.admins_two_factor).await.map(|gate| (subject, gate))
        }
        Err(e) => Err(e),
    };
    match checked {
        Ok((subject, gate)) => {
            guard.succeeded(&key, from, now);
            open_session(store, attempt.kind, subject, terms.ttl, gate).await
        }
        Err(AuthError::Refused) => {
            // A wrong password, or a right one with a wrong code: both count.
            guard.failed(&key, from, now);
            Err(AuthError::Refused)
        }
        Err(e) => Err(e),
    }
}

/// Check a password: the account, or `Refused` after the same work whether the login
/// exists or not.
async fn check(store: &Store, attempt: Attempt<'_>) -> Result<Subject, AuthError> {
    let table = attempt.kind.table();
    let Some(account) = store.account(attempt.kind, attempt.login).await? else {
        let _ = passwords::verify_password_off_runtime(attempt.password, passwords::DECOY_HASH).await?;
        store.audit(&format!("{table}:?"), "sign_in", None, false).await?;
        return Err(AuthError::Refused);
    };
    let actor = format!("{table}:{}", account.id);
    let ok = passwords::verify_password_off_runtime(attempt.password, &account.password_hash).await?;
    store.audit(&actor, "sign_in", None, ok).await?;
    if !ok {
        return Err(AuthError::Refused);
    }
    Ok(match attempt.kind {
        AccountKind::Staff => Subject::Staff { id: account.id, admin: account.admin, tenant: account.tenant },
        AccountKind::Interpreter => Subject::Interpreter(account.id),
    })
}

async fn open_session(
    store: &Store,
    kind: AccountKind,
    subject: Subject,
    ttl: Duration,
    gate: second_factor::Gate,
) -> Result<SignedIn, AuthError> {
    let id = match subject {
        Subject::Interpreter(id) | Subject::Staff { id, .. } => id,
    };
    let token = new_token();
    let restricted = gate == second_factor::Gate::Restricted;
    store.insert_session(&hash_token(&token), kind, id, now_ms() + ttl.as_millis() as i64, restricted).await?;
    Ok(SignedIn { subject, token, restricted })
}

/// Who a session token belongs to, if it is valid and unexpired, and until when.
pub async fn session(store: &Store, token: &str) -> Result<Session, AuthError> {
    let row = store.session_row(&hash_token(token), now_ms()).await?.ok_or(AuthError::Refused)?;
    let subject = match row.kind {
        AccountKind::Interpreter => Subject::Interpreter(row.subject),
        AccountKind::Staff => Subject::Staff { id: row.subject, admin: row.admin, tenant: row.tenant },
    };
    Ok(Session { subject, expires_at: row.expires_at, restricted: row.restricted })
}

/// End a session (sign out): its token stops working at once. Whether it was live.
pub async fn end_session(store: &Store, token: &str) -> Result<bool, AuthError> {
    Ok(store.delete_session(&hash_token(token)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{InterpreterRow, RosterDoc};

    const TTL: Terms = Terms { ttl: Duration::from_secs(3600), admins_two_factor: false };

    async fn store(tag: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("kakehashi-auth-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (Store::open(&dir).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn desk_enrolment_is_single_use_and_revocable() {
        let (s, dir) = store("desk").await;
        let t = s.insert_tenant("Test City", 100, "Asia/Tokyo").await.unwrap();
        let code = new_enrolment_code();
        let desk = s.insert_desk(t, "Counter 1", &hash_token(&code)).await.unwrap();
        let (d, tenant, token) = enrol_desk(&s, &code.to_ascii_lowercase()).await.unwrap();
        assert_eq!((d, tenant), (desk, t), "codes are accepted in any case");
        assert!(matches!(enrol_desk(&s, &code).await, Err(AuthError::Refused)), "the code works once");
        assert_eq!(desk_by_token(&s, &token).await.unwrap(), (desk, t));
        assert!(revoke_desk(&s, desk, "staff:1").await.unwrap());
        assert!(matches!(desk_by_token(&s, &token).await, Err(AuthError::Refused)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn sign_in_sessions_and_the_guard() {
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
            reach_by_phone: None,
        };
        let id = s.insert_interpreter(&row, &hash_password("pw-an").unwrap()).await.unwrap();
        let attempt = |login: &'static str, password: &'static str| Attempt {
            kind: AccountKind::Interpreter,
            login,
            password,
            code: None,
        };
        let SignedIn { subject: who, token, .. } = sign_in(&s, attempt("an", "pw-an"), TTL).await.unwrap();
        assert_eq!(who, Subject::Interpreter(id));
        let live = session(&s, &token).await.unwrap();
        assert_eq!(live.subject, Subject::Interpreter(id));
        assert!(live.expires_at > now_ms() + 3_500_000);
        assert!(end_session(&s, &token).await.unwrap());
        assert!(matches!(session(&s, &token).await, Err(AuthError::Refused)));
        // Through the guard: three failures from one address hold that address back on
        // this login, with the same answer; another address signs in.
        let guard =
            Guard::new(GuardSettings { lockout_after: 3, lockout: Duration::from_secs(60), attempts_per_minute: 60 });
        let (attacker, owner): (IpAddr, IpAddr) = ("198.51.100.7".parse().unwrap(), "203.0.113.9".parse().unwrap());
        assert!(matches!(
            sign_in_from(&s, &guard, attacker, attempt("nobody", "x"), TTL).await,
            Err(AuthError::Refused)
        ));
        for _ in 0..3 {
            let r = sign_in_from(&s, &guard, attacker, attempt("an", "bad"), TTL).await;
            assert!(matches!(r, Err(AuthError::Refused)));
        }
        let r = sign_in_from(&s, &guard, attacker, attempt("an", "pw-an"), TTL).await;
        assert!(matches!(r, Err(AuthError::Refused)), "held back from that address, looking like a wrong password");
        assert!(sign_in_from(&s, &guard, owner, attempt("an", "pw-an"), TTL).await.is_ok(), "the owner gets in");
        let staff = s.insert_staff("boss", "supervisor", Some(t), &hash_password("pw-boss").unwrap()).await.unwrap();
        s.set_two_factor_rule(t, crate::store::TwoFactorRule::Optional).await.unwrap();
        let boss = Attempt { kind: AccountKind::Staff, login: "boss", password: "pw-boss", code: None };
        let SignedIn { subject: who, token, .. } = sign_in(&s, boss, TTL).await.unwrap();
        assert_eq!(who, Subject::Staff { id: staff, admin: false, tenant: Some(t) });
        assert_eq!(session(&s, &token).await.unwrap().subject, who);
        let log = s.audit_log().await.unwrap();
        assert!(log.iter().any(|(a, act, _, ok)| a == "interpreters:?" && act == "sign_in_held_back" && !ok));
        assert!(
            log.iter().all(|(a, ..)| !a.contains("an") || a.starts_with("interpreters")),
            "no logins in the audit log"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
