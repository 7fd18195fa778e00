//! People who join a call from a link: residents and guests. A desk's invite makes a
//! single-use link bound to its call and to the kind of person it is for; whoever opens
//! it becomes a participant with a number of their own, and comes back after a drop with
//! the resume token they were given (within the grace). Links of a call die with it.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::{Link, Who};
use super::convert::err;
use super::{CallId, Core, Delivery, Endpoint, MemberKey, Output};

/// An open invite.
#[derive(Clone, Debug)]
struct Invite {
    call: CallId,
    party: p::Party,
    expires_at: d::Timestamp,
}

/// Open invites, and link participants by the hash of their resume token.
#[derive(Debug, Default)]
pub(super) struct Links {
    invites: HashMap<String, Invite>,
    by_resume: HashMap<String, MemberKey>,
}

impl Links {
    pub(super) fn invite(&mut self, token_hash: String, call: CallId, party: p::Party, expires_at: d::Timestamp) {
        self.invites.insert(token_hash, Invite { call, party, expires_at });
    }

    /// A call ended: its links stop working.
    pub(super) fn forget_call(&mut self, call: CallId) {
        self.invites.retain(|_, i| i.call != call);
        self.by_resume.retain(|_, m| m.call != call.0);
    }

    fn forget_member(&mut self, member: MemberKey) {
        self.by_resume.retain(|_, m| *m != member);
    }
}

/// Someone who came in from a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    /// How they are reached.
    pub member: MemberKey,
    /// The call's language (their page's).
    pub language: String,
    /// Resident or guest.
    pub party: p::Party,
    /// Whether they came back to their place.
    pub resumed: bool,
}

/// What the page needs before joining.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteInfo {
    /// The call's language.
    pub language: String,
    /// Resident or guest.
    pub party: p::Party,
    /// When the link stops working.
    pub expires_at: d::Timestamp,
}

fn refused() -> p::ProtocolError {
    err(p::ErrorCode::Unauthorized, "this link has been used, has expired, or its consultation has ended")
}

impl Core {
    /// An invite link's language, kind and expiry without using it up; `None` when it no
    /// longer works.
    pub fn peek_invite(&self, token_hash: &str, now: d::Timestamp) -> Option<InviteInfo> {
        let invite = self.links.invites.get(token_hash).filter(|i| i.expires_at > now)?;
        let call = self.calls.get(&invite.call).filter(|c| c.answered())?;
        Some(InviteInfo { language: call.language.clone(), party: invite.party, expires_at: invite.expires_at })
    }

    pub(super) fn join(
        &mut self,
        now: d::Timestamp,
        token_hash: &str,
        resume_hash: Option<String>,
        new_resume_hash: String,
    ) -> Result<Joined, p::ProtocolError> {
        // Someone coming back: their resume token names their place (the link is used).
        if let Some(member) = resume_hash.and_then(|h| self.links.by_resume.remove(&h)) {
            let call = d::RequestId(member.call);
            let Some(c) = self.calls.get_mut(&call) else { return Err(refused()) };
            let Some(participant) = c.participant_mut(member.participant) else { return Err(refused()) };
            let was_away = participant.away;
            participant.away = false;
            if let Who::Link(link) = &mut participant.who {
                link.resume_hash = new_resume_hash.clone();
                link.away_until = None;
            }
            let party = participant.party;
            let language = c.language.clone();
            self.links.by_resume.insert(new_resume_hash, member);
            if was_away {
                self.tell_call(call, member.participant, None);
            }
            self.welcome_member(call, member);
            return Ok(Joined { member, language, party, resumed: true });
        }
        // Single use: the invite is taken out whatever happens next.
        let invite = self.links.invites.remove(token_hash).ok_or_else(refused)?;
        let call = invite.call;
        let Some(c) = self.calls.get_mut(&call).filter(|c| c.answered() && invite.expires_at > now) else {
            return Err(refused());
        };
        let link = Link { resume_hash: new_resume_hash.clone(), away_until: None };
        let participant = c.add(invite.party, Who::Link(link));
        let language = c.language.clone();
        let member = MemberKey { call: call.0, participant };
        self.links.by_resume.insert(new_resume_hash, member);
        self.tell_call(call, participant, None);
        self.welcome_member(call, member);
        Ok(Joined { member, language, party: invite.party, resumed: false })
    }

    /// Tell a link participant where they are: the call's language and who is in it.
    fn welcome_member(&mut self, call: CallId, member: MemberKey) {
        let Some(c) = self.calls.get(&call) else { return };
        let Some(me) = c.participant(member.participant) else { return };
        let event = p::ResidentEvent::Joined {
            language: c.language.clone(),
            party: me.party,
            you: member.participant,
            participants: c.roster(),
        };
        self.deliver(Delivery::Member(member, event));
    }

    pub(super) fn member_command(
        &mut self,
        _now: d::Timestamp,
        member: MemberKey,
        cmd: p::ResidentCommand,
    ) -> Result<(), p::ProtocolError> {
        let call = d::RequestId(member.call);
        if self.calls.get(&call).is_none_or(|c| c.participant(member.participant).is_none()) {
            return Err(err(p::ErrorCode::NotAllowed, "not in a call"));
        }
        match cmd {
            p::ResidentCommand::Leave {} => {
                // It hears first; then its connection is let go.
                self.deliver(Delivery::Member(member, p::ResidentEvent::CallEnded));
                self.remove_member(member, p::LeftReason::Left);
                Ok(())
            }
            p::ResidentCommand::Ping {} => {
                self.deliver(Delivery::Member(member, p::ResidentEvent::Pong));
                Ok(())
            }
            p::ResidentCommand::Sdp { description } => self.sdp_of(call, member.participant, description),
            p::ResidentCommand::Ice { .. } => self.ice(),
            p::ResidentCommand::Document { document } => {
                let route = self.document_route_of(call, member.participant, document)?;
                for delivery in route.to.into_iter().chain([route.ack]) {
                    self.deliver(delivery);
                }
                Ok(())
            }
        }
    }

    /// A link participant's connection dropped: their place is held for the grace.
    pub(super) fn member_dropped(&mut self, now: d::Timestamp, member: MemberKey) {
        let call = d::RequestId(member.call);
        let grace = self.settings.grace;
        let Some(participant) = self.calls.get_mut(&call).and_then(|c| c.participant_mut(member.participant)) else {
            return;
        };
        if participant.away {
            return;
        }
        participant.away = true;
        if let Who::Link(link) = &mut participant.who {
            link.away_until = Some(now + grace);
        }
        self.tell_call(call, member.participant, Some(p::LeftReason::Dropped));
    }

    /// Take a link participant out of their call: their media goes, the others hear.
    fn remove_member(&mut self, member: MemberKey, reason: p::LeftReason) {
        let call = d::RequestId(member.call);
        self.tell_call(call, member.participant, Some(reason));
        self.remove_legs_of_participant(call, member.participant);
        if let Some(c) = self.calls.get_mut(&call) {
            c.remove(member.participant);
        }
        self.links.forget_member(member);
        self.out(Output::Release(Endpoint::Member(member)));
    }

    /// Link participants away longer than the grace leave; invites past their time go.
    pub(super) fn expire_links(&mut self, now: d::Timestamp) {
        let gone: Vec<MemberKey> = self
            .calls
            .values()
            .flat_map(|c| {
                c.participants.iter().filter_map(move |p| match &p.who {
                    Who::Link(Link { away_until: Some(until), .. }) if *until <= now => {
                        Some(MemberKey { call: c.id.0, participant: p.id })
                    }
                    _ => None,
                })
            })
            .collect();
        for member in gone {
            self.remove_member(member, p::LeftReason::Left);
        }
        self.links.invites.retain(|_, i| i.expires_at > now);
    }
}
