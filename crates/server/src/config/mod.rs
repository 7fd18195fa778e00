//! Configuration: defaults, then a TOML file, then `KAKEHASHI_*` environment variables,
//! then command-line flags. Strict (unknown keys are errors) and validated once at start,
//! with messages that name the key.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

mod cluster;
mod phone;
mod proxies;
pub use cluster::ClusterSection;
pub use phone::{AloneConfig, LineSection, PhoneSection, RegistrarSection};
pub use proxies::Proxies;

/// The server's settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on for HTTP and WebSocket.
    pub listen: SocketAddr,
    /// Directory for the SQLite database (and the handling notes' key).
    pub data_dir: PathBuf,
    /// A PostgreSQL database for the store instead of SQLite
    /// (`postgres://kakehashi:secret@db.internal:5432/kakehashi`): what a cluster's nodes
    /// share (ADR 0020). Its password never reaches the logs.
    pub database: Option<String>,
    /// A second address for the operator only: `/metrics`, health, and the admin API and
    /// page. When set, the public `listen` does not serve `/metrics` or the admin routes
    /// (`deploy/README.md`).
    pub private_listen: Option<SocketAddr>,
    /// A bearer token `/metrics` asks for, wherever it is served (Prometheus's
    /// `authorization` setting). At least 16 characters.
    pub metrics_token: Option<String>,
    /// The address people reach this server at, for invite links (defaults to `http://<listen>`).
    pub public_url: Option<String>,
    /// Seed a demonstration directory when the database is empty.
    pub demo: bool,
    /// The UDP address of the media relay: one port for every participant.
    pub media_listen: SocketAddr,
    /// The address participants reach the relay at, when it differs (1:1 NAT).
    pub media_public: Option<SocketAddr>,
    /// Accept ICE-TCP too, for networks that block UDP.
    pub media_tcp: bool,
    /// Where ICE-TCP listens; by default `media_listen`'s address and port, over TCP.
    /// Its candidate names `media_public`'s address, if set, with this port.
    pub media_tcp_listen: Option<SocketAddr>,
    /// Server ping interval; a client silent for three intervals is dropped.
    pub heartbeat_secs: u32,
    /// How long a dropped client can resume its session.
    pub resume_grace_secs: u32,
    /// On shutdown, how long live calls may take to end before the server exits.
    pub drain_secs: u32,
    /// How long a resident's invite link works.
    pub invite_ttl_secs: u32,
    /// Most WebSocket connections at once. The listener takes this many TCP connections
    /// and [`HTTP_HEADROOM`] more for plain HTTP requests; the process must be allowed
    /// that many file descriptors and some (checked at start).
    pub max_connections: usize,
    /// Most TCP connections at once from one IP address. A city hall's desks share one
    /// public address behind its NAT, so this is generous; it keeps one host from
    /// taking every connection.
    pub max_connections_per_address: usize,
    /// How long a client has to send a request's headers, and how long a keep-alive
    /// connection may sit idle between requests.
    pub header_timeout_secs: u32,
    /// How long an HTTP request may take to be answered.
    pub request_timeout_secs: u32,
    /// Frames a client may send per second (burst up to twice that).
    pub rate_limit_per_sec: u32,
    /// Failed sign-ins on one login from one address before that address is held back
    /// on that login (the login stays open to other addresses: see `auth::guard`).
    pub lockout_after: u32,
    /// How long it is held back.
    pub lockout_secs: u32,
    /// Sign-ins (and failed enrolment codes and invite links) one address may try in a
    /// burst, and per minute after it. An office whose staff share one NAT address signs
    /// in within it; a guesser is slowed to it.
    pub sign_in_attempts_per_minute: u32,
    /// Whether admins must sign in with a second factor (TOTP). Default: yes, except with
    /// `demo`. Supervisors' and interpreters' rule is each tenant's `two_factor`.
    pub admin_two_factor: Option<bool>,
    /// How long a session token from signing in lasts.
    pub session_ttl_secs: u32,
    /// Reverse proxies in front of the server (comma-separated IP addresses or networks
    /// such as `10.42.0.0/16`), whose
    /// `X-Forwarded-For` names the client: the per-address limits then apply to the
    /// client's address, and the proxies themselves are not limited per address.
    pub trusted_proxies: Option<String>,
    /// Requests a desk may have waiting at once (one of them urgent): one desk cannot
    /// fill the queue.
    pub max_waiting_per_desk: usize,
    /// TURN servers handed to clients, comma-separated (`turns:turn.example.jp:443?transport=tcp`),
    /// for networks where neither UDP nor ICE-TCP reaches the relay (`deploy/turn.md`).
    pub turn_urls: Option<String>,
    /// The secret shared with the TURN server (coturn's `static-auth-secret`): clients get
    /// credentials derived from it that expire (RFC 7635's REST form).
    pub turn_secret: Option<String>,
    /// How long those credentials last.
    pub turn_ttl_secs: u32,
    /// The key that seals handling notes (ADR 0017): a file of 32 random bytes, made at
    /// first start when missing. Default `notes.key` in the data directory; keep it
    /// elsewhere (a secret mount) so that a copy of the data directory alone reads none.
    pub notes_key_file: Option<PathBuf>,
    /// The number callers dial to join a call with a PIN (shown to desks: "join by
    /// phone"). With `phone_gateway_token`, desks can invite by phone.
    pub phone_number: Option<String>,
    /// The phone gateway's secret (its `gateway` connection's credential, ADR 0015). At
    /// least 16 characters. With a `[phone]` section and none given, one is made up at
    /// start for the bridge inside the server.
    pub phone_gateway_token: Option<String>,
    /// Whether the phone gateway that runs elsewhere can call out (desks may then call a
    /// resident's phone into a call). The bridge inside the server can when its `[phone]`
    /// section has a `dial_trunk`.
    pub phone_dial_out: bool,
    /// The phone bridge, run inside the server (`[phone]`, see [`PhoneSection`]).
    pub phone: Option<PhoneSection>,
    /// One node of several (`[cluster]`, see [`ClusterSection`]; ADR 0020).
    pub cluster: Option<ClusterSection>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("kakehashi-data"),
            database: None,
            private_listen: None,
            metrics_token: None,
            public_url: None,
            demo: false,
            media_listen: SocketAddr::from(([127, 0, 0, 1], 3478)),
            media_public: None,
            media_tcp: true,
            media_tcp_listen: None,
            heartbeat_secs: 15,
            resume_grace_secs: 60,
            drain_secs: 30,
            invite_ttl_secs: 15 * 60,
            max_connections: 10_000,
            max_connections_per_address: 512,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            rate_limit_per_sec: 20,
            lockout_after: 5,
            lockout_secs: 15 * 60,
            sign_in_attempts_per_minute: 60,
            session_ttl_secs: 12 * 3600,
            admin_two_factor: None,
            trusted_proxies: None,
            max_waiting_per_desk: 3,
            turn_urls: None,
            turn_secret: None,
            notes_key_file: None,
            turn_ttl_secs: 12 * 3600,
            phone_number: None,
            phone_gateway_token: None,
            phone_dial_out: false,
            phone: None,
            cluster: None,
        }
    }
}

/// A configuration that was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file, an environment variable or a flag has a bad key or value.
    #[error("config: {0}")]
    Parse(String),
    /// A value is out of range.
    #[error("config: {key}: {problem}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        problem: &'static str,
    },
}

/// Values given on the command line, applied last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--listen ADDR`.
    pub listen: Option<String>,
    /// `--data DIR`.
    pub data: Option<PathBuf>,
    /// `--demo`.
    pub demo: bool,
}

const ENV_PREFIX: &str = "KAKEHASHI_";

/// TCP connections the listener takes beyond `max_connections`, for plain HTTP requests
/// (pages, the API, health checks) while every WebSocket place is taken.
pub const HTTP_HEADROOM: usize = 256;

/// Connections the private listener takes at once (Prometheus and a few operators).
pub const PRIVATE_CONNECTIONS: usize = 64;

/// Environment variables with the prefix that are not configuration keys.
/// `KAKEHASHI_LOG` is the log filter (`info`, `kakehashi=debug`).
const ENV_RESERVED: &[&str] = &["KAKEHASHI_LOG"];

impl Config {
    /// Layer the sources and validate. `env` is the process environment (passed in so
    /// tests can give their own).
    pub fn load(flags: &Flags, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let mut table = toml::Table::new();
        if let Some(path) = &flags.config {
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            table = text.parse::<toml::Table>().map_err(|e| ConfigError::Parse(format!("{}: {e}", path.display())))?;
        }
        let mut env: Vec<(String, String)> =
            env.into_iter().filter(|(k, _)| k.starts_with(ENV_PREFIX) && !ENV_RESERVED.contains(&k.as_str())).collect();
        env.sort();
        for (name, value) in env {
            let key = name[ENV_PREFIX.len()..].to_ascii_lowercase();
            table.insert(key, env_value(&value));
        }
        if let Some(listen) = &flags.listen {
            table.insert("listen".into(), toml::Value::String(listen.clone()));
        }
        if let Some(data) = &flags.data {
            table.insert("data_dir".into(), toml::Value::String(data.display().to_string()));
        }
        if flags.demo {
            table.insert("demo".into(), toml::Value::Boolean(true));
        }
        let config: Config = toml::Value::Table(table.clone()).try_into().map_err(|e: toml::de::Error| {
            // A value of the wrong type: say whose (every key has a default, so one key
            // alone deserializes unless it is the bad one).
            let culprit = table
                .iter()
                .map(|(k, v)| (k, toml::Table::from_iter([(k.clone(), v.clone())])))
                .find(|(_, alone)| toml::Value::Table(alone.clone()).try_into::<Config>().is_err());
            match culprit {
                Some((key, _)) if !e.message().contains("unknown field") => {
                    ConfigError::Parse(format!("{key}: {}", e.message()))
                }
                _ => ConfigError::Parse(e.message().to_string()),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Check ranges once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, problem| Err(ConfigError::Invalid { key, problem });
        if self.heartbeat_secs == 0 || self.heartbeat_secs > 300 {
            return bad("heartbeat_secs", "must be 1 to 300");
        }
        if self.resume_grace_secs < self.heartbeat_secs {
            return bad("resume_grace_secs", "must be at least heartbeat_secs");
        }
        if self.invite_ttl_secs < 60 || self.invite_ttl_secs > 24 * 3600 {
            return bad("invite_ttl_secs", "must be 60 to 86400");
        }
        if self.max_connections == 0 {
            return bad("max_connections", "must be at least 1");
        }
        if self.max_connections_per_address == 0 {
            return bad("max_connections_per_address", "must be at least 1");
        }
        if self.header_timeout_secs == 0 || self.header_timeout_secs > 300 {
            return bad("header_timeout_secs", "must be 1 to 300");
        }
        if self.request_timeout_secs == 0 || self.request_timeout_secs > 600 {
            return bad("request_timeout_secs", "must be 1 to 600");
        }
        if self.rate_limit_per_sec == 0 {
            return bad("rate_limit_per_sec", "must be at least 1");
        }
        if self.sign_in_attempts_per_minute == 0 {
            return bad("sign_in_attempts_per_minute", "must be at least 1");
        }
        if self.lockout_after == 0 {
            return bad("lockout_after", "must be at least 1");
        }
        if self.max_waiting_per_desk == 0 || self.max_waiting_per_desk > 100 {
            return bad("max_waiting_per_desk", "must be 1 to 100");
        }
        if let Some(list) = &self.trusted_proxies
            && Proxies::parse(list).is_err()
        {
            return bad("trusted_proxies", "must be IP addresses or networks (10.42.0.0/16) separated by commas");
        }
        if self.private_listen.is_some_and(|p| p == self.listen) {
            return bad("private_listen", "must differ from listen");
        }
        if let Some(url) = &self.database
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return bad("database", "must be a postgres:// URL (leave it out for SQLite in data_dir)");
        }
        if let Some(token) = &self.metrics_token
            && (token.len() < 16 || token.len() > 256 || !token.bytes().all(|b| b.is_ascii_graphic()))
        {
            return bad("metrics_token", "must be 16 to 256 printable ASCII characters");
        }
        if let Some(token) = &self.phone_gateway_token
            && (token.len() < 16 || token.len() > 256 || !token.bytes().all(|b| b.is_ascii_graphic()))
        {
            return bad("phone_gateway_token", "must be 16 to 256 printable ASCII characters");
        }
        if let Some(number) = &self.phone_number {
            let digits = number.chars().filter(char::is_ascii_digit).count();
            if !(3..=20).contains(&digits) || !number.chars().all(|c| c.is_ascii_digit() || "+- ()".contains(c)) {
                return bad("phone_number", "must be a phone number: 3 to 20 digits, with + - ( ) and spaces");
            }
        }
        if let Some(phone) = &self.phone {
            if self.phone_number.is_none() {
                return bad("phone_number", "is needed with [phone]: desks show it for joining by phone");
            }
            if let Some((key, problem)) = phone.problem() {
                return bad(key, problem);
            }
        } else if self.phone_number.is_some() != self.phone_gateway_token.is_some() {
            return bad("phone_number", "and phone_gateway_token go together (or add a [phone] section)");
        }
        if let Some(cluster) = &self.cluster {
            if let Some((key, problem)) = cluster.problem() {
                return bad(key, problem);
            }
            if self.database.is_none() {
                return bad("database", "is needed with [cluster]: the nodes share a PostgreSQL database");
            }
        }
        if self.session_ttl_secs < 60 {
            return bad("session_ttl_secs", "must be at least 60");
        }
        if self.media_listen.ip().is_unspecified() && self.media_public_here().is_none() {
            return bad(
                "media_public",
                "is needed when media_listen is a wildcard address: participants must be told where to send",
            );
        }
        if self.media_tcp
            && self.media_tcp_listen.is_some_and(|a| a.ip().is_unspecified())
            && self.media_public_here().is_none()
        {
            return bad(
                "media_public",
                "is needed when media_tcp_listen is a wildcard address: participants must be told where to connect",
            );
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return bad("public_url", "must start with http:// or https://");
        }
        if let Some(urls) = &self.turn_urls {
            if self.turn_list().is_empty()
                || self.turn_list().iter().any(|u| !(u.starts_with("turn:") || u.starts_with("turns:")))
            {
                return bad("turn_urls", "must be turn: or turns: URLs, separated by commas");
            }
            if urls.len() > 2000 {
                return bad("turn_urls", "is too long");
            }
            if self.turn_secret.as_deref().is_none_or(str::is_empty) {
                return bad("turn_secret", "is needed with turn_urls");
            }
        }
        if self.turn_ttl_secs < 600 || self.turn_ttl_secs > 7 * 24 * 3600 {
            return bad("turn_ttl_secs", "must be 600 to 604800");
        }
        Ok(())
    }

    /// The TURN URLs, trimmed.
    pub fn turn_list(&self) -> Vec<String> {
        self.turn_urls
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether desks can call a phone into a call (a gateway that can call out).
    pub fn dials_out(&self) -> bool {
        self.phone_number.is_some()
            && (self.phone_dial_out || self.phone.as_ref().is_some_and(|p| p.dial_trunk.is_some()))
    }

    /// Whether admins must have a second factor.
    pub fn admins_two_factor(&self) -> bool {
        self.admin_two_factor.unwrap_or(!self.demo)
    }

    /// The trusted proxies (checked by `validate`).
    pub fn trusted_proxy_list(&self) -> Proxies {
        Proxies::parse(self.trusted_proxies.as_deref().unwrap_or_default()).unwrap_or_default()
    }

    /// The listener's bounds.
    pub fn bounds(&self) -> crate::listener::Bounds {
        crate::listener::Bounds {
            connections: self.max_connections + HTTP_HEADROOM,
            per_address: self.max_connections_per_address,
            header_timeout: std::time::Duration::from_secs(u64::from(self.header_timeout_secs)),
            request_timeout: std::time::Duration::from_secs(u64::from(self.request_timeout_secs)),
            unlimited: self.trusted_proxy_list(),
        }
    }

    /// File descriptors this configuration needs at most.
    pub fn descriptors_needed(&self) -> u64 {
        let private = if self.private_listen.is_some() { PRIVATE_CONNECTIONS } else { 0 };
        (self.max_connections + HTTP_HEADROOM + crate::media::MAX_TCP_CONNECTIONS + private) as u64
            + crate::listener::DESCRIPTORS_BESIDE_CONNECTIONS
    }

    /// Where the key that seals handling notes is: `notes_key_file`, or `notes.key` in the
    /// data directory.
    pub fn notes_key_path(&self) -> PathBuf {
        self.notes_key_file.clone().unwrap_or_else(|| self.data_dir.join("notes.key"))
    }

    /// The base of links given to people (no trailing slash): `public_url`, or the address
    /// the server actually bound (which differs from `listen` when it names port 0).
    pub fn public_base(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}")).trim_end_matches('/').to_string()
    }
}

/// An environment value as TOML: numbers and booleans as such, anything else a string.
fn env_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !matches!(v, toml::Value::Table(_) | toml::Value::Array(_)))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = std::env::temp_dir().join(format!("kakehashi-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("k.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nheartbeat_secs = 10\ndrain_secs = 5\n").unwrap();
        let flags = Flags { config: Some(file), listen: Some("127.0.0.1:9100".into()), data: None, demo: true };
        let c = Config::load(
            &flags,
            env(&[("KAKEHASHI_HEARTBEAT_SECS", "20"), ("PATH", "/bin"), ("KAKEHASHI_LOG", "debug")]),
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9100".parse::<SocketAddr>().unwrap(), "flag over file");
        assert_eq!(c.heartbeat_secs, 20, "environment over file");
        assert_eq!(c.drain_secs, 5, "file over default");
        assert_eq!(c.resume_grace_secs, 60, "default");
        assert!(c.demo);
        assert_eq!(c.public_base(c.listen), "http://127.0.0.1:9100");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        let e = |pairs: &[(&str, &str)]| Config::load(&Flags::default(), env(pairs)).unwrap_err().to_string();
        assert!(
            e(&[("KAKEHASHI_COLOUR", "red")]).contains("unknown field `colour`"),
            "{}",
            e(&[("KAKEHASHI_COLOUR", "red")])
        );
        assert!(
            e(&[("KAKEHASHI_LISTEN", "nowhere")]).contains("socket address"),
            "{}",
            e(&[("KAKEHASHI_LISTEN", "nowhere")])
        );
        assert!(
            e(&[("KAKEHASHI_HEARTBEAT_SECS", "lots")]).contains("heartbeat_secs")
                || e(&[("KAKEHASHI_HEARTBEAT_SECS", "lots")]).contains("u32")
        );
        assert_eq!(e(&[("KAKEHASHI_HEARTBEAT_SECS", "0")]), "config: heartbeat_secs: must be 1 to 300");
        assert_eq!(
            e(&[("KAKEHASHI_PUBLIC_URL", "ftp://x")]),
            "config: public_url: must start with http:// or https://"
        );
        assert!(e(&[("KAKEHASHI_MEDIA_LISTEN", "0.0.0.0:3478")]).starts_with("config: media_public: is needed"));
        let public = env(&[("KAKEHASHI_MEDIA_LISTEN", "0.0.0.0:3478"), ("KAKEHASHI_MEDIA_PUBLIC", "203.0.113.7:3478")]);
        assert_eq!(
            Config::load(&Flags::default(), public).unwrap().media_public,
            Some("203.0.113.7:3478".parse().unwrap())
        );
        assert!(
            e(&[("KAKEHASHI_MEDIA_TCP_LISTEN", "0.0.0.0:443")])
                .starts_with("config: media_public: is needed when media_tcp")
        );
        let off = env(&[("KAKEHASHI_MEDIA_TCP", "false"), ("KAKEHASHI_MEDIA_TCP_LISTEN", "0.0.0.0:443")]);
        assert!(!Config::load(&Flags::default(), off).unwrap().media_tcp);
        assert_eq!(
            e(&[("KAKEHASHI_MEDIA_TCP", "sometimes")]),
            "config: media_tcp: invalid type: string \"sometimes\", expected a boolean"
        );
        assert_eq!(
            e(&[("KAKEHASHI_TURN_URLS", "turns:turn.example.jp:443?transport=tcp")]),
            "config: turn_secret: is needed with turn_urls"
        );
        assert_eq!(
            e(&[("KAKEHASHI_PHONE_NUMBER", "03-1234-5678")]),
            "config: phone_number: and phone_gateway_token go together (or add a [phone] section)"
        );
        assert_eq!(
            e(&[("KAKEHASHI_PHONE_NUMBER", "call us"), ("KAKEHASHI_PHONE_GATEWAY_TOKEN", "0123456789abcdef")]),
            "config: phone_number: must be a phone number: 3 to 20 digits, with + - ( ) and spaces"
        );
        assert_eq!(
            e(&[("KAKEHASHI_PHONE_NUMBER", "0312345678"), ("KAKEHASHI_PHONE_GATEWAY_TOKEN", "short")]),
            "config: phone_gateway_token: must be 16 to 256 printable ASCII characters"
        );
        let phone = env(&[
            ("KAKEHASHI_PHONE_NUMBER", "+81 3-1234-5678"),
            ("KAKEHASHI_PHONE_GATEWAY_TOKEN", "0123456789abcdef"),
        ]);
        assert_eq!(Config::load(&Flags::default(), phone).unwrap().phone_number.as_deref(), Some("+81 3-1234-5678"));
        assert_eq!(
            e(&[("KAKEHASHI_TURN_URLS", "http://turn.example.jp"), ("KAKEHASHI_TURN_SECRET", "s")]),
            "config: turn_urls: must be turn: or turns: URLs, separated by commas"
        );
        let turn = env(&[
            ("KAKEHASHI_TURN_URLS", "turns:turn.example.jp:443?transport=tcp, turn:turn.example.jp:3478"),
            ("KAKEHASHI_TURN_SECRET", "s3cret"),
        ]);
        assert_eq!(Config::load(&Flags::default(), turn).unwrap().turn_list().len(), 2);
        assert_eq!(
            e(&[("KAKEHASHI_DATABASE", "mysql://db/kakehashi")]),
            "config: database: must be a postgres:// URL (leave it out for SQLite in data_dir)"
        );
        assert_eq!(
            e(&[("KAKEHASHI_METRICS_TOKEN", "short")]),
            "config: metrics_token: must be 16 to 256 printable ASCII characters"
        );
        assert_eq!(
            e(&[("KAKEHASHI_LISTEN", "127.0.0.1:8080"), ("KAKEHASHI_PRIVATE_LISTEN", "127.0.0.1:8080")]),
            "config: private_listen: must differ from listen"
        );
        let missing = Flags { config: Some("/nonexistent/k.toml".into()), ..Flags::default() };
        assert!(
            Config::load(&missing, env(&[])).unwrap_err().to_string().starts_with("config file /nonexistent/k.toml")
        );
    }

    #[test]
    fn the_deployment_example_is_valid() {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kakehashi.toml");
        let c = Config::load(&Flags { config: Some(file), ..Flags::default() }, env(&[])).unwrap();
        assert_eq!(c.media_public, Some("203.0.113.7:3478".parse().unwrap()));
        assert!(c.media_tcp);
    }

    #[test]
    fn bad_toml_says_where() {
        let dir = std::env::temp_dir().join(format!("kakehashi-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("k.toml");
        std::fs::write(&file, "listen = \n").unwrap();
        let err = Config::load(&Flags { config: Some(file), ..Flags::default() }, env(&[])).unwrap_err().to_string();
        assert!(err.contains("k.toml") && err.contains("line 1"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
