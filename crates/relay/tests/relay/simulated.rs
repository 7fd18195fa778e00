//! The relay on simulated time (`kakehashi_relay::testnet`): forwarding and rewriting,
//! audio-only participants, keyframe requests on join, loss recovered by NACK on both hops,
//! continuity across a publisher's reconnect and camera switches, the bandwidth policy,
//! ICE-TCP, a relay behind a 1:1 NAT, and consent timeout.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kakehashi_relay::testnet::{Publish, Received, TestNet};
use kakehashi_relay::{Kind, LegEvent, Peer, SessionId, Transport, classify};

const S: SessionId = SessionId(1);
const MS: Duration = Duration::from_millis(1);

/// A payload naming its publisher, kind and number; video ones are VP8 key or delta frames.
fn payload(who: u8, video: bool, n: u32, keyframe: bool) -> Bytes {
    let mut p = if video { vec![0x10, if keyframe { 0x00 } else { 0x01 }] } else { vec![0xAA, 0xAA] };
    p.extend_from_slice(&[who, u8::from(video)]);
    p.extend_from_slice(&n.to_be_bytes());
    p.extend_from_slice(&[0u8; 40]);
    Bytes::from(p)
}

/// (publisher, video, n) of a payload made by [`payload`].
fn label(r: &Received) -> (u8, bool, u32) {
    let p = &r.payload;
    (p[2], p[3] == 1, u32::from_be_bytes([p[4], p[5], p[6], p[7]]))
}

/// A network with `n` participants connected and every track open and negotiated.
fn session(publish: &[Publish]) -> TestNet {
    session_on(TestNet::new(Instant::now()), &[Transport::Udp; 8][..publish.len()], publish)
}

/// [`session`] on `net`, each participant over its transport.
fn session_on(mut net: TestNet, transports: &[Transport], publish: &[Publish]) -> TestNet {
    for (i, (p, t)) in publish.iter().zip(transports).enumerate() {
        net.join_over(S, i as u64, *p, *t).unwrap();
    }
    assert!(net.connect_all(10 * MS, Duration::from_secs(10)), "everyone connects");
    // A track opens on its first packet, at the relay and at each receiving client; the
    // renegotiations follow.
    for _ in 0..2 {
        for i in 0..publish.len() {
            net.send(i, false, payload(i as u8, false, 0, false));
            net.send(i, true, payload(i as u8, true, 0, true));
        }
        net.advance(200 * MS);
    }
    for c in &mut net.clients {
        c.received.clear();
    }
    net
}

/// Per (publisher, video): what a client received, in order of arrival.
fn streams(received: &[Received]) -> BTreeMap<(u8, bool), Vec<&Received>> {
    let mut by: BTreeMap<(u8, bool), Vec<&Received>> = BTreeMap::new();
    for r in received {
        let (who, video, _) = label(r);
        by.entry((who, video)).or_default().push(r);
    }
    by
}

#[test]
fn forwarding_rewrites_ssrc_payload_type_and_extensions_and_serves_audio_only_participants() {
    // Participant 0 uses other payload type numbers; participant 2 is audio-only.
    let mut net = session(&[
        Publish { payload_types: (109, 100), ..Publish::default() },
        Publish::default(),
        Publish { video: false, ..Publish::default() },
    ]);
    for n in 1..=50u32 {
        for i in 0..3 {
            net.send(i, false, payload(i as u8, false, n, false));
            net.send(i, true, payload(i as u8, true, n, n % 25 == 1));
        }
        net.advance(20 * MS);
    }
    net.advance(200 * MS);
    let published: Vec<[Option<u32>; 2]> = net.clients.iter().map(|c| [c.ssrc(false), c.ssrc(true)]).collect();
    for (i, c) in net.clients.iter().enumerate() {
        let by = streams(&c.received);
        let mut expected: Vec<(u8, bool)> = Vec::new();
        for j in (0..3u8).filter(|j| usize::from(*j) != i) {
            expected.push((j, false));
            if j != 2 {
                expected.push((j, true));
            }
        }
        assert_eq!(by.keys().copied().collect::<Vec<_>>(), expected, "client {i} receives every other stream");
        for ((who, video), packets) in &by {
            let ns: Vec<u32> = packets.iter().map(|r| label(r).2).collect();
            assert_eq!(ns, (1..=50).collect::<Vec<_>>(), "client {i} from {who} video={video}: all, in order");
            let ssrc = packets[0].ssrc;
            assert!(packets.iter().all(|r| r.ssrc == ssrc), "one SSRC per stream");
            assert!(!published.iter().flatten().any(|s| *s == Some(ssrc)), "the relay's own SSRC");
            assert!(packets.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1)), "contiguous numbering");
            // Each leg's own payload type numbers (participant 0 negotiated its own).
            let pt = match (i, *video) {
                (0, true) => 100,
                (0, false) => 109,
                (_, true) => 96,
                (_, false) => 111,
            };
            assert!(packets.iter().all(|r| r.payload_type == pt), "the receiving leg's payload type");
            if !*video {
                // The audio level set by the publisher arrives under the receiver's id.
                for r in packets {
                    assert_eq!(r.extensions.len(), 1, "{:?}", r.extensions);
                    assert_eq!(r.extensions[0].1.as_ref(), &[0x80 | *who]);
                }
            } else {
                assert!(packets.iter().all(|r| r.extensions.is_empty()), "nothing per-hop is forwarded");
            }
        }
    }
}

#[test]
fn a_joining_subscriber_makes_the_relay_ask_publishers_for_a_keyframe_within_100_ms() {
    let mut net = session(&[Publish::default(), Publish::default()]);
    for c in &mut net.clients {
        c.keyframe_requests.clear();
    }
    net.join(S, 2, Publish::default()).unwrap();
    assert!(net.connect_all(MS, Duration::from_secs(5)));
    // Joined: its connection is up (within the last millisecond).
    let joined = net.now - MS;
    // Media keeps flowing meanwhile.
    for n in 1..=10u32 {
        for i in 0..3 {
            net.send(i, true, payload(i as u8, true, n, false));
        }
        net.advance(10 * MS);
    }
    let answered = net.clients[2].offers;
    assert!(answered >= 1, "the newcomer was offered the others' tracks");
    for i in 0..2 {
        let first = net.clients[i].keyframe_requests.first().copied();
        let after = first.map(|t| t.duration_since(joined));
        println!("publisher {i}: keyframe request {after:?} after the join");
        assert!(after.is_some_and(|d| d <= Duration::from_millis(100)), "publisher {i}: {after:?}");
    }
}

#[test]
fn lost_packets_are_recovered_by_nack_on_both_hops() {
    let mut net = session(&[Publish::default(), Publish::default()]);
    let (a, b) = (net.clients[0].addr, net.clients[1].addr);
    let mut counts = [0u32; 2];
    // Every 10th video packet from the publisher to the relay is lost, and every 7th from
    // the relay to the subscriber: only the first transmission, the retransmissions pass.
    net.drop = Some(Box::new(move |from, to, d| {
        let video = classify(d) == Kind::Rtp && d.len() > 1 && (d[1] & 0x7f) == 96;
        if !video {
            return false;
        }
        let hop = if from == a {
            0
        } else if to == b {
            1
        } else {
            return false;
        };
        counts[hop] += 1;
        (hop == 0 && counts[hop] % 10 == 0) || (hop == 1 && counts[hop] % 7 == 0)
    }));
    for n in 1..=100u32 {
        net.send(0, true, payload(0, true, n, false));
        net.advance(10 * MS);
    }
    net.advance(Duration::from_secs(1));
    let received: std::collections::BTreeSet<u32> =
        net.clients[1].received.iter().map(label).filter(|l| l.0 == 0 && l.1).map(|l| l.2).collect();
    let missing: Vec<u32> = (1..=100).filter(|n| !received.contains(n)).collect();
    assert!(missing.is_empty(), "recovered by retransmission; missing {missing:?}");
    let publisher = net.relay.leg_stats(net.clients[0].leg).unwrap();
    let subscriber = net.relay.leg_stats(net.clients[1].leg).unwrap();
    println!("publisher leg {:?}\nsubscriber leg {:?}", publisher.video, subscriber.video);
    assert!(publisher.video.nacks_sent > 0, "the relay asked the publisher");
    assert!(subscriber.video.nacks_received > 0, "the subscriber asked the relay");
    assert!(publisher.video.packets_received >= 100);
    assert!(subscriber.video.packets_sent >= 100);
}

#[test]
fn a_reconnecting_publisher_continues_the_same_stream_without_renegotiating_the_others() {
    let mut net = session(&[Publish::default(), Publish::default()]);
    for n in 1..=20u32 {
        net.send(0, false, payload(0, false, n, false));
        net.send(0, true, payload(0, true, n, n == 1));
        net.advance(20 * MS);
    }
    let offers_before = net.clients[1].offers;
    // Participant 0's network changes: a new connection, new address, new SSRCs, new
    // numbering, the same participant.
    let again = net.join(S, 0, Publish::default()).unwrap();
    assert!(net.connect_all(10 * MS, Duration::from_secs(5)));
    assert_ne!(net.clients[again].ssrc(true), net.clients[0].ssrc(true));
    for n in 21..=40u32 {
        net.send(again, false, payload(0, false, n, false));
        net.send(again, true, payload(0, true, n, n == 21));
        net.advance(20 * MS);
    }
    net.advance(200 * MS);
    assert_eq!(net.relay.counts(), (2, 1), "the earlier leg is gone");
    assert_eq!(net.clients[1].offers, offers_before, "the other participant was not renegotiated");
    for (_, packets) in streams(&net.clients[1].received).into_iter().filter(|(k, _)| k.0 == 0) {
        let ns: Vec<u32> = packets.iter().map(|r| label(r).2).collect();
        // The reconnecting client's first packet of each kind may open its track only.
        let missing: Vec<u32> = (1..=40).filter(|n| !ns.contains(n)).collect();
        assert!(missing.len() <= 1 && missing.iter().all(|n| *n == 21), "missing {missing:?}");
        assert!(packets.iter().all(|r| r.ssrc == packets[0].ssrc), "one stream across the reconnect");
        assert!(
            packets.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1)),
            "numbering continues: {:?}",
            packets.iter().map(|r| (label(r).2, r.seq)).collect::<Vec<_>>()
        );
        assert!(
            packets.windows(2).all(|w| w[1].timestamp.wrapping_sub(w[0].timestamp) < 90_000),
            "timestamps move on by the time that passed, not by a jump"
        );
    }
    // And the reconnected participant hears the other again.
    net.send(1, false, payload(1, false, 99, false));
    net.advance(100 * MS);
    assert!(net.clients[again].received.iter().any(|r| label(r) == (1, false, 99)));
}

#[test]
fn sustained_loss_pauses_video_keeps_audio_and_video_resumes_at_a_keyframe() {
    let mut net = session(&[Publish::default(), Publish::default()]);
    let b = net.clients[1].addr;
    let lossy = std::rc::Rc::new(std::cell::Cell::new(true));
    let on = std::rc::Rc::clone(&lossy);
    let mut count = 0u32;
    // Half of the media to participant 1 is lost while `lossy`.
    net.drop = Some(Box::new(move |_, to, d| {
        if to != b || classify(d) != Kind::Rtp || !on.get() {
            return false;
        }
        count += 1;
        count % 2 == 0
    }));
    let mut n = 0u32;
    let mut lost = 0u32;
    let reporting = std::rc::Rc::clone(&lossy);
    let mut run = |net: &mut TestNet, seconds: u32| {
        for _ in 0..seconds * 50 {
            n += 1;
            // The receiver's reports, once a second, say what it lost: `rtc` 0.21.1's own
            // receiver reports count no loss in this network, so the client states it.
            if n % 50 == 0 {
                let streams: std::collections::BTreeSet<u32> =
                    net.clients[1].received.iter().filter(|r| label(r).0 == 0).map(|r| r.ssrc).collect();
                let fraction = if reporting.get() { 128 } else { 0 };
                lost += if reporting.get() { 25 } else { 0 };
                for ssrc in streams {
                    net.report(1, ssrc, fraction, lost);
                }
            }
            net.send(0, false, payload(0, false, n, false));
            // 25 video frames a second, a keyframe every 2 s.
            if n % 2 == 0 {
                net.send(0, true, payload(0, true, n, n % 100 == 0));
            }
            net.advance(20 * MS);
        }
    };
    run(&mut net, 6);
    let paused =
        net.events.iter().find(|(_, l, e)| *l == net.clients[1].leg && *e == LegEvent::VideoPaused).map(|e| e.0);
    assert!(paused.is_some(), "video paused under 50% loss");
    assert!(net.relay.leg_stats(net.clients[1].leg).unwrap().video_paused);
    lossy.set(false);
    let restored = net.now;
    run(&mut net, 20);
    let resumed =
        net.events.iter().find(|(_, l, e)| *l == net.clients[1].leg && *e == LegEvent::VideoResumed).map(|e| e.0);
    let resumed = resumed.expect("video resumes once the loss is gone");
    println!(
        "paused at {:?}, resumed {:?} after the loss ended",
        paused.map(|p| p.duration_since(restored)),
        resumed.duration_since(restored)
    );
    let received = &net.clients[1].received;
    let paused = paused.unwrap();
    // While paused no new video was sent (a retransmission of an earlier packet may be),
    // audio was.
    let newest_before = received.iter().filter(|r| r.at <= paused && label(r).1).map(|r| label(r).2).max().unwrap();
    let during = |video: bool| {
        received.iter().filter(move |r| r.at > paused && r.at < resumed && label(r).1 == video).map(|r| label(r).2)
    };
    assert_eq!(during(true).filter(|n| *n > newest_before).count(), 0, "no new video while paused");
    assert!(during(false).count() > 100, "audio goes on");
    // Video resumes at a keyframe, and its numbering continues without a gap.
    let before: Vec<&Received> = received.iter().filter(|r| r.at <= paused + 100 * MS && label(r).1).collect();
    let after: Vec<&Received> = received.iter().filter(|r| r.at >= resumed && label(r).1).collect();
    assert!(!after.is_empty(), "video flows again");
    assert_eq!(after[0].payload[1] & 0x01, 0, "the first packet after the pause is a keyframe");
    let last_before = before.iter().map(|r| r.seq).max_by(|a, b| a.wrapping_sub(*b).cmp(&0x8000).reverse()).unwrap();
    let gap = after[0].seq.wrapping_sub(last_before);
    assert!((1..=3).contains(&gap), "numbering continues after the pause (gap {gap})");
    assert!(after.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1)), "and stays contiguous");
}

/// Every client received 1..=n of every other client's audio and video, in order.
fn everyone_receives_everything(net: &mut TestNet, n: u32) {
    let count = net.clients.len();
    for k in 1..=n {
        for i in 0..count {
            net.send(i, false, payload(i as u8, false, k, false));
            net.send(i, true, payload(i as u8, true, k, k == 1));
        }
        net.advance(20 * MS);
    }
    net.advance(200 * MS);
    for (i, c) in net.clients.iter().enumerate() {
        let by = streams(&c.received);
        assert_eq!(by.len(), 2 * (count - 1), "client {i} receives every other stream");
        for ((who, video), packets) in &by {
            let ns: Vec<u32> = packets.iter().map(|r| label(r).2).collect();
            assert_eq!(ns, (1..=n).collect::<Vec<_>>(), "client {i} from {who} video={video}");
        }
    }
}

#[test]
fn a_participant_behind_a_udp_blocking_firewall_joins_over_ice_tcp() {
    let net = TestNet::new(Instant::now()).with_tcp();
    let mut net = session_on(net, &[Transport::Udp, Transport::Tcp, Transport::Udp], &[Publish::default(); 3]);
    let tcp_leg = net.clients[1].leg;
    let addr = net.clients[1].addr;
    assert_eq!(net.relay.addresses(tcp_leg), &[Peer::tcp(addr)], "confirmed on its TCP connection");
    assert_eq!(net.relay.addresses(net.clients[0].leg), &[Peer::udp(net.clients[0].addr)]);
    everyone_receives_everything(&mut net, 30);
    // The connection closes: the relay forgets it, and the others are unaffected.
    net.close_tcp(1);
    assert!(net.relay.addresses(tcp_leg).is_empty());
    for c in &mut net.clients {
        c.received.clear();
    }
    net.send(0, false, payload(0, false, 99, false));
    net.advance(50 * MS);
    assert_eq!(net.clients[2].received.len(), 1);
}

#[test]
fn without_ice_tcp_a_tcp_only_participant_cannot_connect_and_the_others_can() {
    let mut net = TestNet::new(Instant::now());
    net.join_over(S, 0, Publish::default(), Transport::Udp).unwrap();
    net.join_over(S, 1, Publish::default(), Transport::Tcp).unwrap();
    assert!(!net.connect_all(10 * MS, Duration::from_secs(3)));
    assert!(net.clients[0].connected && !net.clients[1].connected);
}

#[test]
fn behind_a_one_to_one_nat_the_relay_advertises_and_answers_on_the_public_address() {
    let local = std::net::SocketAddr::from(([10, 0, 0, 1], 3478));
    let public = std::net::SocketAddr::from(([203, 0, 113, 7], 3478));
    let net = TestNet::behind_nat(Instant::now(), local, public);
    let mut net = session_on(net, &[Transport::Udp; 2], &[Publish::default(); 2]);
    everyone_receives_everything(&mut net, 10);
}

#[test]
fn a_publisher_switching_its_camera_off_and_on_keeps_one_video_stream_for_the_others() {
    let mut net = session(&[Publish::default(), Publish::default()]);
    let offers = net.clients[1].offers;
    for k in 1..=10u32 {
        net.send(0, false, payload(0, false, k, false));
        net.send(0, true, payload(0, true, k, k == 1));
        net.advance(20 * MS);
    }
    // Camera off: the browser renegotiates without video (a new offer: a new leg).
    let off = net.join(S, 0, Publish { video: false, ..Publish::default() }).unwrap();
    assert!(net.connect_all(10 * MS, Duration::from_secs(5)));
    for k in 11..=20u32 {
        net.send(off, false, payload(0, false, k, false));
        net.advance(20 * MS);
    }
    // Camera on again.
    let on = net.join(S, 0, Publish::default()).unwrap();
    assert!(net.connect_all(10 * MS, Duration::from_secs(5)));
    for k in 21..=30u32 {
        net.send(on, false, payload(0, false, k, false));
        net.send(on, true, payload(0, true, k, k == 21));
        net.advance(20 * MS);
    }
    net.advance(200 * MS);
    let by = streams(&net.clients[1].received);
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), vec![(0, false), (0, true)]);
    let audio: Vec<u32> = by[&(0, false)].iter().map(|r| label(r).2).collect();
    assert_eq!(audio.first(), Some(&1));
    assert!(audio.windows(2).all(|w| w[1] > w[0]), "audio in order throughout: {audio:?}");
    assert!(audio.contains(&15) && audio.contains(&30), "audio went on while the camera was off");
    let video = &by[&(0, true)];
    let ns: Vec<u32> = video.iter().map(|r| label(r).2).collect();
    assert_eq!(ns.iter().filter(|k| (11..=20).contains(*k)).count(), 0, "no video while off");
    assert!(ns.contains(&10) && ns.contains(&30), "video before and after: {ns:?}");
    assert!(video.iter().all(|r| r.ssrc == video[0].ssrc), "one SSRC: the subscriber sees one stream");
    assert!(video.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1)), "numbering continues");
    assert_eq!(net.clients[1].offers, offers, "the subscriber was not renegotiated by the switches");
}

#[test]
fn a_participant_that_vanishes_fails_by_consent_timeout_and_the_others_go_on() {
    let mut net = session(&[Publish::default(), Publish::default(), Publish::default()]);
    let vanished = net.clients[2].leg;
    // Its network disappears without a word: nothing from it, nothing reaches it.
    let gone = net.clients[2].addr;
    net.drop = Some(Box::new(move |from, to, _| from == gone || to == gone));
    let mut failed_at = None;
    for s in 1..=60 {
        net.send(0, false, payload(0, false, s, false));
        net.advance(Duration::from_secs(1));
        if net.events.iter().any(|(_, l, e)| *l == vanished && matches!(e, LegEvent::Failed)) {
            failed_at = Some(s);
            break;
        }
    }
    let failed_at = failed_at.expect("the leg fails when consent lapses");
    assert!(failed_at <= 40, "failed after {failed_at} s");
    net.relay.remove_leg(vanished);
    for c in &mut net.clients {
        c.received.clear();
    }
    net.send(0, false, payload(0, false, 999, false));
    net.advance(50 * MS);
    assert_eq!(streams(&net.clients[1].received).len(), 1, "the others go on");
    assert_eq!(net.relay.counts(), (2, 1));
}

#[test]
fn a_newcomer_on_an_address_a_vanished_participants_leg_still_holds_connects_at_once() {
    let mut net = session(&[Publish::default(), Publish::default()]);
    // Participant 1's tab is killed: its leg lives on (until the server removes it, or
    // consent lapses) with its address. A NAT gives that address to someone else, who
    // joins another call.
    let held = net.clients[1].addr;
    let old = net.clients[1].leg;
    net.vanish(1);
    net.next_address = Some(held);
    let other = SessionId(2);
    let start = net.now;
    let newcomer = net.join(other, 0, Publish::default()).unwrap();
    assert!(net.connect_all(10 * MS, Duration::from_secs(5)), "the newcomer connects");
    assert!(net.now - start < Duration::from_secs(1), "at once, not when the old leg fails: {:?}", net.now - start);
    assert_eq!(net.clients[newcomer].addr, held);
    assert_eq!(net.relay.addresses(net.clients[newcomer].leg), &[Peer::udp(held)]);
    assert!(net.relay.addresses(old).is_empty(), "the vanished leg no longer has it");
    // Media from the address is the newcomer's: the first call does not receive it.
    net.send(newcomer, false, payload(9, false, 1, false));
    net.advance(50 * MS);
    assert!(net.clients[0].received.is_empty(), "nothing of the newcomer's reaches the other call");
}

#[test]
fn the_answer_offers_publishers_transport_wide_feedback_and_nack() {
    let net = session(&[Publish::default(), Publish::default()]);
    let answer = net.clients[0].pc.remote_description().map(|d| d.sdp.clone()).unwrap_or_default();
    assert!(answer.contains("transport-wide-cc"), "the TWCC header extension: {answer}");
    assert!(answer.contains("transport-cc"), "TWCC feedback for bandwidth estimation: {answer}");
    assert!(answer.contains("nack pli") && answer.contains(" nack\r\n"), "NACK and PLI: {answer}");
}

/// Whether a datagram is DTLS (RFC 7983: first byte 20 to 63).
fn is_dtls(data: &[u8]) -> bool {
    data.first().is_some_and(|b| (20..=63).contains(b))
}

#[test]
fn a_leg_whose_dtls_handshake_stalls_is_given_up_after_connect_within() {
    let mut net = TestNet::new(Instant::now());
    let connects = net.join(S, 0, Publish::default()).unwrap();
    let stalls = net.join(S, 1, Publish::default()).unwrap();
    // Its connectivity checks get through, its handshake never does: every DTLS datagram
    // from or to it is lost, as under the CPU starvation that left legs without media.
    let addr = net.clients[stalls].addr;
    net.drop = Some(Box::new(move |from, to, data| (from == addr || to == addr) && is_dtls(data)));
    let start = net.now;
    while net.now - start < kakehashi_relay::CONNECT_WITHIN - 500 * MS {
        net.advance(100 * MS);
    }
    let (stalled, connected) = (net.clients[stalls].leg, net.clients[connects].leg);
    assert!(net.relay.is_confirmed(Peer::udp(addr)), "its checks reached the relay");
    let given_up = |net: &TestNet, leg| net.events.iter().any(|(_, l, e)| *l == leg && *e == LegEvent::NotConnected);
    assert!(!given_up(&net, stalled), "not before {:?}", kakehashi_relay::CONNECT_WITHIN);
    assert!(net.events.iter().any(|(_, l, e)| *l == connected && *e == LegEvent::Connected));
    net.advance(Duration::from_secs(1));
    assert!(given_up(&net, stalled), "given up at {:?}: {:?}", kakehashi_relay::CONNECT_WITHIN, net.events);
    assert_eq!(net.events.iter().filter(|(_, _, e)| *e == LegEvent::NotConnected).count(), 1, "once");
    // A connected leg is never given up, however long it lives.
    net.advance(Duration::from_secs(30));
    assert!(!given_up(&net, connected));
}

#[test]
fn a_leg_no_connectivity_check_reaches_is_given_up_too() {
    let mut net = TestNet::new(Instant::now());
    let silent = net.join(S, 0, Publish::default()).unwrap();
    // The participant took the answer and vanished: nothing of it ever arrives.
    net.vanish(silent);
    let leg = net.clients[silent].leg;
    net.advance(kakehashi_relay::CONNECT_WITHIN + 100 * MS);
    assert_eq!(
        net.events.iter().filter(|(_, l, _)| *l == leg).map(|(_, _, e)| e.clone()).collect::<Vec<_>>(),
        vec![LegEvent::NotConnected]
    );
}
