//! This node's media relay, started from the configuration: one UDP socket for every
//! participant, and ICE-TCP on the same port number over TCP unless configured elsewhere
//! or off, on a thread of its own (`media`). A single node starts it with its hub; a
//! cluster node at its start, whatever its role (ADR 0022).

use std::net::SocketAddr;

use tokio::sync::mpsc;

use crate::config::Config;
use crate::media::{Order, Report};
use crate::metrics::Metrics;
use crate::serve::ServeError;

/// Orders queued for the relay.
pub const RELAY_ORDERS: usize = 1024;

/// Bind the relay's sockets as `config` says and start it, its legs numbered from
/// `legs_from`, its orders from `orders`, its reports into `reports` (as `media::Reports`
/// says). The task ends when the relay has (once the orders' sender is dropped).
pub async fn start(
    config: &Config,
    metrics: &Metrics,
    legs_from: u64,
    orders: mpsc::Receiver<Order>,
    reports: mpsc::Sender<Report>,
) -> Result<tokio::task::JoinHandle<()>, ServeError> {
    // The media relay: one UDP socket for every participant, and ICE-TCP on the same
    // port number over TCP, unless configured elsewhere or off. With port 0 the system
    // picks the UDP port, and that number can be taken over TCP (another listener, or an
    // outgoing connection's ephemeral port): then another is picked.
    let same_port = config.media_tcp && config.media_tcp_listen.is_none();
    let mut attempts = if same_port && config.media_listen.port() == 0 { 20 } else { 1 };
    let (media_socket, media_addr, tcp) = loop {
        attempts -= 1;
        let media_socket =
            media_socket(config.media_listen).map_err(|source| ServeError::Io { addr: config.media_listen, source })?;
        let media_addr =
            media_socket.local_addr().map_err(|source| ServeError::Io { addr: config.media_listen, source })?;
        if !config.media_tcp {
            break (media_socket, media_addr, None);
        }
        let at = config.media_tcp_listen.unwrap_or(media_addr);
        match tokio::net::TcpListener::bind(at).await {
            Ok(listener) => break (media_socket, media_addr, Some(listener)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempts > 0 => continue,
            Err(source) => return Err(ServeError::Io { addr: at, source }),
        }
    };
    let advertised = config.media_public_here().unwrap_or(media_addr);
    let tcp = match tcp {
        Some(listener) => {
            let at = config.media_tcp_listen.unwrap_or(media_addr);
            let bound = listener.local_addr().map_err(|source| ServeError::Io { addr: at, source })?;
            let public =
                std::net::SocketAddr::new(config.media_public_here().map_or(bound.ip(), |p| p.ip()), bound.port());
            tracing::info!(%bound, %public, "media relay accepting ICE-TCP");
            Some((listener, public))
        }
        None => None,
    };
    let sockets = crate::media::MediaSockets { udp: media_socket, advertised, tcp };
    let sink = crate::media::Reports::new(reports, metrics.clone());
    let task = crate::media::on_own_thread(sockets, orders, sink, metrics.clone(), legs_from)
        .map_err(|source| ServeError::Io { addr: media_addr, source })?;
    tracing::info!(%media_addr, %advertised, "media relay listening");
    Ok(task)
}

/// Bytes of kernel buffer asked for the relay's socket each way (the kernel caps it at
/// `net.core.rmem_max` / `wmem_max`). Every participant's packets arrive on this one
/// socket; the default (about 200 KiB, some 10 ms at 150 Mbit/s) overflows as soon as the
/// process is not scheduled for a moment.
const MEDIA_SOCKET_BUFFER: usize = 8 * 1024 * 1024;

/// The relay's UDP socket, with large buffers.
fn media_socket(addr: SocketAddr) -> std::io::Result<tokio::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(MEDIA_SOCKET_BUFFER) {
        tracing::warn!(error = %e, "media socket: receive buffer not enlarged");
    }
    if let Err(e) = socket.set_send_buffer_size(MEDIA_SOCKET_BUFFER) {
        tracing::warn!(error = %e, "media socket: send buffer not enlarged");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    tokio::net::UdpSocket::from_std(socket.into())
}
