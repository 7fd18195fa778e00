//! The `[phone]` section: the phone bridge (`kakehashi-phone`, ADR 0015) started inside
//! `kakehashi serve`. Its SIP endpoint, the trunks whose calls it takes, the PIN line,
//! language lines (ADR 0016), registrations, and recorded prompts.
//!
//! ```toml
//! phone_number = "03-1234-5678"        # what desks show for "join by phone"
//! [phone]
//! sip_listen = "192.0.2.10:5060"
//! trunks = ["192.0.2.1"]
//! [[phone.registrar]]
//! trunk = "city-pbx"
//! server = "sip:192.0.2.1:5060"
//! username = "kakehashi"
//! password = "…"
//! [[phone.line]]                       # Vietnamese callers, answered by desk 3
//! number = "0120-111-222"
//! desk = 3
//! languages = ["vi"]
//! [[phone.line]]                       # a menu: 1 for Português, 2 for Español
//! number = "0120-111-333"
//! desk = 3
//! languages = ["pt", "es"]
//! ```

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

/// The phone bridge's settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhoneSection {
    /// SIP over UDP on this address.
    pub sip_listen: SocketAddr,
    /// RTP sockets bind this address and the SDP names it (default: `sip_listen`'s).
    pub rtp_ip: Option<IpAddr>,
    /// The trunks' and PBXs' addresses: SIP from any other is dropped unanswered.
    pub trunks: Vec<IpAddr>,
    /// The number the trunk calls for the PIN line (default: `phone_number`); compared
    /// by its digits.
    pub pin_line: Option<String>,
    /// Where calls out go (the trunk's or PBX's SIP address); without it desks cannot
    /// call a phone into a call.
    pub dial_trunk: Option<SocketAddr>,
    /// How long a call out may ring before it counts as unanswered.
    pub ring_secs: u32,
    /// Recorded prompts (`<language>/<name>.wav`, 8 kHz) in place of the generated ones.
    pub prompts_dir: Option<PathBuf>,
    /// Where the bridge's WebRTC peers bind to reach the relay.
    pub peer_ip: IpAddr,
    /// Registrars to stay registered with.
    pub registrar: Vec<RegistrarSection>,
    /// Language lines.
    pub line: Vec<LineSection>,
}

/// A language line (ADR 0016): callers of `number` wait in `desk`'s queue for an
/// interpreter of their language: the line's one, or the one they pick from its menu.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSection {
    /// The number the trunk calls (compared by its digits).
    pub number: String,
    /// The desk whose staff answer it (its id in the directory).
    pub desk: i64,
    /// One language, or a menu of up to nine (key 1 for the first).
    pub languages: Vec<String>,
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

impl Default for PhoneSection {
    fn default() -> Self {
        PhoneSection {
            sip_listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            rtp_ip: None,
            trunks: Vec::new(),
            pin_line: None,
            dial_trunk: None,
            ring_secs: 45,
            prompts_dir: None,
            peer_ip: IpAddr::from([127, 0, 0, 1]),
            registrar: Vec::new(),
            line: Vec::new(),
        }
    }
}

/// One registration with a trunk's registrar (digest authentication).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrarSection {
    /// The trunk's name, for logs and metrics.
    pub trunk: String,
    /// The registrar (`sip:host:port`).
    pub server: String,
    /// The account.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The digest realm, if the trunk fixes one.
    pub realm: Option<String>,
    /// Seconds asked for (default 300).
    #[serde(default = "default_expires")]
    pub expires: u32,
}

fn default_expires() -> u32 {
    300
}

impl std::fmt::Debug for RegistrarSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrarSection")
            .field("trunk", &self.trunk)
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl PhoneSection {
    /// What is wrong with it, as (key, problem).
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        if self.sip_listen.ip().is_unspecified() && self.rtp_ip.is_none_or(|ip| ip.is_unspecified()) {
            return Some(("phone.rtp_ip", "is needed when sip_listen is a wildcard address: the SDP must name one"));
        }
        if self.trunks.is_empty() && self.registrar.is_empty() {
            return Some(("phone.trunks", "must name at least one trunk or PBX address (or add a registrar)"));
        }
        for r in &self.registrar {
            if !r.server.starts_with("sip:") {
                return Some(("phone.registrar.server", "must be a sip: URI (sip:host:port)"));
            }
            if r.username.is_empty() || r.password.is_empty() {
                return Some(("phone.registrar", "needs a username and a password"));
            }
            if !(60..=86_400).contains(&r.expires) {
                return Some(("phone.registrar.expires", "must be 60 to 86400"));
            }
        }
        if !(5..=120).contains(&self.ring_secs) {
            return Some(("phone.ring_secs", "must be 5 to 120"));
        }
        if let Some(line) = &self.pin_line
            && !line.chars().any(|c| c.is_ascii_digit())
        {
            return Some(("phone.pin_line", "must be a number"));
        }
        self.line_problem()
    }

    /// What is wrong with the language lines, if anything.
    fn line_problem(&self) -> Option<(&'static str, &'static str)> {
        let mut numbers = std::collections::HashSet::new();
        for line in &self.line {
            let number = digits(&line.number);
            if number.len() < 3 {
                return Some(("phone.line.number", "must be a phone number"));
            }
            if !numbers.insert(number.clone()) || self.pin_line.as_deref().is_some_and(|p| digits(p) == number) {
                return Some(("phone.line.number", "each line needs a number of its own (not the PIN line's)"));
            }
            if line.desk <= 0 {
                return Some(("phone.line.desk", "must be a desk's id"));
            }
            if line.languages.is_empty() || line.languages.len() > kakehashi_phone::bridge::MENU_MAX {
                return Some(("phone.line.languages", "must name one language, or a menu of two to nine"));
            }
            if line.languages.iter().any(|l| kakehashi_dispatch::LanguageId::parse(l).is_err()) {
                return Some((
                    "phone.line.languages",
                    "must be languages the server knows (BCP 47 tags such as vi or pt-BR)",
                ));
            }
        }
        None
    }

    /// The language lines, as the bridge takes them.
    pub fn lines(&self) -> Vec<kakehashi_phone::bridge::Line> {
        self.line
            .iter()
            .map(|l| kakehashi_phone::bridge::Line {
                number: l.number.clone(),
                desk: l.desk,
                languages: l.languages.clone(),
            })
            .collect()
    }

    /// The gateway's settings.
    pub fn gateway(&self) -> kakehashi_phone::gateway::Settings {
        kakehashi_phone::gateway::Settings {
            listen: self.sip_listen,
            media_ip: self.rtp_ip.unwrap_or(self.sip_listen.ip()),
            allowed: self.trunks.clone(),
            registrars: self
                .registrar
                .iter()
                .map(|r| kakehashi_phone::register::Registrar {
                    trunk: r.trunk.clone(),
                    server: r.server.clone(),
                    username: r.username.clone(),
                    password: r.password.clone(),
                    realm: r.realm.clone(),
                    expires: r.expires,
                })
                .collect(),
        }
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

    #[test]
    fn a_phone_section_with_a_trunk_and_a_registrar() {
        let c = config(
            r#"
            phone_number = "03-1234-5678"
            [phone]
            sip_listen = "0.0.0.0:5060"
            rtp_ip = "192.0.2.10"
            trunks = ["192.0.2.1"]
            [[phone.registrar]]
            trunk = "city-pbx"
            server = "sip:192.0.2.1:5060"
            username = "kakehashi"
            password = "pbx-secret"
            "#,
        )
        .unwrap();
        let phone = c.phone.as_ref().unwrap();
        let gateway = phone.gateway();
        assert_eq!(gateway.media_ip, std::net::IpAddr::from([192, 0, 2, 10]));
        assert_eq!((gateway.registrars[0].expires, gateway.allowed.len()), (300, 1));
        assert!(!format!("{c:?}").contains("pbx-secret"), "the password stays out of logs");
        assert_eq!(c.phone_gateway_token, None, "made up at start when not given");
    }

    #[test]
    fn language_lines_are_a_number_a_desk_and_a_language_or_a_menu() {
        let base = "phone_number = \"0120\"\n[phone]\ntrunks = [\"192.0.2.1\"]\n";
        let c = config(&format!(
            "{base}[[phone.line]]\nnumber = \"0120-111-222\"\ndesk = 3\nlanguages = [\"vi\"]\n[[phone.line]]\nnumber = \"0120-111-333\"\ndesk = 3\nlanguages = [\"pt-BR\", \"es\"]\n"
        ))
        .unwrap();
        let lines = c.phone.as_ref().unwrap().lines();
        assert_eq!((lines.len(), lines[1].languages.len(), lines[0].desk), (2, 2, 3));
        let line = |number: &str, languages: &str| {
            format!(
                "{base}pin_line = \"0120-000\"\n[[phone.line]]\nnumber = \"{number}\"\ndesk = 3\nlanguages = {languages}\n"
            )
        };
        let cases = [
            (line("0120-000", "[\"vi\"]"), "phone.line.number: each line needs a number of its own"),
            (line("12", "[\"vi\"]"), "phone.line.number: must be a phone number"),
            (line("0120-111", "[]"), "phone.line.languages: must name one language"),
            (
                line("0120-111", "[\"vi\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]"),
                "a menu of two to nine",
            ),
            (line("0120-111", "[\"not a tag!\"]"), "phone.line.languages: must be languages the server knows"),
        ];
        for (text, want) in cases {
            let e = config(&text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn what_is_wrong_is_named() {
        let cases = [
            ("[phone]\ntrunks = [\"192.0.2.1\"]", "phone_number: is needed with [phone]"),
            ("phone_number = \"0120\"\n[phone]", "phone.trunks: must name at least one trunk"),
            (
                "phone_number = \"0120\"\n[phone]\nsip_listen = \"0.0.0.0:5060\"\ntrunks = [\"192.0.2.1\"]",
                "phone.rtp_ip: is needed when sip_listen is a wildcard",
            ),
            (
                "phone_number = \"0120\"\n[phone]\n[[phone.registrar]]\ntrunk = \"t\"\nserver = \"192.0.2.1\"\nusername = \"u\"\npassword = \"p\"",
                "phone.registrar.server: must be a sip: URI",
            ),
            ("phone_number = \"0120\"\n[phone]\ntrunks = [\"not an address\"]", "invalid IP address syntax"),
            ("phone_number = \"0120\"\n[phone]\ntrunk = [\"192.0.2.1\"]", "unknown field `trunk`"),
        ];
        for (text, want) in cases {
            let e = config(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }
}

/// `kakehashi phone --config FILE`: the bridge on its own, a client of a server elsewhere.
///
/// ```toml
/// server = "wss://kakehashi.example.jp/ws"
/// gateway_token = "…"                    # the server's phone_gateway_token
/// phone_number = "03-1234-5678"          # the PIN line (as the server's)
/// metrics_listen = "127.0.0.1:9464"      # /metrics for Prometheus
/// [phone]
/// sip_listen = "192.0.2.10:5060"
/// trunks = ["192.0.2.1"]
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AloneConfig {
    /// The server's WebSocket (`ws://` or `wss://…/ws`).
    pub server: String,
    /// The server's `phone_gateway_token`.
    pub gateway_token: String,
    /// The PIN line's number (the server's `phone_number`).
    pub phone_number: String,
    /// Where `/metrics` answers, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// The SIP side.
    pub phone: PhoneSection,
}

impl AloneConfig {
    /// Read and check a file.
    pub fn load(path: &std::path::Path) -> Result<AloneConfig, super::ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| super::ConfigError::Read { path: path.to_path_buf(), source })?;
        let config: AloneConfig = toml::from_str(&text)
            .map_err(|e| super::ConfigError::Parse(format!("{}: {}", path.display(), e.message())))?;
        let bad = |key, problem| Err(super::ConfigError::Invalid { key, problem });
        if !(config.server.starts_with("ws://") || config.server.starts_with("wss://")) {
            return bad("server", "must be the server's WebSocket: ws:// or wss://…/ws");
        }
        if config.gateway_token.len() < 16 || !config.gateway_token.bytes().all(|b| b.is_ascii_graphic()) {
            return bad("gateway_token", "must be the server's phone_gateway_token (16 or more printable characters)");
        }
        if !config.phone_number.chars().any(|c| c.is_ascii_digit()) {
            return bad("phone_number", "must be a phone number");
        }
        if let Some((key, problem)) = config.phone.problem() {
            return bad(key, problem);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod alone_tests {
    use super::AloneConfig;

    fn load(text: &str) -> Result<AloneConfig, String> {
        let path = std::env::temp_dir().join(format!("kakehashi-phone-{}-{}.toml", std::process::id(), text.len()));
        std::fs::write(&path, text).unwrap();
        let r = AloneConfig::load(&path).map_err(|e| e.to_string());
        std::fs::remove_file(path).unwrap();
        r
    }

    #[test]
    fn the_deployment_example_of_the_bridge_alone_is_valid() {
        let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/phone.toml");
        let c = AloneConfig::load(&file).unwrap();
        assert!(c.server.starts_with("wss://") && c.phone.dial_trunk.is_some());
    }

    #[test]
    fn the_bridge_alone_names_what_is_wrong() {
        let good = "server = \"wss://k.example/ws\"\ngateway_token = \"0123456789abcdef\"\nphone_number = \"0120\"\n[phone]\ntrunks = [\"192.0.2.1\"]\n";
        assert_eq!(load(good).unwrap().phone.trunks.len(), 1);
        let e = load(&good.replace("wss://", "https://")).unwrap_err();
        assert!(e.contains("server: must be the server's WebSocket"), "{e}");
        let e = load(&good.replace("0123456789abcdef", "short")).unwrap_err();
        assert!(e.contains("gateway_token"), "{e}");
        let e = load(&good.replace("[phone]\ntrunks = [\"192.0.2.1\"]\n", "[phone]\n")).unwrap_err();
        assert!(e.contains("phone.trunks"), "{e}");
        let e = load("server = 1").unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
    }
}
