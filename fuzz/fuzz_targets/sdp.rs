//! Any bytes as a participant's SDP offer: the relay answers with SDP or refuses with a
//! reason, never panics. Seed the corpus with `crates/relay/tests/fixtures/*.sdp`.
#![no_main]

use std::net::SocketAddr;
use std::time::Instant;

use kakehashi_relay::{OsRandom, Relay, SessionId, Start};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let offer = String::from_utf8_lossy(data).into_owned();
    let local = SocketAddr::from(([127, 0, 0, 1], 3478));
    let mut relay = Relay::new(local, local, Start::system(), Box::new(OsRandom));
    match relay.accept_offer(Instant::now(), SessionId(1), 1, offer) {
        Ok((_, answer)) => assert!(answer.starts_with("v=0")),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
