//! What a desk asks: an interpreter, a cancel, an end, an outcome, a link for someone
//! elsewhere, media, documents. Every check comes before the first change: a refused
//! command changes nothing.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::{Call, Who};
use super::convert::{engine_error, err, id32, modality_in, speciality_in};
use super::{CallId, Core, Delivery, Endpoint};

impl Core {
    pub(super) fn desk_command(
        &mut self,
        now: d::Timestamp,
        desk: i64,
        tenant: i64,
        cmd: p::DeskCommand,
    ) -> Result<(), p::ProtocolError> {
        match cmd {
            p::DeskCommand::RequestInterpreter { language, modality, speciality, urgent, preferred_interpreter } => {
                self.request(now, desk, tenant, &language, modality, speciality, urgent, preferred_interpreter)
            }
            p::DeskCommand::CancelRequest { request } => {
                let id = self.own_request(desk, request)?;
                self.engine.cancel(now, id).map_err(engine_error)
            }
            p::DeskCommand::EndCall { call } => {
                let id = self.own_request(desk, call)?;
                self.end_call(now, id, p::Party::Desk)
            }
            p::DeskCommand::RecordOutcome { call, outcome, topics, residence, referral, note } => {
                // The edge sealed the note before the command got here (ADR 0017).
                let note = note.map(|n| n.0);
                let said = super::records::Said { outcome, topics, residence, referral, note };
                self.record_outcome(desk, tenant, call, said)
            }
            p::DeskCommand::InviteResident { call } => self.invite(now, desk, call, p::Party::Resident),
            p::DeskCommand::Invite { call, party } => self.invite(now, desk, call, party),
            p::DeskCommand::DialOut { call, number } => self.dial_out(now, desk, call, number),
            p::DeskCommand::MediaState { call, muted, camera_off } => {
                let id = self.own_request(desk, call)?;
                self.media_state(id, &Who::Desk(desk), muted, camera_off)
            }
            p::DeskCommand::Sdp { call, description } => {
                let id = self.own_request(desk, call)?;
                self.sdp(id, &Who::Desk(desk), description)
            }
            p::DeskCommand::Ice { call, .. } => {
                self.own_request(desk, call)?;
                self.ice()
            }
            p::DeskCommand::Document { call, document } => {
                let id = self.own_request(desk, call)?;
                let route = self.document_route(id, &Who::Desk(desk), document)?;
                for delivery in route.to.into_iter().chain([route.ack]) {
                    self.deliver(delivery);
                }
                Ok(())
            }
            p::DeskCommand::Ping {} => {
                self.deliver(Delivery::Desk(desk, p::DeskEvent::Pong));
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        now: d::Timestamp,
        desk: i64,
        tenant: i64,
        language: &str,
        modality: Option<p::Modality>,
        speciality: Option<p::Speciality>,
        urgent: bool,
        preferred: Option<u32>,
    ) -> Result<(), p::ProtocolError> {
        if self.draining {
            return Err(err(p::ErrorCode::ShuttingDown, "the server is restarting; try again in a moment"));
        }
        let lang =
            d::LanguageId::parse(language).map_err(|e| err(p::ErrorCode::InvalidField, format!("language: {e}")))?;
        // One desk cannot fill the queue: a few requests waiting at once, one of them
        // urgent.
        // Line callers queued for a phone desk and booked slots are not the desk's own
        // requests.
        let waiting: Vec<&Call> = self
            .calls
            .values()
            .filter(|c| c.desk == desk && !c.answered() && !self.lines.has(c.id) && c.booking.is_none())
            .collect();
        if waiting.len() >= self.settings.max_waiting_per_desk {
            return Err(err(
                p::ErrorCode::NotAllowed,
                format!("this desk already has {} requests waiting; cancel one or wait for an answer", waiting.len()),
            ));
        }
        if urgent && waiting.iter().any(|c| c.urgent) {
            return Err(err(p::ErrorCode::NotAllowed, "this desk already has an urgent request waiting"));
        }
        let mut spec = d::RequestSpec::new(d::TenantId(id32(tenant)), d::DeskId(id32(desk)), lang);
        spec.modality = modality_in(modality);
        spec.speciality = speciality.map(speciality_in);
        spec.priority = if urgent { d::Priority::Urgent } else { d::Priority::Normal };
        spec.preferred = preferred.map(d::InterpreterId).filter(|i| self.engine.presence(*i).is_ok());
        let id = self.engine.submit(now, spec.clone()).map_err(engine_error)?;
        // The engine's outputs for it are drained after this input, so it is known in time.
        self.calls.insert(id, Call::new(id, tenant, desk, &spec, now));
        Ok(())
    }

    /// A request of this desk, or `not_found` (also for other desks' requests).
    pub(super) fn own_request(&self, desk: i64, request: u64) -> Result<CallId, p::ProtocolError> {
        let id = d::RequestId(request);
        match self.calls.get(&id) {
            Some(c) if c.desk == desk => Ok(id),
            _ => Err(err(p::ErrorCode::NotFound, format!("no request {request} of this desk"))),
        }
    }

    /// End a call: the engine first, then the record, and only once it is written are
    /// the others told (the record's `then`).
    pub(super) fn end_call(&mut self, now: d::Timestamp, id: CallId, by: p::Party) -> Result<(), p::ProtocolError> {
        self.engine.end_call(now, id).map_err(engine_error)?;
        let Some(call) = self.calls.remove(&id) else { return Ok(()) };
        self.links.forget_call(id);
        self.online.forget(id);
        self.remove_legs_of(&call);
        let mut then = Vec::new();
        for participant in &call.participants {
            match Core::endpoint(id, participant) {
                Endpoint::Desk(desk) => then.push(Delivery::Desk(desk, p::DeskEvent::CallEnded { call: id.0, by })),
                Endpoint::Interpreter(i) => {
                    then.push(Delivery::Interpreter(i, p::InterpreterEvent::CallEnded { call: id.0, by }));
                }
                Endpoint::Member(m) => {
                    // Link participants hear at once, and their connections are let go.
                    self.deliver(Delivery::Member(m, p::ResidentEvent::CallEnded));
                    self.out(super::Output::Release(Endpoint::Member(m)));
                }
            }
        }
        self.record_answered(now, &call, then);
        Ok(())
    }

    /// A link for someone to join a live call from elsewhere.
    fn invite(&mut self, now: d::Timestamp, desk: i64, call: u64, party: p::Party) -> Result<(), p::ProtocolError> {
        let id = self.own_request(desk, call)?;
        if !matches!(party, p::Party::Resident | p::Party::Guest | p::Party::Phone) {
            return Err(err(p::ErrorCode::InvalidField, "party: a link is for a resident or a guest, or a phone"));
        }
        if !self.calls.get(&id).is_some_and(Call::answered) {
            return Err(err(p::ErrorCode::NotAllowed, "someone can be invited once the call has started"));
        }
        if party == p::Party::Phone {
            return self.invite_phone(now, desk, call, id);
        }
        let token = self.tokens.token();
        let url = format!("{}/join/{token}", self.settings.public_base);
        let qr_svg = qrcode::QrCode::new(url.as_bytes())
            .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build())
            .map_err(|e| err(p::ErrorCode::Internal, format!("qr code: {e}")))?;
        let expires_at = now + self.settings.invite_ttl;
        self.links.invite(crate::auth::hash_token(&token), id, party, expires_at);
        let expires_at = super::convert::rfc3339(expires_at);
        self.deliver(Delivery::Desk(desk, p::DeskEvent::Invite { call, party, url, qr_svg, expires_at }));
        Ok(())
    }

    /// A seat for someone who joins by phone: a one-time PIN for the gateway's line.
    fn invite_phone(&mut self, now: d::Timestamp, desk: i64, call: u64, id: CallId) -> Result<(), p::ProtocolError> {
        let Some(number) = self.settings.phone_number.clone() else {
            return Err(err(p::ErrorCode::NotAllowed, "joining by phone is not set up on this server"));
        };
        let token = self.tokens.token();
        let hash = crate::auth::hash_token(&token);
        let expires_at = now + self.settings.invite_ttl;
        // Six digits drawn from fresh tokens until one is not an open invite's.
        let mut pin = None;
        for _ in 0..32 {
            let candidate = pin_of(&self.tokens.token());
            if self.links.pin(candidate.clone(), hash.clone()) {
                pin = Some(candidate);
                break;
            }
        }
        let Some(pin) = pin else {
            return Err(err(p::ErrorCode::Internal, "no free PIN: too many open phone invites"));
        };
        self.links.invite(hash, id, p::Party::Phone, expires_at);
        let expires_at = super::convert::rfc3339(expires_at);
        self.deliver(Delivery::Desk(desk, p::DeskEvent::PhoneInvite { call, number, pin, expires_at }));
        Ok(())
    }
}

/// Six decimal digits from a random token (its hash, so any token's alphabet does).
fn pin_of(token: &str) -> String {
    let hash = crate::auth::hash_token(token);
    let n = hash.bytes().fold(0u64, |n, b| n.wrapping_mul(131).wrapping_add(u64::from(b)));
    format!("{:06}", n % 1_000_000)
}
