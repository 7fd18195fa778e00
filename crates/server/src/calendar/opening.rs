//! When a centre is open: regular hours per weekday, closed on Japan's public holidays
//! and over the year's end (12/29–1/3, as municipal offices are) unless told otherwise,
//! dated closures, and extra openings (a Saturday consultation day, an evening session).
//! Edited as a document (`CalendarDoc`, strict, errors naming the field) and used as a
//! [`Calendar`]: what a day's plan is, whether it is open at an instant, and when it next
//! opens.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::holidays;
use crate::fields::{clock, date, weekday};
use crate::problem::{FieldProblem, Problem, ProblemCode as C, Unit};

fn yes() -> bool {
    true
}

fn tokyo() -> String {
    "Asia/Tokyo".into()
}

/// The calendar as stored and edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDoc {
    /// IANA time zone of the hours (default `Asia/Tokyo`).
    #[serde(default = "tokyo")]
    pub time_zone: String,
    /// Regular opening hours.
    #[serde(default)]
    pub hours: Vec<HoursDoc>,
    /// Closed on Japan's public holidays (default true).
    #[serde(default = "yes")]
    pub closed_on_holidays: bool,
    /// Closed from 29 December to 3 January (default true).
    #[serde(default = "yes")]
    pub closed_year_end: bool,
    /// Dated closures.
    #[serde(default)]
    pub closures: Vec<ClosureDoc>,
    /// Extra openings on dates (on top of, or instead of being closed).
    #[serde(default)]
    pub extra: Vec<ExtraDoc>,
}

impl Default for CalendarDoc {
    /// A municipal office's: weekdays 08:30–17:15, closed on holidays and over the year's end.
    fn default() -> CalendarDoc {
        CalendarDoc {
            time_zone: tokyo(),
            hours: vec![HoursDoc {
                days: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| d.to_string()).collect(),
                open: "08:30".into(),
                close: "17:15".into(),
            }],
            closed_on_holidays: true,
            closed_year_end: true,
            closures: Vec::new(),
            extra: Vec::new(),
        }
    }
}

/// Hours on some weekdays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursDoc {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// Opening, `HH:MM`.
    pub open: String,
    /// Closing, `HH:MM`, after opening.
    pub close: String,
}

/// A closure, inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureDoc {
    /// The first day closed, `YYYY-MM-DD`.
    pub from: String,
    /// The last day closed.
    pub until: String,
    /// Why, as residents are told (`臨時休館`).
    #[serde(default)]
    pub reason: String,
}

/// An extra opening.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraDoc {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Opening, `HH:MM`.
    pub open: String,
    /// Closing, `HH:MM`.
    pub close: String,
    /// What it is (`夜間相談`).
    #[serde(default)]
    pub note: String,
}

/// A field that is not right (e.g. `hours[0].open`), and why.
pub type CalendarError = FieldProblem;

fn bad(field: String, problem: impl Into<Problem>) -> CalendarError {
    problem.into().at(field)
}

/// A day's plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DayPlan {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Open windows, `HH:MM`–`HH:MM`, in order; empty when closed.
    pub open: Vec<(String, String)>,
    /// Why it is closed when a regular day would be open (a holiday's name, a closure's
    /// reason), or what an extra opening is.
    pub note: Option<String>,
}

/// A checked calendar. In a snapshot it is the document it was checked from.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(into = "CalendarDoc", try_from = "CalendarDoc")]
pub struct Calendar {
    doc: CalendarDoc,
    tz: TimeZone,
    hours: Vec<(Vec<Weekday>, Time, Time)>,
    holidays: bool,
    year_end: bool,
    closures: Vec<(Date, Date, String)>,
    extra: Vec<(Date, Time, Time, String)>,
}

/// The longest a search for the next opening looks ahead.
const HORIZON_DAYS: i32 = 400;

impl CalendarDoc {
    /// The calendar, or the first field that is wrong.
    pub fn to_calendar(&self) -> Result<Calendar, CalendarError> {
        let tz = TimeZone::get(&self.time_zone).map_err(|_| bad("time_zone".into(), C::NotTimeZone))?;
        let mut hours = Vec::new();
        for (i, h) in self.hours.iter().enumerate() {
            if h.days.is_empty() {
                return Err(bad(format!("hours[{i}].days"), Problem::at_least(1, Unit::Entries)));
            }
            let days = h
                .days
                .iter()
                .enumerate()
                .map(|(j, d)| weekday(d, format!("hours[{i}].days[{j}]")))
                .collect::<Result<Vec<_>, _>>()?;
            let (open, close) =
                (clock(&h.open, format!("hours[{i}].open"))?, clock(&h.close, format!("hours[{i}].close"))?);
            if close <= open {
                return Err(bad(format!("hours[{i}].close"), C::BeforeStart));
            }
            hours.push((days, open, close));
        }
        let mut closures = Vec::new();
        for (i, c) in self.closures.iter().enumerate() {
            let (from, until) =
                (date(&c.from, format!("closures[{i}].from"))?, date(&c.until, format!("closures[{i}].until"))?);
            if until < from {
                return Err(bad(format!("closures[{i}].until"), C::BeforeStart));
            }
            if c.reason.chars().count() > 100 {
                return Err(bad(format!("closures[{i}].reason"), Problem::at_most(100, Unit::Characters)));
            }
            closures.push((from, until, c.reason.clone()));
        }
        let mut extra = Vec::new();
        for (i, x) in self.extra.iter().enumerate() {
            let day = date(&x.date, format!("extra[{i}].date"))?;
            let (open, close) =
                (clock(&x.open, format!("extra[{i}].open"))?, clock(&x.close, format!("extra[{i}].close"))?);
            if close <= open {
                return Err(bad(format!("extra[{i}].close"), C::BeforeStart));
            }
            if x.note.chars().count() > 100 {
                return Err(bad(format!("extra[{i}].note"), Problem::at_most(100, Unit::Characters)));
            }
            extra.push((day, open, close, x.note.clone()));
        }
        if self.hours.len() + self.closures.len() + self.extra.len() > 500 {
            return Err(bad("extra".into(), Problem::at_most(500, Unit::Entries)));
        }
        Ok(Calendar {
            doc: self.clone(),
            tz,
            hours,
            holidays: self.closed_on_holidays,
            year_end: self.closed_year_end,
            closures,
            extra,
        })
    }
}

impl From<Calendar> for CalendarDoc {
    fn from(calendar: Calendar) -> CalendarDoc {
        calendar.doc
    }
}

impl TryFrom<CalendarDoc> for Calendar {
    type Error = CalendarError;

    fn try_from(doc: CalendarDoc) -> Result<Calendar, CalendarError> {
        doc.to_calendar()
    }
}

impl Calendar {
    /// The calendar's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Open windows of `date` and why it differs from a regular day.
    fn windows(&self, date: Date) -> (Vec<(Time, Time)>, Option<String>) {
        let mut open: Vec<(Time, Time)> = Vec::new();
        let mut note = None;
        let closure = self.closures.iter().find(|c| (c.0..=c.1).contains(&date));
        let holiday = if self.holidays { holidays::holiday(date) } else { None };
        let year_end = self.year_end && matches!((date.month(), date.day()), (12, 29..=31) | (1, 1..=3));
        if let Some(c) = closure {
            note = Some(c.2.clone());
        } else if let Some(h) = holiday {
            note = Some(h.japanese.to_string());
        } else if year_end {
            note = Some("年末年始".to_string());
        } else {
            open.extend(self.hours.iter().filter(|h| h.0.contains(&date.weekday())).map(|h| (h.1, h.2)));
        }
        for x in self.extra.iter().filter(|x| x.0 == date) {
            open.push((x.1, x.2));
            if !x.3.is_empty() {
                note = Some(x.3.clone());
            }
        }
        open.sort();
        (open, note.filter(|n| !n.is_empty()))
    }

    /// The plan of `date`.
    pub fn day(&self, date: Date) -> DayPlan {
        let (open, note) = self.windows(date);
        let hm = |t: Time| t.strftime("%H:%M").to_string();
        DayPlan { date: date.to_string(), open: open.into_iter().map(|(a, b)| (hm(a), hm(b))).collect(), note }
    }

    /// The plans of `n` days from the centre's day at `now` (today first).
    pub fn days_from(&self, now: jiff::Timestamp, n: usize) -> Vec<DayPlan> {
        let mut date = now.to_zoned(self.tz.clone()).date();
        let mut days = Vec::with_capacity(n);
        for _ in 0..n {
            days.push(self.day(date));
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        days
    }

    /// Whether it is open at `at`.
    pub fn is_open(&self, at: jiff::Timestamp) -> bool {
        let local = at.to_zoned(self.tz.clone());
        let (date, now) = (local.date(), local.time());
        self.windows(date).0.iter().any(|(a, b)| *a <= now && now < *b)
    }

    /// Whether `[start, end)` lies within one open window of its day; why not, in
    /// words, otherwise.
    pub fn covers(&self, start: jiff::Timestamp, end: jiff::Timestamp) -> Result<(), String> {
        let (s, e) = (start.to_zoned(self.tz.clone()), end.to_zoned(self.tz.clone()));
        let date = s.date();
        let (open, note) = self.windows(date);
        let hm = |t: Time| t.strftime("%H:%M").to_string();
        if open.is_empty() {
            let why = note.map(|n| format!(" ({n})")).unwrap_or_default();
            return Err(format!("the centre is closed on {date}{why}"));
        }
        if e.date() == date && open.iter().any(|(a, b)| *a <= s.time() && e.time() <= *b) {
            return Ok(());
        }
        let hours: Vec<String> = open.iter().map(|(a, b)| format!("{}–{}", hm(*a), hm(*b))).collect();
        Err(format!("{}–{} on {date} is outside the opening hours ({})", hm(s.time()), hm(e.time()), hours.join(", ")))
    }

    /// When it next opens at or after `at` (now, when open), within about a year.
    pub fn next_open(&self, at: jiff::Timestamp) -> Option<jiff::Timestamp> {
        if self.is_open(at) {
            return Some(at);
        }
        let local = at.to_zoned(self.tz.clone());
        let mut date = local.date();
        for _ in 0..HORIZON_DAYS {
            for (open, _) in self.windows(date).0 {
                let start = date.to_datetime(open).to_zoned(self.tz.clone()).ok()?.timestamp();
                if start >= at {
                    return Some(start);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get("Asia/Tokyo").unwrap())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn a_municipal_office_with_an_evening_session_and_a_closure() {
        let mut doc = CalendarDoc::default();
        doc.closures.push(ClosureDoc {
            from: "2026-12-10".into(),
            until: "2026-12-11".into(),
            reason: "臨時休館".into(),
        });
        doc.extra.push(ExtraDoc {
            date: "2026-12-16".into(),
            open: "18:00".into(),
            close: "20:00".into(),
            note: "夜間相談".into(),
        });
        let c = doc.to_calendar().unwrap();
        assert!(c.is_open(at("2026-12-04T10:00")), "a Friday morning");
        assert!(!c.is_open(at("2026-12-04T17:15")), "closing time is closed");
        assert!(!c.is_open(at("2026-12-05T10:00")), "a Saturday");
        assert_eq!(c.next_open(at("2026-12-05T10:00")), Some(at("2026-12-07T08:30")), "Monday morning");
        assert_eq!(c.next_open(at("2026-12-09T18:00")), Some(at("2026-12-14T08:30")), "past the closure");
        assert_eq!(c.day(jiff::civil::date(2026, 12, 10)).note.as_deref(), Some("臨時休館"));
        assert!(c.is_open(at("2026-12-16T19:00")), "the evening session");
        assert_eq!(
            c.day(jiff::civil::date(2026, 12, 16)).open,
            vec![("08:30".to_string(), "17:15".to_string()), ("18:00".to_string(), "20:00".to_string())]
        );
        // Year's end and the public holidays after it.
        assert_eq!(c.next_open(at("2026-12-28T17:30")), Some(at("2027-01-04T08:30")));
        assert_eq!(c.day(jiff::civil::date(2027, 1, 11)).note.as_deref(), Some("成人の日"));
        assert_eq!(c.next_open(at("2027-01-08T18:00")), Some(at("2027-01-12T08:30")), "past the holiday Monday");
        // A booked slot must fit one opening window of its day.
        assert_eq!(c.covers(at("2026-12-16T18:00"), at("2026-12-16T19:00")), Ok(()));
        assert_eq!(
            c.covers(at("2026-12-16T17:00"), at("2026-12-16T17:30")).unwrap_err(),
            "17:00–17:30 on 2026-12-16 is outside the opening hours (08:30–17:15, 18:00–20:00)"
        );
        assert_eq!(
            c.covers(at("2027-01-11T10:00"), at("2027-01-11T11:00")).unwrap_err(),
            "the centre is closed on 2027-01-11 (成人の日)"
        );
    }

    #[test]
    fn a_wrong_field_is_named() {
        let wrong = |edit: fn(&mut CalendarDoc)| {
            let mut d = CalendarDoc::default();
            edit(&mut d);
            d.to_calendar().unwrap_err().to_string()
        };
        assert_eq!(wrong(|d| d.hours[0].open = "8:30".into()), "hours[0].open: not a time as HH:MM");
        assert_eq!(wrong(|d| d.hours[0].close = "08:00".into()), "hours[0].close: ends before it starts");
        assert_eq!(
            wrong(|d| d.hours[0].days[1] = "tues".into()),
            "hours[0].days[1]: not a weekday (mon, tue, wed, thu, fri, sat, sun)"
        );
        assert_eq!(wrong(|d| d.time_zone = "Tokyo".into()), "time_zone: not a known IANA time zone");
        assert_eq!(
            wrong(|d| d.closures.push(ClosureDoc {
                from: "2026-12-11".into(),
                until: "2026-12-10".into(),
                reason: String::new()
            })),
            "closures[0].until: ends before it starts"
        );
        let parsed: Result<CalendarDoc, _> = serde_json::from_str(r#"{"hours": [], "holidays": true}"#);
        assert!(parsed.unwrap_err().to_string().contains("unknown field `holidays`"));
        let empty: CalendarDoc = serde_json::from_str("{}").unwrap();
        let c = empty.to_calendar().unwrap();
        assert_eq!(c.next_open(at("2026-12-04T10:00")), None, "no hours, never open");
    }
}
