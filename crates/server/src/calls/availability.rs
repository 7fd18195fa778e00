//! The desks' language grid before the tap: for each language, whether it can be served
//! now, later today (from when), by booking (from when), or only by phone: the engine's
//! answer a request would get, kept to the centre's calendar. A desk hears the whole list
//! when it connects, then, once a second, the languages whose answer changed.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::convert::{id32, rfc3339};
use super::{Core, Delivery};

/// What each connected desk was last told, by language.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Grid {
    told: HashMap<i64, HashMap<d::LanguageId, p::LanguageAvailability>>,
}

impl Grid {
    /// A desk (re)connected: it is told everything again.
    pub(super) fn forget(&mut self, desk: i64) {
        self.told.remove(&desk);
    }
}

impl Core {
    /// Every language's answer for `tenant`, as the protocol says it.
    pub(super) fn availability_of(&self, tenant: i64) -> Vec<(d::LanguageId, p::LanguageAvailability)> {
        let now = self.now;
        let t = d::TenantId(id32(tenant));
        d::LanguageId::all()
            .filter(|l| *l != d::LanguageId::JAPANESE)
            .filter_map(|l| {
                let answer = self.engine.availability(t, l, d::LanguageId::JAPANESE, d::Modality::Video).ok()?;
                let answer = match (answer, self.calendars.get(&tenant)) {
                    (Some(s), Some(c)) => Some(crate::calendar::answer::within_opening(c, s, now)),
                    (answer, _) => answer,
                };
                let (state, from) = match answer {
                    None => (p::AvailabilityState::Now, None),
                    Some(d::Suggestion::LaterToday(at)) => (p::AvailabilityState::LaterToday, Some(rfc3339(at))),
                    Some(d::Suggestion::Booking(at)) => (p::AvailabilityState::Booking, Some(rfc3339(at))),
                    Some(d::Suggestion::Phone) => (p::AvailabilityState::Phone, None),
                };
                Some((l, p::LanguageAvailability { language: l.tag().to_string(), state, from }))
            })
            .collect()
    }

    /// Tell connected desks (or only `desk`) the languages whose answer changed since
    /// they were last told. Each municipality's answers are worked out once.
    pub(super) fn push_availability(&mut self, only: Option<i64>) {
        let desks: Vec<i64> = match only {
            Some(desk) => vec![desk],
            None => self.sessions.connected_desks().collect(),
        };
        let mut by_tenant: HashMap<i64, Vec<(d::LanguageId, p::LanguageAvailability)>> = HashMap::new();
        for desk in desks {
            let Some(&tenant) = self.names.desk_tenants.get(&desk) else { continue };
            let answers = by_tenant.entry(tenant).or_insert_with(|| self.availability_of(tenant));
            let told = self.grid.told.entry(desk).or_default();
            let mut changed = Vec::new();
            for (language, now) in answers.iter() {
                if told.get(language) != Some(now) {
                    told.insert(*language, now.clone());
                    changed.push(now.clone());
                }
            }
            if !changed.is_empty() {
                self.deliver(Delivery::Desk(desk, p::DeskEvent::Availability { languages: changed }));
            }
        }
    }
}
