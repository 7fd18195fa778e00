//! The phone bridge inside the server (`[phone]`), end to end with real SIP software: SIPp
//! plays a phone calling in through a trunk on loopback. The desk invites by phone; the
//! caller keys a wrong PIN, is asked again, keys the desk's PIN and joins the call. SIPp
//! echoes every RTP packet it gets, so what the phone heard comes back as its voice: the
//! desk (a 440 Hz tone) and the interpreter (660 Hz), both WebRTC peers publishing Opus,
//! hear both tones in the phone's track. That is the N−1 mix reaching the phone and the
//! phone's voice reaching the browsers. The phone's BYE is its leaving the call.
//!
//! The other way: the desk calls a phone into its call through a trunk (SIPp answering):
//! a busy phone is told to the desk; one that answers joins, echoes, and is hung up on
//! when the desk ends the call.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kakehashi::config::{Config, PhoneSection};
use kakehashi_client::{Desk, Interpreter, MediaRole, MediaSession, Peer, PeerOptions, Received, Signal, join_media};
use kakehashi_phone::opus::{Listener, Voice};
use kakehashi_phone::prompts::Prompt;
use kakehashi_phone::tone::{share, tone};
use kakehashi_protocol as p;
use tokio::sync::mpsc::UnboundedReceiver;
use webrtc::media_stream::track_local::TrackLocal;

use crate::expect;
use crate::support::*;

pub(crate) const LINE: &str = "0120-555-000";

pub(crate) fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A participant that says a tone of `hz` (Opus, every 20 ms, for a minute) and keeps
/// what it hears.
pub(crate) async fn speaking<R: MediaRole>(
    sig: Signal<R>,
    call: Option<u64>,
    hz: f64,
) -> (MediaSession<R>, UnboundedReceiver<Received>) {
    let (tx, heard) = tokio::sync::mpsc::unbounded_channel();
    let ssrc = 0x7000 + hz as u32;
    let options = PeerOptions { publish: Some(ssrc), stream_id: format!("tone{hz}"), ..PeerOptions::default() };
    let peer = Peer::new(options, Arc::new(tx)).await.unwrap();
    let track = peer.audio.clone().unwrap();
    let session = join_media(sig, peer, call).await.unwrap();
    tokio::spawn(async move {
        let mut voice = Voice::new().unwrap();
        let mut every = tokio::time::interval(Duration::from_millis(20));
        for n in 0..3000u32 {
            every.tick().await;
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: 111,
                    sequence_number: n as u16,
                    timestamp: n * 960,
                    ssrc,
                    ..Default::default()
                },
                payload: voice.encode(&tone(hz, n)).unwrap().into(),
            };
            if track.write_rtp(packet).await.is_err() {
                return;
            }
        }
    });
    (session, heard)
}

/// SIPp's scenario `file` for keying `entries` (each a PIN and `#`, 1.5 s apart) and
/// talking (or waiting) for `talk_ms`, in a directory of its own.
fn scenario(file: &str, entries: &[&str], talk_ms: u32) -> std::path::PathBuf {
    let sipp = Path::new(env!("CARGO_MANIFEST_DIR")).join("../phone/tests/sipp");
    let key = std::fs::read_to_string(sipp.join("info_key.xml.part")).unwrap();
    let mut keys = String::new();
    let mut cseq = 2;
    for entry in entries {
        for k in entry.chars() {
            keys.push_str(&key.replace("CSEQ", &cseq.to_string()).replace("KEY", &k.to_string()));
            cseq += 1;
        }
        keys.push_str("  <pause milliseconds=\"1500\"/>\n");
    }
    let text = std::fs::read_to_string(sipp.join(file))
        .unwrap()
        .replace("<!-- KEYS -->\n", &keys)
        .replace("CSEQ BYE", &format!("{cseq} BYE"))
        .replace("TALK", &talk_ms.to_string());
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kakehashi-sipp-bridge-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scenario.xml"), text).unwrap();
    dir
}

/// SIPp as a phone calling [`LINE`] at `sip`: it keys `entries`, echoes for 9 s, hangs up.
fn dial_in(sip: SocketAddr, entries: &[&str]) -> tokio::process::Child {
    call_number(sip, LINE, "uac_pin_echo.xml", entries, 9000)
}

/// SIPp as a phone calling `number` at `sip` with scenario `file` (echoing what it hears).
pub(crate) fn call_number(
    sip: SocketAddr,
    number: &str,
    file: &str,
    entries: &[&str],
    talk_ms: u32,
) -> tokio::process::Child {
    sipp_calling(&scenario(file, entries, talk_ms), sip, number, true)
}

/// SIPp as a phone calling `number` at `sip`: it keys `entries` and speaks a `hz` tone
/// for `talk_ms` (nothing echoed), then hangs up.
pub(crate) fn tone_caller(
    sip: SocketAddr,
    number: &str,
    entries: &[&str],
    talk_ms: u32,
    hz: f64,
) -> tokio::process::Child {
    let work = scenario("uac_pin_tone.xml", entries, talk_ms);
    let tone: Vec<u8> = (0..8000 * 5)
        .map(|i| {
            let t = f64::from(i) / 8000.0;
            kakehashi_phone::g711::linear_to_ulaw(((t * hz * std::f64::consts::TAU).sin() * 8000.0) as i16)
        })
        .collect();
    std::fs::write(work.join("tone.ulaw"), tone).unwrap();
    sipp_calling(&work, sip, number, false)
}

fn sipp_calling(work: &Path, sip: SocketAddr, number: &str, echo: bool) -> tokio::process::Child {
    let mut command = tokio::process::Command::new("sipp");
    command
        .current_dir(work)
        .arg(sip.to_string())
        .args(["-sf", "scenario.xml", "-s", &number.replace('-', ""), "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &free_port().to_string(), "-mp", &free_port().to_string()])
        .args(["-m", "1", "-nostdin", "-trace_err", "-timeout", "60s", "-timeout_error"])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if echo {
        command.arg("-rtp_echo");
    }
    command.spawn().unwrap()
}

/// The phone's track as the participant heard it, decoded at 8 kHz.
pub(crate) fn phone_sound(heard: &mut UnboundedReceiver<Received>, phone: u32, listener: &mut Listener) -> Vec<i16> {
    let (mut sound, mut pcm) = (Vec::new(), Vec::new());
    while let Ok(r) = heard.try_recv() {
        if !r.video && r.stream_id == format!("p{phone}") {
            listener.decode(Some(&r.payload), &mut pcm).unwrap();
            sound.extend_from_slice(&pcm);
        }
    }
    sound
}

/// The server answering [`LINE`] on a SIP port of its own, calling out through
/// `dial_trunk`: it, its people, and its SIP address.
pub(crate) async fn server_with_phone(tag: &str, dial_trunk: Option<SocketAddr>) -> (Server, Creds, SocketAddr) {
    server_with_section(tag, |p| PhoneSection { dial_trunk, ..p }).await
}

/// The server answering [`LINE`] on a SIP port of its own, with more of `[phone]` set by
/// `set`.
pub(crate) async fn server_with_section(
    tag: &str,
    set: impl FnOnce(PhoneSection) -> PhoneSection,
) -> (Server, Creds, SocketAddr) {
    assert!(Path::new("/usr/bin/sipp").exists(), "SIPp is missing: apt-get install sip-tester (scripts/test.sh does)");
    let dir = temp(tag);
    let creds = seed(&dir).await;
    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let phone = set(PhoneSection {
        sip_listen: sip,
        trunks: vec![[127, 0, 0, 1].into()],
        ring_secs: 10,
        ..PhoneSection::default()
    });
    let server = Server::start_with(dir, |c| Config { phone_number: Some(LINE.into()), phone: Some(phone), ..c }).await;
    // The bridge connects to the server after it starts: until then the line is not
    // offered. Tests begin once it is (or after 15 s, to see why not).
    for _ in 0..300 {
        if http(server.addr, "GET", "/readyz", None, None).await == (200, "ready".into()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, creds, sip)
}

/// SIPp as a phone answering at `port` with `scenario` (from the phone crate's).
/// SIPp playing `scenario` as the phone at `port`, once it listens there (a phone not yet
/// listening would let the bridge's INVITE go unanswered for seconds on a busy machine).
pub(crate) async fn phone_at(port: u16, scenario: &str, echo: bool) -> tokio::process::Child {
    let sipp = Path::new(env!("CARGO_MANIFEST_DIR")).join("../phone/tests/sipp");
    let mut command = tokio::process::Command::new("sipp");
    command
        .current_dir(sipp)
        .args(["-sf", scenario, "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mp", &free_port().to_string(), "-m", "1", "-nostdin", "-trace_err", "-timeout", "60s"])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if echo {
        command.arg("-rtp_echo");
    }
    let phone = command.spawn().unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    // Its port taken is SIPp listening.
    while std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(std::time::Instant::now() < until, "SIPp ({scenario}) listens on {port} within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    phone
}

/// Both parties hear the desk's and the interpreter's tones through the phone.
pub(crate) async fn everyone_hears_through(
    phone: u32,
    desk: &mut UnboundedReceiver<Received>,
    interpreter: &mut UnboundedReceiver<Received>,
) {
    // Three seconds to set up, then listen for three.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (mut at_desk, mut at_interpreter) = (Listener::new().unwrap(), Listener::new().unwrap());
    phone_sound(desk, phone, &mut at_desk);
    phone_sound(interpreter, phone, &mut at_interpreter);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let desk_got = phone_sound(desk, phone, &mut at_desk);
    let interpreter_got = phone_sound(interpreter, phone, &mut at_interpreter);
    for (who, got) in [("the desk", &desk_got), ("the interpreter", &interpreter_got)] {
        assert!(got.len() >= 8000 * 2, "{who} heard {} samples of the phone in 3 s", got.len());
        let (a, b) = (share(got, 440.0), share(got, 660.0));
        eprintln!("{who}: 440 Hz {a:.2}, 660 Hz {b:.2} of {} samples", got.len());
        assert!(a > 0.2 && b > 0.2, "{who} hears the desk ({a:.2}) and the interpreter ({b:.2}) through the phone");
    }
}

/// The next `pick` among a media session's events, within `wait`.
pub(crate) async fn event<T>(
    events: &mut UnboundedReceiver<p::DeskEvent>,
    wait: Duration,
    mut pick: impl FnMut(&p::DeskEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(wait, async {
        loop {
            if let Some(t) = pick(&events.recv().await.expect("the desk's connection")) {
                return t;
            }
        }
    })
    .await
    .expect("in time")
}

/// The participant number of the next phone to join, as the desk hears it.
pub(crate) async fn phone_joined(events: &mut UnboundedReceiver<p::DeskEvent>, wait: Duration) -> u32 {
    event(events, wait, |e| match e {
        p::DeskEvent::ParticipantJoined { party: p::Party::Phone, participant, .. } => Some(*participant),
        _ => None,
    })
    .await
}

/// The participant number of the next one to leave, as the desk hears it.
pub(crate) async fn someone_left(events: &mut UnboundedReceiver<p::DeskEvent>, wait: Duration) -> u32 {
    event(events, wait, |e| match e {
        p::DeskEvent::ParticipantLeft { participant, .. } => Some(*participant),
        _ => None,
    })
    .await
}

/// A Vietnamese call whose desk (440 Hz) and interpreter (660 Hz) speak, and the desk's
/// PIN for a phone.
pub(crate) struct PinCall {
    pub(crate) pin: String,
    pub(crate) desk_media: MediaSession<Desk>,
    pub(crate) desk_heard: UnboundedReceiver<Received>,
    pub(crate) interpreter_media: MediaSession<Interpreter>,
    pub(crate) interpreter_heard: UnboundedReceiver<Received>,
}

pub(crate) async fn pin_call(server: &Server, creds: &Creds) -> PinCall {
    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    desk.send(p::DeskCommand::Invite { call, party: p::Party::Phone }).await;
    let pin = expect!(desk, p::DeskEvent::PhoneInvite { pin, .. } => pin.clone());
    let (desk_media, desk_heard) = speaking(desk.sig, Some(call), 440.0).await;
    let (interpreter_media, interpreter_heard) = speaking(interpreter.sig, Some(call), 660.0).await;
    PinCall { pin, desk_media, desk_heard, interpreter_media, interpreter_heard }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_joins_with_the_desks_pin_and_everyone_hears_everyone() {
    let (server, creds, sip) = server_with_phone("phone-bridge", None).await;
    // Each session is kept (bound) for the test's length: a dropped one stops its media.
    let PinCall { pin, mut desk_media, mut desk_heard, interpreter_media: _interpreter, mut interpreter_heard } =
        pin_call(&server, &creds).await;

    let wrong = if pin == "000000" { "111111#" } else { "000000#" };
    let phone = dial_in(sip, &[wrong, &format!("{pin}#")]);

    // The phone joins the call as party phone (after the wrong PIN, the right one).
    let joined =
        tokio::time::timeout(Duration::from_secs(40), phone_joined(&mut desk_media.events, Duration::from_secs(3600)));
    let Ok(joined) = joined.await else {
        // What SIPp saw, to tell a call that never came from one that never got in.
        let mut phone = phone;
        let _ = phone.start_kill();
        let out = phone.wait_with_output().await.unwrap();
        panic!("the phone did not join within 40 s; SIPp said: {}", String::from_utf8_lossy(&out.stderr));
    };
    // A phone has no camera, and every screen is told so.
    let camera_off = event(&mut desk_media.events, Duration::from_secs(10), |e| match e {
        p::DeskEvent::ParticipantMedia { participant, muted, camera_off, .. } if *participant == joined => {
            Some((*muted, *camera_off))
        }
        _ => None,
    })
    .await;
    assert_eq!(camera_off, (false, true));
    // The wallboard counts the call and its phone leg (the other tenant's sees neither),
    // while the phone is in (SIPp hangs up 9 s after keying).
    for (sup, want) in [(&creds.sup_a, (1, 1)), (&creds.sup_b, (0, 0))] {
        let mut wall = server.supervisor(sup).await;
        wall.send(p::SupervisorCommand::Subscribe {}).await;
        let calls = expect!(wall, p::SupervisorEvent::Snapshot { calls, .. } => calls.clone());
        assert_eq!((calls.calls, calls.phone_legs, calls.by_link), (want.0, want.1, 0));
    }

    everyone_hears_through(joined, &mut desk_heard, &mut interpreter_heard).await;
    // The phone hangs up: it leaves the call, and the call goes on.
    let out = tokio::time::timeout(Duration::from_secs(30), phone.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp: {}", String::from_utf8_lossy(&out.stderr));
    let left = someone_left(&mut desk_media.events, Duration::from_secs(10)).await;
    assert_eq!(left, joined);
    // The bridge's metrics are the server's: one call in joined after its setup, mixed,
    // and (once the gateway has seen the hang-up through) no leg left in the call.
    let lines = [
        "kakehashi_phone_calls_total{direction=\"in\",outcome=\"joined\"} 1",
        "kakehashi_phone_setup_seconds_count{direction=\"in\"} 1",
        "kakehashi_phone_legs{direction=\"in\",state=\"in_call\"} 0",
    ];
    let mut metrics = server.metrics().await;
    for _ in 0..50 {
        if lines.iter().all(|line| metrics.contains(line)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        metrics = server.metrics().await;
    }
    for line in lines {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(!metrics.contains("kakehashi_phone_mix_seconds_count 0"), "frames were mixed");
    promtool_accepts(&metrics).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_calls_a_phone_in_and_a_busy_one_is_told() {
    let trunk = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let (server, creds, _) = server_with_phone("phone-dial", Some(trunk)).await;
    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    // A number that is not one is refused before anything is dialled.
    desk.send(p::DeskCommand::DialOut { call, number: "sip:someone@example".into() }).await;
    assert_eq!(desk.error().await.code, p::ErrorCode::InvalidField);

    // Busy: the desk is told, and nobody joins.
    let busy = phone_at(trunk.port(), "uas_busy.xml", false).await;
    desk.send(p::DeskCommand::DialOut { call, number: "090-1234-5678".into() }).await;
    expect!(desk, p::DeskEvent::Dialling { call: c } => assert_eq!(*c, call));
    let reason = expect!(desk, p::DeskEvent::DialFailed { reason, .. } => *reason);
    assert_eq!(reason, p::DialFailure::Busy);
    let out = tokio::time::timeout(Duration::from_secs(10), busy.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp (busy): {}", String::from_utf8_lossy(&out.stderr));

    // Answered: the phone joins, hears everyone and is heard; the desk ends the call and
    // the phone is hung up on.
    let answering = phone_at(trunk.port(), "uas_echo.xml", true).await;
    desk.send(p::DeskCommand::DialOut { call, number: "+81 90-1234-5678".into() }).await;
    expect!(desk, p::DeskEvent::Dialling { .. });
    let dialled = std::time::Instant::now();
    let (mut desk_media, mut desk_heard) = speaking(desk.sig, Some(call), 440.0).await;
    let (_interpreter_media, mut interpreter_heard) = speaking(interpreter.sig, Some(call), 660.0).await;
    let joined = phone_joined(&mut desk_media.events, Duration::from_secs(30)).await;
    // Whoever answered heard who is calling, in the call's language, before joining.
    let greeting = kakehashi_phone::prompts::Prompts::built_in().get(Prompt::DialGreeting, "vi").len() / 8;
    assert!(greeting > 5000, "a greeting of {greeting} ms");
    assert!(dialled.elapsed() >= Duration::from_millis(greeting as u64), "joined before the greeting's end");
    everyone_hears_through(joined, &mut desk_heard, &mut interpreter_heard).await;
    let (mut signal, _peer) = desk_media.stop().await.unwrap();
    signal.send(&p::DeskCommand::EndCall { call }).await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(15), answering.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp saw the BYE: {}", String::from_utf8_lossy(&out.stderr));
    // The record counts the phone that took part (the busy one never joined), and holds
    // no number.
    assert!(server.eventually_record(&creds.sup_a, "answered").await);
    let records = server.records(&creds.sup_a).await;
    assert_eq!((records[0]["phones"].as_i64(), records[0]["remote_residents"].as_i64()), (Some(1), Some(0)));
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains("1234-5678") && !text.contains("9012345678"), "no number in the records");
    let metrics = server.metrics().await;
    for line in [
        "kakehashi_phone_calls_total{direction=\"out\",outcome=\"busy\"} 1",
        "kakehashi_phone_calls_total{direction=\"out\",outcome=\"joined\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    server.stop().await;
}

/// `kakehashi phone` alone, against a server that has a phone line and a gateway secret
/// but no `[phone]`: once it is connected the desk's phone invite is taken, a caller
/// keys the PIN and is heard, and its own `/metrics` counts the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bridge_alone_joins_a_caller_to_a_call_on_a_server_elsewhere() {
    const SECRET: &str = "gateway-secret-of-the-test";
    let dir = temp("phone-alone");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir.clone(), |c| Config {
        phone_number: Some(LINE.into()),
        phone_gateway_token: Some(SECRET.into()),
        ..c
    })
    .await;
    let (sip, metrics_at) = (SocketAddr::from(([127, 0, 0, 1], free_port())), free_port());
    let config = dir.join("phone.toml");
    std::fs::write(
        &config,
        format!(
            "server = \"{}\"\ngateway_token = \"{SECRET}\"\nphone_number = \"{LINE}\"\nmetrics_listen = \"127.0.0.1:{metrics_at}\"\n\
             [phone]\nsip_listen = \"{sip}\"\ntrunks = [\"127.0.0.1\"]\n",
            server.url()
        ),
    )
    .unwrap();
    let _bridge = tokio::process::Command::new(env!("CARGO_BIN_EXE_kakehashi"))
        .args(["phone", "--config"])
        .arg(&config)
        .env("KAKEHASHI_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut interpreter = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut interpreter, "vi").await;
    // Until the bridge is connected the line is not offered; then it is.
    let mut pin = None;
    for _ in 0..100 {
        desk.send(p::DeskCommand::Invite { call, party: p::Party::Phone }).await;
        let answer = desk
            .sig
            .expect(
                Duration::from_secs(5),
                |e| match e {
                    p::DeskEvent::PhoneInvite { pin, .. } => Some(Some(pin.clone())),
                    p::DeskEvent::Error(e) if e.code == p::ErrorCode::NotAllowed => Some(None),
                    _ => None,
                },
                |_| {},
            )
            .await
            .unwrap();
        if answer.is_some() {
            pin = answer;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pin = pin.expect("the bridge connected within 10 s");
    let bridge_at = SocketAddr::from(([127, 0, 0, 1], metrics_at));
    assert_eq!(http(bridge_at, "GET", "/readyz", None, None).await, (200, "ready".into()));
    let (mut desk_media, mut desk_heard) = speaking(desk.sig, Some(call), 440.0).await;
    let (_interpreter_media, mut interpreter_heard) = speaking(interpreter.sig, Some(call), 660.0).await;
    let phone = dial_in(sip, &[&format!("{pin}#")]);
    let joined = phone_joined(&mut desk_media.events, Duration::from_secs(30)).await;
    everyone_hears_through(joined, &mut desk_heard, &mut interpreter_heard).await;
    let out = tokio::time::timeout(Duration::from_secs(30), phone.wait_with_output()).await.unwrap().unwrap();
    assert!(out.status.success(), "SIPp: {}", String::from_utf8_lossy(&out.stderr));
    let (status, metrics) = http(bridge_at, "GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    assert!(metrics.contains("kakehashi_phone_calls_total{direction=\"in\",outcome=\"joined\"} 1"), "{metrics}");
    promtool_accepts(&metrics).await;
    server.stop().await;
    // With the server gone the bridge is not ready, and says why.
    let mut said = (0, String::new());
    for _ in 0..50 {
        said = http(bridge_at, "GET", "/readyz", None, None).await;
        if said.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(said.0, 503, "{said:?}");
    assert!(said.1.starts_with("not connected to the server"), "{said:?}");
}
