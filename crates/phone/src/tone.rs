//! Tones, and how much of a sound one tone is (Goertzel): what the tests, the benchmark
//! and the server's phone tests send and listen for, at the phone's 8 kHz.

use crate::FRAME_8K;

/// Frame `n` (160 samples, 20 ms) of a tone of `hz` at 8 kHz, a quarter of full scale.
pub fn tone(hz: f64, n: u32) -> Vec<i16> {
    (0..FRAME_8K as u32)
        .map(|i| {
            let t = f64::from(n * FRAME_8K as u32 + i) / 8000.0;
            ((t * hz * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect()
}

/// The share of the energy of `samples` (8 kHz) at `hz`, 0 to 1.
pub fn share(samples: &[i16], hz: f64) -> f64 {
    let k = 2.0 * (std::f64::consts::TAU * hz / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for x in samples {
        let s0 = f64::from(*x) + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let total: f64 = samples.iter().map(|x| f64::from(*x).powi(2)).sum();
    if total == 0.0 { 0.0 } else { 2.0 * (s1 * s1 + s2 * s2 - k * s1 * s2) / samples.len() as f64 / total }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_is_all_of_itself_and_none_of_another() {
        let t: Vec<i16> = (0..50).flat_map(|n| tone(440.0, n)).collect();
        assert!(share(&t, 440.0) > 0.95);
        assert!(share(&t, 1000.0) < 0.01);
        assert_eq!(share(&[0; 160], 440.0), 0.0);
    }
}
