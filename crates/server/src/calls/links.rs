//! People who join a call from a link: residents and guests. A desk's invite makes a
//! link bound to its call and to the kind of person it is for; whoever opens it first
//! becomes a participant with a number of their own, and the link is theirs from then
//! on: a *seat*. They come back after a drop with the resume token they were given
//! (within the grace), or with the link itself while the call lives: after Leave by
//! mistake, a killed tab, an outage longer than the grace. One connection holds a seat
//! at a time: opening the link again takes the seat over (the old connection closes as
//! replaced). An unused link expires; a seat lives as long as its call.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::{Link, Who};
use super::convert::err;
use super::{CallId, Core, Delivery, Endpoint, MemberKey, Output};

/// An open invite.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Invite {
    call: CallId,
    party: p::Party,
    expires_at: d::Timestamp,
}

/// A used link: whose place it is.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
struct Seat {
    member: MemberKey,
    party: p::Party,
    /// When the link was due to expire unused (the page shows it).
    expires_at: d::Timestamp,
}

/// Open invites, used links (seats), and link participants by the hash of their resume
/// token.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Links {
    invites: HashMap<String, Invite>,
    seats: HashMap<String, Seat>,
    by_resume: HashMap<String, MemberKey>,
    /// Phone invites' PINs, to the hash of their invite's token.
    pub(super) pins: HashMap<String, String>,
    /// Calls placed by the gateway for a desk, by the order's number, until answered
    /// (their invite used) or failed.
    pub(super) dials: HashMap<u64, Dialled>,
    /// The last order's number.
    pub(super) last_dial: u64,
}

/// A call the gateway was asked to place.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Dialled {
    /// The desk that asked.
    pub(super) desk: i64,
    /// Its call.
    pub(super) call: CallId,
    /// The hash of the seat's token (its invite).
    pub(super) token_hash: String,
}

impl Links {
    pub(super) fn invite(&mut self, token_hash: String, call: CallId, party: p::Party, expires_at: d::Timestamp) {
        self.invites.insert(token_hash, Invite { call, party, expires_at });
    }

    /// The call of an unused invite that has not expired.
    pub(super) fn invite_call(&self, token_hash: &str, now: d::Timestamp) -> Option<CallId> {
        self.invites.get(token_hash).filter(|i| i.expires_at > now).map(|i| i.call)
    }

    /// Take back an unused invite.
    pub(super) fn drop_invite(&mut self, token_hash: &str) {
        self.invites.remove(token_hash);
    }

    /// A phone invite's PIN; false if an open invite has it already.
    pub(super) fn pin(&mut self, pin: String, token_hash: String) -> bool {
        if self.pins.contains_key(&pin) {
            return false;
        }
        self.pins.insert(pin, token_hash);
        true
    }

    /// A call ended: its links stop working.
    pub(super) fn forget_call(&mut self, call: CallId) {
        self.invites.retain(|_, i| i.call != call);
        self.seats.retain(|_, s| s.member.call != call.0);
        self.by_resume.retain(|_, m| m.call != call.0);
        self.forget_pins();
    }

    /// PINs and dials whose invite is gone (used up, expired, its call ended).
    fn forget_pins(&mut self) {
        let invites = &self.invites;
        self.pins.retain(|_, hash| invites.contains_key(hash));
        self.dials.retain(|_, d| invites.contains_key(&d.token_hash));
    }

    /// Take back a dial's invite (the call was not answered).
    pub(super) fn dial_failed(&mut self, dial: u64) -> Option<Dialled> {
        let d = self.dials.remove(&dial)?;
        self.invites.remove(&d.token_hash);
        Some(d)
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

/// Who is inviting: the call's tenant and desk (the page names them, so that a link from
/// a stranger does not look like phishing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inviter {
    /// The tenant.
    pub tenant: i64,
    /// The desk.
    pub desk: i64,
}

/// What the page needs before joining.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteInfo {
    /// The call's language.
    pub language: String,
    /// Resident or guest.
    pub party: p::Party,
    /// When the link stops working if unused (once used, it works while the call lives).
    pub expires_at: d::Timestamp,
    /// Who is inviting.
    pub from: Inviter,
    /// Whether it has been used (its seat can be taken back).
    pub used: bool,
    /// A booking's link whose consultation has not begun (the interpreter has not
    /// answered): when its slot starts. The page shows it and waits; opening the link
    /// then is refused without using it up.
    pub starts_at: Option<d::Timestamp>,
    /// A standing link's request still waiting for an interpreter: how many wait before
    /// it. The page shows it and asks again; opening the link then is refused without
    /// using it up.
    pub waiting: Option<u32>,
}

fn refused() -> p::ProtocolError {
    err(p::ErrorCode::Unauthorized, "this link has been used, has expired, or its consultation has ended")
}

impl Core {
    /// The gateway redeems a PIN a caller keyed: the seat's invite gets a fresh token (the
    /// PIN is used up), returned with the call's language; `None` when no open invite
    /// has that PIN.
    pub(super) fn redeem_pin(&mut self, pin: &str, now: d::Timestamp) -> Option<(String, String)> {
        let hash = self.links.pins.remove(pin)?;
        let invite = self.links.invites.remove(&hash).filter(|i| i.expires_at > now)?;
        let language = self.calls.get(&invite.call).filter(|c| c.answered())?.language.clone();
        let token = self.tokens.token();
        self.links.invites.insert(crate::auth::hash_token(&token), invite);
        Some((token, language))
    }

    /// An invite link's language, kind and expiry without using it up; `None` when it no
    /// longer works.
    pub fn peek_invite(&self, token_hash: &str, now: d::Timestamp) -> Option<InviteInfo> {
        if let Some(seat) = self.links.seats.get(token_hash) {
            let call = self.calls.get(&d::RequestId(seat.member.call))?;
            return Some(InviteInfo {
                language: call.language.clone(),
                party: seat.party,
                expires_at: seat.expires_at,
                from: Inviter { tenant: call.tenant, desk: call.desk },
                used: true,
                starts_at: None,
                waiting: None,
            });
        }
        if let Some(info) = self.peek_booking_link(token_hash, now) {
            return Some(info);
        }
        let invite = self.links.invites.get(token_hash).filter(|i| i.expires_at > now)?;
        let waiting = self.online_waiting(invite.call);
        let call = self.calls.get(&invite.call).filter(|c| c.answered() || waiting.is_some())?;
        Some(InviteInfo {
            language: call.language.clone(),
            party: invite.party,
            expires_at: invite.expires_at,
            from: Inviter { tenant: call.tenant, desk: call.desk },
            used: false,
            starts_at: None,
            waiting,
        })
    }

    pub(super) fn join(
        &mut self,
        now: d::Timestamp,
        token_hash: &str,
        resume_hash: Option<String>,
        new_resume_hash: String,
    ) -> Result<Joined, p::ProtocolError> {
        // Someone coming back: their resume token names their place (the link is used).
        let reconnecting = resume_hash.is_some();
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
        // A used link: its seat, taken back.
        if let Some(seat) = self.links.seats.get(token_hash).copied() {
            return self.take_seat(seat, new_resume_hash, reconnecting);
        }
        // A booking's link before its consultation has begun: kept, and the page waits.
        if let Some(at) = self.booking_not_begun(token_hash, now) {
            return Err(err(
                p::ErrorCode::NotBegun,
                format!("the consultation has not begun; it is booked for {}", super::convert::rfc3339(at)),
            ));
        }
        // A standing link's request still waiting: kept, and the page waits.
        if let Some(ahead) = self.links.invites.get(token_hash).and_then(|i| self.online_waiting(i.call)) {
            return Err(err(
                p::ErrorCode::NotBegun,
                format!("no interpreter has answered yet ({ahead} waiting before you)"),
            ));
        }
        // First use: the invite becomes a seat, whatever happens next.
        let invite = self.links.invites.remove(token_hash).ok_or_else(refused)?;
        let call = invite.call;
        let Some(c) = self.calls.get_mut(&call).filter(|c| c.answered() && invite.expires_at > now) else {
            return Err(refused());
        };
        let link = Link { resume_hash: new_resume_hash.clone(), away_until: None };
        let participant = c.add(invite.party, Who::Link(link));
        let language = c.language.clone();
        let member = MemberKey { call: call.0, participant };
        self.links
            .seats
            .insert(token_hash.to_string(), Seat { member, party: invite.party, expires_at: invite.expires_at });
        self.links.by_resume.insert(new_resume_hash, member);
        self.tell_call(call, participant, None);
        self.welcome_member(call, member);
        Ok(Joined { member, language, party: invite.party, resumed: false })
    }

    /// Someone opened their used link again: back to their place, whether they are away,
    /// gone (left, or away past the grace), or still connected elsewhere (that connection
    /// is replaced). A page *reconnecting* on its own with a resume token that is no
    /// longer the seat's does not take it from a connected screen: the person opened the
    /// link elsewhere, and the two must not take it from each other in turn.
    fn take_seat(
        &mut self,
        seat: Seat,
        new_resume_hash: String,
        reconnecting: bool,
    ) -> Result<Joined, p::ProtocolError> {
        let member = seat.member;
        let call = d::RequestId(member.call);
        let Some(c) = self.calls.get_mut(&call) else { return Err(refused()) };
        if reconnecting && c.participant(member.participant).is_some_and(|p| !p.away) {
            return Err(err(p::ErrorCode::NotAllowed, "this link is open on another screen"));
        }
        let link = Link { resume_hash: new_resume_hash.clone(), away_until: None };
        let told = match c.participant_mut(member.participant) {
            Some(participant) => {
                let was_away = participant.away;
                participant.away = false;
                participant.who = Who::Link(link);
                was_away
            }
            None => {
                if !c.readmit(member.participant, seat.party, Who::Link(link)) {
                    return Err(refused());
                }
                true
            }
        };
        let language = c.language.clone();
        self.links.forget_member(member);
        self.links.by_resume.insert(new_resume_hash, member);
        if told {
            self.tell_call(call, member.participant, None);
        }
        self.welcome_member(call, member);
        Ok(Joined { member, language, party: seat.party, resumed: true })
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
            call: member.call,
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
            p::ResidentCommand::MediaState { muted, camera_off } => {
                self.media_state_of(call, member.participant, muted, camera_off);
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
        self.links.forget_pins();
    }
}
