//! A client's frames sorted before anything acts on them: a command, a refusal (with the
//! code the client can act on), a sign of life, or the end. Each connection has two
//! budgets: frames of commands, and bytes of document parts (a photo's parts come many at
//! once and would exhaust the frame budget).

use axum::extract::ws::Message;
use kakehashi_protocol as p;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

/// A token bucket: `rate` tokens a second, bursts of twice that.
#[derive(Debug)]
pub struct Bucket {
    tokens: f64,
    rate: f64,
    last: Instant,
}

impl Bucket {
    /// Full.
    pub fn new(rate: u32) -> Bucket {
        Bucket { tokens: f64::from(rate) * 2.0, rate: f64::from(rate), last: Instant::now() }
    }

    /// Take `cost` tokens if there are that many.
    pub fn take(&mut self, cost: f64) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

/// Bytes of document parts a connection may send per second (bursts of twice that): a
/// phone photo of a few megabytes passes in a second or two.
pub const DOCUMENT_BYTES_PER_SEC: u32 = 4 * 1024 * 1024;

/// A connection's two budgets.
#[derive(Debug)]
pub struct Limits {
    frames: Bucket,
    document_bytes: Bucket,
}

impl Limits {
    /// `frames_per_sec` commands a second.
    pub fn new(frames_per_sec: u32) -> Limits {
        Limits { frames: Bucket::new(frames_per_sec), document_bytes: Bucket::new(DOCUMENT_BYTES_PER_SEC) }
    }
}

/// A role's command, as the budgets see it.
pub trait Command: DeserializeOwned + Send + 'static {
    /// The size of the document part it carries, if it is one.
    fn document_bytes(&self) -> Option<usize> {
        None
    }
}

impl Command for p::DeskCommand {
    fn document_bytes(&self) -> Option<usize> {
        match self {
            p::DeskCommand::Document { document, .. } => Some(document.data.len()),
            _ => None,
        }
    }
}

impl Command for p::InterpreterCommand {
    fn document_bytes(&self) -> Option<usize> {
        match self {
            p::InterpreterCommand::Document { document, .. } => Some(document.data.len()),
            _ => None,
        }
    }
}

impl Command for p::ResidentCommand {
    fn document_bytes(&self) -> Option<usize> {
        match self {
            p::ResidentCommand::Document { document } => Some(document.data.len()),
            _ => None,
        }
    }
}

impl Command for p::SupervisorCommand {}

impl Command for p::GatewayCommand {}

/// A role's event enum: how it carries an error.
pub trait RoleEvent: Serialize + Send + 'static {
    /// An error answer.
    fn error(e: p::ProtocolError) -> Self;
}

impl RoleEvent for p::DeskEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::DeskEvent::Error(e)
    }
}

impl RoleEvent for p::InterpreterEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::InterpreterEvent::Error(e)
    }
}

impl RoleEvent for p::ResidentEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::ResidentEvent::Error(e)
    }
}

impl RoleEvent for p::SupervisorEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::SupervisorEvent::Error(e)
    }
}

impl RoleEvent for p::GatewayEvent {
    fn error(e: p::ProtocolError) -> Self {
        p::GatewayEvent::Error(e)
    }
}

/// What a frame from the client led to.
#[derive(Debug)]
pub enum Frame<C> {
    /// A command to carry out.
    Command(C),
    /// Refused, with the error to send back; the connection stays.
    Refused(p::ProtocolError),
    /// A ping or pong: the client is alive.
    Alive,
    /// The client closed, or the connection failed; `too_large` when it sent a frame
    /// over [`p::READ_LIMIT_BYTES`].
    Closed {
        /// Whether a frame too large to read ended it.
        too_large: bool,
    },
}

/// A connection's read error: whether it was a frame too large to read.
pub trait ReadError: std::fmt::Debug + Send + 'static {
    /// The client sent a frame over the read limit.
    fn too_large(&self) -> bool;
}

impl ReadError for axum::Error {
    fn too_large(&self) -> bool {
        use std::error::Error;
        self.source()
            .and_then(|e| e.downcast_ref::<tungstenite::Error>())
            .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
    }
}

/// Sort one frame: parse it, apply the budgets (document parts against the byte budget,
/// everything else, refusals included, against the frame budget).
pub fn frame<C: Command, E: ReadError>(msg: Option<Result<Message, E>>, limits: &mut Limits) -> Frame<C> {
    match msg {
        None | Some(Ok(Message::Close(_))) => Frame::Closed { too_large: false },
        Some(Err(e)) => Frame::Closed { too_large: e.too_large() },
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Frame::Alive,
        Some(Ok(Message::Binary(_))) => Frame::Refused(p::ProtocolError {
            code: p::ErrorCode::InvalidField,
            message: "binary frames are not part of the protocol".into(),
        }),
        Some(Ok(Message::Text(t))) => {
            let parsed = p::parse::<C>(&t);
            let allowed = match parsed.as_ref().ok().and_then(Command::document_bytes) {
                Some(bytes) => limits.document_bytes.take(bytes as f64),
                None => limits.frames.take(1.0),
            };
            if !allowed {
                return Frame::Refused(p::ProtocolError {
                    code: p::ErrorCode::RateLimited,
                    message: "too many messages; slow down".into(),
                });
            }
            match parsed {
                Ok(c) => Frame::Command(c),
                Err(e) => Frame::Refused(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Broken;

    impl ReadError for Broken {
        fn too_large(&self) -> bool {
            true
        }
    }

    #[test]
    fn frames_are_sorted_with_a_code_for_each_refusal() {
        let mut limits = Limits::new(5);
        let text = |s: &str| Some(Ok::<_, Broken>(Message::Text(s.to_string().into())));
        assert!(matches!(frame::<p::DeskCommand, _>(text(r#"{"type":"ping"}"#), &mut limits), Frame::Command(_)));
        let refused = |f: Frame<p::DeskCommand>| match f {
            Frame::Refused(e) => e.code,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(frame(text("nope"), &mut limits)), p::ErrorCode::BadJson);
        assert_eq!(refused(frame(text(r#"{"type":"fly"}"#), &mut limits)), p::ErrorCode::UnknownType);
        let big = format!(r#"{{"type":"ice","call":1,"candidate":"{}"}}"#, "a".repeat(p::MAX_FRAME_BYTES));
        assert_eq!(refused(frame(text(&big), &mut limits)), p::ErrorCode::TooLarge);
        let binary = Some(Ok::<_, Broken>(Message::Binary(vec![1u8].into())));
        assert_eq!(refused(frame(binary, &mut limits)), p::ErrorCode::InvalidField);
        // The budget: ten frames a burst, refusals included.
        for _ in 0..10 {
            let _ = frame::<p::DeskCommand, _>(text(r#"{"type":"ping"}"#), &mut limits);
        }
        assert_eq!(refused(frame(text(r#"{"type":"ping"}"#), &mut limits)), p::ErrorCode::RateLimited);
        assert!(matches!(frame::<p::DeskCommand, Broken>(None, &mut limits), Frame::Closed { too_large: false }));
        assert!(matches!(
            frame::<p::DeskCommand, Broken>(Some(Err(Broken)), &mut limits),
            Frame::Closed { too_large: true }
        ));
    }

    proptest::proptest! {
        /// Fuzz: any frame a client can send, text of any characters or bytes, to any
        /// role, is a command, a refusal with a code and a message, or a sign of life;
        /// never a panic, and never a closed connection.
        #[test]
        fn any_frame_is_sorted(
            text in "\\PC{0,300}",
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            fn check<C: Command + std::fmt::Debug>(m: Message) -> Result<(), proptest::test_runner::TestCaseError> {
                let mut limits = Limits::new(1000);
                match frame::<C, Broken>(Some(Ok(m)), &mut limits) {
                    Frame::Refused(e) => proptest::prop_assert!(!e.message.is_empty()),
                    Frame::Closed { .. } => proptest::prop_assert!(false, "a frame closed the connection"),
                    Frame::Command(_) | Frame::Alive => {}
                }
                Ok(())
            }
            for m in [
                Message::Text(text.clone().into()),
                Message::Text(String::from_utf8_lossy(&bytes).into_owned().into()),
                Message::Binary(bytes.clone().into()),
            ] {
                check::<p::DeskCommand>(m.clone())?;
                check::<p::InterpreterCommand>(m.clone())?;
                check::<p::ResidentCommand>(m.clone())?;
                check::<p::SupervisorCommand>(m)?;
            }
        }
    }
}
