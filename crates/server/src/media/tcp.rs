//! ICE-TCP (RFC 6544) connections: each accepted connection gets a task that cuts its
//! byte stream into RFC 4571 frames for the relay and writes the relay's packets back
//! framed.

use std::net::SocketAddr;

use bytes::BytesMut;
use kakehashi_relay::framing::{Deframer, frame};
use kakehashi_relay::{Kind, classify};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::TCP_IDLE;

/// What a connection task tells the relay's task.
#[derive(Debug)]
pub(super) enum TcpIn {
    Packet(SocketAddr, BytesMut),
    /// The connection from this address, with this number, closed (a new connection
    /// from the same address may be open already).
    Closed(SocketAddr, u64),
}

/// One ICE-TCP connection: frames in to the relay, the relay's packets out, framed.
pub(super) async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    number: u64,
    mut out: mpsc::Receiver<BytesMut>,
    relay: mpsc::Sender<TcpIn>,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.split();
    let mut deframer = Deframer::default();
    let mut buf = vec![0u8; 4096];
    let mut first = true;
    loop {
        tokio::select! {
            r = tokio::time::timeout(TCP_IDLE, reader.read(&mut buf)) => {
                let n = match r {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => break,
                };
                deframer.push(&buf[..n]);
                while let Some(packet) = deframer.next_packet() {
                    // RFC 6544: a connection starts with a connectivity check.
                    if std::mem::take(&mut first) && classify(&packet) != Kind::Stun {
                        tracing::debug!(peer = %crate::pii::Pii(peer), "ICE-TCP connection closed: its first packet is not STUN");
                        let _ = relay.send(TcpIn::Closed(peer, number)).await;
                        return;
                    }
                    if relay.send(TcpIn::Packet(peer, packet)).await.is_err() {
                        return;
                    }
                }
            }
            packet = out.recv() => {
                let Some(packet) = packet else { break };
                let Ok(framed) = frame(&packet) else { continue };
                if writer.write_all(&framed).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = relay.send(TcpIn::Closed(peer, number)).await;
}
