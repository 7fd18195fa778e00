//! The directory as stored (tenants, desks, interpreters) and its translation into the
//! dispatch engine's specs. Rosters are stored as JSON in a small, strict format:
//!
//! ```json
//! {"time_zone": "Asia/Tokyo",
//!  "shifts": [{"days": ["fri"], "start": "09:00", "end": "17:00"},
//!             {"weekday": "wed", "nth": [1, 3], "start": "09:00", "end": "17:00"}],
//!  "off": [{"from": "2026-12-29", "until": "2027-01-03"}],
//!  "extra": [{"date": "2026-12-30", "start": "10:00", "end": "12:00"}]}
//! ```
//!
//! or `{"always": true}`.
//!
//! This is the directory's model: parsing and validation, no SQL (`store` reads and
//! writes it). Routing policies are in `policy.rs`.

mod policy;
pub mod schema;

pub use policy::{ParallelDoc, PolicyDoc, StepDoc};

use kakehashi_dispatch as d;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fields::{clock, date, weekday};
use crate::problem::{FieldProblem, Problem, ProblemCode as C, Unit};

/// A value in the directory that cannot be used, naming the field (e.g.
/// `roster.shifts[1].start`).
pub type DirectoryError = FieldProblem;

fn bad(field: impl Into<String>, problem: impl Into<Problem>) -> DirectoryError {
    problem.into().at(field)
}

/// A roster as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RosterDoc {
    /// Always on.
    #[serde(default)]
    pub always: bool,
    /// IANA time zone name.
    #[serde(default)]
    #[schemars(schema_with = "schema::time_zone_or_null")]
    pub time_zone: Option<String>,
    /// Weekly or monthly shifts.
    #[serde(default)]
    pub shifts: Vec<ShiftDoc>,
    /// Days off (inclusive ranges).
    #[serde(default)]
    pub off: Vec<OffDoc>,
    /// Extra windows on dates.
    #[serde(default)]
    pub extra: Vec<ExtraDoc>,
}

/// A shift: `days` (weekly) or `weekday` with `nth`/`last` (monthly).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftDoc {
    /// Weekdays: `mon` … `sun`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::weekdays")]
    pub days: Vec<String>,
    /// A weekday, for monthly rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::weekday_or_null")]
    pub weekday: Option<String>,
    /// Occurrences in the month, 1 to 5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(range(min = 1, max = 5)))]
    pub nth: Vec<u8>,
    /// The month's last such weekday.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub last: bool,
    /// `HH:MM`.
    #[schemars(schema_with = "schema::clock")]
    pub start: String,
    /// `HH:MM` (at or before start: overnight).
    #[schemars(schema_with = "schema::clock")]
    pub end: String,
}

/// Days off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffDoc {
    /// First day, `YYYY-MM-DD`.
    #[schemars(schema_with = "schema::date")]
    pub from: String,
    /// Last day.
    #[schemars(schema_with = "schema::date")]
    pub until: String,
    /// Set by the interpreter themselves (`PUT /api/me/roster`), not by a coordinator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own: bool,
}

/// An extra window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraDoc {
    /// The date.
    #[schemars(schema_with = "schema::date")]
    pub date: String,
    /// `HH:MM`.
    #[schemars(schema_with = "schema::clock")]
    pub start: String,
    /// `HH:MM`.
    #[schemars(schema_with = "schema::clock")]
    pub end: String,
    /// Offered by the interpreter themselves (`PUT /api/me/roster`), not by a coordinator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub own: bool,
}

/// A time zone by IANA name, from the bundled database.
pub fn time_zone(name: &str, field: &str) -> Result<jiff::tz::TimeZone, DirectoryError> {
    jiff::tz::TimeZone::get(name).map_err(|_| bad(field, C::NotTimeZone))
}

impl RosterDoc {
    /// The engine's roster.
    pub fn to_roster(&self) -> Result<d::Roster, DirectoryError> {
        if self.always {
            if !self.shifts.is_empty() || !self.off.is_empty() || !self.extra.is_empty() {
                return Err(bad("roster.always", C::AlwaysAlone));
            }
            return Ok(d::Roster::always());
        }
        let tz_name = self.time_zone.as_deref().ok_or_else(|| bad("roster.time_zone", C::Required))?;
        let tz = time_zone(tz_name, "roster.time_zone")?;
        let mut shifts = Vec::new();
        for (i, s) in self.shifts.iter().enumerate() {
            let f = |k: &str| format!("roster.shifts[{i}].{k}");
            let days =
                match (&s.weekday, s.days.is_empty()) {
                    (None, false) => d::Days::Weekly(d::WeekdaySet::of(
                        &s.days.iter().map(|x| weekday(x, f("days"))).collect::<Result<Vec<_>, _>>()?,
                    )),
                    (Some(w), true) => {
                        d::Days::Monthly { weekday: weekday(w, f("weekday"))?, nth: s.nth.clone(), last: s.last }
                    }
                    (Some(_), false) | (None, true) => return Err(bad(f("days"), C::DaysOrWeekday)),
                };
            if let d::Days::Monthly { nth, last, .. } = &days {
                if nth.iter().any(|n| !(1..=5).contains(n)) {
                    return Err(bad(f("nth"), Problem::range(1, 5, Unit::Number)));
                }
                if nth.is_empty() && !last {
                    return Err(bad(f("nth"), C::Required));
                }
            }
            let (start, end) = (clock(&s.start, f("start"))?, clock(&s.end, f("end"))?);
            if start == end {
                return Err(bad(f("end"), C::SameTime));
            }
            shifts.push(d::Shift { days, start, end });
        }
        let mut exceptions = Vec::new();
        for (i, o) in self.off.iter().enumerate() {
            let from = date(&o.from, format!("roster.off[{i}].from"))?;
            let until = date(&o.until, format!("roster.off[{i}].until"))?;
            if until < from {
                return Err(bad(format!("roster.off[{i}].until"), C::BeforeStart));
            }
            exceptions.push(d::Exception::Off { from, until });
        }
        for (i, x) in self.extra.iter().enumerate() {
            let f = |k: &str| format!("roster.extra[{i}].{k}");
            let (start, end) = (clock(&x.start, f("start"))?, clock(&x.end, f("end"))?);
            if start == end {
                return Err(bad(f("end"), C::SameTime));
            }
            exceptions.push(d::Exception::Extra { date: date(&x.date, f("date"))?, start, end });
        }
        // Everything the engine refuses was refused above; this names the field if not.
        d::Roster::new(tz, shifts, exceptions).map_err(|e| match e {
            d::RosterError::EmptyShift { .. } => bad("roster", C::SameTime),
            d::RosterError::NoDays { index } => bad(format!("roster.shifts[{index}].days"), C::DaysOrWeekday),
            d::RosterError::BadOccurrence { index, .. } => {
                bad(format!("roster.shifts[{index}].nth"), Problem::range(1, 5, Unit::Number))
            }
            _ => bad("roster", C::BeforeStart),
        })
    }
}

/// A tenant as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantRow {
    /// Id.
    pub id: i64,
    /// Name, shown to interpreters ("Hiroshima City").
    pub name: String,
    /// Registered foreign residents.
    pub foreign_residents: i64,
    /// IANA time zone.
    pub time_zone: String,
    /// Routing policy; `None`: the defaults.
    pub policy: Option<PolicyDoc>,
}

/// A desk as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskRow {
    /// Id.
    pub id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Name ("Counter 2, city hall").
    pub name: String,
}

/// An interpreter's profile as stored and as the admin API lists it (no password).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InterpreterRow {
    /// Id.
    pub id: i64,
    /// Sign-in name.
    pub login: String,
    /// staff, contractor or volunteer.
    pub tier: String,
    /// Languages paired with Japanese (BCP 47).
    pub languages: Vec<String>,
    /// video, audio, phone.
    pub modalities: Vec<String>,
    /// Specialities.
    pub specialities: Vec<String>,
    /// Tenants served directly.
    pub tenants: Vec<i64>,
    /// In the shared pool.
    pub shared_pool: bool,
    /// Roster.
    pub roster: RosterDoc,
    /// Reached by phone: offers ring this number through the phone gateway (no console).
    /// Staff data: never in call records or logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach_by_phone: Option<String>,
}

impl std::fmt::Debug for InterpreterRow {
    /// Never shows the phone number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterpreterRow")
            .field("id", &self.id)
            .field("login", &crate::pii::Pii(&self.login))
            .field("tier", &self.tier)
            .field("languages", &self.languages)
            .field("modalities", &self.modalities)
            .field("tenants", &self.tenants)
            .field("reach_by_phone", &self.reach_by_phone.as_ref().map(crate::pii::Pii))
            .finish_non_exhaustive()
    }
}

/// Parse a tier name.
pub fn tier(s: &str) -> Result<d::Tier, DirectoryError> {
    Ok(match s {
        "staff" => d::Tier::Staff,
        "contractor" => d::Tier::Contractor,
        "volunteer" => d::Tier::Volunteer,
        _ => return Err(bad("tier", Problem::one_of(&["staff", "contractor", "volunteer"]))),
    })
}

/// Parse a modality name.
pub fn modality(s: &str) -> Result<d::Modality, DirectoryError> {
    Ok(match s {
        "video" => d::Modality::Video,
        "audio" => d::Modality::Audio,
        "phone" => d::Modality::Phone,
        _ => return Err(bad("modalities", Problem::one_of(&["video", "audio", "phone"]))),
    })
}

/// Parse a speciality name.
pub fn speciality(s: &str) -> Result<d::Speciality, DirectoryError> {
    d::Speciality::ALL
        .into_iter()
        .find(|x| x.as_str() == s)
        .ok_or_else(|| bad("specialities", Problem::one_of(&d::Speciality::ALL.map(|x| x.as_str()))))
}

impl InterpreterRow {
    /// The engine's spec.
    pub fn to_spec(&self) -> Result<d::InterpreterSpec, DirectoryError> {
        let mut pairs = Vec::new();
        for (i, tag) in self.languages.iter().enumerate() {
            let l = d::LanguageId::parse(tag).map_err(|_| bad(format!("languages[{i}]"), C::NotLanguage))?;
            pairs.push(d::LanguagePair::with_japanese(l).ok_or_else(|| bad(format!("languages[{i}]"), C::DeskSide))?);
        }
        Ok(d::InterpreterSpec {
            id: d::InterpreterId(
                u32::try_from(self.id).map_err(|_| bad("id", Problem::range(0, u32::MAX.into(), Unit::Number)))?,
            ),
            pairs,
            modalities: self.modalities.iter().map(|m| modality(m)).collect::<Result<_, _>>()?,
            specialities: self.specialities.iter().map(|s| speciality(s)).collect::<Result<_, _>>()?,
            tier: tier(&self.tier)?,
            tenants: self.tenants.iter().map(|t| d::TenantId(*t as u32)).collect(),
            shared_pool: self.shared_pool,
            roster: self.roster.to_roster()?,
        })
    }
}

/// Everything the engine needs at start.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Tenants.
    pub tenants: Vec<TenantRow>,
    /// Desks.
    pub desks: Vec<DeskRow>,
    /// Interpreters.
    pub interpreters: Vec<InterpreterRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rosters_parse_and_errors_name_the_field() {
        let doc: RosterDoc = serde_json::from_str(
            r#"{"time_zone":"Asia/Tokyo","shifts":[{"days":["fri"],"start":"09:00","end":"17:00"},
                {"weekday":"wed","nth":[1,3],"start":"09:00","end":"17:00"}],
                "off":[{"from":"2026-12-29","until":"2027-01-03"}]}"#,
        )
        .unwrap();
        doc.to_roster().unwrap();
        let err = |json: &str| serde_json::from_str::<RosterDoc>(json).unwrap().to_roster().unwrap_err().to_string();
        assert_eq!(
            err(r#"{"time_zone":"Asia/Tokyo","shifts":[{"days":["fry"],"start":"09:00","end":"17:00"}]}"#),
            "roster.shifts[0].days: not a weekday (mon, tue, wed, thu, fri, sat, sun)"
        );
        assert_eq!(
            err(r#"{"time_zone":"Asia/Tokyo","shifts":[{"days":["fri"],"start":"9am","end":"17:00"}]}"#),
            "roster.shifts[0].start: not a time as HH:MM"
        );
        assert_eq!(err(r#"{"time_zone":"Mars/Olympus","shifts":[]}"#), "roster.time_zone: not a known IANA time zone");
        assert_eq!(err(r#"{"shifts":[]}"#), "roster.time_zone: required");
        assert!(
            err(r#"{"time_zone":"Asia/Tokyo","shifts":[{"weekday":"wed","nth":[7],"start":"09:00","end":"10:00"}]}"#)
                .starts_with("roster.shifts[0].nth: 1 to 5")
        );
        assert!(
            err(r#"{"time_zone":"Asia/Tokyo","off":[{"from":"2026-12-29","until":"2026-12-28"}]}"#)
                .starts_with("roster.off[0].until: ")
        );
        assert!(
            err(r#"{"time_zone":"Asia/Tokyo","extra":[{"date":"2026-12-29","start":"10:00","end":"10:00"}]}"#)
                .starts_with("roster.extra[0].end: ")
        );
        assert!(serde_json::from_str::<RosterDoc>(r#"{"always":true,"colour":1}"#).is_err());
    }
}
