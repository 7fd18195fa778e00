//! A real WebRTC client (webrtc-rs's async `webrtc`, as the load tool will use) connects
//! to the relay over loopback: ICE (the relay is ICE-lite) and DTLS complete through the
//! one shared UDP socket, and the demultiplexer confirms the client's address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kakehashi_relay::{LegEvent, LegId, OsRandom, Relay, SessionId, Start};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

/// What the test asks of the relay's loop.
enum Ask {
    Offer(SessionId, String, oneshot::Sender<(LegId, String)>),
    Answer(LegId, String),
    Remove(LegId),
}

/// The relay's UDP loop, as the server will run it.
async fn run_relay(
    socket: UdpSocket,
    mut relay: Relay,
    mut asks: mpsc::Receiver<Ask>,
    events: mpsc::Sender<(LegId, LegEvent, Vec<SocketAddr>)>,
) {
    let mut buf = vec![0u8; 2048];
    let mut participants = 0u64;
    loop {
        while let Some(t) = relay.poll_transmit() {
            let _ = socket.send_to(&t.data, t.to.addr).await;
        }
        while let Some((leg, event)) = relay.poll_event() {
            let _ = events.send((leg, event, relay.addresses(leg).iter().map(|p| p.addr).collect())).await;
        }
        let wake = relay.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            r = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = r {
                    relay.handle_datagram(Instant::now(), from, &buf[..n]);
                }
            }
            ask = asks.recv() => match ask {
                Some(Ask::Offer(session, sdp, reply)) => {
                    // Every offer here is a new participant.
                    participants += 1;
                    let answer = relay.accept_offer(Instant::now(), session, participants, sdp).expect("the relay answers the offer");
                    let _ = reply.send(answer);
                }
                Some(Ask::Remove(leg)) => relay.remove_leg(leg),
                Some(Ask::Answer(leg, sdp)) => {
                    if let Err(e) = relay.accept_answer(Instant::now(), leg, sdp) {
                        eprintln!("relay refused the answer of {leg:?}: {e}");
                    }
                }
                None => return,
            },
            () = async { match wake { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                relay.handle_timeout(Instant::now());
            }
        }
    }
}

struct Watch(mpsc::UnboundedSender<String>);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Watch {
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.0.send(format!("connection:{state}"));
    }
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        let _ = self.0.send(format!("gathering:{state}"));
    }
}

async fn until(rx: &mut mpsc::UnboundedReceiver<String>, what: &str) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(s) = rx.recv().await {
            if s == what {
                return;
            }
        }
        panic!("events ended before {what}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within 10 s"));
}

/// A webrtc client on loopback with the default codecs and, when asked, the interceptor
/// that shows it keyframe requests. mDNS is off: this sandbox has no multicast.
async fn client(handler: Arc<dyn PeerConnectionEventHandler>, keyframe_requests: bool) -> Arc<dyn PeerConnection> {
    use kakehashi_relay::{FEEDBACK_SLOT, Feedback};
    let mut media_engine = webrtc::peer_connection::MediaEngine::default();
    media_engine.register_default_codecs().unwrap();
    let registry = keyframe_requests.then(|| {
        webrtc::peer_connection::register_default_interceptors(rtc::interceptor::Registry::new(), &mut media_engine)
            .unwrap()
            .with(rtc::interceptor::Slot::from(FEEDBACK_SLOT), Feedback::default())
    });
    let setting_engine = webrtc::peer_connection::SettingEngineBuilder::new()
        .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
        .build();
    let mut builder = PeerConnectionBuilder::new()
        .with_setting_engine(setting_engine)
        .with_media_engine(media_engine)
        .with_handler(handler)
        .with_udp_addrs(vec!["127.0.0.1:0"]);
    if let Some(registry) = registry {
        builder = builder.with_interceptor_registry(registry);
    }
    Arc::new(builder.build().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webrtc_client_connects_through_the_shared_port() {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let (offer_tx, offer_rx) = mpsc::channel(4);
    let (event_tx, mut event_rx) = mpsc::channel(16);
    tokio::spawn(run_relay(socket, Relay::new(local, local, Start::system(), Box::new(OsRandom)), offer_rx, event_tx));

    let mut legs = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let pc = client(Arc::new(Watch(tx)), false).await;
        pc.create_data_channel("probe", None).await.unwrap();
        let offer = pc.create_offer(None).await.unwrap();
        pc.set_local_description(offer).await.unwrap();
        until(&mut rx, "gathering:complete").await;
        let sdp = pc.local_description().await.unwrap().sdp;
        let (reply, answer) = oneshot::channel();
        offer_tx.send(Ask::Offer(SessionId(1), sdp, reply)).await.unwrap();
        let (leg, answer) = answer.await.unwrap();
        assert!(answer.contains("a=ice-lite"), "{answer}");
        pc.set_remote_description(webrtc::peer_connection::RTCSessionDescription::answer(answer).unwrap())
            .await
            .unwrap();
        until(&mut rx, "connection:connected").await;
        legs.push(leg);
        clients.push(pc);
    }
    // Both legs report connected, each with the client's address confirmed.
    let mut connected = Vec::new();
    while connected.len() < 2 {
        let (leg, event, addresses) =
            tokio::time::timeout(Duration::from_secs(10), event_rx.recv()).await.unwrap().unwrap();
        assert_eq!(event, LegEvent::Connected);
        assert_eq!(addresses.len(), 1, "exactly the client's address is confirmed");
        assert!(addresses[0].ip().is_loopback());
        connected.push(leg);
    }
    connected.sort_unstable();
    assert_eq!(connected, legs);
    for pc in clients {
        pc.close().await.unwrap();
    }
}

/// A participant: its connection, its leg, and where the relay's offers for it go.
struct Client {
    pc: Arc<dyn PeerConnection>,
    leg: LegId,
    offers: mpsc::UnboundedSender<String>,
}

/// Where the relay's offers for a leg go.
type Route = (LegId, mpsc::UnboundedSender<String>);

/// A marker received: (publisher, kind: 0 audio / 1 video, sequence).
type Marker = (u8, u8, u32);

struct Receiving {
    events: mpsc::UnboundedSender<String>,
    markers: mpsc::UnboundedSender<Marker>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Receiving {
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(format!("connection:{state}"));
    }
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        let _ = self.events.send(format!("gathering:{state}"));
    }
    async fn on_track(&self, track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>) {
        let markers = self.markers.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let webrtc::media_stream::track_remote::TrackRemoteEvent::OnRtpPacket(p) = event
                    && p.payload.len() >= 6
                {
                    let seq = u32::from_be_bytes([p.payload[2], p.payload[3], p.payload[4], p.payload[5]]);
                    let _ = markers.send((p.payload[0], p.payload[1], seq));
                }
            }
        });
    }
}

fn local_track(
    who: u8,
    kind: rtc::rtp_transceiver::rtp_sender::RtpCodecKind,
) -> Arc<webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP> {
    use rtc::media_stream::MediaStreamTrack;
    use rtc::rtp_transceiver::rtp_sender::{
        RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
    };
    let (name, codec) = match kind {
        RtpCodecKind::Audio => (
            "audio",
            RTCRtpCodec {
                mime_type: "audio/opus".to_owned(),
                clock_rate: 48000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                rtcp_feedback: vec![],
            },
        ),
        _ => (
            "video",
            RTCRtpCodec {
                mime_type: "video/VP8".to_owned(),
                clock_rate: 90000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: vec![],
            },
        ),
    };
    Arc::new(webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("p{who}"),
        format!("p{who}-{name}"),
        format!("p{who}-{name}"),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(0x1000 * u32::from(who + 1) + u32::from(kind == RtpCodecKind::Video)),
                ..Default::default()
            },
            codec,
            ..Default::default()
        }],
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_participants_each_receive_the_others_audio_and_video_intact_and_in_order() {
    use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
    use webrtc::media_stream::track_local::TrackLocal;

    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let (ask_tx, ask_rx) = mpsc::channel(16);
    let (event_tx, mut event_rx) = mpsc::channel(64);
    tokio::spawn(run_relay(socket, Relay::new(local, local, Start::system(), Box::new(OsRandom)), ask_rx, event_tx));
    // The relay's offers go to their participants as soon as the legs exist.
    let routes: Arc<std::sync::Mutex<Vec<Route>>> = Arc::default();
    let (early_tx, mut early) = mpsc::unbounded_channel::<(LegId, String)>();
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<LegId>();
    let table = Arc::clone(&routes);
    tokio::spawn(async move {
        while let Some((leg, event, _)) = event_rx.recv().await {
            if let LegEvent::Offer(sdp) = event {
                let _ = seen_tx.send(leg);
                let route = table.lock().unwrap().iter().find(|(l, _)| *l == leg).map(|(_, tx)| tx.clone());
                match route {
                    Some(tx) => {
                        let _ = tx.send(sdp);
                    }
                    None => {
                        let _ = early_tx.send((leg, sdp));
                    }
                }
            }
        }
    });

    let mut clients = Vec::new();
    let mut tracks = Vec::new();
    let mut inboxes = Vec::new();
    for who in 0..3u8 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (marker_tx, markers) = mpsc::unbounded_channel();
        inboxes.push(markers);
        let pc = client(Arc::new(Receiving { events: tx, markers: marker_tx }), false).await;
        let audio = local_track(who, RtpCodecKind::Audio);
        let video = local_track(who, RtpCodecKind::Video);
        pc.add_track(Arc::clone(&audio) as Arc<dyn TrackLocal>).await.unwrap();
        pc.add_track(Arc::clone(&video) as Arc<dyn TrackLocal>).await.unwrap();
        tracks.push((who, audio, video));
        let offer = pc.create_offer(None).await.unwrap();
        pc.set_local_description(offer).await.unwrap();
        until(&mut rx, "gathering:complete").await;
        let sdp = pc.local_description().await.unwrap().sdp;
        let (reply, answer) = oneshot::channel();
        ask_tx.send(Ask::Offer(SessionId(3), sdp, reply)).await.unwrap();
        let (leg, answer) = answer.await.unwrap();
        pc.set_remote_description(webrtc::peer_connection::RTCSessionDescription::answer(answer).unwrap())
            .await
            .unwrap();
        until(&mut rx, "connection:connected").await;
        // This participant answers the relay's renegotiation offers, one at a time.
        let (offers, mut incoming) = mpsc::unbounded_channel::<String>();
        let (answering, asks) = (Arc::clone(&pc), ask_tx.clone());
        tokio::spawn(async move {
            while let Some(sdp) = incoming.recv().await {
                answering
                    .set_remote_description(webrtc::peer_connection::RTCSessionDescription::offer(sdp).unwrap())
                    .await
                    .unwrap();
                let answer = answering.create_answer(None).await.unwrap();
                answering.set_local_description(answer).await.unwrap();
                let sdp = answering.local_description().await.unwrap().sdp;
                asks.send(Ask::Answer(leg, sdp)).await.unwrap();
            }
        });
        routes.lock().unwrap().push((leg, offers.clone()));
        while let Ok((l, sdp)) = early.try_recv() {
            if l == leg {
                let _ = offers.send(sdp);
            }
        }
        clients.push(Client { pc, leg, offers });
    }
    // Give the last renegotiations a moment, then everyone sends 3 s of 20 ms packets.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for seq in 0..150u32 {
        for (who, audio, video) in &tracks {
            for (kind, track, pt) in [(0u8, audio, 111u8), (1u8, video, 96u8)] {
                let packet = rtc::rtp::Packet {
                    header: rtc::rtp::header::Header {
                        version: 2,
                        payload_type: pt,
                        sequence_number: seq as u16,
                        timestamp: seq * if kind == 0 { 960 } else { 1800 },
                        ssrc: 0x1000 * u32::from(who + 1) + u32::from(kind),
                        ..Default::default()
                    },
                    payload: bytes::Bytes::from(
                        [vec![*who, kind], seq.to_be_bytes().to_vec(), vec![0u8; 100]].concat(),
                    ),
                };
                let _ = track.write_rtp(packet).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut all = Vec::new();
    for inbox in inboxes.iter_mut() {
        let mut streams: std::collections::BTreeMap<(u8, u8), Vec<u32>> = Default::default();
        while let Ok((who, kind, seq)) = inbox.try_recv() {
            streams.entry((who, kind)).or_default().push(seq);
        }
        eprintln!("streams: {:?}", streams.iter().map(|(k, v)| (*k, v.len())).collect::<Vec<_>>());
        all.push(streams);
    }
    for (me, streams) in all.iter().enumerate() {
        let expected: Vec<(u8, u8)> =
            (0..3u8).filter(|w| usize::from(*w) != me).flat_map(|w| [(w, 0u8), (w, 1u8)]).collect();
        assert_eq!(
            streams.keys().copied().collect::<Vec<_>>(),
            expected,
            "participant {me} receives every other stream"
        );
        for (stream, got) in streams.iter() {
            println!("participant {me} got {} of 150 of {stream:?}", got.len());
            assert!(got.len() >= 100, "participant {me}, stream {stream:?}: {} packets", got.len());
            assert!(
                got.windows(2).all(|w| w[1] == w[0] + 1),
                "participant {me}, stream {stream:?}: in order, none lost"
            );
            assert_eq!(*got.last().unwrap(), 149);
        }
    }
    // Participant 0 leaves: the other two are renegotiated without its tracks, and keep
    // hearing each other.
    while seen.try_recv().is_ok() {}
    ask_tx.send(Ask::Remove(clients[0].leg)).await.unwrap();
    let mut renegotiated = Vec::new();
    while renegotiated.len() < 2 {
        let leg =
            tokio::time::timeout(Duration::from_secs(5), seen.recv()).await.expect("an offer after the leave").unwrap();
        if !renegotiated.contains(&leg) {
            renegotiated.push(leg);
        }
    }
    renegotiated.sort_unstable();
    assert_eq!(renegotiated, vec![clients[1].leg, clients[2].leg]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for inbox in inboxes.iter_mut() {
        while inbox.try_recv().is_ok() {}
    }
    for seq in 1000..1050u32 {
        for (who, audio, _) in &tracks[1..] {
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: 111,
                    sequence_number: seq as u16,
                    timestamp: seq * 960,
                    ssrc: 0x1000 * u32::from(who + 1),
                    ..Default::default()
                },
                payload: bytes::Bytes::from([vec![*who, 0], seq.to_be_bytes().to_vec(), vec![0u8; 100]].concat()),
            };
            let _ = audio.write_rtp(packet).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (me, from) in [(1usize, 2u8), (2usize, 1u8)] {
        let mut got = 0;
        while let Ok((who, _, _)) = inboxes[me].try_recv() {
            assert_eq!(who, from, "participant {me} hears only the one still there");
            got += 1;
        }
        assert!(got >= 45, "participant {me} still hears participant {from}: {got} of 50");
    }
    for c in clients {
        drop(c.offers);
        c.pc.close().await.unwrap();
    }
}

/// A subscriber that asks for a keyframe of every video track it is given, once, after
/// `delay`.
struct Asking {
    events: mpsc::UnboundedSender<String>,
    delay: Duration,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Asking {
    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.events.send(format!("connection:{state}"));
    }
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        let _ = self.events.send(format!("gathering:{state}"));
    }
    async fn on_track(&self, track: Arc<dyn webrtc::media_stream::track_remote::TrackRemote>) {
        let delay = self.delay;
        tokio::spawn(async move {
            if track.kind().await != rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Video {
                return;
            }
            let ssrc = loop {
                // The SSRC is known once the first packet has arrived.
                if let Some(s) = track.ssrcs().await.first().copied() {
                    break s;
                }
                let _ = track.poll().await;
            };
            tokio::time::sleep(delay).await;
            let pli = rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: ssrc,
            };
            let _ = track.write_rtcp(vec![Box::new(pli)]).await;
            while track.poll().await.is_some() {}
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_subscriber_gets_a_keyframe_request_to_the_publisher_and_its_own_are_passed_on() {
    use kakehashi_relay::is_keyframe_request;
    use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
    use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};

    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let (ask_tx, ask_rx) = mpsc::channel(16);
    let (event_tx, mut event_rx) = mpsc::channel(64);
    tokio::spawn(run_relay(socket, Relay::new(local, local, Start::system(), Box::new(OsRandom)), ask_rx, event_tx));

    let connect = |handler: Arc<dyn PeerConnectionEventHandler>| client(handler, true);
    async fn join(
        pc: &Arc<dyn PeerConnection>,
        rx: &mut mpsc::UnboundedReceiver<String>,
        asks: &mpsc::Sender<Ask>,
    ) -> LegId {
        let offer = pc.create_offer(None).await.unwrap();
        pc.set_local_description(offer).await.unwrap();
        until(rx, "gathering:complete").await;
        let sdp = pc.local_description().await.unwrap().sdp;
        let (reply, answer) = oneshot::channel();
        asks.send(Ask::Offer(SessionId(9), sdp, reply)).await.unwrap();
        let (leg, answer) = answer.await.unwrap();
        pc.set_remote_description(webrtc::peer_connection::RTCSessionDescription::answer(answer).unwrap())
            .await
            .unwrap();
        until(rx, "connection:connected").await;
        leg
    }

    // The publisher sends video all along and notes when keyframe requests arrive.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (markers, _) = mpsc::unbounded_channel();
    let publisher = connect(Arc::new(Receiving { events: tx, markers })).await;
    let video = local_track(0, RtpCodecKind::Video);
    publisher.add_track(Arc::clone(&video) as Arc<dyn TrackLocal>).await.unwrap();
    let _publisher_leg = join(&publisher, &mut rx, &ask_tx).await;
    let (pli_tx, mut plis) = mpsc::unbounded_channel::<std::time::Instant>();
    let watched = Arc::clone(&video);
    tokio::spawn(async move {
        while let Some(event) = watched.poll().await {
            if let TrackLocalEvent::OnRtcpPacket(packets) = event
                && packets.iter().any(|p| is_keyframe_request(p.as_ref()))
            {
                let _ = pli_tx.send(std::time::Instant::now());
            }
        }
    });
    let sender = Arc::clone(&video);
    tokio::spawn(async move {
        for seq in 0..400u32 {
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: 96,
                    sequence_number: seq as u16,
                    timestamp: seq * 3000,
                    ssrc: 0x1001,
                    ..Default::default()
                },
                payload: bytes::Bytes::from(vec![0u8; 200]),
            };
            let _ = sender.write_rtp(packet).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    while plis.try_recv().is_ok() {}

    // A subscriber joins; the relay renegotiates with it; the moment its answer is
    // handed over is when it can start decoding.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let subscriber = connect(Arc::new(Asking { events: tx, delay: Duration::from_millis(800) })).await;
    subscriber.create_data_channel("probe", None).await.unwrap();
    let leg = join(&subscriber, &mut rx, &ask_tx).await;
    let answered_at = loop {
        let (l, event, _) = tokio::time::timeout(Duration::from_secs(5), event_rx.recv()).await.unwrap().unwrap();
        if let (true, LegEvent::Offer(sdp)) = (l == leg, event) {
            subscriber
                .set_remote_description(webrtc::peer_connection::RTCSessionDescription::offer(sdp).unwrap())
                .await
                .unwrap();
            let answer = subscriber.create_answer(None).await.unwrap();
            subscriber.set_local_description(answer).await.unwrap();
            let sdp = subscriber.local_description().await.unwrap().sdp;
            let at = std::time::Instant::now();
            ask_tx.send(Ask::Answer(leg, sdp)).await.unwrap();
            break at;
        }
    };
    let first =
        tokio::time::timeout(Duration::from_secs(2), plis.recv()).await.expect("a keyframe request on join").unwrap();
    let delay = first.saturating_duration_since(answered_at);
    println!("keyframe request reached the publisher {delay:?} after the subscriber's answer");
    assert!(delay <= Duration::from_millis(100), "{delay:?}");
    // The subscriber's own request (800 ms later, past the throttle) is passed on too.
    let second = tokio::time::timeout(Duration::from_secs(3), plis.recv())
        .await
        .expect("the subscriber's request is passed on")
        .unwrap();
    assert!(second.saturating_duration_since(first) >= Duration::from_millis(500), "throttled");
    publisher.close().await.unwrap();
    subscriber.close().await.unwrap();
}
