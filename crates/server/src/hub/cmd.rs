//! What the router asks of the hub ([`Cmd`]), and what it answers a connection that
//! attaches or a link participant let in.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use tokio::sync::{mpsc, oneshot};

use super::{Out, Outbox};
use crate::calls::{Client, MemberKey};

pub(super) type Reply1 = oneshot::Sender<Result<(), p::ProtocolError>>;

/// A desk's or interpreter's attached connection: was its session taken back, and the
/// token for its next resume.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Attached {
    /// Whether it resumed its session.
    pub resumed: bool,
    /// The token to resume with next time.
    pub resume_token: String,
}

/// A link participant let in.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct MemberIn {
    /// How they are reached.
    pub member: MemberKey,
    /// Whether they came back to their place.
    pub resumed: bool,
    /// The token to come back with after a drop.
    pub resume_token: String,
}

/// What the router asks of the hub.
#[derive(Debug)]
pub enum Cmd {
    /// A desk's or interpreter's connection `conn` opened, with its hello's `resume` and
    /// `last_seq`.
    Attach {
        /// Who.
        client: Client,
        /// The connection.
        conn: u64,
        /// Its outbox.
        outbox: Outbox,
        /// The hello's resume token.
        resume: Option<String>,
        /// The hello's last event number.
        last_seq: Option<u64>,
        /// The answer.
        reply: oneshot::Sender<Attached>,
    },
    /// That connection closed after writing event `written`; `ended` when its session ends
    /// with it (signed out, credential revoked or expired).
    Detach {
        /// Who.
        client: Client,
        /// The connection.
        conn: u64,
        /// The last event number it wrote.
        written: u64,
        /// The session ends too.
        ended: bool,
    },
    /// A desk's command.
    Desk {
        /// The desk.
        desk: i64,
        /// Its tenant.
        tenant: i64,
        /// The command.
        cmd: p::DeskCommand,
        /// The answer.
        reply: Reply1,
    },
    /// An interpreter's command.
    Interpreter {
        /// Who.
        id: i64,
        /// The command.
        cmd: p::InterpreterCommand,
        /// The answer.
        reply: Reply1,
    },
    /// Someone opens an invite link (or comes back with their resume token).
    Join {
        /// The link's token.
        token: String,
        /// Their resume token, if coming back.
        resume: Option<String>,
        /// Their connection.
        conn: u64,
        /// Its outbox.
        outbox: mpsc::Sender<Out<p::ResidentEvent>>,
        /// The answer.
        reply: oneshot::Sender<Result<MemberIn, p::ProtocolError>>,
    },
    /// A link participant's command.
    Member {
        /// Who.
        member: MemberKey,
        /// The command.
        cmd: p::ResidentCommand,
        /// The answer.
        reply: Reply1,
    },
    /// A link participant's connection `conn` closed: they may come back within the grace.
    MemberLeft {
        /// Who.
        member: MemberKey,
        /// The connection.
        conn: u64,
    },
    /// An invite link's language, kind and expiry, without using it.
    PeekInvite {
        /// The link's token.
        token: String,
        /// The answer.
        reply: oneshot::Sender<Option<crate::calls::InviteInfo>>,
    },
    /// The phone gateway redeems a PIN.
    RedeemPin {
        /// The digits.
        pin: String,
        /// The seat's fresh token and the call's language, if the PIN opens one.
        reply: oneshot::Sender<Option<(String, String)>>,
    },
    /// A phone gateway's connection is attached, or (`None`) gone.
    Gateway {
        /// The connection.
        conn: u64,
        /// Its outbox.
        outbox: Option<mpsc::Sender<Out<p::GatewayEvent>>>,
    },
    /// A caller on a language line, put through by gateway connection `conn`.
    LineCall {
        /// The gateway's connection.
        conn: u64,
        /// The gateway's number for the caller.
        line: u64,
        /// The line's desk.
        desk: i64,
        /// The caller's language.
        language: String,
    },
    /// An interpreter reached by phone answered an offer by key.
    OfferAnswer {
        /// The offer.
        offer: u64,
        /// Accepted (1) or declined (2).
        accept: bool,
        /// Whether the offer is theirs now.
        reply: oneshot::Sender<bool>,
    },
    /// A line caller hung up.
    LineHangup {
        /// The gateway's connection.
        conn: u64,
        /// The caller.
        line: u64,
    },
    /// The phone gateway could not place a call.
    DialFailed {
        /// The order's number.
        dial: u64,
        /// Why.
        reason: p::DialFailure,
    },
    /// A supervisor's snapshot of a tenant (all for an admin).
    Snapshot {
        /// The tenant.
        tenant: Option<i64>,
        /// The answer.
        reply: oneshot::Sender<p::SupervisorEvent>,
    },
    /// A change to the directory, already stored.
    Directory {
        /// The change.
        change: crate::calls::DirectoryChange,
        /// The answer.
        reply: Reply1,
    },
    /// A change to the bookings, already stored; the answer is the interpreter held.
    Booking {
        /// The change.
        change: crate::calls::BookingChange,
        /// The answer.
        reply: oneshot::Sender<Result<Option<i64>, p::ProtocolError>>,
    },
    /// A coordinator offers a waiting request to an interpreter they choose.
    Assign {
        /// Their municipality (`None`: an admin).
        scope: Option<i64>,
        /// The request.
        request: u64,
        /// The interpreter.
        interpreter: i64,
        /// The answer.
        reply: Reply1,
    },
    /// End a client's session now and close its connection (its credential was revoked).
    Kick {
        /// Who.
        client: Client,
    },
    /// What a centre's standing link shows, with the free slots of a language at its
    /// online desk.
    Centre {
        /// The municipality.
        tenant: i64,
        /// Its online desk.
        desk: i64,
        /// The language whose free slots are wanted.
        language: Option<d::LanguageId>,
        /// The answer.
        reply: oneshot::Sender<crate::calls::CentreView>,
    },
    /// A resident from a centre's standing link asks to talk now at its online desk.
    OnlineCall {
        /// The online desk.
        desk: i64,
        /// Their language.
        language: String,
        /// The hash of their link's token.
        token_hash: String,
        /// The answer.
        reply: Reply1,
    },
    /// A resident from a standing link stops waiting.
    OnlineWithdraw {
        /// The hash of their link's token.
        token_hash: String,
        /// The answer.
        reply: Reply1,
    },
    /// A coordinator's notice, already stored, for these interpreters' consoles.
    Notice {
        /// The interpreters.
        to: Vec<i64>,
        /// The event.
        notice: p::InterpreterEvent,
    },
    /// Stop taking requests (draining before shutdown).
    Drain,
    /// The cluster's nodes up now (each present with its relay), and the relays
    /// draining (ADR 0022).
    Nodes {
        /// Up.
        up: Vec<u64>,
        /// Draining.
        draining: Vec<u64>,
    },
    /// How many calls are live.
    LiveCalls {
        /// The answer.
        reply: oneshot::Sender<usize>,
    },
}

impl Cmd {
    /// Whether the hub changes its connections when it takes this command (before the
    /// core hears of it): such a command starts a round of its own.
    pub(super) fn changes_connections(&self) -> bool {
        matches!(
            self,
            Cmd::Attach { .. }
                | Cmd::Detach { .. }
                | Cmd::Join { .. }
                | Cmd::MemberLeft { .. }
                | Cmd::Gateway { .. }
                | Cmd::Kick { .. }
                | Cmd::Nodes { .. }
        )
    }
}
