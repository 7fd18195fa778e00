//! What the directory's JSON accepts, as JSON Schema for the OpenAPI document: the names
//! each string field takes (tiers, modalities, specialities, languages, weekdays, time
//! zones) and the shape of times and dates, from the same lists the parsers use, so a
//! client (or schemathesis) reads the rules instead of guessing them.

use kakehashi_dispatch as d;
use schemars::{Schema, SchemaGenerator, json_schema};

fn one_of(names: Vec<String>) -> Schema {
    json_schema!({ "type": "string", "enum": names })
}

fn list_of(names: Vec<String>, min: usize) -> Schema {
    json_schema!({ "type": "array", "items": { "type": "string", "enum": names }, "minItems": min })
}

fn tags(japanese: bool) -> Vec<String> {
    d::LanguageId::all().filter(|l| japanese || *l != d::LanguageId::JAPANESE).map(|l| l.tag().to_string()).collect()
}

/// A tier name.
pub fn tier(_: &mut SchemaGenerator) -> Schema {
    one_of(d::Tier::ALL.iter().map(|t| t.as_str().to_string()).collect())
}

/// Tier names, at least one.
pub fn tiers(_: &mut SchemaGenerator) -> Schema {
    list_of(d::Tier::ALL.iter().map(|t| t.as_str().to_string()).collect(), 1)
}

/// Modality names, at least one.
pub fn modalities(_: &mut SchemaGenerator) -> Schema {
    list_of(vec!["video".into(), "audio".into(), "phone".into()], 1)
}

/// Speciality names.
pub fn specialities(_: &mut SchemaGenerator) -> Schema {
    list_of(d::Speciality::ALL.iter().map(|s| s.as_str().to_string()).collect(), 0)
}

/// Languages paired with Japanese (an interpreter's): every catalogue tag but `ja`, at
/// least one.
pub fn paired_languages(_: &mut SchemaGenerator) -> Schema {
    list_of(tags(false), 1)
}

/// Languages pinned to a grid: catalogue tags but `ja`, each once.
pub fn pinned_languages(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "array", "items": { "type": "string", "enum": tags(false) }, "uniqueItems": true })
}

/// Any catalogue languages.
pub fn languages(_: &mut SchemaGenerator) -> Schema {
    list_of(tags(true), 0)
}

/// An IANA time zone of the bundled database.
pub fn time_zone(_: &mut SchemaGenerator) -> Schema {
    one_of(jiff::tz::db().available().map(|n| n.to_string()).collect())
}

/// An IANA time zone, or nothing.
pub fn time_zone_or_null(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<Option<String>> =
        jiff::tz::db().available().map(|n| Some(n.to_string())).chain(std::iter::once(None)).collect();
    json_schema!({ "type": ["string", "null"], "enum": names })
}

/// Weekday names.
fn weekday_names() -> Vec<String> {
    crate::fields::WEEKDAYS.map(|(name, _)| name.to_string()).to_vec()
}

/// Weekdays (weekly shifts).
pub fn weekdays(_: &mut SchemaGenerator) -> Schema {
    list_of(weekday_names(), 0)
}

/// A weekday or nothing (monthly shifts).
pub fn weekday_or_null(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<Option<String>> = weekday_names().into_iter().map(Some).chain(std::iter::once(None)).collect();
    json_schema!({ "type": ["string", "null"], "enum": names })
}

/// `HH:MM`, 00:00 to 23:59.
pub fn clock(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$" })
}

/// `YYYY-MM-DD`.
pub fn date(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "date" })
}

/// A name people read: 1 to 200 characters, not only spaces.
pub fn name(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S" })
}
