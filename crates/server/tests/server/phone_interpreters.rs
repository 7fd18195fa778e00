//! An interpreter reached by phone (ADR 0016), end to end: the admin gives a Portuguese
//! interpreter a number instead of a console; a desk asks for Portuguese; the bridge
//! rings the number through the trunk (SIPp answering), the interpreter hears the offer
//! and presses 1 (RFC 4733 events), and joins the call as its interpreter: the desk hears
//! its own tone come back through the interpreter's phone (SIPp echoes). The desk ends the
//! call, the phone is hung up on, and the record names the interpreter but not the number.

use std::net::SocketAddr;
use std::time::Duration;

use kakehashi::config::PhoneSection;
use kakehashi_phone::opus::Listener;
use kakehashi_phone::tone::share;
use kakehashi_protocol as p;
use serde_json::json;

use crate::expect;
use crate::phone_bridge::{event, free_port, phone_at, phone_sound, server_with_section, speaking};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_reached_by_phone_presses_1_and_interprets_in_the_call() {
    let trunk = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (server, creds, _) =
        server_with_section("phone-interpreter", |p| PhoneSection { dial_trunk: Some(trunk), ..p }).await;
    let body = json!({"login": "pt-by-phone", "password": "a long password", "tier": "contractor",
        "languages": ["pt"], "modalities": ["video", "audio"], "tenants": [1], "roster": {"always": true},
        "reach_by_phone": "090-7777-8888"});
    let (status, text) =
        http(server.addr, "POST", "/api/interpreters", Some(&creds.admin), Some(&body.to_string())).await;
    assert_eq!(status, 201, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"].as_i64().unwrap();

    let phone = phone_at(trunk.port(), "uas_offer_accept.xml", true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(request("pt")).await;
    expect!(desk, p::DeskEvent::Queued { .. });
    // Rung, answered, the offer said, 1 pressed: the interpreter is assigned.
    let pick = |e: &p::DeskEvent| match e {
        p::DeskEvent::Assigned { call, interpreter, .. } => Some((*call, *interpreter)),
        _ => None,
    };
    let (call, assigned) = desk.sig.expect(Duration::from_secs(30), pick, |_| {}).await.unwrap();
    assert_eq!(i64::from(assigned), id);
    let (mut desk_media, mut desk_heard) = speaking(desk.sig, Some(call), 440.0).await;
    let joined = event(&mut desk_media.events, Duration::from_secs(30), |e| match e {
        p::DeskEvent::ParticipantJoined { party: p::Party::Interpreter, participant, .. } => Some(*participant),
        _ => None,
    })
    .await;
    // The desk hears itself through the interpreter's phone: the phone hears the call
    // and is heard in it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut listener = Listener::new().unwrap();
    phone_sound(&mut desk_heard, joined, &mut listener);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = phone_sound(&mut desk_heard, joined, &mut listener);
    assert!(got.len() >= 8000 * 2, "the desk heard {} samples of the interpreter", got.len());
    let heard = share(&got, 440.0);
    assert!(heard > 0.5, "the desk's 440 Hz through the interpreter's phone: {heard:.2}");

    let (mut signal, _peer) = desk_media.stop().await.unwrap();
    signal.send(&p::DeskCommand::EndCall { call }).await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(15), phone.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp was hung up on: {}", String::from_utf8_lossy(&out.stderr));
    assert!(server.eventually_record(&creds.sup_a, "answered").await);
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records[0]["interpreter"].as_i64(), Some(id));
    assert!(!serde_json::to_string(&records).unwrap().contains("7777"), "no number in the records");
    let metrics = server.metrics().await;
    assert!(metrics.contains("kakehashi_phone_calls_total{direction=\"offer\",outcome=\"joined\"} 1"), "{metrics}");
    server.stop().await;
}
