//! The phone gateway's control connection (ADR 0015, 0016): it redeems the PINs callers
//! key for their seats' tokens, takes orders to call a number for a seat (a desk's
//! `dial_out`), saying when one fails, and puts language lines' callers in the queue of
//! the line's desk, hearing back for each where it stands and how it ends. Only a client with the configured secret gets
//! here, so a PIN cannot be guessed over the public WebSocket; the gateway itself bounds
//! the tries per caller.

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use kakehashi_protocol as p;

use super::conn::{Settings, Socket, closing};
use super::frame::{Frame, Limits, ReadError, RoleEvent, frame};
use crate::cluster::SharedRouter;
use crate::hub::{CLIENT_QUEUE, Out};

/// The loop, after the welcome: attached to the writer for orders while it lasts.
pub(crate) async fn run<S, R, E>(socket: &mut Socket<S, R>, settings: &mut Settings, router: &SharedRouter, conn: u64)
where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    let (tx, mut orders) = tokio::sync::mpsc::channel(CLIENT_QUEUE);
    router.gateway(conn, Some(tx)).await;
    serve(socket, settings, router, &mut orders, conn).await;
    router.gateway(conn, None).await;
}

async fn serve<S, R, E>(
    socket: &mut Socket<S, R>,
    settings: &mut Settings,
    router: &SharedRouter,
    orders: &mut tokio::sync::mpsc::Receiver<Out<p::GatewayEvent>>,
    conn: u64,
) where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    let mut limits = Limits::new(settings.rate_limit);
    loop {
        tokio::select! {
            order = orders.recv() => match order {
                Some(Out::Event(e)) => {
                    if !socket.send_json(&e.event).await {
                        return;
                    }
                }
                Some(Out::Close(reason)) => {
                    socket.close(reason).await;
                    return;
                }
                None => return,
            },
            msg = socket.recv() => {
                let answer = match frame::<p::GatewayCommand, E>(msg, &mut limits) {
                    Frame::Closed { too_large } => {
                        if too_large {
                            socket.close(p::CloseReason::TooLarge).await;
                        }
                        return;
                    }
                    Frame::Alive => continue,
                    Frame::Refused(e) => p::GatewayEvent::error(e),
                    Frame::Command(p::GatewayCommand::Ping {}) => p::GatewayEvent::Pong,
                    Frame::Command(p::GatewayCommand::DialFailed { dial, reason }) => {
                        router.dial_failed(dial, reason).await;
                        continue;
                    }
                    Frame::Command(p::GatewayCommand::LineCall { line, desk, language }) => {
                        router.line_call(conn, line, desk, language).await;
                        continue;
                    }
                    Frame::Command(p::GatewayCommand::OfferAnswer { offer, accept }) => {
                        match router.offer_answer(offer, accept).await {
                            Ok(true) => p::GatewayEvent::OfferTaken { offer },
                            Ok(false) => p::GatewayEvent::OfferClosed { offer },
                            Err(_) => {
                                socket.close(p::CloseReason::ShuttingDown).await;
                                return;
                            }
                        }
                    }
                    Frame::Command(p::GatewayCommand::LineHangup { line }) => {
                        router.line_hangup(conn, line).await;
                        continue;
                    }
                    Frame::Command(p::GatewayCommand::RedeemPin { pin }) => {
                        match router.redeem_pin(pin.clone()).await {
                            Ok(Some((token, language))) => p::GatewayEvent::Redeemed { pin, token, language },
                            Ok(None) => p::GatewayEvent::PinRefused { pin },
                            Err(_) => {
                                socket.close(p::CloseReason::ShuttingDown).await;
                                return;
                            }
                        }
                    }
                };
                if !socket.send_json(&answer).await {
                    return;
                }
            }
            () = closing(&mut settings.closing) => {
                socket.close(p::CloseReason::ShuttingDown).await;
                return;
            }
        }
    }
}
