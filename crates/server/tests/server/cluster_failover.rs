//! Writer failover with state (ADR 0021): three nodes on one Redis and one PostgreSQL; the
//! writer A holds a live call, an offer ringing and two requests queued when it is killed
//! without warning. A new writer takes over within 5 s from A's saved core and journal:
//! the wallboard shows the same call and the same queue in the same order; the desks and
//! interpreters resume their sessions on the surviving nodes; the ringing offer is
//! answered, the queued requests go to the next interpreters in their order, each once;
//! every call ends with exactly one record.

use std::time::{Duration, Instant};

use kakehashi_client::{Desk, Interpreter};
use kakehashi_protocol as p;

use crate::cluster_nodes::{node, role};
use crate::expect;
use crate::redis_support::RedisServer;
use crate::support::*;

/// The wallboard's snapshot of tenant A: (live calls, waiting requests longest first).
async fn wallboard(server: &Server, creds: &Creds) -> (u32, Vec<(u64, String, bool)>) {
    let mut supervisor = server.supervisor(&creds.sup_a).await;
    supervisor.send(p::SupervisorCommand::Subscribe {}).await;
    expect!(supervisor, p::SupervisorEvent::Snapshot { calls, waiting, .. } => (
        calls.calls,
        waiting.iter().map(|w| (w.request, w.language.clone(), w.ringing)).collect(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writers_queue_offers_and_calls_go_on_with_the_next() {
    let redis = RedisServer::start().await;
    let dir = temp("cluster-failover");
    crate::postgres_support::use_postgres(&dir).await;
    let creds = seed(&dir).await;
    let mut a = node(&dir, &redis, "node-a").await;
    role(&a, true, Duration::from_secs(10)).await;
    let b = node(&dir, &redis, "node-b").await;
    let c = node(&dir, &redis, "node-c").await;
    role(&b, false, Duration::from_secs(10)).await;
    role(&c, false, Duration::from_secs(10)).await;
    let (on_b, on_c) = (Server::at(b.addr, dir.clone()), Server::at(c.addr, dir.clone()));

    // On A's watch: a call (desk 1 with i1), an offer ringing at i4 (Portuguese, desk 2),
    // and two Vietnamese requests queued, desk 2's before desk 1's.
    let mut i1 = on_c.interpreter(&creds.interp[0]).await;
    let mut desk1 = on_b.desk(&creds.desk_a1).await;
    let live = answered_call(&mut desk1, &mut i1, "vi").await;
    let mut i4 = on_c.interpreter(&creds.interp[3]).await;
    let mut desk2 = on_b.desk(&creds.desk_a2).await;
    desk2.send(request("pt")).await;
    let ringing = expect!(desk2, p::DeskEvent::Queued { request, .. } => *request);
    let rung = expect!(i4, p::InterpreterEvent::Offer { offer, .. } => *offer);
    desk2.send(request("vi")).await;
    let first = expect!(desk2, p::DeskEvent::Queued { request, .. } => *request);
    desk1.send(request("vi")).await;
    let second = expect!(desk1, p::DeskEvent::Queued { request, .. } => *request);
    let before = wallboard(&on_c, &creds).await;
    assert_eq!(before.0, 1, "{before:?}");
    let queue: Vec<u64> = before.1.iter().map(|w| w.0).collect();
    assert_eq!(queue, vec![ringing, first, second], "{before:?}");

    let points = [desk1.resume_point(), desk2.resume_point()];
    let (i1_point, i4_point) = (i1.resume_point(), i4.resume_point());
    // A dies. B or C writes within 5 s, from A's state.
    a.process.start_kill().unwrap();
    a.process.wait().await.unwrap();
    let killed = Instant::now();
    let (next, other) = loop {
        if writer_now(&b).await {
            break (&b, &c);
        }
        if writer_now(&c).await {
            break (&c, &b);
        }
        assert!(killed.elapsed() < Duration::from_secs(5), "no new writer within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    role(next, true, Duration::from_secs(5) - killed.elapsed().min(Duration::from_secs(5))).await;
    eprintln!("writer killed: a new writer within {} ms", killed.elapsed().as_millis());
    role(other, false, Duration::from_secs(5)).await;
    // The other edge follows the new writer (until it has seen it, a client that
    // reconnects there is let go once more when it does, and resumes again).
    let token = writer_token(next).await;
    for _ in 0..50 {
        if writer_token(other).await == token {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(writer_token(other).await, token, "the edge follows the new writer");
    let on_next = Server::at(next.addr, dir.clone());
    let after = wallboard(&on_next, &creds).await;
    assert_eq!(after.0, 1, "the call goes on: {after:?}");
    let queue: Vec<u64> = after.1.iter().map(|w| w.0).collect();
    assert_eq!(queue, vec![ringing, first, second], "the queue, in its order: {after:?}");

    // Everyone resumes on the surviving nodes (the core kept their resume tokens): the
    // desk and interpreter of the call are back in it, the offer still rings at i4.
    drop((desk1, desk2, i1, i4));
    let on_other = Server::at(other.addr, dir.clone());
    let [desk1_point, desk2_point] = points;
    let mut desk1: Client<Desk> =
        on_other.connect(p::Credential::DeskToken(creds.desk_a1.clone()), Some(desk1_point)).await;
    let mut desk2: Client<Desk> =
        on_next.connect(p::Credential::DeskToken(creds.desk_a2.clone()), Some(desk2_point)).await;
    let mut i1: Client<Interpreter> =
        on_other.connect(p::Credential::Session(creds.interp[0].clone()), Some(i1_point)).await;
    let mut i4: Client<Interpreter> =
        on_next.connect(p::Credential::Session(creds.interp[3].clone()), Some(i4_point)).await;
    for resumed in
        [desk1.sig.welcome.resumed, desk2.sig.welcome.resumed, i1.sig.welcome.resumed, i4.sig.welcome.resumed]
    {
        assert!(resumed, "every session resumes on the new writer");
    }
    expect!(desk1, p::DeskEvent::ParticipantJoined { party: p::Party::Interpreter, .. });
    i4.send(p::InterpreterCommand::Accept { offer: rung }).await;
    assert_eq!(expect!(desk2, p::DeskEvent::Assigned { call, .. } => *call), ringing, "the offer rang on");

    // The next Vietnamese interpreters take the queued requests in their order, each once.
    let mut next_ones = Vec::new();
    for (login, want) in [(&creds.interp[1], first), (&creds.interp[2], second)] {
        let mut interpreter = on_next.interpreter(login).await;
        interpreter.send(p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await;
        let offer = expect!(interpreter, p::InterpreterEvent::Offer { offer, .. } => *offer);
        interpreter.send(p::InterpreterCommand::Accept { offer }).await;
        let call = expect!(interpreter, p::InterpreterEvent::Assigned { call, .. } => *call);
        assert_eq!(call, want, "queue order kept");
        next_ones.push(interpreter);
    }

    assert_eq!(expect!(desk2, p::DeskEvent::Assigned { call, .. } => *call), first);
    assert_eq!(expect!(desk1, p::DeskEvent::Assigned { call, .. } => *call), second);

    // Every call ends, once, with its record: the one live when A died included.
    for call in [live, second] {
        desk1.send(p::DeskCommand::EndCall { call }).await;
        assert_eq!(expect!(desk1, p::DeskEvent::CallEnded { call, .. } => *call), call);
    }
    expect!(i1, p::InterpreterEvent::CallEnded { .. });
    for call in [first, ringing] {
        desk2.send(p::DeskCommand::EndCall { call }).await;
        expect!(desk2, p::DeskEvent::CallEnded { .. });
    }
    for _ in 0..50 {
        if on_next.records(&creds.sup_a).await.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A moment more: a second record of any of them would show now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let records = on_next.records(&creds.sup_a).await;
    assert_eq!(records.len(), 4, "four calls, one record each: {records:?}");
    assert!(records.iter().all(|r| r["outcome"] == "answered"), "{records:?}");
}

/// Whether the node says it is the writer (its metric), without waiting.
async fn writer_now(child: &Child) -> bool {
    http(child.addr, "GET", "/metrics", None, None).await.1.lines().any(|l| l == "kakehashi_cluster_writer 1")
}

/// The writer's token the node follows (its metric).
async fn writer_token(child: &Child) -> String {
    let metrics = http(child.addr, "GET", "/metrics", None, None).await.1;
    metrics.lines().find_map(|l| l.strip_prefix("kakehashi_cluster_writer_token ")).unwrap_or_default().to_string()
}
