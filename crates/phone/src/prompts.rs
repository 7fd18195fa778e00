//! What callers are told: prompts in Japanese, easy Japanese, English and the residents'
//! languages, generated from `prompts/texts.tsv` by `scripts/prompts.py` (espeak-ng) and
//! built into the binary, never fetched at run time. A directory of recorded prompts
//! (`<language>/<name>.wav`, 8 kHz) replaces any of them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::FRAME_8K;
use crate::wav::{self, WavError};

/// A prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prompt {
    /// "Enter your PIN, then press the hash key."
    PinEnter,
    /// "That PIN is not valid; try again."
    PinWrong,
    /// "We could not connect you; ask at the counter." (then the line hangs up)
    PinRefused,
    /// "The service is not available right now."
    Unavailable,
    /// "Connecting you to your call now."
    Connecting,
    /// A call out answered: "A call from the consultation desk for foreign residents,
    /// with an interpreter; connecting you now."
    DialGreeting,
    /// A language line: "Thank you for calling; we are connecting you to an interpreter."
    LineWelcome,
    /// "People waiting before you:" (a [`Prompt::Number`] follows).
    LineAhead,
    /// "You are next."
    LineNext,
    /// "More than nine people are waiting before you."
    LineMany,
    /// "All interpreters are busy now; please call again later." (then the line hangs up)
    LineBusy,
    /// "The counter is closed now; please call during opening hours." (then it hangs up)
    LineClosed,
    /// A menu's item, in the item's own language: "For English, press" (its number follows).
    MenuPress,
    /// A number from 1 to 9.
    Number(u8),
    /// To an interpreter reached by phone: "An interpretation request." (in Japanese)
    OfferIntro,
    /// "Press 1 to accept, 2 to decline."
    OfferKeys,
    /// "This request was taken by someone else or has ended. Thank you."
    OfferGone,
    /// "Understood. Thank you." (after 2)
    OfferDeclined,
    /// A language's name in Japanese: [`NAMED`]'s language at this index.
    LanguageName(u8),
}

/// The languages whose names are said to interpreters (in Japanese), by index.
pub const NAMED: [&str; 29] = [
    "ja", "en", "pt", "zh", "id", "es", "vi", "fil", "ko", "th", "ne", "ru", "fr", "hi", "km", "my", "ms", "uk", "mn",
    "si", "bn", "ur", "fa", "tr", "ar", "uz", "lo", "ta", "de",
];

/// The files of the languages' names, as [`NAMED`].
const NAME_FILES: [&str; 29] = [
    "lang_ja", "lang_en", "lang_pt", "lang_zh", "lang_id", "lang_es", "lang_vi", "lang_fil", "lang_ko", "lang_th",
    "lang_ne", "lang_ru", "lang_fr", "lang_hi", "lang_km", "lang_my", "lang_ms", "lang_uk", "lang_mn", "lang_si",
    "lang_bn", "lang_ur", "lang_fa", "lang_tr", "lang_ar", "lang_uz", "lang_lo", "lang_ta", "lang_de",
];

impl Prompt {
    /// The name of `language` (its base tag is enough), if one is said.
    pub fn name_of(language: &str) -> Option<Prompt> {
        let base = language.split(['-', '_']).next().unwrap_or(language);
        NAMED.iter().position(|t| *t == language || *t == base).map(|i| Prompt::LanguageName(i as u8))
    }
}

/// The numbers' files.
const NUMBERS: [&str; 9] = ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9"];

impl Prompt {
    /// Every prompt.
    pub const ALL: [Prompt; 55] = [
        Prompt::PinEnter,
        Prompt::PinWrong,
        Prompt::PinRefused,
        Prompt::Unavailable,
        Prompt::Connecting,
        Prompt::DialGreeting,
        Prompt::LineWelcome,
        Prompt::LineAhead,
        Prompt::LineNext,
        Prompt::LineMany,
        Prompt::LineBusy,
        Prompt::LineClosed,
        Prompt::MenuPress,
        Prompt::Number(1),
        Prompt::Number(2),
        Prompt::Number(3),
        Prompt::Number(4),
        Prompt::Number(5),
        Prompt::Number(6),
        Prompt::Number(7),
        Prompt::Number(8),
        Prompt::Number(9),
        Prompt::OfferIntro,
        Prompt::OfferKeys,
        Prompt::OfferGone,
        Prompt::OfferDeclined,
        Prompt::LanguageName(0),
        Prompt::LanguageName(1),
        Prompt::LanguageName(2),
        Prompt::LanguageName(3),
        Prompt::LanguageName(4),
        Prompt::LanguageName(5),
        Prompt::LanguageName(6),
        Prompt::LanguageName(7),
        Prompt::LanguageName(8),
        Prompt::LanguageName(9),
        Prompt::LanguageName(10),
        Prompt::LanguageName(11),
        Prompt::LanguageName(12),
        Prompt::LanguageName(13),
        Prompt::LanguageName(14),
        Prompt::LanguageName(15),
        Prompt::LanguageName(16),
        Prompt::LanguageName(17),
        Prompt::LanguageName(18),
        Prompt::LanguageName(19),
        Prompt::LanguageName(20),
        Prompt::LanguageName(21),
        Prompt::LanguageName(22),
        Prompt::LanguageName(23),
        Prompt::LanguageName(24),
        Prompt::LanguageName(25),
        Prompt::LanguageName(26),
        Prompt::LanguageName(27),
        Prompt::LanguageName(28),
    ];

    /// Its file's name, without `.wav`.
    pub fn name(self) -> &'static str {
        match self {
            Prompt::PinEnter => "pin_enter",
            Prompt::PinWrong => "pin_wrong",
            Prompt::PinRefused => "pin_refused",
            Prompt::Unavailable => "unavailable",
            Prompt::Connecting => "connecting",
            Prompt::DialGreeting => "dial_greeting",
            Prompt::LineWelcome => "line_welcome",
            Prompt::LineAhead => "line_ahead",
            Prompt::LineNext => "line_next",
            Prompt::LineMany => "line_many",
            Prompt::LineBusy => "line_busy",
            Prompt::LineClosed => "line_closed",
            Prompt::MenuPress => "menu_press",
            // Numbers outside 1 to 9 are never made; they read as nine.
            Prompt::Number(n) => NUMBERS[usize::from(n.clamp(1, 9)) - 1],
            Prompt::OfferIntro => "offer_intro",
            Prompt::OfferKeys => "offer_keys",
            Prompt::OfferGone => "offer_gone",
            Prompt::OfferDeclined => "offer_declined",
            // Indices outside the list are never made; they read as its last.
            Prompt::LanguageName(i) => NAME_FILES[usize::from(i).min(NAME_FILES.len() - 1)],
        }
    }
}

/// A recorded prompt that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// Unreadable.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a WAV a phone can play.
    #[error("{path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// Why.
        source: WavError,
    },
}

/// The prompts, by language.
#[derive(Clone, Debug)]
pub struct Prompts {
    sounds: HashMap<(String, Prompt), Arc<[i16]>>,
}

impl Prompts {
    /// The prompts built into the binary.
    pub fn built_in() -> Prompts {
        let mut sounds = HashMap::new();
        for (lang, name, bytes) in crate::prompt_files::FILES {
            let Some(prompt) = Prompt::ALL.into_iter().find(|p| p.name() == *name) else { continue };
            // Tested for every file (`wav::tests`): a file that did not read is left out.
            if let Ok(samples) = wav::decode(bytes) {
                sounds.insert(((*lang).to_string(), prompt), Arc::from(samples));
            }
        }
        Prompts { sounds }
    }

    /// The built-in prompts with any of `dir/<language>/<name>.wav` in their place (or in
    /// a language that has none). A file that is there but unusable is an error, named.
    pub fn with_recorded(dir: &Path) -> Result<Prompts, PromptError> {
        let mut prompts = Prompts::built_in();
        let entries = std::fs::read_dir(dir).map_err(|source| PromptError::Read { path: dir.into(), source })?;
        for entry in entries.flatten() {
            let Some(lang) = entry.file_name().to_str().map(str::to_string) else { continue };
            if !entry.path().is_dir() {
                continue;
            }
            for prompt in Prompt::ALL {
                let path = entry.path().join(format!("{}.wav", prompt.name()));
                if !path.exists() {
                    continue;
                }
                let bytes = std::fs::read(&path).map_err(|source| PromptError::Read { path: path.clone(), source })?;
                let samples = wav::decode(&bytes).map_err(|source| PromptError::Wav { path, source })?;
                prompts.sounds.insert((lang.clone(), prompt), Arc::from(samples));
            }
        }
        Ok(prompts)
    }

    /// `prompt` in `language` (`pt-BR` falls back to `pt`), else in English.
    pub fn get(&self, prompt: Prompt, language: &str) -> Arc<[i16]> {
        let base = language.split(['-', '_']).next().unwrap_or(language);
        [language, base, "en"]
            .into_iter()
            .find_map(|l| self.sounds.get(&(l.to_string(), prompt)))
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Whether `prompt` exists in `language` itself (no fallback).
    pub fn has(&self, prompt: Prompt, language: &str) -> bool {
        self.sounds.contains_key(&(language.to_string(), prompt))
    }
}

/// Sound cut into 20 ms frames, the last one padded with silence.
pub fn frames(samples: &[i16]) -> impl Iterator<Item = Vec<i16>> + '_ {
    samples.chunks(FRAME_8K).map(|c| {
        let mut f = c.to_vec();
        f.resize(FRAME_8K, 0);
        f
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_line_speaks_japanese_easy_japanese_and_english_and_the_lines_every_language() {
        let p = Prompts::built_in();
        for prompt in [Prompt::PinEnter, Prompt::PinWrong, Prompt::PinRefused, Prompt::Unavailable] {
            for lang in ["ja", "ja-easy", "en"] {
                assert!(p.has(prompt, lang), "{prompt:?} in {lang}");
            }
        }
        for lang in ["ja", "en", "vi", "zh", "pt", "ne", "id", "es", "th", "my", "ru", "uk", "hi", "ko"] {
            for prompt in Prompt::ALL.into_iter().skip(4).take(17) {
                assert!(p.has(prompt, lang), "{prompt:?} in {lang}");
            }
        }
        assert!(Arc::ptr_eq(&p.get(Prompt::Connecting, "pt-BR"), &p.get(Prompt::Connecting, "pt")));
        // Interpreters reached by phone hear the offer and every catalogue language's name
        // in Japanese.
        for prompt in Prompt::ALL.into_iter().skip(21) {
            assert!(p.has(prompt, "ja"), "{prompt:?} in ja");
        }
        assert_eq!(Prompt::name_of("pt-BR"), Some(Prompt::LanguageName(2)));
        assert_eq!(Prompt::name_of("xx"), None);
        // Languages espeak-ng has no voice for are told in English.
        assert!(Arc::ptr_eq(&p.get(Prompt::Connecting, "fil"), &p.get(Prompt::Connecting, "en")));
    }

    #[test]
    fn a_recorded_prompt_replaces_the_generated_one_and_a_bad_one_is_named() {
        let dir = std::env::temp_dir().join(format!("kakehashi-prompts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("fil")).unwrap();
        let samples: Vec<u8> = [5i16; 400].iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(dir.join("fil/connecting.wav"), crate::wav::tests::file(1, 1, 8000, 16, &samples)).unwrap();
        let p = Prompts::with_recorded(&dir).unwrap();
        assert_eq!(&*p.get(Prompt::Connecting, "fil"), &[5i16; 400][..]);
        std::fs::write(dir.join("fil/pin_enter.wav"), crate::wav::tests::file(1, 1, 16_000, 16, &samples)).unwrap();
        let e = Prompts::with_recorded(&dir).unwrap_err().to_string();
        assert!(e.ends_with("fil/pin_enter.wav: 16000 Hz: a prompt is 8000 Hz (a phone line's rate)"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn frames_are_20_ms_and_the_last_is_padded() {
        let f: Vec<_> = frames(&[1i16; 400]).collect();
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|f| f.len() == FRAME_8K));
        assert_eq!(f[2][79..81], [1, 0]);
    }
}
