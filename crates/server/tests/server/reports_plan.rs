//! The staffing plan (issue 16) on the made-up November of `reports.rs`, with a Nepali
//! interpreter rostered on Tuesday mornings only: arrivals, handle times and the
//! interpreters needed (Erlang C written again here) agree with the records; rostered
//! counts follow the rosters; the gaps are named.

use kakehashi::auth::hash_password;
use kakehashi::directory::{RosterDoc, ShiftDoc};
use kakehashi::store::{CallRecord, RecordOutcome};
use serde_json::Value;

use crate::reports::november;
use crate::support::*;

/// 2026-11-03 00:00 and 2026-12-01 00:00 in Tokyo, ms.
const FROM: i64 = 1_793_631_600_000;
const TO: i64 = 1_796_050_800_000;
const JST: i64 = 9 * 3_600_000;

/// P(wait) of M/M/n with offered traffic `a` (Erlang C from the recursion of Erlang B).
fn erlang_c(n: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=n {
        b = a * b / (f64::from(k) + a * b);
    }
    if a >= f64::from(n) { 1.0 } else { f64::from(n) * b / (f64::from(n) - a * (1.0 - b)) }
}

/// The fewest interpreters answering 80% within 20 s.
fn needed(per_hour: f64, handle: f64) -> u32 {
    let a = per_hour / 3600.0 * handle;
    (1..)
        .find(|&n| f64::from(n) > a && 1.0 - erlang_c(n, a) * (-(f64::from(n) - a) * 20.0 / handle).exp() >= 0.8)
        .unwrap()
}

#[tokio::test]
async fn the_staffing_plan_sets_erlang_c_on_the_history_against_the_rosters() {
    let dir = temp("staffing");
    let (creds, records) = november(&dir).await;
    let store = crate::postgres_support::open_store(&dir).await;
    let mut nepali = staff("ne-tue", "ne", 1);
    nepali.roster = RosterDoc {
        time_zone: Some("Asia/Tokyo".into()),
        shifts: vec![ShiftDoc {
            days: vec!["tue".into()],
            start: "09:00".into(),
            end: "12:00".into(),
            ..ShiftDoc::default()
        }],
        ..RosterDoc::default()
    };
    store.insert_interpreter(&nepali, &hash_password("pw-ne").unwrap()).await.unwrap();
    drop(store);
    let server = Server::start(dir.clone()).await;
    let path = "/api/reports/staffing?municipality=1&weeks=4&as_of=2026-12-01";
    let (status, body) = http(server.addr, "GET", path, Some(&creds.sup_a), None).await;
    assert_eq!(status, 200, "{body}");
    let plan: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((plan["from"].as_str(), plan["to"].as_str()), (Some("2026-11-03"), Some("2026-11-30")));
    let mine: Vec<&CallRecord> = records
        .iter()
        .filter(|r| (FROM..TO).contains(&r.requested_at) && (r.tenant_id == 1 || r.residence_id == Some(1)))
        .collect();
    let slot = |lang: &str, day: u64, hour: u64| {
        plan["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["language"] == lang && s["weekday"] == day && s["hour"] == hour)
            .cloned()
    };
    for (lang, day, hour) in [("vi", 1, 10), ("zh", 3, 14), ("pt", 0, 9)] {
        let here: Vec<&&CallRecord> = mine
            .iter()
            .filter(|r| r.language == lang)
            .filter(|r| {
                let local = r.requested_at + JST;
                (local / 86_400_000 + 3) % 7 == day as i64 && local / 3_600_000 % 24 == hour as i64
            })
            .collect();
        let answered: Vec<i64> = mine
            .iter()
            .filter(|r| r.language == lang && r.outcome == RecordOutcome::Answered)
            .map(|r| (r.ended_at - r.answered_at.unwrap()) / 1000)
            .collect();
        let handle = answered.iter().sum::<i64>() as f64 / answered.len() as f64;
        let s = slot(lang, day, hour).unwrap_or_else(|| panic!("{lang} {day} {hour}"));
        let per_hour = here.len() as f64 / 4.0;
        assert!((s["arrivals_per_hour"].as_f64().unwrap() - per_hour).abs() < 0.006, "{s}");
        assert!((s["handle_secs"].as_f64().unwrap() - handle).abs() <= 0.5, "{s} vs {handle}");
        assert_eq!(s["needed"], needed(per_hour, handle.round()), "{s}");
        // Interpreters 1 to 3 (Vietnamese) are always on; the others speak other languages.
        let rostered = if lang == "vi" {
            3
        } else if lang == "pt" {
            1
        } else {
            0
        };
        assert_eq!(s["rostered"], rostered, "{s}");
    }
    // Nepali: on Tuesday mornings only; Wednesday's demand is a gap, named.
    assert_eq!(slot("ne", 1, 10).unwrap()["rostered"], 1);
    let wednesday = slot("ne", 2, 10).unwrap();
    assert_eq!(wednesday["rostered"], 0);
    let gaps = plan["gaps"].as_array().unwrap();
    assert!(
        gaps.iter().any(|g| g["language"] == "ne"
            && g["weekday"] == 2
            && g["from_hour"].as_u64() <= Some(10)
            && g["to_hour"].as_u64() > Some(10)
            && g["needed"] == wednesday["needed"]),
        "{gaps:?}"
    );
    assert!(gaps.iter().all(|g| g["needed"].as_u64() > g["rostered"].as_u64()));
    for (path, status) in [
        ("/api/reports/staffing?weeks=4", 403),
        ("/api/reports/staffing?municipality=1&weeks=0", 400),
        ("/api/reports/staffing?municipality=1&target=1", 400),
        ("/api/reports/staffing?municipality=1&as_of=2026-02-30", 400),
        ("/api/reports/staffing?municipality=2", 403),
    ] {
        assert_eq!(http(server.addr, "GET", path, Some(&creds.sup_a), None).await.0, status, "{path}");
    }
    let (status, body) =
        http(server.addr, "GET", "/api/reports/staffing?as_of=2026-12-01&format=csv&lang=en", Some(&creds.admin), None)
            .await;
    assert_eq!(status, 200);
    assert!(body.contains("Staffing gaps 2026-11-03 to 2026-11-30") && body.contains("Nepali,Wednesdays"), "{body}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
