//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second
//! steps, six digits, the form every authenticator app reads from an `otpauth://` URI.
//! A code is accepted for the step before and after the current one (clock drift), and
//! only for a step later than the last one accepted, so a code is used once.

use hmac::{Hmac, Mac};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;

/// Steps either side of the current one a code may belong to.
const WINDOW: u64 = 1;

/// A new secret: 160 random bits, as RFC 4226 recommends.
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    // The OS generator failing is not something to carry on from.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    bytes
}

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The inverse of [`base32`] (case and spaces ignored); `None` for anything else.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The HOTP value of `secret` at `counter`, `digits` long.
fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    binary % 10u32.pow(digits)
}

/// The six-digit code of `secret` for the step holding `unix_secs`.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    format!("{:06}", hotp(secret, unix_secs / STEP_SECS, 6))
}

/// The step `code` belongs to, if it is one of `secret`'s around `unix_secs` and later
/// than `after_step` (the last step accepted, so none is accepted twice).
pub fn accept(secret: &[u8], code: &str, unix_secs: u64, after_step: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let given: u32 = code.parse().ok()?;
    let now = unix_secs / STEP_SECS;
    let mut found = None;
    // Every candidate is computed, so the time taken does not say which one matched.
    for step in now.saturating_sub(WINDOW)..=now + WINDOW {
        if hotp(secret, step, 6) == given && step > after_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app reads from a QR code. `label` names the
/// account in the app (a login: personal, so it is shown only to its owner).
pub fn uri(secret: &[u8], issuer: &str, label: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECS}",
        enc(issuer),
        enc(label),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, the last six digits of each eight-digit value.
    #[test]
    fn the_rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, t), eight[2..], "at {t}");
            assert_eq!(format!("{:08}", hotp(secret, t / STEP_SECS, 8)), eight, "at {t}");
        }
    }

    #[test]
    fn a_code_is_accepted_once_and_within_a_step_of_now() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let code = code_at(secret, now);
        let step = accept(secret, &code, now, 0).unwrap();
        assert_eq!(step, now / STEP_SECS);
        assert_eq!(accept(secret, &code, now, step), None, "not twice");
        assert_eq!(accept(secret, &code, now + STEP_SECS, 0), Some(step), "a step late is fine");
        assert_eq!(accept(secret, &code, now + 3 * STEP_SECS, 0), None, "three steps late is not");
        assert_eq!(accept(secret, &format!("{} {}", &code[..3], &code[3..]), now, 0), Some(step));
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert_eq!(accept(secret, bad, now, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(from_base32("mzxw 6ytb oi").unwrap(), b"foobar");
        assert_eq!(from_base32("MZ1"), None);
        let s = new_secret();
        assert_eq!(from_base32(&base32(&s)).unwrap(), s);
        assert!(uri(&s, "kakehashi", "boss@asahi").starts_with("otpauth://totp/kakehashi:boss%40asahi?secret="));
    }
}
