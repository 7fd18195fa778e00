//! A real PostgreSQL (Debian's `postgresql`) for the tests: one server per test binary, on
//! loopback on a free port, its cluster in a temporary directory, started at first use and
//! stopped when the test process ends (a watcher shell ends it); a test that stops and
//! starts its database has a server of its own ([`Postgres::start`]). Each test that wants it
//! gets a database of its own: [`use_postgres`] makes one for a test's directory and
//! leaves its URL there, so that the directory's store ([`open_store`]) and its server
//! (`Server::start_with`) use it. `TEST_STORE=postgres` (not `KAKEHASHI_`: the server refuses unknown keys of its own) puts every seeded test
//! on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use kakehashi::store::Store;

/// The file in a test's directory that names its PostgreSQL database.
const URL_FILE: &str = "postgres-url";

/// A server: its port and its cluster's directory.
pub struct Postgres {
    pub port: u16,
    dir: PathBuf,
}

/// Debian's binaries (`/usr/lib/postgresql/<version>/bin`), the newest.
fn bin(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL (Debian's postgresql package; scripts/packages.sh installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join(name).exists())
        .collect();
    dirs.sort();
    dirs.pop().expect("a PostgreSQL version with its binaries").join(name)
}

/// `cmd` as the `postgres` user when the tests run as root (PostgreSQL refuses root).
fn as_postgres(cmd: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(cmd);
        c
    } else {
        Command::new(cmd)
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

impl Postgres {
    /// The one server of this test process, shared by its tests (a database each).
    pub fn shared() -> &'static Postgres {
        static SERVER: OnceLock<Postgres> = OnceLock::new();
        SERVER.get_or_init(|| Postgres::start("shared"))
    }

    /// A server of a test's own (one it stops and starts), stopped when dropped. Either
    /// kind is stopped when the test process ends, however it ends: a shell watches it.
    pub fn start(tag: &str) -> Postgres {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kakehashi-pg-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let ok = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().unwrap().success();
            assert!(ok, "chown the cluster's directory to postgres");
        }
        let init = as_postgres(&bin("initdb"))
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "kakehashi", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = Postgres { port, dir };
        server.run();
        let runner = if is_root() { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "while kill -0 {parent} 2>/dev/null && [ -d {dir} ]; do sleep 0.5; done; \
             {runner}{pg_ctl} -D {dir}/data -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
            pg_ctl = bin("pg_ctl").display(),
            dir = server.dir.display(),
            parent = std::process::id(),
        );
        let mut watcher = Command::new("sh").args(["-c", &script]).stdin(Stdio::null()).spawn().unwrap();
        std::thread::spawn(move || watcher.wait());
        server
    }

    /// Start the server on its port, returning once it takes logins.
    pub fn run(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let started = as_postgres(&bin("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-o", &options, "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "30", "start"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            started.status.success(),
            "postgres did not start: {}{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    /// Stop the server (a fast shutdown: clients are disconnected, commits kept).
    pub fn stop(&self) {
        let stopped = as_postgres(&bin("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(stopped.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&stopped.stderr));
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://kakehashi@127.0.0.1:{}/{db}", self.port)
    }

    /// A new empty database; its URL.
    pub async fn database(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&self.url("postgres")).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut c).await.unwrap();
        self.url(&name)
    }
}

/// Put the test of `dir` on a database of its own on the shared PostgreSQL.
pub async fn use_postgres(dir: &Path) -> String {
    let url = Postgres::shared().database().await;
    use_database(dir, &url);
    url
}

/// Put the test of `dir` on the database at `url`.
pub fn use_database(dir: &Path, url: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(URL_FILE), url).unwrap();
}

/// The database `dir`'s test uses, when it is on PostgreSQL.
pub fn postgres_of(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(URL_FILE)).ok()
}

/// Whether seeded tests go on PostgreSQL (`TEST_STORE=postgres`).
pub fn all_on_postgres() -> bool {
    std::env::var("TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// The store of `dir`'s test: its PostgreSQL database, or SQLite in the directory.
pub async fn open_store(dir: &Path) -> Store {
    match postgres_of(dir) {
        Some(url) => Store::open_postgres(&url).await.unwrap(),
        None => Store::open(dir).await.unwrap(),
    }
}

/// Every row of every table of the database at `url` as text, each table's rows after its
/// name: what a test searches for what must not be stored.
pub async fn every_row(url: &str) -> String {
    use sqlx::{Connection, Row};
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::TEXT FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            .fetch_all(&mut c)
            .await
            .unwrap();
    let mut all = String::new();
    for table in tables {
        let sql = format!("SELECT COALESCE(string_agg(t::TEXT, E'\\n'), '') FROM {table} t");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&mut c).await.unwrap();
        all.push_str(&table);
        all.push('\n');
        all.push_str(&row.get::<String, _>(0));
        all.push('\n');
    }
    all
}

impl Drop for Postgres {
    /// A test's own server ends with it (its watcher then removes the directory).
    fn drop(&mut self) {
        let _ = as_postgres(&bin("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
