//! Joining by phone (ADR 0015): a desk's phone invite is a PIN for the gateway's line;
//! the gateway, and only the gateway, redeems it for the seat's token; the phone leg
//! joins with it as party `phone`.

use kakehashi::config::Config;
use kakehashi_client::Gateway;
use kakehashi_protocol as p;

use crate::expect;
use crate::support::*;

const SECRET: &str = "gateway-secret-of-the-test";
const LINE: &str = "03-1234-5678";

#[tokio::test]
async fn a_pin_from_the_desk_becomes_a_phone_seat_through_the_gateway_only() {
    let dir = temp("phone-seat");
    let creds = seed(&dir).await;
    let server = Server::start_with(dir, |c| Config {
        phone_number: Some(LINE.into()),
        phone_gateway_token: Some(SECRET.into()),
        ..c
    })
    .await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    // Without its gateway connected, the line is not offered, and the readiness page says
    // so (the node stays ready: everything else works).
    desk.send(p::DeskCommand::Invite { call, party: p::Party::Phone }).await;
    let e = desk.error().await;
    assert_eq!(
        (e.code, e.message.as_str()),
        (p::ErrorCode::NotAllowed, "the phone line is not available now (its gateway is not connected)")
    );
    let (status, ready) = http(server.addr, "GET", "/readyz", None, None).await;
    assert_eq!(status, 200);
    assert!(ready.starts_with("ready\nphone: unavailable: no phone gateway is connected"), "{ready}");
    let mut gw: Client<Gateway> = server.connect(p::Credential::Gateway(SECRET.into()), None).await;
    // The gateway's attachment reaches the hub with its first command's answer.
    gw.send(p::GatewayCommand::Ping {}).await;
    expect!(gw, p::GatewayEvent::Pong);
    assert_eq!(http(server.addr, "GET", "/readyz", None, None).await, (200, "ready".into()));
    desk.send(p::DeskCommand::Invite { call, party: p::Party::Phone }).await;
    let (c, number, pin) =
        expect!(desk, p::DeskEvent::PhoneInvite { call, number, pin, .. } => (*call, number.clone(), pin.clone()));
    assert_eq!((c, number.as_str()), (call, LINE));
    assert!(pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    // The PIN is no credential of its own, and a wrong secret is no gateway.
    let refused = server.refused::<Gateway>(p::Credential::Gateway("not-the-gateway-secret".into()), None).await;
    assert_eq!(refused.code, p::ErrorCode::Unauthorized);
    let refused = server.refused::<kakehashi_client::Resident>(p::Credential::Invite(pin.clone()), None).await;
    assert_eq!(refused.code, p::ErrorCode::Unauthorized);
    let wrong = if pin == "000000" { "000001" } else { "000000" };
    gw.send(p::GatewayCommand::RedeemPin { pin: wrong.into() }).await;
    assert_eq!(gw.next().await, p::GatewayEvent::PinRefused { pin: wrong.into() });
    gw.send(p::GatewayCommand::RedeemPin { pin: pin.clone() }).await;
    let (got, token, language) = expect!(gw, p::GatewayEvent::Redeemed { pin, token, language } => (pin.clone(), token.clone(), language.clone()));
    assert_eq!((got.as_str(), language.as_str()), (pin.as_str(), "vi"));
    // Used up: a second caller keying it gets nothing.
    gw.send(p::GatewayCommand::RedeemPin { pin: pin.clone() }).await;
    assert_eq!(gw.next().await, p::GatewayEvent::PinRefused { pin: pin.clone() });
    // The phone leg joins with the token, as party phone: everyone is told.
    let mut phone = server.resident(&token, None).await;
    let you = expect!(phone, p::ResidentEvent::Joined { you, .. } => *you);
    let joined =
        expect!(desk, p::DeskEvent::ParticipantJoined { party: p::Party::Phone, participant, .. } => *participant);
    assert_eq!(joined, you);
    expect!(i1, p::InterpreterEvent::ParticipantJoined { party: p::Party::Phone, .. });
    server.stop().await;
}

#[tokio::test]
async fn without_a_gateway_there_is_no_phone_invite() {
    let dir = temp("phone-none");
    let creds = seed(&dir).await;
    let server = Server::start(dir).await;
    let mut i1 = server.interpreter(&creds.interp[0]).await;
    let mut desk = server.desk(&creds.desk_a1).await;
    let call = answered_call(&mut desk, &mut i1, "vi").await;
    desk.send(p::DeskCommand::Invite { call, party: p::Party::Phone }).await;
    let e = desk.error().await;
    assert_eq!(e.code, p::ErrorCode::NotAllowed, "{e:?}");
    let refused = server.refused::<Gateway>(p::Credential::Gateway(SECRET.into()), None).await;
    assert_eq!(refused.code, p::ErrorCode::Unauthorized);
    server.stop().await;
}
