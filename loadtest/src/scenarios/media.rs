//! `media`: three-party sessions (desk, interpreter, remote resident), each party
//! publishing Opus and VP8 at realistic rates and receiving the other two. Against
//! kakehashi every party is a desk, an interpreter or a resident of a real call over the
//! signalling protocol; against Janus the same parties join a VideoRoom. The server's CPU
//! time and memory come from `/proc`; the forwarded packets are those the receivers count.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::net::IpAddr;

use kakehashi_client::{MediaRole, Peer, Resident, Signal, join_media};
use kakehashi_protocol as p;
use serde_json::{Value, json};

use crate::LoadError;
use crate::janus::{self, Janus, Session};
use crate::media::{self, PeerEvent, Stats};
use crate::proc;
use crate::report::{Samples, round};
use crate::scenarios::calls::invite_token;
use crate::server::{self, Server};

/// How the run goes.
#[derive(Clone, Debug)]
pub struct Options {
    /// Sessions at once.
    pub sessions: usize,
    /// Seconds measured, after the warm-up.
    pub seconds: u64,
    /// Seconds of media before measuring.
    pub warmup: u64,
}

/// What a run measured on one server.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// Sessions that ran.
    pub sessions: usize,
    /// Packets all receivers got while measuring.
    pub forwarded: u64,
    /// Packets expected by sequence numbers (for loss).
    pub expected: u64,
    /// Server CPU while measuring.
    pub cpu: Duration,
    /// Seconds measured.
    pub seconds: f64,
    /// Server memory before the sessions and while they ran, bytes.
    pub rss_before: u64,
    /// While they ran.
    pub rss_during: u64,
    /// One-way latency through the server.
    pub latency: Samples,
    /// Accept (or join) → first packet from the other side.
    pub to_media: Samples,
}

impl Measured {
    /// Microseconds of server CPU per forwarded packet.
    pub fn cpu_per_packet_us(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.forwarded.max(1) as f64
    }

    /// Forwarded packets per second of server CPU: the rate one core sustains.
    pub fn per_core(&self) -> f64 {
        self.forwarded as f64 / self.cpu.as_secs_f64().max(1e-9)
    }

    /// Loss fraction over the measured window.
    pub fn loss(&self) -> f64 {
        if self.expected == 0 { 0.0 } else { 1.0 - self.forwarded as f64 / self.expected as f64 }
    }

    /// Server memory per session, bytes.
    pub fn per_session(&self) -> i64 {
        (self.rss_during as i64 - self.rss_before as i64) / self.sessions.max(1) as i64
    }

    /// As JSON.
    pub fn json(&self) -> Value {
        json!({
            "sessions": self.sessions,
            "seconds": round(self.seconds),
            "forwarded_packets": self.forwarded,
            "forwarded_per_second": round(self.forwarded as f64 / self.seconds.max(1e-9)),
            "loss": round(self.loss() * 100.0) / 100.0,
            "server_cpu_seconds": round(self.cpu.as_secs_f64()),
            "cpu_us_per_forwarded_packet": round(self.cpu_per_packet_us()),
            "forwarded_per_cpu_second": self.per_core().round(),
            "server_rss_before_kib": self.rss_before / 1024,
            "server_rss_during_kib": self.rss_during / 1024,
            "memory_per_session_kib": self.per_session() / 1024,
            "one_way_latency": self.latency.json(),
            "to_media": self.to_media.json(),
        })
    }

    /// Readable lines, headed by `who`.
    pub fn lines(&self, who: &str) -> Vec<String> {
        vec![
            format!(
                "{who}: {} sessions, {:.0} s: {} packets forwarded ({:.0}/s), loss {:.3}%",
                self.sessions,
                self.seconds,
                self.forwarded,
                self.forwarded as f64 / self.seconds.max(1e-9),
                self.loss() * 100.0
            ),
            format!(
                "  server CPU {:.2} s: {:.2} µs per forwarded packet, {:.0} packets per CPU second",
                self.cpu.as_secs_f64(),
                self.cpu_per_packet_us(),
                self.per_core()
            ),
            format!(
                "  server memory {} → {} KiB: {} KiB per session",
                self.rss_before / 1024,
                self.rss_during / 1024,
                self.per_session() / 1024
            ),
            format!("  one-way latency: {}", self.latency.line()),
            format!("  accept → media: {}", self.to_media.line()),
        ]
    }
}

/// Measure the steady state: warm up, then read the server and the receivers over the
/// window.
async fn window(pid: u32, stats: &Stats, o: &Options, m: &mut Measured) -> Result<(), LoadError> {
    tokio::time::sleep(Duration::from_secs(o.warmup)).await;
    let gone = || LoadError::Server("the server process is gone".into());
    let u0 = proc::usage(pid).ok_or_else(gone)?;
    let t0 = Instant::now();
    stats.measuring.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(o.seconds)).await;
    stats.measuring.store(false, Ordering::SeqCst);
    let u1 = proc::usage(pid).ok_or_else(gone)?;
    m.seconds = t0.elapsed().as_secs_f64();
    m.cpu = u1.cpu.saturating_sub(u0.cpu);
    m.rss_during = u1.rss.max(u0.rss);
    m.forwarded = stats.packets.load(Ordering::SeqCst);
    let (expected, _) = stats.loss();
    m.expected = expected.max(m.forwarded);
    m.latency = stats.latency();
    Ok(())
}

/// Wait until a peer has had a first packet from each of `n` publishers; the time of the
/// last of them.
async fn first_from(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<PeerEvent>,
    n: usize,
    wait: Duration,
) -> Option<Instant> {
    let mut seen = std::collections::BTreeSet::new();
    let deadline = tokio::time::Instant::now() + wait;
    while seen.len() < n {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(PeerEvent::FirstFrom(who, at))) => {
                seen.insert(who);
                if seen.len() == n {
                    return Some(at);
                }
            }
            _ => return None,
        }
    }
    None
}

// ---- kakehashi --------------------------------------------------------------------------

/// A participant's signalling and media (`kakehashi-client`'s `join_media`: our offer,
/// the relay's answer and offers answered) until `stop`; then `last` is sent (a desk ends
/// its call) and the peer hangs up.
async fn participant<R: MediaRole>(
    signal: Signal<R>,
    peer: Peer,
    call: Option<u64>,
    last: Option<R::Command>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), LoadError> {
    let session = join_media(signal, peer, call).await?;
    let _ = stop.changed().await;
    let (mut signal, peer) = session.stop().await?;
    if let Some(last) = last {
        let _ = signal.send(&last).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    peer.close().await;
    signal.close().await;
    Ok(())
}

/// A peer that publishes as `ssrc`, its publisher started, and the receiver of its
/// first packets from each publisher.
async fn publishing(
    ssrc: u32,
    stats: &Arc<Stats>,
    done: &Arc<AtomicBool>,
) -> Result<(Peer, tokio::sync::mpsc::UnboundedReceiver<PeerEvent>), LoadError> {
    let (peer, firsts) = media::peer(IpAddr::from([127, 0, 0, 1]), Some(ssrc), Arc::clone(stats)).await?;
    drop(media::publish(&peer, ssrc, media::Rates::FULL, Arc::clone(done)));
    Ok((peer, firsts))
}

/// One session on kakehashi: a call between a desk and an interpreter, and a resident
/// from the invite link, each with media. Returns accept → media for desk and
/// interpreter.
async fn kakehashi_session(
    ws: String,
    desk: String,
    interpreter: String,
    index: usize,
    stats: Arc<Stats>,
    stop: tokio::sync::watch::Receiver<bool>,
    done: Arc<AtomicBool>,
) -> Result<(Vec<Duration>, Vec<tokio::task::JoinHandle<Result<(), LoadError>>>), LoadError> {
    let wait = Duration::from_secs(30);
    let (mut d, i, call, accepted) = super::calls::answered(&ws, desk, interpreter, wait).await?;
    d.send(&p::DeskCommand::InviteResident { call }).await?;
    let token = d.expect(wait, invite_token, |_| {}).await?;
    let mut r = Signal::<Resident>::connect(&ws, p::Credential::Invite(token), None).await?;
    r.expect(wait, |e| matches!(e, p::ResidentEvent::Joined { .. }).then_some(()), |_| {}).await?;
    // Each party's SSRCs: audio at base + 0x10·k, video 0x100 above (within the block).
    let base = 0x1000_0000 + (index as u32) * 0x400;
    let mut firsts = Vec::new();
    let (peer, f) = publishing(base, &stats, &done).await?;
    firsts.push(f);
    let mut tasks =
        vec![tokio::spawn(participant(d, peer, Some(call), Some(p::DeskCommand::EndCall { call }), stop.clone()))];
    let (peer, f) = publishing(base + 0x10, &stats, &done).await?;
    firsts.push(f);
    tasks.push(tokio::spawn(participant(i, peer, Some(call), None, stop.clone())));
    let (peer, _) = publishing(base + 0x20, &stats, &done).await?;
    tasks.push(tokio::spawn(participant(r, peer, None, None, stop)));
    let mut to_media = Vec::new();
    for firsts in &mut firsts {
        match first_from(firsts, 2, wait).await {
            Some(at) => to_media.push(at.saturating_duration_since(accepted)),
            None => {
                return Err(LoadError::Check(format!(
                    "session {index}: media did not flow to every party within 30 s"
                )));
            }
        }
    }
    Ok((to_media, tasks))
}

/// The media load on kakehashi.
pub async fn on_kakehashi(server: &Server, o: &Options) -> Result<Measured, LoadError> {
    let tenant = server::add_tenant(server, &format!("Media load {}", std::process::id())).await?;
    let desks = server::add_desks(server, tenant, o.sessions).await?;
    let who = (0..o.sessions).map(|n| (format!("load-media-{}-{n}", std::process::id()), "vi")).collect();
    let interpreters = server::add_interpreters(server, tenant, who).await?;
    let mut m = Measured { sessions: o.sessions, ..Measured::default() };
    tokio::time::sleep(Duration::from_millis(500)).await;
    m.rss_before = proc::usage(server.pid).map(|u| u.rss).unwrap_or_default();
    let stats = Arc::new(Stats::default());
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    // Publishers send until this is set.
    let done = Arc::new(AtomicBool::new(false));
    let mut starts = Vec::new();
    for (n, ((_, desk), interpreter)) in desks.into_iter().zip(interpreters).enumerate() {
        starts.push(tokio::spawn(kakehashi_session(
            server.ws_url(),
            desk,
            interpreter,
            n,
            Arc::clone(&stats),
            stop.clone(),
            Arc::clone(&done),
        )));
        // Sessions start as desks would: not all in the same millisecond.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut tasks = Vec::new();
    for s in starts {
        let (to_media, t) = s.await.map_err(|e| LoadError::Check(e.to_string()))??;
        for d in to_media {
            m.to_media.add(d);
        }
        tasks.extend(t);
    }
    window(server.pid, &stats, o, &mut m).await?;
    done.store(true, Ordering::SeqCst);
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    Ok(m)
}

// ---- Janus ------------------------------------------------------------------------------

/// One participant on Janus: its session, a publisher peer and a subscriber peer.
struct JanusParty {
    session: Arc<Session>,
    publisher: Peer,
    subscriber: Option<(Peer, tokio::sync::mpsc::UnboundedReceiver<PeerEvent>)>,
    feed: u64,
}

async fn janus_publisher(
    ws: std::net::SocketAddr,
    room: u64,
    feed: u64,
    stats: Arc<Stats>,
    create: bool,
) -> Result<JanusParty, LoadError> {
    let session = Session::open(ws).await?;
    let (handle, mut events) = session.attach().await?;
    if create {
        session
            .message(
                handle,
                json!({"request": "create", "room": room, "publishers": 3, "audiocodec": "opus", "videocodec": "vp8", "bitrate": 2_000_000, "fir_freq": 0}),
                None,
            )
            .await?;
    }
    session.message(handle, json!({"request": "join", "ptype": "publisher", "room": room, "id": feed}), None).await?;
    let (mut publisher, _) = media::peer(media::primary_ip(), Some(feed as u32), stats).await?;
    let offer = publisher.offer().await?;
    let answer = session
        .message(
            handle,
            json!({"request": "publish", "audio": true, "video": true}),
            Some(json!({"type": "offer", "sdp": offer})),
        )
        .await?;
    let answer =
        if answer["jsep"].is_object() { answer } else { janus::jsep(&mut events, Duration::from_secs(20)).await? };
    if std::env::var_os("LOAD_DEBUG").is_some() {
        eprintln!(
            "janus answer: {}",
            answer["jsep"]["sdp"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("candidate") || l.starts_with("a=ice"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    publisher.answered(answer["jsep"]["sdp"].as_str().unwrap_or_default().to_string()).await?;
    Ok(JanusParty { session, publisher, subscriber: None, feed })
}

async fn janus_subscribe(party: &mut JanusParty, room: u64, feeds: &[u64], stats: Arc<Stats>) -> Result<(), LoadError> {
    let (handle, mut events) = party.session.attach().await?;
    let streams: Vec<Value> = feeds.iter().map(|f| json!({"feed": f})).collect();
    let join = json!({"request": "join", "ptype": "subscriber", "room": room, "streams": streams});
    // A feed is there to subscribe to once Janus has its media up, a moment after our side
    // is connected: "no such feed" (428) means try again shortly.
    let mut tries = 0;
    let offer = loop {
        match party.session.message(handle, join.clone(), None).await {
            Err(LoadError::Janus(e)) if e.contains("\"error_code\":428") && tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => break other?,
        }
    };
    let offer =
        if offer["jsep"].is_object() { offer } else { janus::jsep(&mut events, Duration::from_secs(20)).await? };
    let (mut subscriber, firsts) = media::peer(media::primary_ip(), None, stats).await?;
    let answer = subscriber.answer(offer["jsep"]["sdp"].as_str().unwrap_or_default().to_string()).await?;
    party.session.message(handle, json!({"request": "start"}), Some(json!({"type": "answer", "sdp": answer}))).await?;
    party.subscriber = Some((subscriber, firsts));
    Ok(())
}

/// The same media load on Janus: a VideoRoom per session with three publishers, each
/// subscribing to the other two.
pub async fn on_janus(janus: &Janus, o: &Options) -> Result<Measured, LoadError> {
    let mut m = Measured { sessions: o.sessions, ..Measured::default() };
    m.rss_before = proc::usage(janus.pid).map(|u| u.rss).unwrap_or_default();
    let stats = Arc::new(Stats::default());
    let done = Arc::new(AtomicBool::new(false));
    let mut rooms = Vec::new();
    for s in 0..o.sessions {
        let room = 5000 + s as u64;
        let started = Instant::now();
        let mut parties = Vec::new();
        for k in 0..3u64 {
            let feed = 0x1000_0000 + (s as u64) * 0x400 + k * 0x10;
            parties.push(janus_publisher(janus.ws, room, feed, Arc::clone(&stats), k == 0).await?);
        }
        for p in parties.iter_mut() {
            p.publisher.until_connected(Duration::from_secs(20)).await?;
            drop(media::publish(&p.publisher, p.feed as u32, media::Rates::FULL, Arc::clone(&done)));
        }
        let feeds: Vec<u64> = parties.iter().map(|p| p.feed).collect();
        for p in parties.iter_mut() {
            let others: Vec<u64> = feeds.iter().copied().filter(|f| *f != p.feed).collect();
            janus_subscribe(p, room, &others, Arc::clone(&stats)).await?;
        }
        for p in parties.iter_mut().take(2) {
            if let Some((_, firsts)) = p.subscriber.as_mut() {
                match first_from(firsts, 2, Duration::from_secs(30)).await {
                    Some(at) => m.to_media.add(at.saturating_duration_since(started)),
                    None => return Err(LoadError::Check(format!("janus room {room}: media did not flow within 30 s"))),
                }
            }
        }
        rooms.push(parties);
    }
    window(janus.pid, &stats, o, &mut m).await?;
    done.store(true, Ordering::SeqCst);
    for parties in rooms {
        for p in parties {
            p.publisher.close().await;
            if let Some((s, _)) = &p.subscriber {
                s.close().await;
            }
            p.session.destroy().await;
        }
    }
    Ok(m)
}
