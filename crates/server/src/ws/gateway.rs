//! The phone gateway's control connection (ADR 0015): it redeems the PINs callers key
//! for their seats' tokens. Only a client with the configured secret gets here, so a PIN
//! cannot be guessed over the public WebSocket; the gateway itself bounds the tries per
//! caller.

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use kakehashi_protocol as p;

use super::conn::{Settings, Socket, closing};
use super::frame::{Frame, Limits, ReadError, RoleEvent, frame};
use crate::cluster::SharedRouter;

/// The loop, after the welcome.
pub(crate) async fn run<S, R, E>(socket: &mut Socket<S, R>, settings: &mut Settings, router: &SharedRouter)
where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    let mut limits = Limits::new(settings.rate_limit);
    loop {
        tokio::select! {
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
