//! A seeded source of randomness: a test network's relay draws the same ICE credentials
//! and SSRCs on every run.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Instant;

use crate::Randomness;

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast, and good enough for test
/// credentials. Not for anything an attacker could guess at: production uses
/// [`crate::OsRandom`].
#[derive(Clone, Debug)]
pub struct Seeded {
    state: u64,
}

impl Seeded {
    /// A source seeded with `seed`.
    pub fn from_seed(seed: u64) -> Seeded {
        Seeded { state: seed }
    }

    /// A source seeded from an instant (a test network's start), so networks made at
    /// different instants draw differently.
    pub fn new(at: Instant) -> Seeded {
        let mut hasher = DefaultHasher::new();
        at.hash(&mut hasher);
        Seeded::from_seed(hasher.finish())
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Randomness for Seeded {
    fn fill(&mut self, bytes: &mut [u8]) -> bool {
        for chunk in bytes.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_bytes() {
        let (mut a, mut b) = (Seeded::from_seed(7), Seeded::from_seed(7));
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        assert!(a.fill(&mut x) && b.fill(&mut y));
        assert_eq!(x, y);
        assert_ne!(x, [0u8; 13]);
        let mut c = Seeded::from_seed(8);
        let mut z = [0u8; 13];
        c.fill(&mut z);
        assert_ne!(x, z);
    }
}
