//! A flood at the shared media port while a participant joins (issue 18's attack): junk
//! lands just before every datagram the participants send, so it is always in the way of
//! their connectivity checks. A new participant still connects as fast as without it,
//! whether the flood comes from one host on ever-changing ports, from thousands of
//! spoofed hosts, or from the newcomer's own address (a carrier's NAT shares it).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use kakehashi_relay::stun::binding_request;
use kakehashi_relay::testnet::{Crossfire, Publish, TestNet};
use kakehashi_relay::{DemuxStats, SessionId};

const S: SessionId = SessionId(7);
const STEP: Duration = Duration::from_millis(10);

/// Join a second participant while `flood` is in the way; how long it took to connect
/// (if it did within 5 s), and the demultiplexer's counters.
fn join_under(flood: Option<Crossfire>) -> (Option<Duration>, DemuxStats) {
    let mut net = TestNet::new(Instant::now());
    net.join(S, 1, Publish::default()).unwrap();
    assert!(net.connect_all(STEP, Duration::from_secs(5)), "the first participant connects before the flood");
    net.crossfire = flood;
    net.advance(STEP);
    net.join(S, 2, Publish::default()).unwrap();
    let start = net.now;
    let connected = net.connect_all(STEP, Duration::from_secs(5));
    (connected.then(|| net.now - start), net.relay.demux_stats())
}

/// 500 junk STUN messages and 500 garbage datagrams from one host, a new port each
/// (never 40,000, the port `TestNet`'s clients have).
fn from_host(ip: [u8; 4]) -> Crossfire {
    let junk = binding_request([7; 12], "guessed:ufrag");
    let garbage = [0x80u8, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    let mut port = 1024u16;
    Box::new(move |relay, now| {
        for i in 0..1000 {
            port = port.checked_add(1).filter(|p| *p != 40_000).unwrap_or(1024);
            let datagram: &[u8] = if i % 2 == 0 { &junk } else { &garbage };
            relay.handle_datagram(now, SocketAddr::from((ip, port)), datagram);
        }
    })
}

/// 1000 junk STUN messages, each from another of 50,000 spoofed hosts.
fn spoofed_hosts() -> Crossfire {
    let junk = binding_request([7; 12], "guessed:ufrag");
    let mut n = 0u32;
    Box::new(move |relay, now| {
        for _ in 0..1000 {
            n = (n + 1) % 50_000;
            relay.handle_datagram(now, SocketAddr::from(((0xc633_0000 + n).to_be_bytes(), 9)), &junk);
        }
    })
}

fn assert_unhurt(flood: Crossfire) {
    let (calm, _) = join_under(None);
    let calm = calm.expect("connects without a flood");
    let (flooded, stats) = join_under(Some(flood));
    let flooded = flooded.unwrap_or_else(|| panic!("the newcomer never connected under the flood: {stats:?}"));
    assert!(flooded <= calm + STEP, "took {flooded:?} under the flood, {calm:?} without: {stats:?}");
}

#[test]
fn a_junk_flood_from_one_host_does_not_delay_a_new_participant() {
    assert_unhurt(from_host([192, 0, 2, 66]));
}

#[test]
fn a_spoofed_flood_from_thousands_of_hosts_does_not_shut_out_a_new_participant() {
    assert_unhurt(spoofed_hosts());
}

#[test]
fn a_junk_flood_from_the_newcomers_own_address_does_not_delay_it() {
    // `TestNet` gives the second client 10.1.0.3: behind a carrier's NAT, thousands of
    // phones share one address.
    assert_unhurt(from_host([10, 1, 0, 3]));
}
