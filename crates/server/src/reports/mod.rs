//! The centre's paperwork (issue 16), computed from call records and nothing else: the
//! daily report (`daily.rs`), monthly statistics and the shared report (`monthly.rs`),
//! the cost split of a shared centre (`cost_split.rs`), the staffing plan
//! (`staffing.rs`), and the files every report is downloaded as (`table.rs` for
//! CSV, `xlsx.rs` for Excel, with `labels.rs` for what a code prints as). Reports are
//! plain functions of records and names: the HTTP edge (`crate::http::reports`) loads
//! them from the store, checks who may read what, and picks the format.
//!
//! A municipality's reports count the consultations that are its own: those at its desks
//! and those of its residents at a shared centre's desk (the resident's municipality, as
//! the desk recorded it). A member town never sees another member's.

pub mod cost_split;
pub mod daily;
pub mod labels;
pub mod monthly;
pub mod monthly_tables;
pub mod sample;
pub mod staffing;
pub mod table;
pub mod xlsx;

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::store::CallRecord;

pub use daily::{DailyReport, daily};
pub use labels::Lang;
pub use monthly::{MonthlyReport, monthly};
pub use table::{Cell, Table};

/// Names for the ids records hold: municipalities, desks, partners.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Municipalities (tenants).
    pub tenants: HashMap<i64, String>,
    /// Desks, revoked ones too.
    pub desks: HashMap<i64, String>,
    /// Partners, retired ones too.
    pub partners: HashMap<i64, String>,
}

impl Names {
    fn of(map: &HashMap<i64, String>, id: i64) -> String {
        map.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
    }

    /// A municipality's name, or `#id` when it is gone.
    pub fn tenant(&self, id: i64) -> String {
        Names::of(&self.tenants, id)
    }

    /// A desk's name, or `#id`.
    pub fn desk(&self, id: i64) -> String {
        Names::of(&self.desks, id)
    }

    /// A partner's name, or `#id`.
    pub fn partner(&self, id: i64) -> String {
        Names::of(&self.partners, id)
    }
}

/// A span of time, ms since the epoch, `from` included, `to` not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// The first millisecond.
    pub from: i64,
    /// The first millisecond after.
    pub to: i64,
}

impl Period {
    /// The local day `date` in `tz` (23 to 25 hours where clocks change).
    pub fn day(date: Date, tz: &TimeZone) -> Result<Period, jiff::Error> {
        let from = date.to_zoned(tz.clone())?.timestamp().as_millisecond();
        let to = date.tomorrow()?.to_zoned(tz.clone())?.timestamp().as_millisecond();
        Ok(Period { from, to })
    }

    /// The local month that starts on `first` (its first day) in `tz`.
    pub fn month(first: Date, tz: &TimeZone) -> Result<Period, jiff::Error> {
        let first = first.first_of_month();
        let from = first.to_zoned(tz.clone())?.timestamp().as_millisecond();
        let to = first.last_of_month().tomorrow()?.to_zoned(tz.clone())?.timestamp().as_millisecond();
        Ok(Period { from, to })
    }

    /// Whether `ms` falls in it.
    pub fn holds(&self, ms: i64) -> bool {
        (self.from..self.to).contains(&ms)
    }
}

/// Whether a record counts for `municipality`: at its desk, or of its resident.
pub fn counts_for(r: &CallRecord, municipality: i64) -> bool {
    r.tenant_id == municipality || r.residence_id == Some(municipality)
}

/// The interpreter as reports name them: a code, never the name. The centre maps it to the
/// person (the admin page lists interpreters by it); a municipality reading its report
/// cannot.
pub fn interpreter_code(id: i64) -> String {
    format!("I-{id:04}")
}

/// How long a request waited, seconds: until answered, else until it ended.
pub fn wait_secs(r: &CallRecord) -> i64 {
    (r.answered_at.unwrap_or(r.ended_at) - r.requested_at).max(0) / 1000
}

/// How long the interpretation lasted, seconds, when it was answered.
pub fn talk_secs(r: &CallRecord) -> Option<i64> {
    r.answered_at.map(|a| (r.ended_at - a).max(0) / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_day_is_its_own_hours() {
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        let p = Period::day(jiff::civil::date(2026, 12, 4), &tokyo).unwrap();
        // 2026-12-04 00:00 JST is 2026-12-03 15:00 UTC.
        assert_eq!(p.from, 1_796_310_000_000);
        assert_eq!(p.to - p.from, 86_400_000);
        assert!(p.holds(p.from) && !p.holds(p.to));
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let spring = Period::day(jiff::civil::date(2026, 3, 29), &berlin).unwrap();
        assert_eq!(spring.to - spring.from, 23 * 3_600_000);
    }
}
