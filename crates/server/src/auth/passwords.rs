//! Passwords: argon2id hashes in PHC format, computed and checked on threads of their own
//! so the runtime's workers (which carry the signalling and the relay) never wait on them.

use std::sync::LazyLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::AuthError;

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
pub(super) async fn verify_password_off_runtime(password: &str, stored: &str) -> Result<bool, AuthError> {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    off_runtime(move |area| verify_password_in(area, &password, &stored)).await
}

/// A stored hash of a password nobody has, checked when there is no account to check,
/// so that a refusal takes as long whatever the reason.
pub(super) const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J1n3o1Ry8mgNZS9C1l0gEOrdTBtcl7QpdIm6aBbJ4WY";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("x", DECOY_HASH));
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
