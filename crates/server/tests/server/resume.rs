//! Connections that drop and come back: a desk keeps its place and hears what it missed,
//! numbered, nothing twice; a silent client is let go; the others in a call hear who
//! dropped and who came back; a resident returns with its resume token.

use std::time::Duration;

use kakehashi::config::Config;
use kakehashi_client::Desk;
use kakehashi_protocol as p;

use crate::expect;
use crate::support::*;

#[tokio::test]
async fn a_dropped_desk_resumes_its_place_or_loses_it_after_the_grace() {
    let dir = temp("resume");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { resume_grace_secs: 2, ..c }).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut other = server.desk(&creds.desk_a2).await;
    let busy = answered_call(&mut other, &mut i1, "vi").await;

    // The desk waits behind that call, drops, and comes back with its resume token.
    let credential = || p::Credential::DeskToken(creds.desk_a1.clone());
    let mut desk: Client<Desk> = server.connect(credential(), None).await;
    assert!(!desk.sig.welcome.resumed);
    desk.send(request("vi")).await;
    let waiting = expect!(desk, p::DeskEvent::Queued { request, .. } => *request);
    let point = desk.resume_point();
    drop(desk);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut desk: Client<Desk> = server.connect(credential(), Some(point)).await;
    assert!(desk.sig.welcome.resumed);
    let (request, position) = expect!(desk, p::DeskEvent::Position { request, position, .. } => (*request, *position));
    assert_eq!((request, position), (waiting, 0));
    // Still in the queue: when the interpreter is free, the resumed desk gets the call.
    other.send(p::DeskCommand::EndCall { call: busy }).await;
    expect!(other, p::DeskEvent::CallEnded { .. });
    expect!(i1, p::InterpreterEvent::CallEnded { .. });
    i1.send(p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await;
    let offer = expect!(i1, p::InterpreterEvent::Offer { offer, .. } => *offer);
    i1.send(p::InterpreterCommand::Accept { offer }).await;
    assert_eq!(expect!(desk, p::DeskEvent::Assigned { request, .. } => *request), waiting);

    // A desk that does not come back within the grace loses its waiting request.
    other.send(request_for("vi")).await;
    expect!(other, p::DeskEvent::Queued { .. });
    drop(other);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(server.eventually_record(&creds.sup_a, "abandoned").await, "abandoned after the grace period");
    // A wrong resume token is a fresh start, not a takeover.
    let fresh: Client<Desk> = server.connect(credential(), Some(("0000".into(), 0))).await;
    assert!(!fresh.sig.welcome.resumed);
    server.stop().await;
}

fn request_for(language: &str) -> p::DeskCommand {
    request(language)
}

#[tokio::test]
async fn a_silent_client_is_dropped_and_its_wait_abandoned() {
    let dir = temp("silent");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { heartbeat_secs: 1, resume_grace_secs: 1, ..c }).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut other = server.desk(&creds.desk_a2).await;
    answered_call(&mut other, &mut i1, "vi").await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(request("vi")).await;
    expect!(desk, p::DeskEvent::Queued { .. });
    // The desk's device goes silent: it answers no pings (this client reads nothing).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        server.eventually_record(&creds.sup_a, "abandoned").await,
        "three missed heartbeats and the grace period end the silent desk's wait"
    );
    drop((desk, other, i1));
    server.stop().await;
}

#[tokio::test]
async fn a_dropped_participant_is_announced_and_a_resident_comes_back_with_its_token() {
    let dir = temp("drops");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let token = invite(&mut desk, call, p::Party::Resident).await;
    let mut resident = server.resident(&token, None).await;
    let you = expect!(resident, p::ResidentEvent::Joined { you, .. } => *you);
    assert_eq!(you, 2);
    expect!(desk, p::DeskEvent::ParticipantJoined { participant: 2, .. });
    expect!(i1, p::InterpreterEvent::ParticipantJoined { participant: 2, .. });

    // The resident's phone changes networks: its connection drops, the others hear it
    // dropped, and it comes back with its resume token.
    let resume = resident.sig.welcome.resume_token.clone();
    drop(resident);
    expect!(
        desk,
        p::DeskEvent::ParticipantLeft { party: p::Party::Resident, participant: 2, reason: p::LeftReason::Dropped, .. }
    );
    expect!(i1, p::InterpreterEvent::ParticipantLeft { party: p::Party::Resident, .. });
    let mut resident = server.resident(&token, Some(resume)).await;
    assert!(resident.sig.welcome.resumed);
    let (language, you) = expect!(resident, p::ResidentEvent::Joined { language, you, .. } => (language.clone(), *you));
    assert_eq!((language.as_str(), you), ("vi", 2), "the same place");
    expect!(desk, p::DeskEvent::ParticipantJoined { party: p::Party::Resident, participant: 2, .. });
    expect!(i1, p::InterpreterEvent::ParticipantJoined { .. });
    // A reconnect with a resume token that is not the seat's does not take the seat from
    // the connected resident (ADR 0013).
    let e = server.refused::<kakehashi_client::Resident>(p::Credential::Invite(token), Some(("guess".into(), 0))).await;
    assert_eq!(e.code, p::ErrorCode::NotAllowed);

    // The interpreter's connection drops: desk and resident are told.
    drop(i1);
    expect!(desk, p::DeskEvent::ParticipantLeft { party: p::Party::Interpreter, participant: 1, .. });
    expect!(resident, p::ResidentEvent::ParticipantLeft { party: p::Party::Interpreter, .. });
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    expect!(resident, p::ResidentEvent::CallEnded);
    // Its connection is closed, saying the call is over.
    assert_eq!(resident.closed().await.map(|f| f.0), Some(p::CloseReason::Done.code()));
    server.stop().await;
}

#[tokio::test]
async fn a_desk_that_resumes_hears_what_happened_while_it_was_away() {
    let dir = temp("missed");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let credential = || p::Credential::DeskToken(creds.desk_a1.clone());
    let mut desk: Client<Desk> = server.connect(credential(), None).await;
    desk.send(request("vi")).await;
    let request = expect!(desk, p::DeskEvent::Queued { request, .. } => *request);
    let offer = expect!(i1, p::InterpreterEvent::Offer { offer, .. } => *offer);
    // The tablet's Wi-Fi drops while the interpreter is being rung; the interpreter
    // answers, and ends the call, while the desk is away.
    let point = desk.resume_point();
    drop(desk);
    tokio::time::sleep(Duration::from_millis(300)).await;
    i1.send(p::InterpreterCommand::Accept { offer }).await;
    assert_eq!(expect!(i1, p::InterpreterEvent::Assigned { call, .. } => *call), request);
    expect!(i1, p::InterpreterEvent::ParticipantLeft { party: p::Party::Desk, .. });
    i1.send(p::InterpreterCommand::EndCall { call: request }).await;
    expect!(i1, p::InterpreterEvent::CallEnded { .. });
    // Back within the grace: it hears both, in order, and can record the outcome.
    let mut desk: Client<Desk> = server.connect(credential(), Some(point)).await;
    assert!(desk.sig.welcome.resumed);
    assert_eq!(expect!(desk, p::DeskEvent::Assigned { call, .. } => *call), request);
    let ended = expect!(desk, p::DeskEvent::CallEnded { call, by } => (*call, *by));
    assert_eq!(ended, (request, p::Party::Interpreter));
    desk.send(resolved(request)).await;
    expect!(desk, p::DeskEvent::OutcomeRecorded { .. });
    // Exactly one record of the call.
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.iter().filter(|r| r["outcome"] == "answered").count(), 1, "{records:?}");
    server.stop().await;
}

/// A desk whose network went before it read what the server had already written says,
/// when it resumes, the last event number it had; it gets the rest again, and a resume
/// that had everything gets nothing twice. A fresh start counts from the beginning.
#[tokio::test]
async fn a_desk_that_resumes_gets_again_what_its_lost_connection_had_written() {
    let dir = temp("unread");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let credential = || p::Credential::DeskToken(creds.desk_a1.clone());
    let mut desk: Client<Desk> = server.connect(credential(), None).await;
    desk.send(request("vi")).await;
    let queued = desk.next_seq().await;
    let p::DeskEvent::Queued { request, .. } = queued.event else { panic!("{queued:?}") };
    let offer = expect!(i1, p::InterpreterEvent::Offer { offer, .. } => *offer);
    i1.send(p::InterpreterCommand::Accept { offer }).await;
    expect!(i1, p::InterpreterEvent::Assigned { .. });
    // The server wrote `assigned`; the tablet never got it (its network went).
    let assigned = loop {
        let e = desk.next_seq().await;
        if matches!(e.event, p::DeskEvent::Assigned { .. }) {
            break e;
        }
    };
    let (before, seq) = (queued.seq.unwrap(), assigned.seq.unwrap());
    assert!(seq > before, "numbers rise: {queued:?} then {assigned:?}");
    let (token, _) = desk.resume_point();
    drop(desk);
    expect!(i1, p::InterpreterEvent::ParticipantLeft { party: p::Party::Desk, .. });
    let mut desk: Client<Desk> = server.connect(credential(), Some((token, before))).await;
    assert!(desk.sig.welcome.resumed);
    let again = desk.next_seq().await;
    assert_eq!(again, assigned, "the same event again, with its number");
    expect!(i1, p::InterpreterEvent::ParticipantJoined { party: p::Party::Desk, .. });
    // Away again, having had everything: nothing comes twice.
    let (token, last) = desk.resume_point();
    assert_eq!(last, seq);
    drop(desk);
    expect!(i1, p::InterpreterEvent::ParticipantLeft { party: p::Party::Desk, .. });
    let mut desk: Client<Desk> = server.connect(credential(), Some((token, last))).await;
    assert!(desk.sig.welcome.resumed);
    expect!(i1, p::InterpreterEvent::ParticipantJoined { party: p::Party::Desk, .. });
    i1.send(p::InterpreterCommand::EndCall { call: request }).await;
    let ended = desk.next_seq().await;
    assert!(matches!(ended.event, p::DeskEvent::CallEnded { .. }), "{ended:?}");
    assert!(ended.seq.unwrap() > seq, "{ended:?}");
    desk.send(resolved(request)).await;
    expect!(desk, p::DeskEvent::OutcomeRecorded { .. });
    let records = server.records(&creds.sup_a).await;
    assert_eq!(records.iter().filter(|r| r["outcome"] == "answered").count(), 1, "{records:?}");
    // A fresh start (no resume token) counts from 1 again.
    drop(desk);
    let mut fresh: Client<Desk> = server.connect(credential(), None).await;
    let first = fresh.sig.recv(WAIT).await.unwrap();
    assert_eq!(first.seq, Some(1), "the count restarts: {first:?}");
    assert!(matches!(first.event, p::DeskEvent::Availability { .. }), "the grid's answers come first: {first:?}");
    fresh.send(p::DeskCommand::Ping {}).await;
    let pong = fresh.next_seq().await;
    assert_eq!((pong.seq, pong.event), (Some(2), p::DeskEvent::Pong));
    server.stop().await;
}
