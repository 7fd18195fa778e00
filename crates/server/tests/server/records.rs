//! The consultation record (issue 16): a municipality's supervisor keeps its partner
//! directory; a desk records, after a call, its handling status, topics, the resident's
//! town and the partner it referred the resident to; referrals to another municipality's
//! partner or a retired one are refused; the record lists it all, and nothing else.

use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::expect;
use crate::support::*;

async fn post(server: &Server, path: &str, token: &str, body: Value) -> (u16, String) {
    http(server.addr, "POST", path, Some(token), Some(&body.to_string())).await
}

fn id(answer: &(u16, String)) -> i64 {
    assert_eq!(answer.0, 201, "{}", answer.1);
    serde_json::from_str::<Value>(&answer.1).unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_desk_refers_to_its_own_municipalitys_partners_and_the_record_says_so() {
    let dir = temp("partners");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    // Asahi's supervisor keeps Asahi's directory, not Kita's.
    let legal =
        id(&post(&server, "/api/tenants/1/partners", &creds.sup_a, json!({"name": "法テラス", "kind": "legal_aid"}))
            .await);
    let work = id(&post(
        &server,
        "/api/tenants/1/partners",
        &creds.sup_a,
        json!({"name": "ハローワーク", "kind": "employment"}),
    )
    .await);
    let kita =
        id(&post(&server, "/api/tenants/2/partners", &creds.sup_b, json!({"name": "法テラス", "kind": "legal_aid"}))
            .await);
    let refused = post(&server, "/api/tenants/2/partners", &creds.sup_a, json!({"name": "x", "kind": "npo"})).await;
    assert_eq!(refused.0, 403, "{}", refused.1);
    let bad = post(&server, "/api/tenants/1/partners", &creds.sup_a, json!({"name": "x", "kind": "friend"})).await;
    assert!(bad.0 == 422 && bad.1.contains("kind"), "{bad:?}");
    let twice =
        post(&server, "/api/tenants/1/partners", &creds.admin, json!({"name": "法テラス", "kind": "legal_aid"})).await;
    assert_eq!(twice.0, 409, "{}", twice.1);
    let retire = json!({"name": "ハローワーク", "kind": "employment", "retired": true});
    let (status, _) =
        http(server.addr, "PUT", &format!("/api/partners/{work}"), Some(&creds.sup_b), Some(&retire.to_string())).await;
    assert_eq!(status, 404, "another municipality's partner is not there for Kita");
    let (status, _) =
        http(server.addr, "PUT", &format!("/api/partners/{work}"), Some(&creds.sup_a), Some(&retire.to_string())).await;
    assert_eq!(status, 204);
    let (status, listed) = http(server.addr, "GET", "/api/tenants/1/partners", Some(&creds.sup_a), None).await;
    assert_eq!(status, 200);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "retired ones are listed to supervisors: {listed}");
    // The desk is offered only its municipality's partners that are not retired.
    let (_, home) = http(server.addr, "GET", "/api/desk", Some(&creds.desk_a1), None).await;
    let home: Value = serde_json::from_str(&home).unwrap();
    assert_eq!(home["partners"], json!([{"id": legal, "name": "法テラス"}]));
    assert_eq!(home["municipalities"][0]["id"], 1, "its own municipality first");

    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    let outcome = |referral| p::DeskCommand::RecordOutcome {
        call,
        outcome: p::OutcomeCategory::Referred,
        topics: vec![p::Topic::ResidenceStatus],
        residence: Some(2),
        referral: Some(referral),
        note: None,
    };
    for wrong in [kita, work, 9999] {
        desk.send(outcome(wrong)).await;
        let e = desk.error().await;
        assert_eq!(
            (e.code, e.message),
            (p::ErrorCode::InvalidField, format!("referral: no partner {wrong} of this municipality"))
        );
    }
    desk.send(outcome(legal)).await;
    expect!(desk, p::DeskEvent::OutcomeRecorded { .. });
    let r = &server.records(&creds.sup_a).await[0];
    assert_eq!(
        (&r["desk_outcome"], &r["topics"], &r["residence"], &r["referral"], &r["mode"]),
        (&json!("referred"), &json!(["residence_status"]), &json!(2), &json!(legal), &json!("counter"))
    );
    assert!(!r.to_string().contains("法テラス"), "the record holds the partner's id, not words");
    server.stop().await;
}

/// The hub's group commit on both stores: 600 records under their keys in one call
/// (three statements' worth), some written by an earlier try, each stored once with every
/// column as given, their ids in order; the same group again finds every row; an import
/// of a month lands whole and in order.
#[tokio::test]
async fn a_group_of_records_is_written_once_on_sqlite_and_postgresql() {
    use kakehashi::reports::sample::{Shape, month};
    for backend in ["sqlite", "postgres"] {
        let dir = temp(&format!("record-group-{backend}"));
        if backend == "postgres" {
            crate::postgres_support::use_postgres(&dir).await;
        }
        seed(&dir).await;
        let store = crate::postgres_support::open_store(&dir).await;
        let shape = Shape {
            desks: vec![(1, 1), (2, 1), (3, 2)],
            members: vec![1, 2],
            interpreters: vec![(1, "staff"), (2, "contractor")],
            partners: Vec::new(),
        };
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
        let records = month(&shape, jiff::civil::date(2026, 11, 1), &tokyo, 600, 7).unwrap();
        let keys: Vec<String> = (0..records.len()).map(|i| format!("key-{i:04}")).collect();
        // An earlier try wrote two of them, one in the first statement's rows, one in the third's.
        let early = [5, 555];
        let mut first = Vec::new();
        for i in early {
            first.push(store.insert_call_record_once(&records[i], &keys[i]).await.unwrap());
        }
        let group: Vec<_> = records.iter().zip(&keys).map(|(r, k)| (r, k.as_str())).collect();
        let ids = store.insert_call_records_once(&group).await.unwrap();
        assert_eq!(ids.len(), 600, "{backend}");
        assert_eq!((ids[5], ids[555]), (first[0], first[1]), "{backend}: the rows written before are found");
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 600, "{backend}: one row each");
        assert_eq!(store.insert_call_records_once(&group).await.unwrap(), ids, "{backend}: a retry of the whole");
        let stored = store.call_records(None).await.unwrap();
        assert_eq!(stored.len(), 600, "{backend}");
        for (id, r) in ids.iter().zip(&records) {
            let row = stored.iter().find(|s| s.id == *id).unwrap();
            assert_eq!(*row, kakehashi::store::CallRecord { id: *id, ..r.clone() }, "{backend}");
        }
        // An import keeps the given order in its ids.
        let more = month(&shape, jiff::civil::date(2026, 10, 1), &tokyo, 700, 8).unwrap();
        assert_eq!(store.import_call_records(&more).await.unwrap(), 700);
        let stored = store.call_records(None).await.unwrap();
        let imported: Vec<_> = stored.iter().filter(|s| !ids.contains(&s.id)).collect();
        assert_eq!(imported.len(), 700, "{backend}");
        assert!(imported.windows(2).all(|w| w[0].id < w[1].id), "{backend}");
        let mut imported: Vec<_> = imported.into_iter().cloned().collect();
        imported.sort_by_key(|s| s.id);
        let as_given: Vec<_> = imported.iter().map(|s| kakehashi::store::CallRecord { id: 0, ..s.clone() }).collect();
        assert_eq!(
            as_given,
            more.iter().map(|r| kakehashi::store::CallRecord { id: 0, ..r.clone() }).collect::<Vec<_>>(),
            "{backend}: in the order given"
        );
    }
}
