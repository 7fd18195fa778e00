//! The gateway against real SIP software from Debian, on loopback: SIPp (`sip-tester`)
//! plays a trunk. `scripts/test.sh` installs it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kakehashi_phone::dtmf::{Entered, Entry};
use kakehashi_phone::gateway::{Answered, Gateway, Refusal, Settings, Switchboard};
use kakehashi_phone::leg::Heard;
use kakehashi_phone::register::{Registered, Registrar};
use kakehashi_phone::tone::share;

/// The number the test's line answers on.
const LINE: &str = "0120";

/// A switchboard that takes calls to [`LINE`], gathers a PIN ended by `#`, and counts
/// what the phone said.
#[derive(Debug, Default)]
struct Recorder {
    pins: std::sync::Mutex<Vec<String>>,
    keys: std::sync::Mutex<String>,
    frames: AtomicU64,
    loud: AtomicU64,
    ended: AtomicU64,
    calls: AtomicU64,
}

#[async_trait::async_trait]
impl Switchboard for Recorder {
    fn admit(&self, number: &str) -> Result<(), Refusal> {
        if number == LINE { Ok(()) } else { Err(Refusal { status: 404, reason: format!("no line on {number}") }) }
    }

    async fn run(&self, mut call: Answered) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut entry = Entry::new(16);
        while let Some(heard) = call.heard.recv().await {
            match heard {
                Heard::Key(k) => {
                    self.keys.lock().unwrap().push(k);
                    if let Entered::Done(pin) = entry.key(k) {
                        self.pins.lock().unwrap().push(pin);
                    }
                }
                Heard::Frame(f) => {
                    self.frames.fetch_add(1, Ordering::SeqCst);
                    if f.iter().any(|s| s.unsigned_abs() > 1000) {
                        self.loud.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Heard::NoMedia => break,
            }
        }
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
}

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A working directory for one SIPp run: its scenario (with `replace` applied) and the
/// `pcap/` directory of Debian's sip-tester, as its scenarios expect.
fn workdir(name: &str, scenario: &str, replace: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kakehashi-sipp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp").join(scenario);
    let mut text = std::fs::read_to_string(here).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    std::fs::write(dir.join(scenario), text).unwrap();
    std::os::unix::fs::symlink("/usr/share/sip-tester", dir.join("pcap")).unwrap();
    dir
}

/// Run SIPp from `ip` against the gateway; its exit code (0: every call as scripted).
async fn sipp(dir: &Path, scenario: &str, gateway: SocketAddr, ip: &str, service: &str, timeout: u32) -> i32 {
    assert!(Path::new("/usr/bin/sipp").exists(), "SIPp is missing: apt-get install sip-tester (scripts/test.sh does)");
    let out = tokio::process::Command::new("sipp")
        .current_dir(dir)
        .arg(gateway.to_string())
        .args(["-sf", scenario, "-s", service, "-i", ip, "-mi", ip])
        .args(["-p", &free_port().to_string(), "-mp", &free_port().to_string()])
        .args(["-m", "1", "-nostdin", "-trace_err", "-timeout", &format!("{timeout}s"), "-timeout_error"])
        .output()
        .await
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    if code != 0 {
        eprintln!("sipp exited {code}:\n{}", String::from_utf8_lossy(&out.stderr));
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "log") {
                eprintln!("{}:\n{}", e.path().display(), std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    code
}

async fn gateway(switchboard: Arc<Recorder>) -> Gateway {
    let settings = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        media_ip: IpAddr::from([127, 0, 0, 1]),
        allowed: vec![IpAddr::from([127, 0, 0, 1])],
        registrars: Vec::new(),
    };
    Gateway::start(settings, switchboard).await.unwrap()
}

/// A trunk calls the line, the caller keys 1234#, talks for 8 s and hangs up: the PIN
/// arrives whole, the voice arrives, the call ends on the BYE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_dials_in_keys_a_pin_and_talks() {
    let board = Arc::new(Recorder::default());
    let gw = gateway(Arc::clone(&board)).await;
    let dir = workdir("pin", "uac_pin.xml", &[]);
    assert_eq!(sipp(&dir, "uac_pin.xml", gw.addr, "127.0.0.1", LINE, 30).await, 0);
    for _ in 0..50 {
        if board.ended.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(*board.pins.lock().unwrap(), ["1234"]);
    assert_eq!(*board.keys.lock().unwrap(), "1234#", "each key once");
    assert_eq!(board.ended.load(Ordering::SeqCst), 1, "the BYE ended the call");
    let (frames, loud) = (board.frames.load(Ordering::SeqCst), board.loud.load(Ordering::SeqCst));
    assert!(frames >= 300, "{frames} frames of 20 ms");
    assert!(loud >= 100, "{loud} frames with the caller's voice");
    gw.stop();
}

/// Calls that cannot be taken are refused with a status and a reason, and reach no one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_numbers_and_unusable_offers_are_refused_with_a_reason() {
    let board = Arc::new(Recorder::default());
    let gw = gateway(Arc::clone(&board)).await;
    let dir = workdir("404", "uac_refused.xml", &[("EXPECT", "404"), ("CODECS", "8")]);
    assert_eq!(
        sipp(&dir, "uac_refused.xml", gw.addr, "127.0.0.1", "0999", 10).await,
        0,
        "404 for a number with no line"
    );
    let dir = workdir("488", "uac_refused.xml", &[("EXPECT", "488"), ("CODECS", "111")]);
    assert_eq!(
        sipp(&dir, "uac_refused.xml", gw.addr, "127.0.0.1", LINE, 10).await,
        0,
        "488 for an offer of Opus alone"
    );
    assert_eq!(board.calls.load(Ordering::SeqCst), 0);
    gw.stop();
}

/// A request from an address that is no trunk gets no answer at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_not_answered() {
    let board = Arc::new(Recorder::default());
    let gw = gateway(Arc::clone(&board)).await;
    let dir = workdir("stranger", "uac_refused.xml", &[("EXPECT", "404"), ("CODECS", "8")]);
    let code = sipp(&dir, "uac_refused.xml", gw.addr, "127.0.0.2", "0999", 3).await;
    assert_ne!(code, 0, "no answer: SIPp times out");
    assert_eq!(board.calls.load(Ordering::SeqCst), 0);
    gw.stop();
}

/// A PBX sends its keys as SIP INFO and holds the call: the key arrives, each hold and
/// its end are answered with the mirrored direction, the call goes on to its BYE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_by_info_and_a_hold_keep_the_call() {
    let board = Arc::new(Recorder::default());
    let gw = gateway(Arc::clone(&board)).await;
    let dir = workdir("hold", "uac_hold_info.xml", &[]);
    assert_eq!(sipp(&dir, "uac_hold_info.xml", gw.addr, "127.0.0.1", LINE, 20).await, 0);
    for _ in 0..50 {
        if board.ended.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(board.calls.load(Ordering::SeqCst), 1);
    assert_eq!(*board.keys.lock().unwrap(), "9", "the key sent by INFO");
    assert_eq!(board.ended.load(Ordering::SeqCst), 1, "one call, ended by its BYE");
    gw.stop();
}

/// SIPp as a trunk's registrar that demands digest authentication: with the right
/// password the gateway is registered; with a wrong one it is told 403, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_registers_with_digest_authentication() {
    for (password, want) in [("s3cret", Registered::Yes), ("wrong", Registered::Refused { status: 403 })] {
        let port = free_port();
        let dir = workdir(&format!("register-{password}"), "uas_register_auth.xml", &[]);
        let registrar = tokio::process::Command::new("sipp")
            .current_dir(&dir)
            .args(["-sf", "uas_register_auth.xml", "-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-m", "1", "-nostdin", "-trace_err", "-timeout", "20s"])
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let settings = Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            media_ip: IpAddr::from([127, 0, 0, 1]),
            // Only the registrar's own address is allowed: it is added by itself.
            allowed: Vec::new(),
            registrars: vec![Registrar {
                trunk: "test trunk".into(),
                server: format!("sip:127.0.0.1:{port}"),
                username: "gw".into(),
                password: password.into(),
                realm: None,
                expires: 300,
            }],
        };
        let gw = Gateway::start(settings, Arc::new(Recorder::default())).await.unwrap();
        let mut state = gw.registrations[0].1.clone();
        let got = tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| *s != Registered::Pending))
            .await
            .expect("an answer from the registrar")
            .unwrap()
            .clone();
        assert_eq!(got, want, "with password {password:?}");
        assert!(!format!("{:?}", Registrar { password: password.into(), ..Default::default() }).contains(password));
        gw.stop();
        drop(registrar);
    }
}

/// The bridge calls a phone (SIPp) that rings, answers and plays a 440 Hz tone: the tone
/// is heard; the bridge hangs up and the phone sees the BYE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_placed_is_answered_and_heard() {
    use kakehashi_phone::dial::{Dial, DialError};
    let port = free_port();
    let dir = workdir("dial", "uas_tone.xml", &[]);
    let tone: Vec<u8> = (0..8000 * 5)
        .map(|i| {
            let t = f64::from(i) / 8000.0;
            kakehashi_phone::g711::linear_to_ulaw(((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16)
        })
        .collect();
    std::fs::write(dir.join("tone.ulaw"), tone).unwrap();
    let phone = tokio::process::Command::new("sipp")
        .current_dir(&dir)
        .args(["-sf", "uas_tone.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mp", &free_port().to_string(), "-m", "1", "-nostdin", "-trace_err", "-timeout", "30s"])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gw = gateway(Arc::new(Recorder::default())).await;
    let trunk = SocketAddr::from(([127, 0, 0, 1], port));
    let dial = |number: &str, ring: u64| Dial {
        number: number.into(),
        trunk,
        credential: None,
        ring: Duration::from_secs(ring),
    };
    assert!(matches!(gw.dial(dial("03-1234 abc", 5)).await, Err(DialError::Number(_))));
    let mut call = gw.dial(dial("+81312345678", 10)).await.expect("the phone answers");
    let mut heard = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while heard.len() < 8000 {
        match tokio::time::timeout_at(deadline, call.heard.recv()).await {
            Ok(Some(Heard::Frame(f))) if !heard.is_empty() || f.iter().any(|s| s.unsigned_abs() > 1000) => {
                heard.extend(f)
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    assert!(heard.len() >= 8000, "a second of the phone: {} samples", heard.len());
    let at_440 = share(&heard, 440.0);
    assert!(at_440 > 0.8, "440 Hz is {at_440:.2} of what was heard");
    assert!(share(&heard, 1000.0) < 0.05);
    drop(call);
    let status = tokio::time::timeout(Duration::from_secs(10), phone.wait_with_output()).await.unwrap().unwrap().status;
    assert!(status.success(), "the phone saw the BYE: {status:?}");
    gw.stop();
}

/// Nobody answers: the call is given up after the ring time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_nobody_answers_is_given_up() {
    use kakehashi_phone::dial::{Dial, DialError};
    let gw = gateway(Arc::new(Recorder::default())).await;
    let trunk = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let ring = Duration::from_secs(2);
    let result = gw.dial(Dial { number: "0312345678".into(), trunk, credential: None, ring }).await;
    assert_eq!(result.map(|_| ()), Err(DialError::NoAnswer(ring)));
    gw.stop();
}

/// Garbage at the SIP port from a trunk's address (random bytes, INVITEs cut short or
/// with broken headers, an offer that is no SDP, a Content-Length past the end) gets a
/// refusal or nothing, never a crash: a real call afterwards is taken as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_at_the_sip_port_breaks_nothing() {
    let board = Arc::new(Recorder::default());
    let gw = gateway(Arc::clone(&board)).await;
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let invite = |headers: &str, body: &str| {
        format!(
            "INVITE sip:{LINE}@{gw} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{n}\r\nFrom: <sip:a@{local}>;tag=1\r\n\
             To: <sip:{LINE}@{gw}>\r\nCall-ID: junk-{n}@{local}\r\nCSeq: 1 INVITE\r\nContact: <sip:a@{local}>\r\n{headers}\
             Content-Length: {len}\r\n\r\n{body}",
            gw = gw.addr,
            n = body.len() + headers.len(),
            len = body.len(),
        )
    };
    let mut junk: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\r\n\r\n".to_vec(),
        vec![0xff; 1400],
        b"INVITE".to_vec(),
        b"SIP/2.0 200 OK\r\n\r\n".to_vec(),
        invite("Content-Type: application/sdp\r\n", "this is not SDP").into_bytes(),
        invite("Content-Type: application/sdp\r\nContent-Length: 99999\r\n", "v=0\r\n").into_bytes(),
        invite("CSeq: banana\r\nMax-Forwards: -1\r\n", "").into_bytes(),
        invite("Content-Type: application/sdp\r\n", "v=0\r\nm=audio 0 RTP/AVP\r\nc=IN IP4 999.1.1.1\r\n").into_bytes(),
    ];
    let whole = invite("Content-Type: application/sdp\r\n", "v=0\r\n").into_bytes();
    for cut in (0..whole.len()).step_by(23) {
        junk.push(whole[..cut].to_vec());
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..200 {
        let len = (seed % 900) as usize;
        junk.push(
            (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect(),
        );
    }
    for datagram in &junk {
        let _ = socket.send_to(datagram, gw.addr).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Still taking calls.
    let dir = workdir("after-junk", "uac_pin.xml", &[]);
    assert_eq!(sipp(&dir, "uac_pin.xml", gw.addr, "127.0.0.1", LINE, 30).await, 0);
    assert_eq!(*board.pins.lock().unwrap(), ["1234"], "the real call after the junk went through");
    gw.stop();
}

/// Session timers (RFC 4028) with a PBX that asks the bridge to refresh, one that
/// refreshes itself by UPDATE (the call outlives its first deadline), and one that takes
/// on refreshing and never does (the bridge hangs up in time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_timers_are_kept_both_ways_and_a_lapsed_one_ends_the_call() {
    let board = Arc::new(Recorder::default());
    let gw = gateway(Arc::clone(&board)).await;
    let runs = ["uac_timer_we_refresh.xml", "uac_timer_they_refresh.xml", "uac_timer_silent.xml"].map(|scenario| {
        let dir = workdir(scenario.trim_end_matches(".xml"), scenario, &[]);
        let addr = gw.addr;
        tokio::spawn(async move { (scenario, sipp(&dir, scenario, addr, "127.0.0.1", LINE, 20).await) })
    });
    for run in runs {
        let (scenario, code) = run.await.unwrap();
        assert_eq!(code, 0, "{scenario}");
    }
    assert_eq!(board.calls.load(Ordering::SeqCst), 3);
    gw.stop();
}
