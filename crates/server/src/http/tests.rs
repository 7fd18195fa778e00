//! The router alone, called with `tower::ServiceExt::oneshot`: no listener, no hub (a
//! router that says the writer is unavailable stands in for it).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kakehashi_protocol as p;
use tokio::sync::mpsc;
use tower::ServiceExt;

use crate::app::App;
use crate::calls::{Client, InviteInfo, MemberKey};
use crate::cluster::{Router, Unavailable};
use crate::hub::{Attached, MemberIn, Out, Outbox};

/// A writer that is never there.
#[derive(Debug)]
struct Away;

#[async_trait::async_trait]
impl Router for Away {
    async fn attach(
        &self,
        _: Client,
        _: u64,
        _: Outbox,
        _: Option<String>,
        _: Option<u64>,
    ) -> Result<Attached, Unavailable> {
        Err(Unavailable)
    }
    async fn detach(&self, _: Client, _: u64, _: u64, _: bool) {}
    async fn desk(&self, _: i64, _: i64, _: p::DeskCommand) -> Result<(), p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn interpreter(&self, _: i64, _: p::InterpreterCommand) -> Result<(), p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn join(
        &self,
        _: String,
        _: Option<String>,
        _: u64,
        _: mpsc::Sender<Out<p::ResidentEvent>>,
    ) -> Result<MemberIn, p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn member(&self, _: MemberKey, _: p::ResidentCommand) -> Result<(), p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn member_left(&self, _: MemberKey, _: u64) {}
    async fn redeem_pin(&self, _: String) -> Result<Option<(String, String)>, Unavailable> {
        Ok(None)
    }

    async fn gateway(&self, _: u64, _: Option<tokio::sync::mpsc::Sender<crate::hub::Out<p::GatewayEvent>>>) {}

    async fn dial_failed(&self, _: u64, _: p::DialFailure) {}
    async fn line_call(&self, _: u64, _: u64, _: i64, _: String) {}
    async fn line_hangup(&self, _: u64, _: u64) {}
    async fn offer_answer(&self, _: u64, _: bool) -> Result<bool, Unavailable> {
        Err(Unavailable)
    }

    async fn peek_invite(&self, _: String) -> Result<Option<InviteInfo>, Unavailable> {
        Ok(None)
    }
    async fn snapshot(&self, _: Option<i64>) -> Result<p::SupervisorEvent, Unavailable> {
        Err(Unavailable)
    }
    async fn directory(&self, _: crate::cluster::DirectoryEdit) -> Result<(), p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn booking(&self, _: crate::cluster::BookingEdit) -> Result<Option<i64>, p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn assign(&self, _: Option<i64>, _: u64, _: i64) -> Result<(), p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn notice(&self, _: Vec<i64>, _: p::InterpreterEvent) {}
    async fn online_call(&self, _: i64, _: String, _: String) -> Result<(), p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn online_withdraw(&self, _: String) -> Result<(), p::ProtocolError> {
        Err(Unavailable.into())
    }
    async fn centre(
        &self,
        _: i64,
        _: i64,
        _: Option<kakehashi_dispatch::LanguageId>,
    ) -> Result<crate::calls::CentreView, Unavailable> {
        Err(Unavailable)
    }
    async fn kick(&self, _: Client) {}
    async fn drain(&self) {}
    async fn live_calls(&self) -> Result<usize, Unavailable> {
        Ok(0)
    }
}

async fn app(tag: &str) -> (App, String) {
    let dir = std::env::temp_dir().join(format!("kakehashi-router-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = crate::store::Store::open(&dir).await.unwrap();
    store.insert_staff("root", "admin", None, &crate::auth::hash_password("pw-root").unwrap()).await.unwrap();
    let attempt =
        crate::auth::Attempt { kind: crate::store::AccountKind::Staff, login: "root", password: "pw-root", code: None };
    let terms = crate::auth::Terms { ttl: std::time::Duration::from_secs(600), admins_two_factor: false };
    let admin = crate::auth::sign_in(&store, attempt, terms).await.unwrap().token;
    let (_, closing) = tokio::sync::watch::channel(false);
    let config = crate::config::Config { data_dir: dir, ..crate::config::Config::default() };
    (App::new(config, store, crate::metrics::Metrics::new(), std::sync::Arc::new(Away), closing), admin)
}

async fn call(app: &App, method: &str, path: &str, bearer: Option<&str>, body: &str) -> (StatusCode, String) {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let response = super::router(app.clone(), super::Surface::All)
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).to_string())
}

#[tokio::test]
async fn routes_answer_with_the_right_status_and_a_coded_error() {
    let (app, admin) = app("routes").await;
    assert_eq!(call(&app, "GET", "/healthz", None, "").await, (StatusCode::OK, "ok".into()));
    assert_eq!(call(&app, "GET", "/readyz", None, "").await.0, StatusCode::OK);
    let (status, body) = call(&app, "GET", "/api/tenants", None, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "unauthorized");
    assert_eq!(call(&app, "GET", "/api/tenants", Some(&admin), "").await, (StatusCode::OK, "[]".into()));
    let (status, body) = call(&app, "POST", "/api/tenants", Some(&admin), r#"{"name":"X"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("foreign_residents"), "{body}");
    // A change the writer cannot take: stored, then 503 with a coded error, no detail.
    let (status, body) = call(
        &app,
        "POST",
        "/api/tenants",
        Some(&admin),
        r#"{"name":"Sakura Town","foreign_residents":900,"time_zone":"Asia/Tokyo"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("shutting_down"), "{body}");
    assert_eq!(call(&app, "GET", "/api/invites/abc", None, "").await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, "GET", "/api/openapi.json", None, "").await.0, StatusCode::OK);
    assert_eq!(call(&app, "GET", "/nowhere", None, "").await.0, StatusCode::NOT_FOUND);
}
