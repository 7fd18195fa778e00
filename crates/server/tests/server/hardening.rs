//! What an attack on a running server found, each shown fixed: slow clients, a raced
//! connection cap, sockets that outlive their sign-out or session, a lock-out used as a
//! weapon and a login's existence told by its answer, and one desk filling the queue.

use std::time::{Duration, Instant};

use kakehashi::config::Config;
use kakehashi::store::AccountKind;
use kakehashi_client::{Desk, Interpreter, Supervisor};
use kakehashi_protocol as p;
use serde_json::json;
use tokio::net::TcpStream;

use crate::expect;
use crate::support::*;

/// A TCP connection from `from` (another loopback address than the test's own) that sends
/// the start of a request and never finishes its headers.
async fn slow_client(from: &str, to: std::net::SocketAddr) -> Option<TcpStream> {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut s = socket.connect(to).await.ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ").await.ok()?;
    Some(s)
}

/// Whether the server closed this connection within `within`.
async fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(within, s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// Slow clients cannot take the server down: connections that never finish their headers
/// are closed after the header timeout, one address gets only its share of connections,
/// and the health check answers throughout.
#[tokio::test]
async fn slow_clients_are_cut_off_and_health_answers_throughout() {
    let dir = temp("slowloris");
    seed(&dir).await;
    let server = Server::start_with(dir, |c| Config {
        header_timeout_secs: 1,
        max_connections_per_address: 20,
        max_connections: 40,
        ..c
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..120 {
        if let Some(s) = slow_client("127.0.0.2", server.addr).await {
            slow.push(s);
        }
    }
    // The server answers health checks from elsewhere while the slow ones hang.
    let started = Instant::now();
    let (status, body) = http(server.addr, "GET", "/healthz", None, None).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert!(started.elapsed() < Duration::from_secs(1), "health took {:?}", started.elapsed());
    // Beyond its share, an address's connections are closed unread.
    let mut refused = 0;
    for s in slow.iter_mut() {
        if closed_by_server(s, Duration::from_millis(300)).await {
            refused += 1;
        }
    }
    assert!(refused >= 100, "{refused} of 120 refused at once; 20 may stay");
    // The others are cut off once the header timeout passes.
    for s in slow.iter_mut() {
        assert!(closed_by_server(s, Duration::from_secs(3)).await, "a slow connection outlived the header timeout");
    }
    assert!(server.metrics().await.contains("kakehashi_http_connections_refused_total{reason=\"per_address\"}"));
    // An idle keep-alive connection is closed too.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    {
        use tokio::io::AsyncWriteExt;
        idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    }
    assert!(closed_by_server(&mut idle, Duration::from_secs(3)).await, "an idle keep-alive connection stayed open");
    server.stop().await;
}

/// The WebSocket cap holds when many clients upgrade at the same moment: a place is taken
/// at the upgrade, not after the hello.
#[tokio::test]
async fn the_connection_cap_cannot_be_raced() {
    let dir = temp("cap-race");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { max_connections: 20, ..c }).await;
    let url = server.url();
    let mut tasks = Vec::new();
    let (hold, held) = tokio::sync::watch::channel(false);
    for _ in 0..60 {
        let (token, url) = (creds.desk_a1.clone(), url.clone());
        let mut held = held.clone();
        tasks.push(tokio::spawn(async move {
            let c = kakehashi_client::Signal::<Desk>::connect(&url, p::Credential::DeskToken(token), None).await;
            // Keep the connection until every client has tried.
            let _ = held.wait_for(|h| *h).await;
            c.is_ok()
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = hold.send(true);
    let mut welcomed = 0;
    for t in tasks {
        welcomed += usize::from(t.await.unwrap());
    }
    assert!(welcomed <= 20, "{welcomed} welcomed with a cap of 20");
    assert!(welcomed >= 1);
    server.stop().await;
}

/// Signing out ends the session's live connections at once (an interpreter who signed
/// out takes no more offers); a session that expires ends its connection too.
#[tokio::test]
async fn signing_out_or_expiring_ends_live_connections() {
    let dir = temp("sign-out");
    let creds = seed(&dir).await;
    let short = {
        let store = crate::postgres_support::open_store(&dir).await;
        let attempt =
            kakehashi::auth::Attempt { kind: AccountKind::Staff, login: "sup-a", password: "pw-sup-a", code: None };
        let terms = kakehashi::auth::Terms { ttl: Duration::from_secs(2), admins_two_factor: false };
        kakehashi::auth::sign_in(&store, attempt, terms).await.unwrap().token
    };
    let server = Server::start(dir).await;
    let mut i1: Client<Interpreter> = server.interpreter(&creds.interp[0]).await;
    let mut wall: Client<Supervisor> = server.supervisor(&short).await;
    wall.send(p::SupervisorCommand::Subscribe {}).await;
    expect!(wall, p::SupervisorEvent::Snapshot { .. });
    assert_eq!(http(server.addr, "POST", "/api/sign-out", Some(&creds.interp[0]), None).await.0, 204);
    assert_eq!(i1.error().await.code, p::ErrorCode::Unauthorized);
    assert_eq!(i1.closed().await.map(|f| f.0), Some(p::CloseReason::SignedOut.code()));
    // Signed out on the spot: a Vietnamese request is not offered to them.
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(request("vi")).await;
    expect!(desk, p::DeskEvent::Unserved { .. });
    // The supervisor's session (2 s) runs out: the wallboard's connection closes.
    let reason = wall.closed().await.map(|f| f.0);
    assert_eq!(reason, Some(p::CloseReason::Expired.code()));
    server.stop().await;
}

fn sign_in_body(login: &str, password: &str) -> String {
    json!({"role": "interpreter", "login": login, "password": password}).to_string()
}

/// The lock-out cannot be used against a victim, and the answer does not tell which
/// logins exist: an unknown login, a wrong password and an address held back on a login
/// get the same status and body in about the same time, while the login's owner signs in
/// from elsewhere.
#[tokio::test]
async fn the_lock_out_is_no_weapon_and_answers_tell_nothing() {
    let dir = temp("lock-out");
    seed(&dir).await;
    let server = Server::start(dir).await;
    let attempt = |from: &'static str, login: &'static str, password: &'static str| {
        let addr = server.addr;
        async move {
            let started = Instant::now();
            let (status, body) =
                http_from(Some(from), addr, "POST", "/api/sign-in", None, Some(&sign_in_body(login, password))).await;
            (status, body, started.elapsed())
        }
    };
    // A stranger at 127.0.0.2 guesses five times, and is held back on that login.
    for _ in 0..5 {
        assert_eq!(attempt("127.0.0.2", "i1", "guess").await.0, 401);
    }
    let (held, held_body, held_took) = attempt("127.0.0.2", "i1", "pw-i1").await;
    let (wrong, wrong_body, wrong_took) = attempt("127.0.0.2", "i2", "guess").await;
    let (unknown, unknown_body, unknown_took) = attempt("127.0.0.2", "nobody-at-all", "guess").await;
    assert_eq!((held, wrong, unknown), (401, 401, 401), "held back, wrong and unknown answer alike");
    assert_eq!(held_body, wrong_body);
    assert_eq!(wrong_body, unknown_body);
    // The same time: each spends a password check.
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let fastest = held_took.min(wrong_took).min(unknown_took);
    let slowest = held_took.max(wrong_took).max(unknown_took);
    assert!(ms(slowest) < ms(fastest) * 3.0 + 20.0, "{held_took:?} {wrong_took:?} {unknown_took:?}");
    // The owner, at another address, signs in.
    let (status, body, _) = attempt("127.0.0.1", "i1", "pw-i1").await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

/// Two hundred bogus sign-ins kept in flight by one client do not delay a real one from
/// elsewhere: an address has two checks in flight, a short queue and a budget; the rest
/// get 429 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sign_ins_from_one_address_does_not_delay_others() {
    let dir = temp("sign-in-flood");
    seed(&dir).await;
    let server = Server::start(dir).await;
    let addr = server.addr;
    let mut flood = Vec::new();
    for n in 0..200 {
        flood.push(tokio::spawn(async move {
            let body = sign_in_body(&format!("bogus-{n}"), "guess");
            http_from(Some("127.0.0.3"), addr, "POST", "/api/sign-in", None, Some(&body)).await.0
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (status, body) = http(addr, "POST", "/api/sign-in", None, Some(&sign_in_body("i2", "pw-i2"))).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    // Behind the flood it would wait for two hundred password hashes (tens of seconds);
    // three seconds leaves room for a loaded CI machine and still tells the two apart.
    assert!(took < Duration::from_secs(3), "a real sign-in took {took:?} behind the flood");
    let mut statuses = std::collections::BTreeMap::new();
    for t in flood {
        *statuses.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    // Sixty attempts a minute, two in flight and 32 waiting: most are refused at once.
    assert!(statuses.get(&429).copied().unwrap_or(0) >= 140, "{statuses:?}");
    server.stop().await;
}

/// One desk cannot fill the queue: three requests waiting at most, one of them urgent;
/// another municipality's request keeps its place.
#[tokio::test]
async fn one_desk_cannot_fill_the_queue() {
    let dir = temp("desk-flood");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    // Tenant 1's only Portuguese interpreter is busy: requests wait.
    let mut i4 = server.interpreter(&creds.interp[3]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    answered_call(&mut desk, &mut i4, "pt").await;
    let mut flooder = server.desk(&creds.desk_a2).await;
    let (mut queued, mut refused) = (0, 0);
    for _ in 0..30 {
        // Within the frame budget (20 a second): the refusals are the desk limit's.
        tokio::time::sleep(Duration::from_millis(60)).await;
        flooder
            .send(p::DeskCommand::RequestInterpreter {
                language: "pt".into(),
                modality: None,
                speciality: None,
                urgent: true,
                preferred_interpreter: None,
            })
            .await;
        match flooder.next().await {
            p::DeskEvent::Queued { .. } => queued += 1,
            p::DeskEvent::Error(e) if e.code == p::ErrorCode::NotAllowed => refused += 1,
            p::DeskEvent::Position { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((queued, refused), (1, 29), "one urgent request at a time");
    for _ in 0..5 {
        flooder.send(request("pt")).await;
    }
    let mut errors = 0;
    for _ in 0..5 {
        if let p::DeskEvent::Error(_) =
            flooder.expect(|e| (!matches!(e, p::DeskEvent::Position { .. })).then(|| e.clone())).await
        {
            errors += 1;
        }
    }
    assert_eq!(errors, 3, "three waiting at most");
    desk.send(request("pt")).await;
    let position = expect!(desk, p::DeskEvent::Queued { position, .. } => *position);
    assert_eq!(position, 3, "behind the three the other desk may have, not sixty");
    server.stop().await;
}
