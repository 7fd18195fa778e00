//! Monthly statistics as tables for CSV and Excel: one per breakdown (a sheet each in the
//! workbook), headed in Japanese or English.

use super::labels::{Lang, label, language, pick};
use super::monthly::{Count, Figures, MonthlyReport, Row};
use super::table::{Cell, Table};

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn ratio(x: Option<f64>) -> Cell {
    x.map_or(Cell::Empty, |v| Cell::Num((v * 1000.0).round() / 10.0))
}

/// The columns of a row of figures.
fn figure_header(lang: Lang, first: &'static str) -> Vec<String> {
    [
        (first, first),
        ("依頼件数", "Requests"),
        ("通訳実施", "Interpreted"),
        ("未実施", "Not interpreted"),
        ("対応者なし", "Nobody available"),
        ("通訳時間(分)", "Minutes"),
        ("20秒応答率(%)", "Answered in 20 s (%)"),
        ("平均応答時間(秒)", "Mean wait (s)"),
        ("放棄率(%)", "Abandoned (%)"),
    ]
    .iter()
    .map(|(ja, en)| pick(lang, ja, en).to_string())
    .collect()
}

fn figure_cells(key: String, f: &Figures) -> Vec<Cell> {
    vec![
        key.into(),
        f.requests.into(),
        f.answered.into(),
        f.not_answered().into(),
        f.unserved.into(),
        Cell::Num(f.minutes),
        ratio(f.service_level),
        f.asa_secs.map_or(Cell::Empty, Cell::Num),
        ratio(f.abandonment),
    ]
}

fn figures_table(lang: Lang, title: String, first: (&'static str, &'static str), rows: Vec<Vec<Cell>>) -> Table {
    Table { title, totals: Vec::new(), header: figure_header(lang, pick(lang, first.0, first.1)), rows }
}

fn count_table(lang: Lang, title: String, column: (&'static str, &'static str), rows: &[Count]) -> Table {
    Table {
        title,
        totals: Vec::new(),
        header: vec![pick(lang, column.0, column.1).to_string(), pick(lang, "件数", "Count").to_string()],
        rows: rows.iter().map(|c| vec![label(lang, &c.code).into(), c.count.into()]).collect(),
    }
}

impl MonthlyReport {
    /// The statistics as tables, in `lang`.
    pub fn tables(&self, lang: Lang) -> Vec<Table> {
        let head = |ja: &str, en: &str| match lang {
            Lang::Ja => format!("{ja} {} {}", self.month, self.name),
            Lang::En => format!("{en} {} {}", self.month, self.name),
        };
        let t = &self.totals;
        let summary = Table {
            title: head("月次統計", "Monthly statistics"),
            totals: vec![
                (pick(lang, "依頼件数", "Requests").into(), t.requests.into()),
                (pick(lang, "通訳実施", "Interpreted").into(), t.answered.into()),
                (pick(lang, "取消", "Cancelled").into(), t.abandoned.into()),
                (pick(lang, "待ち時間超過", "Waited too long").into(), t.expired.into()),
                (pick(lang, "対応者なし", "Nobody available").into(), t.unserved.into()),
                (pick(lang, "通訳時間(分)", "Minutes interpreted").into(), Cell::Num(t.minutes)),
                (pick(lang, "20秒応答率(%)", "Answered in 20 s (%)").into(), ratio(t.service_level)),
                (
                    pick(lang, "平均応答時間(秒)", "Mean wait to answer (s)").into(),
                    t.asa_secs.map_or(Cell::Empty, Cell::Num),
                ),
                (pick(lang, "放棄率(%)", "Abandoned (%)").into(), ratio(t.abandonment)),
            ],
            header: Vec::new(),
            rows: Vec::new(),
        };
        let by = |rows: &[Row], name: fn(Lang, &str) -> String| -> Vec<Vec<Cell>> {
            rows.iter().map(|r| figure_cells(name(lang, &r.key), &r.figures)).collect()
        };
        let mut tables = vec![
            summary,
            figures_table(lang, head("言語別", "By language"), ("言語", "Language"), by(&self.by_language, language)),
            figures_table(
                lang,
                head("市町村別", "By municipality"),
                ("住所地", "Resident of"),
                by(&self.by_member, |_, k| k.to_string()),
            ),
            count_table(lang, head("分野別", "By topic"), ("相談分野", "Topic"), &self.by_topic),
            count_table(lang, head("対応状況別", "By handling"), ("対応状況", "Handling"), &self.by_status),
            count_table(lang, head("形態別", "By mode"), ("形態", "Mode"), &self.by_mode),
            Table {
                title: head("時間帯別", "By hour"),
                totals: Vec::new(),
                header: vec![pick(lang, "時", "Hour").into(), pick(lang, "依頼件数", "Requests").into()],
                rows: self
                    .by_hour
                    .iter()
                    .enumerate()
                    .map(|(h, n)| vec![Cell::Text(format!("{h:02}:00")), (*n).into()])
                    .collect(),
            },
            Table {
                title: head("曜日別", "By weekday"),
                totals: Vec::new(),
                header: vec![pick(lang, "曜日", "Weekday").into(), pick(lang, "依頼件数", "Requests").into()],
                rows: self
                    .by_weekday
                    .iter()
                    .enumerate()
                    .map(|(d, n)| vec![pick(lang, WEEKDAYS_JA[d], WEEKDAYS_EN[d]).into(), (*n).into()])
                    .collect(),
            },
        ];
        if !self.interpreters.is_empty() {
            tables.push(Table {
                title: head("通訳者別活動", "Interpreters' activity"),
                totals: Vec::new(),
                header: [
                    ("通訳者コード", "Interpreter"),
                    ("ログイン名", "Login"),
                    ("区分", "Tier"),
                    ("件数", "Calls"),
                    ("通訳時間(分)", "Minutes"),
                ]
                .iter()
                .map(|(ja, en)| pick(lang, ja, en).to_string())
                .collect(),
                rows: self
                    .interpreters
                    .iter()
                    .map(|a| {
                        vec![
                            a.interpreter.clone().into(),
                            a.login.clone().into(),
                            label(lang, &a.tier).into(),
                            a.calls.into(),
                            Cell::Num(a.minutes),
                        ]
                    })
                    .collect(),
            });
        }
        tables
    }
}
