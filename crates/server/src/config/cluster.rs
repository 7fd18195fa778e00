//! The `[cluster]` section: this node is one of several sharing a Redis and a PostgreSQL
//! (ADR 0020).

use serde::Deserialize;

/// Cluster mode (`[cluster]`); needs `database` (PostgreSQL).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// Redis: `redis://host:6379/` (`rediss://` for TLS; a password as
    /// `redis://:secret@host:6379/`).
    pub redis: String,
    /// This node's id, unique in the cluster: 1 to 64 letters, digits, `-`, `_` or `.`.
    /// By default the host's name (a Kubernetes pod's name, a container's id).
    #[serde(default)]
    pub node: Option<String>,
    /// The prefix of every Redis key, one per deployment sharing a Redis (default
    /// `kakehashi`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// The writer's lease, in milliseconds (default 3000): a writer that dies is replaced
    /// within about this.
    #[serde(default = "default_lease_ms")]
    pub lease_ms: u32,
    /// Each node's media address as participants reach it, by node id, where the nodes
    /// share one configuration (a Kubernetes StatefulSet's pods): every node runs a relay
    /// (ADR 0022). A node not named here uses the top-level `media_public`.
    #[serde(default)]
    pub media_public: std::collections::BTreeMap<String, std::net::SocketAddr>,
}

impl super::Config {
    /// The media address participants are told: this node's in `[cluster.media_public]`,
    /// else `media_public`.
    pub fn media_public_here(&self) -> Option<std::net::SocketAddr> {
        let mine = self.cluster.as_ref().and_then(|c| c.media_public.get(&c.node_id()).copied());
        mine.or(self.media_public)
    }
}

fn default_prefix() -> String {
    "kakehashi".into()
}

fn default_lease_ms() -> u32 {
    3000
}

impl ClusterSection {
    /// This node's id: as configured, else the host's name.
    pub fn node_id(&self) -> String {
        self.node.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map_or_else(|_| "node".into(), |h| h.trim().to_string())
        })
    }

    /// The first problem, as (key, what is wrong).
    pub(super) fn problem(&self) -> Option<(&'static str, &'static str)> {
        if !(self.redis.starts_with("redis://") || self.redis.starts_with("rediss://")) {
            return Some(("cluster.redis", "must be a redis:// or rediss:// URL"));
        }
        if !crate::cluster::lease::valid_node(&self.node_id()) {
            return Some((
                "cluster.node",
                "must be 1 to 64 letters, digits, '-', '_' or '.' (set it: the host's name is not)",
            ));
        }
        if self.prefix.is_empty() || self.prefix.len() > 64 || self.prefix.contains(char::is_whitespace) {
            return Some(("cluster.prefix", "must be 1 to 64 characters without spaces"));
        }
        if !(500..=60_000).contains(&self.lease_ms) {
            return Some(("cluster.lease_ms", "must be 500 to 60000"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn config(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.message().to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    const DB: &str = "database = \"postgres://kakehashi@db/kakehashi\"\n";

    #[test]
    fn a_cluster_section_with_its_defaults() {
        let c = config(&format!("{DB}[cluster]\nredis = \"redis://redis:6379/\"\nnode = \"node-a\"\n")).unwrap();
        let cluster = c.cluster.unwrap();
        assert_eq!(
            (cluster.node_id().as_str(), cluster.prefix.as_str(), cluster.lease_ms),
            ("node-a", "kakehashi", 3000)
        );
        let c = config(&format!("{DB}[cluster]\nredis = \"redis://redis:6379/\"\n")).unwrap();
        assert!(!c.cluster.unwrap().node_id().is_empty(), "the host's name");
    }

    #[test]
    fn each_node_finds_its_own_media_address() {
        let text = |node: &str| {
            format!(
                "{DB}media_listen = \"0.0.0.0:3478\"\n[cluster]\nredis = \"redis://r/\"\nnode = \"{node}\"\n\
                 [cluster.media_public]\nkakehashi-0 = \"203.0.113.7:3478\"\nkakehashi-1 = \"203.0.113.8:3478\"\n"
            )
        };
        let c = config(&text("kakehashi-1")).unwrap();
        assert_eq!(c.media_public_here(), Some("203.0.113.8:3478".parse().unwrap()));
        let e = config(&text("kakehashi-2")).unwrap_err();
        assert!(e.contains("media_public: is needed"), "a node not named, with no default: {e}");
        let c = config(&format!("media_public = \"198.51.100.1:3478\"\n{}", text("kakehashi-2"))).unwrap();
        assert_eq!(c.media_public_here(), Some("198.51.100.1:3478".parse().unwrap()), "the default");
    }

    #[test]
    fn what_is_wrong_is_named() {
        let redis = "redis = \"redis://r/\"\n";
        let cases = [
            (format!("[cluster]\n{redis}"), "database: is needed with [cluster]"),
            (format!("{DB}[cluster]\nredis = \"http://r/\""), "cluster.redis: must be a redis:// or rediss:// URL"),
            (format!("{DB}[cluster]\n{redis}node = \"a|1\""), "cluster.node: must be 1 to 64 letters"),
            (format!("{DB}[cluster]\n{redis}prefix = \"\""), "cluster.prefix: must be 1 to 64 characters"),
            (format!("{DB}[cluster]\n{redis}lease_ms = 100"), "cluster.lease_ms: must be 500 to 60000"),
            (format!("{DB}[cluster]\nnode = \"a\""), "missing field `redis`"),
            (format!("{DB}[cluster]\n{redis}leader = true"), "unknown field `leader`"),
        ];
        for (text, says) in cases {
            let e = config(&text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
