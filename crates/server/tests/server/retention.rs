//! Retention (issue 16): the purge runs by itself at start (and hourly), deleting each
//! municipality's records past its keeping and leaving an audit entry; admins set
//! retention and read the audit log; supervisors read their own retention only.

use kakehashi::store::{CallRecord, RecordOutcome, Retention};
use serde_json::{Value, json};

use crate::support::*;

const DAY: i64 = 86_400_000;

fn old(tenant_id: i64, days: i64) -> CallRecord {
    let at = kakehashi::store::now_ms() - days * DAY;
    CallRecord {
        id: 0,
        tenant_id,
        desk_id: if tenant_id == 1 { 1 } else { 3 },
        language: "vi".into(),
        speciality: None,
        modality: "video".into(),
        tier: None,
        interpreter_id: None,
        requested_at: at,
        offered_at: None,
        answered_at: None,
        ended_at: at + 30_000,
        offers: 0,
        outcome: RecordOutcome::Unserved,
        desk_outcome: None,
        loss: None,
        rtt_ms: None,
        reconnects: None,
        remote_residents: 0,
        guests: 0,
        phones: 0,
        topics: Vec::new(),
        residence_id: None,
        referral_id: None,
    }
}

#[tokio::test]
async fn the_purge_runs_by_itself_and_admins_set_retention_and_read_the_audit_log() {
    let dir = temp("retention");
    let creds = seed(&dir).await;
    let store = crate::postgres_support::open_store(&dir).await;
    store.import_call_records(&[old(1, 2000), old(1, 100), old(2, 2000)]).await.unwrap();
    let kita = Retention { records_days: 3000, audit_days: 3000, handling_notes: false, notes_days: 365 };
    assert!(store.set_retention(2, kita).await.unwrap());
    drop(store);
    let server = Server::start(dir.clone()).await;
    // At start: Asahi's five-year-old record goes; Kita keeps its own for eight years.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = server.records(&creds.admin).await;
        if left.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tenants: Vec<i64> = left.iter().map(|r| r["tenant"].as_i64().unwrap()).collect();
    assert_eq!(tenants, vec![1, 2], "{left:?}");
    let (status, body) = http(server.addr, "GET", "/api/audit-log?limit=10", Some(&creds.admin), None).await;
    assert_eq!(status, 200, "{body}");
    let log: Vec<Value> = serde_json::from_str(&body).unwrap();
    let purge = log.iter().find(|e| e["action"] == "retention_purge").expect("the purge is audited");
    assert_eq!(
        (purge["actor"].as_str(), purge["target"].as_str()),
        (Some("system"), Some("call_records:1 handling_notes:0 audit_entries:0"))
    );

    let (status, body) = http(server.addr, "GET", "/api/tenants/1/retention", Some(&creds.sup_a), None).await;
    assert_eq!(
        (status, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({"records_days": 1825, "audit_days": 1825, "handling_notes": false, "notes_days": 365}))
    );
    assert_eq!(http(server.addr, "GET", "/api/tenants/2/retention", Some(&creds.sup_a), None).await.0, 403);
    let put = |token: String, body: Value| async move {
        http(server.addr, "PUT", "/api/tenants/1/retention", Some(&token), Some(&body.to_string())).await
    };
    assert_eq!(
        put(
            creds.sup_a.clone(),
            json!({"records_days": 365, "audit_days": 365, "handling_notes": false, "notes_days": 365})
        )
        .await
        .0,
        403
    );
    let (status, body) = put(
        creds.admin.clone(),
        json!({"records_days": 10, "audit_days": 365, "handling_notes": false, "notes_days": 365}),
    )
    .await;
    assert!(status == 422 && body.contains("records_days"), "{status} {body}");
    assert_eq!(
        put(
            creds.admin.clone(),
            json!({"records_days": 365, "audit_days": 400, "handling_notes": true, "notes_days": 90})
        )
        .await
        .0,
        204
    );
    let (_, body) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    let log: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(log[0]["action"], "set_retention");
    assert_eq!(log[0]["target"], "records_days:365 audit_days:400 handling_notes:true notes_days:90");
    assert_eq!(log[0]["actor"], "staff:3");
    assert_eq!(http(server.addr, "GET", "/api/audit-log", Some(&creds.sup_a), None).await.0, 403);
    assert_eq!(http(server.addr, "GET", "/api/audit-log?limit=0", Some(&creds.admin), None).await.0, 400);
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
