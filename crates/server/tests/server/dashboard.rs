//! The operator's dashboard and alerts (`deploy/grafana/kakehashi.json`,
//! `deploy/prometheus/alerts.yml`) against a real Prometheus scraping a real server: every
//! query of every panel returns data after a consultation with media both ways (on a
//! server with the phone bridge running, so the phone panels have their series), and every
//! alert rule evaluates without error. `promtool` checks the rules and runs their unit
//! tests (`alerts.test.yml`).

use std::time::Duration;

use kakehashi_protocol as p;
use serde_json::Value;

use crate::expect;
use crate::media_support::*;
use crate::prometheus_support::{Prometheus, deploy_dir};
use crate::support::*;

/// Every query of the dashboard, with Grafana's variables as a viewer of "All" has them.
fn dashboard_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(deploy_dir().join("grafana/kakehashi.json")).unwrap();
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut out = Vec::new();
    for panel in dash["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let expr = expr.replace("$__rate_interval", "1m").replace("$language", ".*");
            assert!(!expr.contains('$'), "a variable the test does not know: {expr}");
            out.push((panel["title"].as_str().unwrap().to_string(), expr));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_returns_data_and_every_alert_rule_evaluates() {
    let queries = dashboard_queries();
    assert!(queries.len() >= 25, "{}", queries.len());
    let (server, creds, _sip) = crate::phone_bridge::server_with_section("dashboard", |s| s).await;
    let prometheus = Prometheus::start(server.addr, temp("dashboard-prometheus")).await;
    // Prometheus takes a few seconds to begin scraping; rates need two scrapes or more.
    let scrapes = |n: u32| {
        let prometheus = &prometheus;
        async move {
            for _ in 0..200 {
                let at = prometheus.query(&format!("count_over_time(up[1m]) >= {n}")).await;
                if !at.is_empty() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("Prometheus did not scrape {n} times");
        }
    };
    scrapes(2).await;

    // A consultation: requested, answered, media both ways for a few scrapes, ended.
    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
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
    // Scraped twice after the end, with the talk time observed.
    let before = prometheus.query("count_over_time(up[1m])").await;
    let before: u32 = before[0]["value"][1].as_str().unwrap().parse().unwrap();
    scrapes(before + 2).await;
    assert!(!prometheus.query("kakehashi_call_duration_seconds_count > 0").await.is_empty(), "the ended call scraped");

    let mut empty = Vec::new();
    for (title, expr) in &queries {
        if prometheus.query(expr).await.is_empty() {
            empty.push(format!("{title}: {expr}"));
        }
    }
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
    drop(interp_media);
    server.stop().await;
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
