//! Monthly statistics: a municipality's consultations of one month (its desks' and its
//! residents'), or a shared centre's across its members, tallied by language, topic,
//! handling status, mode, local hour and weekday and member town; the service level,
//! average speed of answer, abandonment and unserved demand as the engine defines them
//! (`kakehashi_dispatch::stats::Counters`); and each interpreter's activity (calls and
//! minutes) for pay and volunteers' honoraria. The shared report leaves the interpreters
//! out: every member may read it.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Names, Period, interpreter_code, talk_secs, wait_secs};
use crate::store::{CallRecord, RecordOutcome};

/// The service level's threshold: answered within 20 seconds, as on the wallboard.
pub const SERVICE_SECS: i64 = 20;

/// One month's statistics.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct MonthlyReport {
    /// The municipality, or none for the whole centre (the shared report).
    pub municipality: Option<i64>,
    /// Its name, or the centre's members' names joined.
    pub name: String,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The time zone of hours and weekdays.
    pub time_zone: String,
    /// The month's figures.
    pub totals: Figures,
    /// By language (BCP 47), most requested first.
    pub by_language: Vec<Row>,
    /// By topic code (a consultation with several counts once under each), then
    /// `not_recorded` for interpreted consultations without one.
    pub by_topic: Vec<Count>,
    /// By handling status of interpreted consultations (`not_recorded` included).
    pub by_status: Vec<Count>,
    /// By mode: `counter`, `remote`, `phone`.
    pub by_mode: Vec<Count>,
    /// Requests by local hour, 0 to 23.
    pub by_hour: Vec<u32>,
    /// Requests by weekday, Monday first.
    pub by_weekday: Vec<u32>,
    /// By the municipality each consultation counts for (the resident's, else the desk's).
    pub by_member: Vec<Row>,
    /// Each interpreter's month (none in the shared report).
    pub interpreters: Vec<Activity>,
}

/// Figures of a set of requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct Figures {
    /// Requests.
    pub requests: u32,
    /// Interpreted.
    pub answered: u32,
    /// Cancelled while waiting.
    pub abandoned: u32,
    /// Waited the maximum.
    pub expired: u32,
    /// Nobody could take them.
    pub unserved: u32,
    /// Answered within [`SERVICE_SECS`].
    pub answered_in_time: u32,
    /// Interpretation, minutes (one decimal).
    pub minutes: f64,
    /// Answered within 20 s of those answered, cancelled or timed out.
    pub service_level: Option<f64>,
    /// Average speed of answer, seconds (one decimal).
    pub asa_secs: Option<f64>,
    /// Cancelled of all requests.
    pub abandonment: Option<f64>,
    #[serde(skip)]
    wait_sum: i64,
    #[serde(skip)]
    talk_sum: i64,
}

impl Figures {
    fn add(&mut self, r: &CallRecord) {
        self.requests += 1;
        match r.outcome {
            RecordOutcome::Answered => {
                self.answered += 1;
                let wait = wait_secs(r);
                self.wait_sum += wait;
                self.answered_in_time += u32::from(wait <= SERVICE_SECS);
                self.talk_sum += talk_secs(r).unwrap_or(0);
            }
            RecordOutcome::Abandoned => self.abandoned += 1,
            RecordOutcome::Expired => self.expired += 1,
            RecordOutcome::Unserved => self.unserved += 1,
        }
    }

    fn finish(&mut self) {
        let ratio = |a: u32, b: u32| (b > 0).then(|| (f64::from(a) / f64::from(b) * 1000.0).round() / 1000.0);
        self.minutes = (self.talk_sum as f64 / 6.0).round() / 10.0;
        self.service_level = ratio(self.answered_in_time, self.answered + self.abandoned + self.expired);
        self.asa_secs =
            (self.answered > 0).then(|| (self.wait_sum as f64 / f64::from(self.answered) * 10.0).round() / 10.0);
        self.abandonment = ratio(self.abandoned, self.requests);
    }

    /// Requests nobody answered: cancelled, timed out or unserved.
    pub fn not_answered(&self) -> u32 {
        self.abandoned + self.expired + self.unserved
    }
}

/// Figures under a key (a language tag or a municipality's name).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Row {
    /// The key.
    pub key: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A count under a code.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Count {
    /// The code.
    pub code: String,
    /// How many.
    pub count: u32,
}

/// An interpreter's month: what pay and honoraria are computed from.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Activity {
    /// The interpreter's code.
    pub interpreter: String,
    /// Their tier.
    pub tier: String,
    /// Their login, for the centre's admins only (who pay them).
    pub login: Option<String>,
    /// Calls interpreted.
    pub calls: u32,
    /// Minutes interpreted (one decimal).
    pub minutes: f64,
}

/// What to tally.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// A municipality, or none for the centre's shared report.
    pub municipality: Option<i64>,
    /// Interpreters' logins by id, for an admin's statements; none leaves logins out.
    pub logins: Option<&'a BTreeMap<i64, String>>,
    /// Whether to list interpreters at all (not in the shared report).
    pub interpreters: bool,
}

fn counts(map: BTreeMap<String, u32>, order: &[&str]) -> Vec<Count> {
    let mut out: Vec<Count> =
        order.iter().filter_map(|c| map.get(*c).map(|n| Count { code: c.to_string(), count: *n })).collect();
    out.extend(
        map.into_iter().filter(|(c, _)| !order.contains(&c.as_str())).map(|(code, count)| Count { code, count }),
    );
    out
}

/// The statistics of `scope` for the month starting on `first` in `tz`, from `records`
/// (any superset: the others are skipped).
pub fn monthly(
    records: &[CallRecord],
    names: &Names,
    scope: Scope<'_>,
    first: Date,
    tz: &TimeZone,
) -> Result<MonthlyReport, jiff::Error> {
    let period = Period::month(first, tz)?;
    let mut totals = Figures::default();
    let (mut languages, mut members) = (BTreeMap::<String, Figures>::new(), BTreeMap::<i64, Figures>::new());
    let (mut topics, mut statuses, mut modes) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let (mut by_hour, mut by_weekday) = (vec![0u32; 24], vec![0u32; 7]);
    let mut interpreters = BTreeMap::<i64, (String, u32, i64)>::new();
    let mine = |r: &&CallRecord| scope.municipality.is_none_or(|m| super::counts_for(r, m));
    for r in records.iter().filter(|r| period.holds(r.requested_at)).filter(mine) {
        totals.add(r);
        languages.entry(r.language.clone()).or_default().add(r);
        members.entry(r.residence()).or_default().add(r);
        *modes.entry(r.mode().as_str().to_string()).or_insert(0u32) += 1;
        let at = jiff::Timestamp::from_millisecond(r.requested_at)?.to_zoned(tz.clone());
        by_hour[at.hour().clamp(0, 23) as usize] += 1;
        by_weekday[at.weekday().to_monday_zero_offset().clamp(0, 6) as usize] += 1;
        if r.outcome != RecordOutcome::Answered {
            continue;
        }
        let status = r.desk_outcome.clone().unwrap_or_else(|| "not_recorded".into());
        *statuses.entry(status).or_insert(0u32) += 1;
        if r.topics.is_empty() {
            *topics.entry("not_recorded".to_string()).or_insert(0u32) += 1;
        }
        for t in &r.topics {
            *topics.entry(t.clone()).or_insert(0u32) += 1;
        }
        if let Some(id) = r.interpreter_id {
            let e = interpreters.entry(id).or_insert_with(|| (r.tier.clone().unwrap_or_default(), 0, 0));
            e.1 += 1;
            e.2 += talk_secs(r).unwrap_or(0);
        }
    }
    totals.finish();
    let rows = |map: BTreeMap<String, Figures>| {
        let mut rows: Vec<Row> = map
            .into_iter()
            .map(|(key, mut figures)| {
                figures.finish();
                Row { key, figures }
            })
            .collect();
        rows.sort_by(|a, b| b.figures.requests.cmp(&a.figures.requests).then_with(|| a.key.cmp(&b.key)));
        rows
    };
    let topic_order: Vec<&str> = kakehashi_protocol::Topic::ALL.iter().map(|t| t.code()).collect();
    let name = match scope.municipality {
        Some(m) => names.tenant(m),
        None => {
            let mut all: Vec<&String> = names.tenants.values().collect();
            all.sort();
            all.into_iter().cloned().collect::<Vec<_>>().join("・")
        }
    };
    Ok(MonthlyReport {
        municipality: scope.municipality,
        name,
        month: first.strftime("%Y-%m").to_string(),
        time_zone: tz.iana_name().unwrap_or("UTC").to_string(),
        totals,
        by_language: rows(languages),
        by_topic: counts(topics, &topic_order),
        by_status: counts(statuses, &["resolved", "referred", "follow_up", "interrupted", "not_recorded"]),
        by_mode: counts(modes, &["counter", "remote", "phone"]),
        by_hour,
        by_weekday,
        by_member: rows(members.into_iter().map(|(id, f)| (names.tenant(id), f)).collect()),
        interpreters: if scope.interpreters {
            interpreters
                .into_iter()
                .map(|(id, (tier, calls, secs))| Activity {
                    interpreter: interpreter_code(id),
                    tier,
                    login: scope.logins.and_then(|l| l.get(&id).cloned()),
                    calls,
                    minutes: (secs as f64 / 6.0).round() / 10.0,
                })
                .collect()
        } else {
            Vec::new()
        },
    })
}
