//! Any bytes as a language tag: an answer, never a panic; accepted tags are canonical.
#![no_main]

use kakehashi_dispatch::{LanguageId, canonicalize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(c) = canonicalize(s) {
        assert_eq!(canonicalize(&c).as_deref(), Ok(c.as_str()));
        assert!(c.eq_ignore_ascii_case(s));
    }
    let _ = LanguageId::parse(s);
});
