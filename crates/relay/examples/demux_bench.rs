//! Cost of demultiplexing one datagram on the shared port, the relay's per-packet
//! entry: 30 three-party sessions (90 legs) with a confirmed address each, media
//! datagrams in round-robin, plus a share of binding requests from unconfirmed
//! addresses and of garbage from unknown ones.
//!
//! ```text
//! cargo run --release -p kakehashi-relay --example demux_bench
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::net::SocketAddr;
use std::time::Instant;

use kakehashi_relay::{Demux, Route, stun};

fn main() {
    let legs = 90u32;
    let mut d: Demux<u32> = Demux::new();
    let addrs: Vec<SocketAddr> = (0..legs)
        .map(|i| SocketAddr::from(([10, 0, (i / 250) as u8, (i % 250) as u8 + 1], 40_000 + i as u16)))
        .collect();
    for (i, a) in addrs.iter().enumerate() {
        d.add_leg(i as u32, &format!("ufrag{i:04}")).unwrap();
        d.confirm(i as u32, *a);
    }
    let mut rtp = vec![0x80u8, 111, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    rtp.resize(1200, 0);
    let probe = stun::binding_request([9; 12], "ufrag0007:remote");
    let stranger = SocketAddr::from(([192, 0, 2, 1], 5000));
    let n = 20_000_000u64;
    let start = Instant::now();
    let mut routed = 0u64;
    for i in 0..n {
        let (from, datagram): (SocketAddr, &[u8]) = match i % 1000 {
            0 => (stranger, &probe),
            1 => (stranger, &rtp),
            k => (addrs[(k % u64::from(legs)) as usize], &rtp),
        };
        if let Route::Leg(_) = d.route(start, from, datagram) {
            routed += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{{\"legs\":{legs},\"datagrams\":{n},\"routed\":{routed},\"ns_per_datagram\":{:.1},\"datagrams_per_sec\":{:.0}}}",
        secs * 1e9 / n as f64,
        n as f64 / secs
    );
}
