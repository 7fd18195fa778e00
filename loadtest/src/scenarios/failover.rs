//! `failover`: a cluster's writer killed without warning (kill -9) while it holds live
//! calls and a queue. Measured: the time until another node is the writer (its
//! `/readyz?writer`), and until a request made through a surviving edge by people who
//! were not connected before is rung (service for newcomers restored). The calls and the
//! queue are the state the new writer restores from Redis (ADR 0021).

use std::time::{Duration, Instant};

use kakehashi_client::{Desk, Interpreter, Signal};
use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::LoadError;
use crate::cluster::Cluster;
use crate::scenarios::calls::{answered, request};
use crate::server;

/// The scenario's knobs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Calls live when the writer dies.
    pub calls: usize,
    /// Requests waiting then (no interpreter free).
    pub queued: usize,
}

/// Seed, set up the calls and the queue, kill the writer, measure. The cluster comes
/// back for stopping, whatever happened.
pub async fn run(mut cluster: Cluster, o: &Options) -> (Cluster, Result<(Vec<String>, Value), LoadError>) {
    let result = measure(&mut cluster, o).await;
    (cluster, result)
}

async fn measure(cluster: &mut Cluster, o: &Options) -> Result<(Vec<String>, Value), LoadError> {
    let seed = &cluster.nodes[0];
    let tenant = server::add_tenant(seed, &format!("Failover {}", std::process::id())).await?;
    let desks = server::add_desks(seed, tenant, o.calls + o.queued + 1).await?;
    let who = (0..o.calls).map(|n| (format!("failover-{}-{n}", std::process::id()), "vi")).collect();
    let interpreters = server::add_interpreters(seed, tenant, who).await?;
    let probe =
        server::add_interpreter(seed, tenant, &format!("failover-{}-probe", std::process::id()), &["pt"]).await?;
    let edges: Vec<String> = cluster.ws_urls().into_iter().skip(1).collect();
    // The calls, one at a time (each interpreter is the only one free when its desk asks),
    // through the edges.
    let mut held = Vec::new();
    let set_up = Instant::now();
    for (n, interpreter) in interpreters.into_iter().enumerate() {
        let (d, i, _, _) =
            answered(&edges[n % edges.len()], desks[n].1.clone(), interpreter, Duration::from_secs(10)).await?;
        held.push((d, i));
    }
    let mut waiting = Vec::new();
    for n in 0..o.queued {
        let url = &edges[n % edges.len()];
        let mut d = Signal::<Desk>::connect(url, p::Credential::DeskToken(desks[o.calls + n].1.clone()), None).await?;
        d.send(&request("vi")).await?;
        d.expect(Duration::from_secs(10), |e| matches!(e, p::DeskEvent::Queued { .. }).then_some(()), |_| {}).await?;
        waiting.push(d);
    }
    let set_up = set_up.elapsed();
    // A moment for the writer to have journaled everything, then it dies.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed = Instant::now();
    let writer = cluster.kill_writer(0).await?;
    let probe_desk = desks[o.calls + o.queued].1.clone();
    let edge = cluster.ws_urls()[0].clone();
    let rung = loop {
        if killed.elapsed() > Duration::from_secs(60) {
            return Err(LoadError::Check("no request rung within 60 s of the writer's death".into()));
        }
        match newcomers(&edge, &probe, &probe_desk).await {
            Ok(()) => break killed.elapsed(),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    drop((held, waiting));
    let value = json!({
        "scenario": "failover", "nodes": cluster.nodes.len() + 1, "calls": o.calls, "queued": o.queued,
        "set_up_ms": set_up.as_millis() as u64,
        "new_writer_ms": writer.as_millis() as u64, "newcomer_rung_ms": rung.as_millis() as u64,
    });
    let lines = vec![
        format!(
            "failover: {} nodes, {} calls live and {} requests queued on the writer (set up in {:.1} s)",
            cluster.nodes.len() + 1,
            o.calls,
            o.queued,
            set_up.as_secs_f64()
        ),
        format!("  killed (kill -9): a new writer in {} ms", writer.as_millis()),
        format!("  a newcomer's request through an edge rung {} ms after the kill", rung.as_millis()),
    ];
    Ok((lines, value))
}

/// An interpreter who was not connected becomes available on `url`, and a desk asks for
/// their language there: fine once the request is rung.
async fn newcomers(url: &str, interpreter: &str, desk: &str) -> Result<(), LoadError> {
    let wait = Duration::from_secs(2);
    let mut i = Signal::<Interpreter>::connect(url, p::Credential::Session(interpreter.to_string()), None).await?;
    i.send(&p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await?;
    i.expect(wait, |e| matches!(e, p::InterpreterEvent::Presence { .. }).then_some(()), |_| {}).await?;
    let mut d = Signal::<Desk>::connect(url, p::Credential::DeskToken(desk.to_string()), None).await?;
    d.send(&request("pt")).await?;
    let ringing = |e: &p::DeskEvent| match e {
        p::DeskEvent::Queued { ringing, .. } => Some(*ringing),
        _ => None,
    };
    if d.expect(wait, ringing, |_| {}).await? {
        Ok(())
    } else {
        Err(LoadError::Check("the request was not rung at once".into()))
    }
}
