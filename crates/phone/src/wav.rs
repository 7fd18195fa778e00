//! WAV files of prompts, read: RIFF chunks, one channel at 8 kHz, 16-bit PCM or G.711
//! (μ-law or A-law). Anything else is refused with what was wrong: a recorded prompt
//! that replaces a generated one (`prompts::Prompts::with_recorded`) is outside input.

use crate::g711;

/// Why a WAV file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WavError {
    /// Not `RIFF` … `WAVE`.
    #[error("not a WAV file (no RIFF/WAVE header)")]
    NotWav,
    /// A chunk runs past the end, or `fmt ` is too short.
    #[error("the file is cut short (a chunk runs past its end)")]
    Truncated,
    /// No `fmt ` chunk before `data`.
    #[error("no fmt chunk before the data")]
    NoFormat,
    /// No `data` chunk.
    #[error("no data chunk")]
    NoData,
    /// A coding other than PCM (1), A-law (6) or μ-law (7).
    #[error("coding {0} is not supported: 16-bit PCM, A-law or mu-law only")]
    Coding(u16),
    /// More than one channel.
    #[error("{0} channels: a prompt is mono")]
    Channels(u16),
    /// Another rate than 8 kHz.
    #[error("{0} Hz: a prompt is 8000 Hz (a phone line's rate)")]
    Rate(u32),
    /// Bits per sample that do not fit the coding.
    #[error("{bits} bits per sample do not fit coding {coding}")]
    Bits {
        /// The coding.
        coding: u16,
        /// Its bits per sample.
        bits: u16,
    },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The samples of an 8 kHz mono WAV file.
pub fn decode(file: &[u8]) -> Result<Vec<i16>, WavError> {
    if file.get(0..4) != Some(b"RIFF") || file.get(8..12) != Some(b"WAVE") {
        return Err(WavError::NotWav);
    }
    let mut at = 12;
    let mut coding = None;
    while at < file.len() {
        let id = file.get(at..at + 4).ok_or(WavError::Truncated)?;
        let size = u32_at(file, at + 4).ok_or(WavError::Truncated)? as usize;
        let body =
            file.get(at + 8..(at + 8).checked_add(size).ok_or(WavError::Truncated)?).ok_or(WavError::Truncated)?;
        match id {
            b"fmt " => {
                let tag = u16_at(body, 0).ok_or(WavError::Truncated)?;
                let channels = u16_at(body, 2).ok_or(WavError::Truncated)?;
                let rate = u32_at(body, 4).ok_or(WavError::Truncated)?;
                let bits = u16_at(body, 14).ok_or(WavError::Truncated)?;
                match (tag, bits) {
                    (1, 16) | (6 | 7, 8) => {}
                    (1 | 6 | 7, _) => return Err(WavError::Bits { coding: tag, bits }),
                    _ => return Err(WavError::Coding(tag)),
                }
                if channels != 1 {
                    return Err(WavError::Channels(channels));
                }
                if rate != 8000 {
                    return Err(WavError::Rate(rate));
                }
                coding = Some(tag);
            }
            b"data" => {
                return match coding.ok_or(WavError::NoFormat)? {
                    1 => Ok(body.chunks_exact(2).map(|s| i16::from_le_bytes([s[0], s[1]])).collect()),
                    6 => Ok(body.iter().map(|&c| g711::alaw_to_linear(c)).collect()),
                    _ => Ok(body.iter().map(|&c| g711::ulaw_to_linear(c)).collect()),
                };
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at += 8 + size + size % 2;
    }
    Err(WavError::NoData)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A WAV file: `fmt` fields, then `data`.
    pub(crate) fn file(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        body.extend(b"fmt ");
        body.extend(16u32.to_le_bytes());
        body.extend(tag.to_le_bytes());
        body.extend(channels.to_le_bytes());
        body.extend(rate.to_le_bytes());
        body.extend((rate * u32::from(bits) / 8).to_le_bytes());
        body.extend((bits / 8).to_le_bytes());
        body.extend(bits.to_le_bytes());
        body.extend(b"LIST");
        body.extend(3u32.to_le_bytes());
        body.extend(b"abc\0");
        body.extend(b"data");
        body.extend((data.len() as u32).to_le_bytes());
        body.extend(data);
        let mut f = b"RIFF".to_vec();
        f.extend((body.len() as u32).to_le_bytes());
        f.extend(body);
        f
    }

    #[test]
    fn pcm_and_both_laws_are_read_past_other_chunks() {
        let pcm: Vec<u8> = [1000i16, -2000, 3].iter().flat_map(|s| s.to_le_bytes()).collect();
        assert_eq!(decode(&file(1, 1, 8000, 16, &pcm)), Ok(vec![1000, -2000, 3]));
        let ulaw = [g711::linear_to_ulaw(1000), g711::linear_to_ulaw(-2000)];
        let got = decode(&file(7, 1, 8000, 8, &ulaw)).unwrap();
        assert_eq!(got, vec![g711::ulaw_to_linear(ulaw[0]), g711::ulaw_to_linear(ulaw[1])]);
        let alaw = [g711::linear_to_alaw(1000)];
        assert_eq!(decode(&file(6, 1, 8000, 8, &alaw)).unwrap(), vec![g711::alaw_to_linear(alaw[0])]);
    }

    #[test]
    fn what_a_phone_cannot_play_is_refused_with_the_reason() {
        assert_eq!(decode(b"hello"), Err(WavError::NotWav));
        assert_eq!(decode(&file(1, 1, 44_100, 16, &[0, 0])), Err(WavError::Rate(44_100)));
        assert_eq!(decode(&file(1, 2, 8000, 16, &[0, 0])), Err(WavError::Channels(2)));
        assert_eq!(decode(&file(3, 1, 8000, 32, &[0; 4])), Err(WavError::Coding(3)));
        assert_eq!(decode(&file(1, 1, 8000, 8, &[0])), Err(WavError::Bits { coding: 1, bits: 8 }));
        let mut cut = file(1, 1, 8000, 16, &[0; 100]);
        cut.truncate(60);
        assert_eq!(decode(&cut), Err(WavError::Truncated));
        assert_eq!(WavError::Rate(44_100).to_string(), "44100 Hz: a prompt is 8000 Hz (a phone line's rate)");
    }

    #[test]
    fn every_prompt_shipped_is_readable() {
        for (lang, name, bytes) in crate::prompt_files::FILES {
            let samples = decode(bytes).unwrap_or_else(|e| panic!("{lang}/{name}: {e}"));
            // Sentences last over a second, numbers (n1 to n9) and languages' names a few tenths.
            let word = (name.starts_with('n') && name.len() == 2) || name.starts_with("lang_");
            let shortest = if word { 1600 } else { 8000 };
            assert!(samples.len() > shortest, "{lang}/{name} is long enough to be heard");
            assert!(samples.iter().any(|s| s.unsigned_abs() > 3000), "{lang}/{name} is audible");
        }
    }

    proptest! {
        /// Garbage, or a real file cut or corrupted anywhere, is an error or samples,
        /// never a panic.
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), cut in 0usize..120, flip in 0usize..120) {
            let _ = decode(&bytes);
            let mut f = file(7, 1, 8000, 8, &[1, 2, 3, 4, 5]);
            if let Some(b) = f.get_mut(flip) {
                *b ^= 0xff;
            }
            f.truncate(cut.min(f.len()));
            let _ = decode(&f);
            let mut framed = b"RIFF\0\0\0\0WAVE".to_vec();
            framed.extend(&bytes);
            let _ = decode(&framed);
        }
    }
}
