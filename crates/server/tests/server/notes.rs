//! Handling notes (issue 16, ADR 0017): a municipality that keeps them lets its desk give
//! one with the outcome; the note is sealed before it is stored (its text is nowhere in
//! the database's files), only that municipality's supervisors read it, every read is
//! audited, the daily report carries it when they ask, and it is gone past its retention.
//! A municipality that does not keep notes refuses one.

use std::time::Duration;

use kakehashi::store::Retention;
use kakehashi_protocol as p;
use serde_json::Value;

use crate::expect;
use crate::support::*;

const NOTE: &str = "在留カード更新の相談。来週、必要書類を持って再訪予定(メモ試験用の文)";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The note's text is nowhere in the database: on PostgreSQL in none of its rows, as text
/// or as bytes; on SQLite in none of its files, the write-ahead log and its index too,
/// while they exist (SQLite removes them as the last connection closes).
async fn nowhere_on_disk(dir: &std::path::Path) {
    if let Some(url) = crate::postgres_support::postgres_of(dir) {
        let rows = crate::postgres_support::every_row(&url).await;
        let hex: String = "メモ試験用".bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!rows.contains("メモ試験用") && !rows.contains(&hex), "a row holds the note's text");
        assert!(rows.contains("handling_notes"), "the notes were read");
        return;
    }
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_string_lossy().starts_with("kakehashi.sqlite3") {
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                read += 1;
                assert!(!contains(&bytes, "メモ試験用".as_bytes()), "{} holds the note's text", path.display());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    assert!(read >= 1, "the database was read");
}

#[tokio::test]
async fn a_note_is_sealed_read_only_by_its_municipalitys_supervisors_audited_and_purged() {
    let dir = temp("notes");
    let creds = seed(&dir).await;
    let store = crate::postgres_support::open_store(&dir).await;
    let keeps = Retention { records_days: 1825, audit_days: 1825, handling_notes: true, notes_days: 30 };
    assert!(store.set_retention(1, keeps).await.unwrap());
    drop(store);
    let server = Server::start(dir.clone()).await;
    let (_, home) = http(server.addr, "GET", "/api/desk", Some(&creds.desk_a1), None).await;
    assert_eq!(serde_json::from_str::<Value>(&home).unwrap()["handling_notes"], true);

    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    let follow_up = |text: String| p::DeskCommand::RecordOutcome {
        call,
        outcome: p::OutcomeCategory::FollowUp,
        topics: vec![],
        residence: None,
        referral: None,
        note: Some(p::Note(text)),
    };
    desk.send(follow_up("あ".repeat(501))).await;
    let e = desk.error().await;
    assert_eq!((e.code, e.message.as_str()), (p::ErrorCode::InvalidField, "note: at most 500 characters"));
    desk.send(follow_up(format!("  {NOTE}\n"))).await;
    expect!(desk, p::DeskEvent::OutcomeRecorded { .. });
    let record = server.records(&creds.sup_a).await[0]["id"].as_i64().unwrap();

    // Kita keeps no notes: its desk's note is refused, naming the field.
    let mut kita_interpreter = server.interpreter(&creds.interp[4]).await;
    let mut kita = server.desk(&creds.desk_b).await;
    let kita_call = answered_call(&mut kita, &mut kita_interpreter, "vi").await;
    kita.send(p::DeskCommand::EndCall { call: kita_call }).await;
    expect!(kita, p::DeskEvent::CallEnded { .. });
    let mut with_note = resolved(kita_call);
    if let p::DeskCommand::RecordOutcome { note, .. } = &mut with_note {
        *note = Some(p::Note("x".into()));
    }
    kita.send(with_note).await;
    let e = kita.error().await;
    assert_eq!(e.message, "note: this municipality does not keep handling notes");

    // Asahi's supervisor reads it; Kita's does not see it; the centre's admin may not.
    let path = format!("/api/call-records/{record}/note");
    let (status, body) = http(server.addr, "GET", &path, Some(&creds.sup_a), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["note"], NOTE);
    assert_eq!(http(server.addr, "GET", &path, Some(&creds.sup_b), None).await.0, 404);
    assert_eq!(http(server.addr, "GET", &path, Some(&creds.admin), None).await.0, 403);
    // The daily report marks it; with notes=true it carries it, for Asahi's supervisor only.
    let today = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap()).date();
    let daily = format!("/api/reports/daily?municipality=1&date={today}");
    let (_, body) = http(server.addr, "GET", &daily, Some(&creds.sup_a), None).await;
    let report: Value = serde_json::from_str(&body).unwrap();
    let row = report["rows"].as_array().expect(&body).iter().find(|r| r["record"] == record).expect(&body).clone();
    assert_eq!((row["has_note"].clone(), row["note"].clone()), (Value::Bool(true), Value::Null));
    let (status, body) =
        http(server.addr, "GET", &format!("{daily}&notes=true&format=csv"), Some(&creds.sup_a), None).await;
    assert!(status == 200 && body.contains("対応メモ") && body.contains(NOTE), "{status} {body}");
    for token in [&creds.sup_b, &creds.admin] {
        assert_eq!(http(server.addr, "GET", &format!("{daily}&notes=true"), Some(token), None).await.0, 403);
    }
    let (_, body) =
        http(server.addr, "GET", "/api/reports/monthly?municipality=1&month=2026-12", Some(&creds.sup_a), None).await;
    assert!(!body.contains("メモ試験用"), "never in statistics");
    nowhere_on_disk(&dir).await;
    let dir = server.stop().await;

    // Nowhere in the database's files, while it ran and after; every read audited; gone
    // after 30 days.
    nowhere_on_disk(&dir).await;
    let store = crate::postgres_support::open_store(&dir).await;
    let sealed = store.note(record).await.unwrap().expect("the note is kept");
    assert!(!sealed.sealed.contains("在留"));
    let log = store.audit_entries(Some(1), 0, 100).await.unwrap();
    let reads: Vec<(&str, bool)> =
        log.iter().filter(|e| e.action == "read_note").map(|e| (e.actor.as_str(), e.ok)).collect();
    assert_eq!(reads, vec![("staff:1", true), ("staff:1", true)], "the API's read and the report's, newest first");
    let refused = store.audit_entries(Some(2), 0, 100).await.unwrap();
    assert!(refused.iter().any(|e| e.action == "read_note" && e.actor == "staff:2" && !e.ok), "{refused:?}");
    let purged = store.purge(kakehashi::store::now_ms() + 31 * 86_400_000).await.unwrap();
    assert_eq!(purged.notes, 1);
    assert!(store.note(record).await.unwrap().is_none(), "past its retention");
    assert_eq!(store.call_records(Some(1)).await.unwrap().len(), 1, "the record stays");
    tokio::time::sleep(Duration::from_millis(1)).await;
    let _ = std::fs::remove_dir_all(dir);
}
