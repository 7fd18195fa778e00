//! The engine's one error type. Every error leaves the engine's state unchanged.

use crate::event::Presence;
use crate::ids::{BookingId, DeskId, InterpreterId, OfferId, RequestId, TenantId};
use crate::policy::PolicyError;
use crate::roster::RosterError;

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No such tenant.
    #[error("unknown tenant {0}")]
    UnknownTenant(TenantId),
    /// No such desk.
    #[error("unknown desk {0}")]
    UnknownDesk(DeskId),
    /// No such interpreter.
    #[error("unknown interpreter {0}")]
    UnknownInterpreter(InterpreterId),
    /// No such request, or it has ended.
    #[error("unknown or ended request {0}")]
    UnknownRequest(RequestId),
    /// No offer was ever made with this id.
    #[error("unknown offer {0}")]
    UnknownOffer(OfferId),
    /// The offer existed but is over: accepted, declined, missed or rescinded.
    #[error("offer {0} is no longer open")]
    OfferClosed(OfferId),
    /// The offer was made to someone else.
    #[error("offer {offer} was not made to interpreter {interpreter}")]
    NotYourOffer {
        /// The offer.
        offer: OfferId,
        /// Who tried to answer it.
        interpreter: InterpreterId,
    },
    /// No such booking, or it has ended.
    #[error("unknown or ended booking {0}")]
    UnknownBooking(BookingId),
    /// An id that is already registered.
    #[error("{what} {id} already exists")]
    Duplicate {
        /// Kind of thing.
        what: &'static str,
        /// Its id.
        id: u64,
    },
    /// A desk used with a tenant it does not belong to.
    #[error("desk {desk} does not belong to tenant {tenant}")]
    WrongTenant {
        /// The desk.
        desk: DeskId,
        /// The tenant named.
        tenant: TenantId,
    },
    /// The interpreter's presence does not allow this.
    #[error("interpreter {interpreter} cannot {action} while {from:?}")]
    InvalidTransition {
        /// The interpreter.
        interpreter: InterpreterId,
        /// Their presence.
        from: Presence,
        /// What was asked.
        action: &'static str,
    },
    /// The request is not waiting (it is in a call).
    #[error("request {0} is not waiting for an interpreter")]
    NotWaiting(RequestId),
    /// The request is not in a call.
    #[error("request {0} is not in a call")]
    NotInCall(RequestId),
    /// Something about the input itself is wrong.
    #[error("invalid {field}: {problem}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
    /// The tenant's policy was refused.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The interpreter's roster was refused.
    #[error(transparent)]
    Roster(#[from] RosterError),
    /// No interpreter can take the slot.
    #[error("no interpreter can take the slot: {0}")]
    NotBookable(&'static str),
}
