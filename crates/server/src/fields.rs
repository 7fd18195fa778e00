//! Days and times as requests write them (`mon`, `09:00`, `2026-12-29`), parsed with the
//! field named when they are wrong. Rosters and the centre calendar both read them.

use jiff::civil::{Date, Time, Weekday};

use crate::problem::{FieldProblem, Problem, ProblemCode as C};

/// The weekdays by the names requests give them.
pub const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// A weekday: `mon` … `sun`.
pub fn weekday(text: &str, field: impl Into<String>) -> Result<Weekday, FieldProblem> {
    WEEKDAYS
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, day)| *day)
        .ok_or_else(|| Problem::is(C::NotWeekday).at(field))
}

/// A time of day as `HH:MM`, 00:00 to 23:59.
pub fn clock(text: &str, field: impl Into<String>) -> Result<Time, FieldProblem> {
    let b = text.as_bytes();
    let shaped = b.len() == 5 && b[2] == b':' && b.iter().enumerate().all(|(i, c)| i == 2 || c.is_ascii_digit());
    let (h, m) =
        if shaped { (text[..2].parse::<i8>().unwrap_or(99), text[3..].parse::<i8>().unwrap_or(99)) } else { (99, 99) };
    if h < 24 && m < 60 { Time::new(h, m, 0, 0).ok() } else { None }.ok_or_else(|| Problem::is(C::NotTime).at(field))
}

/// A date as `YYYY-MM-DD`.
pub fn date(text: &str, field: impl Into<String>) -> Result<Date, FieldProblem> {
    let shaped = text.len() == 10;
    shaped.then(|| text.parse::<Date>().ok()).flatten().ok_or_else(|| Problem::is(C::NotDate).at(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times_as_written() {
        assert_eq!(weekday("wed", "x"), Ok(Weekday::Wednesday));
        assert_eq!(
            weekday("Wed", "days[0]").unwrap_err().to_string(),
            "days[0]: not a weekday (mon, tue, wed, thu, fri, sat, sun)"
        );
        assert_eq!(clock("09:30", "x"), Ok(Time::new(9, 30, 0, 0).unwrap()));
        for wrong in ["24:00", "9:00", "09:60", "0930", "09:3a", "+9:00", "０９:００"] {
            assert_eq!(clock(wrong, "x").unwrap_err().problem.code, C::NotTime, "{wrong}");
        }
        assert_eq!(date("2026-12-29", "x"), Ok(jiff::civil::date(2026, 12, 29)));
        for wrong in ["2026-2-30", "2026-02-30", "+002026-12-29", "29/12/2026", ""] {
            assert_eq!(date(wrong, "x").unwrap_err().problem.code, C::NotDate, "{wrong}");
        }
    }
}
