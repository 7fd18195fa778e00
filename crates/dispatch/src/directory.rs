//! What the caller tells the engine about tenants, interpreters, requests and bookings.

use jiff::tz::TimeZone;

use crate::ids::{DeskId, InterpreterId, TenantId};
use crate::language::{LanguageId, LanguagePair};
use crate::model::{Modality, ModalitySet, Priority, Speciality, SpecialitySet, Tier};
use crate::policy::RoutingPolicy;
use crate::roster::Roster;
use crate::time::Timestamp;

/// A municipality or other organisation whose desks request interpreters.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TenantSpec {
    /// Directory id.
    pub id: TenantId,
    /// Registered foreign residents, the usual key for splitting a shared centre's cost.
    pub foreign_residents: u32,
    /// Local time zone: "later today" in answers to desks is in this zone.
    #[cfg_attr(feature = "serde", serde(with = "jiff::fmt::serde::tz::required"))]
    pub time_zone: TimeZone,
    /// How its requests are routed.
    pub policy: RoutingPolicy,
}

/// An interpreter of the pool.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct InterpreterSpec {
    /// Directory id.
    pub id: InterpreterId,
    /// Language pairs covered (e.g. Vietnamese ↔ Japanese).
    pub pairs: Vec<LanguagePair>,
    /// How they can work.
    pub modalities: ModalitySet,
    /// What they are qualified for; `General` is implied.
    pub specialities: SpecialitySet,
    /// Staff, contractor or volunteer.
    pub tier: Tier,
    /// Tenants they serve directly.
    pub tenants: Vec<TenantId>,
    /// Also available to every tenant's shared-pool steps.
    pub shared_pool: bool,
    /// When they may be offered calls.
    pub roster: Roster,
}

/// A desk's request for an interpreter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RequestSpec {
    /// The requesting tenant.
    pub tenant: TenantId,
    /// The requesting desk (must belong to `tenant`).
    pub desk: DeskId,
    /// The resident's language.
    pub language: LanguageId,
    /// The desk's language, Japanese unless said otherwise.
    pub desk_language: LanguageId,
    /// Video, audio or phone.
    pub modality: Modality,
    /// Subject matter, if any.
    pub speciality: Option<Speciality>,
    /// Never route to an interpreter without the speciality, whatever the policy's steps say.
    pub strict_speciality: bool,
    /// Normal or urgent.
    pub priority: Priority,
    /// A returning case's interpreter, tried alone for the policy's preferred hold.
    pub preferred: Option<InterpreterId>,
    /// Never offer to these.
    pub excluded: Vec<InterpreterId>,
}

impl RequestSpec {
    /// A normal video request from `desk` for `language` ↔ Japanese.
    pub fn new(tenant: TenantId, desk: DeskId, language: LanguageId) -> RequestSpec {
        RequestSpec {
            tenant,
            desk,
            language,
            desk_language: LanguageId::JAPANESE,
            modality: Modality::Video,
            speciality: None,
            strict_speciality: false,
            priority: Priority::Normal,
            preferred: None,
            excluded: Vec::new(),
        }
    }
}

/// A reservation of an interpreter for a specialist consultation slot.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BookingSpec {
    /// The tenant booking.
    pub tenant: TenantId,
    /// The resident's language.
    pub language: LanguageId,
    /// The desk side's language.
    pub desk_language: LanguageId,
    /// How the consultation is held.
    pub modality: Modality,
    /// Required speciality, if any.
    pub speciality: Option<Speciality>,
    /// A named interpreter, or `None` for any eligible one.
    pub interpreter: Option<InterpreterId>,
    /// The desk that holds the consultation: at the slot the engine opens a request for
    /// it that rings the booked interpreter only (outside the queue). `None`: the
    /// interpreter is only held.
    pub desk: Option<DeskId>,
    /// Slot start.
    pub start: Timestamp,
    /// Slot end (exclusive).
    pub end: Timestamp,
}
