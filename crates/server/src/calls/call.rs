//! One request and the call it becomes: who asked, what for, the engine's facts about it
//! (offers, wait, answer), and who takes part, each with a number of their own.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use kakehashi_relay::{LegId, LegStats};
use std::collections::HashMap;

/// A call's number: the number of the request it answers.
pub type CallId = d::RequestId;

/// Where a participant joined from a link is reached: their call and their number in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct MemberKey {
    /// The call.
    pub call: u64,
    /// Their number in the call.
    pub participant: u32,
}

/// Who a participant is, for reaching them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Who {
    /// The desk that asked (its connection spans its calls).
    Desk(i64),
    /// The interpreter who answered.
    Interpreter(i64),
    /// Someone who joined from a link: reached as a member of this call only.
    Link(Link),
}

/// A link participant's hold on their place.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    /// The hash of the token they resume with.
    pub resume_hash: String,
    /// Their connection dropped: their place is held until then.
    pub away_until: Option<d::Timestamp>,
}

/// Someone in a call.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Participant {
    /// Their number, stable across reconnections (the relay's stream id is `p<id>`).
    pub id: u32,
    /// Their kind.
    pub party: p::Party,
    /// How they are reached.
    pub who: Who,
    /// Their connection is down; they may come back.
    pub away: bool,
    /// Their microphone is off (as they said).
    pub muted: bool,
    /// Their camera is off (as they said).
    pub camera_off: bool,
}

impl Participant {
    /// As the protocol lists them.
    pub fn wire(&self) -> p::Participant {
        p::Participant {
            id: self.id,
            party: self.party,
            away: self.away,
            muted: self.muted,
            camera_off: self.camera_off,
        }
    }
}

/// What the engine said when an interpreter answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// Who.
    pub interpreter: i64,
    /// When.
    pub at: d::Timestamp,
}

/// A call's media quality so far: each leg's latest statistics (a leg replaced by a
/// reconnect keeps its last), and the reconnections.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Quality {
    /// Latest statistics per leg.
    pub legs: HashMap<LegId, LegStats>,
    /// Sum of round-trip samples, seconds.
    pub rtt_sum: f64,
    /// Round-trip samples.
    pub rtt_samples: u32,
    /// Participants' media reconnections.
    pub reconnects: i64,
}

impl Quality {
    /// (loss fraction, mean round trip ms, reconnects) for the call record; `None`s for
    /// a call without media.
    pub fn summary(&self) -> (Option<f64>, Option<f64>, Option<i64>) {
        if self.legs.is_empty() {
            return (None, None, None);
        }
        let (mut lost, mut expected) = (0u64, 0u64);
        for s in self.legs.values() {
            for m in [&s.audio, &s.video] {
                lost += m.packets_lost + m.remote_packets_lost;
                expected += m.packets_received + m.packets_lost + m.packets_sent;
            }
        }
        let loss = if expected == 0 { 0.0 } else { lost as f64 / expected as f64 };
        let rtt = (self.rtt_samples > 0).then(|| self.rtt_sum / f64::from(self.rtt_samples) * 1000.0);
        (Some(loss), rtt, Some(self.reconnects))
    }
}

/// A request, and once answered, its call.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Call {
    /// Its number.
    pub id: CallId,
    /// The tenant.
    pub tenant: i64,
    /// The desk that asked.
    pub desk: i64,
    /// The resident's language (BCP 47).
    pub language: String,
    /// Video, audio or phone.
    pub modality: d::Modality,
    /// Subject matter, if given.
    pub speciality: Option<d::Speciality>,
    /// Urgent.
    pub urgent: bool,
    /// When asked.
    pub requested_at: d::Timestamp,
    /// When first offered to an interpreter.
    pub offered_at: Option<d::Timestamp>,
    /// Offers made so far (the engine's count once it ends).
    pub offers: u32,
    /// The answer, once there is one.
    pub answer: Option<Answer>,
    /// The last position the desk was told: (position, estimate, ringing).
    pub last_position: Option<(u32, p::WaitEstimate, bool)>,
    /// Everyone in the call (the desk from the start, the interpreter once answered).
    pub participants: Vec<Participant>,
    next_participant: u32,
    /// Media quality so far.
    pub quality: Quality,
    /// Who joined from elsewhere, counted for the record.
    pub remote: Remote,
    /// The booking whose slot this is, if it is one.
    pub booking: Option<i64>,
}

/// How many joined a call from elsewhere, by kind (a seat counts once, however often
/// its person comes back).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Remote {
    /// Residents by link.
    pub residents: i64,
    /// Guests by link.
    pub guests: i64,
    /// Phone legs.
    pub phones: i64,
}

impl Call {
    /// A new request: the desk is its first participant.
    pub fn new(id: CallId, tenant: i64, desk: i64, spec: &d::RequestSpec, now: d::Timestamp) -> Call {
        let mut call = Call {
            id,
            tenant,
            desk,
            language: spec.language.tag().to_string(),
            modality: spec.modality,
            speciality: spec.speciality,
            urgent: spec.priority == d::Priority::Urgent,
            requested_at: now,
            offered_at: None,
            offers: 0,
            answer: None,
            last_position: None,
            participants: Vec::new(),
            next_participant: 0,
            quality: Quality::default(),
            remote: Remote::default(),
            booking: None,
        };
        call.add(p::Party::Desk, Who::Desk(desk));
        call
    }

    /// Whether an interpreter has answered.
    pub fn answered(&self) -> bool {
        self.answer.is_some()
    }

    /// Add a participant with the next number; returns it.
    pub fn add(&mut self, party: p::Party, who: Who) -> u32 {
        let id = self.next_participant;
        self.next_participant += 1;
        match party {
            p::Party::Resident => self.remote.residents += 1,
            p::Party::Guest => self.remote.guests += 1,
            p::Party::Phone => self.remote.phones += 1,
            p::Party::Desk | p::Party::Interpreter => {}
        }
        self.participants.push(Participant { id, party, who, away: false, muted: false, camera_off: false });
        id
    }

    /// Someone who left comes back to their own number (a link's seat); `false` if that
    /// number is in the call already or was never given.
    pub fn readmit(&mut self, id: u32, party: p::Party, who: Who) -> bool {
        if id >= self.next_participant || self.participant(id).is_some() {
            return false;
        }
        self.participants.push(Participant { id, party, who, away: false, muted: false, camera_off: false });
        true
    }

    /// A participant by number.
    pub fn participant(&self, id: u32) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    /// A participant by number, to change.
    pub fn participant_mut(&mut self, id: u32) -> Option<&mut Participant> {
        self.participants.iter_mut().find(|p| p.id == id)
    }

    /// Take a participant out of the call.
    pub fn remove(&mut self, id: u32) -> Option<Participant> {
        let at = self.participants.iter().position(|p| p.id == id)?;
        Some(self.participants.remove(at))
    }

    /// The desk's or the interpreter's number in this call.
    pub fn number_of(&self, who: &Who) -> Option<u32> {
        self.participants.iter().find(|p| &p.who == who).map(|p| p.id)
    }

    /// Everyone as the protocol lists them.
    pub fn roster(&self) -> Vec<p::Participant> {
        self.participants.iter().map(Participant::wire).collect()
    }

    /// The interpreter who answered, if any.
    pub fn interpreter(&self) -> Option<i64> {
        self.answer.map(|a| a.interpreter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participants_are_numbered_in_order_and_numbers_are_never_reused() {
        let spec = d::RequestSpec::new(d::TenantId(1), d::DeskId(2), d::LanguageId::parse("vi").unwrap());
        let mut call = Call::new(d::RequestId(7), 1, 2, &spec, d::Timestamp::from_millis(0));
        assert_eq!(call.number_of(&Who::Desk(2)), Some(0));
        assert_eq!(call.add(p::Party::Interpreter, Who::Interpreter(9)), 1);
        let link = || Who::Link(Link { resume_hash: "h".into(), away_until: None });
        assert_eq!(call.add(p::Party::Resident, link()), 2);
        assert!(call.remove(2).is_some());
        assert_eq!(call.add(p::Party::Guest, link()), 3, "a number is never given twice");
        let roster: Vec<(u32, p::Party)> = call.roster().iter().map(|p| (p.id, p.party)).collect();
        assert_eq!(roster, [(0, p::Party::Desk), (1, p::Party::Interpreter), (3, p::Party::Guest)]);
    }
}
