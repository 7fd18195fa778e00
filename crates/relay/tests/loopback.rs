//! A real WebRTC client (webrtc-rs's async `webrtc`, as the load tool will use) connects
//! to the relay over loopback: ICE (the relay is ICE-lite) and DTLS complete through the
//! one shared UDP socket, and the demultiplexer confirms the client's address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kakehashi_relay::{LegEvent, LegId, Relay, SessionId};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

/// What the test asks of the relay's loop.
enum Ask {
    Offer(SessionId, String, oneshot::Sender<(LegId, String)>),
    Answer(LegId, String),
}

/// The relay's UDP loop, as the server will run it.
async fn run_relay(
    socket: UdpSocket,
    mut relay: Relay,
    mut asks: mpsc::Receiver<Ask>,
    events: mpsc::Sender<(LegId, LegEvent, Vec<SocketAddr>)>,
) {
    let mut buf = vec![0u8; 2048];
    loop {
        while let Some((to, datagram)) = relay.poll_transmit() {
            let _ = socket.send_to(&datagram, to).await;
        }
        while let Some((leg, event)) = relay.poll_event() {
            let _ = events.send((leg, event, relay.addresses(leg).to_vec())).await;
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
                    let answer = relay.accept_offer(Instant::now(), session, sdp).expect("the relay answers the offer");
                    let _ = reply.send(answer);
                }
                Some(Ask::Answer(leg, sdp)) => relay.accept_answer(Instant::now(), leg, sdp).expect("the relay takes the answer"),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webrtc_client_connects_through_the_shared_port() {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let (offer_tx, offer_rx) = mpsc::channel(4);
    let (event_tx, mut event_rx) = mpsc::channel(16);
    tokio::spawn(run_relay(socket, Relay::new(local, local), offer_rx, event_tx));

    let mut legs = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let setting_engine = webrtc::peer_connection::SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .build();
        let pc = PeerConnectionBuilder::new()
            .with_setting_engine(setting_engine)
            .with_handler(Arc::new(Watch(tx)))
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .build()
            .await
            .unwrap();
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

/// A client that publishes nothing or one Opus track, answers the relay's offers, and
/// reports the markers of the RTP packets it receives.
struct Client {
    pc: Arc<dyn PeerConnection>,
    leg: LegId,
    offers: mpsc::UnboundedSender<String>,
}

struct Receiving {
    events: mpsc::UnboundedSender<String>,
    markers: mpsc::UnboundedSender<u32>,
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
                    && p.payload.len() >= 4
                {
                    let _ = markers.send(u32::from_be_bytes([p.payload[0], p.payload[1], p.payload[2], p.payload[3]]));
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_from_one_participant_reaches_the_other_intact_and_in_order() {
    use rtc::media_stream::MediaStreamTrack;
    use rtc::rtp_transceiver::rtp_sender::{
        RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
    };
    use webrtc::media_stream::track_local::TrackLocal;
    use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;

    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let local = socket.local_addr().unwrap();
    let (ask_tx, ask_rx) = mpsc::channel(8);
    let (event_tx, mut event_rx) = mpsc::channel(64);
    tokio::spawn(run_relay(socket, Relay::new(local, local), ask_rx, event_tx));

    let opus = RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: 48000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    };
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "a".to_owned(),
        "a-audio".to_owned(),
        "a-audio".to_owned(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(0x1111), ..Default::default() },
            codec: opus,
            ..Default::default()
        }],
    )));

    let (marker_tx, mut markers) = mpsc::unbounded_channel();
    let mut clients = Vec::new();
    for publishes in [true, false] {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut media_engine = webrtc::peer_connection::MediaEngine::default();
        media_engine.register_default_codecs().unwrap();
        let setting_engine = webrtc::peer_connection::SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .build();
        let pc: Arc<dyn PeerConnection> = Arc::new(
            PeerConnectionBuilder::new()
                .with_setting_engine(setting_engine)
                .with_media_engine(media_engine)
                .with_handler(Arc::new(Receiving { events: tx, markers: marker_tx.clone() }))
                .with_udp_addrs(vec!["127.0.0.1:0"])
                .build()
                .await
                .unwrap(),
        );
        if publishes {
            pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.unwrap();
        } else {
            pc.create_data_channel("probe", None).await.unwrap();
        }
        let offer = pc.create_offer(None).await.unwrap();
        pc.set_local_description(offer).await.unwrap();
        until(&mut rx, "gathering:complete").await;
        let sdp = pc.local_description().await.unwrap().sdp;
        let (reply, answer) = oneshot::channel();
        ask_tx.send(Ask::Offer(SessionId(7), sdp, reply)).await.unwrap();
        let (leg, answer) = answer.await.unwrap();
        pc.set_remote_description(webrtc::peer_connection::RTCSessionDescription::answer(answer).unwrap())
            .await
            .unwrap();
        until(&mut rx, "connection:connected").await;
        // This client answers the relay's renegotiation offers.
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
        clients.push(Client { pc, leg, offers });
    }
    // Route the relay's offers to their clients while A sends 3 s of 20 ms packets.
    let routes: Vec<(LegId, mpsc::UnboundedSender<String>)> =
        clients.iter().map(|c| (c.leg, c.offers.clone())).collect();
    tokio::spawn(async move {
        while let Some((leg, event, _)) = event_rx.recv().await {
            if let LegEvent::Offer(sdp) = event
                && let Some((_, tx)) = routes.iter().find(|(l, _)| *l == leg)
            {
                let _ = tx.send(sdp);
            }
        }
    });
    for i in 0..150u32 {
        let packet = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                payload_type: 111,
                sequence_number: i as u16,
                timestamp: i * 960,
                ssrc: 0x1111,
                ..Default::default()
            },
            payload: bytes::Bytes::from([i.to_be_bytes().to_vec(), vec![0u8; 60]].concat()),
        };
        let _ = track.write_rtp(packet).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut got = Vec::new();
    while let Ok(m) = markers.try_recv() {
        got.push(m);
    }
    // Packets sent before the relay had renegotiated with B are not forwarded; from the
    // first one that arrives, every one arrives, in order.
    println!("B received {} of 150 packets, markers {}..={}", got.len(), got[0], got[got.len() - 1]);
    assert!(got.len() >= 60, "B received {} packets: {got:?}", got.len());
    assert!(got.windows(2).all(|w| w[1] == w[0] + 1), "in order, none lost: {got:?}");
    assert_eq!(*got.last().unwrap(), 149);
    for c in clients {
        c.pc.close().await.unwrap();
    }
}
