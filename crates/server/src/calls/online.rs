//! A resident from a centre's standing link who asks to talk now (issue 17, ADR 0019): a
//! request made on behalf of the municipality's online desk, as a language line's caller
//! is (the desk is told `line_call` with `online`), and a resident's link bound to it
//! from the start. Until an interpreter answers, the link says where the resident stands
//! and joining is refused with `not_begun` (the link is kept); then it works as any
//! resident's link, and the desk joins the call as for a line caller.

use std::collections::HashSet;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::Call;
use super::convert::{err, id32};
use super::line::LINE_WAITING_PER_DESK;
use super::{CallId, Core, Delivery, Reply};

/// How long a resident's link from the standing link works unused.
const LINK_HOURS: u64 = 3;

/// Requests made from a standing link, until their calls end.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Online {
    calls: HashSet<CallId>,
}

impl Online {
    pub(super) fn has(&self, call: CallId) -> bool {
        self.calls.contains(&call)
    }

    pub(super) fn forget(&mut self, call: CallId) {
        self.calls.remove(&call);
    }
}

impl Core {
    /// A resident asks to talk now at `desk` in `language`; `token_hash` is their link's.
    pub(super) fn online_call(
        &mut self,
        now: d::Timestamp,
        desk: i64,
        language: &str,
        token_hash: String,
    ) -> Result<Reply, p::ProtocolError> {
        let closed = || err(p::ErrorCode::NotAllowed, "the online desk is closed now: book a time instead");
        let tenant = *self.names.desk_tenants.get(&desk).ok_or_else(closed)?;
        let lang =
            d::LanguageId::parse(language).map_err(|e| err(p::ErrorCode::InvalidField, format!("language: {e}")))?;
        if !self.desk_open(desk, tenant, now) {
            return Err(closed());
        }
        let t = d::TenantId(id32(tenant));
        if self.engine.availability(t, lang, d::LanguageId::JAPANESE, d::Modality::Video).ok().flatten().is_some() {
            return Err(err(p::ErrorCode::NotAllowed, "nobody can take this language now: book a time instead"));
        }
        let waiting = self.calls.values().filter(|c| c.desk == desk && !c.answered() && self.online.has(c.id)).count();
        if waiting >= LINE_WAITING_PER_DESK {
            return Err(err(
                p::ErrorCode::RateLimited,
                "too many residents wait for the online desk: book a time instead",
            ));
        }
        let spec = d::RequestSpec::new(t, d::DeskId(id32(desk)), lang);
        let id = self.engine.submit(now, spec.clone()).map_err(super::convert::engine_error)?;
        self.calls.insert(id, Call::new(id, tenant, desk, &spec, now));
        self.online.calls.insert(id);
        let expires = now + std::time::Duration::from_secs(LINK_HOURS * 3600);
        self.links.invite(token_hash, id, p::Party::Resident, expires);
        self.deliver(Delivery::Desk(
            desk,
            p::DeskEvent::LineCall { request: id.0, language: lang.tag().into(), online: true },
        ));
        Ok(Reply::Done)
    }

    /// The resident gives up waiting (their page's "stop waiting"): the request is
    /// abandoned as a desk's cancel would, and the link dies with it. Refused once an
    /// interpreter has answered (the resident joins, or leaves the call, instead).
    pub(super) fn online_withdraw(&mut self, now: d::Timestamp, token_hash: &str) -> Result<Reply, p::ProtocolError> {
        let gone = || err(p::ErrorCode::Unauthorized, "this link has expired or its request has ended");
        let call = self.links.invite_call(token_hash, now).ok_or_else(gone)?;
        if self.online_waiting(call).is_none() {
            return Err(if self.online.has(call) {
                err(p::ErrorCode::NotAllowed, "an interpreter has answered: join the call, or leave it from the call")
            } else {
                gone()
            });
        }
        self.engine.cancel(now, call).map_err(super::convert::engine_error)?;
        Ok(Reply::Done)
    }

    /// Where a standing link's request waits: `Some(ahead)` while it waits for an
    /// interpreter (`None` once answered, or when `call` is not one).
    pub(super) fn online_waiting(&self, call: CallId) -> Option<u32> {
        if !self.online.has(call) || self.calls.get(&call).is_none_or(|c| c.answered()) {
            return None;
        }
        let ahead = self.engine.standing(call).map_or(0, |s| s.position);
        Some(u32::try_from(ahead).unwrap_or(u32::MAX))
    }
}
