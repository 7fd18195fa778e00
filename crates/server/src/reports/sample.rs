//! Consultations made up for trying the reports: the demo seeds the last forty days
//! with them, the benchmark times a month of 100,000, and the tests check every figure
//! against one they compute themselves. Deterministic for a seed. The mix follows the
//! domain notes: weekdays in office hours, a thin evening, Vietnamese, Chinese,
//! Portuguese, Filipino and Nepali busiest, most answered within two minutes.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::store::{CallRecord, RecordOutcome};

/// Where the made-up consultations happen.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Desks and their municipalities (desk id, tenant id).
    pub desks: Vec<(i64, i64)>,
    /// Municipalities a shared centre's residents may live in (tenant ids).
    pub members: Vec<i64>,
    /// Interpreters and their tiers (id, `staff` / `contractor` / `volunteer`).
    pub interpreters: Vec<(i64, &'static str)>,
    /// Partners and their municipalities (partner id, tenant id).
    pub partners: Vec<(i64, i64)>,
}

const LANGUAGES: &[(&str, u32)] =
    &[("vi", 30), ("zh", 20), ("pt", 15), ("fil", 12), ("ne", 10), ("en", 6), ("id", 4), ("my", 3)];
const TOPICS: &[&str] = &[
    "residence_status",
    "work",
    "medical",
    "welfare",
    "childcare_schooling",
    "care",
    "housing",
    "tax_pension",
    "japanese_study",
    "domestic_violence",
    "hardship",
    "other",
];
const STATUSES: &[&str] = &["resolved", "resolved", "resolved", "referred", "follow_up", "interrupted"];

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, of: &'a [T]) -> &'a T {
        &of[self.below(of.len() as u64) as usize]
    }
}

/// The item whose share of the weights holds `at` (below their sum).
fn weighted<T>(items: &[T], mut at: u64, weight: impl Fn(&T) -> u64) -> Option<&T> {
    for item in items {
        if at < weight(item) {
            return Some(item);
        }
        at -= weight(item);
    }
    None
}

/// `count` consultations in the month of `first` (its first day) in `tz`, oldest first.
pub fn month(
    shape: &Shape,
    first: Date,
    tz: &TimeZone,
    count: usize,
    seed: u64,
) -> Result<Vec<CallRecord>, jiff::Error> {
    days(shape, first, i64::from(first.days_in_month()), tz, count, seed)
}

/// `count` consultations over `days` local days from `first` in `tz`, oldest first.
pub fn days(
    shape: &Shape,
    first: Date,
    days: i64,
    tz: &TimeZone,
    count: usize,
    seed: u64,
) -> Result<Vec<CallRecord>, jiff::Error> {
    let mut rng = Rng(seed | 1);
    // Open days weigh 10, Saturdays 2, Sundays 1; office hours 9-17 weigh 10, 18-20 weigh 2.
    let mut slots = Vec::new();
    for d in 0..days {
        let day = first.checked_add(jiff::Span::new().days(d))?;
        let weight = match day.weekday() {
            jiff::civil::Weekday::Sunday => 1,
            jiff::civil::Weekday::Saturday => 2,
            _ => 10,
        };
        for hour in 9..21 {
            let w = weight * if hour < 18 { 10 } else { 2 };
            let start = day.at(hour, 0, 0, 0).to_zoned(tz.clone())?.timestamp().as_millisecond();
            slots.push((start, w));
        }
    }
    let total: u64 = slots.iter().map(|s| s.1).sum();
    let language_total: u64 = LANGUAGES.iter().map(|l| u64::from(l.1)).sum();
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let hour = weighted(&slots, rng.below(total), |s| s.1).map_or(0, |s| s.0);
        let requested_at = hour + rng.below(3_600_000) as i64;
        let language = weighted(LANGUAGES, rng.below(language_total), |x| u64::from(x.1)).map_or("vi", |x| x.0);
        let &(desk_id, tenant_id) = rng.pick(&shape.desks);
        let outcome = match rng.below(100) {
            0..88 => RecordOutcome::Answered,
            88..93 => RecordOutcome::Abandoned,
            93..97 => RecordOutcome::Expired,
            _ => RecordOutcome::Unserved,
        };
        let answered = outcome == RecordOutcome::Answered;
        let longest = if rng.chance(85) { 60_000 } else { 600_000 };
        let wait = 2_000 + rng.below(longest) as i64;
        let talk = 120_000 + rng.below(1_800_000) as i64;
        let &(interpreter, tier) = rng.pick(&shape.interpreters);
        let phone = rng.chance(8);
        let remote = !phone && rng.chance(15);
        let status = (answered && rng.chance(90)).then(|| *rng.pick(STATUSES));
        let mut topics: Vec<String> = Vec::new();
        if status.is_some() {
            for _ in 0..rng.below(3) {
                let t = rng.pick(TOPICS).to_string();
                if !topics.contains(&t) {
                    topics.push(t);
                }
            }
            topics.sort();
        }
        let residence_id =
            (status.is_some() && rng.chance(25)).then(|| *rng.pick(&shape.members)).filter(|m| *m != tenant_id);
        let own: Vec<i64> = shape.partners.iter().filter(|p| p.1 == tenant_id).map(|p| p.0).collect();
        let referral_id = (status == Some("referred") && !own.is_empty()).then(|| *rng.pick(&own));
        out.push(CallRecord {
            id: 0,
            tenant_id,
            desk_id,
            language: language.to_string(),
            speciality: None,
            modality: if phone { "phone" } else { "video" }.to_string(),
            tier: answered.then(|| tier.to_string()),
            interpreter_id: answered.then_some(interpreter),
            requested_at,
            offered_at: Some(requested_at + 300),
            answered_at: answered.then_some(requested_at + wait),
            ended_at: requested_at + wait + if answered { talk } else { 0 },
            offers: 1 + rng.below(3) as i64,
            outcome,
            desk_outcome: status.map(str::to_string),
            loss: answered.then(|| rng.below(300) as f64 / 10_000.0),
            rtt_ms: answered.then(|| 20.0 + rng.below(200) as f64),
            reconnects: answered.then(|| i64::from(rng.chance(5))),
            remote_residents: i64::from(remote),
            guests: 0,
            phones: i64::from(phone),
            topics,
            residence_id,
            referral_id,
        });
    }
    out.sort_by_key(|r| r.requested_at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_the_same_for_a_seed_and_stays_in_its_month() {
        let shape = Shape {
            desks: vec![(1, 1), (2, 2)],
            members: vec![1, 2],
            interpreters: vec![(1, "staff")],
            partners: vec![(5, 1)],
        };
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        let first = jiff::civil::date(2026, 11, 1);
        let a = month(&shape, first, &tz, 2_000, 7).unwrap();
        assert_eq!(a, month(&shape, first, &tz, 2_000, 7).unwrap());
        let from = first.to_zoned(tz.clone()).unwrap().timestamp().as_millisecond();
        let to = jiff::civil::date(2026, 12, 1).to_zoned(tz).unwrap().timestamp().as_millisecond();
        assert!(a.iter().all(|r| (from..to).contains(&r.requested_at)));
        assert!(a.iter().any(|r| r.referral_id == Some(5)) && a.iter().all(|r| r.residence_id != Some(r.tenant_id)));
        let answered = a.iter().filter(|r| r.outcome == RecordOutcome::Answered).count();
        assert!((1_650..1_850).contains(&answered), "{answered}");
    }
}
