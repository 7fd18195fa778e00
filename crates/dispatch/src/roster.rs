//! Weekly rosters in a time zone, with monthly rules ("1st and 3rd Wednesday") and dated
//! exceptions (leave, holidays, extra shifts).
//!
//! The engine never evaluates a roster on the hot path: it asks [`Roster::state_at`] at
//! a roster transition, stores "on roster" as a flag and sets a timer for the next change.

use std::fmt;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;

use crate::time::Timestamp;

/// A set of weekdays.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeekdaySet(u8);

impl WeekdaySet {
    /// Monday to Friday.
    pub const WEEKDAYS: WeekdaySet = WeekdaySet(0b001_1111);
    /// Every day.
    pub const EVERY_DAY: WeekdaySet = WeekdaySet(0b111_1111);

    /// The set of the given days.
    pub fn of(days: &[Weekday]) -> WeekdaySet {
        WeekdaySet(days.iter().fold(0, |acc, d| acc | 1 << d.to_monday_zero_offset()))
    }

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.to_monday_zero_offset()) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for WeekdaySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        f.debug_set().entries((0..7).filter(|i| self.0 & (1 << i) != 0).map(|i| names[i])).finish()
    }
}

/// A weekday in a snapshot: 1 (Monday) to 7 (Sunday).
#[cfg(feature = "serde")]
mod weekday_number {
    use jiff::civil::Weekday;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(day: &Weekday, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i8(day.to_monday_one_offset())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Weekday, D::Error> {
        Weekday::from_monday_one_offset(i8::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// Which days a shift applies to.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Days {
    /// Every week on these weekdays ("Fridays", "Monday to Friday").
    Weekly(WeekdaySet),
    /// The given occurrences of one weekday in each month: `nth` holds 1 to 5;
    /// `last` adds the month's last such weekday ("1st and 3rd Wednesday").
    Monthly {
        /// The weekday.
        #[cfg_attr(feature = "serde", serde(with = "weekday_number"))]
        weekday: Weekday,
        /// Occurrences, 1-based.
        nth: Vec<u8>,
        /// Also the last occurrence of the month.
        last: bool,
    },
}

impl Days {
    fn matches(&self, date: Date) -> bool {
        match self {
            Days::Weekly(set) => set.contains(date.weekday()),
            Days::Monthly { weekday, nth, last } => {
                if date.weekday() != *weekday {
                    return false;
                }
                let occurrence = ((date.day() - 1) / 7 + 1) as u8;
                nth.contains(&occurrence) || (*last && date.day() + 7 > date.days_in_month())
            }
        }
    }
}

/// A working window on the days it applies to. An `end` at or before `start` runs
/// overnight into the next day.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Shift {
    /// The days the shift starts on.
    pub days: Days,
    /// Local start time.
    pub start: Time,
    /// Local end time (exclusive).
    pub end: Time,
}

/// A dated change to the weekly pattern.
#[derive(Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Exception {
    /// No regular shift starts on these dates (inclusive): leave, public holidays.
    Off {
        /// First day off.
        from: Date,
        /// Last day off.
        until: Date,
    },
    /// An extra window on one date (a reservation day, a covered absence).
    Extra {
        /// The date.
        date: Date,
        /// Local start.
        start: Time,
        /// Local end (exclusive; at or before `start` runs overnight).
        end: Time,
    },
}

/// When an interpreter may be offered calls.
#[derive(Clone, PartialEq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Roster {
    #[cfg_attr(feature = "serde", serde(with = "jiff::fmt::serde::tz::required"))]
    tz: TimeZone,
    always: bool,
    shifts: Vec<Shift>,
    exceptions: Vec<Exception>,
}

/// A roster that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    /// A shift or extra window with the same start and end.
    #[error("shift {index} starts and ends at the same time")]
    EmptyShift {
        /// Position of the shift (or exception) in its list.
        index: usize,
    },
    /// A weekly shift with no day, or a monthly one with no occurrence.
    #[error("shift {index} applies to no day")]
    NoDays {
        /// Position of the shift in its list.
        index: usize,
    },
    /// A monthly occurrence outside 1 to 5.
    #[error("shift {index}: occurrence {nth} of a weekday in a month must be 1 to 5")]
    BadOccurrence {
        /// Position of the shift in its list.
        index: usize,
        /// The occurrence given.
        nth: u8,
    },
    /// A leave range that ends before it starts.
    #[error("exception {index}: the day-off range ends before it starts")]
    BackwardsRange {
        /// Position of the exception in its list.
        index: usize,
    },
}

/// Whether a roster is on at an instant, and when that next changes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RosterState {
    /// On roster now.
    pub on: bool,
    /// The next instant at which `on` flips; `None` when it never does within 400 days.
    pub next_change: Option<Timestamp>,
}

impl Roster {
    /// Always on: for interpreters whose availability is governed by presence alone.
    pub fn always() -> Roster {
        Roster { tz: TimeZone::UTC, always: true, shifts: Vec::new(), exceptions: Vec::new() }
    }

    /// A roster of weekly or monthly shifts in `tz`, with dated exceptions.
    pub fn new(tz: TimeZone, shifts: Vec<Shift>, exceptions: Vec<Exception>) -> Result<Roster, RosterError> {
        for (index, s) in shifts.iter().enumerate() {
            if s.start == s.end {
                return Err(RosterError::EmptyShift { index });
            }
            match &s.days {
                Days::Weekly(set) if set.is_empty() => return Err(RosterError::NoDays { index }),
                Days::Monthly { nth, last, .. } => {
                    if nth.is_empty() && !last {
                        return Err(RosterError::NoDays { index });
                    }
                    if let Some(&nth) = nth.iter().find(|n| !(1..=5).contains(*n)) {
                        return Err(RosterError::BadOccurrence { index, nth });
                    }
                }
                Days::Weekly(_) => {}
            }
        }
        for (index, e) in exceptions.iter().enumerate() {
            match e {
                Exception::Off { from, until } if until < from => return Err(RosterError::BackwardsRange { index }),
                Exception::Extra { start, end, .. } if start == end => return Err(RosterError::EmptyShift { index }),
                _ => {}
            }
        }
        Ok(Roster { tz, always: false, shifts, exceptions })
    }

    /// The roster's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Whether this roster is always on.
    pub fn is_always(&self) -> bool {
        self.always
    }

    /// Whether the roster is on at `at`, and when that next changes.
    pub fn state_at(&self, at: Timestamp) -> RosterState {
        if self.always {
            return RosterState { on: true, next_change: None };
        }
        let today = self.tz.to_datetime(at.to_jiff()).date();
        // Look a little ahead first (weekly rules), then far (monthly rules, extras).
        for horizon in [9_i32, 70, 400] {
            let windows = self.windows(today, horizon);
            if let Some(w) = windows.iter().find(|w| w.1 > at) {
                return if w.0 <= at {
                    RosterState { on: true, next_change: Some(w.1) }
                } else {
                    RosterState { on: false, next_change: Some(w.0) }
                };
            }
        }
        RosterState { on: false, next_change: None }
    }

    /// Whether the roster is on during the whole of `[from, until)`.
    pub fn covers(&self, from: Timestamp, until: Timestamp) -> bool {
        let s = self.state_at(from);
        s.on && s.next_change.is_none_or(|c| c >= until)
    }

    /// Merged on-windows starting from the day before `today` to `today + horizon`.
    fn windows(&self, today: Date, horizon: i32) -> Vec<(Timestamp, Timestamp)> {
        let mut out = Vec::new();
        for offset in -1..=horizon {
            let Ok(date) = today.checked_add(jiff::Span::new().days(offset)) else { continue };
            let off = self
                .exceptions
                .iter()
                .any(|e| matches!(e, Exception::Off { from, until } if *from <= date && date <= *until));
            if !off {
                for s in self.shifts.iter().filter(|s| s.days.matches(date)) {
                    self.push_window(&mut out, date, s.start, s.end);
                }
            }
            for e in &self.exceptions {
                if let Exception::Extra { date: d, start, end } = e
                    && *d == date
                {
                    self.push_window(&mut out, date, *start, *end);
                }
            }
        }
        out.sort_unstable();
        let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(out.len());
        for w in out {
            match merged.last_mut() {
                Some(last) if w.0 <= last.1 => last.1 = last.1.max(w.1),
                _ => merged.push(w),
            }
        }
        merged
    }

    fn push_window(&self, out: &mut Vec<(Timestamp, Timestamp)>, date: Date, start: Time, end: Time) {
        let end_date = if end <= start { date.tomorrow() } else { Ok(date) };
        let (Ok(s), Ok(e)) = (
            self.tz.to_timestamp(DateTime::from_parts(date, start)),
            end_date.and_then(|d| self.tz.to_timestamp(DateTime::from_parts(d, end))),
        ) else {
            return;
        };
        if s < e {
            out.push((Timestamp::from_jiff(s), Timestamp::from_jiff(e)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").unwrap()
    }

    fn at(tz: &TimeZone, y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        Timestamp::from_jiff(tz.to_timestamp(date(y, m, d).at(h, min, 0, 0)).unwrap())
    }

    /// Hiroshima's Filipino counsellor: Fridays, and the 1st and 3rd Wednesdays.
    fn filipino() -> Roster {
        Roster::new(
            tokyo(),
            vec![
                Shift {
                    days: Days::Weekly(WeekdaySet::of(&[Weekday::Friday])),
                    start: time(9, 0, 0, 0),
                    end: time(17, 0, 0, 0),
                },
                Shift {
                    days: Days::Monthly { weekday: Weekday::Wednesday, nth: vec![1, 3], last: false },
                    start: time(9, 0, 0, 0),
                    end: time(17, 0, 0, 0),
                },
            ],
            vec![],
        )
        .unwrap()
    }

    #[test]
    fn fridays_and_first_and_third_wednesdays() {
        let tz = tokyo();
        let r = filipino();
        // December 2026: Wed 2 (1st), Wed 9 (2nd), Wed 16 (3rd), Fri 4.
        assert!(r.state_at(at(&tz, 2026, 12, 2, 10, 0)).on);
        assert!(!r.state_at(at(&tz, 2026, 12, 9, 10, 0)).on);
        assert!(r.state_at(at(&tz, 2026, 12, 16, 10, 0)).on);
        assert!(r.state_at(at(&tz, 2026, 12, 4, 16, 59)).on);
        assert!(!r.state_at(at(&tz, 2026, 12, 4, 17, 0)).on);
        assert!(!r.state_at(at(&tz, 2026, 12, 4, 8, 59)).on);
        // Thursday 3rd, evening: next change is Friday 09:00.
        let s = r.state_at(at(&tz, 2026, 12, 3, 20, 0));
        assert_eq!(s, RosterState { on: false, next_change: Some(at(&tz, 2026, 12, 4, 9, 0)) });
        // On Friday: next change is 17:00.
        assert_eq!(r.state_at(at(&tz, 2026, 12, 4, 9, 0)).next_change, Some(at(&tz, 2026, 12, 4, 17, 0)));
        // After Wednesday 9th (2nd, off) the next window is Friday 11th.
        assert_eq!(r.state_at(at(&tz, 2026, 12, 9, 10, 0)).next_change, Some(at(&tz, 2026, 12, 11, 9, 0)));
    }

    #[test]
    fn leave_and_extra_shifts() {
        let tz = tokyo();
        let r = Roster::new(
            tz.clone(),
            vec![Shift { days: Days::Weekly(WeekdaySet::WEEKDAYS), start: time(9, 0, 0, 0), end: time(17, 0, 0, 0) }],
            vec![
                Exception::Off { from: date(2026, 12, 29), until: date(2027, 1, 3) },
                Exception::Extra { date: date(2026, 12, 30), start: time(10, 0, 0, 0), end: time(12, 0, 0, 0) },
            ],
        )
        .unwrap();
        assert!(r.state_at(at(&tz, 2026, 12, 28, 12, 0)).on);
        assert!(!r.state_at(at(&tz, 2026, 12, 29, 12, 0)).on);
        assert!(r.state_at(at(&tz, 2026, 12, 30, 11, 0)).on);
        assert!(!r.state_at(at(&tz, 2026, 12, 31, 11, 0)).on);
        assert_eq!(r.state_at(at(&tz, 2026, 12, 30, 13, 0)).next_change, Some(at(&tz, 2027, 1, 4, 9, 0)));
        assert!(r.covers(at(&tz, 2027, 1, 4, 9, 0), at(&tz, 2027, 1, 4, 17, 0)));
        assert!(!r.covers(at(&tz, 2027, 1, 4, 9, 0), at(&tz, 2027, 1, 4, 17, 1)));
    }

    #[test]
    fn overnight_shifts_and_last_weekday() {
        let tz = tokyo();
        let r = Roster::new(
            tz.clone(),
            vec![Shift {
                days: Days::Monthly { weekday: Weekday::Saturday, nth: vec![], last: true },
                start: time(18, 0, 0, 0),
                end: time(2, 0, 0, 0),
            }],
            vec![],
        )
        .unwrap();
        // Last Saturday of December 2026 is the 26th.
        assert!(!r.state_at(at(&tz, 2026, 12, 19, 19, 0)).on);
        assert!(r.state_at(at(&tz, 2026, 12, 26, 19, 0)).on);
        assert!(r.state_at(at(&tz, 2026, 12, 27, 1, 59)).on);
        assert!(!r.state_at(at(&tz, 2026, 12, 27, 2, 0)).on);
    }

    #[test]
    fn time_zone_with_daylight_saving() {
        // An interpreter in Lisbon: 09:00-13:00 local every day, across the March change.
        let tz = TimeZone::get("Europe/Lisbon").unwrap();
        let r = Roster::new(
            tz.clone(),
            vec![Shift { days: Days::Weekly(WeekdaySet::EVERY_DAY), start: time(9, 0, 0, 0), end: time(13, 0, 0, 0) }],
            vec![],
        )
        .unwrap();
        let before = r.state_at(at(&tz, 2027, 3, 27, 9, 30));
        let after = r.state_at(at(&tz, 2027, 3, 29, 9, 30));
        assert!(before.on && after.on);
        // 09:00 local is 09:00 UTC before the change and 08:00 UTC after it.
        assert_eq!(
            r.state_at(at(&tz, 2027, 3, 26, 20, 0)).next_change.unwrap().as_millis() % 86_400_000,
            9 * 3_600_000
        );
        assert_eq!(
            r.state_at(at(&tz, 2027, 3, 29, 20, 0)).next_change.unwrap().as_millis() % 86_400_000,
            8 * 3_600_000
        );
    }

    #[test]
    fn bad_rosters_are_refused() {
        let s = |days| Shift { days, start: time(9, 0, 0, 0), end: time(10, 0, 0, 0) };
        assert_eq!(
            Roster::new(tokyo(), vec![s(Days::Weekly(WeekdaySet::default()))], vec![]),
            Err(RosterError::NoDays { index: 0 })
        );
        assert_eq!(
            Roster::new(
                tokyo(),
                vec![s(Days::Monthly { weekday: Weekday::Monday, nth: vec![6], last: false })],
                vec![]
            ),
            Err(RosterError::BadOccurrence { index: 0, nth: 6 })
        );
        assert_eq!(
            Roster::new(
                tokyo(),
                vec![Shift {
                    days: Days::Weekly(WeekdaySet::WEEKDAYS),
                    start: time(9, 0, 0, 0),
                    end: time(9, 0, 0, 0)
                }],
                vec![]
            ),
            Err(RosterError::EmptyShift { index: 0 })
        );
        assert_eq!(
            Roster::new(tokyo(), vec![], vec![Exception::Off { from: date(2026, 2, 2), until: date(2026, 2, 1) }]),
            Err(RosterError::BackwardsRange { index: 0 })
        );
        let never = Roster::new(tokyo(), vec![], vec![]).unwrap();
        assert_eq!(never.state_at(Timestamp::from_secs(1_800_000_000)), RosterState { on: false, next_change: None });
        assert!(Roster::always().state_at(Timestamp::EPOCH).on);
    }
}
