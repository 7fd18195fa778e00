//! Japan's public holidays (国民の祝日) by the Act on National Holidays as it stands since
//! 2020, computed rather than listed, for any year from 2020 to 2099: fixed dates, the
//! "Happy Monday" days, the equinoxes (the standard approximation, which agrees with the
//! Cabinet's announcements through 2099 within this range's use), substitute holidays
//! (振替休日: a holiday on a Sunday moves to the next weekday that is not one) and the
//! citizens' holiday (国民の休日: a day between two holidays). 2020 and 2021 moved three
//! holidays for the Olympic Games; those years are as they were.

use jiff::civil::{Date, Weekday, date};

/// A public holiday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holiday {
    /// The day.
    pub date: Date,
    /// Its Japanese name.
    pub japanese: &'static str,
    /// Its English name.
    pub english: &'static str,
}

/// The years this module knows.
pub const YEARS: std::ops::RangeInclusive<i16> = 2020..=2099;

/// The `nth` `weekday` of a month.
fn nth(year: i16, month: i8, weekday: Weekday, nth: i8) -> Date {
    date(year, month, 1).nth_weekday_of_month(nth, weekday).unwrap_or_else(|_| date(year, month, 1))
}

/// The day of the vernal (`spring`) or autumnal equinox.
fn equinox(year: i16, spring: bool) -> Date {
    let y = f64::from(year - 1980);
    let base = if spring { 20.8431 } else { 23.2488 };
    let day = (base + 0.242194 * y - (y / 4.0).floor()).floor() as i8;
    date(year, if spring { 3 } else { 9 }, day)
}

/// Every public holiday of `year`, in date order; empty outside [`YEARS`].
pub fn holidays(year: i16) -> Vec<Holiday> {
    if !YEARS.contains(&year) {
        return Vec::new();
    }
    let h = |date, japanese, english| Holiday { date, japanese, english };
    let (marine, mountain, sports) = match year {
        2020 => (date(2020, 7, 23), date(2020, 8, 10), Some(date(2020, 7, 24))),
        2021 => (date(2021, 7, 22), date(2021, 8, 8), Some(date(2021, 7, 23))),
        _ => (nth(year, 7, Weekday::Monday, 3), date(year, 8, 11), None),
    };
    let mut days = vec![
        h(date(year, 1, 1), "元日", "New Year's Day"),
        h(nth(year, 1, Weekday::Monday, 2), "成人の日", "Coming of Age Day"),
        h(date(year, 2, 11), "建国記念の日", "National Foundation Day"),
        h(date(year, 2, 23), "天皇誕生日", "The Emperor's Birthday"),
        h(equinox(year, true), "春分の日", "Vernal Equinox Day"),
        h(date(year, 4, 29), "昭和の日", "Showa Day"),
        h(date(year, 5, 3), "憲法記念日", "Constitution Memorial Day"),
        h(date(year, 5, 4), "みどりの日", "Greenery Day"),
        h(date(year, 5, 5), "こどもの日", "Children's Day"),
        h(marine, "海の日", "Marine Day"),
        h(mountain, "山の日", "Mountain Day"),
        h(nth(year, 9, Weekday::Monday, 3), "敬老の日", "Respect for the Aged Day"),
        h(equinox(year, false), "秋分の日", "Autumnal Equinox Day"),
        h(sports.unwrap_or_else(|| nth(year, 10, Weekday::Monday, 2)), "スポーツの日", "Sports Day"),
        h(date(year, 11, 3), "文化の日", "Culture Day"),
        h(date(year, 11, 23), "勤労感謝の日", "Labour Thanksgiving Day"),
    ];
    days.sort_by_key(|d| d.date);
    let is = |days: &[Holiday], d: Date| days.iter().any(|x| x.date == d);
    // A day between two holidays is one (it can only be in September, and May's three
    // days are each holidays already).
    let mut between = Vec::new();
    for pair in days.windows(2) {
        if let Ok(mid) = pair[0].date.tomorrow()
            && mid.tomorrow().is_ok_and(|after| after == pair[1].date)
            && mid.weekday() != Weekday::Sunday
        {
            between.push(h(mid, "国民の休日", "Citizens' Holiday"));
        }
    }
    days.extend(between);
    // A holiday on a Sunday moves to the next day that is not one.
    let mut substitutes = Vec::new();
    for d in days.iter().filter(|d| d.date.weekday() == Weekday::Sunday) {
        let mut next = d.date;
        while let Ok(n) = next.tomorrow() {
            next = n;
            if !is(&days, next) && !substitutes.iter().any(|s: &Holiday| s.date == next) {
                substitutes.push(h(next, "振替休日", "Substitute Holiday"));
                break;
            }
        }
    }
    days.extend(substitutes);
    days.sort_by_key(|d| d.date);
    days
}

/// The public holiday on `day`, if it is one.
pub fn holiday(day: Date) -> Option<Holiday> {
    holidays(day.year()).into_iter().find(|h| h.date == day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(year: i16) -> Vec<String> {
        holidays(year).iter().map(|h| format!("{} {}", h.date.strftime("%m-%d"), h.japanese)).collect()
    }

    #[test]
    fn the_years_as_the_cabinet_office_lists_them() {
        // 内閣府「国民の祝日について」, 2025 to 2027.
        assert_eq!(
            listed(2025),
            [
                "01-01 元日",
                "01-13 成人の日",
                "02-11 建国記念の日",
                "02-23 天皇誕生日",
                "02-24 振替休日",
                "03-20 春分の日",
                "04-29 昭和の日",
                "05-03 憲法記念日",
                "05-04 みどりの日",
                "05-05 こどもの日",
                "05-06 振替休日",
                "07-21 海の日",
                "08-11 山の日",
                "09-15 敬老の日",
                "09-23 秋分の日",
                "10-13 スポーツの日",
                "11-03 文化の日",
                "11-23 勤労感謝の日",
                "11-24 振替休日",
            ]
        );
        assert_eq!(
            listed(2026),
            [
                "01-01 元日",
                "01-12 成人の日",
                "02-11 建国記念の日",
                "02-23 天皇誕生日",
                "03-20 春分の日",
                "04-29 昭和の日",
                "05-03 憲法記念日",
                "05-04 みどりの日",
                "05-05 こどもの日",
                "05-06 振替休日",
                "07-20 海の日",
                "08-11 山の日",
                "09-21 敬老の日",
                "09-22 国民の休日",
                "09-23 秋分の日",
                "10-12 スポーツの日",
                "11-03 文化の日",
                "11-23 勤労感謝の日",
            ]
        );
        assert_eq!(listed(2027)[4..6], ["03-21 春分の日".to_string(), "03-22 振替休日".to_string()]);
        // The Olympic year moved three holidays.
        assert!(listed(2021).contains(&"07-23 スポーツの日".to_string()));
        assert!(listed(2021).contains(&"08-09 振替休日".to_string()), "山の日 on Sunday 8 August");
        assert_eq!(holiday(date(2024, 11, 4)).map(|h| h.japanese), Some("振替休日"));
        assert_eq!(holiday(date(2026, 12, 4)), None);
        assert!(holidays(2100).is_empty() && holidays(2019).is_empty());
    }

    #[test]
    fn every_year_has_its_sixteen_and_no_holiday_twice() {
        for year in YEARS {
            let days = holidays(year);
            assert!(days.len() >= 16, "{year}: {}", days.len());
            assert!(days.windows(2).all(|w| w[0].date < w[1].date), "{year}: in order, each once");
            assert!(days.iter().all(|d| d.date.year() == year || d.date.month() == 1), "{year}");
            let spring = days.iter().find(|d| d.japanese == "春分の日").map(|d| d.date.day());
            assert!(matches!(spring, Some(19..=21)), "{year}: {spring:?}");
        }
    }
}
