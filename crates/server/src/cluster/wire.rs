//! What edges and the writer say to each other through Redis (ADR 0020 point 4): an edge
//! appends [`Up`] to the command stream, one per [`Router`](super::Router) call; the
//! writer publishes [`Down`] on the asking node's channel: the answer to a call, or an
//! event (or close) for one of the node's connections. A relay's reports go up the stream
//! too (its orders come on a stream of their own, `super::orders`). JSON, like the
//! clients' protocol.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use serde::{Deserialize, Serialize};

use crate::calls::{Client, InviteInfo, Inviter, MemberKey};
use crate::hub::Out;

/// A call of the router, as an edge sends it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Up {
    /// The edge's number for the call (its answer carries it).
    pub id: u64,
    /// The node asking: its answers and its connections' events go to its channel.
    pub node: u64,
    /// What it asks.
    pub op: Op,
}

/// Each router call with its arguments (connection numbers are cluster-wide: the node's
/// number in the high bits, see [`global_conn`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// [`Router::attach`](super::Router::attach).
    Attach { client: Client, conn: u64, resume: Option<String>, last_seq: Option<u64> },
    /// [`Router::detach`](super::Router::detach).
    Detach { client: Client, conn: u64, written: u64, ended: bool },
    /// [`Router::desk`](super::Router::desk).
    Desk { desk: i64, tenant: i64, cmd: p::DeskCommand },
    /// [`Router::interpreter`](super::Router::interpreter).
    Interpreter { id: i64, cmd: p::InterpreterCommand },
    /// [`Router::join`](super::Router::join).
    Join { token: String, resume: Option<String>, conn: u64 },
    /// [`Router::member`](super::Router::member).
    Member { member: MemberKey, cmd: p::ResidentCommand },
    /// [`Router::member_left`](super::Router::member_left).
    MemberLeft { member: MemberKey, conn: u64 },
    /// [`Router::peek_invite`](super::Router::peek_invite).
    PeekInvite { token: String },
    /// [`Router::redeem_pin`](super::Router::redeem_pin).
    RedeemPin { pin: String },
    /// [`Router::gateway`](super::Router::gateway): attached or gone.
    Gateway { conn: u64, attached: bool },
    /// [`Router::line_call`](super::Router::line_call).
    LineCall { conn: u64, line: u64, desk: i64, language: String },
    /// [`Router::offer_answer`](super::Router::offer_answer).
    OfferAnswer { offer: u64, accept: bool },
    /// [`Router::line_hangup`](super::Router::line_hangup).
    LineHangup { conn: u64, line: u64 },
    /// [`Router::dial_failed`](super::Router::dial_failed).
    DialFailed { dial: u64, reason: p::DialFailure },
    /// [`Router::snapshot`](super::Router::snapshot).
    Snapshot { tenant: Option<i64> },
    /// [`Router::directory`](super::Router::directory).
    Directory { edit: super::DirectoryEdit },
    /// [`Router::booking`](super::Router::booking).
    Booking { change: super::BookingEdit },
    /// [`Router::online_call`](super::Router::online_call).
    OnlineCall { desk: i64, language: String, token_hash: String },
    /// [`Router::online_withdraw`](super::Router::online_withdraw).
    OnlineWithdraw { token_hash: String },
    /// [`Router::notice`](super::Router::notice).
    Notice { to: Vec<i64>, notice: p::InterpreterEvent },
    /// [`Router::centre`](super::Router::centre); the language by its tag.
    Centre { tenant: i64, desk: i64, language: Option<String> },
    /// [`Router::assign`](super::Router::assign).
    Assign { scope: Option<i64>, request: u64, interpreter: i64 },
    /// [`Router::kick`](super::Router::kick).
    Kick { client: Client },
    /// The node's relay reports (ADR 0022), in the order it made them.
    Media { reports: Vec<crate::media::Report> },
}

impl Op {
    /// Whether the edge waits for an answer.
    pub fn answers(&self) -> bool {
        !matches!(
            self,
            Op::Detach { .. }
                | Op::MemberLeft { .. }
                | Op::Gateway { .. }
                | Op::LineCall { .. }
                | Op::LineHangup { .. }
                | Op::DialFailed { .. }
                | Op::Notice { .. }
                | Op::Kick { .. }
                | Op::Media { .. }
        )
    }
}

/// What the writer publishes on a node's channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "down", rename_all = "snake_case")]
pub enum Down {
    /// The answer to call `id`: `Ok` with the call's answer, or the protocol error.
    Reply { id: u64, answer: Result<serde_json::Value, p::ProtocolError> },
    /// An event or a close for connection `conn`.
    Out { conn: u64, out: WireOut },
}

/// A connection's [`Out`], with its event as JSON (the role's event enum).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "out", rename_all = "snake_case")]
pub enum WireOut {
    /// An event (numbered for desks and interpreters).
    Event { event: serde_json::Value },
    /// Close with this code ([`p::CloseReason::code`]).
    Close { code: u16 },
}

impl WireOut {
    /// The wire form of `out`.
    pub fn of<E: Serialize>(out: &Out<E>) -> Result<WireOut, serde_json::Error> {
        Ok(match out {
            Out::Event(event) => WireOut::Event { event: serde_json::to_value(event)? },
            Out::Close(reason) => WireOut::Close { code: reason.code() },
        })
    }

    /// Back to an [`Out`] of the connection's role.
    pub fn into_out<E: serde::de::DeserializeOwned>(self) -> Result<Out<E>, String> {
        match self {
            WireOut::Event { event } => serde_json::from_value(event).map(Out::Event).map_err(|e| e.to_string()),
            WireOut::Close { code } => {
                p::CloseReason::from_code(code).map(Out::Close).ok_or_else(|| format!("unknown close code {code}"))
            }
        }
    }
}

/// [`InviteInfo`] on the wire (its expiry in ms since the epoch).
#[derive(Debug, Serialize, Deserialize)]
pub struct InviteWire {
    language: String,
    party: p::Party,
    expires_at_ms: i64,
    from: Inviter,
    used: bool,
    starts_at_ms: Option<i64>,
    waiting: Option<u32>,
}

impl From<InviteInfo> for InviteWire {
    fn from(i: InviteInfo) -> InviteWire {
        InviteWire {
            language: i.language,
            party: i.party,
            expires_at_ms: i.expires_at.as_millis(),
            from: i.from,
            used: i.used,
            starts_at_ms: i.starts_at.map(d::Timestamp::as_millis),
            waiting: i.waiting,
        }
    }
}

impl From<InviteWire> for InviteInfo {
    fn from(i: InviteWire) -> InviteInfo {
        InviteInfo {
            language: i.language,
            party: i.party,
            expires_at: d::Timestamp::from_millis(i.expires_at_ms),
            from: i.from,
            used: i.used,
            starts_at: i.starts_at_ms.map(d::Timestamp::from_millis),
            waiting: i.waiting,
        }
    }
}

/// Bits of a cluster-wide connection number that are the edge's own number; the node's
/// number sits above them (the writer's own connections have node 0).
const CONN_BITS: u32 = 40;

/// The cluster-wide number of `node`'s connection `conn`.
pub fn global_conn(node: u64, conn: u64) -> u64 {
    (node << CONN_BITS) | (conn & ((1 << CONN_BITS) - 1))
}

/// The node a cluster-wide connection number belongs to.
pub fn node_of(conn: u64) -> u64 {
    conn >> CONN_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_goes_over_and_back() {
        let out: Out<p::InterpreterEvent> = Out::Event(p::Sequenced::numbered(
            7,
            p::InterpreterEvent::Error(p::ProtocolError { code: p::ErrorCode::InvalidField, message: "x".into() }),
        ));
        let wire = serde_json::to_string(&WireOut::of(&out).unwrap()).unwrap();
        let back: WireOut = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.into_out::<p::InterpreterEvent>().unwrap(), out);
        let closed: Out<p::DeskEvent> = Out::Close(p::CloseReason::Replaced);
        assert_eq!(WireOut::of(&closed).unwrap().into_out::<p::DeskEvent>().unwrap(), closed);
        assert!(WireOut::Close { code: 1234 }.into_out::<p::DeskEvent>().is_err());
    }

    #[test]
    fn connection_numbers_keep_their_node() {
        let conn = global_conn(3, 42);
        assert_eq!(node_of(conn), 3);
        assert_eq!(conn & 0xff, 42);
        assert_eq!(node_of(41), 0);
    }

    #[test]
    fn calls_go_over_and_back() {
        let up = Up { id: 1, node: 2, op: Op::Kick { client: Client::Desk(5) } };
        let text = serde_json::to_string(&up).unwrap();
        let back: Up = serde_json::from_str(&text).unwrap();
        assert!(matches!(back.op, Op::Kick { client: Client::Desk(5) }));
        assert!(!back.op.answers());
        assert!(serde_json::from_str::<Up>("{\"id\":1}").is_err());
    }

    #[test]
    fn relay_orders_and_reports_go_over_and_back() {
        use crate::media::{Order, Report};
        use kakehashi_relay::{LegEvent, LegId, LegStats};
        let order = Order::Offer { call: 3, tag: 4, participant: 1, sdp: "v=0\r\n".into() };
        let back: Order = serde_json::from_slice(&serde_json::to_vec(&order).unwrap()).unwrap();
        assert!(matches!(back, Order::Offer { call: 3, tag: 4, participant: 1, .. }));
        let reports = vec![
            Report::Answered { call: 3, tag: 4, result: Ok((LegId(9), "v=0".into())), refused: vec!["video"] },
            Report::Leg { leg: LegId(9), event: LegEvent::Offer("v=0".into()) },
            Report::Stats { leg: LegId(9), stats: LegStats::default() },
            Report::Removed { leg: LegId(9), last: None },
        ];
        let up = Up { id: 1, node: 2, op: Op::Media { reports } };
        let back: Up = serde_json::from_slice(&serde_json::to_vec(&up).unwrap()).unwrap();
        let Op::Media { reports } = back.op else { panic!("media") };
        assert_eq!(reports.len(), 4);
        assert!(matches!(&reports[0], Report::Answered { refused, .. } if refused == &["video"]));
        assert!(!Op::Media { reports: vec![] }.answers());
    }
}
