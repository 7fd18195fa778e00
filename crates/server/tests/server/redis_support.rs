//! A real `redis-server` (Debian's package) for a test: on loopback, on a free port, with
//! no persistence, stopped when dropped; it can be killed and started again on the same
//! port (a Redis restart that loses its data).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One Redis server.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl RedisServer {
    /// Start one on a free port and wait until it answers.
    pub async fn start() -> RedisServer {
        let mut server = RedisServer { port: free_port(), child: None };
        server.restart().await;
        server
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A connection that reconnects on its own (as the nodes use).
    pub async fn manager(&self) -> redis::aio::ConnectionManager {
        let client = redis::Client::open(self.url()).unwrap();
        redis::aio::ConnectionManager::new(client).await.unwrap()
    }

    /// Kill it (SIGKILL: nothing is saved).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it (again) on its port, empty, and wait until it answers PING.
    pub async fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (Debian's redis-server package; scripts/packages.sh installs it)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        for _ in 0..200 {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                let pong: Result<String, _> = redis::cmd("PING").query_async(&mut c).await;
                if pong.is_ok() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server on port {} did not answer", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
