//! A coordinator's hand: a waiting request of their municipality (any, for an admin)
//! offered to an interpreter they choose. The engine rings them like any offer, or says
//! why not (`kakehashi_dispatch`'s `assign_to`).

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::Core;
use super::convert::{engine_error, err, id32};

impl Core {
    pub(super) fn assign(
        &mut self,
        now: d::Timestamp,
        scope: Option<i64>,
        request: u64,
        interpreter: i64,
    ) -> Result<(), p::ProtocolError> {
        let id = d::RequestId(request);
        match self.calls.get(&id) {
            Some(c) if scope.is_none_or(|t| t == c.tenant) && !c.answered() => {}
            _ => return Err(err(p::ErrorCode::NotFound, format!("no request {request} waiting"))),
        }
        match self.engine.assign_to(now, id, d::InterpreterId(id32(interpreter))) {
            Ok(_) => Ok(()),
            Err(d::Error::Invalid { field, problem }) => {
                Err(err(p::ErrorCode::NotAllowed, format!("{field}: {problem}")))
            }
            Err(e) => Err(engine_error(e)),
        }
    }
}
