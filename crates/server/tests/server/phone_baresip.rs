//! An independent softphone against the bridge: baresip (Debian's `baresip-core`) calls
//! the PIN line from loopback, keys the desk's PIN as RFC 4733 events (typed into its
//! console), and says a 1,000 Hz tone (its `ausine` source). The desk hears that tone in
//! the phone's track; baresip's own recording of what it heard (`sndfile`) holds the
//! desk's 440 Hz and the interpreter's 660 Hz. Quitting baresip is the phone leaving.

use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use kakehashi_phone::opus::Listener;
use kakehashi_phone::tone::share;

use crate::phone_bridge::{
    LINE, PinCall, free_port, phone_joined, phone_sound, pin_call, server_with_phone, someone_left,
};
use crate::support::*;

/// baresip's configuration: SIP and its console on free loopback ports, a 1 kHz sine as
/// its microphone, a sink as its speaker, and what it hears and says saved in `dump/`.
fn baresip_config(dir: &Path, console: u16) {
    std::fs::create_dir_all(dir.join("dump")).unwrap();
    let config = format!(
        "poll_method epoll\nsip_listen 127.0.0.1:{sip}\naudio_player aubridge,sink\naudio_source ausine,1000\n\
         audio_alert aubridge,alert\nausrc_srate 48000\nausrc_channels 2\nauplay_srate 48000\nauplay_channels 2\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule ausine.so\nmodule aubridge.so\n\
         module sndfile.so\nmodule cons.so\nmodule_app account.so\nmodule_app menu.so\nsnd_path {dump}\n\
         cons_listen 127.0.0.1:{console}\n",
        sip = free_port(),
        dump = dir.join("dump").display(),
    );
    std::fs::write(dir.join("config"), config).unwrap();
    std::fs::write(dir.join("accounts"), "<sip:resident@127.0.0.1>;regint=0;audio_codecs=PCMU\n").unwrap();
}

/// Keys typed into baresip's console (digits in a call are sent as RFC 4733 events).
fn type_keys(console: u16, keys: &str) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for k in keys.chars() {
        socket.send_to(k.to_string().as_bytes(), ("127.0.0.1", console)).unwrap();
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_dials_in_with_the_pin_hears_the_call_and_is_heard() {
    assert!(
        Path::new("/usr/bin/baresip").exists(),
        "baresip is missing: apt-get install baresip-core (scripts/test.sh does)"
    );
    let (server, creds, sip) = server_with_phone("phone-baresip", None).await;
    // Each session is kept (bound) for the test's length: a dropped one stops its media.
    let PinCall { pin, mut desk_media, mut desk_heard, interpreter_media: _interpreter, .. } =
        pin_call(&server, &creds).await;

    let dir = temp("baresip");
    let console = free_port();
    baresip_config(&dir, console);
    let target = format!("/dial sip:{}@{sip}", LINE.replace('-', ""));
    let mut phone = tokio::process::Command::new("baresip")
        .arg("-f")
        .arg(&dir)
        .args(["-e", &target, "-t", "60"])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Answered at once; the prompt starts; the caller keys the PIN over it (once the
    // bridge has answered: keys typed before go nowhere).
    let answered = "kakehashi_phone_legs{direction=\"in\",state=\"prompts\"} 1";
    for _ in 0..200 {
        if server.metrics().await.contains(answered) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.metrics().await.contains(answered), "the bridge answers baresip within 20 s");
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::spawn_blocking(move || type_keys(console, &format!("{pin}#"))).await.unwrap();
    let joined = phone_joined(&mut desk_media.events, Duration::from_secs(30)).await;

    // The desk hears baresip's 1 kHz.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut listener = Listener::new().unwrap();
    phone_sound(&mut desk_heard, joined, &mut listener);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let heard = phone_sound(&mut desk_heard, joined, &mut listener);
    assert!(heard.len() >= 16_000, "{} samples of the phone in 3 s", heard.len());
    let s = share(&heard, 1000.0);
    assert!(s > 0.6, "the desk hears baresip's tone: {s:.2} of what came at 1 kHz");

    // baresip quits (BYE): the phone leaves; what it heard has both browsers' tones.
    tokio::task::spawn_blocking(move || type_keys(console, "q")).await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), phone.wait()).await.unwrap().unwrap();
    assert!(status.success(), "baresip: {status:?}");
    let left = someone_left(&mut desk_media.events, Duration::from_secs(10)).await;
    assert_eq!(left, joined);
    let recording = std::fs::read_dir(dir.join("dump"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .expect("baresip's recording of what it heard");
    let samples = kakehashi_phone::wav::decode(&std::fs::read(recording).unwrap()).unwrap();
    let last = &samples[samples.len().saturating_sub(3 * 8000)..];
    let (a, b) = (share(last, 440.0), share(last, 660.0));
    assert!(a > 0.2 && b > 0.2, "baresip heard the desk ({a:.2}) and the interpreter ({b:.2})");
    server.stop().await;
}
