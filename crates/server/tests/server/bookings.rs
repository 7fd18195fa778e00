//! Bookings over HTTP (issue 17): a coordinator books a slot and an interpreter is held
//! (named or any eligible); a clash, a language nobody named covers and a slot outside
//! the centre's calendar are refused with their reasons; the held interpreter is not
//! offered on-demand calls; the booking survives a restart and at its slot the booked
//! desk's request rings the interpreter outside the queue; moved and cancelled bookings
//! free their interpreters; other municipalities see nothing; everything is audited. A
//! coordinator rings an interpreter of their choice for a waiting request.

use std::time::Duration;

use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::expect;
use crate::support::*;

fn at(from_now: Duration) -> String {
    (jiff::Timestamp::now() + from_now).to_string()
}

async fn book(server: &Server, token: &str, body: Value) -> (u16, Value) {
    let (status, text) = http(server.addr, "POST", "/api/bookings", Some(token), Some(&body.to_string())).await;
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status} {text}")))
}

async fn list(server: &Server, token: &str, query: &str) -> Vec<Value> {
    let (status, text) = http(server.addr, "GET", &format!("/api/bookings{query}"), Some(token), None).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_booking_holds_its_interpreter_through_a_restart_and_rings_them_at_its_slot() {
    let dir = temp("bookings");
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;
    let soon = at(Duration::from_secs(8));
    let scrivener = json!({
        "desk": 1, "language": "vi", "interpreter": 1, "start": soon, "minutes": 30,
        "specialist": "scrivener", "specialist_joins": "remote", "resident": "link", "topic": "residence_status",
    });
    let (status, made) = book(&server, &creds.sup_a, scrivener.clone()).await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_i64().unwrap();
    assert_eq!(made["interpreter"], 1);
    let resident_link = link_token(made["resident_link"].as_str().expect("the resident joins by link"));
    let specialist_link = link_token(made["specialist_link"].as_str().expect("the scrivener joins remotely"));
    // Before the slot the resident's page shows when it is and offers a calendar file;
    // joining is refused without using the link up.
    let (status, text) = http(server.addr, "GET", &format!("/api/invites/{resident_link}"), None, None).await;
    let peek: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((status, peek["party"].as_str(), peek["language"].as_str()), (200, Some("resident"), Some("vi")));
    assert!(peek["starts_at"].is_string(), "{peek}");
    let (status, head, ics) = http_full(server.addr, &format!("/api/invites/{resident_link}/calendar.ics"), "").await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("content-type: text/calendar"), "{head}");
    assert!(ics.contains("BEGIN:VEVENT") && ics.contains("Asahi City"), "{ics}");
    let early =
        server.refused::<kakehashi_client::Resident>(p::Credential::Invite(specialist_link.clone()), None).await;
    assert_eq!(early.code, p::ErrorCode::NotBegun);
    // The same interpreter cannot be held twice; anyone eligible can.
    let (status, clash) = book(&server, &creds.sup_a, scrivener.clone()).await;
    assert_eq!(status, 409, "{clash}");
    assert!(clash["error"]["message"].as_str().unwrap().contains("another booking"), "{clash}");
    let mut any = scrivener.clone();
    any["interpreter"] = Value::Null;
    any["start"] = json!(at(Duration::from_secs(3600)));
    let (status, second) =
        book(&server, &creds.desk_a2, json!({"language": "vi", "start": any["start"], "minutes": 20})).await;
    assert_eq!(status, 201, "a desk books for itself: {second}");
    assert_ne!(second["interpreter"], 1, "interpreter 1 is held in that hour");
    let second = second["id"].as_i64().unwrap();
    // Refusals, each naming what was wrong.
    let refusal = |body: Value| {
        let server = &server;
        let token = creds.sup_a.clone();
        async move { book(server, &token, body).await }
    };
    let (status, e) = refusal(json!({"desk": 1, "language": "xx-bogus", "start": soon, "minutes": 30})).await;
    assert!(status == 422 && e["error"]["message"].as_str().unwrap().starts_with("language"), "{e}");
    let (status, e) =
        refusal(json!({"desk": 1, "language": "vi", "start": at(Duration::ZERO).replace('T', " x"), "minutes": 30}))
            .await;
    assert!(status == 422 && e["error"]["message"].as_str().unwrap().starts_with("start"), "{e}");
    let (status, e) = refusal(json!({"desk": 1, "language": "vi", "start": soon, "minutes": 5})).await;
    assert!(status == 422 && e["error"]["message"].as_str().unwrap().starts_with("minutes"), "{e}");
    let (status, e) =
        refusal(json!({"desk": 1, "language": "vi", "interpreter": 4, "start": soon, "minutes": 30})).await;
    assert!(status == 409 && e["error"]["message"].as_str().unwrap().contains("language"), "{e}");
    let (status, _) = refusal(json!({"desk": 3, "language": "vi", "start": soon, "minutes": 30})).await;
    assert_eq!(status, 403, "another municipality's desk");
    let (status, e) =
        refusal(json!({"desk": 1, "language": "vi", "start": soon, "minutes": 30, "intake_note": "x"})).await;
    assert!(status == 422 && e["error"]["message"].as_str().unwrap().contains("does not keep notes"), "{e}");
    // Who sees what.
    assert_eq!(list(&server, &creds.sup_a, "").await.len(), 2);
    assert!(list(&server, &creds.sup_b, "").await.is_empty());
    assert!(list(&server, &creds.desk_b, "").await.is_empty());
    let mine = list(&server, &creds.interp[0], "").await;
    assert_eq!((mine.len(), mine[0]["id"].as_i64(), mine[0]["desk_name"].as_str()), (1, Some(id), Some("desk")));
    let path = format!("/api/bookings/{id}");
    assert_eq!(http(server.addr, "GET", &path, Some(&creds.sup_b), None).await.0, 404);
    assert_eq!(http(server.addr, "DELETE", &path, Some(&creds.desk_b), None).await.0, 404);

    // Held: interpreter 1, available, is not offered an on-demand call.
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk2 = server.desk(&creds.desk_a2).await;
    desk2.send(request("vi")).await;
    expect!(desk2, p::DeskEvent::Unserved { .. });
    drop((i1, desk2));

    // A restart between booking and slot: held again under the same number.
    let dir = server.stop().await;
    let server = Server::start(dir.clone()).await;
    let listed = list(&server, &creds.sup_a, "").await;
    assert_eq!(listed.iter().map(|b| b["id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![id, second]);
    assert_eq!((listed[0]["specialist"].as_str(), listed[0]["resident"].as_str()), (Some("scrivener"), Some("link")));
    let mut desk = server.desk(&creds.desk_a1).await;
    i1 = server.interpreter(&creds.interp[0]).await;
    // At the slot the desk is told and the interpreter rung, outside the queue.
    let (request, booking) = desk
        .expect_within(Duration::from_secs(20), |e| match e {
            p::DeskEvent::BookingCall { request, booking, .. } => Some((*request, *booking)),
            _ => None,
        })
        .await;
    assert_eq!(booking, id as u64);
    let (offer, booking) = expect!(i1, p::InterpreterEvent::Offer { offer, booking, .. } => (*offer, *booking));
    assert_eq!(booking, Some(id as u64), "the offer says it is the booking's");
    i1.send(p::InterpreterCommand::Accept { offer }).await;
    assert_eq!(expect!(desk, p::DeskEvent::Assigned { call, .. } => *call), request);
    expect!(i1, p::InterpreterEvent::Assigned { .. });
    // The links sent ahead (kept through the restart) let the resident and the scrivener in.
    let mut resident = server.resident(&resident_link, None).await;
    expect!(resident, p::ResidentEvent::Joined { party: p::Party::Resident, .. });
    let mut scrivener = server.resident(&specialist_link, None).await;
    let roster = expect!(scrivener, p::ResidentEvent::Joined { party: p::Party::Guest, participants, .. } => participants.clone());
    let parties: Vec<p::Party> = roster.iter().map(|x| x.party).collect();
    assert_eq!(parties, [p::Party::Desk, p::Party::Interpreter, p::Party::Resident, p::Party::Guest]);
    for party in [p::Party::Resident, p::Party::Guest] {
        assert_eq!(expect!(desk, p::DeskEvent::ParticipantJoined { party, .. } => *party), party);
        assert_eq!(expect!(i1, p::InterpreterEvent::ParticipantJoined { party, .. } => *party), party);
    }
    expect!(resident, p::ResidentEvent::ParticipantJoined { party: p::Party::Guest, .. });
    // New links on request: the old ones stop working, whoever is in keeps their place.
    let (status, text) = http(server.addr, "POST", &format!("{path}/links"), Some(&creds.sup_a), None).await;
    assert_eq!(status, 200, "{text}");
    let fresh: Value = serde_json::from_str(&text).unwrap();
    assert!(fresh["resident_link"].is_string() && fresh["specialist_link"].is_string());
    // A slot begun cannot be moved; the other one can, and cancelled.
    let moved = json!({"start": at(Duration::from_secs(7200)), "minutes": 30});
    let (status, _) = http(server.addr, "PUT", &path, Some(&creds.sup_a), Some(&moved.to_string())).await;
    assert_eq!(status, 409);
    let other = format!("/api/bookings/{second}");
    let (status, body) = http(server.addr, "PUT", &other, Some(&creds.desk_a2), Some(&moved.to_string())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(http(server.addr, "DELETE", &other, Some(&creds.sup_a), None).await.0, 204);
    let all = list(&server, &creds.sup_a, "?cancelled=true&tenant=1").await;
    assert_eq!(all.iter().find(|b| b["id"] == second).unwrap()["status"], "cancelled");
    assert_eq!(list(&server, &creds.sup_a, "").await.len(), 1);
    let (_, log) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    for action in ["\"book\"", "move_booking", "cancel_booking"] {
        assert!(log.contains(action), "{action} in {log}");
    }
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_slot_outside_the_centre_calendar_is_refused_and_an_intake_note_is_sealed() {
    let dir = temp("bookings-calendar");
    let creds = seed(&dir).await;
    {
        let store = crate::postgres_support::open_store(&dir).await;
        let keeps =
            kakehashi::store::Retention { records_days: 1825, audit_days: 1825, handling_notes: true, notes_days: 30 };
        assert!(store.set_retention(1, keeps).await.unwrap());
    }
    let server = Server::start(dir.clone()).await;
    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    let tomorrow = jiff::Zoned::now().with_time_zone(tokyo.clone()).date().tomorrow().unwrap();
    let local = |h: i8, m: i8| tomorrow.at(h, m, 0, 0).to_zoned(tokyo.clone()).unwrap().timestamp().to_string();
    let calendar = json!({
        "hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "open": "09:00", "close": "17:00"}],
        "closed_on_holidays": false, "closed_year_end": false,
    });
    let (status, _) =
        http(server.addr, "PUT", "/api/tenants/1/calendar", Some(&creds.sup_a), Some(&calendar.to_string())).await;
    assert_eq!(status, 204);
    let body = |start: String| {
        json!({"desk": 1, "language": "vi", "start": start, "minutes": 30,
        "specialist": "immigration", "intake_note": "在留期間更新。転職あり。"})
    };
    let (status, e) = book(&server, &creds.sup_a, body(local(16, 45))).await;
    assert_eq!(status, 409, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("outside the opening hours (09:00–17:00)"), "{e}");
    let (status, made) = book(&server, &creds.sup_a, body(local(10, 0))).await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_i64().unwrap();
    // The intake note is nowhere in the database's files; its supervisors read it, audited.
    for f in std::fs::read_dir(&dir).unwrap().flatten() {
        if let Ok(bytes) = std::fs::read(f.path()) {
            assert!(!String::from_utf8_lossy(&bytes).contains("転職あり"), "{:?}", f.path());
        }
    }
    let path = format!("/api/bookings/{id}/intake");
    let (status, text) = http(server.addr, "GET", &path, Some(&creds.sup_a), None).await;
    assert!(status == 200 && text.contains("転職あり"), "{status} {text}");
    assert_eq!(http(server.addr, "GET", &path, Some(&creds.admin), None).await.0, 403);
    assert_eq!(http(server.addr, "GET", &path, Some(&creds.sup_b), None).await.0, 404);
    let (_, log) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    assert!(log.contains("read_intake"), "{log}");
    // Past the municipality's notes retention (30 days here) after the slot, the purge
    // takes the intake note; the booking stays.
    let store = crate::postgres_support::open_store(&dir).await;
    let purged = store.purge(kakehashi::store::now_ms() + 32 * 86_400_000).await.unwrap();
    assert!(purged.notes >= 1, "{purged:?}");
    assert_eq!(http(server.addr, "GET", &path, Some(&creds.sup_a), None).await.0, 404);
    assert_eq!(list(&server, &creds.sup_a, "").await[0]["intake"], false);
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_coordinator_rings_a_chosen_interpreter_for_a_waiting_request() {
    let dir = temp("assign");
    let creds = seed(&dir).await;
    // A volunteer for Vietnamese: the policy reaches volunteers only after 50 s of waiting.
    let store = crate::postgres_support::open_store(&dir).await;
    let mut volunteer = staff("i6", "vi", 1);
    volunteer.tier = "volunteer".into();
    store.insert_interpreter(&volunteer, &kakehashi::auth::hash_password("pw-i6").unwrap()).await.unwrap();
    let i6_token = sign_in(&store, kakehashi::store::AccountKind::Interpreter, "i6", "pw-i6").await;
    drop(store);
    let server = Server::start(dir.clone()).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk1 = server.desk(&creds.desk_a1).await;
    answered_call(&mut desk1, &mut i1, "vi").await;
    let mut i6 = server.interpreter(&i6_token).await;
    let mut desk2 = server.desk(&creds.desk_a2).await;
    desk2.send(request("vi")).await;
    let request = expect!(desk2, p::DeskEvent::Queued { request, ringing: false, .. } => *request);
    // The wallboard lists it.
    let mut wall = server.supervisor(&creds.sup_a).await;
    wall.send(p::SupervisorCommand::Subscribe {}).await;
    let waiting = expect!(wall, p::SupervisorEvent::Snapshot { waiting, .. } => waiting.clone());
    assert_eq!(
        waiting.iter().map(|w| (w.request, w.language.as_str(), w.ringing)).collect::<Vec<_>>(),
        [(request, "vi", false)]
    );
    let assign = |token: String, interpreter: i64| {
        let addr = server.addr;
        async move {
            let body = json!({ "interpreter": interpreter }).to_string();
            http(addr, "POST", &format!("/api/requests/{request}/assign"), Some(&token), Some(&body)).await
        }
    };
    // Refused with the reason: busy, another language, another municipality's request.
    let (status, text) = assign(creds.sup_a.clone(), 1).await;
    assert!(status == 409 && text.contains("not free"), "{status} {text}");
    let (status, text) = assign(creds.sup_a.clone(), 4).await;
    assert!(status == 409 && text.contains("language"), "{status} {text}");
    assert_eq!(assign(creds.sup_b.clone(), 6).await.0, 404);
    // Rung by hand: the volunteer accepts and the call starts.
    assert_eq!(assign(creds.sup_a.clone(), 6).await.0, 202);
    let offer = expect!(i6, p::InterpreterEvent::Offer { offer, .. } => *offer);
    i6.send(p::InterpreterCommand::Accept { offer }).await;
    assert_eq!(expect!(desk2, p::DeskEvent::Assigned { call, .. } => *call), request);
    let (_, log) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    assert!(log.contains("assign_request"), "{log}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
