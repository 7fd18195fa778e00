//! The second factor at sign-in and its set-up: who must have one (admins by
//! configuration, supervisors and interpreters by their tenant's rule), checking a TOTP
//! code or a one-time recovery code, and setting one up in two steps (a pending secret,
//! then a first code proving the app has it, which yields the recovery codes).
//!
//! An account that must have a second factor and has none still signs in with its
//! password, but its session is *restricted*: it can only set one up (`who.rs` refuses
//! it everywhere else). Nobody is locked out by a rule that changed under them.

use super::{AuthError, Subject, hash_token, totp};
use crate::store::{AccountKind, Store, TwoFactorRule, now_ms};

/// Recovery codes made at set-up.
pub const RECOVERY_CODES: usize = 10;

/// What the sign-in may do after the password was right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// A full session.
    Open,
    /// A session that may only set up a second factor.
    Restricted,
}

/// Whether `subject` must sign in with a second factor.
pub async fn required(store: &Store, subject: Subject, admins: bool) -> Result<bool, AuthError> {
    Ok(match subject {
        Subject::Staff { admin: true, .. } => admins,
        Subject::Staff { tenant: Some(t), .. } => {
            matches!(store.two_factor_rule(t).await?, Some(TwoFactorRule::Staff | TwoFactorRule::Everyone) | None)
        }
        Subject::Staff { .. } => admins,
        Subject::Interpreter(id) => store.interpreter_needs_second_factor(id).await?,
    })
}

/// The account behind a subject.
pub fn account(subject: Subject) -> (AccountKind, i64) {
    match subject {
        Subject::Interpreter(id) => (AccountKind::Interpreter, id),
        Subject::Staff { id, .. } => (AccountKind::Staff, id),
    }
}

/// After a right password: the gate, [`AuthError::SecondFactorNeeded`] if the account
/// has a factor and no code came, [`AuthError::Refused`] for a wrong or reused code.
pub async fn gate(store: &Store, subject: Subject, code: Option<&str>, admins: bool) -> Result<Gate, AuthError> {
    let (kind, id) = account(subject);
    match store.second_factor(kind, id).await? {
        Some(factor) if factor.confirmed => {
            let code = code.map(str::trim).filter(|c| !c.is_empty()).ok_or(AuthError::SecondFactorNeeded)?;
            if verify(store, kind, id, code).await? { Ok(Gate::Open) } else { Err(AuthError::Refused) }
        }
        _ if required(store, subject, admins).await? => Ok(Gate::Restricted),
        _ => Ok(Gate::Open),
    }
}

/// A recovery code as typed: letters and digits only, upper case.
fn normalise_recovery(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

/// Check a TOTP code (six digits) or a recovery code against the account's confirmed
/// factor, using it up. Audited either way.
pub async fn verify(store: &Store, kind: AccountKind, id: i64, code: &str) -> Result<bool, AuthError> {
    let Some(factor) = store.second_factor(kind, id).await?.filter(|f| f.confirmed) else { return Ok(false) };
    let actor = format!("{}:{id}", kind.table());
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let ok = if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let secret = totp::from_base32(&factor.secret).unwrap_or_default();
        let after = u64::try_from(factor.last_step).unwrap_or(0);
        match totp::accept(&secret, &digits, unix_now(), after) {
            Some(step) => store.advance_second_factor(kind, id, i64::try_from(step).unwrap_or(i64::MAX)).await?,
            None => false,
        }
    } else {
        let ok = store.use_recovery_code(kind, id, &hash_token(&normalise_recovery(code)), now_ms()).await?;
        store.audit(&actor, "recovery_code", None, ok).await?;
        ok
    };
    store.audit(&actor, "second_factor", None, ok).await?;
    Ok(ok)
}

/// A set-up begun: what the owner's app needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// The secret, base32, for typing in.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
}

/// Begin setting up a second factor: a new pending secret. `None` if the account has a
/// confirmed one (it must be removed first).
pub async fn begin(store: &Store, subject: Subject, label: &str) -> Result<Option<Enrolment>, AuthError> {
    let (kind, id) = account(subject);
    let secret = totp::new_secret();
    let encoded = totp::base32(&secret);
    if !store.begin_second_factor(kind, id, &encoded).await? {
        return Ok(None);
    }
    store.audit(&format!("{}:{id}", kind.table()), "second_factor_begin", None, true).await?;
    Ok(Some(Enrolment { uri: totp::uri(&secret, "kakehashi", label), secret: encoded }))
}

/// Finish setting up with a first code from the app: the recovery codes (shown once),
/// or `None` if the code is wrong or nothing was pending. The account's restricted
/// sessions become full ones.
pub async fn confirm(store: &Store, subject: Subject, code: &str) -> Result<Option<Vec<String>>, AuthError> {
    let (kind, id) = account(subject);
    let Some(factor) = store.second_factor(kind, id).await?.filter(|f| !f.confirmed) else { return Ok(None) };
    let secret = totp::from_base32(&factor.secret).unwrap_or_default();
    let Some(step) = totp::accept(&secret, code, unix_now(), 0) else {
        store.audit(&format!("{}:{id}", kind.table()), "second_factor_confirm", None, false).await?;
        return Ok(None);
    };
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| hash_token(&normalise_recovery(c))).collect();
    let ok = store.confirm_second_factor(kind, id, i64::try_from(step).unwrap_or(i64::MAX), &hashes).await?;
    store.audit(&format!("{}:{id}", kind.table()), "second_factor_confirm", None, ok).await?;
    Ok(ok.then_some(codes))
}

/// Remove an account's second factor (its owner, with a code, where no rule requires
/// it; or an admin, for someone who lost their phone and codes). Audited with `actor`.
pub async fn remove(store: &Store, kind: AccountKind, id: i64, actor: &str) -> Result<bool, AuthError> {
    let done = store.remove_second_factor(kind, id).await?;
    store.audit(actor, "second_factor_remove", Some(&format!("{}:{id}", kind.table())), done).await?;
    Ok(done)
}

/// A recovery code people can type: ten characters from an unambiguous alphabet, in two
/// groups of five.
fn new_recovery_code() -> String {
    let code = super::new_enrolment_code();
    format!("{}-{}", &code[..5], &code[5..])
}

fn unix_now() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}
