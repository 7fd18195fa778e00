//! Random tokens and codes, and their stored form. Tokens are 256 random bits, so a fast
//! hash is enough to store them: the database never holds a usable token.

use blake2::{Blake2b256, Digest};

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

/// Whether two secrets are equal, in time that depends on neither: both are hashed and
/// the digests compared byte for byte without stopping early.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let a = Blake2b256::digest(given);
    let b = Blake2b256::digest(expected);
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_eq!(hash_token(&a), hash_token(&format!(" {a}\n")));
        assert_ne!(hash_token(&a), a);
        let code = new_enrolment_code();
        assert_eq!(code.len(), 10);
        assert!(code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }
}
