//! Rosters apart from profiles (issue 17): a coordinator sets the roster of an
//! interpreter of their municipality, an interpreter adds their own extra hours and days
//! off (which their coordinator sees marked as theirs), each applied at once, in a call
//! too, and every refusal names the field.

use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::expect;
use crate::support::*;

async fn put(server: &Server, path: &str, token: &str, body: Value) -> (u16, String) {
    http(server.addr, "PUT", path, Some(token), Some(&body.to_string())).await
}

#[tokio::test]
async fn coordinators_and_interpreters_change_rosters_live() {
    let dir = temp("rosters");
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;
    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    let day = jiff::Timestamp::now().to_zoned(tokyo).date();
    let (yesterday, tomorrow) = (day.yesterday().unwrap().to_string(), day.tomorrow().unwrap().to_string());
    let today = day.to_string();
    let pt = &creds.interp[3];

    // Always on: no days off of one's own until a coordinator sets hours.
    let (status, text) = put(&server, "/api/me/roster", pt, json!({"off": [{"from": today, "until": today}]})).await;
    assert!(status == 409 && text.contains("always on"), "{status} {text}");
    // The coordinator's calendar: the 1st and 3rd Wednesday mornings, not these three days.
    let roster = json!({"roster": {"time_zone": "Asia/Tokyo",
        "shifts": [{"weekday": "wed", "nth": [1, 3], "start": "09:00", "end": "12:00"}],
        "off": [{"from": yesterday, "until": tomorrow}]}});
    assert_eq!(put(&server, "/api/interpreters/4/roster", &creds.sup_b, roster.clone()).await.0, 404);
    let mut wrong = roster.clone();
    wrong["roster"]["shifts"][0]["nth"] = json!([6]);
    let (status, text) = put(&server, "/api/interpreters/4/roster", &creds.sup_a, wrong).await;
    assert!(status == 422 && text.contains("roster"), "{status} {text}");
    let (status, text) = put(&server, "/api/interpreters/4/roster", &creds.sup_a, roster).await;
    assert_eq!(status, 204, "{text}");

    // Off roster now: a Portuguese request is not served.
    let mut desk = server.desk(&creds.desk_a1).await;
    let mut interpreter = server.interpreter(pt).await;
    desk.send(request("pt")).await;
    expect!(desk, p::DeskEvent::Unserved { .. });

    // The interpreter offers today (to midnight and on): served at once.
    let evening = json!({"extra": [{"date": today, "start": "00:00", "end": "23:59"},
                                   {"date": today, "start": "23:59", "end": "00:00"}]});
    let (status, text) = put(&server, "/api/me/roster", pt, evening).await;
    assert_eq!(status, 200, "{text}");
    let mine: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(mine["roster"]["extra"][0]["own"], true, "{mine}");
    assert!(mine["roster"]["off"][0].get("own").is_none(), "the coordinator's days off stay theirs: {mine}");
    let (_, listed) = http(server.addr, "GET", "/api/interpreters", Some(&creds.sup_a), None).await;
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    let row = listed.iter().find(|i| i["id"] == 4).unwrap();
    assert_eq!(row["roster"]["extra"].as_array().unwrap().len(), 2, "the coordinator sees them: {row}");
    let call = answered_call(&mut desk, &mut interpreter, "pt").await;

    // In the call they take today off instead: accepted, and the call goes on.
    let off = json!({"off": [{"from": today, "until": today}]});
    let (status, text) = put(&server, "/api/me/roster", pt, off).await;
    assert_eq!(status, 200, "{text}");
    let (_, me) = http(server.addr, "GET", "/api/me", Some(pt), None).await;
    let me: Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["roster_today"], json!([]), "{me}");
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });

    // Refusals name the entry; a coordinator's shifts are not the interpreter's to send.
    for (body, named) in [
        (json!({"off": [{"from": "2026-13-01", "until": "2026-13-02"}]}), "off[0].from"),
        (json!({"extra": [{"date": today, "start": "25:00", "end": "26:00"}]}), "extra[0].start"),
        (json!({"off": [{"from": tomorrow, "until": yesterday}]}), "off[0]"),
        (json!({"shifts": []}), "shifts"),
    ] {
        let (status, text) = put(&server, "/api/me/roster", pt, body).await;
        assert!((status == 400 || status == 422) && text.contains(named), "{named}: {status} {text}");
    }
    let (_, log) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    assert!(log.contains("set_roster"), "{log}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A coordinator's roster sent from a page opened before the interpreter's own days were
/// set, and the interpreter's own days, changed at the same moment, again and again: both
/// are kept each time (each changes its part of the roster as stored).
#[tokio::test]
async fn a_coordinator_and_an_interpreter_changing_a_roster_at_once_lose_nothing() {
    let dir = temp("rosters-at-once");
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;
    let pt = &creds.interp[3];
    let day = jiff::civil::date(2030, 4, 1);
    for round in 0..20i32 {
        let end = format!("{:02}:00", 10 + round % 8);
        let coordinator = json!({"roster": {"time_zone": "Asia/Tokyo",
            "shifts": [{"weekday": "mon", "nth": [1, 2, 3, 4, 5], "start": "09:00", "end": end}]}});
        let date = day.checked_add(jiff::Span::new().days(round)).unwrap().to_string();
        let own = json!({"extra": [{"date": date, "start": "18:00", "end": "19:00"}]});
        let (a, b) = tokio::join!(
            put(&server, "/api/interpreters/4/roster", &creds.sup_a, coordinator),
            put(&server, "/api/me/roster", pt, own),
        );
        assert_eq!(a.0, 204, "{}", a.1);
        // The first round may find the roster always on yet (the coordinator's not in).
        if round == 0 && b.0 == 409 {
            continue;
        }
        assert_eq!(b.0, 200, "{}", b.1);
        let (_, mine) = http(server.addr, "GET", "/api/me/roster", Some(pt), None).await;
        let mine: Value = serde_json::from_str(&mine).unwrap();
        assert_eq!(mine["roster"]["shifts"][0]["end"], json!(end), "round {round}: the coordinator's hours: {mine}");
        let extra = mine["roster"]["extra"].as_array().unwrap();
        assert_eq!(extra.len(), 1, "round {round}: {mine}");
        assert_eq!((&extra[0]["date"], &extra[0]["own"]), (&json!(date), &json!(true)), "round {round}: {mine}");
    }
    // Set always on, the roster has no days: the interpreter's own go too.
    let (status, text) =
        put(&server, "/api/interpreters/4/roster", &creds.sup_a, json!({"roster": {"always": true}})).await;
    assert_eq!(status, 204, "{text}");
    let (_, mine) = http(server.addr, "GET", "/api/me/roster", Some(pt), None).await;
    let mine: Value = serde_json::from_str(&mine).unwrap();
    assert_eq!((&mine["roster"]["always"], &mine["roster"]["extra"]), (&json!(true), &json!([])), "{mine}");
}
