//! What can go wrong for a client.

/// A client's failure.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection could not be made, or broke.
    #[error("connection: {0}")]
    Connection(String),
    /// Nothing came within the wait.
    #[error("nothing within the wait")]
    Timeout,
    /// The server closed the connection, with its close frame's code and reason if it
    /// sent one.
    #[error("closed by the server: {0:?}")]
    Closed(Option<(u16, String)>),
    /// The server refused the hello or a command.
    #[error("refused: {0}")]
    Refused(kakehashi_protocol::ProtocolError),
    /// A frame from the server that does not parse as the role's event.
    #[error("unexpected frame: {0}")]
    Unexpected(String),
    /// The WebRTC side failed.
    #[error("media: {0}")]
    Media(String),
}
