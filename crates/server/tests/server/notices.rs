//! Coordinators' notices to interpreters (issue 17): a supervisor's reaches the consoles of
//! their municipality's interpreters at once and is listed for them, not for another
//! municipality's; an admin's reaches everyone; refusals and the audit log.

use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::expect;
use crate::support::*;

async fn send(server: &Server, token: &str, body: Value) -> (u16, String) {
    http(server.addr, "POST", "/api/notices", Some(token), Some(&body.to_string())).await
}

async fn listed(server: &Server, token: &str) -> Vec<Value> {
    let (status, text) = http(server.addr, "GET", "/api/notices", Some(token), None).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_coordinators_notice_reaches_their_interpreters() {
    let dir = temp("notices");
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let (status, text) = send(&server, &creds.sup_a, json!({"text": "  明日は臨時休館です  "})).await;
    assert_eq!(status, 201, "{text}");
    let (from, said) = expect!(i1, p::InterpreterEvent::Notice { from, text, .. } => (from.clone(), text.clone()));
    assert_eq!((from.as_str(), said.as_str()), ("Asahi City", "明日は臨時休館です"));
    assert_eq!(listed(&server, &creds.interp[0]).await.len(), 1);
    assert!(listed(&server, &creds.interp[4]).await.is_empty(), "Kita Town's interpreter is not told");
    // The whole centre's, from an admin: everyone.
    assert_eq!(send(&server, &creds.admin, json!({"text": "研修は金曜です"})).await.0, 201);
    let kita = listed(&server, &creds.interp[4]).await;
    assert_eq!((kita.len(), kita[0]["from"].as_str()), (1, Some("center")));
    assert_eq!(listed(&server, &creds.interp[0]).await[0]["text"], "研修は金曜です", "newest first");
    // Refusals.
    assert_eq!(send(&server, &creds.sup_a, json!({"text": "x", "tenant": 2})).await.0, 403);
    assert_eq!(send(&server, &creds.sup_a, json!({"text": "   "})).await.0, 422);
    assert_eq!(send(&server, &creds.sup_a, json!({"text": "あ".repeat(501)})).await.0, 422);
    assert_eq!(send(&server, &creds.desk_a1, json!({"text": "x"})).await.0, 403);
    assert_eq!(send(&server, &creds.interp[0], json!({"text": "x"})).await.0, 403);
    let (_, log) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    assert!(log.contains("send_notice"), "{log}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
