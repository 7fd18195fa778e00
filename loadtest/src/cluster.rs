//! A cluster under load (ADR 0020–0022): Debian's `redis-server` and PostgreSQL started
//! on free loopback ports with their data in a temporary directory, and `n` kakehashi
//! nodes on them. The first node is started alone with the demo directory, and is the
//! writer once its administrator can sign in; the others start after it as edges.
//! Everything is stopped (and the data removed) by [`Cluster::stop`].

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::LoadError;
use crate::costs::Process;
use crate::server::{Server, Start, free_port};

/// Redis, PostgreSQL and the nodes.
#[derive(Debug)]
pub struct Cluster {
    /// The nodes, the writer first.
    pub nodes: Vec<Server>,
    redis: Child,
    postgres: PathBuf,
    dir: PathBuf,
}

fn failed(what: &str, e: impl std::fmt::Display) -> LoadError {
    LoadError::Server(format!("{what}: {e}"))
}

/// Debian's PostgreSQL binary `name`, of the newest version installed.
fn pg(name: &str) -> Result<PathBuf, LoadError> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| failed("PostgreSQL (Debian's postgresql package)", e))?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join(name).exists())
        .collect();
    dirs.sort();
    dirs.pop().map(|d| d.join(name)).ok_or_else(|| failed("PostgreSQL", "no version with its binaries"))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// `bin` as the `postgres` user when run as root (PostgreSQL refuses root).
fn as_postgres(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

async fn run(mut c: Command, what: &str) -> Result<(), LoadError> {
    let out = c.stdout(Stdio::null()).output().await.map_err(|e| failed(what, e))?;
    if out.status.success() { Ok(()) } else { Err(failed(what, String::from_utf8_lossy(&out.stderr))) }
}

impl Cluster {
    /// Start Redis, PostgreSQL and `n` nodes of `start`'s binary.
    pub async fn start(start: &Start, n: usize) -> Result<Cluster, LoadError> {
        let dir = std::env::temp_dir().join(format!("kakehashi-load-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let redis_port = free_port()?;
        let redis = Command::new("redis-server")
            .args(["--port", &redis_port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed("redis-server (Debian's redis-server package)", e))?;
        // PostgreSQL, its data owned by its user when we are root.
        let postgres = dir.join("postgres");
        std::fs::create_dir_all(&postgres)?;
        if is_root() {
            let mut chown = Command::new("chown");
            chown.args(["postgres:postgres"]).arg(&postgres);
            run(chown, "chown").await?;
        }
        let mut init = as_postgres(&pg("initdb")?);
        init.arg("-D").arg(postgres.join("data"));
        init.args(["-U", "kakehashi", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        run(init, "initdb").await?;
        let pg_port = free_port()?;
        let options = format!(
            "-p {pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=300",
            postgres.display()
        );
        let mut pg_ctl = as_postgres(&pg("pg_ctl")?);
        pg_ctl.arg("-D").arg(postgres.join("data")).args(["-o", &options, "-l"]).arg(postgres.join("log"));
        pg_ctl.args(["-w", "-t", "30", "start"]);
        run(pg_ctl, "pg_ctl start").await?;
        let mut cluster = Cluster { nodes: Vec::new(), redis, postgres, dir };
        let database = format!("postgres://kakehashi@127.0.0.1:{pg_port}/postgres");
        for i in 0..n {
            let node = Start {
                bin: start.bin.clone(),
                env: [start.env.clone(), vec![("KAKEHASHI_DATABASE".into(), database.clone())]].concat(),
                config: Some(format!(
                    "[cluster]\nredis = \"redis://127.0.0.1:{redis_port}/\"\nnode = \"node-{i}\"\nprefix = \"load\"\n"
                )),
            };
            match Server::start(&node).await {
                Ok(server) => cluster.nodes.push(server),
                Err(e) => {
                    cluster.stop().await;
                    return Err(e);
                }
            }
        }
        Ok(cluster)
    }

    /// Each node's signalling address.
    pub fn ws_urls(&self) -> Vec<String> {
        self.nodes.iter().map(Server::ws_url).collect()
    }

    /// Every process of the cluster, for [`crate::costs`]: the nodes (the writer first),
    /// Redis, PostgreSQL with its backends.
    pub fn processes(&self) -> Vec<Process> {
        let mut all: Vec<Process> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| Process::one(if i == 0 { "writer".into() } else { format!("edge {i}") }, n.pid))
            .collect();
        if let Some(pid) = self.redis.id() {
            all.push(Process::one("redis", pid));
        }
        // The postmaster's pid is the first line of its pid file.
        let postmaster = std::fs::read_to_string(self.postgres.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next()?.trim().parse().ok());
        if let Some(pid) = postmaster {
            all.push(Process { name: "postgres".into(), pid, children: true });
        }
        all
    }

    /// Kill node `i` without warning (kill -9) and measure how long until another node
    /// is the writer (its `/readyz?writer` answers 200).
    pub async fn kill_writer(&mut self, i: usize) -> Result<Duration, LoadError> {
        let node = self.nodes.remove(i);
        let killed = Instant::now();
        node.stop().await;
        loop {
            for other in &self.nodes {
                if other.http.ok("/readyz?writer").await {
                    return Ok(killed.elapsed());
                }
            }
            if killed.elapsed() > Duration::from_secs(30) {
                return Err(LoadError::Check("no new writer within 30 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop the nodes, Redis and PostgreSQL, and remove their data.
    pub async fn stop(mut self) {
        for node in self.nodes.drain(..) {
            node.stop().await;
        }
        let _ = self.redis.start_kill();
        let _ = self.redis.wait().await;
        if let Ok(bin) = pg("pg_ctl") {
            let mut stop = as_postgres(&bin);
            stop.arg("-D").arg(self.postgres.join("data")).args(["-m", "immediate", "stop"]);
            let _ = run(stop, "pg_ctl stop").await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a scenario runs on: one node, or a cluster.
#[derive(Debug)]
pub enum Target {
    /// One node.
    One(Server),
    /// Several.
    Cluster(Cluster),
}

impl Target {
    /// The node to seed through (a cluster's writer).
    pub fn seed(&self) -> &Server {
        match self {
            Target::One(s) => s,
            Target::Cluster(c) => &c.nodes[0],
        }
    }

    /// Every node's signalling address, for spreading clients over them.
    pub fn urls(&self) -> Vec<String> {
        match self {
            Target::One(s) => vec![s.ws_url()],
            Target::Cluster(c) => c.ws_urls(),
        }
    }

    /// Every process it runs, and this tool, for [`crate::costs`].
    pub fn processes(&self) -> Vec<Process> {
        let mut all = match self {
            Target::One(s) => vec![Process::one("node", s.pid)],
            Target::Cluster(c) => c.processes(),
        };
        all.push(Process::one("load tool", std::process::id()));
        all
    }

    /// Stop everything.
    pub async fn stop(self) {
        match self {
            Target::One(s) => s.stop().await,
            Target::Cluster(c) => c.stop().await,
        }
    }
}
