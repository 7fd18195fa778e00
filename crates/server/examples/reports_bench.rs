//! How long the centre's reports take for a month of 100,000 consultations (issue 16: under
//! 2 s). A fresh store in a temporary directory gets a made-up month
//! (`kakehashi::reports::sample`), then each report is made as its HTTP handler makes it:
//! read from the store, computed, and written as JSON and as a workbook. Prints one line
//! per report, the median of the runs.
//!
//!   cargo run --release -p kakehashi --example reports_bench -- [consultations] [runs]
//!
//! With `KAKEHASHI_DATABASE` naming an empty PostgreSQL database, the store is there
//! instead of SQLite.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use kakehashi::reports::cost_split::{Member, cost_split};
use kakehashi::reports::monthly::Scope;
use kakehashi::reports::sample::{Shape, month};
use kakehashi::reports::staffing::{Aim, Rostered, staffing};
use kakehashi::reports::{Lang, Names, Period, daily, monthly, xlsx};
use kakehashi::store::{CostSplitRule, Store};

type Failure = Box<dyn std::error::Error>;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args.get(1).map_or(Ok(100_000), |a| a.parse())?;
    let runs: usize = args.get(2).map_or(Ok(5), |a| a.parse())?;
    let dir = std::env::temp_dir().join(format!("kakehashi-reports-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = match std::env::var("KAKEHASHI_DATABASE") {
        Ok(url) => Store::open_postgres(&url).await?,
        Err(_) => Store::open(&dir).await?,
    };
    println!("store: {:?}", store.backend());
    let mut members = Vec::new();
    for (name, residents) in [("Asahi City", 21_400), ("Minami Town", 2_100), ("Kita Town", 1_350)] {
        members.push(Member {
            id: store.insert_tenant(name, residents, "Asia/Tokyo").await?,
            name: name.into(),
            foreign_residents: residents,
        });
    }
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo")?;
    let shape = Shape {
        desks: vec![(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 3)],
        members: vec![1, 2, 3],
        interpreters: (1..=60).map(|i| (i, ["staff", "contractor", "volunteer"][i as usize % 3])).collect(),
        partners: Vec::new(),
    };
    let first = jiff::civil::date(2026, 11, 1);
    let records = month(&shape, first, &tz, count, 1)?;
    let started = Instant::now();
    store.import_call_records(&records).await?;
    println!("imported {count} consultations in {:.2} s", started.elapsed().as_secs_f64());
    let names = Names { tenants: members.iter().map(|m| (m.id, m.name.clone())).collect(), ..Names::default() };
    let period = Period::month(first, &tz)?;
    let interpreters: Vec<Rostered> = (0..60)
        .map(|i| Rostered {
            languages: vec![["vi", "zh", "pt", "fil", "ne"][i % 5].into()],
            roster: kakehashi_dispatch::Roster::always(),
        })
        .collect();
    println!("{:<44} {:>10} {:>10} {:>10}", "report (one month, 3 municipalities)", "read", "compute", "total");
    for (label, which) in [
        ("monthly statistics, centre, JSON", 0),
        ("monthly statistics, centre, workbook", 1),
        ("monthly statistics, Asahi City, JSON", 2),
        ("shared report, JSON", 3),
        ("daily report, busiest day, workbook", 4),
        ("cost split, JSON", 5),
        ("staffing plan (4 weeks), JSON", 6),
    ] {
        let (mut reads, mut computes, mut totals) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let t0 = Instant::now();
            let (municipality, from, to) = match which {
                2 => (Some(1), period.from, period.to),
                4 => {
                    let day = Period::day(jiff::civil::date(2026, 11, 17), &tz)?;
                    (Some(1), day.from, day.to)
                }
                6 => (
                    Some(1),
                    Period::day(jiff::civil::date(2026, 11, 3), &tz)?.from,
                    Period::day(jiff::civil::date(2026, 12, 1), &tz)?.from,
                ),
                _ => (None, period.from, period.to),
            };
            let rows = store.records_counting_for(municipality, from, to).await?;
            let t1 = Instant::now();
            let bytes = match which {
                0 | 2 | 3 => {
                    let scope = Scope { municipality, logins: None, interpreters: which != 3 };
                    serde_json::to_vec(&monthly(&rows, &names, scope, first, &tz)?)?.len()
                }
                1 => {
                    let scope = Scope { municipality: None, logins: None, interpreters: true };
                    xlsx::workbook(&monthly(&rows, &names, scope, first, &tz)?.tables(Lang::Ja))?.len()
                }
                4 => xlsx::workbook(&[daily(&rows, &names, 1, jiff::civil::date(2026, 11, 17), &tz)?.table(Lang::Ja)])?
                    .len(),
                5 => {
                    let rule = CostSplitRule {
                        monthly_cost: 1_000_000,
                        equal_percent: 20,
                        residents_percent: 50,
                        usage_percent: 30,
                        usage_basis: "minutes".into(),
                    };
                    serde_json::to_vec(&cost_split(&rows, &members, &rule, first, &tz)?)?.len()
                }
                _ => {
                    let aim = Aim { weeks: 4, target: 0.8, secs: 20.0, today: jiff::civil::date(2026, 12, 1) };
                    serde_json::to_vec(&staffing(&rows, &interpreters, aim, &tz)?)?.len()
                }
            };
            std::hint::black_box(bytes);
            let t2 = Instant::now();
            reads.push(t1 - t0);
            computes.push(t2 - t1);
            totals.push(t2 - t0);
        }
        let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
        let line =
            format!("{label:<44} {:>10} {:>10} {:>10}", ms(median(reads)), ms(median(computes)), ms(median(totals)));
        println!("{line}");
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir); // none on PostgreSQL
    Ok(())
}
