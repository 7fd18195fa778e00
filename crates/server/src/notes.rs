//! Handling notes sealed at rest (issue 16, ADR 0017): ChaCha20-Poly1305 (`ring`) under a
//! key kept in a file of its own, a fresh random nonce per note, and the municipality's id
//! as associated data, so a sealed note opens only as that municipality's. The database
//! holds `base64(version ‖ nonce ‖ ciphertext ‖ tag)`; a note's text exists in memory only
//! between the desk's command and its sealing, and between opening and the supervisor's
//! answer. It never reaches a log (its type has no `Debug` that shows it).

use std::io::Write;
use std::path::Path;

use base64::Engine;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// The longest note, in characters: a short note, not a transcript.
pub const MAX_CHARS: usize = 500;

const VERSION: u8 = 1;

/// Why a note could not be opened or the key loaded.
#[derive(Debug, thiserror::Error)]
pub enum NoteError {
    /// The key file.
    #[error("notes key {path}: {problem}")]
    Key {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The stored form is not one of ours, or does not open with this key and
    /// municipality (a different key, a moved or altered note).
    #[error("a handling note does not open: {0}")]
    Sealed(&'static str),
}

/// The key that seals and opens notes.
pub struct NoteKey(LessSafeKey);

impl std::fmt::Debug for NoteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoteKey(<secret>)")
    }
}

fn aad(tenant: i64) -> Vec<u8> {
    format!("kakehashi handling note v1, municipality {tenant}").into_bytes()
}

impl NoteKey {
    /// The key in `path`, made (32 random bytes, readable by this user only) when missing.
    pub fn load_or_create(path: &Path) -> Result<NoteKey, NoteError> {
        let bad = |problem: String| NoteError::Key { path: path.display().to_string(), problem };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| bad(format!("no randomness: {e}")))?;
                let mut file = std::fs::OpenOptions::new();
                file.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
                let mut f = file.open(path).map_err(|e| bad(format!("cannot create it: {e}")))?;
                f.write_all(&key).and_then(|()| f.sync_all()).map_err(|e| bad(format!("cannot write it: {e}")))?;
                tracing::info!(path = %path.display(), "made the key that seals handling notes; back it up apart from the data");
                key.to_vec()
            }
            Err(e) => return Err(bad(format!("cannot read it: {e}"))),
        };
        NoteKey::from_bytes(&bytes).map_err(|_| bad(format!("{} bytes, not 32", bytes.len())))
    }

    /// A key of 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<NoteKey, NoteError> {
        UnboundKey::new(&CHACHA20_POLY1305, bytes)
            .map(|k| NoteKey(LessSafeKey::new(k)))
            .map_err(|_| NoteError::Sealed("a key is 32 bytes"))
    }

    /// A key that lives in memory only (tests, and servers whose notes are off).
    pub fn ephemeral() -> NoteKey {
        let mut key = [0u8; 32];
        if getrandom::fill(&mut key).is_err() {
            key = [7; 32];
        }
        match NoteKey::from_bytes(&key) {
            Ok(k) => k,
            Err(_) => unreachable!("32 bytes make a key"),
        }
    }

    /// Seal `text` as `tenant`'s note: the stored form.
    pub fn seal(&self, tenant: i64, text: &str) -> Result<String, NoteError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| NoteError::Sealed("no randomness for a nonce"))?;
        let mut body = text.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad(tenant)), &mut body)
            .map_err(|_| NoteError::Sealed("sealing failed"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Open `tenant`'s sealed note.
    pub fn open(&self, tenant: i64, sealed: &str) -> Result<String, NoteError> {
        let raw =
            base64::engine::general_purpose::STANDARD.decode(sealed).map_err(|_| NoteError::Sealed("not base64"))?;
        let (&version, rest) = raw.split_first().ok_or(NoteError::Sealed("empty"))?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(NoteError::Sealed("not a sealed note of this version"));
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| NoteError::Sealed("nonce"))?;
        let mut body = body.to_vec();
        let text = self
            .0
            .open_in_place(nonce, Aad::from(aad(tenant)), &mut body)
            .map_err(|_| NoteError::Sealed("wrong key, municipality or an altered note"))?;
        String::from_utf8(text.to_vec()).map_err(|_| NoteError::Sealed("not text"))
    }
}

/// A note as a desk gives it: trimmed, at most [`MAX_CHARS`]; `None` when blank.
pub fn checked(text: &str) -> Result<Option<&str>, crate::problem::Problem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_CHARS {
        return Err(crate::problem::Problem::at_most(MAX_CHARS as u64, crate::problem::Unit::Characters));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_opens_only_with_its_key_and_municipality() {
        let key = NoteKey::ephemeral();
        let sealed = key.seal(3, "在留カードの更新、来週再訪").unwrap();
        assert!(
            !sealed.contains("在留") && sealed != key.seal(3, "在留カードの更新、来週再訪").unwrap(),
            "fresh nonces"
        );
        assert_eq!(key.open(3, &sealed).unwrap(), "在留カードの更新、来週再訪");
        assert!(key.open(4, &sealed).is_err(), "another municipality's");
        assert!(NoteKey::ephemeral().open(3, &sealed).is_err(), "another key");
        let mut raw = base64::engine::general_purpose::STANDARD.decode(&sealed).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(key.open(3, &base64::engine::general_purpose::STANDARD.encode(raw)).is_err(), "altered");
        for garbage in ["", "!!", "AA==", "AQ=="] {
            assert!(key.open(3, garbage).is_err(), "{garbage}");
        }
        assert_eq!(checked("  "), Ok(None));
        assert!(checked(&"あ".repeat(501)).is_err());
        assert_eq!(format!("{key:?}"), "NoteKey(<secret>)");
    }

    #[test]
    fn the_key_file_is_made_once_for_its_owner_only() {
        let dir = std::env::temp_dir().join(format!("kakehashi-notes-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notes.key");
        let sealed = NoteKey::load_or_create(&path).unwrap().seal(1, "x").unwrap();
        assert_eq!(NoteKey::load_or_create(&path).unwrap().open(1, &sealed).unwrap(), "x", "the same key again");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(NoteKey::load_or_create(&path).unwrap_err().to_string().contains("5 bytes"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
