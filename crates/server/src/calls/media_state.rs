//! What each participant's microphone and camera are doing, as they say with
//! `media_state`: kept on the call's roster (so whoever joins later sees it) and told to
//! everyone else, so every screen can mark a tile muted or without video instead of
//! leaving people to wonder why they hear or see nothing.

use kakehashi_protocol as p;

use super::call::Who;
use super::convert::err;
use super::{CallId, Core, Delivery, Endpoint};

impl Core {
    /// Participant `who` of `call` says its microphone is `muted` and its camera
    /// `camera_off`.
    pub(super) fn media_state(
        &mut self,
        call: CallId,
        who: &Who,
        muted: bool,
        camera_off: bool,
    ) -> Result<(), p::ProtocolError> {
        let c = self.calls.get_mut(&call).ok_or_else(|| err(p::ErrorCode::NotFound, "no such call"))?;
        let number = match who {
            Who::Link(_) => None,
            other => c.number_of(other),
        };
        let Some(number) = number else { return Err(err(p::ErrorCode::NotAllowed, "not in this call")) };
        self.media_state_of(call, number, muted, camera_off);
        Ok(())
    }

    /// The same for participant number `participant` (someone from a link).
    pub(super) fn media_state_of(&mut self, call: CallId, participant: u32, muted: bool, camera_off: bool) {
        let Some(c) = self.calls.get_mut(&call) else { return };
        let Some(subject) = c.participant_mut(participant) else { return };
        if (subject.muted, subject.camera_off) == (muted, camera_off) {
            return;
        }
        subject.muted = muted;
        subject.camera_off = camera_off;
        let others: Vec<Endpoint> =
            c.participants.iter().filter(|x| x.id != participant).map(|x| Self::endpoint(call, x)).collect();
        for to in others {
            let n = call.0;
            self.deliver(match to {
                Endpoint::Desk(d) => {
                    Delivery::Desk(d, p::DeskEvent::ParticipantMedia { call: n, participant, muted, camera_off })
                }
                Endpoint::Interpreter(i) => Delivery::Interpreter(
                    i,
                    p::InterpreterEvent::ParticipantMedia { call: n, participant, muted, camera_off },
                ),
                Endpoint::Member(m) => {
                    Delivery::Member(m, p::ResidentEvent::ParticipantMedia { participant, muted, camera_off })
                }
            });
        }
    }
}
