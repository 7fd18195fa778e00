//! The signalling protocol between kakehashi's clients (desk tablet, interpreter console,
//! resident page, supervisor wallboard, phone gateway) and its server: JSON text frames over one
//! WebSocket per client.
//!
//! Every connection starts with a [`Hello`] from the client (protocol version and
//! credential) answered by a `welcome`. From then on the client sends its role's
//! command enum and receives its role's event enum, each internally tagged by `"type"`,
//! in a [`Sequenced`] envelope that may carry the event's number. Unknown fields in a
//! command are refused, so a typo is an error and not a silent default; clients ignore
//! unknown fields in events, which the server may add within a protocol version.
//!
//! `proto/schema/*.json` holds the JSON Schema of every enum, generated from these types
//! by [`schemas`]; a test fails when the committed files are stale. `proto/README.md` is
//! the guide, with the message sequence of every flow.

mod close;
mod common;
mod desk;
mod gateway;
mod interpreter;
mod resident;
mod supervisor;

pub use close::{CloseReason, READ_LIMIT_BYTES};
pub use common::*;
pub use desk::*;
pub use gateway::*;
pub use interpreter::*;
pub use resident::*;
pub use supervisor::*;

/// The protocol version this crate speaks. A client sending another gets
/// `error { code: "protocol_version" }` and the connection closes.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest text frame a server accepts, in bytes. SDP of a three-way call fits easily.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Every schema by file name, for `proto/schema/`.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn of<T: schemars::JsonSchema>() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    vec![
        ("hello.json", of::<Hello>()),
        ("desk-command.json", of::<DeskCommand>()),
        ("desk-event.json", with_seq(of::<DeskEvent>())),
        ("interpreter-command.json", of::<InterpreterCommand>()),
        ("interpreter-event.json", with_seq(of::<InterpreterEvent>())),
        ("resident-command.json", of::<ResidentCommand>()),
        ("resident-event.json", of::<ResidentEvent>()),
        ("supervisor-command.json", of::<SupervisorCommand>()),
        ("supervisor-event.json", of::<SupervisorEvent>()),
        ("gateway-command.json", of::<GatewayCommand>()),
        ("gateway-event.json", of::<GatewayEvent>()),
    ]
}

/// An event as the server sends it: the event's JSON object with its sequence number
/// `seq` first, or without one. Desks' and interpreters' events carry numbers, rising
/// by one per event the server sends that client across its resumes; `welcome` and the
/// `error` answers to commands have none, nor do residents' and supervisors' events. A
/// client keeps the highest it has seen and gives it as `last_seq` when it resumes.
///
/// Every frame a client receives parses as `Sequenced<E>` of its role's event enum.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sequenced<E> {
    /// The event's number, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The event.
    #[serde(flatten)]
    pub event: E,
}

impl<E> Sequenced<E> {
    /// A numbered event.
    pub fn numbered(seq: u64, event: E) -> Sequenced<E> {
        Sequenced { seq: Some(seq), event }
    }

    /// An event without a number.
    pub fn plain(event: E) -> Sequenced<E> {
        Sequenced { seq: None, event }
    }
}

/// A numbered event's JSON text: `{"seq":7,"type":...}`.
pub fn sequenced<E: serde::Serialize>(seq: u64, event: &E) -> serde_json::Result<String> {
    serde_json::to_string(&Sequenced::numbered(seq, event))
}

/// The schema of a sequenced event enum: every variant may carry `seq` (see
/// [`sequenced`]).
fn with_seq(mut schema: serde_json::Value) -> serde_json::Value {
    let seq = serde_json::json!({
        "description": "The event's sequence number (absent on `welcome` and on `error` answers to commands): give the highest seen as the `hello`'s `last_seq` when resuming.",
        "format": "uint64",
        "minimum": 0,
        "type": "integer"
    });
    for variant in schema.get_mut("oneOf").and_then(|v| v.as_array_mut()).into_iter().flatten() {
        if let Some(properties) = variant.get_mut("properties").and_then(|p| p.as_object_mut()) {
            properties.insert("seq".into(), seq.clone());
        }
    }
    schema
}

/// Parse one client frame into a command, with an error a client can act on.
pub fn parse<T: serde::de::DeserializeOwned>(frame: &str) -> Result<T, ProtocolError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(ProtocolError {
            code: ErrorCode::TooLarge,
            message: format!("frame of {} bytes; the limit is {MAX_FRAME_BYTES}", frame.len()),
        });
    }
    serde_json::from_str(frame).map_err(|e| {
        let text = e.to_string();
        let code = if e.is_syntax() || e.is_eof() {
            ErrorCode::BadJson
        } else if text.starts_with("unknown variant") && unknown_type(frame, &text) {
            ErrorCode::UnknownType
        } else {
            ErrorCode::InvalidField
        };
        ProtocolError { code, message: text }
    })
}

/// Whether an "unknown variant" error is about the frame's `type` (not a nested value,
/// such as a document's `mime`).
fn unknown_type(frame: &str, message: &str) -> bool {
    let variant = message.split('`').nth(1).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(frame)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(|t| t == variant))
        .unwrap_or(true)
}
