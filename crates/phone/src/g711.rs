//! G.711 (ITU-T G.711, 1988): 16-bit linear PCM to 8-bit µ-law (PCMU, RTP payload type 0)
//! and A-law (PCMA, payload type 8), and back. The segment arithmetic of the
//! recommendation, written out: no tables to get wrong, and a round trip of every code
//! is tested.

/// One of the two laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law, North America and Japan: RTP payload type 0, `PCMU/8000`.
    Mu,
    /// A-law, Europe and most of the rest: RTP payload type 8, `PCMA/8000`.
    A,
}

impl Law {
    /// The static RTP payload type (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Law::Mu => 0,
            Law::A => 8,
        }
    }

    /// The encoding name in SDP's `a=rtpmap`.
    pub fn name(self) -> &'static str {
        match self {
            Law::Mu => "PCMU",
            Law::A => "PCMA",
        }
    }

    /// Encode `pcm` into `out` (one byte per sample; `out` is cleared first).
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        out.clear();
        out.extend(pcm.iter().map(|s| match self {
            Law::Mu => linear_to_ulaw(*s),
            Law::A => linear_to_alaw(*s),
        }));
    }

    /// Decode `bytes` into `out` (one sample per byte; `out` is cleared first).
    pub fn decode(self, bytes: &[u8], out: &mut Vec<i16>) {
        out.clear();
        out.extend(bytes.iter().map(|b| match self {
            Law::Mu => ulaw_to_linear(*b),
            Law::A => alaw_to_linear(*b),
        }));
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32_635;

/// A 16-bit sample to µ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(ULAW_CLIP) + ULAW_BIAS;
    // The segment is the position of the highest bit above bit 7 (0 to 7).
    let exponent = 7 - ((s >> 7) as u8).leading_zeros() as i32;
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// µ-law to a 16-bit sample.
pub fn ulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let exponent = i32::from((u >> 4) & 0x07);
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    (if u & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// The upper bound of each A-law segment, on the 13-bit magnitude.
const ALAW_SEGMENT_END: [i32; 8] = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

/// A 16-bit sample to A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = i32::from(sample) >> 3;
    let mask = if pcm >= 0 {
        0xd5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let Some(segment) = ALAW_SEGMENT_END.iter().position(|end| pcm <= *end) else {
        return 0x7f ^ mask;
    };
    let shift = if segment < 2 { 1 } else { segment };
    let code = ((segment as i32) << 4) | ((pcm >> shift) & 0x0f);
    (code as u8) ^ mask
}

/// A-law to a 16-bit sample.
pub fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = i32::from(a & 0x0f) << 4;
    match (a & 0x70) >> 4 {
        0 => t += 8,
        1 => t += 0x108,
        segment => t = (t + 0x108) << (segment - 1),
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn silence_and_the_extremes_have_their_known_codes() {
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(i16::MAX), 0xaa);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2a);
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(alaw_to_linear(0xaa), 32_256);
        assert_eq!(alaw_to_linear(0x2a), -32_256);
    }

    /// Every code decodes to a value that encodes back to it (µ-law's negative zero,
    /// 0x7f, is the one code that comes back as positive zero).
    #[test]
    fn every_code_survives_a_round_trip() {
        for code in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "A-law {code:#04x}");
            let back = linear_to_ulaw(ulaw_to_linear(code));
            if code == 0x7f {
                assert_eq!(back, 0xff);
            } else {
                assert_eq!(back, code, "µ-law {code:#04x}");
            }
        }
    }

    proptest! {
        /// A sample comes back within half its segment's step: the quantisation error
        /// grows with the magnitude, about 3% of it at most, plus the smallest step.
        #[test]
        fn samples_come_back_close(s in any::<i16>()) {
            let error = |back: i16| (i32::from(back) - i32::from(s)).abs();
            let allowed = i32::from(s).abs() / 16 + 16;
            prop_assert!(error(ulaw_to_linear(linear_to_ulaw(s))) <= allowed.max(130), "µ-law {s}");
            prop_assert!(error(alaw_to_linear(linear_to_alaw(s))) <= allowed, "A-law {s}");
        }

        /// The code grows with the sample (the laws are monotonic).
        #[test]
        fn the_laws_keep_order(a in any::<i16>(), b in any::<i16>()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(ulaw_to_linear(linear_to_ulaw(lo)) <= ulaw_to_linear(linear_to_ulaw(hi)));
            prop_assert!(alaw_to_linear(linear_to_alaw(lo)) <= alaw_to_linear(linear_to_alaw(hi)));
        }
    }

    #[test]
    fn frames_encode_and_decode_whole() {
        let pcm: Vec<i16> = (0..160).map(|i| ((i as f64 / 8.0).sin() * 8000.0) as i16).collect();
        for law in [Law::Mu, Law::A] {
            let (mut bytes, mut back) = (Vec::new(), Vec::new());
            law.encode(&pcm, &mut bytes);
            assert_eq!(bytes.len(), 160);
            law.decode(&bytes, &mut back);
            assert_eq!(back.len(), 160);
            let worst = pcm.iter().zip(&back).map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs()).max();
            assert!(worst.unwrap_or(0) < 300, "{law:?}: {worst:?}");
        }
        assert_eq!((Law::Mu.payload_type(), Law::A.payload_type()), (0, 8));
        assert_eq!((Law::Mu.name(), Law::A.name()), ("PCMU", "PCMA"));
    }
}
