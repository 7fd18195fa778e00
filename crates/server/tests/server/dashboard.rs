//! The operator's dashboard and alerts (`deploy/grafana/kakehashi.json`,
//! `deploy/prometheus/alerts.yml`) against a real Prometheus: scraping a real server,
//! every query of every panel but the cluster's returns data after a consultation with
//! media both ways (on a server with the phone bridge running, so the phone panels have
//! their series), and every alert rule evaluates without error; scraping three nodes of
//! a cluster, every query but the phone bridge's returns data. `promtool` checks the
//! rules and runs their unit tests (`alerts.test.yml`).

use std::time::Duration;

use kakehashi_protocol as p;
use serde_json::Value;

use crate::expect;
use crate::media_support::*;
use crate::prometheus_support::{Prometheus, deploy_dir};
use crate::support::*;

/// Every query of the dashboard but those of the rows whose title starts with `skip`,
/// with Grafana's variables as a viewer of "All" has them.
fn dashboard_queries(skip: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(deploy_dir().join("grafana/kakehashi.json")).unwrap();
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut out = Vec::new();
    let mut row = String::new();
    for panel in dash["panels"].as_array().unwrap() {
        if panel["type"] == "row" {
            row = panel["title"].as_str().unwrap().to_string();
        }
        if row.starts_with(skip) {
            continue;
        }
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let expr = expr.replace("$__rate_interval", "1m").replace("$language", ".*");
            assert!(!expr.contains('$'), "a variable the test does not know: {expr}");
            out.push((panel["title"].as_str().unwrap().to_string(), expr));
        }
    }
    out
}

/// Wait until Prometheus has scraped every target `n` times or more.
async fn scrapes(prometheus: &Prometheus, n: u32) {
    for _ in 0..200 {
        let short = prometheus.query(&format!("count_over_time(up[1m]) < {n}")).await;
        if short.is_empty() && !prometheus.query(&format!("count_over_time(up[1m]) >= {n}")).await.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Prometheus did not scrape {n} times");
}

/// The queries among `queries` that return nothing.
async fn empty(prometheus: &Prometheus, queries: &[(String, String)]) -> Vec<String> {
    let mut empty = Vec::new();
    for (title, expr) in queries {
        if prometheus.query(expr).await.is_empty() {
            empty.push(format!("{title}: {expr}"));
        }
    }
    empty
}

/// A consultation on `desk` and `interpreter`'s servers: requested, answered, media both
/// ways for a few scrapes, ended; scraped twice after its end.
async fn consultation(prometheus: &Prometheus, desk: &Server, interpreter: &Server, creds: &Creds) {
    let mut interpreter = interpreter.interpreter(&creds.interp[0]).await;
    let mut desk = desk.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    let (heard_tx, _heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media(desk, Some(call), 1, 0x7001, false, false, heard_tx.clone()).await;
    let mut interp_media = media(interpreter, Some(call), 2, 0x7002, false, false, heard_tx).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    for n in 0..200u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut desk = desk_media.hang_up().await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    let before = prometheus.query("max(count_over_time(up[1m]))").await;
    let before: u32 = before[0]["value"][1].as_str().unwrap().parse().unwrap();
    scrapes(prometheus, before + 2).await;
    assert!(!prometheus.query("kakehashi_call_duration_seconds_count > 0").await.is_empty(), "the ended call scraped");
    drop(interp_media);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_returns_data_and_every_alert_rule_evaluates() {
    // The cluster's panels have a test of their own, with a cluster.
    let queries = dashboard_queries("Cluster");
    assert!(queries.len() >= 25, "{}", queries.len());
    let (server, creds, _sip) = crate::phone_bridge::server_with_section("dashboard", |s| s).await;
    let prometheus = Prometheus::start(&[server.addr], temp("dashboard-prometheus")).await;
    // Prometheus takes a few seconds to begin scraping; rates need two scrapes or more.
    scrapes(&prometheus, 2).await;
    consultation(&prometheus, &server, &server, &creds).await;
    let empty = empty(&prometheus, &queries).await;
    assert!(empty.is_empty(), "queries without data:\n{}", empty.join("\n"));
    // Every alert rule loaded and evaluated without error.
    let rules = prometheus.rules().await;
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/prometheus/alerts.yml")).unwrap();
    assert_eq!(rules.len(), file.matches("- alert:").count(), "every rule of the file is loaded: {rules:?}");
    for _ in 0..50 {
        if prometheus.rules().await.iter().all(|r| r["lastEvaluation"] != "0001-01-01T00:00:00Z") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for rule in prometheus.rules().await {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    server.stop().await;
}

/// Every query but the phone bridge's (which runs beside a single node) against a real
/// Prometheus scraping three nodes of a cluster, after a consultation whose desk and
/// interpreter are on edges and whose media goes through an edge's relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_returns_data_from_a_cluster() {
    let queries = dashboard_queries("Phone legs");
    assert!(queries.iter().any(|(title, _)| title == "Command lag"), "the cluster's panels are in");
    let crate::cluster_media::Three { redis: _redis, dir, creds, a, b, c } =
        crate::cluster_media::three_nodes("dashboard-cluster").await;
    let prometheus = Prometheus::start(&[a.addr, b.addr, c.addr], temp("dashboard-cluster-prometheus")).await;
    scrapes(&prometheus, 2).await;
    let (on_b, on_c) = (Server::at(b.addr, dir.clone()), Server::at(c.addr, dir.clone()));
    consultation(&prometheus, &on_b, &on_c, &creds).await;
    let empty = empty(&prometheus, &queries).await;
    assert!(empty.is_empty(), "queries without data:\n{}", empty.join("\n"));
    assert_eq!(prometheus.query("sum(kakehashi_cluster_writer) == 1").await.len(), 1, "one writer");
    drop((a, b, c));
}

#[tokio::test]
async fn promtool_checks_the_alert_rules_and_runs_their_unit_tests() {
    let dir = deploy_dir().join("prometheus");
    for args in [&["check", "rules", "alerts.yml"][..], &["test", "rules", "alerts.test.yml"][..]] {
        let out = tokio::process::Command::new("promtool").args(args).current_dir(&dir).output().await.unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
