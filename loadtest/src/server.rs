//! The server under load: a `kakehashi` binary this tool starts on free loopback ports
//! with a fresh data directory and the demo directory (for its administrator), or one
//! already running, given by address and pid.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::LoadError;
use crate::http::Http;

/// A running server.
#[derive(Debug)]
pub struct Server {
    /// Its HTTP API.
    pub http: Http,
    /// Its process, for `/proc`.
    pub pid: u32,
    /// The administrator's session token.
    pub admin: String,
    child: Option<tokio::process::Child>,
    data: Option<PathBuf>,
}

/// How to start one.
#[derive(Clone, Debug)]
pub struct Start {
    /// The binary.
    pub bin: PathBuf,
    /// Extra `KAKEHASHI_*` settings.
    pub env: Vec<(String, String)>,
    /// A configuration file's text (sections such as `[phone]`), if any.
    pub config: Option<String>,
}

impl Start {
    /// The `kakehashi` binary next to this one (both built in the same target directory).
    pub fn beside_me() -> Start {
        let bin = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("kakehashi")))
            .unwrap_or_else(|| PathBuf::from("kakehashi"));
        Start { bin, env: Vec::new(), config: None }
    }
}

/// A free port on loopback, for TCP and UDP both (the relay takes the same number for
/// ICE-TCP).
pub fn free_port() -> Result<u16, LoadError> {
    for _ in 0..100 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(LoadError::Server("no free port".into()))
}

impl Server {
    /// Start the binary and wait until it answers.
    pub async fn start(start: &Start) -> Result<Server, LoadError> {
        if !start.bin.exists() {
            return Err(LoadError::Server(format!(
                "{} is missing: build it with cargo build --release -p kakehashi",
                start.bin.display()
            )));
        }
        let port = free_port()?;
        let media = free_port()?;
        let data = std::env::temp_dir().join(format!("kakehashi-load-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let mut cmd = tokio::process::Command::new(&start.bin);
        cmd.args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")]).arg("--data").arg(&data);
        if let Some(text) = &start.config {
            std::fs::create_dir_all(&data)?;
            std::fs::write(data.join("load.toml"), text)?;
            cmd.arg("--config").arg(data.join("load.toml"));
        }
        cmd.env("KAKEHASHI_MEDIA_LISTEN", format!("127.0.0.1:{media}"))
            .env("KAKEHASHI_LOG", "warn")
            // Every simulated desk and interpreter signs in from this one address: the
            // sign-in guard's per-address budget is for strangers, not for the load.
            .env("KAKEHASHI_SIGN_IN_ATTEMPTS_PER_MINUTE", "1000000")
            .env("KAKEHASHI_MAX_CONNECTIONS_PER_ADDRESS", "1000000")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        // The server's log goes to ours only when asked (LOAD_SERVER_LOG=1, or a filter
        // of the server's such as `warn,kakehashi::hub=debug`); settings of our own
        // environment are not passed on (the server refuses unknown ones).
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("KAKEHASHI_")) {
            cmd.env_remove(k);
        }
        match std::env::var("LOAD_SERVER_LOG") {
            Err(_) => {
                cmd.stderr(std::process::Stdio::null());
            }
            Ok(filter) if filter != "1" => {
                cmd.env("KAKEHASHI_LOG", filter);
            }
            Ok(_) => {}
        }
        for (k, v) in &start.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(|e| LoadError::Server(format!("{}: {e}", start.bin.display())))?;
        let pid = child.id().ok_or_else(|| LoadError::Server("no pid".into()))?;
        let http = Http { addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let started = Instant::now();
        loop {
            if http.ok("/healthz").await || started.elapsed() > Duration::from_secs(30) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // A cluster's first node seeds the demo once it is the writer, a moment after it
        // answers: its administrator signs in from then on.
        let admin = loop {
            match sign_in(&http, "staff", "admin", "demo-admin").await {
                Ok(admin) => break admin,
                Err(e) if started.elapsed() > Duration::from_secs(60) => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Ok(Server { http, pid, admin, child: Some(child), data: Some(data) })
    }

    /// A server that is already running (its admin's login and password given).
    pub async fn attach(
        addr: SocketAddr,
        pid: u32,
        admin_login: &str,
        admin_password: &str,
    ) -> Result<Server, LoadError> {
        let http = Http { addr };
        let admin = sign_in(&http, "staff", admin_login, admin_password).await?;
        Ok(Server { http, pid, admin, child: None, data: None })
    }

    /// Another handle on the same server for its admin API (for tasks seeding at once).
    pub fn attach_token(http: Http, admin: String) -> Server {
        Server { http, pid: 0, admin, child: None, data: None }
    }

    /// `ws://` address of its signalling.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.http.addr)
    }

    /// Its metrics now, as Prometheus's text (empty when it does not answer).
    pub async fn metrics(&self) -> String {
        self.http.raw("GET", "/metrics", None, None).await.map(|(_, body)| body).unwrap_or_default()
    }

    /// Stop it (if we started it: kill -9, which the server must survive anyway) and
    /// remove its data.
    pub async fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
        if let Some(data) = self.data.take() {
            remove(&data);
        }
    }
}

/// The value of one series (its name and labels as the server writes them, e.g.
/// `kakehashi_phone_legs{direction="in",state="in_call"}`) in `metrics`; 0 when absent.
pub fn series(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

/// A session token for a login.
pub async fn sign_in(http: &Http, role: &str, login: &str, password: &str) -> Result<String, LoadError> {
    let v = http.post("/api/sign-in", None, &json!({"role": role, "login": login, "password": password})).await?;
    token(&v)
}

fn token(v: &Value) -> Result<String, LoadError> {
    v["token"].as_str().map(str::to_string).ok_or_else(|| LoadError::Server(format!("no token in {v}")))
}

/// A tenant for the run, with a routing policy that rings quickly; its id.
pub async fn add_tenant(server: &Server, name: &str) -> Result<i64, LoadError> {
    let v = server
        .http
        .post(
            "/api/tenants",
            Some(&server.admin),
            &json!({"name": name, "foreign_residents": 10_000, "time_zone": "Asia/Tokyo"}),
        )
        .await?;
    v["id"].as_i64().ok_or_else(|| LoadError::Server(format!("no tenant id in {v}")))
}

/// Requests of the seeding at once: the store commits each write to disk, and the
/// password hashing is CPU work, so a few in flight keep both busy.
const SEEDING: usize = 8;

/// Run `f(i)` for `0..n`, [`SEEDING`] at a time, in order of `i`.
async fn seeding<T, F, Fut>(n: usize, f: F) -> Result<Vec<T>, LoadError>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, LoadError>> + Send + 'static,
{
    let mut out = Vec::with_capacity(n);
    let mut running = std::collections::VecDeque::new();
    for i in 0..n {
        running.push_back(tokio::spawn(f(i)));
        if running.len() >= SEEDING
            && let Some(first) = running.pop_front()
        {
            out.push(first.await.map_err(|e| LoadError::Server(e.to_string()))??);
        }
    }
    for t in running {
        out.push(t.await.map_err(|e| LoadError::Server(e.to_string()))??);
    }
    Ok(out)
}

/// `n` enrolled desks of a tenant: their ids and device tokens.
pub async fn add_desks(server: &Server, tenant: i64, n: usize) -> Result<Vec<(i64, String)>, LoadError> {
    let (http, admin) = (server.http, server.admin.clone());
    seeding(n, move |i| {
        let admin = admin.clone();
        async move {
            let path = format!("/api/tenants/{tenant}/desks");
            let v = http.post(&path, Some(&admin), &json!({"name": format!("load desk {i}")})).await?;
            let code = v["enrolment_code"].as_str().unwrap_or_default().to_string();
            let e = http.post("/api/enrol", None, &json!({"code": code})).await?;
            Ok((e["desk"].as_i64().unwrap_or_default(), token(&e)?))
        }
    })
    .await
}

/// Interpreters of `tenant`, always rostered and signed in, one per `(login, language)`:
/// their session tokens, in order.
pub async fn add_interpreters(
    server: &Server,
    tenant: i64,
    who: Vec<(String, &'static str)>,
) -> Result<Vec<String>, LoadError> {
    let (http, admin) = (server.http, server.admin.clone());
    let who = std::sync::Arc::new(who);
    seeding(who.len(), move |i| {
        let (admin, who) = (admin.clone(), std::sync::Arc::clone(&who));
        async move {
            let (login, language) = &who[i];
            add_interpreter_with(&http, &admin, tenant, login, &[language]).await
        }
    })
    .await
}

/// An interpreter of `languages` for `tenant`, always rostered, signed in: its session
/// token. (Passwords are hashed with argon2id: seeding hundreds takes a while.)
pub async fn add_interpreter(
    server: &Server,
    tenant: i64,
    login: &str,
    languages: &[&str],
) -> Result<String, LoadError> {
    add_interpreter_with(&server.http, &server.admin, tenant, login, languages).await
}

async fn add_interpreter_with(
    http: &Http,
    admin: &str,
    tenant: i64,
    login: &str,
    languages: &[&str],
) -> Result<String, LoadError> {
    let password = format!("load-password-{login}");
    http.post(
        "/api/interpreters",
        Some(admin),
        &json!({
            "login": login, "password": password, "tier": "staff", "languages": languages,
            "modalities": ["video", "audio"], "tenants": [tenant], "roster": {"always": true}
        }),
    )
    .await?;
    sign_in(http, "interpreter", login, &password).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_series_is_found_whole_by_its_name_and_labels() {
        let text = "# HELP x\nkakehashi_hub_busy_seconds_total{phase=\"act\"} 1.5\n\
                    kakehashi_hub_busy_seconds_total{phase=\"actor\"} 9\nkakehashi_phone_mix_seconds_count 42\n";
        assert_eq!(super::series(text, "kakehashi_hub_busy_seconds_total{phase=\"act\"}"), 1.5);
        assert_eq!(super::series(text, "kakehashi_phone_mix_seconds_count"), 42.0);
        assert_eq!(super::series(text, "kakehashi_phone_mix_seconds"), 0.0, "a prefix is not the series");
        assert_eq!(super::series(text, "kakehashi_absent"), 0.0);
    }
}
