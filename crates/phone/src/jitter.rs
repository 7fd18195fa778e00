//! A small reorder buffer: RTP packets go in as they arrive, one frame comes out per 20 ms
//! tick, in sequence order. It starts handing out frames once `prefill` are buffered,
//! holds at most `depth` (the oldest go first beyond that), says which frame is missing
//! (so the decoder can conceal it), and buffers again when it runs dry. LiveKit's mixer
//! inputs use the same shape with 3 and 5 frames; at 20 ms a frame that is 60 to 100 ms.

use std::collections::VecDeque;

/// What a tick gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Tick<T> {
    /// The next frame.
    Frame(T),
    /// The next frame never came (conceal it).
    Lost,
    /// Nothing to play: not started, or run dry (play silence).
    Silent,
}

/// Counts of what went wrong, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Arrived after their turn had passed.
    pub late: u64,
    /// Dropped because the buffer was full.
    pub overflow: u64,
    /// Their turn came and they were not there.
    pub lost: u64,
    /// Ticks with nothing to play once started.
    pub dry: u64,
    /// The stream jumped (a new source, a restart): the buffer started over.
    pub resets: u64,
}

/// A jump in sequence numbers this large (either way) is a new stream, not reordering.
const JUMP: i32 = 1000;

/// The buffer.
#[derive(Debug)]
pub struct Jitter<T> {
    /// Frames from `next` on; `None` where a frame has not come.
    slots: VecDeque<Option<T>>,
    /// The sequence number of the front slot (the next to play).
    next: Option<u16>,
    playing: bool,
    prefill: usize,
    depth: usize,
    counts: Counts,
}

impl<T> Jitter<T> {
    /// Start after `prefill` frames, hold at most `depth` (`prefill` ≤ `depth`).
    pub fn new(prefill: usize, depth: usize) -> Jitter<T> {
        let depth = depth.max(1);
        Jitter {
            slots: VecDeque::with_capacity(depth),
            next: None,
            playing: false,
            prefill: prefill.clamp(1, depth),
            depth,
            counts: Counts::default(),
        }
    }

    /// What went wrong so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Frames held, counting the gaps between them.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// A packet arrived.
    pub fn push(&mut self, seq: u16, frame: T) {
        let Some(next) = self.next else {
            self.next = Some(seq);
            self.slots.push_back(Some(frame));
            return;
        };
        let ahead = i32::from(seq.wrapping_sub(next) as i16);
        if !(-JUMP..JUMP).contains(&ahead) {
            self.counts.resets += 1;
            self.slots.clear();
            self.playing = false;
            self.next = Some(seq);
            self.slots.push_back(Some(frame));
            return;
        }
        if ahead < 0 {
            self.counts.late += 1;
            return;
        }
        let mut at = ahead as usize;
        // Beyond the depth: the oldest make room (they will not be played).
        while at >= self.depth {
            if self.slots.pop_front().flatten().is_some() {
                self.counts.overflow += 1;
            }
            self.next = Some(self.next.unwrap_or(seq).wrapping_add(1));
            at -= 1;
        }
        while self.slots.len() <= at {
            self.slots.push_back(None);
        }
        if self.slots[at].is_some() {
            // A duplicate: the first copy stays.
            return;
        }
        self.slots[at] = Some(frame);
    }

    /// The 20 ms tick: the frame whose turn it is.
    pub fn tick(&mut self) -> Tick<T> {
        if !self.playing {
            if self.slots.len() < self.prefill {
                return Tick::Silent;
            }
            self.playing = true;
        }
        match self.slots.pop_front() {
            None => {
                // Dry: buffer again before playing on.
                self.playing = false;
                self.counts.dry += 1;
                Tick::Silent
            }
            Some(slot) => {
                self.next = self.next.map(|n| n.wrapping_add(1));
                match slot {
                    Some(frame) => Tick::Frame(frame),
                    None => {
                        self.counts.lost += 1;
                        Tick::Lost
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn played(j: &mut Jitter<u16>, ticks: usize) -> Vec<Option<u16>> {
        (0..ticks)
            .filter_map(|_| match j.tick() {
                Tick::Frame(f) => Some(Some(f)),
                Tick::Lost => Some(None),
                Tick::Silent => None,
            })
            .collect()
    }

    #[test]
    fn it_waits_for_the_prefill_then_plays_in_order() {
        let mut j = Jitter::new(3, 5);
        j.push(10, 10);
        j.push(11, 11);
        assert_eq!(j.tick(), Tick::Silent, "two frames are not three");
        j.push(13, 13);
        assert_eq!(
            played(&mut j, 4),
            vec![Some(10), Some(11), None, Some(13)],
            "a gap counts as held: the frame after it waited"
        );
        assert_eq!(j.tick(), Tick::Silent, "dry");
        assert_eq!(j.counts().dry, 1);
    }

    #[test]
    fn a_missing_frame_is_said_lost_and_a_late_one_dropped() {
        let mut j = Jitter::new(2, 5);
        for s in [1u16, 2, 4, 5] {
            j.push(s, s);
        }
        assert_eq!(played(&mut j, 3), vec![Some(1), Some(2), None]);
        j.push(3, 3);
        assert_eq!(j.counts().late, 1);
        assert_eq!(played(&mut j, 2), vec![Some(4), Some(5)]);
        assert_eq!(j.counts().lost, 1);
    }

    #[test]
    fn sequence_numbers_wrap_and_duplicates_are_ignored() {
        let mut j = Jitter::new(2, 5);
        for s in [65_534u16, 65_535, 65_535, 0, 1] {
            j.push(s, s);
        }
        assert_eq!(played(&mut j, 4), vec![Some(65_534), Some(65_535), Some(0), Some(1)]);
    }

    #[test]
    fn a_full_buffer_drops_its_oldest_and_a_jump_starts_over() {
        let mut j = Jitter::new(1, 3);
        for s in 0..6u16 {
            j.push(s, s);
        }
        assert_eq!(j.counts().overflow, 3);
        assert_eq!(played(&mut j, 3), vec![Some(3), Some(4), Some(5)]);
        j.push(40_000, 1);
        assert_eq!(j.counts().resets, 1);
        assert_eq!(played(&mut j, 1), vec![Some(1)]);
    }

    proptest! {
        /// Whatever arrives, in whatever order: never more than `depth` held, frames come
        /// out in sequence order, each at most once.
        #[test]
        fn bounded_ordered_and_never_twice(seqs in proptest::collection::vec(0u16..40, 0..80), ticks in proptest::collection::vec(any::<bool>(), 80)) {
            let mut j = Jitter::new(3, 5);
            let mut out: Vec<u16> = Vec::new();
            for (s, tick) in seqs.iter().zip(&ticks) {
                j.push(*s, *s);
                prop_assert!(j.len() <= 5);
                if *tick && let Tick::Frame(f) = j.tick() {
                    out.push(f);
                }
            }
            prop_assert!(out.windows(2).all(|w| w[0] < w[1]), "{out:?}");
        }
    }
}
