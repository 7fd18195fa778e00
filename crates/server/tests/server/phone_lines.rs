//! Language lines (ADR 0016) end to end, SIPp as the caller through a trunk on loopback.
//! A menu line (1 Português, 2 Tiếng Việt) answered by desk A1: while the desk's console
//! is closed, a caller who presses 1 is told the counter is closed and hung up on. With
//! the console open, a caller who presses 2 waits in the desk's queue (the desk sees a
//! phone request it did not make), and when the interpreter accepts joins the call of
//! desk and interpreter, who hear each other through the phone. The record counts the
//! phone and keeps no number.

use std::time::Duration;

use kakehashi::config::{LineSection, PhoneSection};
use kakehashi_protocol as p;

use crate::expect;
use crate::phone_bridge::{
    call_number, everyone_hears_through, phone_joined, server_with_section, someone_left, speaking,
};

const MENU: &str = "0120-555-222";
/// Desk A1 (the first desk seeded).
const DESK: i64 = 1;

fn menu_line(phone: PhoneSection) -> PhoneSection {
    let line = LineSection { number: MENU.into(), desk: DESK, languages: vec!["pt".into(), "vi".into()] };
    PhoneSection { line: vec![line], ..phone }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_picks_a_language_waits_and_joins_the_desk_and_its_interpreter() {
    let (server, creds, sip) = server_with_section("phone-lines", menu_line).await;

    // The desk's console is closed: the caller is told so, and the line hangs up.
    let closed = call_number(sip, MENU, "uac_told_bye.xml", &["1"], 40_000);
    let out = tokio::time::timeout(Duration::from_secs(45), closed.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp was hung up on: {}", String::from_utf8_lossy(&out.stderr));

    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let phone = call_number(sip, MENU, "uac_pin_echo.xml", &["2"], 30_000);
    // The menu, the key, the welcome: then the caller is put through.
    let pick = |e: &p::DeskEvent| match e {
        p::DeskEvent::LineCall { request, language, .. } => Some((*request, language.clone())),
        _ => None,
    };
    let (request, language) = desk.sig.expect(Duration::from_secs(30), pick, |_| {}).await.unwrap();
    assert_eq!(language, "vi", "2 is the menu's second language");
    let offer = expect!(interpreter, p::InterpreterEvent::Offer { offer, language, .. } => {
        assert_eq!(language, "vi");
        *offer
    });
    // The caller hears the welcome and that they are next while the interpreter is rung.
    tokio::time::sleep(Duration::from_secs(2)).await;
    interpreter.send(p::InterpreterCommand::Accept { offer }).await;
    // The desk hears of the request as of its own: queued, then assigned.
    let pick = |e: &p::DeskEvent| match e {
        p::DeskEvent::Assigned { request: r, call, .. } if *r == request => Some(*call),
        _ => None,
    };
    let call = desk.sig.expect(Duration::from_secs(5), pick, |_| {}).await.unwrap();
    expect!(interpreter, p::InterpreterEvent::Assigned { .. });
    let (mut desk_media, mut desk_heard) = speaking(desk.sig, Some(call), 440.0).await;
    let (_interpreter_media, mut interpreter_heard) = speaking(interpreter.sig, Some(call), 660.0).await;
    let joined = phone_joined(&mut desk_media.events, Duration::from_secs(30)).await;
    everyone_hears_through(joined, &mut desk_heard, &mut interpreter_heard).await;
    let out = tokio::time::timeout(Duration::from_secs(60), phone.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(someone_left(&mut desk_media.events, Duration::from_secs(10)).await, joined);

    let metrics = server.metrics().await;
    for line in [
        "kakehashi_phone_calls_total{direction=\"in\",outcome=\"closed\"} 1",
        "kakehashi_phone_calls_total{direction=\"in\",outcome=\"joined\"} 1",
        "kakehashi_phone_legs{direction=\"in\",state=\"queued\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    // The desk ends the call: its record is the desk's, with the phone counted.
    let (mut signal, _peer) = desk_media.stop().await.unwrap();
    signal.send(&p::DeskCommand::EndCall { call }).await.unwrap();
    assert!(server.eventually_record(&creds.sup_a, "answered").await);
    let records = server.records(&creds.sup_a).await;
    assert_eq!((records[0]["phones"].as_i64(), records[0]["language"].as_str()), (Some(1), Some("vi")));
    // Neither the caller's number nor the line's (a bare "555" may be in a timestamp).
    let text = serde_json::to_string(&records).unwrap();
    for number in ["5550001111", "0120555222", "0120-555-222"] {
        assert!(!text.contains(number), "no number in the records: {number}");
    }
    server.stop().await;
}
