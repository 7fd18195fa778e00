//! The server end to end: real WebSocket clients (tokio-tungstenite) and HTTP against
//! `kakehashi` on 127.0.0.1, port 0, with its SQLite store in a temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kakehashi::auth::{Policy, hash_password, hash_token};
use kakehashi::config::Config;
use kakehashi::directory::{InterpreterRow, RosterDoc};
use kakehashi::store::Store;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const POLICY: Policy = Policy { lockout_after: 5, lockout_ms: 60_000, session_ms: 3_600_000 };

struct Server {
    addr: std::net::SocketAddr,
    dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// Credentials of the test directory: tenant 1 (two desks, interpreters 1-3 for
/// Vietnamese, 4 for Portuguese) and tenant 2 (one desk, interpreter 5 for Vietnamese).
struct Creds {
    desk_a1: String,
    desk_a2: String,
    desk_b: String,
    interp: Vec<String>,
    sup_a: String,
    sup_b: String,
    admin: String,
}

/// A staff interpreter of one language in one tenant, on duty all the time.
fn staff(login: &str, language: &str, tenant: i64) -> InterpreterRow {
    InterpreterRow {
        id: 0,
        login: login.into(),
        tier: "staff".into(),
        languages: vec![language.into()],
        modalities: vec!["video".into(), "audio".into()],
        specialities: vec![],
        tenants: vec![tenant],
        shared_pool: false,
        roster: RosterDoc { always: true, ..RosterDoc::default() },
    }
}

async fn seed(dir: &std::path::Path) -> Creds {
    let store = Store::open(dir).await.unwrap();
    let a = store.insert_tenant("Asahi City", 20_000, "Asia/Tokyo").await.unwrap();
    let b = store.insert_tenant("Kita Town", 1_000, "Asia/Tokyo").await.unwrap();
    let mut desks = Vec::new();
    for (tenant, code) in [(a, "CODEA1"), (a, "CODEA2"), (b, "CODEB1")] {
        store.insert_desk(tenant, "desk", &hash_token(code)).await.unwrap();
        desks.push(store.enrol_desk(code).await.unwrap().2);
    }
    let mut interp = Vec::new();
    for (login, lang, tenant) in [("i1", "vi", a), ("i2", "vi", a), ("i3", "vi", a), ("i4", "pt", a), ("i5", "vi", b)] {
        store
            .insert_interpreter(&staff(login, lang, tenant), &hash_password(&format!("pw-{login}")).unwrap())
            .await
            .unwrap();
        interp.push(store.sign_in(false, login, &format!("pw-{login}"), POLICY).await.unwrap().1);
    }
    store.insert_staff("sup-a", "supervisor", Some(a), &hash_password("pw-sup-a").unwrap()).await.unwrap();
    store.insert_staff("sup-b", "supervisor", Some(b), &hash_password("pw-sup-b").unwrap()).await.unwrap();
    let sup_a = store.sign_in(true, "sup-a", "pw-sup-a", POLICY).await.unwrap().1;
    let sup_b = store.sign_in(true, "sup-b", "pw-sup-b", POLICY).await.unwrap().1;
    store.insert_staff("root", "admin", None, &hash_password("pw-root").unwrap()).await.unwrap();
    let admin = store.sign_in(true, "root", "pw-root", POLICY).await.unwrap().1;
    Creds {
        desk_a1: desks[0].clone(),
        desk_a2: desks[1].clone(),
        desk_b: desks[2].clone(),
        interp,
        sup_a,
        sup_b,
        admin,
    }
}

impl Server {
    async fn start(dir: PathBuf) -> Server {
        Server::start_with(dir, |c| c).await
    }

    async fn start_with(dir: PathBuf, tweak: impl FnOnce(Config) -> Config) -> Server {
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("kakehashi=debug").try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = tweak(Config {
            listen: addr,
            data_dir: dir.clone(),
            drain_secs: 2,
            media_listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            kakehashi::serve::serve_on(listener, config, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server { addr, dir, stop: Some(stop), task }
    }

    async fn stop(mut self) -> PathBuf {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(15), &mut self.task).await.expect("server stops").unwrap();
        self.dir.clone()
    }

    async fn connect(&self, credential: Value) -> Client {
        self.hello(json!({"type": "hello", "protocol": 1, "credential": credential})).await.0
    }

    /// Connect with this hello; the client and the welcome.
    async fn hello(&self, hello: Value) -> (Client, Value) {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", self.addr)).await.unwrap();
        let mut c = Client { ws };
        c.send(hello).await;
        let w = c.recv().await;
        assert_eq!(w["type"], "welcome", "{w}");
        (c, w)
    }

    async fn desk(&self, token: &str) -> Client {
        self.connect(json!({"desk_token": token})).await
    }

    async fn interpreter(&self, token: &str) -> Client {
        let mut c = self.connect(json!({"session": token})).await;
        assert_eq!(c.recv().await["presence"], "offline");
        c.send(json!({"type": "set_availability", "availability": "available"})).await;
        assert_eq!(c.expect("presence").await["presence"], "available");
        c
    }

    async fn records(&self, supervisor: &str) -> Vec<Value> {
        let body = http(self.addr, "GET", "/api/call-records", Some(supervisor), None).await;
        serde_json::from_str::<Vec<Value>>(&body.1).unwrap_or_else(|_| panic!("{body:?}"))
    }

    /// Whether a record with this outcome appears within 5 s (records are written just
    /// after the engine decides).
    async fn eventually_record(&self, supervisor: &str, outcome: &str) -> bool {
        for _ in 0..50 {
            if self.records(supervisor).await.iter().any(|r| r["outcome"] == outcome) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    async fn metrics(&self) -> String {
        http(self.addr, "GET", "/metrics", None, None).await.1
    }
}

/// A bare HTTP/1.1 request: (status, body).
async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    let auth = bearer.map(|t| format!("authorization: Bearer {t}\r\n")).unwrap_or_default();
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|x| x.1.to_string()).unwrap_or_default();
    // Chunked bodies: keep the JSON part.
    let body = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) if !path.starts_with("/metrics") && !path.ends_with("z") => body[a..=b].to_string(),
        _ => body,
    };
    (status, body)
}

/// A desk asks for `language`, the interpreter accepts: the call's number.
async fn answered_call(desk: &mut Client, interpreter: &mut Client, language: &str) -> u64 {
    desk.send(json!({"type": "request_interpreter", "language": language})).await;
    let call = desk.expect("queued").await["request"].as_u64().unwrap();
    let offer = interpreter.expect("offer").await;
    interpreter.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    assert_eq!(desk.expect("assigned").await["call"].as_u64(), Some(call));
    assert_eq!(interpreter.expect("assigned").await["call"].as_u64(), Some(call));
    call
}

/// `promtool check metrics` (Debian's prometheus package; ./scripts/test.sh installs it).
async fn promtool_accepts(metrics: &str) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package prometheus; ./scripts/test.sh installs it)");
    child.stdin.take().unwrap().write_all(metrics.as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && report.trim().is_empty(), "promtool check metrics: {report}");
}

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    async fn send(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn send_raw(&mut self, s: String) {
        self.ws.send(Message::text(s)).await.unwrap();
    }

    /// The next text frame as JSON (pings are skipped).
    async fn recv(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await.expect("a frame within 5 s");
            match msg {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Frames until one of type `kind` (skipping presence and position updates).
    async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == kind {
                return v;
            }
            assert!(
                matches!(v["type"].as_str(), Some("presence" | "position" | "offer_closed")),
                "expected {kind}, got {v}"
            );
        }
    }

    /// Whether the server closed the connection (within 5 s).
    async fn closed(&mut self) -> bool {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await {
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
                Err(_) => return false,
            }
        }
    }
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kakehashi-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::test]
async fn whole_lifecycle_records_and_metrics() {
    let dir = temp("lifecycle");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    assert_eq!(http(server.addr, "GET", "/healthz", None, None).await, (200, "ok".into()));
    assert_eq!(http(server.addr, "GET", "/readyz", None, None).await.0, 200);

    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let q = desk.expect("queued").await;
    assert_eq!(q["ringing"], true);
    let request = q["request"].as_u64().unwrap();
    let offer = i1.expect("offer").await;
    assert_eq!(
        (offer["tenant"].as_str(), offer["language"].as_str(), offer["modality"].as_str()),
        (Some("Asahi City"), Some("vi"), Some("video"))
    );
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    let a = desk.expect("assigned").await;
    assert_eq!(a["call"].as_u64(), Some(request));
    assert_eq!(i1.expect("assigned").await["call"].as_u64(), Some(request));

    desk.send(json!({"type": "end_call", "call": request})).await;
    assert_eq!(desk.expect("call_ended").await["by"], "desk");
    assert_eq!(i1.expect("call_ended").await["by"], "desk");
    // The record is committed before call_ended is sent.
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(
        (r["outcome"].as_str(), r["language"].as_str(), r["tier"].as_str(), r["offers"].as_i64()),
        (Some("answered"), Some("vi"), Some("staff"), Some(1))
    );
    let at = |k: &str| r[k].as_i64().unwrap();
    assert!(
        at("requested_at") <= at("offered_at")
            && at("offered_at") <= at("answered_at")
            && at("answered_at") <= at("ended_at"),
        "{r}"
    );
    let text = r.to_string();
    assert!(!text.contains("i1") && !text.contains("Asahi"), "no names in call records: {text}");
    desk.send(json!({"type": "record_outcome", "call": request, "outcome": "resolved"})).await;
    desk.expect("outcome_recorded").await;
    assert_eq!(server.records(&creds.sup_a).await[0]["desk_outcome"], "resolved");

    let m = server.metrics().await;
    assert!(m.contains(r#"kakehashi_requests_total{language="vi",outcome="answered",tenant="Asahi City"} 1"#), "{m}");
    assert!(m.contains(r#"kakehashi_offers_total{outcome="accepted"} 1"#));
    assert!(m.contains(r#"kakehashi_queue_wait_seconds_count{language="vi"} 1"#));
    assert!(m.contains(r#"kakehashi_queue_wait_seconds_bucket{language="vi",le="10"} 1"#));
    assert!(m.contains("kakehashi_call_duration_seconds_count 1"));
    assert!(m.contains(r#"kakehashi_ws_connections{role="desk"} 1"#));
    promtool_accepts(&m).await;
    server.stop().await;
}

#[tokio::test]
async fn decline_goes_to_the_next_interpreter_and_cancel_is_recorded() {
    let dir = temp("decline");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut i2 = server.interpreter(&creds.interp[1]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let request = desk.expect("queued").await["request"].as_u64().unwrap();
    let o1 = i1.expect("offer").await;
    i1.send(json!({"type": "decline", "offer": o1["offer"]})).await;
    assert_eq!(i1.expect("offer_closed").await["reason"], "declined");
    let o2 = i2.expect("offer").await;
    // Declining twice, or accepting someone else's offer, is refused and changes nothing.
    i1.send(json!({"type": "accept", "offer": o2["offer"]})).await;
    assert_eq!(i1.expect("error").await["code"], "not_found");
    desk.send(json!({"type": "cancel_request", "request": request})).await;
    desk.expect("cancelled").await;
    assert_eq!(i2.expect("offer_closed").await["reason"], "request_ended");
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records[0]["outcome"], "abandoned");
    assert_eq!(records[0]["offers"], 2);
    assert!(server.metrics().await.contains(r#"kakehashi_offers_total{outcome="declined"} 1"#));
    server.stop().await;
}

#[tokio::test]
async fn nobody_for_the_language_is_told_at_once() {
    let dir = temp("unserved");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(json!({"type": "request_interpreter", "language": "km"})).await;
    let u = desk.expect("unserved").await;
    assert_eq!(u["suggestion"]["kind"], "phone");
    // Vietnamese interpreters exist but none is signed in: the rostered one is suggested.
    desk.send(json!({"type": "request_interpreter", "language": "pt-BR"})).await;
    assert_eq!(desk.expect("unserved").await["type"], "unserved");
    assert_eq!(server.records(&creds.sup_a).await.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn tenants_are_isolated() {
    let dir = temp("tenants");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i5 = server.interpreter(&creds.interp[4]).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk_a = server.desk(&creds.desk_a1).await;
    let mut desk_a2 = server.desk(&creds.desk_a2).await;
    let mut desk_b = server.desk(&creds.desk_b).await;
    desk_a.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let request = desk_a.expect("queued").await["request"].as_u64().unwrap();
    // Tenant 1's request goes to its own interpreter, never to tenant 2's.
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    desk_a.expect("assigned").await;
    // Another tenant's desk, and even another desk of the same tenant, cannot touch it.
    for d in [&mut desk_b, &mut desk_a2] {
        d.send(json!({"type": "end_call", "call": request})).await;
        assert_eq!(d.expect("error").await["code"], "not_found");
        d.send(json!({"type": "cancel_request", "request": request})).await;
        assert_eq!(d.expect("error").await["code"], "not_found");
    }
    // Tenant 2's interpreter cannot end tenant 1's call.
    i5.send(json!({"type": "end_call", "call": request})).await;
    assert_eq!(i5.expect("error").await["code"], "not_found");
    desk_a.send(json!({"type": "end_call", "call": request})).await;
    desk_a.expect("call_ended").await;
    // Records: tenant 2's supervisor sees none of tenant 1's; an outcome for another
    // tenant's call is refused.
    assert_eq!(server.records(&creds.sup_a).await.len(), 1);
    assert!(server.records(&creds.sup_b).await.is_empty());
    for d in [&mut desk_b, &mut desk_a2] {
        d.send(json!({"type": "record_outcome", "call": request, "outcome": "resolved"})).await;
        assert_eq!(d.expect("error").await["code"], "not_found", "only the desk that had the call");
    }
    // An interpreter's session is not a supervisor's.
    let (status, _) = http(server.addr, "GET", "/api/call-records", Some(&creds.interp[0]), None).await;
    assert_eq!(status, 403);
    let (status, _) = http(server.addr, "GET", "/api/call-records", Some("forged"), None).await;
    assert_eq!(status, 401);
    // Neither an interpreter's session nor a desk's device token opens the directory.
    for token in [&creds.interp[0], &creds.desk_a1] {
        let (status, _) = http(server.addr, "GET", "/api/tenants", Some(token), None).await;
        assert!(status == 401 || status == 403, "{status}");
        let body = r#"{"name":"Evil","foreign_residents":1,"time_zone":"Asia/Tokyo"}"#;
        let (status, _) = http(server.addr, "POST", "/api/tenants", Some(token), Some(body)).await;
        assert!(status == 401 || status == 403, "{status}");
    }
    // A supervisor sees their own tenant and the interpreters serving it, no others.
    let (_, text) = http(server.addr, "GET", "/api/tenants", Some(&creds.sup_b), None).await;
    let tenants: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0]["name"], "Kita Town");
    let (_, text) = http(server.addr, "GET", "/api/interpreters", Some(&creds.sup_b), None).await;
    let logins: Vec<String> = serde_json::from_str::<Vec<Value>>(&text)
        .unwrap()
        .iter()
        .map(|i| i["login"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logins, vec!["i5".to_string()]);
    // Signing out ends the session at once.
    assert_eq!(http(server.addr, "POST", "/api/sign-out", Some(&creds.sup_b), None).await.0, 204);
    assert_eq!(http(server.addr, "GET", "/api/tenants", Some(&creds.sup_b), None).await.0, 401);
    assert_eq!(http(server.addr, "POST", "/api/sign-out", Some(&creds.sup_b), None).await.0, 401);
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_coded_error_and_the_connection_stays() {
    let dir = temp("badinput");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    for (frame, code) in [
        ("{not json", "bad_json"),
        (r#"{"type":"launch"}"#, "unknown_type"),
        (r#"{"type":"request_interpreter"}"#, "invalid_field"),
        (r#"{"type":"request_interpreter","language":"xx-not-a-language"}"#, "invalid_field"),
        (r#"{"type":"accept","offer":1}"#, "unknown_type"),
        (r#"{"type":"cancel_request","request":999}"#, "not_found"),
        (r#"{"type":"sdp","call":1,"description":{"kind":"offer","sdp":"v=0"}}"#, "not_found"),
    ] {
        desk.send_raw(frame.to_string()).await;
        let e = desk.expect("error").await;
        assert_eq!(e["code"], code, "{frame}: {e}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    desk.send(json!({"type": "ping"})).await;
    desk.expect("pong").await;
    // Flooding is rate-limited (20 a second, bursts of 40), and the connection stays.
    for _ in 0..80 {
        desk.send(json!({"type": "ping"})).await;
    }
    let (mut pongs, mut limited) = (0, 0);
    for _ in 0..80 {
        match desk.recv().await["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") => limited += 1,
            other => panic!("{other:?}"),
        }
    }
    // The burst was partly spent by the frames before: at most 40 get through, and at
    // least the 40 beyond the burst are refused (less what refills meanwhile).
    assert!(pongs <= 45 && limited >= 30, "{pongs} pongs, {limited} refused");
    tokio::time::sleep(Duration::from_secs(2)).await; // the bucket refills

    // Too large a frame ends that connection only.
    let mut other = server.desk(&creds.desk_a2).await;
    other.send_raw(format!(r#"{{"type":"ice","call":1,"candidate":"{}"}}"#, "a".repeat(70 * 1024))).await;
    assert!(other.closed().await);
    desk.send(json!({"type": "ping"})).await;
    desk.expect("pong").await;

    // Wrong version, bad credentials: an error, then the connection closes.
    for hello in [
        json!({"type": "hello", "protocol": 99, "credential": {"desk_token": creds.desk_a1}}),
        json!({"type": "hello", "protocol": 1, "credential": {"desk_token": "forged"}}),
        json!({"type": "hello", "protocol": 1, "credential": {"session": "forged"}}),
        json!({"type": "hello", "protocol": 1}),
    ] {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.unwrap();
        let mut c = Client { ws };
        c.send(hello.clone()).await;
        let e = c.recv().await;
        assert_eq!(e["type"], "error", "{hello}");
        assert!(["protocol_version", "unauthorized", "invalid_field"].contains(&e["code"].as_str().unwrap()));
        assert!(c.closed().await);
    }
    // Bad API bodies name the field.
    let (status, body) =
        http(server.addr, "POST", "/api/sign-in", None, Some(r#"{"role":"interpreter","login":"i1"}"#)).await;
    assert_eq!(status, 400);
    assert!(body.contains("password"), "{body}");
    let (status, _) = http(server.addr, "POST", "/api/enrol", None, Some(r#"{"code":"CODEA1"}"#)).await;
    assert_eq!(status, 401, "an enrolment code works once");
    server.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_every_acknowledged_record() {
    let dir = temp("restart");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    for _ in 0..3 {
        let request = answered_call(&mut desk, &mut i1, "vi").await;
        i1.send(json!({"type": "end_call", "call": request})).await;
        assert_eq!(desk.expect("call_ended").await["by"], "interpreter");
        i1.expect("call_ended").await;
        i1.send(json!({"type": "set_availability", "availability": "available"})).await;
    }
    drop((desk, i1));
    let dir = server.stop().await;
    let server = Server::start(dir).await;
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r["outcome"] == "answered"));
    server.stop().await;
}

#[tokio::test]
async fn supervisors_see_their_own_tenant_live() {
    let dir = temp("supervisor");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut desk_a = server.desk(&creds.desk_a1).await;
    let mut i4 = server.interpreter(&creds.interp[3]).await;
    // One Portuguese call in progress, and one Portuguese request waiting behind it.
    desk_a.send(json!({"type": "request_interpreter", "language": "pt"})).await;
    desk_a.expect("queued").await;
    let offer = i4.expect("offer").await;
    i4.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    desk_a.expect("assigned").await;
    desk_a.send(json!({"type": "request_interpreter", "language": "pt"})).await;
    let q = desk_a.expect("queued").await;
    assert_eq!((q["ringing"].as_bool(), q["position"].as_u64()), (Some(false), Some(0)));
    let mut sup_a = server.connect(json!({"session": creds.sup_a})).await;
    sup_a.send(json!({"type": "subscribe"})).await;
    let snap = sup_a.expect("snapshot").await;
    let pt = snap["languages"].as_array().unwrap().iter().find(|l| l["language"] == "pt").unwrap().clone();
    assert_eq!((pt["waiting"].as_u64(), pt["staffed"].as_u64(), pt["idle"].as_u64()), (Some(1), Some(1), Some(0)));
    let mut sup_b = server.connect(json!({"session": creds.sup_b})).await;
    sup_b.send(json!({"type": "subscribe"})).await;
    let snap = sup_b.expect("snapshot").await;
    // Tenant 2 has one interpreter (Vietnamese, signed out): it sees neither tenant 1's
    // Portuguese queue nor tenant 1's interpreters, busy or not.
    let languages = snap["languages"].as_array().unwrap();
    assert!(languages.iter().all(|l| l["language"] != "pt"), "tenant 1's queue and interpreter leak: {snap}");
    assert_eq!(snap["interpreters"], json!([{"presence": "offline", "count": 1}]), "{snap}");
    let snap = sup_a.expect("snapshot").await;
    let total: u64 = snap["interpreters"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 4, "tenant 1's four interpreters: {snap}");
    server.stop().await;
}

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
    let bad_roster = json!({"login": "x", "password": "a long password", "tier": "staff", "languages": ["ne"],
        "modalities": ["video"], "tenants": [tenant], "roster": {"time_zone": "Asia/Tokyo", "shifts": [{"days": ["fry"], "start": "09:00", "end": "17:00"}]}});
    let (status, text) = http(server.addr, "POST", "/api/interpreters", admin, Some(&bad_roster.to_string())).await;
    assert_eq!(status, 422);
    assert!(text.contains("roster.shifts[0].days"), "{text}");
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
    desk.send(json!({"type": "request_interpreter", "language": "ne"})).await;
    let request = desk.expect("queued").await["request"].as_u64().unwrap();
    n1.expect("offer").await;
    assert_eq!(n1.expect("offer_closed").await["reason"], "missed");
    let offer = n2.expect("offer").await;
    n2.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    desk.expect("assigned").await;
    // A profile change is refused while the interpreter is in a call.
    let profile = json!({"tier": "staff", "languages": ["ne"], "modalities": ["video"], "tenants": [tenant], "roster": {"always": true}});
    let (status, _) =
        http(server.addr, "PUT", &format!("/api/interpreters/{}", ids[1]), admin, Some(&profile.to_string())).await;
    assert_eq!(status, 409);
    // A second miss in a row makes interpreter 1 not ready; the request then waits the
    // maximum (3 s) for interpreter 2, who is busy, and expires.
    desk.send(json!({"type": "request_interpreter", "language": "ne"})).await;
    desk.expect("queued").await;
    n1.expect("offer").await;
    let mut seen = Vec::new();
    loop {
        let v = n1.recv().await;
        seen.push(v.clone());
        if v["type"] == "offer_closed" {
            assert_eq!(v["reason"], "missed");
            break;
        }
    }
    assert!(seen.iter().any(|v| v["presence"] == "not_ready_missed_offers"), "{seen:?}");
    desk.expect("expired").await;
    desk.send(json!({"type": "end_call", "call": request})).await;
    desk.expect("call_ended").await;
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
    // Revoking the desk closes its connection and its token stops working.
    let desks = server.records(&creds.admin).await;
    let desk_id = desks.iter().find(|r| r["outcome"] == "expired").unwrap()["desk"].as_i64().unwrap();
    // (It waits for a Nepali interpreter while it is revoked.)
    desk.send(json!({"type": "request_interpreter", "language": "ne"})).await;
    desk.expect("queued").await;
    let (status, _) = http(server.addr, "DELETE", &format!("/api/desks/{desk_id}"), admin, None).await;
    assert_eq!(status, 204);
    assert!(desk.closed().await);
    assert!(server.eventually_record(&creds.admin, "abandoned").await, "a revoked desk's wait ends at once");
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.unwrap();
    let mut again = Client { ws };
    again.send(json!({"type": "hello", "protocol": 1, "credential": {"desk_token": desk_token}})).await;
    assert_eq!(again.recv().await["code"], "unauthorized");
    server.stop().await;
}

#[tokio::test]
async fn a_dropped_desk_resumes_its_place_or_loses_it_after_the_grace() {
    let dir = temp("resume");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { resume_grace_secs: 2, ..c }).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut other = server.desk(&creds.desk_a2).await;
    other.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let busy = other.expect("queued").await["request"].as_u64().unwrap();
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    i1.expect("assigned").await;
    other.expect("assigned").await;

    // The desk waits behind that call, drops, and comes back with its resume token.
    let hello = json!({"type": "hello", "protocol": 1, "credential": {"desk_token": creds.desk_a1}});
    let (mut desk, welcome) = server.hello(hello.clone()).await;
    assert_eq!(welcome["resumed"], false);
    let token = welcome["resume_token"].as_str().unwrap().to_string();
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let waiting = desk.expect("queued").await["request"].as_u64().unwrap();
    drop(desk);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut resumed = hello.clone();
    resumed["resume"] = json!(token);
    let (mut desk, welcome) = server.hello(resumed).await;
    assert_eq!(welcome["resumed"], true);
    let pos = desk.expect("position").await;
    assert_eq!((pos["request"].as_u64(), pos["position"].as_u64()), (Some(waiting), Some(0)));
    // Still in the queue: when the interpreter is free, the resumed desk gets the call.
    other.send(json!({"type": "end_call", "call": busy})).await;
    other.expect("call_ended").await;
    i1.expect("call_ended").await;
    i1.send(json!({"type": "set_availability", "availability": "available"})).await;
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    assert_eq!(desk.expect("assigned").await["request"].as_u64(), Some(waiting));

    // A desk that does not come back within the grace loses its waiting request.
    other.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let lost = other.expect("queued").await["request"].as_u64().unwrap();
    drop(other);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        server.eventually_record(&creds.sup_a, "abandoned").await,
        "request {lost} was abandoned after the grace period"
    );
    // A wrong resume token is a fresh start, not a takeover.
    let mut forged = hello;
    forged["resume"] = json!("0000");
    let (_, welcome) = server.hello(forged).await;
    assert_eq!(welcome["resumed"], false);
    server.stop().await;
}

#[tokio::test]
async fn invite_links_are_single_use_expire_and_die_with_the_call() {
    let dir = temp("invite");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { invite_ttl_secs: 2, ..c }).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let call = desk.expect("queued").await["request"].as_u64().unwrap();
    // Not before the call has started.
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    assert_eq!(desk.expect("error").await["code"], "not_allowed");
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    desk.expect("assigned").await;
    i1.expect("assigned").await;

    let invite = |d: Value| d["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let inv = desk.expect("invite").await;
    assert!(inv["url"].as_str().unwrap().starts_with(&format!("http://{}/join/", server.addr)), "{inv}");
    assert!(inv["qr_svg"].as_str().unwrap().contains("<svg"), "a QR code as SVG");
    let token = invite(inv);
    let (mut resident, _) =
        server.hello(json!({"type": "hello", "protocol": 1, "credential": {"invite": token}})).await;
    assert_eq!(resident.expect("joined").await["language"], "vi");
    assert_eq!(desk.expect("participant_joined").await["party"], "resident");
    assert_eq!(i1.expect("participant_joined").await["party"], "resident");
    // Single use.
    let refused = |server_addr: std::net::SocketAddr, token: String| async move {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{server_addr}/ws")).await.unwrap();
        let mut c = Client { ws };
        c.send(json!({"type": "hello", "protocol": 1, "credential": {"invite": token}})).await;
        let e = c.recv().await;
        assert_eq!((e["type"].as_str(), e["code"].as_str()), (Some("error"), Some("unauthorized")), "{e}");
        assert!(c.closed().await);
    };
    refused(server.addr, token).await;
    // Expiry (2 s here).
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let stale = invite(desk.expect("invite").await);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    refused(server.addr, stale).await;
    // The resident leaves; the others are told.
    resident.send(json!({"type": "leave"})).await;
    assert_eq!(resident.expect("call_ended").await["type"], "call_ended");
    assert_eq!(desk.expect("participant_left").await["party"], "resident");
    // A second resident is in the call when it ends; a link made before the end dies with it.
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let second = invite(desk.expect("invite").await);
    let (mut resident2, _) =
        server.hello(json!({"type": "hello", "protocol": 1, "credential": {"invite": second}})).await;
    resident2.expect("joined").await;
    desk.expect("participant_joined").await;
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let unused = invite(desk.expect("invite").await);
    desk.send(json!({"type": "end_call", "call": call})).await;
    desk.expect("call_ended").await;
    assert_eq!(resident2.expect("call_ended").await["type"], "call_ended");
    refused(server.addr, unused).await;
    assert_eq!(server.records(&creds.sup_a).await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_silent_client_is_dropped_and_its_wait_abandoned() {
    let dir = temp("silent");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { heartbeat_secs: 1, resume_grace_secs: 1, ..c }).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut other = server.desk(&creds.desk_a2).await;
    other.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    other.expect("queued").await;
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    desk.expect("queued").await;
    // The desk's device goes silent: it answers no pings (this client reads nothing).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        server.eventually_record(&creds.sup_a, "abandoned").await,
        "three missed heartbeats and the grace period end the silent desk's wait"
    );
    drop((desk, other, i1));
    server.stop().await;
}

/// The binary as a child process, killed without warning.
struct Child {
    process: tokio::process::Child,
    addr: std::net::SocketAddr,
}

async fn spawn_binary(dir: &std::path::Path) -> Child {
    use tokio::io::AsyncBufReadExt;
    let mut process = tokio::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir)
        .env("KAKEHASHI_LOG", "info")
        .env("KAKEHASHI_MEDIA_LISTEN", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(process.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("the server starts");
        let plain: String =
            line.split('\x1b').map(|part| part.split_once('m').map_or(part, |(_, rest)| rest)).collect();
        if let Some(rest) = plain.split("kakehashi listening addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Child { process, addr }
}

#[tokio::test]
async fn a_crash_loses_no_acknowledged_call_record() {
    let dir = temp("crash");
    let creds = seed(&dir).await;
    let mut child = spawn_binary(&dir).await;
    let server = Server { addr: child.addr, dir: dir.clone(), stop: None, task: tokio::spawn(async {}) };
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    for _ in 0..3 {
        let call = answered_call(&mut desk, &mut i1, "vi").await;
        desk.send(json!({"type": "end_call", "call": call})).await;
        desk.expect("call_ended").await;
        i1.expect("call_ended").await;
        i1.send(json!({"type": "set_availability", "availability": "available"})).await;
    }
    // The third end was acknowledged a moment ago: kill -9 now.
    child.process.start_kill().unwrap();
    child.process.wait().await.unwrap();
    drop((desk, i1));
    let child = spawn_binary(&dir).await;
    let server = Server { addr: child.addr, dir, stop: None, task: tokio::spawn(async {}) };
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.len(), 3, "{records:?}");
    assert!(records.iter().all(|r| r["outcome"] == "answered"));
    drop(child);
}

#[tokio::test]
async fn sigterm_drains_live_calls_then_exits() {
    let dir = temp("sigterm");
    let creds = seed(&dir).await;
    let mut child = spawn_binary(&dir).await;
    let server = Server { addr: child.addr, dir: dir.clone(), stop: None, task: tokio::spawn(async {}) };
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let mut other = server.desk(&creds.desk_a2).await;
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let call = desk.expect("queued").await["request"].as_u64().unwrap();
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    desk.expect("assigned").await;
    let pid = child.process.id().unwrap().to_string();
    let status = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
    assert!(status.success());
    // Not ready while draining; no new requests; the live call goes on.
    let mut draining = false;
    for _ in 0..50 {
        if http(server.addr, "GET", "/readyz", None, None).await == (503, "draining".into()) {
            draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(draining);
    assert_eq!(http(server.addr, "GET", "/healthz", None, None).await.0, 200, "alive while draining");
    other.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    assert_eq!(other.expect("error").await["code"], "shutting_down");
    desk.send(json!({"type": "end_call", "call": call})).await;
    desk.expect("call_ended").await;
    // With no live call left the server closes the connections and exits cleanly.
    let exit = tokio::time::timeout(Duration::from_secs(15), child.process.wait()).await.expect("exits").unwrap();
    assert!(exit.success(), "{exit:?}");
    let store = Store::open(&dir).await.unwrap();
    assert_eq!(store.call_records(None).await.unwrap().len(), 1);
}

/// What a participant heard: the publisher and number in the payload, and the RTP
/// header's SSRC and sequence number as the relay sent them.
#[derive(Clone, Copy, Debug)]
struct Heard {
    who: u8,
    video: bool,
    n: u32,
    ssrc: u32,
    seq: u16,
}

/// A payload ending in the markers: kind, publisher, number. Video ones start with a VP8
/// payload descriptor (a keyframe when `key`), so the relay sees real frame boundaries.
fn marked_payload(video: bool, key: bool, who: u8, n: u32) -> bytes::Bytes {
    let mut p = if video { vec![0x10, u8::from(!key)] } else { Vec::new() };
    p.resize(if video { 600 } else { 80 }, 0);
    p.extend_from_slice(&[u8::from(video), who]);
    p.extend_from_slice(&n.to_be_bytes());
    bytes::Bytes::from(p)
}

/// A participant's WebRTC side over its WebSocket.
struct Media {
    track: std::sync::Arc<webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP>,
    video: Option<std::sync::Arc<webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP>>,
    /// When keyframe requests for the video track arrived.
    keyframe_requests: tokio::sync::mpsc::UnboundedReceiver<std::time::Instant>,
    /// When this participant last answered one of the relay's offers.
    answered: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    ssrc: u32,
    connected: tokio::sync::watch::Receiver<bool>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Client>,
}

impl Media {
    /// Send audio or video packet `n` (see [`marked_payload`]), RTP numbering from `n`.
    /// Video is one packet per frame, a keyframe every 25; nothing if it has no video.
    async fn send(&self, video: bool, who: u8, n: u32) {
        use webrtc::media_stream::track_local::TrackLocal;
        let (track, payload_type, ticks, ssrc) = match (video, &self.video) {
            (false, _) => (&self.track, 111, 960, self.ssrc),
            (true, Some(track)) => (track, 96, 3000, self.ssrc + 0x100),
            (true, None) => return,
        };
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                payload_type,
                sequence_number: n as u16,
                timestamp: n * ticks,
                ssrc,
                marker: video,
                ..Default::default()
            },
            payload: marked_payload(video, n % 25 == 0, who, n),
        };
        let _ = track.write_rtp(packet).await;
    }

    /// Wait until the peer connection is connected (at most 10 s).
    async fn until_connected(&mut self) {
        tokio::time::timeout(Duration::from_secs(10), self.connected.wait_for(|c| *c))
            .await
            .expect("connected within 10 s")
            .unwrap();
    }

    /// Close the peer connection (the network went away); the WebSocket comes back.
    async fn hang_up(mut self) -> Client {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap()
    }
}

/// A participant's WebRTC side: publishes one Opus track with SSRC `ssrc` (and a VP8
/// track with `ssrc + 0x100` if `video`), answers the relay's offers over its WebSocket,
/// reports what it hears. Over `tcp` it has only an active ICE-TCP candidate, as behind a
/// firewall that blocks UDP. The call is `Some` for desks and interpreters (residents'
/// messages name none).
async fn media_participant(
    ws: Client,
    call: u64,
    who: u8,
    ssrc: u32,
    tcp: bool,
    heard: tokio::sync::mpsc::UnboundedSender<Heard>,
) -> Media {
    media_participant_with(ws, Some(call), who, ssrc, tcp, false, heard).await
}

async fn media_participant_with(
    mut ws: Client,
    call: Option<u64>,
    who: u8,
    ssrc: u32,
    tcp: bool,
    video: bool,
    heard: tokio::sync::mpsc::UnboundedSender<Heard>,
) -> Media {
    use rtc::media_stream::MediaStreamTrack;
    use rtc::peer_connection::state::RTCPeerConnectionState;
    use rtc::rtp_transceiver::rtp_sender::{
        RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
    };
    use std::sync::Arc;
    use webrtc::media_stream::track_local::TrackLocal;
    use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
    use webrtc::peer_connection::{
        PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceCandidateInit, RTCIceGatheringState,
        RTCSessionDescription,
    };

    struct Handler {
        gathered: tokio::sync::mpsc::UnboundedSender<()>,
        connected: tokio::sync::watch::Sender<bool>,
        heard: tokio::sync::mpsc::UnboundedSender<Heard>,
    }
    #[async_trait::async_trait]
    impl PeerConnectionEventHandler for Handler {
        async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
            if state == RTCIceGatheringState::Complete {
                let _ = self.gathered.send(());
            }
        }
        async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
            let _ = self.connected.send(state == RTCPeerConnectionState::Connected);
        }
        async fn on_track(&self, track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>) {
            let heard = self.heard.clone();
            tokio::spawn(async move {
                while let Some(event) = track.poll().await {
                    if let webrtc::media_stream::track_remote::TrackRemoteEvent::OnRtpPacket(p) = event
                        && let Some(m) = p.payload.len().checked_sub(6).map(|at| &p.payload[at..])
                    {
                        let _ = heard.send(Heard {
                            who: m[1],
                            video: m[0] == 1,
                            n: u32::from_be_bytes([m[2], m[3], m[4], m[5]]),
                            ssrc: p.header.ssrc,
                            seq: p.header.sequence_number,
                        });
                    }
                }
            });
        }
    }
    let (gathered_tx, mut gathered) = tokio::sync::mpsc::unbounded_channel();
    let (connected_tx, connected) = tokio::sync::watch::channel(false);
    let mut media_engine = webrtc::peer_connection::MediaEngine::default();
    media_engine.register_default_codecs().unwrap();
    let mut setting_engine = webrtc::peer_connection::SettingEngineBuilder::new()
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled);
    if tcp {
        setting_engine = setting_engine.with_network_types(vec![rtc::ice::network_type::NetworkType::Tcp4]);
    }
    // The default interceptors, and ours last, which shows keyframe requests to the track.
    let registry =
        webrtc::peer_connection::register_default_interceptors(rtc::interceptor::Registry::new(), &mut media_engine)
            .unwrap()
            .with(rtc::interceptor::Slot::from(kakehashi_relay::FEEDBACK_SLOT), kakehashi_relay::Feedback::default());
    let builder = PeerConnectionBuilder::new()
        .with_setting_engine(setting_engine.build())
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(Handler { gathered: gathered_tx, connected: connected_tx, heard }));
    let builder = if tcp {
        builder.with_tcp_addrs(vec!["127.0.0.1:0"]).with_udp_addrs(Vec::<&str>::new())
    } else {
        builder.with_udp_addrs(vec!["127.0.0.1:0"])
    };
    let pc: Arc<dyn PeerConnection> = Arc::new(builder.build().await.unwrap());
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("p{who}"),
        format!("p{who}-audio"),
        format!("p{who}-audio"),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
            codec: RTCRtpCodec {
                mime_type: "audio/opus".into(),
                clock_rate: 48000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        }],
    )));
    pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.unwrap();
    let (keyframe_tx, keyframe_requests) = tokio::sync::mpsc::unbounded_channel();
    let video = if video {
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("p{who}"),
            format!("p{who}-video"),
            format!("p{who}-video"),
            RtpCodecKind::Video,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc + 0x100), ..Default::default() },
                codec: RTCRtpCodec { mime_type: "video/VP8".into(), clock_rate: 90000, ..Default::default() },
                ..Default::default()
            }],
        )));
        pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.unwrap();
        let watched = Arc::clone(&track);
        tokio::spawn(async move {
            use webrtc::media_stream::track_local::TrackLocalEvent;
            while let Some(event) = watched.poll().await {
                if let TrackLocalEvent::OnRtcpPacket(packets) = event
                    && packets.iter().any(|p| kakehashi_relay::is_keyframe_request(p.as_ref()))
                {
                    let _ = keyframe_tx.send(std::time::Instant::now());
                }
            }
        });
        Some(track)
    } else {
        None
    };
    let answered = Arc::new(std::sync::Mutex::new(None));
    let answered_at = Arc::clone(&answered);
    let offer = pc.create_offer(None).await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), gathered.recv()).await.unwrap();
    let sdp = pc.local_description().await.unwrap().sdp;
    if tcp {
        assert!(sdp.contains("tcptype active") && !sdp.contains(" udp "), "TCP only: {sdp}");
    }
    let sdp_message = move |kind: &str, sdp: String| {
        let mut m = json!({"type": "sdp", "description": {"kind": kind, "sdp": sdp}});
        if let Some(call) = call {
            m["call"] = json!(call);
        }
        m
    };
    ws.send(sdp_message("offer", sdp)).await;
    // Signalling: the relay's answer, then its renegotiation offers, until stopped.
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                next = ws.ws.next() => next,
                _ = &mut stopped => break,
            };
            let t = match next {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => break,
            };
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] != "sdp" {
                continue;
            }
            let sdp = v["description"]["sdp"].as_str().unwrap().to_string();
            if v["description"]["kind"] == "answer" {
                // A browser connects to passive TCP candidates in the answer by itself;
                // this client is told them, as trickled candidates.
                let passive: Vec<String> = sdp
                    .lines()
                    .filter_map(|l| l.strip_prefix("a="))
                    .filter(|l| l.starts_with("candidate:") && l.contains("tcptype passive"))
                    // Component 1 only: RTCP is multiplexed (the answer lists component 2 as well).
                    .filter(|l| l.split_whitespace().nth(1) == Some("1"))
                    .map(str::to_string)
                    .collect();
                pc.set_remote_description(RTCSessionDescription::answer(sdp).unwrap()).await.unwrap();
                if tcp {
                    assert!(!passive.is_empty(), "the relay offers ICE-TCP");
                    for candidate in passive {
                        let init = RTCIceCandidateInit { candidate, ..Default::default() };
                        pc.add_ice_candidate(init).await.unwrap();
                    }
                }
            } else {
                pc.set_remote_description(RTCSessionDescription::offer(sdp).unwrap()).await.unwrap();
                let answer = pc.create_answer(None).await.unwrap();
                pc.set_local_description(answer).await.unwrap();
                let sdp = pc.local_description().await.unwrap().sdp;
                ws.send(sdp_message("answer", sdp)).await;
                *answered_at.lock().unwrap() = Some(std::time::Instant::now());
            }
        }
        let _ = pc.close().await;
        ws
    });
    Media { track, video, keyframe_requests, answered, ssrc, connected, stop: Some(stop), task }
}

/// What arrived on `heard` so far, by publisher.
fn heard_by(heard: &mut tokio::sync::mpsc::UnboundedReceiver<Heard>) -> std::collections::BTreeMap<u8, Vec<Heard>> {
    let mut by: std::collections::BTreeMap<u8, Vec<Heard>> = Default::default();
    while let Ok(h) = heard.try_recv() {
        by.entry(h.who).or_default().push(h);
    }
    by
}

/// A desk and an interpreter in a call, each with media (the interpreter over ICE-TCP if
/// `tcp`), hear each other's 100 packets complete and in order.
async fn two_way_media(tcp: bool) {
    let dir = temp(if tcp { "media-tcp" } else { "media" });
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media_participant(desk, call, 1, 0x5001, false, heard_tx.clone()).await;
    let mut interp_media = media_participant(i1, call, 2, 0x5002, tcp, heard_tx).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    // Each track opens at the relay on its first packet; the renegotiation follows.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..100u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by = heard_by(&mut heard);
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), vec![1, 2], "each hears the other");
    for (who, h) in &by {
        assert!(h.len() >= 90, "{who}: {} of 100", h.len());
        assert!(h.windows(2).all(|w| w[1].n == w[0].n + 1), "{who}: in order, none lost");
    }
    let m = server.metrics().await;
    if tcp {
        assert!(m.contains("kakehashi_media_tcp_connections 1"), "{m}");
    }
    assert!(!m.contains("kakehashi_media_relay_latency_seconds_count 0"), "{m}");
    drop((desk_media, interp_media));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desk_and_interpreter_hear_each_other_through_the_server() {
    two_way_media(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_behind_a_udp_blocking_firewall_connects_over_ice_tcp() {
    two_way_media(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_whose_network_changes_reconnects_and_the_desk_hears_one_stream() {
    let dir = temp("reconnect");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let (desk_tx, mut desk_heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media_participant(desk, call, 1, 0x5001, false, desk_tx).await;
    let mut interp_media = media_participant(i1, call, 2, 0x5002, false, heard_tx.clone()).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..50u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Wi-Fi to cellular: the interpreter's peer connection is gone; a new one, with a new
    // SSRC and numbering from 0 again, offers on the same signalling connection.
    let i1 = interp_media.hang_up().await;
    let mut interp_media = media_participant(i1, call, 2, 0x6002, false, heard_tx).await;
    interp_media.until_connected().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for n in 50..100u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The desk was not renegotiated: one stream from the interpreter, one SSRC, its
    // numbering contiguous across the switch.
    let desk_by = heard_by(&mut desk_heard);
    let from_interp = &desk_by[&2];
    let before = from_interp.iter().filter(|h| h.n < 50).count();
    let after = from_interp.iter().filter(|h| h.n >= 50).count();
    assert!(before >= 45 && after >= 45, "the desk hears the interpreter before ({before}) and after ({after})");
    assert!(from_interp.iter().all(|h| h.ssrc == from_interp[0].ssrc), "one SSRC across the reconnect");
    assert!(
        from_interp.windows(2).all(|w| w[1].seq.wrapping_sub(w[0].seq) == (w[1].n - w[0].n) as u16),
        "RTP numbering continues across the reconnect: {:?}",
        from_interp.iter().map(|h| (h.n, h.seq)).collect::<Vec<_>>()
    );
    // The new peer connection hears the desk.
    let interp_by = heard_by(&mut heard);
    assert!(interp_by.get(&1).is_some_and(|h| h.iter().filter(|h| h.n >= 50).count() >= 45), "{interp_by:?}");
    // The call ends; its record counts the reconnect, and the metrics too.
    let mut desk = desk_media.hang_up().await;
    desk.send(json!({"type": "end_call", "call": call})).await;
    desk.expect("call_ended").await;
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records[0]["reconnects"], 1, "{records:?}");
    let m = server.metrics().await;
    assert!(m.contains(r#"kakehashi_media_reconnects_total{role="interpreter"} 1"#), "{m}");
    assert!(m.contains(r#"kakehashi_media_packets_total{direction="received",kind="audio",role="desk"}"#), "{m}");
    promtool_accepts(&m).await;
    drop(interp_media);
    server.stop().await;
}

/// `n` tenants, each with one desk and one Vietnamese interpreter: (desk token, interpreter
/// session) per tenant, so that `n` calls can run at once without meeting.
async fn seed_lanes(dir: &std::path::Path, n: usize) -> Vec<(String, String)> {
    let store = Store::open(dir).await.unwrap();
    let mut lanes = Vec::new();
    for i in 0..n {
        let tenant = store.insert_tenant(&format!("Town {i}"), 1_000, "Asia/Tokyo").await.unwrap();
        let code = format!("LANE{i}");
        store.insert_desk(tenant, "desk", &hash_token(&code)).await.unwrap();
        let desk = store.enrol_desk(&code).await.unwrap().2;
        let login = format!("lane{i}");
        store.insert_interpreter(&staff(&login, "vi", tenant), &hash_password("pw").unwrap()).await.unwrap();
        let session = store.sign_in(false, &login, "pw", POLICY).await.unwrap().1;
        lanes.push((desk, session));
    }
    lanes
}

/// The child's open file descriptors and resident memory (KiB), from /proc.
fn fds_and_rss(pid: u32) -> (usize, u64) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    (fds, rss)
}

/// One session on a lane: a call, both sides' media (the interpreter over ICE-TCP on odd
/// rounds), packets both ways, then the end of the call and of both peer connections.
async fn lane_session(desk: Client, interpreter: Client, round: usize) -> (Client, Client) {
    let (mut desk, mut interpreter) = (desk, interpreter);
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let mut d = media_participant(desk, call, 1, 0x7001, false, heard_tx.clone()).await;
    let mut i = media_participant(interpreter, call, 2, 0x7002, round % 2 == 1, heard_tx).await;
    d.until_connected().await;
    i.until_connected().await;
    let mut both = false;
    for n in 0..100u32 {
        d.send(false, 1, n).await;
        i.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let by = heard_by(&mut heard);
        if by.len() == 2 {
            both = true;
            break;
        }
    }
    assert!(both, "media flows both ways in round {round}");
    let mut desk = d.hang_up().await;
    let mut interpreter = i.hang_up().await;
    desk.send(json!({"type": "end_call", "call": call})).await;
    desk.expect("call_ended").await;
    interpreter.expect("call_ended").await;
    interpreter.send(json!({"type": "set_availability", "availability": "available"})).await;
    assert_eq!(interpreter.expect("presence").await["presence"], "available");
    (desk, interpreter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_hundred_sessions_file_descriptors_and_memory_return_to_baseline() {
    const LANES: usize = 5;
    let dir = temp("hundred");
    let lanes = seed_lanes(&dir, LANES).await;
    let child = spawn_binary(&dir).await;
    let pid = child.process.id().unwrap();
    let server = Server { addr: child.addr, dir: dir.clone(), stop: None, task: tokio::spawn(async {}) };
    let mut clients = Vec::new();
    for (desk, session) in &lanes {
        clients.push((server.desk(desk).await, server.interpreter(session).await));
    }
    let mut rounds = 0;
    let mut run = |clients: Vec<(Client, Client)>, n: usize| {
        let first = rounds;
        rounds += n;
        async move {
            let mut clients = clients;
            for round in first..first + n {
                let tasks: Vec<_> = clients.into_iter().map(|(d, i)| tokio::spawn(lane_session(d, i, round))).collect();
                clients = Vec::new();
                for t in tasks {
                    clients.push(t.await.unwrap());
                }
            }
            clients
        }
    };
    // Settled: no leg, no ICE-TCP connection left (connections close a moment after the
    // clients' peer connections do).
    let settled = |server: &Server| {
        let addr = server.addr;
        async move {
            for _ in 0..100 {
                let m = http(addr, "GET", "/metrics", None, None).await.1;
                let legs_open = m.lines().any(|l| l.starts_with("kakehashi_media_legs{") && !l.ends_with(" 0"));
                if !legs_open && m.contains("kakehashi_media_tcp_connections 0") {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("legs or ICE-TCP connections left open");
        }
    };
    // Warm-up: two sessions per lane fill the allocator's pools and the lazy statics.
    clients = run(clients, 2).await;
    settled(&server).await;
    let (fds0, rss0) = fds_and_rss(pid);
    // A hundred sessions: twenty rounds of five at once.
    clients = run(clients, 100 / LANES).await;
    settled(&server).await;
    // A descriptor closes a moment after its peer sees the close (the HTTP requests of
    // `settled`), and the store's connection pool opens and closes connections as it
    // likes: take the lowest count over a second.
    let (mut fds1, mut rss1) = fds_and_rss(pid);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (f, r) = fds_and_rss(pid);
        (fds1, rss1) = (fds1.min(f), r);
    }
    let m = server.metrics().await;
    let count = |name: &str| -> f64 {
        m.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
    };
    assert!(count("kakehashi_media_packets_total") > 0.0);
    // A leak of one descriptor a session would show as a hundred. The store's pool (at
    // most 4 SQLite connections, a database and a WAL descriptor each) may hold more
    // connections than at the baseline: up to 6 descriptors.
    assert!(fds1 <= fds0 + 6, "file descriptors back to the baseline: {fds0} → {fds1}");
    // A session costs about 0.6 MiB in the relay alone. Measured growth over the hundred
    // is 0.2 to 0.5 MiB (allocator pools); 3 MiB would be a leak of 30 KiB a session.
    assert!(rss1 <= rss0 + 3 * 1024, "resident memory back to the baseline: {rss0} → {rss1} KiB");
    let records = {
        let store = Store::open(&dir).await.unwrap();
        store.call_records(None).await.unwrap()
    };
    assert_eq!(records.len(), (2 + 100 / LANES) * LANES, "one record per session");
    println!("fds {fds0} -> {fds1}, rss {rss0} -> {rss1} KiB");
    drop((clients, child));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_participants_with_audio_and_video_each_receive_every_other_stream_through_the_server() {
    let dir = temp("three");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let url = desk.expect("invite").await["url"].as_str().unwrap().to_string();
    let token = url.rsplit('/').next().unwrap().to_string();
    let (tx, mut heard_desk) = tokio::sync::mpsc::unbounded_channel();
    let mut d = media_participant_with(desk, Some(call), 1, 0x8001, false, true, tx).await;
    let (tx, mut heard_interp) = tokio::sync::mpsc::unbounded_channel();
    let mut i = media_participant_with(i1, Some(call), 2, 0x8002, false, true, tx).await;
    d.until_connected().await;
    i.until_connected().await;
    // Publishers send all along (a keyframe every 25 frames); each track opens at the
    // relay on its first packet.
    let (d, i) = (Arc::new(tokio::sync::Mutex::new(d)), Arc::new(tokio::sync::Mutex::new(i)));
    let n = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let sending = {
        let (d, i, n) = (Arc::clone(&d), Arc::clone(&i), Arc::clone(&n));
        tokio::spawn(async move {
            loop {
                let k = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                for (who, m) in [(1u8, &d), (2u8, &i)] {
                    let m = m.lock().await;
                    m.send(false, who, k).await;
                    m.send(true, who, k).await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    while d.lock().await.keyframe_requests.try_recv().is_ok() {}
    // The resident joins from the link: it sends its own audio and video from its first
    // packet on, and is given the others' tracks by a renegotiation.
    let (mut resident, _) =
        server.hello(json!({"type": "hello", "protocol": 1, "credential": {"invite": token}})).await;
    assert_eq!(resident.expect("joined").await["language"], "vi");
    let (tx, mut heard_resident) = tokio::sync::mpsc::unbounded_channel();
    let mut r = media_participant_with(resident, None, 3, 0x8003, false, true, tx).await;
    r.until_connected().await;
    let r = Arc::new(tokio::sync::Mutex::new(r));
    let resident_sending = {
        let r = Arc::clone(&r);
        tokio::spawn(async move {
            for k in 0.. {
                {
                    let m = r.lock().await;
                    m.send(false, 3, k).await;
                    m.send(true, 3, k).await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // A keyframe request reaches the desk (a publisher) within 100 ms of the resident
    // answering the renegotiation that gives it the desk's video.
    let pli = tokio::time::timeout(Duration::from_secs(5), async { d.lock().await.keyframe_requests.recv().await })
        .await
        .expect("a keyframe request on the resident's join")
        .unwrap();
    let answered = r.lock().await.answered.lock().unwrap().expect("the resident answered the relay's offer");
    let delay = pli.saturating_duration_since(answered);
    println!("keyframe request reached the desk {delay:?} after the resident's answer");
    assert!(delay <= Duration::from_millis(100), "{delay:?}");
    // Two seconds of everyone sending, then stop and collect.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for rx in [&mut heard_desk, &mut heard_interp, &mut heard_resident] {
        while rx.try_recv().is_ok() {}
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    sending.abort();
    resident_sending.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (me, rx) in [(1u8, &mut heard_desk), (2, &mut heard_interp), (3, &mut heard_resident)] {
        let mut streams: std::collections::BTreeMap<(u8, bool), Vec<Heard>> = Default::default();
        while let Ok(h) = rx.try_recv() {
            streams.entry((h.who, h.video)).or_default().push(h);
        }
        let others: Vec<(u8, bool)> =
            [1u8, 2, 3].into_iter().filter(|w| *w != me).flat_map(|w| [(w, false), (w, true)]).collect();
        assert_eq!(streams.keys().copied().collect::<Vec<_>>(), others, "participant {me} receives every other stream");
        // Two seconds at 50 packets/s per stream: all of them, none missing, in order.
        for ((who, video), h) in &streams {
            let ns: Vec<u32> = h.iter().map(|h| h.n).collect();
            assert!(ns.len() >= 80, "{me} from {who} video={video}: {} packets", ns.len());
            assert!(ns.windows(2).all(|w| w[1] == w[0] + 1), "{me} from {who} video={video}: intact, in order: {ns:?}");
            assert!(h.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1)), "contiguous RTP numbering");
        }
    }
    drop((d, i, r));
    server.stop().await;
}

#[tokio::test]
async fn ice_tcp_connections_that_are_not_ice_or_never_confirmed_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tcp: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let server = Server::start_with(temp("tcp-garbage"), |c| Config { media_tcp_listen: Some(tcp), ..c }).await;
    // Closed: read returns end of stream (or the connection is reset) within `limit`.
    async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
        let mut buf = [0u8; 64];
        matches!(tokio::time::timeout(limit, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
    }
    let mut connected = None;
    for _ in 0..50 {
        if let Ok(s) = TcpStream::connect(tcp).await {
            connected = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // RTP as the first packet: not an ICE connection.
    let mut garbage = connected.expect("the ICE-TCP port listens");
    let rtp = kakehashi_relay::framing::frame(&[0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, 1, 2, 3]).unwrap();
    garbage.write_all(&rtp).await.unwrap();
    assert!(closed_within(&mut garbage, Duration::from_secs(2)).await, "a non-STUN first packet closes it");
    // A binding request naming no leg: well-formed, but never confirmed.
    let mut stranger = TcpStream::connect(tcp).await.unwrap();
    let request = kakehashi_relay::stun::binding_request([7; 12], "nobody:x");
    stranger.write_all(&kakehashi_relay::framing::frame(&request).unwrap()).await.unwrap();
    assert!(!closed_within(&mut stranger, Duration::from_secs(1)).await, "it may still become a leg's");
    assert!(closed_within(&mut stranger, Duration::from_secs(15)).await, "unconfirmed after 10 s: closed");
    let m = server.metrics().await;
    assert!(m.contains("kakehashi_media_tcp_connections 0"), "{m}");
    server.stop().await;
}

/// An HTTP request's status, headers and body (for the web pages).
async fn http_full(addr: std::net::SocketAddr, path: &str, extra: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{extra}\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out).to_string();
    let status = out[9..12].parse().unwrap();
    let (head, body) = out.split_once("\r\n\r\n").map(|(h, b)| (h.to_ascii_lowercase(), b.to_string())).unwrap();
    (status, head, body)
}

#[tokio::test]
async fn the_web_pages_are_served_with_a_strict_policy() {
    let dir = temp("web");
    seed(&dir).await;
    let server = Server::start(dir).await;
    for (path, marker) in [
        ("/desk/", "/assets/desk/desk.js"),
        ("/interpreter/", "/assets/interpreter/interpreter.js"),
        ("/wall/", "/assets/wall/wall.js"),
        ("/admin/", "/assets/admin/admin.js"),
        ("/join/0123abcd", "/assets/join/join.js"),
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
    assert_eq!(http(server.addr, "GET", "/api/desk", Some("nonsense"), None).await.0, 401);
    assert_eq!(http(server.addr, "GET", "/api/desk", None, None).await.0, 401);

    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let url = desk.expect("invite").await["url"].as_str().unwrap().to_string();
    let token = url.rsplit('/').next().unwrap().to_string();
    // The link's language, without using it up.
    let (status, body) = http(server.addr, "GET", &format!("/api/invites/{token}"), None, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["language"], "vi");
    let (mut resident, _) =
        server.hello(json!({"type": "hello", "protocol": 1, "credential": {"invite": token}})).await;
    resident.expect("joined").await;
    let (status, body) = http(server.addr, "GET", &format!("/api/invites/{token}"), None, None).await;
    assert_eq!(status, 404, "a used link: {body}");
    assert!(body.contains("has been used"), "{body}");
    assert_eq!(http(server.addr, "GET", "/api/invites/nothing", None, None).await.0, 404);
    desk.expect("participant_joined").await;
    desk.send(json!({"type": "end_call", "call": call})).await;
    desk.expect("call_ended").await;

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

/// A part of a document, for the tests.
fn part(id: u32, part: u32, parts: u32, data: &str) -> Value {
    json!({"id": id, "part": part, "parts": parts, "mime": "image/jpeg", "data": data})
}

#[tokio::test]
async fn documents_pass_to_the_others_and_nothing_is_kept() {
    let dir = temp("documents");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    // Not before the call starts.
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let call = desk.expect("queued").await["request"].as_u64().unwrap();
    desk.send(json!({"type": "document", "call": call, "document": part(1, 0, 1, "aGk=")})).await;
    assert_eq!(desk.expect("error").await["code"], "not_allowed");
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    desk.expect("assigned").await;
    i1.expect("assigned").await;
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let token = desk.expect("invite").await["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let (mut resident, _) =
        server.hello(json!({"type": "hello", "protocol": 1, "credential": {"invite": token}})).await;
    resident.expect("joined").await;
    desk.expect("participant_joined").await;
    i1.expect("participant_joined").await;

    // The resident shows a photo of three parts, sent at once: each part reaches the desk
    // and the interpreter, and the resident hears that each was passed on.
    let data = "QUJD".repeat(15_000);
    for n in 0..3u32 {
        resident.send(json!({"type": "document", "document": part(7, n, 3, &data)})).await;
    }
    for n in 0..3u32 {
        let passed = resident.expect("document_passed").await;
        assert_eq!((passed["id"].as_u64(), passed["part"].as_u64()), (Some(7), Some(u64::from(n))));
        for c in [&mut desk, &mut i1] {
            let d = c.expect("document").await;
            assert_eq!(d["from"], "resident");
            assert_eq!(d["call"].as_u64(), Some(call));
            assert_eq!(d["document"]["part"].as_u64(), Some(u64::from(n)));
            assert_eq!(d["document"]["data"].as_str().map(str::len), Some(60_000));
        }
    }
    // The interpreter shows one to the desk and the resident.
    i1.send(json!({"type": "document", "call": call, "document": part(1, 0, 1, "aGk=")})).await;
    assert_eq!(i1.expect("document_passed").await["id"], 1);
    assert_eq!(desk.expect("document").await["from"], "interpreter");
    assert_eq!(resident.expect("document").await["from"], "interpreter");
    // Garbage is refused with what is wrong, and the connection stays.
    for (bad, field) in [
        (part(1, 0, 0, "aGk="), "document.parts"),
        (part(1, 5, 2, "aGk="), "document.part"),
        (part(1, 0, 1, "!!!!"), "document.data"),
    ] {
        resident.send(json!({"type": "document", "document": bad})).await;
        let e = resident.expect("error").await;
        assert_eq!(e["code"], "invalid_field");
        assert!(e["message"].as_str().unwrap().starts_with(field), "{e}");
    }
    resident.send(json!({"type": "document", "document": {"id": 1, "part": 0, "parts": 1, "mime": "text/html", "data": "aGk="}})).await;
    assert_eq!(resident.expect("error").await["code"], "invalid_field");
    // Another desk's call is not found.
    let mut other = server.desk(&creds.desk_a2).await;
    other.send(json!({"type": "document", "call": call, "document": part(1, 0, 1, "aGk=")})).await;
    assert_eq!(other.expect("error").await["code"], "not_found");
    resident.send(json!({"type": "ping"})).await;
    assert_eq!(resident.expect("pong").await["type"], "pong");
    // Nothing of a document is in the store.
    desk.send(json!({"type": "end_call", "call": call})).await;
    desk.expect("call_ended").await;
    let dir = server.stop().await;
    let mut found = false;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        found |= bytes.windows(12).any(|w| w == b"QUJDQUJDQUJD");
    }
    assert!(!found, "a document's bytes are not stored");
}

#[tokio::test]
async fn a_dropped_participant_is_announced_and_a_resident_comes_back_with_its_token() {
    let dir = temp("drops");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    desk.send(json!({"type": "invite_resident", "call": call})).await;
    let token = desk.expect("invite").await["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let hello = json!({"type": "hello", "protocol": 1, "credential": {"invite": token.clone()}});
    let (mut resident, welcome) = server.hello(hello).await;
    resident.expect("joined").await;
    desk.expect("participant_joined").await;
    i1.expect("participant_joined").await;

    // The resident's phone changes networks: its connection drops, the others hear it,
    // and it comes back with its resume token (the link itself is used up).
    drop(resident);
    assert_eq!(desk.expect("participant_left").await["party"], "resident");
    assert_eq!(i1.expect("participant_left").await["party"], "resident");
    let resume = json!({"type": "hello", "protocol": 1, "credential": {"invite": token.clone()}, "resume": welcome["resume_token"]});
    let (mut resident, back) = server.hello(resume).await;
    assert_eq!(back["resumed"], true, "{back}");
    assert_eq!(resident.expect("joined").await["language"], "vi");
    assert_eq!(desk.expect("participant_joined").await["party"], "resident");
    i1.expect("participant_joined").await;
    // Without the token the link stays used.
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.unwrap();
    let mut stranger = Client { ws };
    stranger.send(json!({"type": "hello", "protocol": 1, "credential": {"invite": token}, "resume": "guess"})).await;
    assert_eq!(stranger.recv().await["code"], "unauthorized");

    // The interpreter's connection drops: desk and resident are told, and told again when
    // it resumes.
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.unwrap();
    let mut i1b = Client { ws };
    drop(i1);
    assert_eq!(desk.expect("participant_left").await["party"], "interpreter");
    assert_eq!(resident.expect("participant_left").await["party"], "interpreter");
    let _ = &mut i1b;
    desk.send(json!({"type": "end_call", "call": call})).await;
    desk.expect("call_ended").await;
    assert_eq!(resident.expect("call_ended").await["type"], "call_ended");
    server.stop().await;
}

#[tokio::test]
async fn a_desk_that_resumes_hears_what_happened_while_it_was_away() {
    let dir = temp("missed");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let hello = json!({"type": "hello", "protocol": 1, "credential": {"desk_token": creds.desk_a1}});
    let (mut desk, welcome) = server.hello(hello.clone()).await;
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let request = desk.expect("queued").await["request"].as_u64().unwrap();
    let offer = i1.expect("offer").await;
    // The tablet's Wi-Fi drops while the interpreter is being rung; the interpreter
    // answers, and ends the call, while the desk is away.
    drop(desk);
    tokio::time::sleep(Duration::from_millis(300)).await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    assert_eq!(i1.expect("assigned").await["call"].as_u64(), Some(request));
    assert_eq!(i1.expect("participant_left").await["party"], "desk");
    i1.send(json!({"type": "end_call", "call": request})).await;
    i1.expect("call_ended").await;
    // Back within the grace: it hears both, in order, and can record the outcome.
    let mut resumed = hello;
    resumed["resume"] = welcome["resume_token"].clone();
    let (mut desk, welcome) = server.hello(resumed).await;
    assert_eq!(welcome["resumed"], true);
    assert_eq!(desk.expect("assigned").await["call"].as_u64(), Some(request));
    let ended = desk.expect("call_ended").await;
    assert_eq!((ended["call"].as_u64(), ended["by"].as_str()), (Some(request), Some("interpreter")));
    desk.send(json!({"type": "record_outcome", "call": request, "outcome": "resolved"})).await;
    desk.expect("outcome_recorded").await;
    // Exactly one record of the call.
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.iter().filter(|r| r["outcome"] == "answered").count(), 1, "{records:?}");
    server.stop().await;
}

/// A desk whose network went before it read what the server had already written says,
/// when it resumes, the last event number it had; it gets the rest again, and a resume
/// that had everything gets nothing twice.
#[tokio::test]
async fn a_desk_that_resumes_gets_again_what_its_lost_connection_had_written() {
    let dir = temp("unread");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let hello = json!({"type": "hello", "protocol": 1, "credential": {"desk_token": creds.desk_a1}});
    let (mut desk, welcome) = server.hello(hello.clone()).await;
    desk.send(json!({"type": "request_interpreter", "language": "vi"})).await;
    let queued = desk.expect("queued").await;
    let request = queued["request"].as_u64().unwrap();
    let offer = i1.expect("offer").await;
    i1.send(json!({"type": "accept", "offer": offer["offer"]})).await;
    i1.expect("assigned").await;
    // The server wrote `assigned`; the tablet never got it (its network went).
    let assigned = desk.expect("assigned").await;
    let (before, seq) = (queued["seq"].as_u64().unwrap(), assigned["seq"].as_u64().unwrap());
    assert!(seq > before, "numbers rise: {queued} then {assigned}");
    drop(desk);
    assert_eq!(i1.expect("participant_left").await["party"], "desk");
    let mut resumed = hello.clone();
    resumed["resume"] = welcome["resume_token"].clone();
    resumed["last_seq"] = json!(before);
    let (mut desk, welcome) = server.hello(resumed).await;
    assert_eq!(welcome["resumed"], true);
    let again = desk.expect("assigned").await;
    assert_eq!((again["call"].as_u64(), again["seq"].as_u64()), (Some(request), Some(seq)), "the same event again");
    assert_eq!(i1.expect("participant_joined").await["party"], "desk");
    // Away again, having had everything: nothing comes twice.
    drop(desk);
    assert_eq!(i1.expect("participant_left").await["party"], "desk");
    let mut resumed = hello;
    resumed["resume"] = welcome["resume_token"].clone();
    resumed["last_seq"] = json!(seq);
    let (mut desk, welcome) = server.hello(resumed).await;
    assert_eq!(welcome["resumed"], true);
    assert_eq!(i1.expect("participant_joined").await["party"], "desk");
    i1.send(json!({"type": "end_call", "call": request})).await;
    let ended = desk.expect("call_ended").await;
    assert!(ended["seq"].as_u64().unwrap() > seq, "{ended}");
    desk.send(json!({"type": "record_outcome", "call": request, "outcome": "resolved"})).await;
    desk.expect("outcome_recorded").await;
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.iter().filter(|r| r["outcome"] == "answered").count(), 1, "{records:?}");
    server.stop().await;
}

/// A TCP connection from `from` (another loopback address than the test's own) that sends
/// the start of a request and never finishes its headers.
async fn slow_client(from: &str, to: std::net::SocketAddr) -> Option<TcpStream> {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut s = socket.connect(to).await.ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ").await.ok()?;
    Some(s)
}

/// Whether the server closed this connection within `within`.
async fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(within, s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Slow clients cannot take the server down: connections that never finish their headers
/// are closed after the header timeout, one address gets only its share of connections,
/// and the health check answers throughout.
#[tokio::test]
async fn slow_clients_are_cut_off_and_health_answers_throughout() {
    let dir = temp("slowloris");
    seed(&dir).await;
    let server = Server::start_with(dir, |c| Config {
        header_timeout_secs: 1,
        max_connections_per_address: 20,
        max_connections: 40,
        ..c
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..120 {
        if let Some(s) = slow_client("127.0.0.2", server.addr).await {
            slow.push(s);
        }
    }
    // The server answers health checks from elsewhere while the slow ones hang.
    let started = std::time::Instant::now();
    let (status, body) = http(server.addr, "GET", "/healthz", None, None).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert!(started.elapsed() < Duration::from_secs(1), "health took {:?}", started.elapsed());
    // Beyond its share, an address's connections are closed unread.
    let mut refused = 0;
    for s in slow.iter_mut() {
        if closed_by_server(s, Duration::from_millis(300)).await {
            refused += 1;
        }
    }
    assert!(refused >= 100, "{refused} of 120 refused at once; 20 may stay");
    // The others are cut off once the header timeout passes.
    for s in slow.iter_mut() {
        assert!(closed_by_server(s, Duration::from_secs(3)).await, "a slow connection outlived the header timeout");
    }
    assert!(server.metrics().await.contains("kakehashi_http_connections_refused_total{reason=\"per_address\"}"));
    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    {
        use tokio::io::AsyncWriteExt;
        idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    }
    assert!(closed_by_server(&mut idle, Duration::from_secs(3)).await, "an idle keep-alive connection stayed open");
    server.stop().await;
}

/// The WebSocket cap holds when many clients upgrade at the same moment: a place is taken
/// at the upgrade, not after the hello.
#[tokio::test]
async fn the_connection_cap_cannot_be_raced() {
    let dir = temp("cap-race");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { max_connections: 20, ..c }).await;
    let addr = server.addr;
    let mut tasks = Vec::new();
    let (hold, held) = tokio::sync::watch::channel(false);
    for _ in 0..60 {
        let token = creds.desk_a1.clone();
        let mut held = held.clone();
        tasks.push(tokio::spawn(async move {
            let Ok((ws, _)) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws")).await else { return false };
            let mut c = Client { ws };
            c.send(json!({"type": "hello", "protocol": 1, "credential": {"desk_token": token}})).await;
            let welcomed = matches!(
                tokio::time::timeout(Duration::from_secs(5), c.ws.next()).await,
                Ok(Some(Ok(Message::Text(t)))) if t.contains("\"welcome\"")
            );
            // Keep the connection until every client has tried.
            let _ = held.wait_for(|h| *h).await;
            welcomed
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = hold.send(true);
    let mut welcomed = 0;
    for t in tasks {
        welcomed += usize::from(t.await.unwrap());
    }
    assert!(welcomed <= 20, "{welcomed} welcomed with a cap of 20");
    assert!(welcomed >= 1);
    server.stop().await;
}
