//! The operator's routes where the operator decides (issue 18): with `private_listen`,
//! `/metrics` and the admin API and page answer only there, the public listener serves
//! everyone else's routes; with `metrics_token`, `/metrics` asks for it.

use crate::support::*;

#[tokio::test]
async fn with_a_private_listener_the_operator_routes_are_only_there() {
    let dir = temp("private-listener");
    let creds = seed(&dir).await;
    let private = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let server = Server::start_with(dir, |c| kakehashi::config::Config { private_listen: Some(private), ..c }).await;
    let admin = Some(creds.admin.as_str());
    // The public listener: everyone's routes, not the operator's.
    assert_eq!(http(server.addr, "GET", "/healthz", None, None).await.0, 200);
    assert_eq!(http(server.addr, "GET", "/desk/", None, None).await.0, 200);
    assert_eq!(http(server.addr, "GET", "/metrics", None, None).await.0, 404);
    assert_eq!(http(server.addr, "GET", "/api/tenants", admin, None).await.0, 404);
    assert_eq!(http(server.addr, "GET", "/admin/", None, None).await.0, 404);
    // The private one: those too, and signing in, for the admin page.
    let (status, metrics) = http(private, "GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("kakehashi_"), "{metrics}");
    assert_eq!(http(private, "GET", "/api/tenants", admin, None).await.0, 200);
    assert_eq!(http(private, "GET", "/admin/", None, None).await.0, 200);
    assert_eq!(http(private, "GET", "/readyz", None, None).await.0, 200);
    let sign_in = r#"{"role": "staff", "login": "nobody", "password": "wrong-password"}"#;
    assert_eq!(http(private, "POST", "/api/sign-in", None, Some(sign_in)).await.0, 401);
    server.stop().await;
}

#[tokio::test]
async fn a_metrics_token_is_asked_for() {
    let dir = temp("metrics-token");
    seed(&dir).await;
    let token = "scrape-me-0123456789abcdef";
    let server =
        Server::start_with(dir, |c| kakehashi::config::Config { metrics_token: Some(token.into()), ..c }).await;
    assert_eq!(http(server.addr, "GET", "/metrics", None, None).await.0, 401);
    assert_eq!(http(server.addr, "GET", "/metrics", Some("scrape-me-0123456789abcdeX"), None).await.0, 401);
    let (status, metrics) = http(server.addr, "GET", "/metrics", Some(token), None).await;
    assert_eq!(status, 200);
    promtool_accepts(&metrics).await;
    server.stop().await;
}
