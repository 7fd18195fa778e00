//! The cost split of a shared centre for one month: each member's share of the joint cost
//! as the centre's rule weighs it: an equal part, a part by its share of foreign residents
//! (Hiroshima's formula: each member's count over the members' total) and a part by its
//! residents' use (minutes interpreted, or consultations). Amounts are whole yen that add
//! up to the cost exactly (largest remainders). Use nobody made is split equally.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use schemars::JsonSchema;
use serde::Serialize;

use super::labels::{Lang, pick};
use super::table::{Cell, Table};
use super::{Period, talk_secs};
use crate::store::{CallRecord, CostSplitRule, RecordOutcome};

/// A member of the centre as the split sees it.
#[derive(Clone, Debug)]
pub struct Member {
    /// The municipality (tenant id).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its foreign residents.
    pub foreign_residents: i64,
}

/// One month's split.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct CostSplit {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The rule applied.
    pub rule: CostSplitRule,
    /// Every member's share, or the one asked for.
    pub members: Vec<Share>,
    /// The members' foreign residents, all of them.
    pub total_residents: i64,
    /// The members' use, all of them (minutes or consultations).
    pub total_usage: f64,
}

/// A member's share.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct Share {
    /// The municipality.
    pub municipality: i64,
    /// Its name.
    pub name: String,
    /// Its foreign residents.
    pub foreign_residents: i64,
    /// Its share of the members' foreign residents (0 to 1).
    pub residents_share: f64,
    /// Its residents' use: minutes interpreted (one decimal) or consultations.
    pub usage: f64,
    /// Its share of the use (0 to 1).
    pub usage_share: f64,
    /// The equal part, yen (before rounding the total).
    pub equal_part: f64,
    /// The part by foreign residents, yen.
    pub residents_part: f64,
    /// The part by use, yen.
    pub usage_part: f64,
    /// What it pays, whole yen.
    pub amount: i64,
}

/// The split of the month starting on `first` in `tz` among `members`, from `records`
/// (any superset: the month's are counted, each for its resident's municipality).
pub fn cost_split(
    records: &[CallRecord],
    members: &[Member],
    rule: &CostSplitRule,
    first: Date,
    tz: &TimeZone,
) -> Result<CostSplit, jiff::Error> {
    let period = Period::month(first, tz)?;
    let mut usage: BTreeMap<i64, f64> = members.iter().map(|m| (m.id, 0.0)).collect();
    for r in records.iter().filter(|r| period.holds(r.requested_at) && r.outcome == RecordOutcome::Answered) {
        if let Some(u) = usage.get_mut(&r.residence()) {
            *u += match rule.usage_basis.as_str() {
                "consultations" => 1.0,
                _ => talk_secs(r).unwrap_or(0) as f64 / 60.0,
            };
        }
    }
    let n = members.len().max(1) as f64;
    let total_residents: i64 = members.iter().map(|m| m.foreign_residents).sum();
    let total_usage: f64 = usage.values().sum();
    let cost = rule.monthly_cost as f64;
    let pool = |percent: u8| cost * f64::from(percent) / 100.0;
    let mut shares: Vec<Share> = members
        .iter()
        .map(|m| {
            let residents_share =
                if total_residents > 0 { m.foreign_residents as f64 / total_residents as f64 } else { 1.0 / n };
            let used = usage.get(&m.id).copied().unwrap_or(0.0);
            let usage_share = if total_usage > 0.0 { used / total_usage } else { 1.0 / n };
            Share {
                municipality: m.id,
                name: m.name.clone(),
                foreign_residents: m.foreign_residents,
                residents_share,
                usage: (used * 10.0).round() / 10.0,
                usage_share,
                equal_part: pool(rule.equal_percent) / n,
                residents_part: pool(rule.residents_percent) * residents_share,
                usage_part: pool(rule.usage_percent) * usage_share,
                amount: 0,
            }
        })
        .collect();
    // Whole yen by largest remainders: the amounts add up to the cost.
    let exact: Vec<f64> = shares.iter().map(|s| s.equal_part + s.residents_part + s.usage_part).collect();
    let mut floors: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let mut left = rule.monthly_cost - floors.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for i in order {
        if left <= 0 {
            break;
        }
        floors[i] += 1;
        left -= 1;
    }
    for (s, amount) in shares.iter_mut().zip(floors) {
        s.amount = amount;
        for part in [&mut s.equal_part, &mut s.residents_part, &mut s.usage_part] {
            *part = (*part * 10.0).round() / 10.0;
        }
        s.residents_share = (s.residents_share * 10_000.0).round() / 10_000.0;
        s.usage_share = (s.usage_share * 10_000.0).round() / 10_000.0;
    }
    Ok(CostSplit {
        month: first.strftime("%Y-%m").to_string(),
        rule: rule.clone(),
        members: shares,
        total_residents,
        total_usage: (total_usage * 10.0).round() / 10.0,
    })
}

impl CostSplit {
    /// The statement as a table, in `lang`.
    pub fn table(&self, lang: Lang) -> Table {
        let p = |ja, en| pick(lang, ja, en).to_string();
        let basis = match self.rule.usage_basis.as_str() {
            "consultations" => p("利用件数", "Consultations"),
            _ => p("通訳時間(分)", "Minutes interpreted"),
        };
        let title = match (lang, self.members.as_slice()) {
            (Lang::Ja, [one]) => format!("費用按分 {} {}", self.month, one.name),
            (Lang::En, [one]) => format!("Cost split {} {}", self.month, one.name),
            (Lang::Ja, _) => format!("費用按分 {}", self.month),
            (Lang::En, _) => format!("Cost split {}", self.month),
        };
        Table {
            title,
            totals: vec![
                (p("月額共同経費(円)", "Joint cost of the month (yen)"), self.rule.monthly_cost.into()),
                (p("均等割(%)", "Equal part (%)"), i64::from(self.rule.equal_percent).into()),
                (p("外国人住民数割(%)", "By foreign residents (%)"), i64::from(self.rule.residents_percent).into()),
                (p("利用割(%)", "By use (%)"), i64::from(self.rule.usage_percent).into()),
                (p("利用の基準", "Use counted in"), basis.clone().into()),
                (p("外国人住民数の合計", "Foreign residents, all members"), self.total_residents.into()),
            ],
            header: vec![
                p("市町村", "Municipality"),
                p("外国人住民数", "Foreign residents"),
                p("構成比(%)", "Share of residents (%)"),
                basis,
                p("利用の比率(%)", "Share of use (%)"),
                p("均等割(円)", "Equal part (yen)"),
                p("住民数割(円)", "By residents (yen)"),
                p("利用割(円)", "By use (yen)"),
                p("負担額(円)", "To pay (yen)"),
            ],
            rows: self
                .members
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone().into(),
                        s.foreign_residents.into(),
                        Cell::Num((s.residents_share * 10_000.0).round() / 100.0),
                        Cell::Num(s.usage),
                        Cell::Num((s.usage_share * 10_000.0).round() / 100.0),
                        Cell::Num(s.equal_part.round()),
                        Cell::Num(s.residents_part.round()),
                        Cell::Num(s.usage_part.round()),
                        s.amount.into(),
                    ]
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiroshimas_formula_and_the_yen_add_up() {
        let members: Vec<Member> = [(1, 21_400), (2, 2_100), (3, 1_350)]
            .iter()
            .map(|&(id, n)| Member { id, name: format!("m{id}"), foreign_residents: n })
            .collect();
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        let rule = CostSplitRule { monthly_cost: 1_000_000, ..CostSplitRule::default() };
        let split = cost_split(&[], &members, &rule, jiff::civil::date(2026, 11, 1), &tz).unwrap();
        let amounts: Vec<i64> = split.members.iter().map(|s| s.amount).collect();
        // 21400/24850, 2100/24850, 1350/24850 of a million: 861167.0…, 84507.0…, 54325.9…
        assert_eq!(amounts, vec![861_167, 84_507, 54_326]);
        assert_eq!(amounts.iter().sum::<i64>(), 1_000_000);
        let equal = CostSplitRule { monthly_cost: 100, equal_percent: 100, residents_percent: 0, ..rule };
        let split = cost_split(&[], &members, &equal, jiff::civil::date(2026, 11, 1), &tz).unwrap();
        assert_eq!(split.members.iter().map(|s| s.amount).collect::<Vec<_>>(), vec![34, 33, 33]);
    }
}
