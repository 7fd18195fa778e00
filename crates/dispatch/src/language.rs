//! Languages: a catalogue of BCP 47 tags with native and Japanese names, a strict
//! well-formedness parser for tags that come from outside, and language pairs.

use std::fmt;

/// A language of the catalogue (an index into [`LANGUAGES`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LanguageId(u16);

/// In a snapshot, a language is its tag: the catalogue may grow between versions.
#[cfg(feature = "serde")]
impl serde::Serialize for LanguageId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.tag())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for LanguageId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<LanguageId, D::Error> {
        let tag = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        LanguageId::parse(&tag).map_err(serde::de::Error::custom)
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    /// Canonical BCP 47 tag.
    pub tag: &'static str,
    /// English name, for logs and the admin UI.
    pub english: &'static str,
    /// The language's name for itself, shown to residents.
    pub native: &'static str,
    /// The Japanese name, shown to desk staff.
    pub japanese: &'static str,
}

const fn lang(tag: &'static str, english: &'static str, native: &'static str, japanese: &'static str) -> Language {
    Language { tag, english, native, japanese }
}

/// The catalogue. The order is stable: [`LanguageId`]s index it. Japanese and easy
/// Japanese (the desk side), English, the 17 languages of Hamamatsu's video service,
/// then further languages common among foreign residents in Japan.
pub static LANGUAGES: &[Language] = &[
    lang("ja", "Japanese", "日本語", "日本語"),
    lang("ja-x-easy", "Easy Japanese", "やさしい にほんご", "やさしい日本語"),
    lang("en", "English", "English", "英語"),
    lang("pt", "Portuguese", "Português", "ポルトガル語"),
    lang("zh", "Chinese", "中文", "中国語"),
    lang("id", "Indonesian", "Bahasa Indonesia", "インドネシア語"),
    lang("es", "Spanish", "Español", "スペイン語"),
    lang("vi", "Vietnamese", "Tiếng Việt", "ベトナム語"),
    lang("fil", "Filipino", "Filipino", "フィリピノ語"),
    lang("ko", "Korean", "한국어", "韓国語"),
    lang("th", "Thai", "ภาษาไทย", "タイ語"),
    lang("ne", "Nepali", "नेपाली", "ネパール語"),
    lang("ru", "Russian", "Русский", "ロシア語"),
    lang("fr", "French", "Français", "フランス語"),
    lang("hi", "Hindi", "हिन्दी", "ヒンディー語"),
    lang("km", "Khmer", "ភាសាខ្មែរ", "クメール語"),
    lang("my", "Burmese", "မြန်မာဘာသာ", "ミャンマー語"),
    lang("ms", "Malay", "Bahasa Melayu", "マレー語"),
    lang("uk", "Ukrainian", "Українська", "ウクライナ語"),
    lang("mn", "Mongolian", "Монгол хэл", "モンゴル語"),
    lang("si", "Sinhala", "සිංහල", "シンハラ語"),
    lang("bn", "Bengali", "বাংলা", "ベンガル語"),
    lang("ur", "Urdu", "اردو", "ウルドゥー語"),
    lang("fa", "Persian", "فارسی", "ペルシャ語"),
    lang("tr", "Turkish", "Türkçe", "トルコ語"),
    lang("ar", "Arabic", "العربية", "アラビア語"),
    lang("uz", "Uzbek", "Oʻzbekcha", "ウズベク語"),
    lang("lo", "Lao", "ພາສາລາວ", "ラオ語"),
    lang("ta", "Tamil", "தமிழ்", "タミル語"),
    lang("de", "German", "Deutsch", "ドイツ語"),
];

impl LanguageId {
    /// Japanese, the desk side of almost every call.
    pub const JAPANESE: LanguageId = LanguageId(0);
    /// Easy Japanese (やさしい日本語).
    pub const EASY_JAPANESE: LanguageId = LanguageId(1);
    /// English.
    pub const ENGLISH: LanguageId = LanguageId(2);

    /// Every language of the catalogue, in catalogue order.
    pub fn all() -> impl Iterator<Item = LanguageId> {
        (0..LANGUAGES.len() as u16).map(LanguageId)
    }

    /// The catalogue entry.
    pub fn info(self) -> &'static Language {
        &LANGUAGES[usize::from(self.0)]
    }

    /// The canonical tag.
    pub fn tag(self) -> &'static str {
        self.info().tag
    }

    /// Index in the catalogue.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The language at catalogue index `i`, if any.
    pub fn from_index(i: usize) -> Option<LanguageId> {
        (i < LANGUAGES.len()).then_some(LanguageId(i as u16))
    }

    /// Resolve a tag from outside (config, API, a client) to a catalogue language.
    ///
    /// The tag must be well-formed BCP 47; matching is case-insensitive and falls back
    /// by truncation as in RFC 4647 "lookup" (`pt-BR` → `pt`, `zh-Hans-CN` → `zh`).
    pub fn parse(tag: &str) -> Result<LanguageId, LanguageError> {
        let canonical = canonicalize(tag)?;
        let mut candidate = canonical.as_str();
        loop {
            if let Some(i) = LANGUAGES.iter().position(|l| l.tag == candidate) {
                return Ok(LanguageId(i as u16));
            }
            match candidate.rfind('-') {
                Some(cut) => {
                    candidate = &candidate[..cut];
                    // Never end a lookup on a lone singleton such as "ja-x".
                    if candidate.len() >= 2 && candidate.as_bytes()[candidate.len() - 2] == b'-' {
                        candidate = &candidate[..candidate.len() - 2];
                    }
                }
                None => return Err(LanguageError::NotInCatalogue(canonical)),
            }
        }
    }
}

impl fmt::Debug for LanguageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl fmt::Display for LanguageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Why a language tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanguageError {
    /// The tag is not well-formed BCP 47.
    #[error("language tag {tag:?} is not well-formed BCP 47: {reason}")]
    Malformed {
        /// The tag as given (truncated to 64 characters).
        tag: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Well-formed, but no language of the catalogue matches it.
    #[error("language tag {0:?} is not a language this service offers")]
    NotInCatalogue(String),
}

fn malformed(tag: &str, reason: &'static str) -> LanguageError {
    LanguageError::Malformed { tag: tag.chars().take(64).collect(), reason }
}

/// Check a tag against the BCP 47 "langtag" and "privateuse" productions and return it
/// in canonical case (language lower, script title, region upper, the rest lower).
/// Grandfathered tags are not accepted.
pub fn canonicalize(tag: &str) -> Result<String, LanguageError> {
    if tag.is_empty() {
        return Err(malformed(tag, "empty"));
    }
    if tag.len() > 64 {
        return Err(malformed(tag, "longer than 64 characters"));
    }
    if !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(malformed(tag, "only ASCII letters, digits and '-' are allowed"));
    }
    let subtags: Vec<&str> = tag.split('-').collect();
    if subtags.iter().any(|s| s.is_empty()) {
        return Err(malformed(tag, "empty subtag"));
    }
    if subtags.iter().any(|s| s.len() > 8) {
        return Err(malformed(tag, "subtag longer than 8 characters"));
    }
    let alpha = |s: &str| s.bytes().all(|b| b.is_ascii_alphabetic());
    let digit = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mut out: Vec<String> = Vec::with_capacity(subtags.len());
    let mut i = 0;
    let first = subtags[0];
    if first.eq_ignore_ascii_case("x") {
        // A tag that is private use only: x-aaa-bbb.
        if subtags.len() < 2 {
            return Err(malformed(tag, "private use needs at least one subtag after 'x'"));
        }
        return Ok(tag.to_ascii_lowercase());
    }
    if !(alpha(first) && (2..=3).contains(&first.len()) || alpha(first) && (5..=8).contains(&first.len())) {
        return Err(malformed(tag, "the primary language subtag must be 2-3 or 5-8 letters"));
    }
    out.push(first.to_ascii_lowercase());
    i += 1;
    // Up to three extended language subtags after a 2-3 letter language.
    let mut extlangs = 0;
    while i < subtags.len() && first.len() <= 3 && extlangs < 3 && subtags[i].len() == 3 && alpha(subtags[i]) {
        out.push(subtags[i].to_ascii_lowercase());
        i += 1;
        extlangs += 1;
    }
    if i < subtags.len() && subtags[i].len() == 4 && alpha(subtags[i]) {
        let s = subtags[i].to_ascii_lowercase();
        out.push(s[..1].to_ascii_uppercase() + &s[1..]);
        i += 1;
    }
    if i < subtags.len()
        && ((subtags[i].len() == 2 && alpha(subtags[i])) || (subtags[i].len() == 3 && digit(subtags[i])))
    {
        out.push(subtags[i].to_ascii_uppercase());
        i += 1;
    }
    let mut seen_variants: Vec<String> = Vec::new();
    while i < subtags.len() {
        let s = subtags[i];
        let variant = (5..=8).contains(&s.len()) || (s.len() == 4 && s.as_bytes()[0].is_ascii_digit());
        if !variant {
            break;
        }
        let lower = s.to_ascii_lowercase();
        if seen_variants.contains(&lower) {
            return Err(malformed(tag, "repeated variant subtag"));
        }
        seen_variants.push(lower.clone());
        out.push(lower);
        i += 1;
    }
    let mut seen_singletons: Vec<u8> = Vec::new();
    while i < subtags.len() {
        let s = subtags[i];
        if s.len() != 1 {
            return Err(malformed(tag, "unexpected subtag; expected a singleton introducing an extension"));
        }
        let singleton = s.as_bytes()[0].to_ascii_lowercase();
        if singleton == b'x' {
            if i + 1 >= subtags.len() {
                return Err(malformed(tag, "private use needs at least one subtag after 'x'"));
            }
            out.extend(subtags[i..].iter().map(|s| s.to_ascii_lowercase()));
            return Ok(out.join("-"));
        }
        if seen_singletons.contains(&singleton) {
            return Err(malformed(tag, "repeated extension singleton"));
        }
        seen_singletons.push(singleton);
        out.push((singleton as char).to_string());
        i += 1;
        let start = i;
        while i < subtags.len() && subtags[i].len() >= 2 {
            out.push(subtags[i].to_ascii_lowercase());
            i += 1;
        }
        if i == start {
            return Err(malformed(tag, "an extension needs at least one subtag of 2-8 characters"));
        }
    }
    Ok(out.join("-"))
}

/// An unordered pair of languages an interpreter works between, e.g. Vietnamese ↔ Japanese.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LanguagePair {
    low: LanguageId,
    high: LanguageId,
}

impl LanguagePair {
    /// The pair of two languages, in either order. `None` when they are the same.
    pub fn new(a: LanguageId, b: LanguageId) -> Option<LanguagePair> {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => Some(LanguagePair { low: a, high: b }),
            std::cmp::Ordering::Greater => Some(LanguagePair { low: b, high: a }),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// `language` ↔ Japanese, the usual desk pair.
    pub fn with_japanese(language: LanguageId) -> Option<LanguagePair> {
        LanguagePair::new(language, LanguageId::JAPANESE)
    }

    /// The two languages, lower catalogue index first.
    pub fn languages(self) -> (LanguageId, LanguageId) {
        (self.low, self.high)
    }

    /// The language of the pair that is not `side` (the resident's, when `side` is the desk's).
    pub fn other(self, side: LanguageId) -> LanguageId {
        if self.low == side { self.high } else { self.low }
    }
}

impl fmt::Debug for LanguagePair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<>{}", self.low, self.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_the_domain_languages_with_unique_tags() {
        for tag in [
            "ja",
            "ja-x-easy",
            "en",
            "pt",
            "zh",
            "id",
            "es",
            "vi",
            "fil",
            "ko",
            "th",
            "ne",
            "ru",
            "fr",
            "hi",
            "km",
            "my",
            "ms",
            "uk",
        ] {
            let id = LanguageId::parse(tag).expect(tag);
            assert_eq!(id.tag(), tag);
            assert!(!id.info().native.is_empty() && !id.info().japanese.is_empty());
        }
        for (i, a) in LANGUAGES.iter().enumerate() {
            assert_eq!(canonicalize(a.tag).as_deref(), Ok(a.tag), "catalogue tag {} is canonical", a.tag);
            assert!(LANGUAGES[i + 1..].iter().all(|b| b.tag != a.tag));
        }
        assert!(LANGUAGES.len() >= 25);
    }

    #[test]
    fn lookup_is_case_insensitive_and_truncates() {
        assert_eq!(LanguageId::parse("PT-br").map(LanguageId::tag), Ok("pt"));
        assert_eq!(LanguageId::parse("zh-Hans-CN").map(LanguageId::tag), Ok("zh"));
        assert_eq!(LanguageId::parse("JA-X-EASY").map(LanguageId::tag), Ok("ja-x-easy"));
        assert_eq!(LanguageId::parse("ja-x-other").map(LanguageId::tag), Ok("ja"));
        assert_eq!(LanguageId::parse("vi-VN-u-ca-gregory").map(LanguageId::tag), Ok("vi"));
        assert!(matches!(LanguageId::parse("sw"), Err(LanguageError::NotInCatalogue(_))));
    }

    #[test]
    fn canonical_case() {
        assert_eq!(canonicalize("ZH-hant-tw").as_deref(), Ok("zh-Hant-TW"));
        assert_eq!(canonicalize("es-419").as_deref(), Ok("es-419"));
        assert_eq!(canonicalize("sl-rozaj-biske").as_deref(), Ok("sl-rozaj-biske"));
        assert_eq!(canonicalize("x-whatever").as_deref(), Ok("x-whatever"));
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for bad in [
            "",
            "-",
            "a",
            "vi-",
            "-vi",
            "vi--VN",
            "toolongsubtag",
            "v1",
            "vi_VN",
            "日本語",
            "vi-x",
            "vi-u",
            "de-a-foo-a-bar",
            "sl-rozaj-rozaj",
            "x",
        ] {
            match canonicalize(bad) {
                Err(LanguageError::Malformed { reason, .. }) => assert!(!reason.is_empty()),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let long = "a".repeat(10_000);
        assert!(canonicalize(&long).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Fuzz: any string at all gets an answer, never a panic; an accepted tag is
        /// canonical (canonicalising again changes nothing) and matches case-insensitively.
        #[test]
        fn any_string_is_answered_and_accepted_tags_are_canonical(s in "\\PC{0,80}") {
            if let Ok(c) = canonicalize(&s) {
                proptest::prop_assert_eq!(canonicalize(&c), Ok(c.clone()));
                proptest::prop_assert!(c.eq_ignore_ascii_case(&s));
            }
            let _ = LanguageId::parse(&s);
        }

        /// Fuzz with tag-shaped input: subtags of letters and digits joined by '-'.
        #[test]
        fn tag_shaped_strings(s in "[a-zA-Z0-9]{0,9}(-[a-zA-Z0-9]{0,9}){0,6}") {
            match canonicalize(&s) {
                Ok(c) => {
                    proptest::prop_assert_eq!(canonicalize(&c), Ok(c.clone()));
                    proptest::prop_assert_eq!(c.len(), s.len());
                }
                Err(LanguageError::Malformed { reason, .. }) => proptest::prop_assert!(!reason.is_empty()),
                Err(e) => proptest::prop_assert!(false, "unexpected {e:?}"),
            }
            if let Ok(id) = LanguageId::parse(&s) {
                proptest::prop_assert!(s.to_ascii_lowercase().starts_with(&id.tag().to_ascii_lowercase()));
            }
        }
    }

    #[test]
    fn pairs_are_unordered() {
        let vi = LanguageId::parse("vi").unwrap();
        assert_eq!(LanguagePair::new(vi, LanguageId::JAPANESE), LanguagePair::with_japanese(vi));
        assert_eq!(LanguagePair::new(LanguageId::JAPANESE, vi), LanguagePair::with_japanese(vi));
        assert_eq!(LanguagePair::new(vi, vi), None);
        assert_eq!(LanguagePair::with_japanese(vi).unwrap().other(LanguageId::JAPANESE), vi);
    }
}
