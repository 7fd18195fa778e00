//! The writer's lease against a real Redis (ADR 0020): one writer at a time; a writer that
//! stops renewing (paused past its lease) is replaced by a node with a higher token, and
//! learns it is deposed when it comes back; a release hands over at once; tokens keep
//! growing across a Redis restart that lost everything (the floor); a node rides out a
//! restart and claims again; a lease lost with Redis's data stays the writer's until it
//! would have run out.

use std::time::Duration;

use kakehashi::cluster::keys::Keys;
use kakehashi::cluster::lease::{Lease, LeaseError, Standing};
use tokio::time::Instant;

use crate::redis_support::RedisServer;

const TTL: Duration = Duration::from_millis(400);

async fn lease(redis: &RedisServer, node: &str) -> Lease {
    Lease::new(redis.manager().await, Keys::new("kakehashi:test"), node, TTL).unwrap()
}

fn writer(s: &Standing) -> u64 {
    match s {
        Standing::Writer { token, .. } => *token,
        other => panic!("expected to write, got {other:?}"),
    }
}

#[tokio::test]
async fn one_writer_at_a_time_and_a_paused_writer_is_replaced_with_a_higher_token() {
    let redis = RedisServer::start().await;
    let (mut a, mut b) = (lease(&redis, "node-a").await, lease(&redis, "node-b").await);
    let first = a.claim(0).await.unwrap();
    assert!(matches!(first, Standing::Writer { fresh: true, .. }), "{first:?}");
    let t1 = writer(&first);
    assert_eq!(b.claim(0).await.unwrap(), Standing::Follower { writer: "node-a".into(), token: t1 });
    // Renewed: the same grant, not a fresh one.
    assert_eq!(a.claim(0).await.unwrap(), Standing::Writer { token: t1, fresh: false });
    assert_eq!(a.holds(Instant::now()), Some(t1));
    assert_eq!(b.holds(Instant::now()), None);

    // A stops renewing (paused past its lease): by its own clock it no longer writes, and
    // B takes over with a higher token.
    tokio::time::sleep(TTL + Duration::from_millis(100)).await;
    assert_eq!(a.holds(Instant::now()), None, "a writer steps down by its own clock");
    let t2 = writer(&b.claim(0).await.unwrap());
    assert!(t2 > t1, "{t2} > {t1}");
    // A comes back: it is told B writes, and holds nothing.
    assert_eq!(a.claim(0).await.unwrap(), Standing::Follower { writer: "node-b".into(), token: t2 });
    assert_eq!(a.holds(Instant::now()), None);

    // B stops gracefully: A takes over at once, not after the time to live.
    b.release().await.unwrap();
    let handed = a.claim(0).await.unwrap();
    assert!(matches!(handed, Standing::Writer { fresh: true, token } if token > t2), "{handed:?}");
    // A late release by B (its grant is gone) leaves A's lease alone.
    b.release().await.unwrap();
    assert!(matches!(a.claim(0).await.unwrap(), Standing::Writer { fresh: false, .. }));
}

#[tokio::test]
async fn tokens_keep_growing_across_a_redis_restart_that_lost_everything() {
    let mut redis = RedisServer::start().await;
    let mut a = lease(&redis, "node-a").await;
    let t1 = writer(&a.claim(0).await.unwrap());
    // Redis dies and comes back empty; the node's connection comes back by itself. While
    // it is down, asking fails and the grant runs out by the node's own clock.
    redis.kill();
    assert!(matches!(a.claim(0).await, Err(LeaseError::Redis(_) | LeaseError::Timeout(_))));
    redis.restart().await;
    // Without a floor the counter would start again at 1; with the highest token
    // PostgreSQL accepted as the floor, the new grant is above it.
    let floor = t1 + 41;
    let mut again = None;
    for _ in 0..40 {
        match a.claim(floor).await {
            Ok(s) => {
                again = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let again = again.expect("the node reconnects to the restarted Redis");
    assert_eq!(again, Standing::Writer { token: floor + 1, fresh: true });
    // And the next node's grant is higher still.
    a.release().await.unwrap();
    let mut b = lease(&redis, "node-b").await;
    assert_eq!(writer(&b.claim(0).await.unwrap()), floor + 2);
}

#[tokio::test]
async fn a_lease_lost_with_redis_data_stays_the_writers_until_it_would_have_run_out() {
    let redis = RedisServer::start().await;
    let ttl = Duration::from_secs(2);
    let lease = |node: &'static str| {
        let redis = &redis;
        async move { Lease::new(redis.manager().await, Keys::new("kakehashi:test"), node, ttl).unwrap() }
    };
    let (mut a, mut b) = (lease("node-a").await, lease("node-b").await);
    let t1 = writer(&a.claim(0).await.unwrap());
    assert_eq!(b.claim(0).await.unwrap(), Standing::Follower { writer: "node-a".into(), token: t1 });
    let mut admin = redis.manager().await;
    let flush = || {
        let mut admin = admin.clone();
        async move { redis::cmd("FLUSHALL").query_async::<()>(&mut admin).await.unwrap() }
    };

    // Redis loses everything (a restart without persistence): B, which saw A's grant
    // running, leaves the lease to A, which takes it back with a higher token.
    flush().await;
    assert_eq!(b.claim(0).await.unwrap(), Standing::Follower { writer: "node-a".into(), token: t1 });
    let back = a.claim(t1).await.unwrap();
    assert_eq!(back, Standing::Writer { token: t1 + 1, fresh: true });
    assert_eq!(b.claim(0).await.unwrap(), Standing::Follower { writer: "node-a".into(), token: t1 + 1 });

    // Lost again, and A is gone too: B takes it once A's grant would have run out.
    flush().await;
    assert!(matches!(b.claim(t1 + 1).await.unwrap(), Standing::Follower { .. }));
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    assert_eq!(b.claim(t1 + 1).await.unwrap(), Standing::Writer { token: t1 + 2, fresh: true });
    let _: () = redis::cmd("PING").query_async(&mut admin).await.unwrap();
}

#[tokio::test]
async fn a_node_id_that_could_forge_a_lease_is_refused() {
    let redis = RedisServer::start().await;
    let bad = Lease::new(redis.manager().await, Keys::new("kakehashi:test"), "node-a|99", TTL);
    assert!(matches!(bad, Err(LeaseError::BadNode(_))));
}
