//! `kakehashi-load`: see the crate documentation (`lib.rs`) and `loadtest/README.md`.

use std::path::PathBuf;
use std::process::ExitCode;

use kakehashi_load::cluster::{Cluster, Target};
use kakehashi_load::costs::Costs;
use kakehashi_load::scenarios::{endure, failover, idle, media, phone_mix, phone_rate, rate, storm};
use kakehashi_load::server::{Server, Start};
use kakehashi_load::{LoadError, janus, proc, report};
use serde_json::json;

const USAGE: &str = "\
usage: kakehashi-load <scenario> [options] [--json]

scenarios:
  storm   desks and interpreters over many languages, signalling only
          --desks N (2000) --interpreters N (500) --languages N (24) --seconds S (60)
          --rate R requests/s (40) --talk S (30) --think S (2) --at-least CALLS (0)
          --nodes N (1): N > 1 runs a cluster (Redis, PostgreSQL, N nodes; Debian's
          redis-server and postgresql), the desks and interpreters spread over the nodes
  rate    requests per second through the dispatch path: desks ask at a steady pace,
          each request rung at once, measured (request → offer) and withdrawn
          --desks N (1000) --interpreters N (200) --languages N (8) --rate R (1000)
          --seconds S (30) --nodes N (1)
  failover  a cluster's writer killed (kill -9) with calls live and requests queued:
          the time to a new writer, and to a request through an edge being rung again
          --nodes N (3) --calls N (500) --queued N (100)
  soak    the storm with churn (reconnects, residents, abandoned requests), then every
          completed call must have exactly one call record
          same options; defaults --desks 200 --interpreters 60 --seconds 300
  media   three-party sessions with audio and video through the relay
          --sessions N (30) --seconds S (60) --warmup S (5) --janus (then the same on Janus)
  endure  calls with media and churn for a long time (residents drop and come back by
          their link, interpreters' legs reconnect), the server's memory and descriptors
          sampled; then every call must have one call record, every join media, and the
          descriptors must be back
          --calls N at once (100) --seconds S (3600) --warmup S (300) --talk S (60)
          --sample S (10) --rates light|full (light)
  idle    idle desk connections: the server's memory for each
          --connections N (10000) --hold S (10)
  phone-rate  phone calls set up per second: SIPp calls the server's phone line at a
          rate; each call is answered, hears its prompt and hangs up; every one must
          succeed (needs sip-tester)
          --rate R calls/s (50) --calls N (1000) --hold MS (1000)
  phone-mix  three-party calls with a phone each (two WebRTC participants on Opus, a
          phone that SIPp dials in with the call's PIN and that echoes what it hears):
          the server's CPU per phone leg; --janus: the same on Janus's AudioBridge
          --calls N (50) --seconds S (30) --warmup S (5) --janus

server: by default the kakehashi binary next to this one is started on free loopback
ports (--bin PATH for another); --set KEY=VALUE passes KAKEHASHI_<KEY> to it.";

struct Args {
    scenario: String,
    json: bool,
    bin: Option<PathBuf>,
    set: Vec<(String, String)>,
    values: std::collections::HashMap<String, String>,
    flags: std::collections::HashSet<String>,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let scenario = it.next().ok_or("a scenario is needed")?;
    if scenario == "--help" || scenario == "-h" {
        return Err(String::new());
    }
    let mut a = Args {
        scenario,
        json: false,
        bin: None,
        set: Vec::new(),
        values: Default::default(),
        flags: Default::default(),
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => a.json = true,
            "--janus" => {
                a.flags.insert("janus".into());
            }
            "--help" | "-h" => return Err(String::new()),
            "--bin" => a.bin = Some(it.next().ok_or("--bin needs a path")?.into()),
            "--set" => {
                let kv = it.next().ok_or("--set needs KEY=VALUE")?;
                let (k, v) = kv.split_once('=').ok_or_else(|| format!("--set {kv}: KEY=VALUE"))?;
                a.set.push((format!("KAKEHASHI_{}", k.to_ascii_uppercase()), v.to_string()));
            }
            flag if flag.starts_with("--") => {
                let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
                a.values.insert(flag.trim_start_matches("--").to_string(), v);
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    Ok(a)
}

impl Args {
    fn num<T: std::str::FromStr>(&mut self, name: &str, default: T) -> Result<T, String> {
        match self.values.remove(name) {
            Some(v) => v.parse().map_err(|_| format!("--{name}: {v:?} is not a number")),
            None => Ok(default),
        }
    }

    fn done(&self) -> Result<(), String> {
        match self.values.keys().next() {
            Some(k) => Err(format!("unknown option --{k} for {}", self.scenario)),
            None => Ok(()),
        }
    }
}

/// The repository root (for Janus's configuration): from the binary's place in
/// `target/<profile>/`, or the working directory.
fn repo() -> PathBuf {
    let from_exe = std::env::current_exe().ok().and_then(|e| e.ancestors().nth(3).map(PathBuf::from));
    match from_exe {
        Some(r) if r.join("scripts/janus.sh").exists() => r,
        _ => PathBuf::from("."),
    }
}

async fn start(a: &Args) -> Result<Server, LoadError> {
    start_with(a, None).await
}

/// One node (`nodes` 1) or a cluster of `nodes`.
async fn target(a: &Args, nodes: usize) -> Result<Target, LoadError> {
    if nodes <= 1 {
        return Ok(Target::One(start(a).await?));
    }
    let mut s = Start::beside_me();
    if let Some(bin) = &a.bin {
        s.bin = bin.clone();
    }
    s.env = a.set.clone();
    Ok(Target::Cluster(Cluster::start(&s, nodes).await?))
}

async fn start_with(a: &Args, config: Option<String>) -> Result<Server, LoadError> {
    let mut s = Start::beside_me();
    if let Some(bin) = &a.bin {
        s.bin = bin.clone();
    }
    s.env = a.set.clone();
    s.config = config;
    Server::start(&s).await
}

async fn run(mut a: Args) -> Result<(), String> {
    let err = |e: LoadError| e.to_string();
    let machine = proc::machine();
    match a.scenario.as_str() {
        "storm" | "soak" => {
            let soak = a.scenario == "soak";
            let o = storm::Options {
                desks: a.num("desks", if soak { 200 } else { 2000 })?,
                interpreters: a.num("interpreters", if soak { 60 } else { 500 })?,
                languages: a.num("languages", 24)?,
                seconds: a.num("seconds", if soak { 300 } else { 60 })?,
                rate: a.num("rate", if soak { 5.0 } else { 40.0 })?,
                talk: a.num("talk", if soak { 10.0 } else { 30.0 })?,
                think: a.num("think", 2.0)?,
                at_least: a.num("at-least", 0)?,
                churn: soak,
            };
            let nodes = a.num("nodes", 1)?;
            a.done()?;
            // Thousands of connections at once need a connection cap above them.
            let mut a = a;
            a.set.push(("KAKEHASHI_MAX_CONNECTIONS".into(), ((o.desks + o.interpreters) * 2 + 100).to_string()));
            let on = target(&a, nodes).await.map_err(err)?;
            let result = storm::run(on.seed(), &on.urls(), &o).await;
            on.stop().await;
            let (lines, mut value) = result.map_err(err)?;
            value["machine"] = json!(machine);
            report::print(a.json, &lines, &value);
        }
        "rate" => {
            let o = rate::Options {
                desks: a.num("desks", 1000)?,
                interpreters: a.num("interpreters", 200)?,
                languages: a.num("languages", 8)?,
                rate: a.num("rate", 1000.0)?,
                seconds: a.num("seconds", 30)?,
            };
            let nodes = a.num("nodes", 1)?;
            a.done()?;
            let mut a = a;
            a.set.push(("KAKEHASHI_MAX_CONNECTIONS".into(), ((o.desks + o.interpreters) * 2 + 100).to_string()));
            let on = target(&a, nodes).await.map_err(err)?;
            let costs = Costs::new(on.processes(), on.seed());
            let result = rate::run(on.seed(), &on.urls(), &costs, &o).await;
            on.stop().await;
            let (lines, mut value) = result.map_err(err)?;
            value["machine"] = json!(machine);
            report::print(a.json, &lines, &value);
        }
        "failover" => {
            let o = failover::Options { calls: a.num("calls", 500)?, queued: a.num("queued", 100)? };
            let nodes = a.num("nodes", 3)?;
            a.done()?;
            let mut a = a;
            a.set.push(("KAKEHASHI_MAX_CONNECTIONS".into(), (o.calls * 4 + o.queued * 2 + 100).to_string()));
            let Target::Cluster(cluster) = target(&a, nodes.max(2)).await.map_err(err)? else {
                return Err("failover needs a cluster".into());
            };
            let (cluster, result) = failover::run(cluster, &o).await;
            cluster.stop().await;
            let (lines, mut value) = result.map_err(err)?;
            value["machine"] = json!(machine);
            report::print(a.json, &lines, &value);
        }
        "media" => {
            let o = media::Options {
                sessions: a.num("sessions", 30)?,
                seconds: a.num("seconds", 60)?,
                warmup: a.num("warmup", 5)?,
            };
            let with_janus = a.flags.contains("janus");
            a.done()?;
            let server = start(&a).await.map_err(err)?;
            let ours = media::on_kakehashi(&server, &o).await;
            server.stop().await;
            let ours = ours.map_err(err)?;
            let mut lines = ours.lines("kakehashi");
            let mut value = json!({"scenario": "media", "machine": machine, "kakehashi": ours.json()});
            if with_janus {
                let j = janus::Janus::start(&repo()).await.map_err(err)?;
                let theirs = media::on_janus(&j, &o).await;
                j.stop().await;
                let theirs = theirs.map_err(err)?;
                lines.extend(theirs.lines("janus"));
                let ratio = ours.cpu_per_packet_us() / theirs.cpu_per_packet_us().max(1e-9);
                lines.push(format!("CPU per forwarded packet, kakehashi / janus: {ratio:.2}"));
                value["janus"] = theirs.json();
                value["cpu_ratio_kakehashi_to_janus"] = json!(report::round(ratio));
            }
            report::print(a.json, &lines, &value);
        }
        "endure" => {
            let rates = match a.values.remove("rates").as_deref() {
                None | Some("light") => kakehashi_load::media::Rates::LIGHT,
                Some("full") => kakehashi_load::media::Rates::FULL,
                Some(other) => return Err(format!("--rates {other:?}: light or full")),
            };
            let o = endure::Options {
                calls: a.num("calls", 100)?,
                seconds: a.num("seconds", 3600)?,
                warmup: a.num("warmup", 300)?,
                talk: a.num("talk", 60.0)?,
                sample: a.num("sample", 10)?,
                rates,
            };
            a.done()?;
            let mut a = a;
            a.set.push(("KAKEHASHI_MAX_CONNECTIONS".into(), (o.calls * 4 + 100).to_string()));
            let server = start(&a).await.map_err(err)?;
            let result = endure::run(&server, &o).await;
            server.stop().await;
            let (lines, mut value) = result.map_err(err)?;
            value["machine"] = json!(machine);
            report::print(a.json, &lines, &value);
        }
        "phone-rate" => {
            let o = phone_rate::Options {
                rate: a.num("rate", 50)?,
                calls: a.num("calls", 1000)?,
                hold_ms: a.num("hold", 1000)?,
            };
            a.done()?;
            let sip = kakehashi_load::server::free_port().map_err(err)?;
            let server = start_with(&a, Some(phone_rate::config(sip))).await.map_err(err)?;
            let result = phone_rate::run(&repo(), sip, server.pid, &o).await;
            server.stop().await;
            let (lines, mut value) = result.map_err(err)?;
            value["machine"] = json!(machine);
            report::print(a.json, &lines, &value);
        }
        "phone-mix" => {
            let o = phone_mix::Options {
                calls: a.num("calls", 50)?,
                seconds: a.num("seconds", 30)?,
                warmup: a.num("warmup", 5)?,
            };
            let with_janus = a.flags.contains("janus");
            a.done()?;
            let mut a = a;
            a.set.push(("KAKEHASHI_MAX_CONNECTIONS".into(), (o.calls * 4 + 100).to_string()));
            let sip = kakehashi_load::server::free_port().map_err(err)?;
            let server = start_with(&a, Some(phone_mix::config(sip))).await.map_err(err)?;
            let ours = phone_mix::on_kakehashi(&server, &repo(), sip, &o).await;
            server.stop().await;
            let ours = ours.map_err(err)?;
            let mut lines = vec![ours.line("kakehashi")];
            let mut value = json!({"scenario": "phone-mix", "machine": machine, "kakehashi": ours.json()});
            if with_janus {
                let j = janus::Janus::start(&repo()).await.map_err(err)?;
                let theirs = phone_mix::on_janus(&j, &o).await;
                j.stop().await;
                let theirs = theirs.map_err(err)?;
                lines.push(theirs.line("janus"));
                let ratio = ours.per_leg_percent() / theirs.per_leg_percent().max(1e-9);
                lines.push(format!("CPU per phone leg, kakehashi / janus: {ratio:.2}"));
                value["janus"] = theirs.json();
                value["cpu_ratio_kakehashi_to_janus"] = json!(report::round(ratio));
            }
            report::print(a.json, &lines, &value);
        }
        "idle" => {
            let connections: usize = a.num("connections", 10_000)?;
            let hold: u64 = a.num("hold", 10)?;
            a.done()?;
            let mut a = a;
            a.set.push(("KAKEHASHI_MAX_CONNECTIONS".into(), (connections + 100).to_string()));
            let server = start(&a).await.map_err(err)?;
            let result = idle::run(&server, connections, hold).await;
            server.stop().await;
            let (lines, mut value) = result.map_err(err)?;
            value["machine"] = json!(machine);
            report::print(a.json, &lines, &value);
        }
        other => return Err(format!("unknown scenario {other:?}")),
    }
    Ok(())
}

/// The simulated people's WebRTC stacks log through `log` to stderr, filtered by
/// `KAKEHASHI_LOAD_LOG`. Unless set: their errors, and a DTLS handshake given up (a join
/// without media says why); not their warnings per packet.
fn logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KAKEHASHI_LOAD_LOG")
        .unwrap_or_else(|_| "warn,rtc=error,webrtc=error,rtc_dtls::handshaker=warn".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("kakehashi-load: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    logs();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kakehashi-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kakehashi-load: {e}");
            ExitCode::FAILURE
        }
    }
}
