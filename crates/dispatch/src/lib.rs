//! The dispatch engine of kakehashi: language-aware interpreter queueing as a sans-I/O
//! state machine.
//!
//! Desks request interpreters for a resident's language; the engine queues each request,
//! offers it to the best eligible interpreter under the tenant's [`RoutingPolicy`]
//! (steps that widen the pool over time), handles accept, decline, ring time-outs and
//! parallel ringing, wrap-up, rosters and bookings, and keeps the statistics behind
//! service level, speed of answer, abandonment and occupancy.
//!
//! It does no I/O: no clock, no tasks, no locks, no randomness. Every input carries the
//! caller's `now`; outputs are drained with [`Engine::poll_output`]; timers are reported
//! by [`Engine::poll_timeout`] and fired by [`Engine::handle_timeout`]. The same inputs
//! always give the same outputs, so an engine can be rebuilt from a log of [`Input`]s.
//!
//! ```
//! use kakehashi_dispatch::*;
//! # fn main() -> Result<(), Error> {
//! let mut e = Engine::new();
//! let t0 = Timestamp::from_secs(1_800_000_000);
//! let vi = LanguageId::parse("vi").expect("in the catalogue");
//! e.add_tenant(t0, TenantSpec {
//!     id: TenantId(1), foreign_residents: 12_000,
//!     time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(9)),
//!     policy: RoutingPolicy::default(),
//! })?;
//! e.add_desk(t0, DeskId(1), TenantId(1))?;
//! e.add_interpreter(t0, InterpreterSpec {
//!     id: InterpreterId(7), pairs: vec![LanguagePair::with_japanese(vi).expect("two languages")],
//!     modalities: ModalitySet::all(), specialities: SpecialitySet::EMPTY, tier: Tier::Staff,
//!     tenants: vec![TenantId(1)], shared_pool: false, roster: Roster::always(),
//! })?;
//! e.set_availability(t0, InterpreterId(7), Availability::Available)?;
//! let request = e.submit(t0, RequestSpec::new(TenantId(1), DeskId(1), vi))?;
//! let offer = std::iter::from_fn(|| e.poll_output())
//!     .find_map(|o| match o { Output::Offered { offer, .. } => Some(offer), _ => None })
//!     .expect("an offer rings");
//! e.accept(t0 + std::time::Duration::from_secs(4), offer, InterpreterId(7))?;
//! e.end_call(t0 + std::time::Duration::from_secs(600), request)?;
//! assert_eq!(e.totals().answered, 1);
//! # Ok(()) }
//! ```

mod directory;
mod engine;
mod error;
mod event;
mod ids;
mod language;
mod model;
mod policy;
mod roster;
mod stats;
mod time;

pub mod erlang;
pub mod sim;

pub use directory::{BookingSpec, InterpreterSpec, RequestSpec, TenantSpec};
pub use engine::Standing;
pub use engine::{BOOKED_RING_PAUSE, Engine, Input, MAX_EXCLUDED, MAX_PAIRS, MAX_TENANTS_PER_INTERPRETER, Reply};
pub use error::Error;
pub use event::{
    Availability, NotReadyReason, OfferEnd, Outcome, Outlook, Output, Presence, RescindReason, Suggestion, WaitEstimate,
};
pub use ids::{BookingId, DeskId, InterpreterId, OfferId, RequestId, TenantId};
pub use language::{LANGUAGES, Language, LanguageError, LanguageId, LanguagePair, canonicalize};
pub use model::{Modality, ModalitySet, Priority, Speciality, SpecialitySet, Tier, TierSet};
pub use policy::{InterpreterOrder, MAX_STEPS, ParallelRing, PolicyError, PolicyProblem, RoutingPolicy, Scope, Step};
pub use roster::{Days, Exception, Roster, RosterError, RosterState, Shift, WeekdaySet};
pub use stats::{CounterRow, Counters, LiveLanguage, LiveTenant, PresenceTime, SERVICE_THRESHOLDS_SECS};
pub use time::Timestamp;

/// `jiff`, re-exported for time zones and civil dates in rosters.
pub use jiff;
