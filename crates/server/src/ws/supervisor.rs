//! A supervisor's connection: a snapshot of their tenant on `subscribe` and every two
//! seconds after, until they go, their session is signed out or expires, or the server
//! shuts down.

use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::{Sink, Stream};
use kakehashi_protocol as p;

use super::conn::{Lifetime, Settings, Socket, closing};
use super::frame::{Frame, Limits, ReadError, RoleEvent, frame};
use crate::cluster::SharedRouter;

/// How often a subscribed supervisor gets a snapshot.
pub(crate) const SNAPSHOT_EVERY: Duration = Duration::from_secs(2);

/// The loop, after the welcome.
pub(crate) async fn run<S, R, E>(
    socket: &mut Socket<S, R>,
    settings: &mut Settings,
    lifetime: &mut Lifetime,
    router: &SharedRouter,
    tenant: Option<i64>,
) where
    S: Sink<Message> + Unpin + Send,
    R: Stream<Item = Result<Message, E>> + Unpin + Send,
    E: ReadError,
{
    let mut limits = Limits::new(settings.rate_limit);
    let mut every = tokio::time::interval(SNAPSHOT_EVERY);
    let mut subscribed = false;
    loop {
        tokio::select! {
            msg = socket.recv() => match frame::<p::SupervisorCommand, E>(msg, &mut limits) {
                Frame::Closed { too_large } => {
                    if too_large {
                        socket.close(p::CloseReason::TooLarge).await;
                    }
                    return;
                }
                Frame::Alive => {}
                Frame::Refused(e) => {
                    if !socket.send_json(&p::SupervisorEvent::error(e)).await {
                        return;
                    }
                }
                Frame::Command(p::SupervisorCommand::Ping {}) => {
                    if !socket.send_json(&p::SupervisorEvent::Pong).await {
                        return;
                    }
                }
                Frame::Command(p::SupervisorCommand::Subscribe {}) => {
                    subscribed = true;
                    every.reset_immediately();
                }
            },
            _ = every.tick(), if subscribed => {
                let Ok(snapshot) = router.snapshot(tenant).await else {
                    socket.close(p::CloseReason::ShuttingDown).await;
                    return;
                };
                if !socket.send_json(&snapshot).await {
                    return;
                }
            }
            reason = lifetime.ends() => {
                let e = p::ProtocolError { code: p::ErrorCode::Unauthorized, message: reason.reason().into() };
                socket.refuse::<p::SupervisorEvent>(e, reason).await;
                return;
            }
            () = closing(&mut settings.closing) => {
                socket.close(p::CloseReason::ShuttingDown).await;
                return;
            }
        }
    }
}
