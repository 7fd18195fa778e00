//! Bookings (issue 17): a consultation by reservation. A coordinator or a desk books a
//! slot (day, time, length, language, the specialist who takes part, how the resident
//! and the specialist join) and an interpreter is held for it: the named one or any
//! eligible. The engine refuses what it cannot hold (nobody rostered and free, a clash);
//! the centre's calendar refuses a slot outside its opening hours when the municipality
//! has set one. At the slot the booked desk's request rings the interpreter outside the
//! queue (`kakehashi_dispatch`'s booked requests).
//!
//! What a booking keeps is categories and times: no resident's name or number. An
//! intake note for the specialist is sealed like a handling note (ADR 0017).

pub mod held;
pub mod ics;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::problem::{FieldProblem, Problem, ProblemCode as C, Unit};

/// The shortest and the longest slot, in minutes.
pub const MINUTES: std::ops::RangeInclusive<u32> = 10..=240;

/// How far ahead a slot may be booked.
pub const AHEAD_DAYS: i64 = 366;

/// Who takes part beside the resident and the interpreter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Specialist {
    /// Nobody: an interpreted consultation booked ahead (a rare language, a volunteer's day).
    #[default]
    None,
    /// A lawyer (弁護士).
    Lawyer,
    /// An administrative scrivener (行政書士).
    Scrivener,
    /// An immigration officer (出入国在留管理局).
    Immigration,
    /// A tax accountant (税理士).
    Tax,
    /// The labour bureau (労働局).
    Labour,
    /// A psychologist or counsellor (公認心理師).
    Psychologist,
    /// Someone else.
    Other,
}

impl Specialist {
    /// Every kind, in the order forms list them.
    pub const ALL: [Specialist; 8] = [
        Specialist::None,
        Specialist::Lawyer,
        Specialist::Scrivener,
        Specialist::Immigration,
        Specialist::Tax,
        Specialist::Labour,
        Specialist::Psychologist,
        Specialist::Other,
    ];

    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Specialist::None => "none",
            Specialist::Lawyer => "lawyer",
            Specialist::Scrivener => "scrivener",
            Specialist::Immigration => "immigration",
            Specialist::Tax => "tax",
            Specialist::Labour => "labour",
            Specialist::Psychologist => "psychologist",
            Specialist::Other => "other",
        }
    }

    /// From the stored code.
    pub fn parse(code: &str) -> Option<Specialist> {
        Specialist::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// The interpreter speciality the consultation calls for, if any.
    pub fn speciality(self) -> Option<d::Speciality> {
        match self {
            Specialist::Lawyer => Some(d::Speciality::Legal),
            Specialist::Scrivener | Specialist::Immigration => Some(d::Speciality::Immigration),
            Specialist::Labour => Some(d::Speciality::Labour),
            Specialist::Psychologist => Some(d::Speciality::MentalHealth),
            Specialist::None | Specialist::Tax | Specialist::Other => None,
        }
    }
}

/// How the resident takes part (the protocol's: the desk is told at the slot).
pub use p::ResidentJoins;

/// How the specialist takes part.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpecialistJoins {
    /// At the counter (or nobody: a booking without a specialist).
    #[default]
    Counter,
    /// From a link sent ahead, as a guest of the call.
    Remote,
}

/// The manner of a booked consultation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookedModality {
    /// Video.
    #[default]
    Video,
    /// Audio only.
    Audio,
}

impl BookedModality {
    /// The engine's.
    pub fn engine(self) -> d::Modality {
        match self {
            BookedModality::Video => d::Modality::Video,
            BookedModality::Audio => d::Modality::Audio,
        }
    }
}

macro_rules! codes {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The stored code.
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),* }
            }

            /// From the stored code.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($s => Some(<$t>::$v),)* _ => None }
            }
        }
    };
}

codes!(SpecialistJoins { Counter => "counter", Remote => "remote" });
codes!(BookedModality { Video => "video", Audio => "audio" });

/// A booking as asked for (`POST /api/bookings`).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingIn {
    /// The municipality (an admin's; a supervisor's and a desk's own otherwise).
    #[serde(default)]
    pub tenant: Option<i64>,
    /// The desk that holds the consultation (a desk booking: itself).
    #[serde(default)]
    pub desk: Option<i64>,
    /// The resident's language (BCP 47).
    pub language: String,
    /// Video or audio.
    #[serde(default)]
    pub modality: BookedModality,
    /// The specialist taking part.
    #[serde(default)]
    pub specialist: Specialist,
    /// Hold only an interpreter with the specialist's subject (legal, immigration...).
    #[serde(default)]
    pub require_speciality: bool,
    /// What it is about.
    #[serde(default)]
    pub topic: Option<p::Topic>,
    /// A named interpreter; any eligible one when absent.
    #[serde(default)]
    pub interpreter: Option<i64>,
    /// The slot's start, RFC 3339 (`2026-12-07T10:00:00+09:00`).
    pub start: String,
    /// Its length in minutes (10 to 240).
    pub minutes: u32,
    /// How the resident joins.
    #[serde(default)]
    pub resident: ResidentJoins,
    /// How the specialist joins.
    #[serde(default)]
    pub specialist_joins: SpecialistJoins,
    /// A short intake note for the specialist (sealed; only where the municipality keeps
    /// handling notes).
    #[serde(default)]
    pub intake_note: Option<String>,
}

/// A booking moved (`PUT /api/bookings/{id}`): a new slot, and optionally another
/// interpreter.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingMove {
    /// The new start, RFC 3339.
    pub start: String,
    /// The new length in minutes.
    pub minutes: u32,
    /// A named interpreter; any eligible one when absent.
    #[serde(default)]
    pub interpreter: Option<i64>,
}

/// A booking as stored and read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Booking {
    /// Its number.
    pub id: i64,
    /// The municipality.
    pub tenant: i64,
    /// The desk.
    pub desk: i64,
    /// The resident's language (BCP 47).
    pub language: String,
    /// Video or audio.
    pub modality: BookedModality,
    /// The specialist taking part.
    pub specialist: Specialist,
    /// Whether the interpreter must have the specialist's subject.
    pub require_speciality: bool,
    /// What it is about.
    pub topic: Option<p::Topic>,
    /// The interpreter asked for, if one was named.
    pub requested_interpreter: Option<i64>,
    /// The interpreter held (none only while it is being booked).
    pub interpreter: Option<i64>,
    /// Slot start, ms since the epoch.
    pub start: i64,
    /// Slot end (exclusive), ms since the epoch.
    pub end: i64,
    /// How the resident joins.
    pub resident: ResidentJoins,
    /// How the specialist joins.
    pub specialist_joins: SpecialistJoins,
    /// Whether an intake note is kept (read it at `/api/bookings/{id}/intake`).
    pub intake: bool,
    /// `booked` or `cancelled`.
    pub status: String,
    /// Who booked it (`staff:<id>`, `desk:<id>`).
    pub created_by: String,
    /// The hashes of the resident's and the specialist's links, when they join by link
    /// (the links themselves are given once, to whoever booked or sends them again).
    #[serde(skip)]
    #[schemars(skip)]
    pub links: BookingLinks,
}

/// The hashes of a booking's links.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingLinks {
    /// The resident's link, when they join by link.
    pub resident: Option<String>,
    /// The specialist's link, when they join remotely (as a guest).
    pub specialist: Option<String>,
}

impl BookingLinks {
    /// The kind of person a link's hash is for.
    pub fn party(&self, hash: &str) -> Option<p::Party> {
        if self.resident.as_deref() == Some(hash) {
            Some(p::Party::Resident)
        } else if self.specialist.as_deref() == Some(hash) {
            Some(p::Party::Guest)
        } else {
            None
        }
    }
}

impl Booking {
    /// Whether it still holds its interpreter.
    pub fn booked(&self) -> bool {
        self.status == "booked"
    }

    /// The engine's booking, for `interpreter` or any eligible one.
    pub fn engine_spec(&self, interpreter: Option<i64>) -> Result<d::BookingSpec, String> {
        let language = d::LanguageId::parse(&self.language).map_err(|e| format!("language: {e}"))?;
        let id = |v: i64, what: &str| u32::try_from(v).map_err(|_| format!("{what} {v} is out of range"));
        Ok(d::BookingSpec {
            tenant: d::TenantId(id(self.tenant, "tenant")?),
            language,
            desk_language: d::LanguageId::JAPANESE,
            modality: self.modality.engine(),
            speciality: self.specialist.speciality().filter(|_| self.require_speciality),
            interpreter: interpreter.map(|i| id(i, "interpreter").map(d::InterpreterId)).transpose()?,
            desk: Some(d::DeskId(id(self.desk, "desk")?)),
            start: d::Timestamp::from_millis(self.start),
            end: d::Timestamp::from_millis(self.end),
        })
    }
}

/// A slot checked: its start and end in ms since the epoch.
pub fn slot(start: &str, minutes: u32, now_ms: i64) -> Result<(i64, i64), FieldProblem> {
    let at: jiff::Timestamp = start.parse().map_err(|_| Problem::is(C::NotDateTime).at("start"))?;
    if !MINUTES.contains(&minutes) {
        return Err(Problem::range((*MINUTES.start()).into(), (*MINUTES.end()).into(), Unit::Number).at("minutes"));
    }
    let start = at.as_millisecond();
    if start < now_ms {
        return Err(Problem::is(C::Past).at("start"));
    }
    if start > now_ms + AHEAD_DAYS * 86_400_000 {
        return Err(Problem { max: Some(AHEAD_DAYS as u64), ..Problem::is(C::TooFar) }.at("start"));
    }
    Ok((start, start + i64::from(minutes) * 60_000))
}

/// The language as the engine knows it, canonical.
pub fn language(tag: &str) -> Result<String, FieldProblem> {
    d::LanguageId::parse(tag).map(|l| l.tag().to_string()).map_err(|_| Problem::is(C::NotLanguage).at("language"))
}

/// Why the engine refused to hold an interpreter, in words for the coordinator.
pub fn refusal(e: &d::Error) -> String {
    match e {
        d::Error::NotBookable(why) => (*why).to_string(),
        d::Error::UnknownInterpreter(_) => "no such interpreter".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_slots_are_checked() {
        for s in Specialist::ALL {
            assert_eq!(Specialist::parse(s.as_str()), Some(s));
        }
        assert_eq!(ResidentJoins::parse("link"), Some(ResidentJoins::Link));
        assert_eq!(SpecialistJoins::parse("remote"), Some(SpecialistJoins::Remote));
        assert_eq!(BookedModality::parse("fax"), None);
        let now = "2026-12-06T00:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!(slot("2026-12-07T10:00:00+09:00", 30, now), Ok((now + 90_000_000, now + 91_800_000)));
        assert_eq!(slot("tomorrow", 30, now).unwrap_err().field, "start");
        assert_eq!(slot("2026-12-07T10:00:00+09:00", 5, now).unwrap_err().field, "minutes");
        assert_eq!(slot("2026-12-05T10:00:00+09:00", 30, now).unwrap_err().problem.code, C::Past);
        assert!(slot("2028-12-07T10:00:00+09:00", 30, now).is_err());
        assert_eq!(language("VI").unwrap(), "vi");
        assert_eq!(language("xx-bogus").unwrap_err().field, "language");
    }
}
