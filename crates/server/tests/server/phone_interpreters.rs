//! An interpreter reached by phone (ADR 0016), end to end: the admin gives a Portuguese
//! interpreter a number instead of a console; a desk asks for Portuguese; the bridge
//! rings the number through the trunk (SIPp answering), the interpreter hears the offer
//! and presses 1 (RFC 4733 events), and joins the call as its interpreter: the desk hears
//! its own tone come back through the interpreter's phone (SIPp echoes). A resident then
//! dials in with the desk's PIN and speaks a 1 kHz tone: the call's two phones share one
//! mix, so the interpreter's phone hears the resident directly (the desk hears the 1 kHz
//! come back through the interpreter's echo). The desk ends the call, the phone is hung
//! up on, and the record names the interpreter but not the number.

use std::net::SocketAddr;
use std::time::Duration;

use kakehashi::config::PhoneSection;
use kakehashi_phone::opus::Listener;
use kakehashi_phone::tone::share;
use kakehashi_protocol as p;
use serde_json::json;

use crate::expect;
use crate::phone_bridge::{
    LINE, event, free_port, phone_at, phone_joined, phone_sound, server_with_section, speaking, tone_caller,
};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_reached_by_phone_presses_1_and_interprets_in_the_call() {
    let trunk = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (server, creds, sip) =
        server_with_section("phone-interpreter", |p| PhoneSection { dial_trunk: Some(trunk), ..p }).await;
    let body = json!({"login": "pt-by-phone", "password": "a long password", "tier": "contractor",
        "languages": ["pt"], "modalities": ["video", "audio"], "tenants": [1], "roster": {"always": true},
        "reach_by_phone": "090-7777-8888"});
    let (status, text) =
        http(server.addr, "POST", "/api/interpreters", Some(&creds.admin), Some(&body.to_string())).await;
    assert_eq!(status, 201, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"].as_i64().unwrap();

    let phone = phone_at(trunk.port(), "uas_offer_accept.xml", true).await;
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
    desk.send(p::DeskCommand::Invite { call, party: p::Party::Phone }).await;
    let pin = expect!(desk, p::DeskEvent::PhoneInvite { pin, .. } => pin.clone());
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

    // A resident phones in with the PIN and speaks 1 kHz: one mix for the call's two phones.
    let resident = tone_caller(sip, LINE, &[&format!("{pin}#")], 14_000, 1000.0);
    let resident_id = phone_joined(&mut desk_media.events, Duration::from_secs(40)).await;
    // A leg is in the call once its media is up and it is in the mix, a moment after the
    // desk is told: both legs in the call, in one mix.
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = server.metrics().await;
        if metrics.contains("kakehashi_phone_legs{direction=\"in\",state=\"in_call\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(metrics.contains("kakehashi_phone_legs{direction=\"out\",state=\"in_call\"} 1"), "{metrics}");
    assert!(metrics.contains("kakehashi_phone_mixes 1\n"), "one mix for the call's two phones: {metrics}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut tracks = Tracks::default();
    let _setting_up = tracks.take(&mut desk_heard).split(joined, resident_id);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (through_interpreter, from_resident) = tracks.take(&mut desk_heard).split(joined, resident_id);
    let (a, b) = (share(&through_interpreter, 440.0), share(&through_interpreter, 1000.0));
    assert!(a > 0.15 && b > 0.15, "the interpreter's phone hears the desk ({a:.2}) and the resident ({b:.2})");
    let c = share(&from_resident, 1000.0);
    assert!(c > 0.5, "the resident's phone is heard: {c:.2}");
    let out = tokio::time::timeout(Duration::from_secs(30), resident.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp (resident): {}", String::from_utf8_lossy(&out.stderr));

    let (mut signal, _peer) = desk_media.stop().await.unwrap();
    signal.send(&p::DeskCommand::EndCall { call }).await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(15), phone.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp was hung up on: {}", String::from_utf8_lossy(&out.stderr));
    assert!(server.eventually_record(&creds.sup_a, "answered").await);
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records[0]["interpreter"].as_i64(), Some(id));
    // The number's own digits in either form: a shorter piece of it ("7777") turns up in
    // a millisecond timestamp now and then.
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains("7777-8888") && !text.contains("77778888"), "no number in the records: {text}");
    let metrics = server.metrics().await;
    assert!(metrics.contains("kakehashi_phone_calls_total{direction=\"offer\",outcome=\"joined\"} 1"), "{metrics}");
    server.stop().await;
}

/// Two phones' tracks as the desk hears them, decoded at 8 kHz.
#[derive(Default)]
struct Tracks {
    listeners: std::collections::HashMap<String, (Listener, Vec<i16>)>,
}

impl Tracks {
    /// Decode what arrived; keep it.
    fn take(&mut self, heard: &mut tokio::sync::mpsc::UnboundedReceiver<kakehashi_client::Received>) -> &mut Tracks {
        let mut pcm = Vec::new();
        while let Ok(r) = heard.try_recv() {
            if r.video {
                continue;
            }
            let (listener, sound) =
                self.listeners.entry(r.stream_id.clone()).or_insert_with(|| (Listener::new().unwrap(), Vec::new()));
            listener.decode(Some(&r.payload), &mut pcm).unwrap();
            sound.extend_from_slice(&pcm);
        }
        self
    }

    /// What `a` and `b` said since the last split.
    fn split(&mut self, a: u32, b: u32) -> (Vec<i16>, Vec<i16>) {
        let mut of =
            |n: u32| self.listeners.get_mut(&format!("p{n}")).map(|(_, s)| std::mem::take(s)).unwrap_or_default();
        (of(a), of(b))
    }
}
