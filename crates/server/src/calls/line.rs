//! Callers of a language line (ADR 0016): a request made on behalf of the line's phone
//! desk, so the queue, offers, records and wallboard are the desk's as for any request.
//! The gateway that put the caller through hears where the caller stands, the seat's
//! token once an interpreter answers, or why the request ended; a caller who hangs up
//! abandons it, as a desk's cancel would.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::Call;
use super::convert::id32;
use super::dial::DIAL_WINDOW;
use super::{CallId, Core, Delivery};

/// Line callers one desk may have waiting at once; more hear "call again later".
pub const LINE_WAITING_PER_DESK: usize = 30;

/// A line caller, as the gateway knows them: its connection and its number on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LineKey {
    /// The gateway's connection.
    pub conn: u64,
    /// The gateway's number for the caller.
    pub line: u64,
}

/// Requests made for line callers, until answered or ended.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Lines {
    by_call: HashMap<CallId, LineKey>,
}

impl Lines {
    /// The gateway connections with callers.
    pub(super) fn conns(&self) -> impl Iterator<Item = u64> + '_ {
        self.by_call.values().map(|k| k.conn)
    }

    /// Whether `call` is a line caller's request.
    pub(super) fn has(&self, call: CallId) -> bool {
        self.by_call.contains_key(&call)
    }

    fn call_of(&self, key: LineKey) -> Option<CallId> {
        self.by_call.iter().find(|(_, k)| **k == key).map(|(c, _)| *c)
    }
}

impl Core {
    /// `line_call`: a request for the caller on the desk's behalf, or the reason it
    /// cannot be made.
    pub(super) fn line_call(&mut self, now: d::Timestamp, key: LineKey, desk: i64, language: &str) {
        if self.lines.call_of(key).is_some() {
            return;
        }
        let end = |reason| Delivery::Line(key, p::GatewayEvent::LineEnded { line: key.line, reason });
        let (Some(&tenant), Ok(lang)) = (self.names.desk_tenants.get(&desk), d::LanguageId::parse(language)) else {
            tracing::warn!(desk, "a language line names a desk or a language the server does not have");
            self.deliver(end(p::LineEnd::Misconfigured));
            return;
        };
        // Closed: stopping, the desk away, or outside the centre's hours where it set them.
        if !self.desk_open(desk, tenant, now) {
            self.deliver(end(p::LineEnd::Closed));
            return;
        }
        let waiting = self.calls.values().filter(|c| c.desk == desk && !c.answered() && self.lines.has(c.id)).count();
        if waiting >= LINE_WAITING_PER_DESK {
            self.deliver(end(p::LineEnd::Unserved));
            return;
        }
        let mut spec = d::RequestSpec::new(d::TenantId(id32(tenant)), d::DeskId(id32(desk)), lang);
        // The caller is heard, not seen: any interpreter who takes audio calls can take
        // it (the record's phone count says it came by phone).
        spec.modality = d::Modality::Audio;
        let id = match self.engine.submit(now, spec.clone()) {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(desk, error = %e, "a line call could not be queued");
                self.deliver(end(p::LineEnd::Unserved));
                return;
            }
        };
        self.calls.insert(id, Call::new(id, tenant, desk, &spec, now));
        self.lines.by_call.insert(id, key);
        self.deliver(Delivery::Desk(
            desk,
            p::DeskEvent::LineCall { request: id.0, language: language.into(), online: false },
        ));
    }

    /// The caller hung up: an unanswered request is abandoned.
    pub(super) fn line_hangup(&mut self, now: d::Timestamp, key: LineKey) {
        let Some(call) = self.lines.call_of(key) else { return };
        self.lines.by_call.remove(&call);
        if self.calls.get(&call).is_some_and(|c| !c.answered()) {
            let _ = self.engine.cancel(now, call);
        }
    }

    /// A gateway's connection is gone: its callers are gone with it.
    pub(super) fn gateway_gone(&mut self, now: d::Timestamp, conn: u64) {
        let keys: Vec<LineKey> = self.lines.by_call.values().filter(|k| k.conn == conn).copied().collect();
        for key in keys {
            self.line_hangup(now, key);
        }
    }

    /// Tell a line caller their place, when `call` is a line caller's request.
    pub(super) fn line_position(&mut self, call: CallId, ringing: bool, ahead: u32, estimate: p::WaitEstimate) {
        if let Some(&key) = self.lines.by_call.get(&call) {
            let event = p::GatewayEvent::LineQueued { line: key.line, ringing, ahead, estimate };
            self.deliver(Delivery::Line(key, event));
        }
    }

    /// An interpreter answered a line caller's request: a seat for the caller, whose
    /// token goes to the gateway.
    pub(super) fn line_answered(&mut self, call: CallId) {
        let Some(key) = self.lines.by_call.remove(&call) else { return };
        let token = self.tokens.token();
        self.links.invite(crate::auth::hash_token(&token), call, p::Party::Phone, self.now + DIAL_WINDOW);
        self.deliver(Delivery::Line(key, p::GatewayEvent::LineAnswered { line: key.line, token }));
    }

    /// A line caller's request ended unanswered: what the gateway is told, once the
    /// record is written.
    pub(super) fn line_ended(&mut self, call: CallId, outcome: &d::Outcome) -> Option<Delivery> {
        let key = self.lines.by_call.remove(&call)?;
        let reason = match outcome {
            d::Outcome::Abandoned => p::LineEnd::Cancelled,
            d::Outcome::Expired => p::LineEnd::Expired,
            d::Outcome::Unserved(_) => p::LineEnd::Unserved,
        };
        Some(Delivery::Line(key, p::GatewayEvent::LineEnded { line: key.line, reason }))
    }
}
