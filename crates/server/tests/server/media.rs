//! Media through the server's relay, with `webrtc` participants from the client crate:
//! both ways, over ICE-TCP, across a reconnect, for every participant of a call (several
//! residents and a guest), a hundred sessions without a leak, and forwarding that goes
//! on while nobody reads the relay's reports.

use std::sync::Arc;
use std::time::Duration;

use kakehashi::store::AccountKind;
use kakehashi_client::{Desk, Interpreter};
use kakehashi_protocol as p;
use tokio::net::TcpStream;

use crate::expect;
use crate::media_support::*;
use crate::support::*;

/// A desk and an interpreter in a call, each with media (the interpreter over ICE-TCP if
/// `tcp`), hear each other's 100 packets complete and in order.
async fn two_way_media(tcp: bool) {
    let dir = temp(if tcp { "media-tcp" } else { "media" });
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media(desk, Some(call), 1, 0x5001, false, false, heard_tx.clone()).await;
    let mut interp_media = media(i1, Some(call), 2, 0x5002, tcp, false, heard_tx).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    // Each track opens at the relay on its first packet; the renegotiation follows.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..100u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let by = heard_by(&mut heard);
    assert_eq!(by.keys().copied().collect::<Vec<_>>(), vec![1, 2], "each hears the other");
    for (who, h) in &by {
        assert!(h.len() >= 90, "{who}: {} of 100", h.len());
        assert!(h.windows(2).all(|w| w[1].n == w[0].n + 1), "{who}: in order, none lost");
    }
    // The stream ids say whose: the desk is participant 0, the interpreter 1.
    assert!(by[&1].iter().all(|h| h.stream == "p0"), "{:?}", by[&1][0]);
    assert!(by[&2].iter().all(|h| h.stream == "p1"), "{:?}", by[&2][0]);
    let m = server.metrics().await;
    if tcp {
        assert!(m.contains("kakehashi_media_tcp_connections 1"), "{m}");
    }
    assert!(!m.contains("kakehashi_media_relay_latency_seconds_count 0"), "{m}");
    drop((desk_media, interp_media));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desk_and_interpreter_hear_each_other_through_the_server() {
    two_way_media(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_behind_a_udp_blocking_firewall_connects_over_ice_tcp() {
    two_way_media(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_whose_network_changes_reconnects_and_the_desk_hears_one_stream() {
    let dir = temp("reconnect");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let (desk_tx, mut desk_heard) = tokio::sync::mpsc::unbounded_channel();
    let mut desk_media = media(desk, Some(call), 1, 0x5001, false, false, desk_tx).await;
    let mut interp_media = media(i1, Some(call), 2, 0x5002, false, false, heard_tx.clone()).await;
    desk_media.until_connected().await;
    interp_media.until_connected().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..50u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Wi-Fi to cellular: the interpreter's peer connection is gone; a new one, with a new
    // SSRC and numbering from 0 again, offers on the same signalling connection.
    let i1 = interp_media.hang_up().await;
    let mut interp_media = media(i1, Some(call), 2, 0x6002, false, false, heard_tx).await;
    interp_media.until_connected().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for n in 50..100u32 {
        desk_media.send(false, 1, n).await;
        interp_media.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The desk was not renegotiated: one stream from the interpreter, one SSRC, its
    // numbering contiguous across the switch.
    let desk_by = heard_by(&mut desk_heard);
    let from_interp = &desk_by[&2];
    let before = from_interp.iter().filter(|h| h.n < 50).count();
    let after = from_interp.iter().filter(|h| h.n >= 50).count();
    assert!(before >= 45 && after >= 45, "the desk hears the interpreter before ({before}) and after ({after})");
    assert!(from_interp.iter().all(|h| h.ssrc == from_interp[0].ssrc), "one SSRC across the reconnect");
    assert!(
        from_interp.windows(2).all(|w| w[1].seq.wrapping_sub(w[0].seq) == (w[1].n - w[0].n) as u16),
        "RTP numbering continues across the reconnect: {:?}",
        from_interp.iter().map(|h| (h.n, h.seq)).collect::<Vec<_>>()
    );
    // The new peer connection hears the desk.
    let interp_by = heard_by(&mut heard);
    assert!(interp_by.get(&1).is_some_and(|h| h.iter().filter(|h| h.n >= 50).count() >= 45), "{interp_by:?}");
    // The call ends; its record counts the reconnect, and the metrics too.
    let mut desk = desk_media.hang_up().await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records[0]["reconnects"], 1, "{records:?}");
    let m = server.metrics().await;
    assert!(m.contains(r#"kakehashi_media_reconnects_total{role="interpreter"} 1"#), "{m}");
    assert!(m.contains(r#"kakehashi_media_packets_total{direction="received",kind="audio",role="desk"}"#), "{m}");
    promtool_accepts(&m).await;
    drop(interp_media);
    server.stop().await;
}

/// `n` tenants, each with one desk and one Vietnamese interpreter: (desk token, interpreter
/// session) per tenant, so that `n` calls can run at once without meeting.
async fn seed_lanes(dir: &std::path::Path, n: usize) -> Vec<(String, String)> {
    let store = crate::postgres_support::open_store(dir).await;
    let mut lanes = Vec::new();
    for i in 0..n {
        let tenant = store.insert_tenant(&format!("Town {i}"), 1_000, "Asia/Tokyo").await.unwrap();
        let code = format!("LANE{i}");
        store.insert_desk(tenant, "desk", &kakehashi::auth::hash_token(&code)).await.unwrap();
        let desk = kakehashi::auth::enrol_desk(&store, &code).await.unwrap().2;
        let login = format!("lane{i}");
        store
            .insert_interpreter(&staff(&login, "vi", tenant), &kakehashi::auth::hash_password("pw").unwrap())
            .await
            .unwrap();
        lanes.push((desk, sign_in(&store, AccountKind::Interpreter, &login, "pw").await));
    }
    lanes
}

/// The child's open file descriptors and resident memory (KiB), from /proc.
fn fds_and_rss(pid: u32) -> (usize, u64) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    (fds, rss)
}

/// One session on a lane: a call, both sides' media (the interpreter over ICE-TCP on odd
/// rounds), packets both ways, then the end of the call and of both peer connections.
async fn lane_session(
    desk: Client<Desk>,
    interpreter: Client<Interpreter>,
    round: usize,
) -> (Client<Desk>, Client<Interpreter>) {
    let (mut desk, mut interpreter) = (desk, interpreter);
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let mut d = media(desk, Some(call), 1, 0x7001, false, false, heard_tx.clone()).await;
    let mut i = media(interpreter, Some(call), 2, 0x7002, round % 2 == 1, false, heard_tx).await;
    d.until_connected().await;
    i.until_connected().await;
    let mut both = false;
    for n in 0..100u32 {
        d.send(false, 1, n).await;
        i.send(false, 2, n).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if heard_by(&mut heard).len() == 2 {
            both = true;
            break;
        }
    }
    assert!(both, "media flows both ways in round {round}");
    let mut desk = d.hang_up().await;
    let mut interpreter = i.hang_up().await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    expect!(interpreter, p::InterpreterEvent::CallEnded { .. });
    interpreter.send(p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await;
    expect!(interpreter, p::InterpreterEvent::Presence { presence: p::PresenceState::Available });
    (desk, interpreter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_hundred_sessions_file_descriptors_and_memory_return_to_baseline() {
    const LANES: usize = 5;
    let dir = temp("hundred");
    let lanes = seed_lanes(&dir, LANES).await;
    let child = spawn_binary(&dir).await;
    let pid = child.process.id().unwrap();
    let server = Server::at(child.addr, dir.clone());
    let mut clients = Vec::new();
    for (desk, session) in &lanes {
        clients.push((server.desk(desk).await, server.interpreter(session).await));
    }
    let mut rounds = 0;
    let mut run = |clients: Vec<(Client<Desk>, Client<Interpreter>)>, n: usize| {
        let first = rounds;
        rounds += n;
        async move {
            let mut clients = clients;
            for round in first..first + n {
                let tasks: Vec<_> = clients.into_iter().map(|(d, i)| tokio::spawn(lane_session(d, i, round))).collect();
                clients = Vec::new();
                for t in tasks {
                    clients.push(t.await.unwrap());
                }
            }
            clients
        }
    };
    // Settled: no leg, no ICE-TCP connection left (connections close a moment after the
    // clients' peer connections do).
    let settled = |server: &Server| {
        let addr = server.addr;
        async move {
            for _ in 0..100 {
                let m = http(addr, "GET", "/metrics", None, None).await.1;
                let legs_open = m.lines().any(|l| l.starts_with("kakehashi_media_legs{") && !l.ends_with(" 0"));
                if !legs_open && m.contains("kakehashi_media_tcp_connections 0") {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("legs or ICE-TCP connections left open");
        }
    };
    // Warm-up: two sessions per lane fill the allocator's pools and the lazy statics.
    clients = run(clients, 2).await;
    settled(&server).await;
    let (fds0, rss0) = fds_and_rss(pid);
    // A hundred sessions: twenty rounds of five at once.
    clients = run(clients, 100 / LANES).await;
    settled(&server).await;
    // A descriptor closes a moment after its peer sees the close (the HTTP requests of
    // `settled`), and the store's connection pool opens and closes connections as it
    // likes: take the lowest count over a second.
    let (mut fds1, mut rss1) = fds_and_rss(pid);
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (f, r) = fds_and_rss(pid);
        (fds1, rss1) = (fds1.min(f), r);
    }
    let m = server.metrics().await;
    let count = |name: &str| -> f64 {
        m.lines().filter(|l| l.starts_with(name)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
    };
    assert!(count("kakehashi_media_packets_total") > 0.0);
    // A leak of one descriptor a session would show as a hundred. The store's pool (at
    // most 4 SQLite connections, a database and a WAL descriptor each) may hold more
    // connections than at the baseline: up to 6 descriptors.
    assert!(fds1 <= fds0 + 6, "file descriptors back to the baseline: {fds0} → {fds1}");
    // A session costs about 0.6 MiB in the relay alone. Measured growth over the hundred
    // is 0.2 to 0.5 MiB (allocator pools); 3 MiB would be a leak of 30 KiB a session.
    assert!(rss1 <= rss0 + 3 * 1024, "resident memory back to the baseline: {rss0} → {rss1} KiB");
    let records = {
        let store = crate::postgres_support::open_store(&dir).await;
        store.call_records(None).await.unwrap()
    };
    assert_eq!(records.len(), (2 + 100 / LANES) * LANES, "one record per session");
    println!("fds {fds0} -> {fds1}, rss {rss0} -> {rss1} KiB");
    drop((clients, child));
}

/// Participants with audio and video: every one receives every other's two streams,
/// intact and in order; stream ids name them by number; a keyframe request reaches a
/// publisher within 100 ms of a newcomer's answer.
async fn everyone_hears_everyone(extra: &[p::Party]) {
    let dir = temp(&format!("many-{}", extra.len()));
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let mut tokens = Vec::new();
    for party in extra {
        tokens.push(invite(&mut desk, call, *party).await);
    }
    let (tx, heard_desk) = tokio::sync::mpsc::unbounded_channel();
    let mut d = media(desk, Some(call), 1, 0x8001, false, true, tx).await;
    let (tx, heard_interp) = tokio::sync::mpsc::unbounded_channel();
    let mut i = media(i1, Some(call), 2, 0x8002, false, true, tx).await;
    d.until_connected().await;
    i.until_connected().await;
    // Publishers send all along (a keyframe every 25 frames); each track opens at the
    // relay on its first packet.
    type Publishers = Arc<tokio::sync::Mutex<Vec<(u8, Media<kakehashi_client::Resident>)>>>;
    let publishers: Publishers = Arc::default();
    let (d, i) = (Arc::new(tokio::sync::Mutex::new(d)), Arc::new(tokio::sync::Mutex::new(i)));
    let sending = {
        let (d, i, others) = (Arc::clone(&d), Arc::clone(&i), Arc::clone(&publishers));
        tokio::spawn(async move {
            for k in 0.. {
                {
                    let m = d.lock().await;
                    m.send(false, 1, k).await;
                    m.send(true, 1, k).await;
                }
                {
                    let m = i.lock().await;
                    m.send(false, 2, k).await;
                    m.send(true, 2, k).await;
                }
                for (who, m) in others.lock().await.iter() {
                    m.send(false, *who, k).await;
                    m.send(true, *who, k).await;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut heard = vec![(1u8, 0u32, heard_desk), (2, 1, heard_interp)];
    for (k, token) in tokens.iter().enumerate() {
        let who = 3 + k as u8;
        while d.lock().await.keyframe_requests.try_recv().is_ok() {}
        // Someone joins from a link: it sends its own audio and video from its first
        // packet on, and is given the others' tracks by a renegotiation.
        let mut person = server.resident(token, None).await;
        let you = expect!(person, p::ResidentEvent::Joined { you, .. } => *you);
        assert_eq!(you, 2 + k as u32);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut m = media(person, None, who, 0x8003 + k as u32, false, true, tx).await;
        m.until_connected().await;
        heard.push((who, you, rx));
        // A keyframe request reaches the desk (a publisher) within 100 ms of the newcomer
        // answering the renegotiation that gives it the desk's video.
        // One asked for by something earlier (a subscriber's own request) may still
        // arrive first: the one that counts comes after the answer.
        let (pli, answered) = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let pli = d.lock().await.keyframe_requests.recv().await.unwrap();
                if let Some(answered) = m.answered().filter(|a| *a <= pli) {
                    break (pli, answered);
                }
            }
        })
        .await
        .expect("a keyframe request after the newcomer answered the relay's offer");
        let delay = pli.saturating_duration_since(answered);
        eprintln!("keyframe request reached the desk {delay:?} after participant {you}'s answer");
        assert!(delay <= Duration::from_millis(100), "{delay:?}");
        publishers.lock().await.push((who, m));
    }
    // Two seconds of everyone sending, then stop and collect.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (_, _, rx) in &mut heard {
        while rx.try_recv().is_ok() {}
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    sending.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let everyone: Vec<(u8, u32)> = heard.iter().map(|(who, number, _)| (*who, *number)).collect();
    for (me, _, rx) in &mut heard {
        let mut streams: std::collections::BTreeMap<(u8, bool), Vec<Heard>> = Default::default();
        while let Ok(h) = rx.try_recv() {
            streams.entry((h.who, h.video)).or_default().push(h);
        }
        let others: Vec<(u8, bool)> =
            everyone.iter().map(|(w, _)| *w).filter(|w| w != me).flat_map(|w| [(w, false), (w, true)]).collect();
        assert_eq!(streams.keys().copied().collect::<Vec<_>>(), others, "participant {me} receives every other stream");
        // Two seconds at 50 packets/s per stream: all of them, none missing, in order.
        for ((who, video), h) in &streams {
            let number = everyone.iter().find(|(w, _)| w == who).unwrap().1;
            assert!(h.iter().all(|h| h.stream == format!("p{number}")), "{who}'s stream id names participant {number}");
            let ns: Vec<u32> = h.iter().map(|h| h.n).collect();
            assert!(ns.len() >= 80, "{me} from {who} video={video}: {} packets", ns.len());
            assert!(ns.windows(2).all(|w| w[1] == w[0] + 1), "{me} from {who} video={video}: intact, in order: {ns:?}");
            assert!(h.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1)), "contiguous RTP numbering");
        }
    }
    drop((d, i, publishers));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_participants_with_audio_and_video_each_receive_every_other_stream_through_the_server() {
    everyone_hears_everyone(&[p::Party::Resident]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_residents_and_a_guest_with_media_each_receive_every_other_stream() {
    everyone_hears_everyone(&[p::Party::Resident, p::Party::Resident, p::Party::Guest]).await;
}

#[tokio::test]
async fn ice_tcp_connections_that_are_not_ice_or_never_confirmed_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tcp: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let server =
        Server::start_with(temp("tcp-garbage"), |c| kakehashi::config::Config { media_tcp_listen: Some(tcp), ..c })
            .await;
    // Closed: read returns end of stream (or the connection is reset) within `limit`.
    async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
        let mut buf = [0u8; 64];
        matches!(tokio::time::timeout(limit, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
    }
    let mut connected = None;
    for _ in 0..50 {
        if let Ok(s) = TcpStream::connect(tcp).await {
            connected = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // RTP as the first packet: not an ICE connection.
    let mut garbage = connected.expect("the ICE-TCP port listens");
    let rtp = kakehashi_relay::framing::frame(&[0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, 1, 2, 3]).unwrap();
    garbage.write_all(&rtp).await.unwrap();
    assert!(closed_within(&mut garbage, Duration::from_secs(2)).await, "a non-STUN first packet closes it");
    // A binding request naming no leg: well-formed, but never confirmed.
    let mut stranger = TcpStream::connect(tcp).await.unwrap();
    let request = kakehashi_relay::stun::binding_request([7; 12], "nobody:x");
    stranger.write_all(&kakehashi_relay::framing::frame(&request).unwrap()).await.unwrap();
    assert!(!closed_within(&mut stranger, Duration::from_secs(1)).await, "it may still become a leg's");
    assert!(closed_within(&mut stranger, Duration::from_secs(15)).await, "unconfirmed after 10 s: closed");
    let m = server.metrics().await;
    assert!(m.contains("kakehashi_media_tcp_connections 0"), "{m}");
    server.stop().await;
}
