//! A request's life through the server: queued, offered, answered, ended and recorded;
//! declined, cancelled, unserved; records that survive a restart; tenants kept apart; and
//! garbage answered with a code while the connection stays.

use std::time::Duration;

use kakehashi_protocol as p;
use serde_json::Value;

use crate::expect;
use crate::support::*;

#[tokio::test]
async fn whole_lifecycle_records_and_metrics() {
    let dir = temp("lifecycle");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    assert_eq!(http(server.addr, "GET", "/healthz", None, None).await, (200, "ok".into()));
    assert_eq!(http(server.addr, "GET", "/readyz", None, None).await.0, 200);

    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(request("vi")).await;
    let (request, ringing) = expect!(desk, p::DeskEvent::Queued { request, ringing, .. } => (*request, *ringing));
    assert!(ringing);
    let (offer, tenant, desk_name, urgent, asked, language, modality) = expect!(i1,
        p::InterpreterEvent::Offer { offer, tenant, desk, urgent, requested_at, language, modality, .. }
        => (*offer, tenant.clone(), desk.clone(), *urgent, requested_at.clone(), language.clone(), *modality));
    assert_eq!((tenant.as_str(), language.as_str(), modality), ("Asahi City", "vi", p::Modality::Video));
    assert_eq!((desk_name.as_str(), urgent), ("desk", false), "the offer names the desk");
    assert!(asked.ends_with('Z') && asked.len() >= 20, "when the desk asked: {asked}");
    i1.send(p::InterpreterCommand::Accept { offer }).await;
    let (call, you, participants) =
        expect!(desk, p::DeskEvent::Assigned { call, you, participants, .. } => (*call, *you, participants.clone()));
    assert_eq!((call, you), (request, 0));
    let kinds: Vec<(u32, p::Party)> = participants.iter().map(|p| (p.id, p.party)).collect();
    assert_eq!(kinds, [(0, p::Party::Desk), (1, p::Party::Interpreter)]);
    assert_eq!(expect!(i1, p::InterpreterEvent::Assigned { call, you, .. } => (*call, *you)), (request, 1));

    desk.send(p::DeskCommand::EndCall { call }).await;
    assert_eq!(expect!(desk, p::DeskEvent::CallEnded { by, .. } => *by), p::Party::Desk);
    assert_eq!(expect!(i1, p::InterpreterEvent::CallEnded { by, .. } => *by), p::Party::Desk);
    // The record is committed before call_ended is sent.
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(
        (r["outcome"].as_str(), r["language"].as_str(), r["tier"].as_str(), r["offers"].as_i64()),
        (Some("answered"), Some("vi"), Some("staff"), Some(1))
    );
    let at = |k: &str| r[k].as_i64().unwrap();
    assert!(
        at("requested_at") <= at("offered_at")
            && at("offered_at") <= at("answered_at")
            && at("answered_at") <= at("ended_at"),
        "{r}"
    );
    let text = r.to_string();
    assert!(!text.contains("i1") && !text.contains("Asahi"), "no names in call records: {text}");
    // Before the outcome: the desk's own town, at the counter, no topics.
    assert_eq!(
        (r["mode"].as_str(), r["residence"].clone(), r["topics"].clone()),
        (Some("counter"), r["tenant"].clone(), serde_json::json!([]))
    );
    let topics = vec![p::Topic::TaxPension, p::Topic::Housing];
    desk.send(p::DeskCommand::RecordOutcome {
        call,
        outcome: p::OutcomeCategory::Resolved,
        topics,
        residence: None,
        referral: None,
        note: None,
    })
    .await;
    expect!(desk, p::DeskEvent::OutcomeRecorded { .. });
    let r = &server.records(&creds.sup_a).await[0];
    assert_eq!(
        (r["desk_outcome"].as_str(), r["topics"].clone()),
        (Some("resolved"), serde_json::json!(["housing", "tax_pension"]))
    );

    let m = server.metrics().await;
    assert!(m.contains(r#"kakehashi_requests_total{language="vi",outcome="answered",tenant="Asahi City"} 1"#), "{m}");
    assert!(m.contains(r#"kakehashi_offers_total{outcome="accepted"} 1"#));
    assert!(m.contains(r#"kakehashi_queue_wait_seconds_count{language="vi"} 1"#));
    assert!(m.contains(r#"kakehashi_queue_wait_seconds_bucket{language="vi",le="10"} 1"#));
    assert!(m.contains("kakehashi_call_duration_seconds_count 1"));
    assert!(m.contains(r#"kakehashi_ws_connections{role="desk"} 1"#));
    promtool_accepts(&m).await;
    server.stop().await;
}

#[tokio::test]
async fn decline_goes_to_the_next_interpreter_and_cancel_is_recorded() {
    let dir = temp("decline");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut i2 = server.interpreter(&creds.interp[1]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(request("vi")).await;
    let request = expect!(desk, p::DeskEvent::Queued { request, .. } => *request);
    let o1 = expect!(i1, p::InterpreterEvent::Offer { offer, .. } => *offer);
    i1.send(p::InterpreterCommand::Decline { offer: o1 }).await;
    let closed = i1
        .sig
        .expect(
            WAIT,
            |e| match e {
                p::InterpreterEvent::OfferClosed { reason, .. } => Some(*reason),
                _ => None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(closed, p::OfferClosedReason::Declined);
    let o2 = expect!(i2, p::InterpreterEvent::Offer { offer, .. } => *offer);
    // Accepting someone else's offer is refused and changes nothing.
    i1.send(p::InterpreterCommand::Accept { offer: o2 }).await;
    assert_eq!(i1.error().await.code, p::ErrorCode::NotFound);
    desk.send(p::DeskCommand::CancelRequest { request }).await;
    expect!(desk, p::DeskEvent::Cancelled { .. });
    let reason = i2
        .sig
        .expect(
            WAIT,
            |e| match e {
                p::InterpreterEvent::OfferClosed { reason, .. } => Some(*reason),
                _ => None,
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(reason, p::OfferClosedReason::RequestEnded);
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records[0]["outcome"], "abandoned");
    assert_eq!(records[0]["offers"], 2);
    assert!(server.metrics().await.contains(r#"kakehashi_offers_total{outcome="declined"} 1"#));
    server.stop().await;
}

#[tokio::test]
async fn nobody_for_the_language_is_told_at_once() {
    let dir = temp("unserved");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(request("km")).await;
    let suggestion = expect!(desk, p::DeskEvent::Unserved { suggestion, .. } => suggestion.clone());
    assert_eq!(suggestion, p::Suggestion::Phone);
    // Portuguese interpreters exist but none is signed in.
    desk.send(request("pt-BR")).await;
    expect!(desk, p::DeskEvent::Unserved { .. });
    assert_eq!(server.records(&creds.sup_a).await.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn tenants_are_isolated() {
    let dir = temp("tenants");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i5 = server.interpreter(&creds.interp[4]).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk_a = server.desk(&creds.desk_a1).await;
    let mut desk_a2 = server.desk(&creds.desk_a2).await;
    let mut desk_b = server.desk(&creds.desk_b).await;
    // Tenant 1's request goes to its own interpreter, never to tenant 2's.
    let request = answered_call(&mut desk_a, &mut i1, "vi").await;
    // Another tenant's desk, and even another desk of the same tenant, cannot touch it.
    for d in [&mut desk_b, &mut desk_a2] {
        d.send(p::DeskCommand::EndCall { call: request }).await;
        assert_eq!(d.error().await.code, p::ErrorCode::NotFound);
        d.send(p::DeskCommand::CancelRequest { request }).await;
        assert_eq!(d.error().await.code, p::ErrorCode::NotFound);
    }
    // Tenant 2's interpreter cannot end tenant 1's call.
    i5.send(p::InterpreterCommand::EndCall { call: request }).await;
    assert_eq!(i5.error().await.code, p::ErrorCode::NotFound);
    desk_a.send(p::DeskCommand::EndCall { call: request }).await;
    expect!(desk_a, p::DeskEvent::CallEnded { .. });
    // Records: tenant 2's supervisor sees none of tenant 1's; an outcome for another
    // desk's call is refused.
    assert_eq!(server.records(&creds.sup_a).await.len(), 1);
    assert!(server.records(&creds.sup_b).await.is_empty());
    for d in [&mut desk_b, &mut desk_a2] {
        d.send(resolved(request)).await;
        assert_eq!(d.error().await.code, p::ErrorCode::NotFound, "only the desk that had the call");
    }
    // An interpreter's session is not a supervisor's.
    let (status, _) = http(server.addr, "GET", "/api/call-records", Some(&creds.interp[0]), None).await;
    assert_eq!(status, 403);
    let (status, _) = http(server.addr, "GET", "/api/call-records", Some("forged"), None).await;
    assert_eq!(status, 401);
    // Neither an interpreter's session nor a desk's device token opens the directory.
    for token in [&creds.interp[0], &creds.desk_a1] {
        let (status, _) = http(server.addr, "GET", "/api/tenants", Some(token), None).await;
        assert!(status == 401 || status == 403, "{status}");
        let body = r#"{"name":"Evil","foreign_residents":1,"time_zone":"Asia/Tokyo"}"#;
        let (status, _) = http(server.addr, "POST", "/api/tenants", Some(token), Some(body)).await;
        assert!(status == 401 || status == 403, "{status}");
    }
    // A supervisor sees their own tenant and the interpreters serving it, no others.
    let (_, text) = http(server.addr, "GET", "/api/tenants", Some(&creds.sup_b), None).await;
    let tenants: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0]["name"], "Kita Town");
    let (_, text) = http(server.addr, "GET", "/api/interpreters", Some(&creds.sup_b), None).await;
    let logins: Vec<String> = serde_json::from_str::<Vec<Value>>(&text)
        .unwrap()
        .iter()
        .map(|i| i["login"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logins, vec!["i5".to_string()]);
    // Signing out ends the session at once.
    assert_eq!(http(server.addr, "POST", "/api/sign-out", Some(&creds.sup_b), None).await.0, 204);
    assert_eq!(http(server.addr, "GET", "/api/tenants", Some(&creds.sup_b), None).await.0, 401);
    assert_eq!(http(server.addr, "POST", "/api/sign-out", Some(&creds.sup_b), None).await.0, 401);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_coded_error_and_the_connection_stays() {
    let dir = temp("badinput");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    for (frame, code) in [
        ("{not json", p::ErrorCode::BadJson),
        (r#"{"type":"launch"}"#, p::ErrorCode::UnknownType),
        (r#"{"type":"request_interpreter"}"#, p::ErrorCode::InvalidField),
        (r#"{"type":"request_interpreter","language":"xx-not-a-language"}"#, p::ErrorCode::InvalidField),
        (r#"{"type":"accept","offer":1}"#, p::ErrorCode::UnknownType),
        (r#"{"type":"cancel_request","request":999}"#, p::ErrorCode::NotFound),
        (r#"{"type":"sdp","call":1,"description":{"kind":"offer","sdp":"v=0"}}"#, p::ErrorCode::NotFound),
    ] {
        desk.send_text(frame.to_string()).await;
        let e = desk.error().await;
        assert_eq!(e.code, code, "{frame}: {e}");
        assert!(!e.message.is_empty());
    }
    desk.send(p::DeskCommand::Ping {}).await;
    expect!(desk, p::DeskEvent::Pong);
    // Flooding is rate-limited (20 a second, bursts of 40), and the connection stays.
    for _ in 0..80 {
        desk.send(p::DeskCommand::Ping {}).await;
    }
    let (mut pongs, mut limited) = (0, 0);
    for _ in 0..80 {
        match desk.next().await {
            p::DeskEvent::Pong => pongs += 1,
            p::DeskEvent::Error(e) if e.code == p::ErrorCode::RateLimited => limited += 1,
            other => panic!("{other:?}"),
        }
    }
    // The burst was partly spent by the frames before: at most 40 get through, and at
    // least the 40 beyond the burst are refused (less what refills meanwhile).
    assert!(pongs <= 45 && limited >= 30, "{pongs} pongs, {limited} refused");
    tokio::time::sleep(Duration::from_secs(2)).await; // the bucket refills

    // Over 64 KiB: refused with too_large, and the connection stays.
    let big = format!(r#"{{"type":"ice","call":1,"candidate":"{}"}}"#, "a".repeat(70 * 1024));
    desk.send_text(big).await;
    assert_eq!(desk.error().await.code, p::ErrorCode::TooLarge);
    desk.send(p::DeskCommand::Ping {}).await;
    expect!(desk, p::DeskEvent::Pong);
    // Too large to read at all ends that connection only, with a close frame that says so.
    let mut other = server.desk(&creds.desk_a2).await;
    other.send_text(format!(r#"{{"type":"ice","call":1,"candidate":"{}"}}"#, "a".repeat(300 * 1024))).await;
    assert_eq!(other.closed().await.map(|f| f.0), Some(p::CloseReason::TooLarge.code()));
    desk.send(p::DeskCommand::Ping {}).await;
    expect!(desk, p::DeskEvent::Pong);

    // Wrong version, bad credentials: an error, then a close frame saying why.
    let url = server.url();
    for (protocol, credential, code) in [
        (99, p::Credential::DeskToken(creds.desk_a1.clone()), p::ErrorCode::ProtocolVersion),
        (1, p::Credential::DeskToken("forged".into()), p::ErrorCode::Unauthorized),
        (1, p::Credential::Session("forged".into()), p::ErrorCode::Unauthorized),
    ] {
        use futures_util::{SinkExt, StreamExt};
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        let hello = p::Hello { kind: p::HelloTag::Hello, protocol, credential, resume: None, last_seq: None };
        ws.send(tokio_tungstenite::tungstenite::Message::text(serde_json::to_string(&hello).unwrap())).await.unwrap();
        let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await else { panic!() };
        let e: p::DeskEvent = serde_json::from_str(&t).unwrap();
        assert!(matches!(&e, p::DeskEvent::Error(e) if e.code == code), "{e:?}");
        let Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame)))) = ws.next().await else {
            panic!("a close frame")
        };
        assert_eq!(u16::from(frame.code), p::CloseReason::Refused.code());
    }
    // Bad API bodies name the field.
    let (status, body) =
        http(server.addr, "POST", "/api/sign-in", None, Some(r#"{"role":"interpreter","login":"i1"}"#)).await;
    assert_eq!(status, 400);
    assert!(body.contains("password"), "{body}");
    let (status, _) = http(server.addr, "POST", "/api/enrol", None, Some(r#"{"code":"CODEA1"}"#)).await;
    assert_eq!(status, 401, "an enrolment code works once");
    server.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_record() {
    let dir = temp("restart");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    for _ in 0..3 {
        let call = answered_call(&mut desk, &mut i1, "vi").await;
        i1.send(p::InterpreterCommand::EndCall { call }).await;
        assert_eq!(expect!(desk, p::DeskEvent::CallEnded { by, .. } => *by), p::Party::Interpreter);
        expect!(i1, p::InterpreterEvent::CallEnded { .. });
        i1.send(p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await;
    }
    drop((desk, i1));
    let dir = server.stop().await;
    let server = Server::start(dir).await;
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r["outcome"] == "answered"));
    server.stop().await;
}

/// A supervisor's snapshot holds their own tenant's queue and the interpreters who could
/// serve it; another municipality's requests and interpreters stay out.
#[tokio::test]
async fn supervisors_see_their_own_tenant_live() {
    let dir = temp("supervisor");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut desk_a = server.desk(&creds.desk_a1).await;
    let mut i4 = server.interpreter(&creds.interp[3]).await;
    // One Portuguese call in progress, and one Portuguese request waiting behind it.
    answered_call(&mut desk_a, &mut i4, "pt").await;
    desk_a.send(request("pt")).await;
    let (ringing, position) = expect!(desk_a, p::DeskEvent::Queued { ringing, position, .. } => (*ringing, *position));
    assert_eq!((ringing, position), (false, 0));
    let snapshot = |s: p::SupervisorEvent| match s {
        p::SupervisorEvent::Snapshot { languages, interpreters, .. } => (languages, interpreters),
        other => panic!("{other:?}"),
    };
    let mut sup_a = server.supervisor(&creds.sup_a).await;
    sup_a.send(p::SupervisorCommand::Subscribe {}).await;
    let (languages, interpreters) = snapshot(sup_a.next().await);
    let pt = languages.iter().find(|l| l.language == "pt").unwrap();
    assert_eq!((pt.waiting, pt.staffed, pt.idle), (1, 1, 0));
    assert_eq!(interpreters.iter().map(|c| c.count).sum::<u32>(), 4, "tenant 1's four interpreters");
    let mut sup_b = server.supervisor(&creds.sup_b).await;
    sup_b.send(p::SupervisorCommand::Subscribe {}).await;
    // Tenant 2 has one interpreter (Vietnamese, signed out): it sees neither tenant 1's
    // Portuguese queue nor tenant 1's interpreters, busy or not.
    let (languages, interpreters) = snapshot(sup_b.next().await);
    assert!(languages.iter().all(|l| l.language != "pt"), "tenant 1's queue and interpreter leak: {languages:?}");
    assert_eq!(interpreters, vec![p::PresenceCount { presence: p::PresenceState::Offline, count: 1 }]);
    server.stop().await;
}
