//! The writer's orders for a node's relay against a real Redis (ADR 0022): each arrives
//! at its node, in order and once, though every connection to Redis is cut again and
//! again while they are sent (on the node's channel, those sent while it was away were
//! lost: an offer never answered, a leg never removed).

use std::time::Duration;

use kakehashi::cluster::keys::Keys;
use kakehashi::cluster::orders::{obey, orders};
use kakehashi::media::Order;
use kakehashi_relay::LegId;
use tokio::sync::mpsc;

use crate::redis_support::RedisServer;

/// Every order a node took, as the leg numbers of the removals sent.
async fn taken(rx: &mut mpsc::Receiver<Order>, n: usize) -> Vec<u64> {
    let mut legs = Vec::new();
    while legs.len() < n {
        let order = tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.expect("an order").unwrap();
        let Order::Remove { leg } = order else { panic!("{order:?}") };
        legs.push(leg.0);
    }
    legs
}

#[tokio::test]
async fn a_relays_orders_arrive_in_order_and_once_though_connections_break() {
    let redis = RedisServer::start().await;
    let keys = Keys::new("kakehashi:test");
    let client = redis::Client::open(redis.url()).unwrap();
    let writer = orders(redis.manager().await, keys.clone());
    let (seven, mut at_seven) = mpsc::channel(8);
    let (eight, mut at_eight) = mpsc::channel(8);
    tokio::spawn(obey(client.clone(), keys.clone(), 7, seven));
    tokio::spawn(obey(client, keys.clone(), 8, eight));
    let mut admin = redis.manager().await;
    for n in 0..300u64 {
        writer.send((7, Order::Remove { leg: LegId(n) })).await.unwrap();
        writer.send((8, Order::Remove { leg: LegId(1000 + n) })).await.unwrap();
        if n % 30 == 29 {
            // Every connection but this one, the nodes' and the writer's.
            let _: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("normal")
                .arg("SKIPME")
                .arg("yes")
                .query_async(&mut admin)
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(taken(&mut at_seven, 300).await, (0..300).collect::<Vec<_>>());
    assert_eq!(taken(&mut at_eight, 300).await, (1000..1300).collect::<Vec<_>>());
    assert!(tokio::time::timeout(Duration::from_millis(700), at_seven.recv()).await.is_err(), "nothing more");
    let ttl: i64 = redis::cmd("PTTL").arg(keys.relay_orders(7)).query_async(&mut admin).await.unwrap();
    assert!(ttl > 0, "a node's stream expires once no order comes: {ttl}");
}
