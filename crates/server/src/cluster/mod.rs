//! The router seam between the edge (HTTP and WebSocket) and the single writer: one async
//! method per thing the edge asks. The edge holds a [`SharedRouter`] and never touches the
//! hub, the call core or the engine. The only implementation today is in-process
//! ([`Local`], a channel to the hub's task); cluster mode adds one over Redis behind the
//! same trait, where the writer may be another node (ADR 0020): `keys` names every Redis
//! key, `lease` elects the writer with a fencing token.

mod bridge;
mod edits;
pub mod journal;
pub mod keys;
pub mod lease;
mod local;
pub mod node;
pub mod orders;
pub mod relays;
mod remote;
pub mod wire;

use std::sync::Arc;

use kakehashi_protocol as p;
use tokio::sync::mpsc;

pub use edits::{BookingEdit, DirectoryEdit};
pub use local::Local;
pub use remote::Remote;

use crate::calls::{Client, InviteInfo, MemberKey};
use crate::hub::{Attached, MemberIn, Out, Outbox};

/// The writer cannot be reached (the server is stopping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the server is stopping")]
pub struct Unavailable;

impl From<Unavailable> for p::ProtocolError {
    fn from(_: Unavailable) -> p::ProtocolError {
        p::ProtocolError { code: p::ErrorCode::ShuttingDown, message: "the server is stopping".into() }
    }
}

/// Everything the edge asks of the writer.
#[async_trait::async_trait]
pub trait Router: Send + Sync + std::fmt::Debug + 'static {
    /// A desk's or interpreter's connection opened with its hello's `resume` and
    /// `last_seq`; events for it go to `outbox`.
    async fn attach(
        &self,
        client: Client,
        conn: u64,
        outbox: Outbox,
        resume: Option<String>,
        last_seq: Option<u64>,
    ) -> Result<Attached, Unavailable>;

    /// That connection closed after writing event `written`; `ended` when the session
    /// ends with it (signed out, revoked, expired).
    async fn detach(&self, client: Client, conn: u64, written: u64, ended: bool);

    /// A desk's command.
    async fn desk(&self, desk: i64, tenant: i64, cmd: p::DeskCommand) -> Result<(), p::ProtocolError>;

    /// An interpreter's command.
    async fn interpreter(&self, id: i64, cmd: p::InterpreterCommand) -> Result<(), p::ProtocolError>;

    /// Someone opens an invite link (or comes back with their resume token).
    async fn join(
        &self,
        token: String,
        resume: Option<String>,
        conn: u64,
        outbox: mpsc::Sender<Out<p::ResidentEvent>>,
    ) -> Result<MemberIn, p::ProtocolError>;

    /// A link participant's command.
    async fn member(&self, member: MemberKey, cmd: p::ResidentCommand) -> Result<(), p::ProtocolError>;

    /// A link participant's connection closed.
    async fn member_left(&self, member: MemberKey, conn: u64);

    /// An invite link's language and expiry, without using it.
    async fn peek_invite(&self, token: String) -> Result<Option<InviteInfo>, Unavailable>;

    /// The phone gateway redeems a PIN: the seat's fresh token and its call's language.
    async fn redeem_pin(&self, pin: String) -> Result<Option<(String, String)>, Unavailable>;

    /// A phone gateway's connection `conn` is attached (with its outbox) or gone (`None`):
    /// orders to dial go to the gateways attached.
    async fn gateway(&self, conn: u64, outbox: Option<mpsc::Sender<Out<p::GatewayEvent>>>);

    /// The phone gateway could not place call `dial`.
    /// A caller on a language line, put through by gateway connection `conn`.
    async fn line_call(&self, conn: u64, line: u64, desk: i64, language: String);

    /// An interpreter reached by phone answered an offer: whether it is theirs now.
    async fn offer_answer(&self, offer: u64, accept: bool) -> Result<bool, Unavailable>;

    /// A line caller hung up.
    async fn line_hangup(&self, conn: u64, line: u64);

    async fn dial_failed(&self, dial: u64, reason: p::DialFailure);

    /// A supervisor's snapshot of a tenant (all for an admin).
    async fn snapshot(&self, tenant: Option<i64>) -> Result<p::SupervisorEvent, Unavailable>;

    /// A change to the directory, already stored.
    async fn directory(&self, edit: DirectoryEdit) -> Result<(), p::ProtocolError>;

    /// A change to the bookings, already stored; the interpreter a booking holds.
    async fn booking(&self, edit: BookingEdit) -> Result<Option<i64>, p::ProtocolError>;

    /// A resident from a centre's standing link asks to talk now at its online `desk`;
    /// `token_hash` is their link's.
    async fn online_call(&self, desk: i64, language: String, token_hash: String) -> Result<(), p::ProtocolError>;

    /// A resident from a standing link stops waiting; `token_hash` is their link's.
    async fn online_withdraw(&self, token_hash: String) -> Result<(), p::ProtocolError>;

    /// A coordinator's notice (stored) for these interpreters' consoles.
    async fn notice(&self, to: Vec<i64>, notice: p::InterpreterEvent);

    /// What a centre's standing link shows: `tenant`'s languages, whether it is open,
    /// and the free slots of `language` at its online `desk`.
    async fn centre(
        &self,
        tenant: i64,
        desk: i64,
        language: Option<kakehashi_dispatch::LanguageId>,
    ) -> Result<crate::calls::CentreView, Unavailable>;

    /// A coordinator of `scope` (`None`: an admin) offers a waiting request to an
    /// interpreter they choose.
    async fn assign(&self, scope: Option<i64>, request: u64, interpreter: i64) -> Result<(), p::ProtocolError>;

    /// End a client's session and close its connection (its credential was revoked).
    async fn kick(&self, client: Client);

    /// Stop taking requests.
    async fn drain(&self);

    /// Calls live now.
    async fn live_calls(&self) -> Result<usize, Unavailable>;

    /// Whether the writer runs in this process (not an edge's router).
    fn writes_here(&self) -> bool {
        true
    }

    /// Whether the writer can be reached (an edge's `/readyz`); why not.
    fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The router as the edge holds it.
pub type SharedRouter = Arc<dyn Router>;
