//! A real WebRTC client (webrtc-rs's async `webrtc`, as the load tool will use) connects
//! to the relay over loopback: ICE (the relay is ICE-lite) and DTLS complete through the
//! one shared UDP socket, and the demultiplexer confirms the client's address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kakehashi_relay::{LegEvent, LegId, Relay};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

type Offer = (String, oneshot::Sender<(LegId, String)>);

/// The relay's UDP loop, as the server will run it.
async fn run_relay(
    socket: UdpSocket,
    mut relay: Relay,
    mut offers: mpsc::Receiver<Offer>,
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
            offer = offers.recv() => match offer {
                Some((sdp, reply)) => {
                    let answer = relay.accept_offer(Instant::now(), sdp).expect("the relay answers the offer");
                    let _ = reply.send(answer);
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
        offer_tx.send((sdp, reply)).await.unwrap();
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
