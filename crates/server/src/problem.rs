//! What is wrong with one field of a request, said so that a page can put it in its own
//! language: a stable code and the limits it names. Its `Display` is the English wording,
//! which is the message of the error (for logs, scripts and a page without a translation).
//!
//! Every check of outside input that names a field (the admin API's bodies, a roster, a
//! routing policy, a centre's calendar) says what is wrong with a [`Problem`]; the HTTP
//! layer sends it as `error.problem` beside the English message.

use serde::Serialize;

/// What is wrong, as a code a client can translate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemCode {
    /// Missing.
    Required,
    /// Outside `min` to `max` (either may be absent) counted in `unit`.
    Range,
    /// Not a time of day as HH:MM.
    NotTime,
    /// Not a date as YYYY-MM-DD.
    NotDate,
    /// Not a date and time (RFC 3339).
    NotDateTime,
    /// Not a month as YYYY-MM.
    NotMonth,
    /// Not a weekday (mon … sun).
    NotWeekday,
    /// Not an IANA time zone.
    NotTimeZone,
    /// Not a language tag.
    NotLanguage,
    /// Not a phone number (3 to 20 digits, with + - ( ) and spaces).
    NotPhone,
    /// Not one of `allowed`.
    OneOf,
    /// Named twice.
    Duplicate,
    /// Names something that does not exist.
    Unknown,
    /// Taken by another (a name, a login).
    Taken,
    /// Ends before it starts (or at the same time, where that is not allowed).
    BeforeStart,
    /// Starts and ends at the same time.
    SameTime,
    /// Japanese is the desk's side, not a language to interpret.
    DeskSide,
    /// A time too soon to book.
    TooSoon,
    /// A time in the past.
    Past,
    /// A time further ahead than `max` days.
    TooFar,
    /// The parts do not add up to 100.
    NotHundred,
    /// Not the current code of the authenticator app.
    WrongCode,
    /// This municipality keeps no notes.
    NotKept,
    /// Cannot be changed here.
    ReadOnly,
    /// Does not apply to this request.
    NotApplicable,
    /// Not a fraction above 0 and below 1 (0.8 is 80%).
    NotFraction,
    /// An always-on roster has no shifts, days off or extra windows.
    AlwaysAlone,
    /// A shift names days (weekly) or a weekday with its occurrence (monthly): one of them.
    DaysOrWeekday,
    /// Only the last step of a policy may go on without end.
    OpenStep,
}

/// What a [`ProblemCode::Range`]'s limits count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Characters of text.
    Characters,
    /// Entries of a list.
    Entries,
    /// Days.
    Days,
    /// Seconds.
    Seconds,
    /// Japanese yen.
    Yen,
    /// A plain number.
    Number,
}

/// What is wrong with a value, without naming the field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// What is wrong.
    pub code: ProblemCode,
    /// The smallest value allowed (`range`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    /// The largest value allowed (`range`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// What `min` and `max` count (`range`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// The values allowed (`one_of`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

impl Problem {
    /// A problem that names no limit.
    pub const fn is(code: ProblemCode) -> Problem {
        Problem { code, min: None, max: None, unit: None, allowed: Vec::new() }
    }

    /// Outside `min` to `max` `unit`.
    pub const fn range(min: u64, max: u64, unit: Unit) -> Problem {
        Problem { code: ProblemCode::Range, min: Some(min), max: Some(max), unit: Some(unit), allowed: Vec::new() }
    }

    /// Fewer than `min` `unit`.
    pub const fn at_least(min: u64, unit: Unit) -> Problem {
        Problem { code: ProblemCode::Range, min: Some(min), max: None, unit: Some(unit), allowed: Vec::new() }
    }

    /// More than `max` `unit`.
    pub const fn at_most(max: u64, unit: Unit) -> Problem {
        Problem { code: ProblemCode::Range, min: None, max: Some(max), unit: Some(unit), allowed: Vec::new() }
    }

    /// Not one of `allowed`.
    pub fn one_of(allowed: &[&str]) -> Problem {
        Problem { allowed: allowed.iter().map(|s| s.to_string()).collect(), ..Problem::is(ProblemCode::OneOf) }
    }

    /// This problem, at `field`.
    pub fn at(self, field: impl Into<String>) -> FieldProblem {
        FieldProblem { field: field.into(), problem: self }
    }
}

impl From<ProblemCode> for Problem {
    fn from(code: ProblemCode) -> Problem {
        Problem::is(code)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use ProblemCode as C;
        let text = match self.code {
            C::Required => "required",
            C::Range => return self.fmt_range(f),
            C::NotTime => "not a time as HH:MM",
            C::NotDate => "not a date as YYYY-MM-DD",
            C::NotDateTime => "not a date and time (RFC 3339, e.g. 2026-12-04T10:00:00+09:00)",
            C::NotMonth => "not a month as YYYY-MM",
            C::NotWeekday => "not a weekday (mon, tue, wed, thu, fri, sat, sun)",
            C::NotTimeZone => "not a known IANA time zone",
            C::NotLanguage => "not a language tag (e.g. vi, pt, ne)",
            C::NotPhone => "a phone number: 3 to 20 digits, with + - ( ) and spaces",
            C::OneOf => return write!(f, "one of {}", self.allowed.join(", ")),
            C::Duplicate => "named twice",
            C::Unknown => "names something that does not exist",
            C::Taken => "taken",
            C::BeforeStart => "ends before it starts",
            C::SameTime => "starts and ends at the same time",
            C::DeskSide => "Japanese is the desk side",
            C::TooSoon => "too soon: choose a later time",
            C::Past => "must not be in the past",
            C::TooFar => return write!(f, "at most {} days ahead", self.max.unwrap_or(0)),
            C::NotHundred => "the parts add up to 100",
            C::WrongCode => "not the current code of the app set up (or nothing is being set up)",
            C::NotKept => "this municipality does not keep notes",
            C::ReadOnly => "not changed here",
            C::NotApplicable => "does not apply here",
            C::NotFraction => "above 0 and below 1 (0.8 is 80%)",
            C::AlwaysAlone => "an always-on roster has no shifts, days off or extras",
            C::DaysOrWeekday => "give days (weekly) or weekday with nth (monthly), one of them",
            C::OpenStep => "only the last step may have no duration",
        };
        f.write_str(text)
    }
}

impl Problem {
    fn fmt_range(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.unit {
            Some(Unit::Characters) => " characters",
            Some(Unit::Entries) => " entries",
            Some(Unit::Days) => " days",
            Some(Unit::Seconds) => " s",
            Some(Unit::Yen) => " yen",
            Some(Unit::Number) | None => "",
        };
        match (self.min, self.max) {
            (Some(a), Some(b)) => write!(f, "{a} to {b}{unit}"),
            (Some(a), None) => write!(f, "at least {a}{unit}"),
            (None, Some(b)) => write!(f, "at most {b}{unit}"),
            (None, None) => f.write_str("out of range"),
        }
    }
}

/// A field that is not right, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldProblem {
    /// The field, as a path into what was sent, e.g. `roster.shifts[1].start`.
    pub field: String,
    /// What is wrong with it.
    #[serde(flatten)]
    pub problem: Problem,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_wording_and_wire_form() {
        let p = Problem::range(1, 200, Unit::Characters).at("name");
        assert_eq!(p.to_string(), "name: 1 to 200 characters");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"field": "name", "code": "range", "min": 1, "max": 200, "unit": "characters"})
        );
        let p = Problem::one_of(&["minutes", "consultations"]).at("usage_basis");
        assert_eq!(p.to_string(), "usage_basis: one of minutes, consultations");
        assert_eq!(serde_json::to_value(&p).unwrap()["allowed"][1], "consultations");
        assert_eq!(Problem::at_most(500, Unit::Entries).to_string(), "at most 500 entries");
    }

    /// Every code, from the schema the OpenAPI document shows.
    fn codes() -> Vec<String> {
        let schema = serde_json::to_value(schemars::schema_for!(ProblemCode)).unwrap();
        let mut codes = Vec::new();
        let mut walk = vec![&schema];
        while let Some(v) = walk.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, x) in m {
                        match (k.as_str(), x) {
                            ("const", serde_json::Value::String(c)) => codes.push(c.clone()),
                            ("enum", serde_json::Value::Array(a)) => {
                                codes.extend(a.iter().filter_map(|c| c.as_str().map(str::to_string)))
                            }
                            _ => walk.push(x),
                        }
                    }
                }
                serde_json::Value::Array(a) => walk.extend(a),
                _ => {}
            }
        }
        codes
    }

    #[test]
    fn every_code_is_documented_and_said_by_the_pages() {
        let codes = codes();
        assert!(codes.len() > 25 && codes.contains(&"open_step".to_string()), "{codes:?}");
        let readme = include_str!("../../../proto/README.md");
        let pages = include_str!("../web/common/errors.js");
        for code in codes {
            assert!(readme.contains(&format!("`{code}`")), "{code} is not in proto/README.md");
            let said = code == "range" || pages.contains(&format!(" {code}: '"));
            assert!(said, "{code} has no words in web/common/errors.js");
        }
    }
}
