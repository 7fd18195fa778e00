//! Monthly statistics and the shared report (issue 16) on the made-up November of
//! `reports.rs`: every figure computed again here from the records (hours and weekdays
//! from Tokyo's fixed offset, not a time zone library), the workbook read by openpyxl;
//! a member reads the shared report but not the whole centre's interpreters.

use std::collections::BTreeMap;

use kakehashi::store::{CallRecord, RecordOutcome};
use serde_json::{Value, json};

use crate::reports::{get_bytes, november, python};
use crate::support::*;

const JST: i64 = 9 * 3_600_000;

fn wait(r: &CallRecord) -> i64 {
    (r.answered_at.unwrap_or(r.ended_at) - r.requested_at) / 1000
}

/// The figures the API reports for a set of records, computed here.
fn figures(records: &[&CallRecord]) -> Value {
    let n = |o: RecordOutcome| records.iter().filter(|r| r.outcome == o).count() as u64;
    let answered: Vec<&&CallRecord> = records.iter().filter(|r| r.outcome == RecordOutcome::Answered).collect();
    let talk: i64 = answered.iter().map(|r| (r.ended_at - r.answered_at.unwrap()) / 1000).sum();
    let in_time = answered.iter().filter(|r| wait(r) <= 20).count() as f64;
    let queued = (answered.len() as u64 + n(RecordOutcome::Abandoned) + n(RecordOutcome::Expired)) as f64;
    let round = |x: f64, places: i32| (x * 10f64.powi(places)).round() / 10f64.powi(places);
    json!({
        "requests": records.len(),
        "answered": answered.len(),
        "abandoned": n(RecordOutcome::Abandoned),
        "expired": n(RecordOutcome::Expired),
        "unserved": n(RecordOutcome::Unserved),
        "answered_in_time": in_time as u64,
        "minutes": round(talk as f64 / 60.0, 1),
        "service_level": round(in_time / queued, 3),
        "asa_secs": round(answered.iter().map(|r| wait(r)).sum::<i64>() as f64 / answered.len() as f64, 1),
        "abandonment": round(n(RecordOutcome::Abandoned) as f64 / records.len() as f64, 3),
    })
}

fn same_figures(got: &Value, want: &Value, what: &str) {
    for (k, v) in want.as_object().unwrap() {
        match (got[k].as_f64(), v.as_f64()) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{what} {k}: {a} vs {b}"),
            _ => assert_eq!(&got[k], v, "{what} {k}"),
        }
    }
}

#[tokio::test]
async fn monthly_statistics_agree_with_the_records_and_the_shared_report_leaves_the_interpreters_out() {
    let dir = temp("monthly");
    let (creds, records) = november(&dir).await;
    let server = Server::start(dir.clone()).await;
    let get = |path: String, token: String| async move { http(server.addr, "GET", &path, Some(&token), None).await };
    let (status, body) = get("/api/reports/monthly?municipality=1&month=2026-11".into(), creds.sup_a.clone()).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let mine: Vec<&CallRecord> = records.iter().filter(|r| r.tenant_id == 1 || r.residence_id == Some(1)).collect();
    same_figures(&report["totals"], &figures(&mine), "totals");
    // By language, most requested first, each with its own figures.
    let mut languages: BTreeMap<&str, Vec<&CallRecord>> = BTreeMap::new();
    for r in &mine {
        languages.entry(r.language.as_str()).or_default().push(r);
    }
    let rows = report["by_language"].as_array().unwrap();
    assert_eq!(rows.len(), languages.len());
    assert!(rows.windows(2).all(|w| w[0]["requests"].as_u64() >= w[1]["requests"].as_u64()));
    for row in rows {
        same_figures(row, &figures(&languages[row["key"].as_str().unwrap()]), row["key"].as_str().unwrap());
    }
    // Hours and weekdays in Tokyo (UTC+9 all year); 1970-01-01 was a Thursday.
    let mut hours = vec![0u64; 24];
    let mut weekdays = vec![0u64; 7];
    for r in &mine {
        let local = r.requested_at + JST;
        hours[(local / 3_600_000 % 24) as usize] += 1;
        weekdays[((local / 86_400_000 + 3) % 7) as usize] += 1;
    }
    assert_eq!(report["by_hour"], json!(hours));
    assert_eq!(report["by_weekday"], json!(weekdays));
    assert!(weekdays[1] > weekdays[6], "Tuesdays busier than Sundays");
    // Topics (each consultation under each of its topics), statuses and modes.
    let answered: Vec<&&CallRecord> = mine.iter().filter(|r| r.outcome == RecordOutcome::Answered).collect();
    let count = |code: &str, list: &str| {
        report[list].as_array().unwrap().iter().find(|c| c["code"] == code).map_or(0, |c| c["count"].as_u64().unwrap())
    };
    for topic in ["medical", "work", "domestic_violence"] {
        let n = answered.iter().filter(|r| r.topics.iter().any(|t| t == topic)).count() as u64;
        assert_eq!(count(topic, "by_topic"), n, "{topic}");
    }
    assert_eq!(count("not_recorded", "by_status"), answered.iter().filter(|r| r.desk_outcome.is_none()).count() as u64);
    assert_eq!(count("phone", "by_mode"), mine.iter().filter(|r| r.phones > 0).count() as u64);
    // By member: Asahi's own and Kita's residents at Asahi's desks.
    let kita: Vec<&CallRecord> = mine.iter().copied().filter(|r| r.residence() == 2).collect();
    let member = report["by_member"].as_array().unwrap().iter().find(|m| m["key"] == "Kita Town").unwrap().clone();
    same_figures(&member, &figures(&kita), "Kita's residents");
    // Interpreters: calls and minutes each, by code, without logins for a supervisor.
    for a in report["interpreters"].as_array().unwrap() {
        let id: i64 = a["interpreter"].as_str().unwrap()[2..].parse().unwrap();
        let theirs: Vec<&&&CallRecord> = answered.iter().filter(|r| r.interpreter_id == Some(id)).collect();
        assert_eq!(a["calls"], theirs.len() as u64);
        let secs: i64 = theirs.iter().map(|r| (r.ended_at - r.answered_at.unwrap()) / 1000).sum();
        assert!((a["minutes"].as_f64().unwrap() - (secs as f64 / 6.0).round() / 10.0).abs() < 1e-9);
        assert_eq!(a["login"], Value::Null);
    }

    // The whole centre: an admin's, with logins for pay; not a supervisor's.
    let (status, body) = get("/api/reports/monthly?month=2026-11".into(), creds.admin.clone()).await;
    assert_eq!(status, 200, "{body}");
    let centre: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(centre["totals"]["requests"], records.len() as u64);
    assert!(centre["interpreters"].as_array().unwrap().iter().any(|a| a["login"] == "i1"));
    let (status, _) = get("/api/reports/monthly?month=2026-11".into(), creds.sup_a.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = get("/api/reports/monthly?municipality=1&month=2026-11".into(), creds.sup_b.clone()).await;
    assert_eq!(status, 403, "another member's statistics");
    // The shared report: any member reads it; no interpreters in it.
    let (status, body) = get("/api/reports/shared?month=2026-11".into(), creds.sup_b.clone()).await;
    assert_eq!(status, 200, "{body}");
    let shared: Value = serde_json::from_str(&body).unwrap();
    let all: Vec<&CallRecord> = records.iter().collect();
    same_figures(&shared["totals"], &figures(&all), "shared totals");
    assert_eq!(shared["interpreters"], json!([]));
    assert!(!body.contains("I-0") && !body.contains("\"i1\""), "no interpreter in the shared report");
    assert_eq!(shared["by_member"].as_array().unwrap().len(), 2);
    for (path, says) in [
        ("/api/reports/shared?month=2026-11&municipality=1", "municipality"),
        ("/api/reports/monthly?municipality=1&month=2026-13", "month"),
        ("/api/reports/monthly?municipality=1&month=11-2026", "month"),
    ] {
        let (status, body) = get(path.into(), creds.admin.clone()).await;
        assert!(status == 400 && body.contains(says), "{path}: {status} {body}");
    }

    // The workbook: a sheet per breakdown, read by openpyxl.
    let (status, _, xlsx) =
        get_bytes(&server, "/api/reports/monthly?municipality=1&month=2026-11&format=xlsx", &creds.sup_a).await;
    assert_eq!(status, 200);
    let file = dir.join("monthly.xlsx");
    std::fs::write(&file, &xlsx).unwrap();
    let read = python(
        "import json, sys, openpyxl\nwb = openpyxl.load_workbook(sys.argv[1])\n\
         print(json.dumps({ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}))",
        &file,
    )
    .await;
    let sheets: Vec<&String> = read.as_object().unwrap().keys().collect();
    for name in
        ["月次統計", "言語別", "市町村別", "分野別", "対応状況別", "形態別", "時間帯別", "曜日別", "通訳者別活動"]
    {
        assert!(sheets.iter().any(|s| *s == name), "{name} in {sheets:?}");
    }
    let vi = read["言語別"].as_array().unwrap().iter().find(|r| r[0] == "ベトナム語").unwrap().clone();
    assert_eq!(vi[1], languages["vi"].len() as u64);
    let summary = read["月次統計"].as_array().unwrap();
    assert!(summary.iter().any(|r| r[0] == "依頼件数" && r[1] == mine.len() as u64));
    let (status, _, csv) =
        get_bytes(&server, "/api/reports/shared?month=2026-11&format=csv&lang=en", &creds.sup_b).await;
    assert_eq!(status, 200);
    let file = dir.join("shared.csv");
    std::fs::write(&file, &csv).unwrap();
    let read = python(
        "import csv, json, sys\nprint(json.dumps(list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))))",
        &file,
    )
    .await;
    let lines = read.as_array().unwrap();
    assert!(lines.iter().any(|l| l[0] == "By language 2026-11 Asahi City・Kita Town"), "{:?}", &lines[..3]);
    assert!(!lines.iter().any(|l| l[0].as_str().is_some_and(|s| s.starts_with("Interpreters"))));
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_cost_split_weighs_each_member_as_the_centre_set_it_and_the_yen_add_up() {
    let dir = temp("cost-split");
    let (creds, records) = november(&dir).await;
    let server = Server::start(dir.clone()).await;
    let put = |token: String, body: Value| async move {
        http(server.addr, "PUT", "/api/cost-split", Some(&token), Some(&body.to_string())).await
    };
    let rule = json!({
        "monthly_cost": 1_000_000, "equal_percent": 20, "residents_percent": 30, "usage_percent": 50,
        "usage_basis": "minutes",
        "foreign_residents": [{"municipality": 1, "count": 21_400}, {"municipality": 2, "count": 3_600}],
    });
    assert_eq!(put(creds.sup_a.clone(), rule.clone()).await.0, 403, "a supervisor reads the rule, an admin sets it");
    let mut wrong = rule.clone();
    wrong["usage_percent"] = json!(60);
    let (status, body) = put(creds.admin.clone(), wrong).await;
    assert!(status == 422 && body.contains("add up to 100"), "{status} {body}");
    let mut wrong = rule.clone();
    wrong["foreign_residents"] = json!([{"municipality": 9, "count": 5}]);
    let (status, body) = put(creds.admin.clone(), wrong).await;
    assert!(status == 422 && body.contains("foreign_residents"), "{status} {body}");
    assert_eq!(put(creds.admin.clone(), rule).await.0, 204);
    let (status, body) = http(server.addr, "GET", "/api/cost-split", Some(&creds.sup_b), None).await;
    assert_eq!(status, 200);
    let read: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (read["monthly_cost"].clone(), read["foreign_residents"][1]["count"].clone()),
        (json!(1_000_000), json!(3_600))
    );

    // Computed here: a fifth equally, 30% by 21,400 : 3,600, half by the minutes each
    // town's residents were interpreted for.
    let mut minutes = [0f64; 2];
    for r in records.iter().filter(|r| r.outcome == RecordOutcome::Answered) {
        minutes[(r.residence() - 1) as usize] += ((r.ended_at - r.answered_at.unwrap()) / 1000) as f64 / 60.0;
    }
    let used = minutes[0] + minutes[1];
    let exact = [0, 1].map(|i| {
        let residents = [21_400.0, 3_600.0][i] / 25_000.0;
        200_000.0 / 2.0 + 300_000.0 * residents + 500_000.0 * minutes[i] / used
    });
    let (status, body) =
        http(server.addr, "GET", "/api/reports/cost-split?month=2026-11", Some(&creds.sup_b), None).await;
    assert_eq!(status, 200, "{body}");
    let split: Value = serde_json::from_str(&body).unwrap();
    let members = split["members"].as_array().unwrap();
    let amounts: Vec<i64> = members.iter().map(|m| m["amount"].as_i64().unwrap()).collect();
    assert_eq!(amounts.iter().sum::<i64>(), 1_000_000, "whole yen that add up to the cost");
    for i in 0..2 {
        assert!((amounts[i] as f64 - exact[i]).abs() < 1.0, "member {i}: {} vs {}", amounts[i], exact[i]);
        assert!((members[i]["usage"].as_f64().unwrap() - (minutes[i] * 10.0).round() / 10.0).abs() < 1e-9);
    }
    // Kita's own statement, as a workbook.
    let (status, _, xlsx) =
        get_bytes(&server, "/api/reports/cost-split?month=2026-11&municipality=2&format=xlsx", &creds.sup_b).await;
    assert_eq!(status, 200);
    let file = dir.join("cost-split.xlsx");
    std::fs::write(&file, &xlsx).unwrap();
    let read = python(
        "import json, sys, openpyxl\nws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]\n\
         print(json.dumps([list(r) for r in ws.iter_rows(values_only=True)]))",
        &file,
    )
    .await;
    let lines = read.as_array().unwrap();
    assert_eq!(lines[0][0], "費用按分 2026-11 Kita Town");
    let kita = lines.iter().find(|l| l[0] == "Kita Town").unwrap();
    assert_eq!(kita[8], amounts[1], "the amount to pay, last");
    assert!(!lines.iter().any(|l| l[0] == "Asahi City"), "one member's statement");
    let (status, _) =
        http(server.addr, "GET", "/api/reports/cost-split?month=2026-11&municipality=7", Some(&creds.admin), None)
            .await;
    assert_eq!(status, 404);
    let dir = server.stop().await;
    let log = crate::postgres_support::open_store(&dir).await.audit_log().await.unwrap();
    assert!(log.iter().any(|e| e.0 == "staff:3" && e.1 == "set_cost_split" && e.3), "{log:?}");
    let _ = std::fs::remove_dir_all(dir);
}
