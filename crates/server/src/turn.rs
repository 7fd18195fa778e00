//! TURN credentials for clients, in the REST form coturn checks with its
//! `static-auth-secret` (draft-uberti-behave-turn-rest, as RFC 7635 describes): the
//! username is the expiry time (Unix seconds) and a label, the password the base64
//! HMAC-SHA1 of the username under the shared secret. Nothing is stored: the TURN server
//! recomputes the password and refuses it once the time has passed.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use kakehashi_protocol as p;

use crate::config::Config;

/// The password for `username` under `secret`.
pub fn credential(secret: &str, username: &str) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The ICE servers to hand a client now (`now_secs`: Unix seconds); empty without TURN.
/// `label` names the kind of client (`desk`, `interpreter`, `resident`), never a person.
pub fn ice_servers(config: &Config, now_secs: i64, label: &str) -> Vec<p::IceServer> {
    let urls = config.turn_list();
    let Some(secret) = config.turn_secret.as_deref() else { return Vec::new() };
    if urls.is_empty() {
        return Vec::new();
    }
    let username = format!("{}:{label}", now_secs + i64::from(config.turn_ttl_secs));
    let credential = credential(secret, &username);
    vec![p::IceServer { urls, username: Some(username), credential: Some(credential) }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_coturns_rest_form() {
        // base64(HMAC-SHA1("north", "1700000000:kakehashi")), computed independently.
        assert_eq!(credential("north", "1700000000:kakehashi"), "UxyTAnXiDum6qAs227/itxuI2KI=");
        let config = Config {
            turn_urls: Some("turns:turn.example.jp:443?transport=tcp".into()),
            turn_secret: Some("north".into()),
            turn_ttl_secs: 3600,
            ..Config::default()
        };
        let servers = ice_servers(&config, 1_700_000_000, "resident");
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].username.as_deref(), Some("1700003600:resident"));
        assert_eq!(servers[0].urls, vec!["turns:turn.example.jp:443?transport=tcp".to_string()]);
        assert!(ice_servers(&Config::default(), 0, "desk").is_empty());
    }
}
