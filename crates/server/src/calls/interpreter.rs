//! What an interpreter asks: availability, accept or decline an offer, end their call,
//! media, documents.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::call::Who;
use super::convert::{engine_error, err, id32};
use super::{CallId, Core, Delivery};

impl Core {
    pub(super) fn interpreter_command(
        &mut self,
        now: d::Timestamp,
        id: i64,
        cmd: p::InterpreterCommand,
    ) -> Result<(), p::ProtocolError> {
        let me = d::InterpreterId(id32(id));
        match cmd {
            p::InterpreterCommand::SetAvailability { availability } => {
                let a = match availability {
                    p::Availability::Available => d::Availability::Available,
                    p::Availability::NotReady => d::Availability::NotReady,
                    p::Availability::Offline => d::Availability::Offline,
                };
                self.engine.set_availability(now, me, a).map_err(engine_error)
            }
            p::InterpreterCommand::Accept { offer } => {
                self.engine.accept(now, d::OfferId(offer), me).map_err(engine_error)
            }
            p::InterpreterCommand::Decline { offer } => {
                self.engine.decline(now, d::OfferId(offer), me).map_err(engine_error)
            }
            p::InterpreterCommand::EndCall { call } => {
                let call = self.own_call(id, call)?;
                self.end_call(now, call, p::Party::Interpreter)
            }
            p::InterpreterCommand::MediaState { call, muted, camera_off } => {
                let call = self.own_call(id, call)?;
                self.media_state(call, &Who::Interpreter(id), muted, camera_off)
            }
            p::InterpreterCommand::Sdp { call, description } => {
                let call = self.own_call(id, call)?;
                self.sdp(call, &Who::Interpreter(id), description)
            }
            p::InterpreterCommand::Ice { call, .. } => {
                self.own_call(id, call)?;
                self.ice()
            }
            p::InterpreterCommand::Document { call, document } => {
                let call = self.own_call(id, call)?;
                let route = self.document_route(call, &Who::Interpreter(id), document)?;
                for delivery in route.to.into_iter().chain([route.ack]) {
                    self.deliver(delivery);
                }
                Ok(())
            }
            p::InterpreterCommand::Ping {} => {
                self.deliver(Delivery::Interpreter(id, p::InterpreterEvent::Pong));
                Ok(())
            }
        }
    }

    /// A call this interpreter answered, or `not_found`.
    fn own_call(&self, id: i64, call: u64) -> Result<CallId, p::ProtocolError> {
        let key = d::RequestId(call);
        match self.calls.get(&key) {
            Some(c) if c.interpreter() == Some(id) => Ok(key),
            _ => Err(err(p::ErrorCode::NotFound, format!("no call {call} of yours"))),
        }
    }
}
