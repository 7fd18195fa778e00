//! A real PostgreSQL (Debian's `postgresql`) for the tests: one server per test binary, on
//! loopback on a free port, its cluster in a temporary directory, started at first use and
//! stopped when the test process ends (a watcher shell ends it). Each test that wants it
//! gets a database of its own: [`use_postgres`] makes one for a test's directory and
//! leaves its URL there, so that the directory's store ([`open_store`]) and its server
//! (`Server::start_with`) use it. `TEST_STORE=postgres` (not `KAKEHASHI_`: the server refuses unknown keys of its own) puts every seeded test
//! on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kakehashi::store::Store;

/// The file in a test's directory that names its PostgreSQL database.
const URL_FILE: &str = "postgres-url";

/// The server: its port.
pub struct Postgres {
    pub port: u16,
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
    if nix_is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(cmd);
        c
    } else {
        Command::new(cmd)
    }
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

impl Postgres {
    /// The one server of this test process.
    pub fn shared() -> &'static Postgres {
        static SERVER: OnceLock<Postgres> = OnceLock::new();
        SERVER.get_or_init(Postgres::start)
    }

    fn start() -> Postgres {
        let dir = std::env::temp_dir().join(format!("kakehashi-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if nix_is_root() {
            let ok = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().unwrap().success();
            assert!(ok, "chown the cluster's directory to postgres");
        }
        let data = dir.join("data");
        let init = as_postgres(&bin("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "kakehashi", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(init.status.success(), "initdb: {}", String::from_utf8_lossy(&init.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // The server ends with this process: a shell watches it.
        let postgres = bin("postgres");
        let runner = if nix_is_root() { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "{runner}{postgres} -D {data} -p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={dir} \
             -c fsync=off -c max_connections=200 >{dir}/log 2>&1 & pg=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; kill $pg; wait $pg; rm -rf {dir}",
            postgres = postgres.display(),
            data = data.display(),
            dir = dir.display(),
            parent = std::process::id(),
        );
        let mut watcher =
            Command::new("sh").args(["-c", &script]).stdin(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::spawn(move || watcher.wait());
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // Accepting connections is not yet accepting logins; ask pg_isready.
                let ready = Command::new(bin("pg_isready"))
                    .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "kakehashi", "-d", "postgres"])
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if ready {
                    return Postgres { port };
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("postgres did not start: {}", std::fs::read_to_string(dir.join("log")).unwrap_or_default());
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
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(URL_FILE), &url).unwrap();
    url
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
