//! The engine's internal records and timers.

use std::collections::BTreeSet;

use rustc_hash::FxHashSet;

use crate::directory::InterpreterSpec;
use crate::event::{NotReadyReason, Presence};
use crate::ids::{BookingId, DeskId, InterpreterId, OfferId, RequestId, TenantId};
use crate::language::{LanguageId, LanguagePair};
use crate::model::{Modality, Speciality, TierSet};
use crate::time::Timestamp;

/// An interpreter's state with the ids it holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum IState {
    Offline,
    Available,
    Offered(OfferId),
    InCall(RequestId),
    /// Wrap-up, with its end (`None`: until ready).
    WrapUp(Option<Timestamp>),
    NotReady(NotReadyReason),
}

impl IState {
    pub(crate) fn presence(self) -> Presence {
        match self {
            IState::Offline => Presence::Offline,
            IState::Available => Presence::Available,
            IState::Offered(_) => Presence::Offered,
            IState::InCall(_) => Presence::InCall,
            IState::WrapUp(_) => Presence::WrapUp,
            IState::NotReady(r) => Presence::NotReady(r),
        }
    }

    fn signed_in(self) -> bool {
        !matches!(self, IState::Offline | IState::NotReady(_))
    }
}

/// What the engine keeps about the call an interpreter is wrapping up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct LastCall {
    pub(crate) tenant: TenantId,
    pub(crate) language: LanguageId,
    pub(crate) pair: LanguagePair,
    pub(crate) answered_at: Timestamp,
    pub(crate) talk_ms: u64,
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Interp {
    pub(crate) spec: InterpreterSpec,
    pub(crate) state: IState,
    pub(crate) state_since: Timestamp,
    pub(crate) on_roster: bool,
    pub(crate) roster_next: Option<Timestamp>,
    /// Held for a booking (from the guard before its start to its end).
    pub(crate) reserved: bool,
    pub(crate) bookings: Vec<BookingId>,
    /// Key in the idle index.
    pub(crate) idle_since: Timestamp,
    pub(crate) missed_in_row: u8,
    pub(crate) last_call: Option<LastCall>,
    /// Whether the pools index this interpreter as idle / staffed.
    pub(crate) indexed_idle: bool,
    pub(crate) indexed_staffed: bool,
}

impl Interp {
    /// Signed in, on roster and not held for a booking.
    pub(crate) fn staffed(&self) -> bool {
        self.state.signed_in() && self.on_roster && !self.reserved
    }

    /// Whether this interpreter could ever take a request of `tenant`: serving it
    /// directly, or in the shared pool (which a tenant's policy may reach).
    pub(crate) fn serves_tenant(&self, tenant: TenantId) -> bool {
        self.spec.shared_pool || self.spec.tenants.binary_search(&tenant).is_ok()
    }

    /// Free to be offered a call now.
    pub(crate) fn idle(&self) -> bool {
        self.state == IState::Available && self.on_roster && !self.reserved
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum RState {
    Waiting,
    InCall { interpreter: InterpreterId, answered_at: Timestamp },
}

#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Request {
    pub(crate) tenant: TenantId,
    pub(crate) pair: LanguagePair,
    pub(crate) language: LanguageId,
    pub(crate) modality: Modality,
    pub(crate) speciality: Option<Speciality>,
    pub(crate) strict_speciality: bool,
    pub(crate) preferred: Option<InterpreterId>,
    /// Excluded by the desk, or already offered: never offered (again).
    pub(crate) tried: Vec<InterpreterId>,
    pub(crate) submitted_at: Timestamp,
    /// Queue order: submitted time minus the priority credit, in ms.
    pub(crate) key: i64,
    pub(crate) step: u8,
    pub(crate) step_deadline: Option<Timestamp>,
    pub(crate) expires_at: Timestamp,
    pub(crate) hold_until: Option<Timestamp>,
    pub(crate) state: RState,
    pub(crate) offers_out: Vec<OfferId>,
    pub(crate) offers_made: u32,
    pub(crate) fan_out: u8,
    /// Whether the queue index holds it.
    pub(crate) queued: bool,
    /// The tiers the queue lists it under.
    pub(crate) queued_tiers: TierSet,
    /// The booking it was opened for: it rings the booked interpreter only, never waits
    /// in the queue and is not counted in the on-demand statistics.
    pub(crate) booking: Option<BookingId>,
}

impl Request {
    /// A request just made at `now`: waiting, nothing offered, tried or held, one offer at
    /// a time, until `expires_at`.
    pub(crate) fn fresh(
        tenant: TenantId,
        pair: LanguagePair,
        language: LanguageId,
        modality: Modality,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Request {
        Request {
            tenant,
            pair,
            language,
            modality,
            speciality: None,
            strict_speciality: false,
            preferred: None,
            tried: Vec::new(),
            submitted_at: now,
            key: now.as_millis(),
            step: 0,
            step_deadline: None,
            expires_at,
            hold_until: None,
            state: RState::Waiting,
            offers_out: Vec::new(),
            offers_made: 0,
            fan_out: 1,
            queued: false,
            queued_tiers: TierSet::EMPTY,
            booking: None,
        }
    }

    /// Whether the queue index should hold it: waiting, with room for another offer.
    pub(crate) fn wants_offer(&self) -> bool {
        self.state == RState::Waiting && self.offers_out.len() < usize::from(self.fan_out)
    }

    /// Whether the queue index should hold it: wanting an offer, and not a booking's.
    pub(crate) fn queueable(&self) -> bool {
        self.booking.is_none() && self.wants_offer()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Offer {
    pub(crate) request: RequestId,
    pub(crate) interpreter: InterpreterId,
    pub(crate) ring_until: Timestamp,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Booking {
    pub(crate) tenant: TenantId,
    pub(crate) interpreter: InterpreterId,
    pub(crate) guard_from: Timestamp,
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) started: bool,
    /// The desk, language pair and manner of the consultation (for its request).
    pub(crate) desk: Option<DeskId>,
    pub(crate) pair: LanguagePair,
    pub(crate) language: LanguageId,
    pub(crate) modality: Modality,
    pub(crate) speciality: Option<Speciality>,
    /// The request opened at the slot, while it lives.
    pub(crate) request: Option<RequestId>,
}

/// The interpreters of one language pair, indexed by tier.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Pool {
    /// Free interpreters, longest idle first.
    pub(crate) idle: [BTreeSet<(Timestamp, InterpreterId)>; 3],
    /// Signed in, on roster, not reserved.
    pub(crate) staffed: [FxHashSet<InterpreterId>; 3],
    /// Every registered interpreter of the pair, in registration order.
    pub(crate) all: Vec<InterpreterId>,
}

/// A timer; on firing it is checked against the record it names and ignored when stale.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) enum Timer {
    Ring(OfferId),
    Step(RequestId),
    Expire(RequestId),
    Hold(RequestId),
    WrapUp(InterpreterId),
    Roster(InterpreterId),
    BookingGuard(BookingId),
    BookingStart(BookingId),
    BookingEnd(BookingId),
}
