//! The centre's reports (issue 16) from a month of made-up records imported into the
//! store: every figure of the daily report is computed again here, from the records, by
//! other means; the CSV is read by Python's `csv` and the workbook by `openpyxl` (Debian's
//! `python3-openpyxl`); a member town reads its own residents' consultations and never
//! another member's report; a supervisor updates a handling status later, audited.

use kakehashi::reports::sample::{Shape, month};
use kakehashi::store::{CallRecord, RecordOutcome};
use serde_json::Value;

use crate::support::*;

/// 2026-11-17 00:00 in Tokyo, ms.
const DAY: i64 = 1_794_841_200_000;
const DAY_MS: i64 = 86_400_000;

/// Seed the test directory and import November 2026: (credentials, records as stored).
pub(crate) async fn november(dir: &std::path::Path) -> (Creds, Vec<CallRecord>) {
    let creds = seed(dir).await;
    let store = crate::postgres_support::open_store(dir).await;
    let legal = store.add_partner(1, "法テラス", "legal_aid").await.unwrap();
    let work = store.add_partner(1, "ハローワーク", "employment").await.unwrap();
    let shape = Shape {
        desks: vec![(1, 1), (2, 1), (3, 2)],
        members: vec![1, 2],
        interpreters: vec![(1, "staff"), (2, "staff"), (3, "contractor"), (4, "volunteer"), (5, "staff")],
        partners: vec![(legal, 1), (work, 1)],
    };
    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    let mut records = month(&shape, jiff::civil::date(2026, 11, 1), &tokyo, 3_000, 42).unwrap();
    store.import_call_records(&records).await.unwrap();
    for (i, r) in records.iter_mut().enumerate() {
        r.id = i as i64 + 1;
    }
    (creds, records)
}

/// The records of one local day that count for a municipality.
fn of_day(records: &[CallRecord], municipality: i64) -> Vec<&CallRecord> {
    records
        .iter()
        .filter(|r| (DAY..DAY + DAY_MS).contains(&r.requested_at))
        .filter(|r| r.tenant_id == municipality || r.residence_id == Some(municipality))
        .collect()
}

/// A GET's status, headers and body bytes.
pub(crate) async fn get_bytes(server: &Server, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    let status = head[9..12].parse().unwrap();
    assert!(!head.contains("transfer-encoding: chunked"), "reports are sent whole: {head}");
    (status, head, out[split + 4..].to_vec())
}

/// Run Debian's Python on `script` with the file at `path` as its argument; its stdout as JSON.
pub(crate) async fn python(script: &str, path: &std::path::Path) -> Value {
    let out = tokio::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .await
        .expect("Debian's python3 (scripts/packages.sh installs python3-openpyxl)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_daily_report_holds_every_consultation_of_the_day_and_its_totals() {
    let dir = temp("daily");
    let (creds, records) = november(&dir).await;
    let server = Server::start(dir.clone()).await;
    let mine = of_day(&records, 1);
    assert!(mine.len() > 50, "a weekday of the fixture is busy: {}", mine.len());

    let (status, body) =
        http(server.addr, "GET", "/api/reports/daily?municipality=1&date=2026-11-17", Some(&creds.sup_a), None).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    let count = |pick: &dyn Fn(&CallRecord) -> bool| mine.iter().filter(|r| pick(r)).count() as u64;
    let answered: Vec<&&CallRecord> = mine.iter().filter(|r| r.outcome == RecordOutcome::Answered).collect();
    let status_of = |s: &str| answered.iter().filter(|r| r.desk_outcome.as_deref() == Some(s)).count() as u64;
    let waits: Vec<i64> = answered.iter().map(|r| (r.answered_at.unwrap() - r.requested_at) / 1000).collect();
    let totals = &report["totals"];
    assert_eq!(totals["requests"], mine.len() as u64);
    assert_eq!(totals["answered"], answered.len() as u64);
    assert_eq!(totals["abandoned"], count(&|r| r.outcome == RecordOutcome::Abandoned));
    assert_eq!(totals["expired"], count(&|r| r.outcome == RecordOutcome::Expired));
    assert_eq!(totals["unserved"], count(&|r| r.outcome == RecordOutcome::Unserved));
    for s in ["resolved", "referred", "follow_up", "interrupted"] {
        assert_eq!(totals[s], status_of(s), "{s}");
    }
    assert_eq!(totals["not_recorded"], answered.iter().filter(|r| r.desk_outcome.is_none()).count() as u64);
    let talk: i64 = answered.iter().map(|r| (r.ended_at - r.answered_at.unwrap()) / 1000).sum();
    assert_eq!(totals["talk_secs"], talk);
    let mean = waits.iter().sum::<i64>() as f64 / waits.len() as f64;
    assert!((totals["mean_wait_secs"].as_f64().unwrap() - mean).abs() <= 0.05, "{totals} vs {mean}");
    let longest = mine.iter().map(|r| (r.answered_at.unwrap_or(r.ended_at) - r.requested_at) / 1000).max();
    assert_eq!(totals["longest_wait_secs"], longest.unwrap());

    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), mine.len());
    for (row, r) in rows.iter().zip(&mine) {
        let minutes = (r.requested_at - DAY) / 60_000;
        assert_eq!(row["record"], r.id);
        assert_eq!(row["time"], format!("{:02}:{:02}", minutes / 60, minutes % 60));
        assert_eq!(
            row["residence"],
            if r.residence_id.unwrap_or(r.tenant_id) == 1 { "Asahi City" } else { "Kita Town" }
        );
        assert_eq!(row["language"], r.language.as_str());
        assert_eq!(row["topics"], serde_json::json!(r.topics));
        let referral = r.referral_id.map(|p| if p == 1 { "法テラス" } else { "ハローワーク" });
        assert_eq!(row["referral"], serde_json::json!(referral));
        assert_eq!(row["interpreter"], serde_json::json!(r.interpreter_id.map(|i| format!("I-{i:04}"))));
        let mode = if r.phones > 0 {
            "phone"
        } else if r.remote_residents > 0 {
            "remote"
        } else {
            "counter"
        };
        assert_eq!(row["mode"], mode);
        assert!(!row.to_string().contains("i1") && !row.to_string().contains("login"), "no interpreter login");
    }

    // The CSV, read by Python's csv: the title, the totals, then one line per consultation.
    let (status, head, csv) =
        get_bytes(&server, "/api/reports/daily?municipality=1&date=2026-11-17&format=csv", &creds.sup_a).await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/csv; charset=utf-8") && head.contains("attachment"), "{head}");
    assert!(csv.starts_with("\u{feff}".as_bytes()), "a byte order mark for Excel");
    let file = dir.join("daily.csv");
    std::fs::write(&file, &csv).unwrap();
    let read = python(
        "import csv, json, sys\nrows = list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))\nprint(json.dumps(rows))",
        &file,
    )
    .await;
    let lines = read.as_array().unwrap();
    assert_eq!(lines[0][0], "日報 2026-11-17 Asahi City");
    assert!(lines.contains(&serde_json::json!(["依頼件数", mine.len().to_string()])), "{lines:?}");
    let header = lines.iter().position(|l| l[0] == "時刻").unwrap();
    assert_eq!(lines.len() - header - 1, mine.len());
    assert_eq!(lines[header + 1][0], rows[0]["time"]);

    // The workbook, read by openpyxl, in English this time.
    let (status, head, xlsx) =
        get_bytes(&server, "/api/reports/daily?municipality=1&date=2026-11-17&format=xlsx&lang=en", &creds.sup_a).await;
    assert_eq!(status, 200);
    assert!(head.contains("spreadsheetml.sheet"), "{head}");
    let file = dir.join("daily.xlsx");
    std::fs::write(&file, &xlsx).unwrap();
    let read = python(
        "import json, sys, openpyxl\nwb = openpyxl.load_workbook(sys.argv[1])\nws = wb.worksheets[0]\n\
         print(json.dumps({'sheets': wb.sheetnames, 'paper': ws.page_setup.paperSize, 'rows': [list(r) for r in ws.iter_rows(values_only=True)]}))",
        &file,
    )
    .await;
    assert_eq!(read["paper"], 9, "A4");
    let lines = read["rows"].as_array().unwrap();
    assert_eq!(lines[0][0], "Daily report 2026-11-17 Asahi City");
    assert!(lines.iter().any(|l| l[0] == "Requests" && l[1] == mine.len() as u64), "numbers are numbers");
    let header = lines.iter().position(|l| l[0] == "Time").unwrap();
    assert_eq!(lines.len() - header - 1, mine.len());
    let first = &lines[header + 1];
    assert_eq!(first[9], (mine[0].answered_at.unwrap_or(mine[0].ended_at) - mine[0].requested_at) / 1000);
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_member_town_reads_its_residents_consultations_and_no_other_members_report() {
    let dir = temp("daily-members");
    let (creds, records) = november(&dir).await;
    let server = Server::start(dir.clone()).await;
    let kita = of_day(&records, 2);
    assert!(kita.iter().any(|r| r.tenant_id == 1), "Kita residents at Asahi's desks are in the fixture");
    let (status, body) =
        http(server.addr, "GET", "/api/reports/daily?municipality=2&date=2026-11-17", Some(&creds.sup_b), None).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["rows"].as_array().unwrap().len(), kita.len());
    assert_eq!(report["municipality_name"], "Kita Town");
    for path in [
        "/api/reports/daily?municipality=1&date=2026-11-17",
        "/api/reports/daily?municipality=1&date=2026-11-17&format=csv",
    ] {
        let (status, body) = http(server.addr, "GET", path, Some(&creds.sup_b), None).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    for (path, says) in [
        ("/api/reports/daily?municipality=1&date=2026-11-31", "date"),
        ("/api/reports/daily?municipality=1&date=17/11/2026", "date"),
        ("/api/reports/daily?municipality=1", "date"),
        ("/api/reports/daily?municipality=1&date=2026-11-17&format=pdf", "format"),
        ("/api/reports/daily?municipality=x&date=2026-11-17", "municipality"),
    ] {
        let (status, body) = http(server.addr, "GET", path, Some(&creds.admin), None).await;
        assert!((400..500).contains(&status) && body.contains(says), "{path}: {status} {body}");
    }
    let (status, _) =
        http(server.addr, "GET", "/api/reports/daily?municipality=9&date=2026-11-17", Some(&creds.admin), None).await;
    assert_eq!(status, 404);
    let (status, _) =
        http(server.addr, "GET", "/api/reports/daily?municipality=1&date=2026-11-17", Some(&creds.desk_a1), None).await;
    assert!(status == 401 || status == 403, "a desk reads no reports: {status}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_supervisor_updates_a_handling_status_later_and_it_is_audited() {
    let dir = temp("status");
    let (creds, records) = november(&dir).await;
    let server = Server::start(dir.clone()).await;
    let follow_up = records
        .iter()
        .find(|r| r.tenant_id == 1 && r.desk_outcome.as_deref() == Some("follow_up") && r.requested_at >= DAY)
        .unwrap();
    let unanswered = records.iter().find(|r| r.tenant_id == 1 && r.outcome != RecordOutcome::Answered).unwrap();
    let body = r#"{"status":"resolved"}"#;
    let path = |id: i64| format!("/api/call-records/{id}/status");
    let (status, _) = http(server.addr, "PUT", &path(follow_up.id), Some(&creds.sup_b), Some(body)).await;
    assert_eq!(status, 404, "another municipality's record is not there for Kita");
    let (status, _) = http(server.addr, "PUT", &path(unanswered.id), Some(&creds.sup_a), Some(body)).await;
    assert_eq!(status, 404, "a request nobody answered has no handling status");
    let (status, text) =
        http(server.addr, "PUT", &path(follow_up.id), Some(&creds.sup_a), Some(r#"{"status":"done"}"#)).await;
    assert!(status == 400 && text.contains("status"), "{status} {text}");
    let (status, _) = http(server.addr, "PUT", &path(follow_up.id), Some(&creds.sup_a), Some(body)).await;
    assert_eq!(status, 204);
    let day = jiff::Timestamp::from_millisecond(follow_up.requested_at)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
        .date();
    let (_, body) =
        http(server.addr, "GET", &format!("/api/reports/daily?municipality=1&date={day}"), Some(&creds.sup_a), None)
            .await;
    let report: Value = serde_json::from_str(&body).unwrap();
    let row = report["rows"].as_array().unwrap().iter().find(|r| r["record"] == follow_up.id).unwrap().clone();
    assert_eq!(row["status"], "resolved");
    let dir = server.stop().await;
    let store = crate::postgres_support::open_store(&dir).await;
    let log = store.audit_log().await.unwrap();
    let target = Some(format!("call_record:{}", follow_up.id));
    assert!(log.contains(&("staff:2".into(), "set_handling_status".into(), target.clone(), false)), "{log:?}");
    assert!(log.iter().any(|e| e.1 == "set_handling_status" && e.2 == target && e.3 && e.0 == "staff:1"), "{log:?}");
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}
