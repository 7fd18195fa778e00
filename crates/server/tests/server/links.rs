//! People who join from a link: single use, expiry, dying with the call; several residents
//! and a guest at once, each with their own number; documents passed on and never kept.

use std::time::Duration;

use kakehashi::config::Config;
use kakehashi_client::Resident;
use kakehashi_protocol as p;

use crate::expect;
use crate::support::*;

#[tokio::test]
async fn invite_links_are_bound_to_one_seat_expire_unused_and_die_with_the_call() {
    let dir = temp("invite");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config { invite_ttl_secs: 2, ..c }).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    desk.send(request("vi")).await;
    let call = expect!(desk, p::DeskEvent::Queued { request, .. } => *request);
    // Not before the call has started.
    desk.send(p::DeskCommand::InviteResident { call }).await;
    assert_eq!(desk.error().await.code, p::ErrorCode::NotAllowed);
    let offer = expect!(i1, p::InterpreterEvent::Offer { offer, .. } => *offer);
    i1.send(p::InterpreterCommand::Accept { offer }).await;
    expect!(desk, p::DeskEvent::Assigned { .. });
    expect!(i1, p::InterpreterEvent::Assigned { .. });

    desk.send(p::DeskCommand::InviteResident { call }).await;
    let (url, qr_svg, party) =
        expect!(desk, p::DeskEvent::Invite { url, qr_svg, party, .. } => (url.clone(), qr_svg.clone(), *party));
    assert!(url.starts_with(&format!("http://{}/join/", server.addr)), "{url}");
    assert!(qr_svg.contains("<svg"), "a QR code as SVG");
    assert_eq!(party, p::Party::Resident);
    let token = link_token(&url);
    let mut resident = server.resident(&token, None).await;
    assert_eq!(expect!(resident, p::ResidentEvent::Joined { language, .. } => language.clone()), "vi");
    expect!(desk, p::DeskEvent::ParticipantJoined { party: p::Party::Resident, .. });
    expect!(i1, p::InterpreterEvent::ParticipantJoined { party: p::Party::Resident, .. });
    // One person at a time: opening the link again takes the seat over, and the older
    // connection is closed as replaced.
    let refused = |token: String| {
        let server = &server;
        async move {
            let e = server.refused::<Resident>(p::Credential::Invite(token), None).await;
            assert_eq!(e.code, p::ErrorCode::Unauthorized);
        }
    };
    let mut again = server.resident(&token, None).await;
    expect!(again, p::ResidentEvent::Joined { you: 2, .. });
    assert_eq!(resident.closed().await.map(|f| f.0), Some(p::CloseReason::Replaced.code()));
    let mut resident = again;
    // Expiry (2 s here).
    let stale = invite(&mut desk, call, p::Party::Resident).await;
    tokio::time::sleep(Duration::from_millis(2300)).await;
    refused(stale).await;
    // The resident leaves; the others are told. By mistake: the link lets them back in,
    // with their own number.
    resident.send(p::ResidentCommand::Leave {}).await;
    expect!(resident, p::ResidentEvent::CallEnded);
    expect!(desk, p::DeskEvent::ParticipantLeft { party: p::Party::Resident, reason: p::LeftReason::Left, .. });
    let mut back = server.resident(&token, None).await;
    expect!(back, p::ResidentEvent::Joined { you: 2, .. });
    expect!(desk, p::DeskEvent::ParticipantJoined { party: p::Party::Resident, participant: 2, .. });
    back.send(p::ResidentCommand::Leave {}).await;
    expect!(back, p::ResidentEvent::CallEnded);
    expect!(desk, p::DeskEvent::ParticipantLeft { party: p::Party::Resident, reason: p::LeftReason::Left, .. });
    // A second resident is in the call when it ends; a link made before the end dies with it.
    let second = invite(&mut desk, call, p::Party::Resident).await;
    let mut resident2 = server.resident(&second, None).await;
    expect!(resident2, p::ResidentEvent::Joined { .. });
    expect!(desk, p::DeskEvent::ParticipantJoined { .. });
    let unused = invite(&mut desk, call, p::Party::Resident).await;
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    expect!(resident2, p::ResidentEvent::CallEnded);
    refused(unused).await;
    refused(token).await;
    assert_eq!(server.records(&creds.sup_a).await.len(), 1);
    server.stop().await;
}

/// Two residents and a guest in one call: each has its own number, hears the others come
/// and go, and the desk and interpreter hear each of them.
#[tokio::test]
async fn two_residents_and_a_guest_take_part_in_one_call() {
    let dir = temp("several");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    let mut people = Vec::new();
    for party in [p::Party::Resident, p::Party::Resident, p::Party::Guest] {
        let token = invite(&mut desk, call, party).await;
        let mut c = server.resident(&token, None).await;
        let (you, who, roster) = expect!(c, p::ResidentEvent::Joined { you, party, participants, .. }
            => (*you, *party, participants.clone()));
        assert_eq!(who, party);
        assert_eq!(roster.last().map(|p| (p.id, p.party)), Some((you, party)), "it is listed last: {roster:?}");
        let joined =
            expect!(desk, p::DeskEvent::ParticipantJoined { participant, party, .. } => (*participant, *party));
        assert_eq!(joined, (you, party));
        expect!(i1, p::InterpreterEvent::ParticipantJoined { .. });
        people.push((you, c));
    }
    assert_eq!(people.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [2, 3, 4]);
    // The first resident heard the other two join.
    let (_, first) = &mut people[0];
    for n in [3, 4] {
        assert_eq!(expect!(first, p::ResidentEvent::ParticipantJoined { participant, .. } => *participant), n);
    }
    // The guest leaves: the others hear that participant 4 left.
    let (_, mut guest) = people.pop().unwrap();
    guest.send(p::ResidentCommand::Leave {}).await;
    expect!(guest, p::ResidentEvent::CallEnded);
    expect!(desk, p::DeskEvent::ParticipantLeft { participant: 4, party: p::Party::Guest, .. });
    for (_, c) in &mut people {
        // (The second resident has yet to read that the guest joined.)
        let left = c.sig.expect(
            WAIT,
            |e| matches!(e, p::ResidentEvent::ParticipantLeft { participant: 4, .. }).then_some(()),
            |e| assert!(matches!(e, p::ResidentEvent::ParticipantJoined { participant: 4, .. }), "{e:?}"),
        );
        left.await.unwrap();
    }
    desk.send(p::DeskCommand::EndCall { call }).await;
    for (_, c) in &mut people {
        expect!(c, p::ResidentEvent::CallEnded);
    }
    server.stop().await;
}

fn part(id: u32, part: u32, parts: u32, data: &str) -> p::DocumentPart {
    p::DocumentPart { id, part, parts, mime: p::DocumentMime::Jpeg, data: data.into() }
}

#[tokio::test]
async fn documents_pass_to_the_others_and_nothing_is_kept() {
    let dir = temp("documents");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    // Not before the call starts.
    desk.send(request("vi")).await;
    let call = expect!(desk, p::DeskEvent::Queued { request, .. } => *request);
    desk.send(p::DeskCommand::Document { call, document: part(1, 0, 1, "aGk=") }).await;
    assert_eq!(desk.error().await.code, p::ErrorCode::NotAllowed);
    let offer = expect!(i1, p::InterpreterEvent::Offer { offer, .. } => *offer);
    i1.send(p::InterpreterCommand::Accept { offer }).await;
    expect!(desk, p::DeskEvent::Assigned { .. });
    expect!(i1, p::InterpreterEvent::Assigned { .. });
    let token = invite(&mut desk, call, p::Party::Resident).await;
    let mut resident = server.resident(&token, None).await;
    expect!(resident, p::ResidentEvent::Joined { .. });
    expect!(desk, p::DeskEvent::ParticipantJoined { .. });
    expect!(i1, p::InterpreterEvent::ParticipantJoined { .. });

    // The resident shows a photo of three parts, sent at once: each part reaches the desk
    // and the interpreter, and the resident hears that each was passed on.
    let data = "QUJD".repeat(15_000);
    for n in 0..3u32 {
        resident.send(p::ResidentCommand::Document { document: part(7, n, 3, &data) }).await;
    }
    for n in 0..3u32 {
        let passed = expect!(resident, p::ResidentEvent::DocumentPassed { id, part } => (*id, *part));
        assert_eq!(passed, (7, n));
        let got = expect!(desk, p::DeskEvent::Document { call, from, document } => (*call, *from, document.part, document.data.len()));
        assert_eq!(got, (call, p::Party::Resident, n, 60_000));
        let got = expect!(i1, p::InterpreterEvent::Document { from, document, .. } => (*from, document.part));
        assert_eq!(got, (p::Party::Resident, n));
    }
    // The interpreter shows one to the desk and the resident.
    i1.send(p::InterpreterCommand::Document { call, document: part(1, 0, 1, "aGk=") }).await;
    assert_eq!(expect!(i1, p::InterpreterEvent::DocumentPassed { id, .. } => *id), 1);
    assert_eq!(expect!(desk, p::DeskEvent::Document { from, .. } => *from), p::Party::Interpreter);
    assert_eq!(expect!(resident, p::ResidentEvent::Document { from, .. } => *from), p::Party::Interpreter);
    // Garbage is refused with what is wrong, and the connection stays.
    for (bad, field) in [
        (part(1, 0, 0, "aGk="), "document.parts"),
        (part(1, 5, 2, "aGk="), "document.part"),
        (part(1, 0, 1, "!!!!"), "document.data"),
    ] {
        resident.send(p::ResidentCommand::Document { document: bad }).await;
        let e = resident.error().await;
        assert_eq!(e.code, p::ErrorCode::InvalidField);
        assert!(e.message.starts_with(field), "{e}");
    }
    resident
        .send_text(
            r#"{"type":"document","document":{"id":1,"part":0,"parts":1,"mime":"text/html","data":"aGk="}}"#.into(),
        )
        .await;
    assert_eq!(resident.error().await.code, p::ErrorCode::InvalidField);
    // Another desk's call is not found.
    let mut other = server.desk(&creds.desk_a2).await;
    other.send(p::DeskCommand::Document { call, document: part(1, 0, 1, "aGk=") }).await;
    assert_eq!(other.error().await.code, p::ErrorCode::NotFound);
    resident.send(p::ResidentCommand::Ping {}).await;
    expect!(resident, p::ResidentEvent::Pong);
    // Nothing of a document is in the store.
    desk.send(p::DeskCommand::EndCall { call }).await;
    expect!(desk, p::DeskEvent::CallEnded { .. });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let dir = server.stop().await;
    let mut found = false;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        found |= bytes.windows(12).any(|w| w == b"QUJDQUJDQUJD");
    }
    assert!(!found, "a document's bytes are not stored");
}
