//! `kakehashi serve`: open the store, seed the demo if asked, start the hub, listen.

use std::time::Duration;

use tokio::sync::watch;

use crate::app::{App, run};
use crate::config::Config;
use crate::hub::{Clock, Hub, HubSettings};
use crate::metrics::Metrics;
use crate::store::Store;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Seeding the demo.
    #[error("demo: {0}")]
    Demo(#[from] crate::auth::AuthError),
    /// The process may not open the file descriptors the configuration needs.
    #[error(transparent)]
    Descriptors(#[from] crate::listener::DescriptorShortage),
    /// Binding or serving.
    #[error("listen on {addr}: {source}")]
    Io {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Run the server until `shutdown` resolves, then drain and return.
pub async fn serve(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Io { addr: config.listen, source })?;
    serve_on(listener, config, shutdown).await
}

/// Run on a bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Io { addr: config.listen, source })?;
    let descriptors = crate::listener::descriptor_budget(config.descriptors_needed())?;
    tracing::debug!(descriptors, "file descriptor limit");
    let store = Store::open(&config.data_dir).await?;
    if config.demo {
        if store.is_empty().await? {
            let creds = crate::demo::seed(&store).await?;
            print_demo(&config, addr, &creds);
        } else {
            eprintln!(
                "kakehashi: the demo directory is already in {}; its credentials were printed when it was seeded",
                config.data_dir.display()
            );
        }
    }
    let directory = store.directory().await?;
    let metrics = Metrics::new();
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
    let advertised = config.media_public.unwrap_or(media_addr);
    let tcp = match tcp {
        Some(listener) => {
            let at = config.media_tcp_listen.unwrap_or(media_addr);
            let bound = listener.local_addr().map_err(|source| ServeError::Io { addr: at, source })?;
            let public = std::net::SocketAddr::new(config.media_public.map_or(bound.ip(), |p| p.ip()), bound.port());
            tracing::info!(%bound, %public, "media relay accepting ICE-TCP");
            Some((listener, public))
        }
        None => None,
    };
    let (media_tx, media_rx) = tokio::sync::mpsc::channel(1024);
    let settings = HubSettings {
        grace: Duration::from_secs(u64::from(config.resume_grace_secs)),
        heartbeat: Duration::from_secs(u64::from(config.heartbeat_secs)),
        invite_ttl: Duration::from_secs(u64::from(config.invite_ttl_secs)),
        public_base: config.public_base(addr),
        media: Some(media_tx),
    };
    let (hub, tx, rx) = Hub::new(&directory, store.clone(), metrics.clone(), Clock::new(), settings);
    let hub_task = tokio::spawn(hub.run(rx));
    let sockets = crate::media::MediaSockets { udp: media_socket, advertised, tcp };
    let media_task = tokio::spawn(crate::media::run(sockets, media_rx, tx.clone(), metrics.clone()));
    let (closing_tx, closing_rx) = watch::channel(false);
    tracing::info!(%media_addr, %advertised, "media relay listening");
    tracing::info!(%addr, tenants = directory.tenants.len(), interpreters = directory.interpreters.len(), "kakehashi listening");
    let app = App::new(config, store, metrics, tx, closing_rx);
    let result = run(listener, app, closing_tx, shutdown).await;
    hub_task.abort();
    media_task.abort();
    result.map_err(|source| ServeError::Io { addr, source })
}

fn print_demo(config: &Config, addr: std::net::SocketAddr, creds: &crate::demo::DemoCredentials) {
    let base = config.public_base(addr);
    let mut out = String::new();
    out.push_str("\nkakehashi demo: Asahi City's centre, serving the city, Minami Town and Kita Town\n\n");
    out.push_str(&format!(
        "  health      {base}/healthz\n  metrics     {base}/metrics\n  websocket   {}/ws\n\n",
        base.replacen("http", "ws", 1)
    ));
    out.push_str("  Desks enrol once: POST /api/enrol {\"code\": \"<code>\"} gives the device token.\n");
    for (name, code) in &creds.desks {
        out.push_str(&format!("    {code}   {name}\n"));
    }
    out.push_str("\n  Interpreters and supervisors sign in: POST /api/sign-in {\"role\": \"interpreter\" | \"staff\", \"login\", \"password\"}\n");
    for (login, password) in creds.interpreters.iter().step_by(6).chain(creds.supervisors.iter()) {
        out.push_str(&format!("    {login:<22} {password}\n"));
    }
    out.push_str(&format!("    (all {} interpreters: password is demo-<login>)\n", creds.interpreters.len()));
    eprintln!("{out}");
}

/// Bytes of kernel buffer asked for the relay's socket each way (the kernel caps it at
/// `net.core.rmem_max` / `wmem_max`). Every participant's packets arrive on this one
/// socket; the default (about 200 KiB, some 10 ms at 150 Mbit/s) overflows as soon as the
/// process is not scheduled for a moment.
const MEDIA_SOCKET_BUFFER: usize = 8 * 1024 * 1024;

/// The relay's UDP socket, with large buffers.
fn media_socket(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::UdpSocket> {
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
