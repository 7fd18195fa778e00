use super::*;
use crate::g711::Law;
use crate::sdp::Direction;

fn agreed(remote: &str) -> Negotiated {
    Negotiated {
        remote: remote.parse().unwrap(),
        law: Law::A,
        payload_type: 8,
        dtmf: Some(101),
        ptime: 20,
        direction: Direction::SendRecv,
    }
}

/// A 400 Hz tone, 20 ms at a time, continuing across frames.
fn tone(frame: u32) -> Vec<i16> {
    (0..160)
        .map(|i| {
            let t = f64::from(frame * 160 + i) / 8000.0;
            ((t * 400.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect()
}

fn packet(pt: u8, seq: u16, timestamp: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    rtp::write(&rtp::Packet { payload_type: pt, marker: false, seq, timestamp, ssrc: 99, payload }, &mut out);
    out
}

fn voice(frame: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    Law::A.encode(&tone(frame), &mut bytes);
    packet(8, frame as u16, frame * 160, &bytes)
}

#[test]
fn the_phones_voice_comes_out_frame_by_frame_after_the_prefill() {
    let phone: SocketAddr = "10.0.0.9:4000".parse().unwrap();
    let mut s = State::new(agreed("10.0.0.9:4000"), 1);
    let now = Instant::now();
    assert_eq!(s.tick(now), (None, false), "nothing before the first packet");
    let mut frames = Vec::new();
    for f in 0..10 {
        assert_eq!(s.datagram(&voice(f), phone), None);
        let (frame, dead) = s.tick(now);
        assert!(!dead);
        frames.extend(frame);
    }
    // The first two ticks after the first packet wait for the prefill (silence).
    assert_eq!(frames.len(), 10);
    assert!(frames[0].iter().all(|s| *s == 0) && frames[1].iter().all(|s| *s == 0));
    let worst = frames[2].iter().zip(tone(0)).map(|(a, b)| (i32::from(*a) - i32::from(b)).abs()).max();
    assert!(worst.unwrap_or(0) < 300, "{worst:?}");
    assert_eq!(s.counts().received, 10);
}

#[test]
fn packets_from_a_stranger_are_dropped_once_latched() {
    let mut s = State::new(agreed("10.0.0.9:4000"), 1);
    // Media from another port than the SDP said (a carrier's SBC): latched on.
    let real: SocketAddr = "10.0.0.9:4010".parse().unwrap();
    s.datagram(&voice(0), real);
    s.datagram(&voice(1), "203.0.113.5:9999".parse().unwrap());
    assert_eq!((s.counts().received, s.counts().strangers), (1, 1));
    let mut out = Vec::new();
    assert_eq!(s.outgoing(None, &mut out), Some(real), "answers go where the media comes from");
    s.datagram(b"not rtp at all", real);
    s.datagram(&packet(0, 2, 320, &[0xff; 160]), real);
    assert_eq!(s.counts().refused, 2, "garbage and an unnegotiated payload type");
}

#[test]
fn a_key_is_taken_once_per_press() {
    let phone: SocketAddr = "10.0.0.9:4000".parse().unwrap();
    let mut s = State::new(agreed("10.0.0.9:4000"), 1);
    let mut keys = String::new();
    for (seq, ts, event, end) in
        [(1u16, 800u32, 5u8, false), (2, 800, 5, false), (3, 800, 5, true), (4, 800, 5, true), (5, 2400, 11, false)]
    {
        let flags = if end { 0x80 } else { 0 };
        keys.extend(s.datagram(&packet(101, seq, ts, &[event, flags, 0, 160]), phone));
    }
    assert_eq!(keys, "5#");
    assert_eq!(s.counts().keys, 2);
}

#[test]
fn a_lost_packet_is_concealed_with_the_last_frame_faded() {
    let phone: SocketAddr = "10.0.0.9:4000".parse().unwrap();
    let mut s = State::new(agreed("10.0.0.9:4000"), 1);
    let now = Instant::now();
    for f in [0, 1, 2, 4, 5] {
        s.datagram(&voice(f), phone);
    }
    let frames: Vec<Vec<i16>> = (0..5).filter_map(|_| s.tick(now).0).collect();
    assert_eq!(frames.len(), 5);
    let halved: Vec<i16> = frames[2].iter().map(|s| s / 2).collect();
    assert_eq!(frames[3], halved);
    assert_eq!(s.counts().lost, 1);
}

#[test]
fn a_silent_line_is_dead_once_unless_held() {
    let mut s = State::new(agreed("10.0.0.9:4000"), 1);
    let start = Instant::now();
    assert!(!s.tick(start + FIRST_MEDIA_TIMEOUT - Duration::from_millis(20)).1);
    assert!(s.tick(start + FIRST_MEDIA_TIMEOUT + Duration::from_millis(20)).1);
    assert!(!s.tick(start + FIRST_MEDIA_TIMEOUT * 2).1, "said once");
    let mut held = State::new(Negotiated { direction: Direction::SendOnly, ..agreed("10.0.0.9:4000") }, 1);
    assert!(!held.tick(start + FIRST_MEDIA_TIMEOUT * 2).1, "a held phone sends nothing and is not dead");
}

#[test]
fn nothing_is_sent_while_the_bridge_must_not_send() {
    let mut out = Vec::new();
    let mut s = State::new(Negotiated { direction: Direction::RecvOnly, ..agreed("10.0.0.9:4000") }, 1);
    assert_eq!(s.outgoing(Some(&tone(0)), &mut out), None);
    let mut s = State::new(agreed("0.0.0.0:4000"), 1);
    assert_eq!(s.outgoing(None, &mut out), None, "an old-style hold address");
    let mut s = State::new(agreed("10.0.0.9:4000"), 1);
    let first = s.outgoing(Some(&tone(0)), &mut out);
    assert_eq!(first, Some("10.0.0.9:4000".parse().unwrap()));
    let p = rtp::parse(&out).unwrap();
    assert!(p.marker && p.payload_type == 8 && p.payload.len() == 160);
    let (seq, ts) = (p.seq, p.timestamp);
    s.outgoing(None, &mut out);
    let p = rtp::parse(&out).unwrap();
    assert_eq!((p.seq, p.timestamp, p.marker), (seq.wrapping_add(1), ts.wrapping_add(160), false));
    assert!(p.payload.iter().all(|b| *b == 0xd5), "silence in A-law");
}

/// Over real sockets: a "phone" sends a tone and a key; the leg hands both over, and
/// sends its own frames back to where the phone sends from.
#[tokio::test]
async fn over_sockets_both_ways() {
    let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let leg_addr = socket.local_addr().unwrap();
    let leg = Leg::new(socket, 0x1234);
    let (_agreed_tx, agreed_rx) = watch::channel(agreed(&phone.local_addr().unwrap().to_string()));
    let (said_tx, said_rx) = mpsc::channel(5);
    let (heard_tx, mut heard_rx) = mpsc::channel(64);
    let (counts_tx, counts_rx) = watch::channel(LegCounts::default());
    let running = tokio::spawn(leg.run(agreed_rx, said_rx, heard_tx, counts_tx));
    for f in 0..20u32 {
        phone.send_to(&voice(f), leg_addr).await.unwrap();
        let _ = said_tx.try_send(tone(f));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    phone.send_to(&packet(101, 20, 20 * 160, &[7, 0, 0, 160]), leg_addr).await.unwrap();
    let mut keys = Vec::new();
    let mut loud = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while keys.is_empty() || loud < 5 {
        match tokio::time::timeout_at(deadline, heard_rx.recv()).await {
            Ok(Some(Heard::Key(k))) => keys.push(k),
            Ok(Some(Heard::Frame(f))) if f.iter().any(|s| s.abs() > 4000) => loud += 1,
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    assert_eq!(keys, ['7']);
    assert!(loud >= 5, "{loud} frames of the tone");
    let mut buf = [0u8; 512];
    let (n, from) = tokio::time::timeout(Duration::from_secs(2), phone.recv_from(&mut buf)).await.unwrap().unwrap();
    assert_eq!(from, leg_addr);
    assert_eq!(rtp::parse(&buf[..n]).unwrap().payload.len(), 160);
    assert!(counts_rx.borrow().sent > 0);
    drop(said_tx);
    tokio::time::timeout(Duration::from_secs(2), running).await.unwrap().unwrap();
}

/// A phone that sends its keys in its audio's stream (baresip does): each event takes a
/// sequence number, and the audio around it plays on without a frame concealed.
#[test]
fn keys_in_the_audio_stream_take_no_audio_with_them() {
    let phone: SocketAddr = "10.0.0.9:4000".parse().unwrap();
    let mut s = State::new(agreed("10.0.0.9:4000"), 1);
    let mut seq = 0u16;
    let mut frames = Vec::new();
    for n in 0..40u32 {
        let mut bytes = Vec::new();
        Law::A.encode(&tone(n), &mut bytes);
        s.datagram(&packet(8, seq, n * 160, &bytes), phone);
        seq += 1;
        if (10..20).contains(&n) {
            // A press of 5 during these frames, its event in between each audio packet.
            s.datagram(&packet(101, seq, 10 * 160, &[5, 0x0a, 0, 160]), phone);
            seq += 1;
        }
        if let (Some(f), _) = s.tick(tokio::time::Instant::now()) {
            frames.push(f);
        }
    }
    assert_eq!(s.counts().keys, 1);
    assert_eq!(s.counts().lost, 0, "{:?}", s.counts());
    let quiet = frames.iter().skip(3).filter(|f| f.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0) < 6000).count();
    assert_eq!(quiet, 0, "no frame was concealed at half level");
}
