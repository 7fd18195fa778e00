//! The N−1 mix: every phone leg hears everyone but itself. The sources of one call are
//! summed once into 32 bits; each listener's frame is that sum less its own voice,
//! clamped to 16 bits (FreeSWITCH's mod_conference does it this way: O(N), not O(N²), and
//! nothing is lost before the subtraction). A source whose frame is missing this tick
//! counts as silence.

/// The sum of one tick's frames.
#[derive(Debug)]
pub struct Mix {
    total: Vec<i32>,
    sources: usize,
}

impl Mix {
    /// A mix of frames of `samples` samples.
    pub fn new(samples: usize) -> Mix {
        Mix { total: vec![0; samples], sources: 0 }
    }

    /// Start a new tick.
    pub fn clear(&mut self) {
        self.total.iter_mut().for_each(|t| *t = 0);
        self.sources = 0;
    }

    /// Add a source's frame (a shorter frame is padded with silence, a longer one cut).
    pub fn add(&mut self, frame: &[i16]) {
        for (t, s) in self.total.iter_mut().zip(frame) {
            *t += i32::from(*s);
        }
        self.sources += 1;
    }

    /// Sources added this tick.
    pub fn sources(&self) -> usize {
        self.sources
    }

    /// What a listener hears: everything added less `own` (its own frame, if it was added),
    /// clamped, into `out`.
    pub fn without(&self, own: Option<&[i16]>, out: &mut Vec<i16>) {
        out.clear();
        out.extend(self.total.iter().enumerate().map(|(i, t)| {
            let own = own.and_then(|o| o.get(i)).map_or(0, |s| i32::from(*s));
            (t - own).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_listener_hears_the_others_and_not_itself() {
        let (a, b, c) = (vec![100i16; 4], vec![-30i16; 4], vec![7i16, 7, 7, 7]);
        let mut m = Mix::new(4);
        for f in [&a, &b, &c] {
            m.add(f);
        }
        assert_eq!(m.sources(), 3);
        let mut out = Vec::new();
        m.without(Some(&a), &mut out);
        assert_eq!(out, vec![-23; 4]);
        m.without(Some(&c), &mut out);
        assert_eq!(out, vec![70; 4]);
        m.without(None, &mut out);
        assert_eq!(out, vec![77; 4], "a listener who is not a source hears everyone");
        m.clear();
        m.without(None, &mut out);
        assert_eq!(out, vec![0; 4]);
    }

    #[test]
    fn loud_sums_are_clamped_after_the_subtraction() {
        let loud = vec![30_000i16; 2];
        let mut m = Mix::new(2);
        for _ in 0..3 {
            m.add(&loud);
        }
        let mut out = Vec::new();
        m.without(Some(&loud), &mut out);
        assert_eq!(out, vec![i16::MAX; 2], "60,000 clamps");
        let quiet = vec![-30_000i16; 2];
        let mut m = Mix::new(2);
        m.add(&loud);
        m.add(&quiet);
        m.without(Some(&loud), &mut out);
        assert_eq!(out, vec![-30_000; 2], "nothing lost before the subtraction");
        m.add(&[5]);
        m.without(None, &mut out);
        assert_eq!(out, vec![5, 0], "a short frame is padded with silence");
    }

    proptest! {
        /// The mix less one's own equals the clamped sum of the others, for any frames.
        #[test]
        fn n_minus_one_is_the_sum_of_the_others(frames in proptest::collection::vec(proptest::collection::vec(any::<i16>(), 8), 1..6)) {
            let mut m = Mix::new(8);
            for f in &frames {
                m.add(f);
            }
            let mut out = Vec::new();
            for (me, own) in frames.iter().enumerate() {
                m.without(Some(own), &mut out);
                for i in 0..8 {
                    let others: i32 = frames.iter().enumerate().filter(|(k, _)| *k != me).map(|(_, f)| i32::from(f[i])).sum();
                    prop_assert_eq!(i32::from(out[i]), others.clamp(-32_768, 32_767));
                }
            }
        }
    }
}
