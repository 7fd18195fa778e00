//! The relay's task never waits for the hub: with its report channel full and nobody
//! reading it (a hub stalled, or saturated), packets keep flowing between participants;
//! statistics that do not fit are dropped and counted, and a control report (a leg
//! removed) is held and delivered once the hub reads again.

use std::sync::Arc;
use std::time::Duration;

use kakehashi::media::{MediaSockets, Order, Report, Reports};
use kakehashi::metrics::Metrics;
use kakehashi_client::{Peer, PeerOptions};
use kakehashi_relay::{LegEvent, LegId};
use tokio::sync::mpsc;

use crate::media_support::{Heard, HeardSink, marked_payload};

/// Read reports until an answer to `tag`; leg events met on the way are answered by the
/// peers they belong to.
async fn answered(
    reports: &mut mpsc::Receiver<Report>,
    orders: &mpsc::Sender<Order>,
    peers: &mut [(Option<LegId>, &mut Peer)],
    tag: u64,
) -> LegId {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), reports.recv()).await.unwrap().unwrap() {
            Report::Answered { tag: t, result, .. } if t == tag => {
                let (leg, sdp) = result.unwrap();
                peers[tag as usize - 1].0 = Some(leg);
                peers[tag as usize - 1].1.answered(sdp).await.unwrap();
                return leg;
            }
            other => renegotiate(other, orders, peers).await,
        }
    }
}

/// The relay's offer to a leg, answered by its peer.
async fn renegotiate(report: Report, orders: &mpsc::Sender<Order>, peers: &mut [(Option<LegId>, &mut Peer)]) {
    if let Report::Leg { leg, event: LegEvent::Offer(sdp) } = report
        && let Some((_, peer)) = peers.iter_mut().find(|(l, _)| *l == Some(leg))
    {
        let answer = peer.answer(sdp).await.unwrap();
        orders.send(Order::Answer { leg, sdp: answer }).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_forwards_while_nobody_reads_its_reports() {
    let metrics = Metrics::new();
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = udp.local_addr().unwrap();
    let (orders, orders_rx) = mpsc::channel(16);
    // Room for four reports: the statistics of two legs fill it in a few seconds.
    let (reports_tx, mut reports) = mpsc::channel(4);
    let sockets = MediaSockets { udp, advertised: addr, tcp: None };
    tokio::spawn(kakehashi::media::run(
        sockets,
        orders_rx,
        Reports::new(reports_tx, metrics.clone()),
        metrics.clone(),
        1,
    ));

    let (heard_a, _) = mpsc::unbounded_channel::<Heard>();
    let (heard_b, mut heard) = mpsc::unbounded_channel::<Heard>();
    let options = |ssrc| PeerOptions { publish: Some(ssrc), ..PeerOptions::default() };
    let mut a = Peer::new(options(0x9001), Arc::new(HeardSink(heard_a))).await.unwrap();
    let mut b = Peer::new(options(0x9002), Arc::new(HeardSink(heard_b))).await.unwrap();
    let (offer_a, offer_b) = (a.offer().await.unwrap(), b.offer().await.unwrap());
    orders.send(Order::Offer { call: 1, tag: 1, participant: 0, sdp: offer_a }).await.unwrap();
    orders.send(Order::Offer { call: 1, tag: 2, participant: 1, sdp: offer_b }).await.unwrap();
    let mut peers = [(None, &mut a), (None, &mut b)];
    answered(&mut reports, &orders, &mut peers, 1).await;
    let leg_b = answered(&mut reports, &orders, &mut peers, 2).await;
    // A sends all along; the relay renegotiates B to add A's track once it opens.
    let audio = peers[0].1.audio.clone().unwrap();
    let sender = tokio::spawn(async move {
        use webrtc::media_stream::track_local::TrackLocal;
        for n in 0u32.. {
            let packet = rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    payload_type: 111,
                    sequence_number: n as u16,
                    timestamp: n * 960,
                    ssrc: 0x9001,
                    ..Default::default()
                },
                payload: marked_payload(false, false, 1, n),
            };
            let _ = audio.write_rtp(packet).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    // Answer the relay's offers until B hears A.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while heard.try_recv().is_err() {
        assert!(tokio::time::Instant::now() < deadline, "B never heard A");
        if let Ok(Some(report)) = tokio::time::timeout(Duration::from_millis(50), reports.recv()).await {
            renegotiate(report, &orders, &mut peers).await;
        }
    }
    // From now on nobody reads the reports: the channel fills with statistics.
    tokio::time::sleep(Duration::from_secs(7)).await;
    while heard.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut n = 0;
    while heard.try_recv().is_ok() {
        n += 1;
    }
    assert!(n >= 90, "{n} of 100 packets forwarded in two seconds while the reports went unread");
    assert!(metrics.media_reports_dropped.get() > 0, "statistics that did not fit were dropped");
    // A control report while the channel is full is held, not lost.
    orders.send(Order::Remove { leg: leg_b }).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut removed = false;
    while let Ok(Some(report)) = tokio::time::timeout(Duration::from_secs(2), reports.recv()).await {
        if matches!(report, Report::Removed { leg, .. } if leg == leg_b) {
            removed = true;
            break;
        }
    }
    assert!(removed, "the removal was reported once the reports were read again");
    sender.abort();
}
