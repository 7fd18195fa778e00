//! The relay's CPU per forwarded packet, its latency, and its memory per session: 30
//! three-party sessions at realistic rates on `kakehashi_relay::testnet` (sans-I/O `rtc`
//! clients, simulated time, no sockets).
//!
//! Each participant publishes Opus (50 packets/s, 120 bytes) and VP8 (about 1.2 Mbit/s:
//! 120 packets/s of 1,200 bytes). After ICE, DTLS and the relay's renegotiations it runs
//! a number of simulated seconds and reports:
//! - the relay's CPU per forwarded packet: the time spent inside the relay (SRTP
//!   decryption of each inbound packet, the interceptors, forwarding and SRTP encryption
//!   for each receiver, timers) divided by the packets delivered; the clients' own work is
//!   not counted;
//! - the relay's service time per inbound datagram (p50, p99, max): from handing it over
//!   until every copy is out, i.e. the latency it adds when not queueing;
//! - the relay's own heap per session: live heap bytes (counted by the global allocator)
//!   freed when every leg is removed, divided by the sessions. The clients' memory is
//!   not in it, and the removal also shows that legs give their memory back.
//!
//! ```text
//! cargo run --release -p kakehashi-relay --example forward_bench -- [sessions] [seconds]
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::expect_used)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use kakehashi_relay::SessionId;
use kakehashi_relay::testnet::{Publish, TestNet};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Bytes live on the heap now.
fn live_heap() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let sessions: usize = args.next().map_or(30, |a| a.parse().expect("sessions"));
    let seconds: u64 = args.next().map_or(5, |a| a.parse().expect("seconds"));
    let setup = Instant::now();
    let mut net = TestNet::new(Instant::now());
    net.record = false;
    for s in 0..sessions {
        for k in 0..3 {
            net.join(SessionId(s as u64), k, Publish::default()).unwrap();
        }
    }
    let connected = net.connect_all(Duration::from_millis(10), Duration::from_secs(30));
    let audio = Bytes::from(vec![0u8; 120]);
    // VP8 payload descriptor, then a delta frame; every 120th is a keyframe.
    let video = |key: bool| {
        let mut v = vec![0x10, u8::from(!key)];
        v.resize(1200, 0);
        Bytes::from(v)
    };
    let people = net.clients.len();
    // Prime every track (a track opens on its first packet) and let renegotiation finish.
    for _ in 0..3 {
        for i in 0..people {
            net.send(i, false, audio.clone());
            net.send(i, true, video(true));
        }
        net.advance(Duration::from_millis(200));
    }
    let setup_secs = setup.elapsed().as_secs_f64();
    // Steady state: per simulated second, 50 audio and 120 video packets per participant.
    let delivered_before = net.delivered;
    net.measure = true;
    let wall = Instant::now();
    let slot = Duration::from_nanos(1_000_000_000 / 120);
    for _ in 0..seconds {
        for n in 0..120u32 {
            for i in 0..people {
                net.send(i, true, video(n == 0));
                if n % 12 < 5 {
                    net.send(i, false, audio.clone());
                }
            }
            net.advance(slot);
        }
    }
    let wall_secs = wall.elapsed().as_secs_f64();
    net.measure = false;
    let forwarded = net.delivered - delivered_before;
    let expected = (people * 2) as u64 * seconds * 170;
    let per_packet_us = net.relay_time.as_secs_f64() * 1e6 / forwarded.max(1) as f64;
    let mut service = std::mem::take(&mut net.service_ns);
    service.sort_unstable();
    // The relay's own memory: what removing every leg gives back.
    let legs: Vec<_> = net.relay.legs().collect();
    let before = live_heap();
    for leg in legs {
        net.relay.remove_leg(leg);
    }
    while net.relay.poll_transmit().is_some() {}
    while net.relay.poll_event().is_some() {}
    let freed = before - live_heap();
    let (legs_left, sessions_left) = net.relay.counts();
    println!(
        "{{\"sessions\":{sessions},\"participants\":{people},\"connected\":{connected},\"simulated_seconds\":{seconds},\"forwarded\":{forwarded},\"expected\":{expected},\"relay_cpu_us_per_forwarded_packet\":{per_packet_us:.2},\"forwarded_per_cpu_second\":{:.0},\"inbound_datagrams\":{},\"relay_service_us_p50\":{:.1},\"relay_service_us_p99\":{:.1},\"relay_service_us_max\":{:.1},\"relay_heap_kib_per_session\":{},\"legs_left\":{legs_left},\"sessions_left\":{sessions_left},\"wall_secs\":{wall_secs:.2},\"setup_secs\":{setup_secs:.2}}}",
        1e6 / per_packet_us,
        service.len(),
        percentile(&service, 0.5),
        percentile(&service, 0.99),
        percentile(&service, 1.0),
        freed / 1024 / sessions.max(1) as i64,
    );
}
