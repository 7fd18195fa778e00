//! What happens, for the call core to act on ([`Input`]).

use kakehashi_protocol as p;

use super::{BookingChange, CallId, Client, DirectoryChange, LineKey, MemberKey};

/// Something that happened, for the core to act on. The writer's journal holds them as
/// they were applied (ADR 0021).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Input {
    /// A desk's or an interpreter's connection is attached; `resumed` says whether it
    /// took back its session (the shell checked [`crate::calls::Core::may_resume`]).
    Attached {
        /// Who.
        client: Client,
        /// Whether it resumed.
        resumed: bool,
        /// The hash of the token it resumes with next.
        resume_hash: String,
    },
    /// Its connection is gone: it is held for the grace and may resume.
    Detached {
        /// Who.
        client: Client,
    },
    /// Its session ends now: it signed out, its credential was revoked or expired.
    Ended {
        /// Who.
        client: Client,
    },
    /// A desk's command.
    Desk {
        /// The desk.
        desk: i64,
        /// Its tenant.
        tenant: i64,
        /// The command.
        cmd: p::DeskCommand,
    },
    /// An interpreter's command.
    Interpreter {
        /// The interpreter.
        id: i64,
        /// The command.
        cmd: p::InterpreterCommand,
    },
    /// Someone opens an invite link, or comes back with their resume token.
    Join {
        /// The hash of the link's token.
        token_hash: String,
        /// The hash of the resume token they bring, if any.
        resume_hash: Option<String>,
        /// The hash of the resume token they get now.
        new_resume_hash: String,
    },
    /// A link participant's command.
    Member {
        /// Who.
        member: MemberKey,
        /// The command.
        cmd: p::ResidentCommand,
    },
    /// A link participant's connection dropped: their place is held for the grace.
    MemberDropped {
        /// Who.
        member: MemberKey,
    },
    /// The phone gateway could not place a call it was asked to.
    DialFailed {
        /// The order's number.
        dial: u64,
        /// Why.
        reason: p::DialFailure,
    },
    /// A caller on a language line, put through by a gateway's connection.
    LineCall {
        /// The caller, as the gateway knows them.
        key: LineKey,
        /// The line's desk.
        desk: i64,
        /// The caller's language.
        language: String,
    },
    /// A line caller hung up.
    LineHangup {
        /// The caller.
        key: LineKey,
    },
    /// Whether any phone gateway is connected now (interpreters reached by phone are
    /// available while one is).
    Gateways {
        /// One is.
        up: bool,
    },
    /// An interpreter reached by phone answered an offer by key: [`Reply::Taken`].
    OfferAnswer {
        /// The offer.
        offer: u64,
        /// 1 (accept) or 2 (decline).
        accept: bool,
    },
    /// A gateway's connection is gone (its line callers with it).
    GatewayGone {
        /// The connection.
        conn: u64,
    },
    /// The media relay reports.
    Relay(crate::media::Report),
    /// The nodes whose relays are up (cluster mode: from their presence in Redis), and
    /// those of them draining (no new call's media goes there).
    MediaNodes {
        /// Up.
        up: Vec<u64>,
        /// Draining.
        draining: Vec<u64>,
    },
    /// A call record was written (answered calls: the desk may now give its outcome).
    Recorded {
        /// The call.
        call: CallId,
        /// The record's id.
        id: i64,
    },
    /// A change to the directory, already stored.
    Directory(DirectoryChange),
    /// A change to the bookings, already stored.
    Booking(BookingChange),
    /// A coordinator of `scope` (`None`: an admin) offers a waiting request to an
    /// interpreter they choose.
    Assign {
        /// Their municipality.
        scope: Option<i64>,
        /// The request.
        request: u64,
        /// The interpreter.
        interpreter: i64,
    },
    /// A resident from a centre's standing link asks to talk now, at its online desk.
    OnlineCall {
        /// The online desk.
        desk: i64,
        /// Their language.
        language: String,
        /// The hash of their link's token.
        token_hash: String,
    },
    /// A resident from a standing link stops waiting (the request is abandoned).
    OnlineWithdraw {
        /// The hash of their link's token.
        token_hash: String,
    },
    /// A coordinator's notice, already stored, for these interpreters' consoles.
    Notice {
        /// The interpreters it is for.
        to: Vec<i64>,
        /// The event.
        notice: p::InterpreterEvent,
    },
    /// The phone gateway redeems a PIN a caller keyed: [`Reply::Redeemed`].
    RedeemPin {
        /// The PIN.
        pin: String,
    },
    /// A new writer took over from this state (restored and replayed): every
    /// connection, media leg and phone gateway of the writer that is gone is gone.
    Takeover,
    /// Stop taking requests (draining before shutdown).
    Drain,
    /// Time passed: the engine's timers, positions, graces and expiries.
    Tick,
}
