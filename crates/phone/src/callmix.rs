//! One call's sound, for its phone legs: every 20 ms, each browser participant's Opus is
//! taken from its reorder buffer and decoded **once** (concealed when lost), each phone's
//! next frame is added, and each phone hears the sum less its own voice (the N−1 mix).
//! Phones and browsers are numbered as the call numbers its participants: a phone's own
//! voice coming back through the relay is not a browser's, and is not mixed twice.
//! Each phone's voice is encoded to Opus, once, to enter the call as its own track, so
//! browsers hear a phone like any participant (LiveKit SIP and Jigasi do the same).

use std::collections::{BTreeMap, VecDeque};

use crate::FRAME_8K;
use crate::jitter::{Jitter, Tick};
use crate::mixer::Mix;
use crate::opus::{Listener, OpusError, Voice};

/// A participant's number in the call.
pub type Party = u32;

/// A browser participant's audio as the mix sees it.
#[derive(Debug)]
struct Remote {
    jitter: Jitter<Vec<u8>>,
    listener: Listener,
    pcm: Vec<i16>,
}

/// Frames a phone may get ahead of the tick by: phones' clocks differ a little, and one
/// of them (or a timer) drives the tick; more than this and the oldest is dropped.
const AHEAD: usize = 3;

/// A phone leg: what it said and the tick has not taken yet, and its voice's encoder.
#[derive(Debug)]
struct Phone {
    said: VecDeque<Vec<i16>>,
    voice: Voice,
}

/// What one tick produced.
#[derive(Debug, Default)]
pub struct Produced {
    /// For each phone, 20 ms to play to it.
    pub to_phones: Vec<(Party, Vec<i16>)>,
    /// For each phone that spoke this tick, its voice as one Opus packet.
    pub published: Vec<(Party, Vec<u8>)>,
    /// Opus packets that did not decode (concealed) or frames that did not encode.
    pub errors: Vec<OpusError>,
}

/// One call's mix.
#[derive(Debug)]
pub struct CallMix {
    remotes: BTreeMap<Party, Remote>,
    phones: BTreeMap<Party, Phone>,
    mix: Mix,
    out: Vec<i16>,
}

impl Default for CallMix {
    fn default() -> Self {
        CallMix { remotes: BTreeMap::new(), phones: BTreeMap::new(), mix: Mix::new(FRAME_8K), out: Vec::new() }
    }
}

impl CallMix {
    /// An Opus packet from a browser participant (its first makes it a source).
    /// A packet from one of this mix's phones (its voice, as the relay forwards it) is
    /// ignored: its sound is in the mix already.
    pub fn remote_packet(&mut self, from: Party, seq: u16, payload: Vec<u8>) -> Result<(), OpusError> {
        if self.phones.contains_key(&from) {
            return Ok(());
        }
        let remote = match self.remotes.entry(from) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(Remote { jitter: Jitter::new(3, 6), listener: Listener::new()?, pcm: Vec::new() })
            }
        };
        remote.jitter.push(seq, payload);
        Ok(())
    }

    /// A participant left: its sound stops.
    pub fn left(&mut self, party: Party) {
        self.remotes.remove(&party);
        self.phones.remove(&party);
    }

    /// A phone leg joined the call.
    pub fn phone_joined(&mut self, party: Party) -> Result<(), OpusError> {
        if let std::collections::btree_map::Entry::Vacant(e) = self.phones.entry(party) {
            e.insert(Phone { said: VecDeque::new(), voice: Voice::new()? });
            // Its voice may have reached the mix through the relay before it said who it was.
            self.remotes.remove(&party);
        }
        Ok(())
    }

    /// What a phone said in the next 20 ms.
    pub fn phone_said(&mut self, party: Party, frame: Vec<i16>) {
        if let Some(p) = self.phones.get_mut(&party) {
            if p.said.len() == AHEAD {
                p.said.pop_front();
            }
            p.said.push_back(frame);
        }
    }

    /// Phones in the call.
    pub fn phones(&self) -> usize {
        self.phones.len()
    }

    /// The 20 ms tick.
    pub fn tick(&mut self) -> Produced {
        let mut produced = Produced::default();
        self.mix.clear();
        for remote in self.remotes.values_mut() {
            let packet = match remote.jitter.tick() {
                Tick::Frame(p) => Some(p),
                Tick::Lost => None,
                // Not started, or run dry: nothing from this one (no concealment of silence).
                Tick::Silent => continue,
            };
            if let Err(e) = remote.listener.decode(packet.as_deref(), &mut remote.pcm) {
                produced.errors.push(e);
            }
            self.mix.add(&remote.pcm);
        }
        for phone in self.phones.values() {
            if let Some(said) = phone.said.front() {
                self.mix.add(said);
            }
        }
        for (party, phone) in &mut self.phones {
            self.mix.without(phone.said.front().map(Vec::as_slice), &mut self.out);
            produced.to_phones.push((*party, self.out.clone()));
            if let Some(said) = phone.said.pop_front() {
                match phone.voice.encode(&said) {
                    Ok(packet) => produced.published.push((*party, packet)),
                    Err(e) => produced.errors.push(e),
                }
            }
        }
        produced
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::opus::tests::{share, tone};

    /// Two browsers (440 and 660 Hz, as Opus) and two phones (1,000 and 1,500 Hz): each
    /// phone hears the browsers and the other phone, not itself; each phone's voice comes
    /// out as Opus that decodes to its own tone.
    #[test]
    fn each_phone_hears_everyone_else_and_speaks_as_opus() {
        let mut call = CallMix::default();
        let (mut a, mut b) = (Voice::new().unwrap(), Voice::new().unwrap());
        call.phone_joined(10).unwrap();
        call.phone_joined(11).unwrap();
        let mut heard: BTreeMap<Party, Vec<i16>> = BTreeMap::new();
        let mut published: BTreeMap<Party, Vec<Vec<u8>>> = BTreeMap::new();
        for n in 0..60u32 {
            call.remote_packet(1, n as u16, a.encode(&tone(440.0, n)).unwrap()).unwrap();
            call.remote_packet(2, n as u16, b.encode(&tone(660.0, n)).unwrap()).unwrap();
            call.phone_said(10, tone(1000.0, n));
            call.phone_said(11, tone(1500.0, n));
            let p = call.tick();
            assert!(p.errors.is_empty());
            if n >= 10 {
                for (party, frame) in p.to_phones {
                    heard.entry(party).or_default().extend(frame);
                }
            }
            for (party, packet) in p.published {
                published.entry(party).or_default().push(packet);
            }
        }
        let ten = &heard[&10];
        assert!(
            share(ten, 440.0) > 0.15 && share(ten, 660.0) > 0.15 && share(ten, 1500.0) > 0.15,
            "phone 10 hears the others"
        );
        assert!(share(ten, 1000.0) < 0.02, "and not itself: {:.3}", share(ten, 1000.0));
        let eleven = &heard[&11];
        assert!(share(eleven, 1000.0) > 0.15 && share(eleven, 1500.0) < 0.02);
        // Phone 10's voice, decoded as a browser would.
        let mut listener = Listener::new().unwrap();
        let (mut pcm, mut voice) = (Vec::new(), Vec::new());
        for packet in &published[&10] {
            listener.decode(Some(packet), &mut pcm).unwrap();
            voice.extend_from_slice(&pcm);
        }
        assert_eq!(published[&10].len(), 60);
        assert!(share(&voice[800..], 1000.0) > 0.9);
    }

    /// A phone's own voice forwarded back by the relay is not mixed again; a phone a
    /// little ahead of the tick loses nothing, one far ahead loses its oldest frames.
    #[test]
    fn a_phones_voice_through_the_relay_is_not_mixed_twice_and_frames_queue_a_little() {
        let mut call = CallMix::default();
        let mut echo = Voice::new().unwrap();
        call.phone_joined(10).unwrap();
        call.phone_joined(11).unwrap();
        let mut heard = Vec::new();
        for n in 0..40u32 {
            // Phone 11's tone comes back as Opus under its own number: ignored.
            call.remote_packet(11, n as u16, echo.encode(&tone(1500.0, n)).unwrap()).unwrap();
            call.phone_said(11, tone(1000.0, n));
            heard.extend(call.tick().to_phones.into_iter().find(|(p, _)| *p == 10).unwrap().1);
        }
        assert!(share(&heard[1600..], 1000.0) > 0.9, "phone 10 hears phone 11's own frames");
        assert!(share(&heard[1600..], 1500.0) < 0.02, "and not its voice through the relay");
        // Two frames ahead: both are heard, one per tick.
        call.phone_said(11, vec![100; FRAME_8K]);
        call.phone_said(11, vec![200; FRAME_8K]);
        let first = call.tick().to_phones.into_iter().find(|(p, _)| *p == 10).unwrap().1;
        let second = call.tick().to_phones.into_iter().find(|(p, _)| *p == 10).unwrap().1;
        assert_eq!((first[0], second[0]), (100, 200));
        // Five ahead: the two oldest are dropped.
        for v in 1..=5 {
            call.phone_said(11, vec![v; FRAME_8K]);
        }
        let got: Vec<i16> =
            (0..4).map(|_| call.tick().to_phones.into_iter().find(|(p, _)| *p == 10).unwrap().1[0]).collect();
        assert_eq!(got, [3, 4, 5, 0]);
    }

    #[test]
    fn someone_who_left_is_no_longer_heard_and_silence_costs_nothing() {
        let mut call = CallMix::default();
        let mut a = Voice::new().unwrap();
        call.phone_joined(10).unwrap();
        for n in 0..10u32 {
            call.remote_packet(1, n as u16, a.encode(&tone(440.0, n)).unwrap()).unwrap();
            call.tick();
        }
        call.left(1);
        let p = call.tick();
        assert_eq!(p.to_phones, vec![(10, vec![0; FRAME_8K])]);
        assert!(p.published.is_empty(), "a phone that said nothing this tick publishes nothing");
        call.left(10);
        assert_eq!(call.phones(), 0);
        assert!(call.tick().to_phones.is_empty());
    }

    #[test]
    fn a_packet_that_does_not_decode_is_concealed_and_counted() {
        let mut call = CallMix::default();
        call.phone_joined(10).unwrap();
        for n in 0..4u16 {
            call.remote_packet(1, n, vec![0x03, 0xff]).unwrap();
        }
        let p = call.tick();
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.to_phones[0].1.len(), FRAME_8K);
    }
}
