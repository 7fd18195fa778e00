//! A booked slot as an iCalendar file (RFC 5545), for the resident's phone calendar:
//! one event in UTC, its text escaped and its lines folded at 75 octets.

/// One event: `uid` unique and stable for the booking, times in ms since the epoch.
pub fn event(uid: &str, start_ms: i64, end_ms: i64, summary: &str, url: &str, now_ms: i64) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//kakehashi//bookings//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", text(uid)),
        format!("DTSTAMP:{}", utc(now_ms)),
        format!("DTSTART:{}", utc(start_ms)),
        format!("DTEND:{}", utc(end_ms)),
        format!("SUMMARY:{}", text(summary)),
        format!("URL:{url}"),
        format!("DESCRIPTION:{}", text(url)),
        "BEGIN:VALARM".into(),
        "ACTION:DISPLAY".into(),
        "TRIGGER:-PT1H".into(),
        format!("DESCRIPTION:{}", text(summary)),
        "END:VALARM".into(),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.iter().map(|l| fold(l)).collect::<Vec<_>>().join("")
}

fn utc(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|_| "19700101T000000Z".into())
}

/// TEXT escaping: backslash, semicolon, comma and newlines.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets without splitting a character, ending in CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_escaped_folded_and_in_utc() {
        let at = "2026-12-07T01:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let summary = "相談: 浜松市, 多文化共生センター; 行政書士 ".repeat(3);
        let ics = event("booking-7@k.example", at, at + 1_800_000, &summary, "https://k.example/join/abc", at);
        assert!(ics.contains("DTSTART:20261207T010000Z\r\n"));
        assert!(ics.contains("DTEND:20261207T013000Z\r\n"));
        assert!(ics.contains("相談: 浜松市\\, 多文化共生センター\\; 行政書士"));
        assert!(ics.lines().all(|l| l.len() <= 75), "folded");
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        // Unfolding gives the text back.
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", text(&summary))));
    }
}
