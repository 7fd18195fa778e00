//! What a centre's standing link shows a resident (issue 17): whether each language can be
//! served now, later today or by booking (the desks' grid answer), whether the centre is
//! open now, and the free slots they may book in one language: the half hours within the
//! centre's opening hours (a municipal office's weekdays where it has set none) for which
//! the engine could hold an interpreter, without holding anybody.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::Core;
use super::convert::id32;
use crate::calendar::{Calendar, CalendarDoc};

/// A slot's length as a resident books it.
pub const SLOT_MINUTES: i64 = 30;
/// How far ahead the free slots are looked for.
const SLOT_DAYS: i32 = 21;
/// How soon a resident's slot may start: the centre has time to see it.
pub const SLOT_LEAD_MS: i64 = 2 * 3_600_000;
/// The most slots listed, and per day (so that the list reaches several days).
const SLOTS_MAX: usize = 12;
const SLOTS_PER_DAY: usize = 3;

/// A centre as its standing link shows it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CentreView {
    /// Each language's answer, as the desks' grid has it.
    pub languages: Vec<p::LanguageAvailability>,
    /// Whether its online desk takes residents now: connected, and within the centre's
    /// opening hours where the municipality has set them.
    pub open_now: bool,
    /// Free slots for the language asked about: start and end, ms since the epoch.
    pub slots: Vec<(i64, i64)>,
}

impl Core {
    /// Whether `desk` of `tenant` takes callers now (a language line's, a standing link's):
    /// the server is not stopping, the desk is connected, and it is within the centre's
    /// opening hours where the municipality has set them.
    pub(super) fn desk_open(&self, desk: i64, tenant: i64, now: d::Timestamp) -> bool {
        let at = jiff::Timestamp::from_millisecond(now.as_millis()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        !self.draining
            && self.sessions.connected(super::Client::Desk(desk))
            && self.calendars.get(&tenant).is_none_or(|c| c.is_open(at))
    }

    /// The standing link's view of `tenant`, with the free slots of `language` at `desk`
    /// when asked.
    pub fn centre(&self, tenant: i64, desk: i64, language: Option<d::LanguageId>, now: d::Timestamp) -> CentreView {
        let open_now = self.desk_open(desk, tenant, now);
        let fallback;
        let calendar = match self.calendars.get(&tenant) {
            Some(c) => c,
            None => match CalendarDoc::default().to_calendar() {
                Ok(c) => {
                    fallback = c;
                    &fallback
                }
                Err(_) => return CentreView::default(),
            },
        };
        let slots = language.map(|l| self.free_slots(calendar, tenant, desk, l, now)).unwrap_or_default();
        CentreView { languages: self.availability_of(tenant).into_iter().map(|(_, a)| a).collect(), open_now, slots }
    }

    fn free_slots(
        &self,
        calendar: &Calendar,
        tenant: i64,
        desk: i64,
        language: d::LanguageId,
        now: d::Timestamp,
    ) -> Vec<(i64, i64)> {
        let tz = calendar.time_zone().clone();
        let earliest = now.as_millis() + SLOT_LEAD_MS;
        let Ok(start) = jiff::Timestamp::from_millisecond(now.as_millis()) else { return Vec::new() };
        let mut date = start.to_zoned(tz.clone()).date();
        let mut slots = Vec::new();
        for _ in 0..SLOT_DAYS {
            let mut today = 0;
            for (open, close) in calendar.day(date).open {
                let (Ok(open), Ok(close)) = (open.parse::<jiff::civil::Time>(), close.parse::<jiff::civil::Time>())
                else {
                    continue;
                };
                let (Ok(open), Ok(close)) =
                    (date.to_datetime(open).to_zoned(tz.clone()), date.to_datetime(close).to_zoned(tz.clone()))
                else {
                    continue;
                };
                let (mut at, close) = (open.timestamp().as_millisecond(), close.timestamp().as_millisecond());
                // On the half hour, counted from the opening.
                while at + SLOT_MINUTES * 60_000 <= close && today < SLOTS_PER_DAY {
                    let end = at + SLOT_MINUTES * 60_000;
                    if at >= earliest && self.engine.can_book(&self.resident_slot(tenant, desk, language, at, end)) {
                        slots.push((at, end));
                        today += 1;
                    }
                    at = end;
                }
            }
            if slots.len() >= SLOTS_MAX {
                break;
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        slots.truncate(SLOTS_MAX);
        slots
    }

    fn resident_slot(&self, tenant: i64, desk: i64, language: d::LanguageId, start: i64, end: i64) -> d::BookingSpec {
        d::BookingSpec {
            tenant: d::TenantId(id32(tenant)),
            language,
            desk_language: d::LanguageId::JAPANESE,
            modality: d::Modality::Video,
            speciality: None,
            interpreter: None,
            desk: Some(d::DeskId(id32(desk))),
            start: d::Timestamp::from_millis(start),
            end: d::Timestamp::from_millis(end),
        }
    }
}
