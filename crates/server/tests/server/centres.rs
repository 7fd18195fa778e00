//! A centre's standing link (issue 17): the public view of a municipality (languages,
//! hours), its free half hours within the opening hours, a resident's booking at the
//! online desk with their own link, refusals with their reasons, the QR code and the page;
//! only the municipality's coordinator chooses the online desk.

use serde_json::{Value, json};

use crate::support::*;

async fn get(server: &Server, path: &str) -> (u16, Value) {
    let (status, text) = http(server.addr, "GET", path, None, None).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    let (status, text) = http(server.addr, "POST", path, None, Some(&body.to_string())).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn a_resident_books_from_the_standing_link() {
    let dir = temp("centres");
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;

    let (status, centre) = get(&server, "/api/centres/1").await;
    assert_eq!(status, 200, "{centre}");
    assert_eq!((centre["name"].as_str(), centre["bookable"].as_bool()), (Some("Asahi City"), Some(false)));
    let vi = centre["languages"].as_array().unwrap().iter().find(|l| l["tag"] == "vi").unwrap().clone();
    assert_eq!(vi["native"], "Tiếng Việt", "{vi}");
    assert_eq!(centre["days"].as_array().unwrap().len(), 14);
    assert_eq!(get(&server, "/api/centres/99").await.0, 404);
    let (status, e) = get(&server, "/api/centres/1/slots?language=vi").await;
    assert!(status == 409 && e.to_string().contains("no bookings online"), "{status} {e}");

    // Only the municipality's coordinator chooses its online desk, among its desks.
    let put = |token: String, body: Value| {
        let addr = server.addr;
        async move { http(addr, "PUT", "/api/tenants/1/online-desk", Some(&token), Some(&body.to_string())).await }
    };
    assert_eq!(put(creds.sup_b.clone(), json!({"desk": 1})).await.0, 403);
    let (status, text) = put(creds.sup_a.clone(), json!({"desk": 3})).await;
    assert!(status == 422 && text.contains("desk"), "{status} {text}");
    assert_eq!(put(creds.sup_a.clone(), json!({"desk": 1})).await.0, 204);
    let (_, tenants) = http(server.addr, "GET", "/api/tenants", Some(&creds.sup_a), None).await;
    assert!(tenants.contains("\"online_desk\":1"), "{tenants}");

    // Free half hours: within a municipal office's hours, two hours ahead at the soonest.
    let (status, slots) = get(&server, "/api/centres/1/slots?language=vi").await;
    assert_eq!(status, 200, "{slots}");
    let slots = slots.as_array().unwrap().clone();
    assert!(!slots.is_empty());
    let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    for s in &slots {
        let start: jiff::Timestamp = s["start"].as_str().unwrap().parse().unwrap();
        assert!(start > jiff::Timestamp::now() + jiff::SignedDuration::from_mins(110), "{s}");
        let local = start.to_zoned(tokyo.clone());
        assert!(local.weekday().to_monday_one_offset() <= 5, "a weekday: {s}");
        assert!(
            local.time() >= jiff::civil::time(8, 30, 0, 0) && local.time() <= jiff::civil::time(16, 45, 0, 0),
            "{s}"
        );
        assert_eq!(s["minutes"], 30);
    }
    assert_eq!(get(&server, "/api/centres/1/slots?language=xx-nope").await.0, 422);

    // Booked: the resident's own link, which shows the slot until it begins.
    let first = slots[0]["start"].as_str().unwrap();
    let (status, booked) = post(&server, "/api/centres/1/bookings", json!({"language": "vi", "start": first})).await;
    assert_eq!(status, 201, "{booked}");
    let token = link_token(booked["link"].as_str().unwrap());
    let (status, invite) = get(&server, &format!("/api/invites/{token}")).await;
    assert_eq!((status, invite["language"].as_str()), (200, Some("vi")), "{invite}");
    assert!(invite["starts_at"].is_string());
    let (_, list) = http(server.addr, "GET", "/api/bookings", Some(&creds.sup_a), None).await;
    let list: Vec<Value> = serde_json::from_str(&list).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0]["desk"].as_i64(), list[0]["resident"].as_str()), (Some(1), Some("link")));
    assert_eq!(list[0]["created_by"], "resident:standing_link");
    // Three Vietnamese interpreters: the slot is gone after the third booking of it.
    for _ in 0..2 {
        let (status, b) = post(&server, "/api/centres/1/bookings", json!({"language": "vi", "start": first})).await;
        assert_eq!(status, 201, "{b}");
    }
    let (status, e) = post(&server, "/api/centres/1/bookings", json!({"language": "vi", "start": first})).await;
    assert_eq!(status, 409, "{e}");
    let (_, again) = get(&server, "/api/centres/1/slots?language=vi").await;
    assert!(again.as_array().unwrap().iter().all(|s| s["start"] != first), "{again}");
    // Refusals name what was wrong.
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_mins(10)).to_string();
    let (status, e) = post(&server, "/api/centres/1/bookings", json!({"language": "vi", "start": soon})).await;
    assert!(status == 422 && e.to_string().contains("start"), "{status} {e}");
    let (status, e) =
        post(&server, "/api/centres/1/bookings", json!({"language": "vi", "start": first, "name": "x"})).await;
    assert!(status == 400 && e.to_string().contains("name"), "no personal fields: {status} {e}");

    // The QR code and the page itself.
    let (status, head, svg) = http_full(server.addr, "/api/centres/1/qr.svg", "").await;
    assert_eq!(status, 200);
    assert!(head.to_ascii_lowercase().contains("image/svg+xml") && svg.contains("<svg"), "{head}");
    let (status, _, page) = http_full(server.addr, "/start/1", "").await;
    assert!(status == 200 && page.contains("start.js"), "{status}");
    let (_, log) = http(server.addr, "GET", "/api/audit-log?tenant=1", Some(&creds.admin), None).await;
    assert!(log.contains("resident:standing_link") && log.contains("set_online_desk"), "{log}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_resident_waits_for_an_interpreter_now_from_the_standing_link() {
    use kakehashi_protocol as p;
    let dir = temp("centres-now");
    let creds = seed(&dir).await;
    let server = Server::start(dir.clone()).await;
    let queue = |server: &Server| {
        let addr = server.addr;
        async move {
            let (status, text) =
                http(addr, "POST", "/api/centres/1/queue", None, Some(&json!({"language": "vi"}).to_string())).await;
            (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)))
        }
    };
    assert_eq!(queue(&server).await.0, 409, "no online desk");
    let body = json!({"desk": 1}).to_string();
    assert_eq!(http(server.addr, "PUT", "/api/tenants/1/online-desk", Some(&creds.sup_a), Some(&body)).await.0, 204);
    let (status, e) = queue(&server).await;
    assert!(status == 409 && e.to_string().contains("closed"), "the desk is away: {status} {e}");
    let mut desk = server.desk(&creds.desk_a1).await;
    let (status, e) = queue(&server).await;
    assert!(status == 409 && e.to_string().contains("book a time"), "nobody on duty: {status} {e}");
    assert_eq!(get(&server, "/api/centres/1").await.1["open_now"], true);

    // On duty: the resident waits with their own link; the desk is told an online caller.
    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let (status, queued) = queue(&server).await;
    assert_eq!(status, 201, "{queued}");
    let token = link_token(queued["link"].as_str().unwrap());
    let request = crate::expect!(desk, p::DeskEvent::LineCall { request, online: true, .. } => *request);
    crate::expect!(desk, p::DeskEvent::Queued { ringing: true, .. });
    let (_, waiting) = get(&server, &format!("/api/invites/{token}")).await;
    assert_eq!(waiting["waiting"], 0, "{waiting}");
    let early = server.refused::<kakehashi_client::Resident>(p::Credential::Invite(token.clone()), None).await;
    assert_eq!(early.code, p::ErrorCode::NotBegun);
    // A second resident waits behind, then stops waiting from their page: the request is
    // withdrawn (the desk told), and the link is over.
    let (_, second) = queue(&server).await;
    let second = link_token(second["link"].as_str().unwrap());
    let withdrawn = crate::expect!(desk, p::DeskEvent::LineCall { request, online: true, .. } => *request);
    crate::expect!(desk, p::DeskEvent::Queued { ringing: false, .. });
    // (The first is being offered, not queued: nobody waits before the second.)
    assert_eq!(get(&server, &format!("/api/invites/{second}")).await.1["waiting"], 0);
    let stop = |token: String| {
        let addr = server.addr;
        async move { http(addr, "DELETE", &format!("/api/invites/{token}/wait"), None, None).await }
    };
    assert_eq!(stop(second.clone()).await.0, 204);
    assert_eq!(crate::expect!(desk, p::DeskEvent::Cancelled { request } => *request), withdrawn);
    assert_eq!(get(&server, &format!("/api/invites/{second}")).await.0, 404);
    assert_eq!(stop(second).await.0, 404, "already withdrawn");
    // Answered: the desk is in the call and the resident's link lets them in.
    let offer = crate::expect!(interpreter, p::InterpreterEvent::Offer { offer, .. } => *offer);
    interpreter.send(p::InterpreterCommand::Accept { offer }).await;
    assert_eq!(crate::expect!(desk, p::DeskEvent::Assigned { call, .. } => *call), request);
    let (_, open) = get(&server, &format!("/api/invites/{token}")).await;
    assert!(open.get("waiting").is_none(), "{open}");
    let (status, answered) = stop(token.clone()).await;
    assert!(status == 409 && answered.contains("join the call"), "{status} {answered}");
    let mut resident = server.resident(&token, None).await;
    let language = crate::expect!(resident, p::ResidentEvent::Joined { language, .. } => language.clone());
    assert_eq!(language, "vi");
    crate::expect!(desk, p::DeskEvent::ParticipantJoined { party: p::Party::Resident, .. });
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
