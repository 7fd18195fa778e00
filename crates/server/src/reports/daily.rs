//! The daily report (日報): every consultation of one municipality on one local day, with
//! its time, desk, language, mode, topics, handling status, referral, wait, duration,
//! interpreter (tier and code) and media quality, and the day's totals above them. What
//! Funabashi's contractor sends its officer each morning, without a name in it.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::Serialize;

use super::labels::{Lang, label, language, pick};
use super::table::{Cell, Table};
use super::{Names, Period, counts_for, interpreter_code, talk_secs, wait_secs};
use crate::store::{CallRecord, RecordOutcome};

/// One municipality's day.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DailyReport {
    /// The municipality (tenant id).
    pub municipality: i64,
    /// Its name.
    pub municipality_name: String,
    /// The local day, `YYYY-MM-DD`.
    pub date: String,
    /// The municipality's time zone, in which times are given.
    pub time_zone: String,
    /// The day's totals.
    pub totals: DailyTotals,
    /// Every consultation, in the order requested.
    pub rows: Vec<DailyRow>,
    /// Whether the rows carry their handling notes (the municipality's supervisor asked;
    /// each note read is audited).
    pub notes_included: bool,
}

/// The day's totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
pub struct DailyTotals {
    /// Requests for an interpreter.
    pub requests: u32,
    /// Interpreted (answered).
    pub answered: u32,
    /// Cancelled by the desk before an answer.
    pub abandoned: u32,
    /// Waited the maximum.
    pub expired: u32,
    /// Nobody could take them.
    pub unserved: u32,
    /// Interpreted consultations by handling status.
    pub resolved: u32,
    /// Referred elsewhere.
    pub referred: u32,
    /// Follow-up needed.
    pub follow_up: u32,
    /// Cut short.
    pub interrupted: u32,
    /// Interpreted, but the desk recorded no outcome.
    pub not_recorded: u32,
    /// Interpretation time, seconds.
    pub talk_secs: i64,
    /// Mean wait of the answered, seconds (average speed of answer).
    pub mean_wait_secs: Option<f64>,
    /// The longest wait, answered or not, seconds.
    pub longest_wait_secs: i64,
}

/// One consultation.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DailyRow {
    /// The call record's id (a supervisor updates its handling status by it).
    pub record: i64,
    /// The local time requested, `HH:MM`.
    pub time: String,
    /// The desk's name.
    pub desk: String,
    /// The resident's municipality's name.
    pub residence: String,
    /// The resident's language (BCP 47).
    pub language: String,
    /// `counter`, `remote` or `phone`.
    pub mode: &'static str,
    /// Topic codes.
    pub topics: Vec<String>,
    /// What became of the request: `answered`, `abandoned`, `expired`, `unserved`.
    pub request: &'static str,
    /// The handling status of an interpreted consultation (`not_recorded` when the desk
    /// skipped it); none for a request never answered.
    pub status: Option<String>,
    /// The partner referred to, by name.
    pub referral: Option<String>,
    /// Seconds waited.
    pub wait_secs: i64,
    /// Seconds interpreted.
    pub talk_secs: Option<i64>,
    /// The interpreter's tier.
    pub tier: Option<String>,
    /// The interpreter's code (never the name).
    pub interpreter: Option<String>,
    /// Media packets lost, percent.
    pub loss_pct: Option<f64>,
    /// Mean round-trip time, ms.
    pub rtt_ms: Option<f64>,
    /// Whether the municipality's desk wrote a handling note (shown to its supervisors).
    pub has_note: bool,
    /// The note, when the report includes notes.
    pub note: Option<String>,
}

/// The daily report of `municipality` for the local `date` in `tz`, from `records` (any
/// superset of the day's: the others are skipped).
pub fn daily(
    records: &[CallRecord],
    names: &Names,
    municipality: i64,
    date: Date,
    tz: &TimeZone,
) -> Result<DailyReport, jiff::Error> {
    let day = Period::day(date, tz)?;
    let mut totals = DailyTotals::default();
    let mut rows = Vec::new();
    let mut waited = (0i64, 0u32);
    for r in records.iter().filter(|r| day.holds(r.requested_at) && counts_for(r, municipality)) {
        let wait = wait_secs(r);
        let talk = talk_secs(r);
        totals.requests += 1;
        totals.longest_wait_secs = totals.longest_wait_secs.max(wait);
        let status = match r.outcome {
            RecordOutcome::Answered => {
                totals.answered += 1;
                totals.talk_secs += talk.unwrap_or(0);
                waited = (waited.0 + wait, waited.1 + 1);
                let status = r.desk_outcome.clone().unwrap_or_else(|| "not_recorded".into());
                match status.as_str() {
                    "resolved" => totals.resolved += 1,
                    "referred" => totals.referred += 1,
                    "follow_up" => totals.follow_up += 1,
                    "interrupted" => totals.interrupted += 1,
                    _ => totals.not_recorded += 1,
                }
                Some(status)
            }
            RecordOutcome::Abandoned => {
                totals.abandoned += 1;
                None
            }
            RecordOutcome::Expired => {
                totals.expired += 1;
                None
            }
            RecordOutcome::Unserved => {
                totals.unserved += 1;
                None
            }
        };
        let at = jiff::Timestamp::from_millisecond(r.requested_at)?.to_zoned(tz.clone());
        rows.push(DailyRow {
            record: r.id,
            time: at.strftime("%H:%M").to_string(),
            desk: names.desk(r.desk_id),
            residence: names.tenant(r.residence()),
            language: r.language.clone(),
            mode: r.mode().as_str(),
            topics: r.topics.clone(),
            request: r.outcome.as_str(),
            status,
            referral: r.referral_id.map(|p| names.partner(p)),
            wait_secs: wait,
            talk_secs: talk,
            tier: r.tier.clone(),
            interpreter: r.interpreter_id.map(interpreter_code),
            loss_pct: r.loss.map(|l| (l * 1000.0).round() / 10.0),
            rtt_ms: r.rtt_ms.map(f64::round),
            has_note: false,
            note: None,
        });
    }
    totals.mean_wait_secs = (waited.1 > 0).then(|| (waited.0 as f64 / f64::from(waited.1) * 10.0).round() / 10.0);
    Ok(DailyReport {
        municipality,
        municipality_name: names.tenant(municipality),
        date: date.to_string(),
        time_zone: tz.iana_name().unwrap_or("UTC").to_string(),
        totals,
        rows,
        notes_included: false,
    })
}

impl DailyReport {
    /// The report as a table, for CSV and Excel, in `lang`.
    pub fn table(&self, lang: Lang) -> Table {
        let t = &self.totals;
        let p = |ja, en| pick(lang, ja, en).to_string();
        let totals: Vec<(String, Cell)> = vec![
            (p("市町村", "Municipality"), self.municipality_name.clone().into()),
            (p("日付", "Date"), self.date.clone().into()),
            (p("依頼件数", "Requests"), t.requests.into()),
            (p("通訳実施", "Interpreted"), t.answered.into()),
            (p("取消", "Cancelled"), t.abandoned.into()),
            (p("待ち時間超過", "Waited too long"), t.expired.into()),
            (p("対応者なし", "Nobody available"), t.unserved.into()),
            (p("窓口で解決", "Resolved"), t.resolved.into()),
            (p("紹介", "Referred"), t.referred.into()),
            (p("後日対応", "Follow-up"), t.follow_up.into()),
            (p("中断", "Cut short"), t.interrupted.into()),
            (p("未記録", "Not recorded"), t.not_recorded.into()),
            (p("通訳時間(分)", "Interpretation (min)"), Cell::Num((t.talk_secs as f64 / 6.0).round() / 10.0)),
            (p("平均応答時間(秒)", "Mean wait to answer (s)"), t.mean_wait_secs.map_or(Cell::Empty, Cell::Num)),
            (p("最長待ち時間(秒)", "Longest wait (s)"), t.longest_wait_secs.into()),
        ];
        let header = [
            ("時刻", "Time"),
            ("窓口", "Desk"),
            ("住所地", "Resident of"),
            ("言語", "Language"),
            ("形態", "Mode"),
            ("相談分野", "Topics"),
            ("依頼結果", "Request"),
            ("対応状況", "Handling"),
            ("紹介先", "Referred to"),
            ("待ち時間(秒)", "Wait (s)"),
            ("通訳時間(秒)", "Interpreted (s)"),
            ("通訳者区分", "Tier"),
            ("通訳者コード", "Interpreter"),
            ("パケット損失(%)", "Loss (%)"),
            ("往復遅延(ms)", "RTT (ms)"),
        ]
        .iter()
        .map(|(ja, en)| pick(lang, ja, en).to_string())
        .collect::<Vec<String>>();
        let mut header = header;
        if self.notes_included {
            header.push(pick(lang, "対応メモ", "Handling note").to_string());
        }
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let topics: Vec<&str> = r.topics.iter().map(|c| label(lang, c)).collect();
                vec![
                    r.time.clone().into(),
                    r.desk.clone().into(),
                    r.residence.clone().into(),
                    language(lang, &r.language).into(),
                    label(lang, r.mode).into(),
                    topics.join(pick(lang, "・", "; ")).into(),
                    label(lang, r.request).into(),
                    r.status.as_deref().map(|s| label(lang, s)).into(),
                    r.referral.clone().into(),
                    r.wait_secs.into(),
                    r.talk_secs.into(),
                    r.tier.as_deref().map(|s| label(lang, s)).into(),
                    r.interpreter.clone().into(),
                    r.loss_pct.map_or(Cell::Empty, Cell::Num),
                    r.rtt_ms.map_or(Cell::Empty, Cell::Num),
                ]
                .into_iter()
                .chain(self.notes_included.then(|| r.note.clone().into()))
                .collect()
            })
            .collect();
        let title = match lang {
            Lang::Ja => format!("日報 {} {}", self.date, self.municipality_name),
            Lang::En => format!("Daily report {} {}", self.date, self.municipality_name),
        };
        Table { title, totals, header, rows }
    }
}
