//! The engine's "when can this be served" answer within the centre's opening: the engine
//! knows when an eligible interpreter is next on roster; the centre may still be closed
//! then (a holiday, the year's end, a closure, after hours). The answer moves to the next
//! opening at or after the interpreter's time, and says "later today" only when that is
//! still today in the centre's time zone.

use kakehashi_dispatch as d;

use super::Calendar;

/// `suggestion` moved into the centre's opening hours, as seen at `now`.
pub fn within_opening(calendar: &Calendar, suggestion: d::Suggestion, now: d::Timestamp) -> d::Suggestion {
    let at = match suggestion {
        d::Suggestion::LaterToday(t) | d::Suggestion::Booking(t) => t,
        d::Suggestion::Phone => return suggestion,
    };
    let (Ok(at), Ok(now_j)) =
        (jiff::Timestamp::from_millisecond(at.as_millis()), jiff::Timestamp::from_millisecond(now.as_millis()))
    else {
        return suggestion;
    };
    let Some(open) = calendar.next_open(at) else { return d::Suggestion::Phone };
    let tz = calendar.time_zone();
    let today = now_j.to_zoned(tz.clone()).date();
    let when = d::Timestamp::from_millis(open.as_millisecond());
    if open.to_zoned(tz.clone()).date() == today {
        d::Suggestion::LaterToday(when)
    } else {
        d::Suggestion::Booking(when)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CalendarDoc;

    fn at(text: &str) -> d::Timestamp {
        let t = text
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
            .unwrap()
            .timestamp();
        d::Timestamp::from_millis(t.as_millisecond())
    }

    #[test]
    fn the_answer_moves_into_the_opening_hours() {
        // A municipal office: weekdays 08:30–17:15, closed on holidays and over the year's end.
        let c = CalendarDoc::default().to_calendar().unwrap();
        let friday = at("2026-12-04T09:00");
        // An interpreter from 13:00 on a Friday: still today.
        assert_eq!(
            within_opening(&c, d::Suggestion::LaterToday(at("2026-12-04T13:00")), friday),
            d::Suggestion::LaterToday(at("2026-12-04T13:00"))
        );
        // From 18:00 (an evening shift), after closing: Monday morning, a booking.
        assert_eq!(
            within_opening(&c, d::Suggestion::LaterToday(at("2026-12-04T18:00")), friday),
            d::Suggestion::Booking(at("2026-12-07T08:30"))
        );
        // From 07:00 tomorrow (a Saturday): Monday.
        assert_eq!(
            within_opening(&c, d::Suggestion::Booking(at("2026-12-05T07:00")), friday),
            d::Suggestion::Booking(at("2026-12-07T08:30"))
        );
        // Over the year's end: the fourth of January.
        assert_eq!(
            within_opening(&c, d::Suggestion::Booking(at("2026-12-29T10:00")), at("2026-12-28T10:00")),
            d::Suggestion::Booking(at("2027-01-04T08:30"))
        );
        assert_eq!(within_opening(&c, d::Suggestion::Phone, friday), d::Suggestion::Phone);
        // A centre that never opens: the phone.
        let never: CalendarDoc = serde_json::from_str("{}").unwrap();
        let never = never.to_calendar().unwrap();
        assert_eq!(within_opening(&never, d::Suggestion::LaterToday(friday), friday), d::Suggestion::Phone);
    }
}
