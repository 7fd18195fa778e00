//! A real Prometheus (Debian's `prometheus`) for a test: on loopback, on a free port,
//! scraping a kakehashi server (or a cluster's nodes) every second as job `kakehashi`, with the deployment's
//! alert rules, its storage in a temporary directory; stopped when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::http;

/// The repository's `deploy/` folder.
pub fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// One Prometheus.
pub struct Prometheus {
    pub addr: SocketAddr,
    dir: PathBuf,
    child: Child,
}

impl Prometheus {
    /// Start one scraping `targets` (a server, or a cluster's nodes), with
    /// `deploy/prometheus/alerts.yml`, and wait until it is ready.
    pub async fn start(targets: &[SocketAddr], dir: PathBuf) -> Prometheus {
        let targets: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let targets = targets.join(", ");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(deploy_dir().join("prometheus/alerts.yml"), dir.join("alerts.yml")).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [alerts.yml]\n\
             scrape_configs:\n  - job_name: kakehashi\n    static_configs:\n      - targets: [{targets}]\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (Debian's package; scripts/packages.sh installs it)");
        let prometheus = Prometheus { addr, dir, child };
        for _ in 0..300 {
            let listening = tokio::net::TcpStream::connect(addr).await.is_ok();
            if listening && http(addr, "GET", "/-/ready", None, None).await.0 == 200 {
                return prometheus;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("prometheus did not become ready");
    }

    /// An instant query's result (the `data.result` array); panics on an error answer.
    pub async fn query(&self, promql: &str) -> Vec<Value> {
        let path = format!("/api/v1/query?query={}", encode(promql));
        let (status, body) = http(self.addr, "GET", &path, None, None).await;
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        assert!(status == 200 && v["status"] == "success", "{promql}: {status} {body}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The alert rules as Prometheus evaluates them.
    pub async fn rules(&self) -> Vec<Value> {
        let (_, body) = http(self.addr, "GET", "/api/v1/rules", None, None).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]["groups"].as_array().unwrap().iter().flat_map(|g| g["rules"].as_array().unwrap().clone()).collect()
    }
}

/// Percent-encoding for a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
