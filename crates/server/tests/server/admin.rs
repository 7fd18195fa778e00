//! The admin API builds the directory and policies apply live; what the pages read over
//! HTTP; the pages themselves.

use std::time::Duration;

use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::expect;
use crate::support::*;

#[tokio::test]
async fn the_admin_api_builds_the_directory_and_policies_apply_live() {
    let dir = temp("admin");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let admin = Some(creds.admin.as_str());
    // Validation names the field; only admins write.
    let bad = [
        (json!({"name": "X", "foreign_residents": 1, "time_zone": "Mars/Base"}), "time_zone"),
        (
            json!({"name": "X", "foreign_residents": 1, "time_zone": "Asia/Tokyo", "policy": {"ring_timeout_secs": 0}}),
            "policy.ring_timeout",
        ),
        (json!({"name": "X", "foreign_residents": 1, "time_zone": "Asia/Tokyo", "colour": "red"}), "colour"),
        (json!({"name": "X", "time_zone": "Asia/Tokyo"}), "foreign_residents"),
    ];
    for (body, field) in bad {
        let (status, text) = http(server.addr, "POST", "/api/tenants", admin, Some(&body.to_string())).await;
        assert!(status == 400 || status == 422, "{status} {text}");
        assert!(text.contains(field), "{field} not named in {text}");
    }
    let fast = json!({"ring_timeout_secs": 1, "max_wait_secs": 3, "wrap_up_secs": 0,
        "steps": [{"seconds": 0, "tiers": ["staff", "contractor", "volunteer"], "scope": "own"}]});
    let tenant_body =
        json!({"name": "Sakura Town", "foreign_residents": 900, "time_zone": "Asia/Tokyo", "policy": fast});
    let (status, _) =
        http(server.addr, "POST", "/api/tenants", Some(&creds.sup_a), Some(&tenant_body.to_string())).await;
    assert_eq!(status, 403, "a supervisor cannot add tenants");
    let (status, text) = http(server.addr, "POST", "/api/tenants", admin, Some(&tenant_body.to_string())).await;
    assert_eq!(status, 201, "{text}");
    let tenant = serde_json::from_str::<Value>(&text).unwrap()["id"].as_i64().unwrap();
    let (status, text) = http(server.addr, "POST", "/api/tenants", admin, Some(&tenant_body.to_string())).await;
    assert_eq!(status, 409, "a taken name: {text}");
    let problem = &serde_json::from_str::<Value>(&text).unwrap()["error"]["problem"];
    assert_eq!(problem, &json!({"field": "name", "code": "taken"}), "{text}");
    let long = json!({"name": "名".repeat(201), "foreign_residents": 1, "time_zone": "Asia/Tokyo"});
    let (status, text) = http(server.addr, "POST", "/api/tenants", admin, Some(&long.to_string())).await;
    let problem = &serde_json::from_str::<Value>(&text).unwrap()["error"]["problem"];
    assert_eq!(status, 422, "{text}");
    let said = json!({"field": "name", "code": "range", "min": 1, "max": 200, "unit": "characters"});
    assert_eq!(problem, &said, "what is wrong, for a page to say in its language: {text}");
    let (status, _) = http(server.addr, "POST", "/api/tenants/999/desks", admin, Some(r#"{"name":"Nowhere"}"#)).await;
    assert_eq!(status, 404, "a desk of no tenant");
    let (status, text) = http(
        server.addr,
        "POST",
        &format!("/api/tenants/{tenant}/desks"),
        admin,
        Some(r#"{"name":"Sakura Town Hall"}"#),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let code = serde_json::from_str::<Value>(&text).unwrap()["enrolment_code"].as_str().unwrap().to_string();
    let (_, text) = http(server.addr, "POST", "/api/enrol", None, Some(&json!({"code": code}).to_string())).await;
    let desk_token = serde_json::from_str::<Value>(&text).unwrap()["token"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    for login in ["ne-1", "ne-2"] {
        let body = json!({"login": login, "password": "a long password", "tier": "volunteer", "languages": ["ne"],
            "modalities": ["video"], "tenants": [tenant], "roster": {"always": true}});
        let (status, text) = http(server.addr, "POST", "/api/interpreters", admin, Some(&body.to_string())).await;
        assert_eq!(status, 201, "{text}");
        ids.push(serde_json::from_str::<Value>(&text).unwrap()["id"].as_i64().unwrap());
    }
    let taken = json!({"login": "ne-1", "password": "a long password", "tier": "volunteer", "languages": ["ne"],
        "modalities": ["video"], "tenants": [tenant], "roster": {"always": true}});
    let (status, text) = http(server.addr, "POST", "/api/interpreters", admin, Some(&taken.to_string())).await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("login"), "{text}");
    let bad_roster = json!({"login": "x", "password": "a long password", "tier": "staff", "languages": ["ne"],
        "modalities": ["video"], "tenants": [tenant], "roster": {"time_zone": "Asia/Tokyo", "shifts": [{"days": ["fry"], "start": "09:00", "end": "17:00"}]}});
    let (status, text) = http(server.addr, "POST", "/api/interpreters", admin, Some(&bad_roster.to_string())).await;
    assert_eq!(status, 422);
    let problem = &serde_json::from_str::<Value>(&text).unwrap()["error"]["problem"];
    assert_eq!(problem, &json!({"field": "roster.shifts[0].days", "code": "not_weekday"}), "{text}");
    // Reached by phone: a number people dial, kept in the directory and listed to admins.
    let mut by_phone = json!({"login": "pt-phone", "password": "a long password", "tier": "contractor",
        "languages": ["pt"], "modalities": ["audio"], "tenants": [tenant], "roster": {"always": true},
        "reach_by_phone": "sip:someone@example"});
    let (status, text) = http(server.addr, "POST", "/api/interpreters", admin, Some(&by_phone.to_string())).await;
    assert_eq!(status, 422);
    assert!(text.contains("reach_by_phone"), "{text}");
    by_phone["reach_by_phone"] = json!("090-1111-2222");
    let (status, text) = http(server.addr, "POST", "/api/interpreters", admin, Some(&by_phone.to_string())).await;
    assert_eq!(status, 201, "{text}");
    let (_, text) = http(server.addr, "GET", "/api/interpreters", admin, None).await;
    let listed = serde_json::from_str::<Value>(&text).unwrap();
    let phone = listed.as_array().unwrap().iter().find(|i| i["login"] == "pt-phone").unwrap();
    assert_eq!(phone["reach_by_phone"], "090-1111-2222");
    let mut sessions = Vec::new();
    for login in ["ne-1", "ne-2"] {
        let (_, text) = http(
            server.addr,
            "POST",
            "/api/sign-in",
            None,
            Some(&json!({"role": "interpreter", "login": login, "password": "a long password"}).to_string()),
        )
        .await;
        sessions.push(serde_json::from_str::<Value>(&text).unwrap()["token"].as_str().unwrap().to_string());
    }
    let mut n1 = server.interpreter(&sessions[0]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut n2 = server.interpreter(&sessions[1]).await;
    let mut desk = server.desk(&desk_token).await;

    // Ring time-out (1 s) passes the request to the next interpreter.
    desk.send(request("ne")).await;
    let request_id = expect!(desk, p::DeskEvent::Queued { request, .. } => *request);
    expect!(n1, p::InterpreterEvent::Offer { .. });
    let reason = expect!(n1, p::InterpreterEvent::OfferClosed { reason, .. } => *reason);
    assert_eq!(reason, p::OfferClosedReason::Missed);
    let offer = expect!(n2, p::InterpreterEvent::Offer { offer, .. } => *offer);
    n2.send(p::InterpreterCommand::Accept { offer }).await;
    expect!(desk, p::DeskEvent::Assigned { .. });
    // A profile change is refused while the interpreter is in a call.
    let profile = json!({"tier": "staff", "languages": ["ne"], "modalities": ["video"], "tenants": [tenant], "roster": {"always": true}});
    let (status, _) =
        http(server.addr, "PUT", &format!("/api/interpreters/{}", ids[1]), admin, Some(&profile.to_string())).await;
    assert_eq!(status, 409);
    // A second miss in a row makes interpreter 1 not ready; the request then waits the
    // maximum (3 s) for interpreter 2, who is busy, and expires.
    desk.send(request("ne")).await;
    expect!(desk, p::DeskEvent::Queued { .. });
    expect!(n1, p::InterpreterEvent::Offer { .. });
    let mut seen = Vec::new();
    loop {
        let e = n1.next().await;
        seen.push(e.clone());
        if let p::InterpreterEvent::OfferClosed { reason, .. } = e {
            assert_eq!(reason, p::OfferClosedReason::Missed);
            break;
        }
    }
    assert!(
        seen.contains(&p::InterpreterEvent::Presence { presence: p::PresenceState::NotReadyMissedOffers }),
        "{seen:?}"
    );
    expect!(desk, p::DeskEvent::Expired { .. });
    desk.send(p::DeskCommand::EndCall { call: request_id }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    // The profile can change now, and the OpenAPI document describes the API.
    let (status, text) =
        http(server.addr, "PUT", &format!("/api/interpreters/{}", ids[0]), admin, Some(&profile.to_string())).await;
    assert_eq!(status, 204, "{text}");
    let (status, text) = http(server.addr, "GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/interpreters/{id}"]["put"].is_object());
    // A supervisor of tenant 1 sees only their tenant.
    let (_, text) = http(server.addr, "GET", "/api/tenants", Some(&creds.sup_a), None).await;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&text).unwrap().len(), 1);
    // Revoking the desk closes its connection, ends what it held, and its token stops
    // working.
    let records = server.records(&creds.admin).await;
    let desk_id = records.iter().find(|r| r["outcome"] == "expired").unwrap()["desk"].as_i64().unwrap();
    desk.send(request("ne")).await;
    expect!(desk, p::DeskEvent::Queued { .. });
    let (status, _) = http(server.addr, "DELETE", &format!("/api/desks/{desk_id}"), admin, None).await;
    assert_eq!(status, 204);
    assert_eq!(desk.closed().await.map(|f| f.0), Some(p::CloseReason::Ended.code()));
    assert!(server.eventually_record(&creds.admin, "abandoned").await, "a revoked desk's wait ends at once");
    let e = server.refused::<kakehashi_client::Desk>(p::Credential::DeskToken(desk_token), None).await;
    assert_eq!(e.code, p::ErrorCode::Unauthorized);
    let (status, _) = http(server.addr, "DELETE", "/api/desks/999", admin, None).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn the_web_pages_are_served_with_a_strict_policy() {
    let dir = temp("web");
    seed(&dir).await;
    let server = Server::start(dir).await;
    for (path, marker) in [
        ("/desk/", "/desk/desk.js"),
        ("/interpreter/", "/interpreter/interpreter.js"),
        ("/wall/", "/wall/wall.js"),
        ("/reports/", "/reports/reports.js"),
        ("/admin/", "/admin/admin.js"),
        ("/join/0123abcd", "/join/join.js"),
        ("/", "/desk/"),
    ] {
        let (status, head, body) = http_full(server.addr, path, "").await;
        assert_eq!(status, 200, "{path}");
        assert!(head.contains("content-type: text/html; charset=utf-8"), "{path}: {head}");
        assert!(head.contains("content-security-policy: default-src 'self'; script-src 'self'"), "{path}: {head}");
        assert!(head.contains("referrer-policy: no-referrer"), "{path}");
        assert!(head.contains("x-frame-options: deny"), "{path}");
        assert!(body.contains(marker), "{path} links {marker}");
    }
    let (status, head, body) = http_full(server.addr, "/assets/common/kk.css", "").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/css"));
    assert!(body.contains("--brand"));
    let etag = head.lines().find_map(|l| l.strip_prefix("etag: ")).unwrap().trim().to_string();
    let (status, _, _) = http_full(server.addr, "/assets/common/kk.css", &format!("if-none-match: {etag}\r\n")).await;
    assert_eq!(status, 304, "revalidated by ETag");
    let (status, head, _) = http_full(server.addr, "/assets/join/i18n/vi.js", "").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/javascript"));
    assert_eq!(http_full(server.addr, "/assets/nothing.js", "").await.0, 404);
    // Pages name this build's versioned files, which phones keep for a year; text is
    // gzipped for clients that take it.
    let (_, head, body) = http_full(server.addr, "/join/0123abcd", "").await;
    assert!(head.contains("cache-control: no-cache"), "{head}");
    let at = body.find("/assets/v-").expect("a versioned path");
    let script = body[at..].split('"').next().unwrap().to_string();
    let (status, head, _) = http_full(server.addr, &script, "").await;
    assert_eq!(status, 200, "{script}");
    assert!(head.contains("cache-control: public, max-age=31536000, immutable"), "{head}");
    let (status, head, _) = http_full(server.addr, "/assets/v-000000000000/join/join.js", "").await;
    assert_eq!(status, 200);
    assert!(head.contains("cache-control: no-cache"), "another build's path is revalidated: {head}");
    let (status, head, _) = http_full(server.addr, &script, "accept-encoding: gzip, br\r\n").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-encoding: gzip") && head.contains("vary: accept-encoding"), "{head}");
    assert_eq!(http_full(server.addr, "/assets/../Cargo.toml", "").await.0, 404);
    let (status, head, _) = http_full(server.addr, "/desk", "").await;
    assert_eq!(status, 308);
    assert!(head.contains("location: /desk/"));
    server.stop().await;
}

#[tokio::test]
async fn clients_read_their_own_profile_and_links() {
    let dir = temp("clients");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    // A desk's languages: Japanese left out, the tenant's most used first.
    let (status, body) = http(server.addr, "GET", "/api/desk", Some(&creds.desk_a1), None).await;
    assert_eq!(status, 200, "{body}");
    let d: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["tenant_name"], "Asahi City");
    let tags: Vec<&str> = d["languages"].as_array().unwrap().iter().map(|l| l["tag"].as_str().unwrap()).collect();
    assert_eq!(tags[0], "ja-x-easy", "catalogue order without use: {tags:?}");
    assert!(!tags.contains(&"ja"));
    // The tenant's coordinator pins languages to the front, in their order.
    let pin = |body: &str| body.to_string();
    let (status, text) = http(
        server.addr,
        "PUT",
        "/api/tenants/1/languages",
        Some(&creds.sup_a),
        Some(&pin(r#"{"pinned": ["ne", "vi"]}"#)),
    )
    .await;
    assert_eq!(status, 204, "{text}");
    let (_, body) = http(server.addr, "GET", "/api/desk", Some(&creds.desk_a1), None).await;
    let d: Value = serde_json::from_str(&body).unwrap();
    let tags: Vec<&str> = d["languages"].as_array().unwrap().iter().map(|l| l["tag"].as_str().unwrap()).collect();
    assert_eq!(&tags[..3], ["ne", "vi", "ja-x-easy"], "{tags:?}");
    for (body, field) in [
        (r#"{"pinned": ["ja"]}"#, "pinned[0]"),
        (r#"{"pinned": ["vi", "vi"]}"#, "pinned[1]"),
        (r#"{"pinned": ["xx-nope"]}"#, "pinned[0]"),
    ] {
        let (status, text) = http(server.addr, "PUT", "/api/tenants/1/languages", Some(&creds.sup_a), Some(body)).await;
        assert_eq!(status, 422, "{body}: {text}");
        assert!(text.contains(field), "{text}");
    }
    let (status, _) =
        http(server.addr, "PUT", "/api/tenants/2/languages", Some(&creds.sup_a), Some(r#"{"pinned": []}"#)).await;
    assert_eq!(status, 403, "another tenant's grid");
    let (status, _) =
        http(server.addr, "PUT", "/api/tenants/1/languages", Some(&creds.sup_a), Some(r#"{"pinned": []}"#)).await;
    assert_eq!(status, 204, "unpinned: use decides again");
    assert_eq!(http(server.addr, "GET", "/api/desk", Some("nonsense"), None).await.0, 401);
    assert_eq!(http(server.addr, "GET", "/api/desk", None, None).await.0, 401);

    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let token = invite(&mut desk, call, p::Party::Guest).await;
    // The link's language and kind, without using it up.
    let (status, body) = http(server.addr, "GET", &format!("/api/invites/{token}"), None, None).await;
    assert_eq!(status, 200, "{body}");
    let info: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((info["language"].as_str(), info["party"].as_str()), (Some("vi"), Some("guest")));
    assert_eq!((info["tenant_name"].as_str(), info["desk_name"].as_str()), (Some("Asahi City"), Some("desk")));
    assert_eq!(info["used"], false);
    let mut guest = server.resident(&token, None).await;
    expect!(guest, p::ResidentEvent::Joined { .. });
    // Used, it stays the guest's own way back in while the call lasts.
    let (status, body) = http(server.addr, "GET", &format!("/api/invites/{token}"), None, None).await;
    assert_eq!(status, 200, "a used link: {body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["used"], true);
    assert_eq!(http(server.addr, "GET", "/api/invites/nothing", None, None).await.0, 404);
    expect!(desk, p::DeskEvent::ParticipantJoined { .. });
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    let (status, body) = http(server.addr, "GET", &format!("/api/invites/{token}"), None, None).await;
    assert_eq!(status, 404, "the call ended: {body}");
    assert!(body.contains("has ended"), "{body}");

    // The interpreter's day: one call, on duty all the time.
    let (status, body) = http(server.addr, "GET", "/api/me", Some(&creds.interp[0]), None).await;
    assert_eq!(status, 200, "{body}");
    let me: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["login"], "i1");
    assert_eq!(me["always_on"], true);
    assert_eq!(me["languages"][0]["native"], "Tiếng Việt");
    let calls = |me: &Value| me["calls_today"].as_i64().unwrap();
    for _ in 0..50 {
        let me: Value =
            serde_json::from_str(&http(server.addr, "GET", "/api/me", Some(&creds.interp[0]), None).await.1).unwrap();
        if calls(&me) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let me: Value =
        serde_json::from_str(&http(server.addr, "GET", "/api/me", Some(&creds.interp[0]), None).await.1).unwrap();
    assert_eq!(calls(&me), 1, "{me}");
    assert_eq!(http(server.addr, "GET", "/api/me", Some(&creds.sup_a), None).await.0, 403);
    // Now Vietnamese comes first on this tenant's desks.
    let d: Value =
        serde_json::from_str(&http(server.addr, "GET", "/api/desk", Some(&creds.desk_a2), None).await.1).unwrap();
    assert_eq!(d["languages"][0]["tag"], "vi");
    assert_eq!(d["languages"][0]["uses"], 1);
    // Call records since a time; a bad value is named.
    let future = kakehashi::store::now_ms() + 3_600_000;
    let (status, body) =
        http(server.addr, "GET", &format!("/api/call-records?since={future}"), Some(&creds.sup_a), None).await;
    assert_eq!((status, body.as_str()), (200, "[]"));
    let (status, body) = http(server.addr, "GET", "/api/call-records?since=yesterday", Some(&creds.sup_a), None).await;
    assert_eq!(status, 400);
    assert!(body.contains("since"), "{body}");
    // Desks for the admin page: a supervisor sees their own tenant's.
    let all: Vec<Value> =
        serde_json::from_str(&http(server.addr, "GET", "/api/desks", Some(&creds.admin), None).await.1).unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|d| d["enrolled"] == true && d["revoked"] == false));
    let mine: Vec<Value> =
        serde_json::from_str(&http(server.addr, "GET", "/api/desks", Some(&creds.sup_b), None).await.1).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(http(server.addr, "GET", "/api/desks", Some(&creds.interp[0]), None).await.0, 403);
    server.stop().await;
}
