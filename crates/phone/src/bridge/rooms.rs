//! The calls the bridge's phones are in: one [`CallMix`] per call however many of its
//! legs are phones (a resident on a language line and an interpreter reached by phone, a
//! family member dialled in beside a resident), so each browser's Opus is decoded once
//! per call and phones hear each other directly, not through an Opus round trip.
//!
//! Every leg keeps its own seat in the call (its own connection and WebRTC peer, which
//! publishes its voice); of the legs of a call, the one with the lowest participant
//! number drives the mix: its phone's frames (or a timer when they stop) tick it, and what
//! its peer receives from the relay feeds it. The others' peers receive the same packets,
//! which are dropped. When the driver leaves, the next leg drives.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::mpsc;

use crate::callmix::{CallMix, Party};
use crate::metrics::PhoneMetrics;
use crate::opus::OpusError;

/// A leg's ends of the mix: what its phone hears, and its voice as Opus for its peer.
#[derive(Debug)]
struct Ends {
    say: mpsc::Sender<Vec<i16>>,
    publish: mpsc::Sender<Vec<u8>>,
}

/// One call's mix and its phone legs, by participant number.
#[derive(Debug, Default)]
struct Room {
    mix: CallMix,
    legs: BTreeMap<Party, Ends>,
}

type Shared = Arc<Mutex<Room>>;

/// The calls with phones in them, by call number.
#[derive(Debug, Default)]
pub struct Rooms {
    calls: Mutex<HashMap<u64, Shared>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Rooms {
    /// Take a leg into `call`'s mix as participant `me` (`call` 0, from a server that
    /// does not say, is a mix of its own): `say` carries what its phone hears, `publish`
    /// its voice as Opus.
    pub(super) fn enter(
        self: &Arc<Self>,
        call: u64,
        me: Party,
        say: mpsc::Sender<Vec<i16>>,
        publish: mpsc::Sender<Vec<u8>>,
    ) -> Result<Seat, OpusError> {
        let room = if call == 0 { Shared::default() } else { Arc::clone(lock(&self.calls).entry(call).or_default()) };
        {
            let mut r = lock(&room);
            r.mix.phone_joined(me)?;
            r.legs.insert(me, Ends { say, publish });
        }
        Ok(Seat { rooms: Arc::clone(self), call, me, room })
    }

    /// Calls with a mix now.
    pub fn calls(&self) -> usize {
        lock(&self.calls).len()
    }
}

/// A leg's place in its call's mix, given up when dropped.
#[derive(Debug)]
pub(super) struct Seat {
    rooms: Arc<Rooms>,
    call: u64,
    me: Party,
    room: Shared,
}

impl Seat {
    /// Whether this leg drives the mix (ticks it, feeds it the relay's packets).
    pub(super) fn drives(&self) -> bool {
        lock(&self.room).legs.keys().next() == Some(&self.me)
    }

    /// 20 ms from this leg's phone.
    pub(super) fn said(&self, frame: Vec<i16>) {
        lock(&self.room).mix.phone_said(self.me, frame);
    }

    /// A packet the relay sent this leg's peer, from participant `from`: mixed if this
    /// leg drives (every leg's peer gets the same).
    pub(super) fn packet(&self, from: Party, seq: u16, payload: Vec<u8>) -> Result<(), OpusError> {
        let mut room = lock(&self.room);
        if room.legs.keys().next() != Some(&self.me) {
            return Ok(());
        }
        room.mix.remote_packet(from, seq, payload)
    }

    /// Someone left the call.
    pub(super) fn left(&self, participant: Party) {
        let mut room = lock(&self.room);
        if !room.legs.contains_key(&participant) {
            room.mix.left(participant);
        }
    }

    /// One 20 ms of the mix: each phone's frame to its leg, each voice to its peer.
    pub(super) fn tick(&self, metrics: &PhoneMetrics) {
        let mut room = lock(&self.room);
        let started = std::time::Instant::now();
        let produced = room.mix.tick();
        metrics.mix.observe(started.elapsed().as_secs_f64());
        for (party, frame) in produced.to_phones {
            // A leg's queue is paced by its own clock; a frame that finds it full is late.
            if let Some(ends) = room.legs.get(&party) {
                let _ = ends.say.try_send(frame);
            }
        }
        for (party, packet) in produced.published {
            if let Some(ends) = room.legs.get(&party) {
                let _ = ends.publish.try_send(packet);
            }
        }
        for e in produced.errors {
            tracing::debug!(error = %e, "a call's mix for its phones");
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let empty = {
            let mut room = lock(&self.room);
            room.legs.remove(&self.me);
            room.mix.left(self.me);
            room.legs.is_empty()
        };
        if empty && self.call != 0 {
            let mut calls = lock(&self.rooms.calls);
            // Only if nobody entered meanwhile.
            if calls.get(&self.call).is_some_and(|r| Arc::ptr_eq(r, &self.room) && lock(r).legs.is_empty()) {
                calls.remove(&self.call);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_8K;
    use crate::opus::Voice;

    fn leg(rooms: &Arc<Rooms>, call: u64, me: Party) -> (Seat, mpsc::Receiver<Vec<i16>>, mpsc::Receiver<Vec<u8>>) {
        let (say, heard) = mpsc::channel(8);
        let (publish, voice) = mpsc::channel(8);
        (rooms.enter(call, me, say, publish).unwrap(), heard, voice)
    }

    #[test]
    fn the_phones_of_a_call_share_one_mix_driven_by_one_leg() {
        let rooms = Arc::new(Rooms::default());
        let metrics = PhoneMetrics::new();
        let (a, mut a_heard, mut a_voice) = leg(&rooms, 7, 3);
        let (b, mut b_heard, _b_voice) = leg(&rooms, 7, 5);
        let (other, _, _) = leg(&rooms, 8, 3);
        assert_eq!(rooms.calls(), 2);
        assert!(a.drives() && !b.drives() && other.drives());
        // A browser's packet reaches the mix through the driver only.
        let mut browser = Voice::new().unwrap();
        let packet = browser.encode(&vec![0; FRAME_8K]).unwrap();
        b.packet(1, 0, packet.clone()).unwrap();
        a.packet(1, 0, packet).unwrap();
        // Each phone hears the other's frame directly, not its own; each voice is Opus.
        a.said(vec![100; FRAME_8K]);
        b.said(vec![40; FRAME_8K]);
        a.tick(&metrics);
        assert_eq!(a_heard.try_recv().unwrap()[0], 40);
        assert_eq!(b_heard.try_recv().unwrap()[0], 100);
        assert!(!a_voice.try_recv().unwrap().is_empty());
        // The driver leaves: the next leg drives; the last one out closes the room.
        drop(a);
        assert!(b.drives());
        b.said(vec![40; FRAME_8K]);
        b.tick(&metrics);
        assert_eq!(b_heard.try_recv().unwrap()[0], 0, "nobody else speaks now");
        drop(b);
        assert_eq!(rooms.calls(), 1);
        drop(other);
        assert_eq!(rooms.calls(), 0);
    }

    #[test]
    fn a_call_without_a_number_is_a_mix_of_its_own() {
        let rooms = Arc::new(Rooms::default());
        let (a, _, _) = leg(&rooms, 0, 1);
        let (b, _, _) = leg(&rooms, 0, 2);
        assert!(a.drives() && b.drives());
        assert_eq!(rooms.calls(), 0);
    }
}
