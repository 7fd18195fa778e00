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
