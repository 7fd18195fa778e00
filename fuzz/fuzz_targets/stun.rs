//! Any bytes as STUN, and as a datagram on the shared port: an answer, never a panic.
#![no_main]

use std::net::SocketAddr;
use std::time::Instant;

use kakehashi_relay::{Demux, Route, stun};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = stun::parse(data) {
        assert!(m.username.is_none_or(|u| u.len() <= stun::MAX_USERNAME));
    }
    let mut d: Demux<u8> = Demux::new(1_000_000);
    d.add_leg(1, "abcd").unwrap();
    let known = SocketAddr::from(([127, 0, 0, 1], 1));
    d.confirm(1, known);
    let from = SocketAddr::from(([127, 0, 0, 2], 2));
    if let Route::Leg(_) = d.route(Instant::now(), from, data) {
        panic!("an unconfirmed address was routed as media");
    }
});
