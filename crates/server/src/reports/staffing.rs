//! The staffing plan: from the centre's own history (arrivals per language, weekday and
//! hour over the last weeks; handle times per language) to the interpreters needed for a
//! target service level by Erlang C (`kakehashi_dispatch::erlang`), set against the
//! interpreters rostered in the coming week, with the gaps named as people say them
//! ("Nepali, Tuesdays 13:00–15:00: 2 needed, 1 rostered").

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use kakehashi_dispatch::Roster;
use kakehashi_dispatch::erlang::Workload;
use schemars::JsonSchema;
use serde::Serialize;

use super::labels::{Lang, language, pick};
use super::table::{Cell, Table};
use super::{Period, talk_secs};
use crate::store::{CallRecord, RecordOutcome};

/// An interpreter as the plan counts them: their languages and roster.
#[derive(Clone, Debug)]
pub struct Rostered {
    /// Languages (BCP 47).
    pub languages: Vec<String>,
    /// When they are on.
    pub roster: Roster,
}

/// What the plan aims for and looks at.
#[derive(Clone, Copy, Debug)]
pub struct Aim {
    /// Weeks of history, ending the day before `today`.
    pub weeks: u32,
    /// The service level to reach (0 to 1, below 1).
    pub target: f64,
    /// Answered within this many seconds.
    pub secs: f64,
    /// Today, in the municipality's time zone: the coming week's rosters start here.
    pub today: Date,
}

/// The plan.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct StaffingPlan {
    /// The history read, first and last day.
    pub from: String,
    /// The last day of history.
    pub to: String,
    /// Weeks of history.
    pub weeks: u32,
    /// The target service level.
    pub target: f64,
    /// Within this many seconds.
    pub secs: f64,
    /// Every hour with demand or interpreters, by language, weekday (Monday 0), hour.
    pub slots: Vec<Slot>,
    /// The hours short of interpreters, runs of hours merged.
    pub gaps: Vec<Gap>,
}

/// One language's hour of one weekday.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Slot {
    /// The language.
    pub language: String,
    /// Monday 0 … Sunday 6.
    pub weekday: u8,
    /// 0 … 23, local.
    pub hour: u8,
    /// Requests per hour, averaged over the weeks.
    pub arrivals_per_hour: f64,
    /// Mean interpretation time of the language, seconds.
    pub handle_secs: f64,
    /// Interpreters needed for the target.
    pub needed: u32,
    /// Interpreters rostered in the coming week.
    pub rostered: u32,
}

/// Hours in a row of one language and weekday with the same shortfall.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Gap {
    /// The language.
    pub language: String,
    /// Monday 0 … Sunday 6.
    pub weekday: u8,
    /// The first hour.
    pub from_hour: u8,
    /// The hour after the last.
    pub to_hour: u8,
    /// Needed.
    pub needed: u32,
    /// Rostered.
    pub rostered: u32,
}

/// The plan from `records` (any superset: the weeks' are read) and `interpreters` (those
/// who may serve the municipality), in `tz`.
pub fn staffing(
    records: &[CallRecord],
    interpreters: &[Rostered],
    aim: Aim,
    tz: &TimeZone,
) -> Result<StaffingPlan, jiff::Error> {
    let first = aim.today.checked_sub(jiff::Span::new().days(i64::from(aim.weeks) * 7))?;
    let history = Period { from: Period::day(first, tz)?.from, to: Period::day(aim.today, tz)?.from };
    let weeks = f64::from(aim.weeks.max(1));
    let mut arrivals: BTreeMap<(String, u8, u8), u32> = BTreeMap::new();
    let mut handle: BTreeMap<String, (i64, u32)> = BTreeMap::new();
    for r in records.iter().filter(|r| history.holds(r.requested_at)) {
        let at = jiff::Timestamp::from_millisecond(r.requested_at)?.to_zoned(tz.clone());
        let key = (r.language.clone(), at.weekday().to_monday_zero_offset() as u8, at.hour() as u8);
        *arrivals.entry(key).or_insert(0) += 1;
        if r.outcome == RecordOutcome::Answered {
            let h = handle.entry(r.language.clone()).or_insert((0, 0));
            h.0 += talk_secs(r).unwrap_or(0);
            h.1 += 1;
        }
    }
    let overall = {
        let (s, n) = handle.values().fold((0i64, 0u32), |a, h| (a.0 + h.0, a.1 + h.1));
        if n > 0 { s as f64 / f64::from(n) } else { 600.0 }
    };
    // The coming week's rosters: each weekday's hour at half past, from today on.
    let mut rostered: BTreeMap<(String, u8, u8), u32> = BTreeMap::new();
    for d in 0..7 {
        let day = aim.today.checked_add(jiff::Span::new().days(d))?;
        let weekday = day.weekday().to_monday_zero_offset() as u8;
        for hour in 0..24u8 {
            let at = day.at(hour as i8, 30, 0, 0).to_zoned(tz.clone())?.timestamp().as_millisecond();
            let at = kakehashi_dispatch::Timestamp::from_millis(at);
            for i in interpreters.iter().filter(|i| i.roster.state_at(at).on) {
                for l in &i.languages {
                    *rostered.entry((l.clone(), weekday, hour)).or_insert(0) += 1;
                }
            }
        }
    }
    let demand_languages: std::collections::BTreeSet<&String> = arrivals.keys().map(|k| &k.0).collect();
    let mut slots = Vec::new();
    let mut keys: Vec<(String, u8, u8)> = arrivals.keys().cloned().collect();
    keys.extend(rostered.keys().filter(|k| demand_languages.contains(&k.0)).cloned());
    keys.sort();
    keys.dedup();
    for key in keys {
        let n = arrivals.get(&key).copied().unwrap_or(0);
        let handle_secs = handle.get(&key.0).map_or(overall, |h| h.0 as f64 / f64::from(h.1.max(1)));
        let per_hour = f64::from(n) / weeks;
        let needed = if n == 0 {
            0
        } else {
            Workload { arrivals_per_sec: per_hour / 3600.0, handle_secs: handle_secs.max(1.0) }
                .agents_for(aim.target, aim.secs)
        };
        slots.push(Slot {
            rostered: rostered.get(&key).copied().unwrap_or(0),
            language: key.0,
            weekday: key.1,
            hour: key.2,
            arrivals_per_hour: (per_hour * 100.0).round() / 100.0,
            handle_secs: handle_secs.round(),
            needed,
        });
    }
    Ok(StaffingPlan {
        from: first.to_string(),
        to: aim.today.yesterday()?.to_string(),
        weeks: aim.weeks,
        target: aim.target,
        secs: aim.secs,
        gaps: gaps(&slots),
        slots,
    })
}

/// Runs of hours short of interpreters.
fn gaps(slots: &[Slot]) -> Vec<Gap> {
    let mut out: Vec<Gap> = Vec::new();
    for s in slots.iter().filter(|s| s.needed > s.rostered) {
        match out.last_mut() {
            Some(g)
                if g.language == s.language
                    && g.weekday == s.weekday
                    && g.to_hour == s.hour
                    && (g.needed, g.rostered) == (s.needed, s.rostered) =>
            {
                g.to_hour = s.hour + 1;
            }
            _ => out.push(Gap {
                language: s.language.clone(),
                weekday: s.weekday,
                from_hour: s.hour,
                to_hour: s.hour + 1,
                needed: s.needed,
                rostered: s.rostered,
            }),
        }
    }
    out
}

const DAYS_JA: [&str; 7] = ["月曜", "火曜", "水曜", "木曜", "金曜", "土曜", "日曜"];
const DAYS_EN: [&str; 7] = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"];

impl StaffingPlan {
    /// The gaps, then every slot, as tables in `lang`.
    pub fn tables(&self, lang: Lang) -> Vec<Table> {
        let day = |d: u8| pick(lang, DAYS_JA[usize::from(d % 7)], DAYS_EN[usize::from(d % 7)]).to_string();
        let head = |ja: &str, en: &str| match lang {
            Lang::Ja => format!("{ja} {}〜{}", self.from, self.to),
            Lang::En => format!("{en} {} to {}", self.from, self.to),
        };
        let p = |ja, en| pick(lang, ja, en).to_string();
        let gaps = Table {
            title: head("人員計画の不足", "Staffing gaps"),
            totals: vec![
                (p("対象週数", "Weeks of history"), i64::from(self.weeks).into()),
                (p("目標応答率(%)", "Target service level (%)"), Cell::Num((self.target * 1000.0).round() / 10.0)),
                (p("応答の目安(秒)", "Answered within (s)"), Cell::Num(self.secs)),
            ],
            header: vec![
                p("言語", "Language"),
                p("曜日", "Day"),
                p("時間帯", "Hours"),
                p("必要人数", "Needed"),
                p("配置人数", "Rostered"),
            ],
            rows: self
                .gaps
                .iter()
                .map(|g| {
                    vec![
                        language(lang, &g.language).into(),
                        day(g.weekday).into(),
                        format!("{:02}:00–{:02}:00", g.from_hour, g.to_hour).into(),
                        g.needed.into(),
                        g.rostered.into(),
                    ]
                })
                .collect(),
        };
        let slots = Table {
            title: head("人員計画", "Staffing plan"),
            totals: Vec::new(),
            header: vec![
                p("言語", "Language"),
                p("曜日", "Day"),
                p("時", "Hour"),
                p("1時間あたり依頼", "Requests per hour"),
                p("平均通訳時間(秒)", "Mean handle time (s)"),
                p("必要人数", "Needed"),
                p("配置人数", "Rostered"),
            ],
            rows: self
                .slots
                .iter()
                .map(|s| {
                    vec![
                        language(lang, &s.language).into(),
                        day(s.weekday).into(),
                        format!("{:02}:00", s.hour).into(),
                        Cell::Num(s.arrivals_per_hour),
                        Cell::Num(s.handle_secs),
                        s.needed.into(),
                        s.rostered.into(),
                    ]
                })
                .collect(),
        };
        vec![gaps, slots]
    }
}
