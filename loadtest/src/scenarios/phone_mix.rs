//! Phone legs mixed and transcoded, side by side with Janus's AudioBridge: N three-party
//! calls, each with two WebRTC participants saying Opus and one phone on G.711.
//!
//! - kakehashi: a desk and an interpreter in a call (the load tool's peers, audio only,
//!   real Opus), and a phone that SIPp dials in with the call's PIN; SIPp echoes what the
//!   phone hears, so the phone talks as much as it listens. The server (its relay and the
//!   bridge inside it) does the work.
//! - Janus: an AudioBridge room per call with the same two WebRTC participants and a
//!   plain-RTP participant on PCMU (the load tool sending a tone and taking the mix).
//!   Janus mixes every participant's N−1 and encodes each; kakehashi forwards the
//!   browsers' Opus and transcodes only for the phone.
//!
//! The process's CPU over a window, per phone leg, is the figure.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use kakehashi_client::{Desk, Interpreter, MediaSession, Peer, PeerOptions, Received, join_media};
use kakehashi_protocol as p;
use serde_json::{Value, json};
use webrtc::media_stream::track_local::TrackLocal;

use super::calls::answered;
use crate::janus::{Janus, Session};
use crate::report::round;
use crate::server::{self, Server, free_port};
use crate::{LoadError, proc};

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Calls at once, each with one phone.
    pub calls: usize,
    /// The measured window, seconds.
    pub seconds: u64,
    /// Settling before it, seconds.
    pub warmup: u64,
}

/// What one side cost.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// Calls (and phone legs).
    pub calls: usize,
    /// CPU seconds over the window.
    pub cpu: f64,
    /// The window, seconds.
    pub seconds: f64,
    /// Frames the phones got in the window (kakehashi: the bridge's mixes for them;
    /// Janus: the RTP packets its phones received): 50 per second per phone when it keeps
    /// up.
    pub phone_packets: u64,
}

impl Measured {
    /// CPU per phone leg, in % of a core.
    pub fn per_leg_percent(&self) -> f64 {
        self.cpu / self.seconds.max(1e-9) / self.calls.max(1) as f64 * 100.0
    }

    /// JSON.
    pub fn json(&self) -> Value {
        json!({
            "calls": self.calls,
            "cpu_secs": round(self.cpu),
            "seconds": round(self.seconds),
            "cpu_percent_per_phone_leg": round(self.per_leg_percent()),
            "phone_packets": self.phone_packets,
        })
    }

    /// A line.
    pub fn line(&self, who: &str) -> String {
        format!(
            "{who}: {} calls with a phone: {:.2} s of CPU in {:.0} s, {:.3}% of a core per phone leg",
            self.calls,
            self.cpu,
            self.seconds,
            self.per_leg_percent()
        )
    }
}

/// Fifty frames of a tone as Opus, what each WebRTC participant says in a loop.
fn opus_frames(hz: f64) -> Result<Arc<Vec<Bytes>>, LoadError> {
    let mut voice = kakehashi_phone::opus::Voice::new().map_err(|e| LoadError::Check(e.to_string()))?;
    let frames = (0..50u32)
        .map(|n| voice.encode(&kakehashi_phone::tone::tone(hz, n)).map(Bytes::from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LoadError::Check(e.to_string()))?;
    Ok(Arc::new(frames))
}

/// Say `frames` on `peer`'s audio track every 20 ms until `stop`.
fn say(peer: &Peer, frames: Arc<Vec<Bytes>>, stop: Arc<AtomicBool>) {
    let (Some(track), ssrc) = (peer.audio.clone(), peer.ssrc) else { return };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut n = 0u32;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: 111,
                    sequence_number: n as u16,
                    timestamp: n.wrapping_mul(960),
                    ssrc,
                    ..Default::default()
                },
                payload: frames[n as usize % frames.len()].clone(),
            };
            let _ = track.write_rtp(packet).await;
            n = n.wrapping_add(1);
        }
    });
}

/// An audio-only peer saying `frames`, received packets dropped.
async fn speaker(ip: IpAddr, ssrc: u32, frames: Arc<Vec<Bytes>>, stop: &Arc<AtomicBool>) -> Result<Peer, LoadError> {
    let (sink, mut drain) = tokio::sync::mpsc::unbounded_channel::<Received>();
    tokio::spawn(async move { while drain.recv().await.is_some() {} });
    let options = PeerOptions { ip, publish: Some(ssrc), stream_id: format!("mix-{ssrc}"), ..PeerOptions::default() };
    let peer = Peer::new(options, Arc::new(sink)).await?;
    say(&peer, frames, Arc::clone(stop));
    Ok(peer)
}

/// The window: CPU of `pid` over `seconds` (the warm-up is the caller's).
async fn window(pid: u32, o: &Options) -> (f64, f64) {
    let (before, t0) = (proc::usage(pid).unwrap_or_default(), tokio::time::Instant::now());
    tokio::time::sleep(Duration::from_secs(o.seconds)).await;
    let after = proc::usage(pid).unwrap_or_default();
    (after.cpu.saturating_sub(before.cpu).as_secs_f64(), t0.elapsed().as_secs_f64())
}

/// The server's configuration for the run: its phone line on `sip`.
pub fn config(sip: u16) -> String {
    super::phone_rate::config(sip)
}

/// One call on kakehashi, up to the desk's PIN; the two sessions keep its media going.
async fn kakehashi_call(
    ws: String,
    desk: String,
    interpreter: String,
    n: usize,
    frames: (Arc<Vec<Bytes>>, Arc<Vec<Bytes>>),
    stop: Arc<AtomicBool>,
) -> Result<(String, MediaSession<Desk>, MediaSession<Interpreter>), LoadError> {
    let wait = Duration::from_secs(30);
    let (mut d, i, call, _) = answered(&ws, desk, interpreter, wait).await?;
    d.send(&p::DeskCommand::Invite { call, party: p::Party::Phone }).await?;
    let pin = d
        .expect(
            wait,
            |e| match e {
                p::DeskEvent::PhoneInvite { pin, .. } => Some(pin.clone()),
                _ => None,
            },
            |_| {},
        )
        .await?;
    let loopback = IpAddr::from([127, 0, 0, 1]);
    let base = 0x2000_0000 + (n as u32) * 0x400;
    let desk_media = join_media(d, speaker(loopback, base, frames.0, &stop).await?, Some(call)).await?;
    let interpreter_media = join_media(i, speaker(loopback, base + 0x10, frames.1, &stop).await?, Some(call)).await?;
    Ok((pin, desk_media, interpreter_media))
}

/// One series of the server's metrics now.
async fn metric(server: &Server, series: &str) -> f64 {
    server::series(&server.metrics().await, series)
}

/// The load on kakehashi (started with [`config`]`(sip)`).
pub async fn on_kakehashi(server: &Server, repo: &Path, sip: u16, o: &Options) -> Result<Measured, LoadError> {
    let tenant = server::add_tenant(server, &format!("Phone mix {}", std::process::id())).await?;
    let desks = server::add_desks(server, tenant, o.calls).await?;
    let who = (0..o.calls).map(|n| (format!("load-mix-{}-{n}", std::process::id()), "vi")).collect();
    let interpreters = server::add_interpreters(server, tenant, who).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let frames = (opus_frames(440.0)?, opus_frames(660.0)?);
    let mut pins = Vec::new();
    let mut sessions = Vec::new();
    for (n, ((_, desk), interpreter)) in desks.into_iter().zip(interpreters).enumerate() {
        let (pin, d, i) =
            kakehashi_call(server.ws_url(), desk, interpreter, n, frames.clone(), Arc::clone(&stop)).await?;
        pins.push(pin);
        sessions.push((d, i));
    }
    // The phones: one SIPp, a call per PIN.
    let work = std::env::temp_dir().join(format!("kakehashi-load-mix-{}-{sip}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let hold_ms = (o.warmup + o.seconds + 30) * 1000;
    let scenario = std::fs::read_to_string(repo.join("loadtest/sipp/uac_mix.xml"))?;
    std::fs::write(work.join("uac_mix.xml"), scenario.replace("HOLD", &hold_ms.to_string()))?;
    let lines: Vec<String> = pins.iter().map(|pin| pin.chars().map(|c| format!("{c};")).collect()).collect();
    std::fs::write(work.join("pins.csv"), format!("SEQUENTIAL\n{}\n", lines.join("\n")))?;
    let mut sipp = tokio::process::Command::new("sipp")
        .current_dir(&work)
        .arg(format!("127.0.0.1:{sip}"))
        .args(["-sf", "uac_mix.xml", "-inf", "pins.csv", "-s", "0120000000", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &free_port()?.to_string(), "-mp", &free_port()?.to_string(), "-rtp_echo"])
        .args(["-r", "10", "-m", &o.calls.to_string(), "-l", &o.calls.to_string(), "-nostdin"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    // Every phone in its call.
    let mut joined = 0.0;
    for _ in 0..600 {
        joined = metric(server, "kakehashi_phone_legs{direction=\"in\",state=\"in_call\"}").await;
        if joined >= o.calls as f64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if joined < o.calls as f64 {
        let _ = sipp.start_kill();
        return Err(LoadError::Check(format!("{joined} of {} phones joined their calls within 60 s", o.calls)));
    }
    tokio::time::sleep(Duration::from_secs(o.warmup)).await;
    let mixed_before = metric(server, "kakehashi_phone_mix_seconds_count").await;
    let (cpu, seconds) = window(server.pid, o).await;
    let mixed = metric(server, "kakehashi_phone_mix_seconds_count").await - mixed_before;
    stop.store(true, Ordering::SeqCst);
    let _ = sipp.start_kill();
    for (d, i) in sessions {
        for peer in [d.stop().await.map(|(_, p)| p), i.stop().await.map(|(_, p)| p)].into_iter().flatten() {
            peer.close().await;
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(Measured { calls: o.calls, cpu, seconds, phone_packets: mixed as u64 })
}

/// One AudioBridge participant over WebRTC, saying `frames`.
async fn janus_speaker(
    janus: &Janus,
    room: u64,
    create: bool,
    ssrc: u32,
    frames: Arc<Vec<Bytes>>,
    stop: &Arc<AtomicBool>,
) -> Result<(Arc<Session>, Peer), LoadError> {
    let session = Session::open(janus.ws).await?;
    let (handle, mut events) = session.attach_plugin("janus.plugin.audiobridge").await?;
    if create {
        session
            .message(
                handle,
                json!({"request": "create", "room": room, "sampling_rate": 16000, "allow_rtp_participants": true}),
                None,
            )
            .await?;
    }
    session.message(handle, json!({"request": "join", "room": room, "display": format!("p{ssrc}")}), None).await?;
    let mut peer = speaker(crate::media::primary_ip(), ssrc, frames, stop).await?;
    let offer = peer.offer().await?;
    let answer = session
        .message(handle, json!({"request": "configure", "muted": false}), Some(json!({"type": "offer", "sdp": offer})))
        .await?;
    let answer = if answer["jsep"].is_object() {
        answer
    } else {
        crate::janus::jsep(&mut events, Duration::from_secs(20)).await?
    };
    peer.answered(answer["jsep"]["sdp"].as_str().unwrap_or_default().to_string()).await?;
    Ok((session, peer))
}

/// The phone in an AudioBridge room: a plain-RTP participant on PCMU, sending a tone
/// every 20 ms and counting what the room sends it.
async fn janus_phone(
    janus: &Janus,
    room: u64,
    ssrc: u32,
    heard: Arc<AtomicU64>,
    stop: &Arc<AtomicBool>,
) -> Result<Arc<Session>, LoadError> {
    let socket = tokio::net::UdpSocket::bind(SocketAddr::new(crate::media::primary_ip(), 0)).await?;
    let local = socket.local_addr()?;
    let session = Session::open(janus.ws).await?;
    let (handle, mut events) = session.attach_plugin("janus.plugin.audiobridge").await?;
    let join = json!({"request": "join", "room": room, "display": "phone", "codec": "pcmu",
        "rtp": {"ip": local.ip().to_string(), "port": local.port(), "payload_type": 0}});
    let mut joined = session.message(handle, join, None).await?;
    for _ in 0..20 {
        if joined["plugindata"]["data"]["rtp"].is_object() {
            break;
        }
        joined = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .map_err(|_| LoadError::Janus("no RTP address for the phone".into()))?
            .ok_or_else(|| LoadError::Janus("handle closed".into()))?;
    }
    let rtp = &joined["plugindata"]["data"]["rtp"];
    let to: SocketAddr =
        format!("{}:{}", rtp["ip"].as_str().unwrap_or_default(), rtp["port"].as_u64().unwrap_or_default())
            .parse()
            .map_err(|_| LoadError::Janus(format!("the phone's RTP address: {joined}")))?;
    let socket = Arc::new(socket);
    let (tx, stop_tx) = (Arc::clone(&socket), Arc::clone(stop));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let (mut out, mut encoded) = (Vec::new(), Vec::new());
        let mut n = 0u32;
        while !stop_tx.load(Ordering::Relaxed) {
            tick.tick().await;
            kakehashi_phone::g711::Law::Mu.encode(&kakehashi_phone::tone::tone(1000.0, n), &mut encoded);
            let packet = kakehashi_phone::rtp::Packet {
                payload_type: 0,
                marker: n == 0,
                seq: n as u16,
                timestamp: n * 160,
                ssrc,
                payload: &encoded,
            };
            kakehashi_phone::rtp::write(&packet, &mut out);
            let _ = tx.send_to(&out, to).await;
            n = n.wrapping_add(1);
        }
    });
    let stop_rx = Arc::clone(stop);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while !stop_rx.load(Ordering::Relaxed) {
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buf)).await {
                heard.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    Ok(session)
}

/// The same load on Janus's AudioBridge.
pub async fn on_janus(janus: &Janus, o: &Options) -> Result<Measured, LoadError> {
    let stop = Arc::new(AtomicBool::new(false));
    let frames = (opus_frames(440.0)?, opus_frames(660.0)?);
    let heard = Arc::new(AtomicU64::new(0));
    let (mut sessions, mut peers) = (Vec::new(), Vec::new());
    for n in 0..o.calls {
        let room = 7000 + n as u64;
        let base = 0x3000_0000 + (n as u32) * 0x400;
        for (k, said) in [frames.0.clone(), frames.1.clone()].into_iter().enumerate() {
            let (session, peer) = janus_speaker(janus, room, k == 0, base + 0x10 * k as u32, said, &stop).await?;
            sessions.push(session);
            peers.push(peer);
        }
        sessions.push(janus_phone(janus, room, base + 0x20, Arc::clone(&heard), &stop).await?);
    }
    tokio::time::sleep(Duration::from_secs(o.warmup)).await;
    let heard_before = heard.load(Ordering::Relaxed);
    let (cpu, seconds) = window(janus.pid, o).await;
    let phone_packets = heard.load(Ordering::Relaxed) - heard_before;
    stop.store(true, Ordering::SeqCst);
    for peer in peers {
        peer.close().await;
    }
    for session in sessions {
        session.destroy().await;
    }
    if phone_packets == 0 {
        return Err(LoadError::Check("Janus's phones heard nothing".into()));
    }
    Ok(Measured { calls: o.calls, cpu, seconds, phone_packets })
}
