//! Two-factor sign-in (issue 18): a supervisor whose tenant requires it signs in to a
//! session that can only set it up; sets it up with the QR code's secret; then signs in
//! only with a fresh code (never the same one twice) or a recovery code (each once); an
//! admin removes a lost one; interpreters follow their tenant's rule; admins must have one
//! unless configured otherwise.

use kakehashi::auth::totp;
use kakehashi::store::AccountKind;
use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::support::*;

fn body(login: &str, password: &str, code: Option<&str>) -> String {
    let mut b = json!({"role": "staff", "login": login, "password": password});
    if let Some(c) = code {
        b["code"] = json!(c);
    }
    b.to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test]
async fn a_supervisor_who_must_sets_it_up_then_signs_in_with_codes() {
    let dir = temp("second-factor");
    let creds = seed(&dir).await;
    let sup_id =
        crate::postgres_support::open_store(&dir).await.account(AccountKind::Staff, "sup-a").await.unwrap().unwrap().id;
    let server = Server::start(dir).await;
    let addr = server.addr;
    let admin = Some(creds.admin.as_str());
    // Asahi City (tenant 1) requires its supervisors' second factor.
    let (status, text) =
        http(addr, "PUT", "/api/tenants/1/two-factor", admin, Some(r#"{"two_factor": "staff"}"#)).await;
    assert_eq!(status, 204, "{text}");
    let (status, text) = http(addr, "PUT", "/api/tenants/1/two-factor", admin, Some(r#"{"two_factor": "all"}"#)).await;
    assert!(status == 400 || status == 422, "an unknown rule is refused: {status} {text}");
    let tenants = parse(&http(addr, "GET", "/api/tenants", admin, None).await.1);
    assert_eq!(tenants[0]["two_factor"], "staff");

    // Signing in gives a session that can only set it up.
    let (status, text) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", None))).await;
    assert_eq!(status, 200, "{text}");
    let signed = parse(&text);
    assert_eq!(signed["second_factor_setup"], true);
    let token = signed["token"].as_str().unwrap().to_string();
    let (status, text) = http(addr, "GET", "/api/call-records", Some(&token), None).await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(parse(&text)["error"]["code"], "second_factor_setup");
    let refused = server.refused::<kakehashi_client::Supervisor>(p::Credential::Session(token.clone()), None).await;
    assert_eq!(refused.code, p::ErrorCode::SecondFactorSetup);
    let status_now = parse(&http(addr, "GET", "/api/me/second-factor", Some(&token), None).await.1);
    assert_eq!(status_now, json!({"enabled": false, "required": true, "recovery_codes_left": 0}));

    // Setting up: a secret and a QR code, confirmed by the app's first code.
    let (status, text) = http(addr, "POST", "/api/me/second-factor", Some(&token), None).await;
    assert_eq!(status, 201, "{text}");
    let setup = parse(&text);
    assert!(setup["uri"].as_str().unwrap().starts_with("otpauth://totp/kakehashi:sup-a?secret="));
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    let secret = totp::from_base32(setup["secret"].as_str().unwrap()).unwrap();
    let (status, _) =
        http(addr, "POST", "/api/me/second-factor/confirm", Some(&token), Some(r#"{"code": "000000x"}"#)).await;
    assert_eq!(status, 422);
    let first = totp::code_at(&secret, now());
    let (status, text) =
        http(addr, "POST", "/api/me/second-factor/confirm", Some(&token), Some(&json!({"code": first}).to_string()))
            .await;
    assert_eq!(status, 200, "{text}");
    let recovery: Vec<String> = serde_json::from_value(parse(&text)["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);
    // The same session is a full one now.
    assert_eq!(http(addr, "GET", "/api/call-records", Some(&token), None).await.0, 200);
    let (status, _) = http(addr, "POST", "/api/me/second-factor", Some(&token), None).await;
    assert_eq!(status, 409, "no second set-up while one is on");

    // Signing in now needs a code: not none, not a wrong one, not the one already used.
    let (status, text) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", None))).await;
    assert_eq!((status, parse(&text)["error"]["code"].clone()), (401, json!("second_factor_required")));
    let (status, text) =
        http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", Some("123456")))).await;
    assert_eq!((status, parse(&text)["error"]["code"].clone()), (401, json!("unauthorized")));
    let (status, _) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", Some(&first)))).await;
    assert_eq!(status, 401, "a code is used once");
    let (status, _) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "wrong", Some(&first)))).await;
    assert_eq!(status, 401);
    // The next step's code works (the app may run a little ahead).
    let next = totp::code_at(&secret, now() + totp::STEP_SECS);
    let (status, text) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", Some(&next)))).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(parse(&text)["second_factor_setup"], false);

    // A recovery code, typed loosely, works once.
    let typed = recovery[0].to_lowercase().replace('-', " ");
    let (status, _) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", Some(&typed)))).await;
    assert_eq!(status, 200);
    let (status, _) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", Some(&typed)))).await;
    assert_eq!(status, 401, "a recovery code is used once");
    let left = parse(&http(addr, "GET", "/api/me/second-factor", Some(&token), None).await.1);
    assert_eq!(left["recovery_codes_left"], 9);

    // Required: its owner cannot remove it; an admin can, for a lost phone.
    let own = json!({"code": recovery[1]}).to_string();
    assert_eq!(http(addr, "DELETE", "/api/me/second-factor", Some(&token), Some(&own)).await.0, 409);
    let path = format!("/api/staff/{sup_id}/second-factor");
    assert_eq!(http(addr, "DELETE", &path, Some(&creds.sup_b), None).await.0, 403, "only admins");
    assert_eq!(http(addr, "DELETE", &path, admin, None).await.0, 204);
    assert_eq!(http(addr, "DELETE", &path, admin, None).await.0, 404);
    let (_, text) = http(addr, "POST", "/api/sign-in", None, Some(&body("sup-a", "pw-sup-a", None))).await;
    assert_eq!(parse(&text)["second_factor_setup"], true, "back to setting one up");
    server.stop().await;
}

#[tokio::test]
async fn interpreters_follow_their_tenant_and_admins_must_by_default() {
    let dir = temp("second-factor-rules");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let addr = server.addr;
    let admin = Some(creds.admin.as_str());
    let interpreter = |login: &str| json!({"role": "interpreter", "login": login, "password": format!("pw-{login}")});
    let setup = |text: String| parse(&text)["second_factor_setup"].clone();
    // i5 serves Kita Town (tenant 2) only.
    let (_, text) = http(addr, "POST", "/api/sign-in", None, Some(&interpreter("i5").to_string())).await;
    assert_eq!(setup(text), false, "optional: a password is enough");
    http(addr, "PUT", "/api/tenants/2/two-factor", admin, Some(r#"{"two_factor": "everyone"}"#)).await;
    let (_, text) = http(addr, "POST", "/api/sign-in", None, Some(&interpreter("i5").to_string())).await;
    let token = parse(&text)["token"].as_str().unwrap().to_string();
    assert_eq!(setup(text), true, "everyone: interpreters too");
    let refused = server.refused::<kakehashi_client::Interpreter>(p::Credential::Session(token), None).await;
    assert_eq!(refused.code, p::ErrorCode::SecondFactorSetup, "no offers before it is set up");
    let (_, text) = http(addr, "POST", "/api/sign-in", None, Some(&interpreter("i1").to_string())).await;
    assert_eq!(setup(text), false, "another tenant's interpreter is not concerned");
    // An admin must, by default (outside the demo).
    let (_, text) = http(addr, "POST", "/api/sign-in", None, Some(&body("root", "pw-root", None))).await;
    let token = parse(&text)["token"].as_str().unwrap().to_string();
    assert_eq!(setup(text), true);
    assert_eq!(http(addr, "GET", "/api/tenants", Some(&token), None).await.0, 403);
    server.stop().await;
}
