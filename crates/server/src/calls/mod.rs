//! The call core, sans-I/O: every request a desk makes, the call it becomes, who takes
//! part in it, and the records it leaves. It owns the dispatch engine and drives it.
//!
//! Drive it like the engine: [`Core::handle`]`(now, input)` for everything that happens (a
//! client's command, a connection attached or lost, the relay's reports, a record written, a
//! second passed), then drain [`Core::poll_output`] until it is empty and act on each [`Output`]:
//! deliver an event, write a record and only then deliver what follows it, give the relay an
//! order, count a fact. [`Core::poll_timeout`] says when the engine next needs [`Input::Tick`] at
//! the latest; the shell also ticks once a second (graces, positions, links that expire).
//!
//! No tokio, no clock reads, no randomness of its own (tokens come from the [`Tokens`] it is
//! given), no locks, no I/O. The tests drive it on simulated time.
//!
//! A call has **participants**, each with a number of its own within the call and a kind
//! ([`p::Party`]): the desk (0, from the request on), the interpreter (1, once answered), and any
//! number of residents, guests and phones after them. Numbers are never reused within a call;
//! the relay's stream ids, the protocol's events and the web clients' tiles derive from them.

mod assign;
mod availability;
mod bookings;
mod by_phone;
mod call;
mod centre;
mod convert;
mod desk;
mod dial;
mod directory;
mod dispatch;
mod input;
mod interpreter;
mod journal;
mod line;
mod links;
mod media;
mod media_nodes;
mod media_state;
mod online;
mod records;
mod saved;
mod sessions;
mod snapshot;
mod takeover;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

pub use bookings::BookingChange;
pub use call::{Call, CallId, MemberKey, Participant, Quality, Remote, Who};
pub use centre::{CentreView, SLOT_LEAD_MS, SLOT_MINUTES};
pub use dial::dialable;
pub use directory::DirectoryChange;
pub use input::Input;
pub use journal::{JournalError, Tape};
pub use line::{LINE_WAITING_PER_DESK, LineKey};
pub use links::{InviteInfo, Inviter, Joined};
pub use media::{DocumentRoute, Legs};
pub use records::Recorded;
pub use saved::SavedError;
pub use sessions::Client;

use crate::store::CallRecord;

/// Where random tokens come from (invite links). The server uses the operating system's
/// generator; tests use a counter.
pub trait Tokens: Send {
    /// A fresh token, unguessable in production.
    fn token(&mut self) -> String;
}

/// The operating system's generator.
#[derive(Debug, Default)]
pub struct OsTokens;

impl Tokens for OsTokens {
    fn token(&mut self) -> String {
        crate::auth::new_token()
    }
}

/// The core's settings.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// How long a dropped client's (or link participant's) place is held.
    pub grace: Duration,
    /// How long an invite link works.
    pub invite_ttl: Duration,
    /// The base of invite links (`https://kakehashi.example`).
    pub public_base: String,
    /// Whether a media relay runs (without one, media commands are refused).
    pub media: bool,
    /// Requests a desk may have waiting at once.
    pub max_waiting_per_desk: usize,
    /// The number callers dial with a PIN, when the phone gateway is configured.
    pub phone_number: Option<String>,
    /// Whether the phone gateway can call out (desks' `dial_out`).
    pub dial_out: bool,
    /// This node's number: its relay's (a single node's is 0; in a cluster, media goes
    /// to the other nodes' relays first, `media_nodes.rs`).
    pub media_node: u64,
}

/// What [`Core::handle`] answers, beside the outputs.
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// Done.
    Done,
    /// A link participant is in.
    Joined(Joined),
    /// Whether an offer answered by phone is the interpreter's.
    Taken(bool),
    /// The interpreter a booking holds.
    Booked {
        /// Who.
        interpreter: i64,
    },
    /// A PIN redeemed: the seat's fresh token and its call's language; `None` when no
    /// open invite has that PIN.
    Redeemed(Option<(String, String)>),
}

/// An event on its way to someone.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Delivery {
    /// To a desk.
    Desk(i64, p::DeskEvent),
    /// To an interpreter.
    Interpreter(i64, p::InterpreterEvent),
    /// To a link participant.
    Member(MemberKey, p::ResidentEvent),
    /// To the phone gateway (any one connected).
    Gateway(p::GatewayEvent),
    /// To every phone gateway connected.
    Gateways(p::GatewayEvent),
    /// To the gateway connection that put a line caller through.
    Line(LineKey, p::GatewayEvent),
}

/// Who a connection is, as the shell keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Endpoint {
    /// A desk.
    Desk(i64),
    /// An interpreter.
    Interpreter(i64),
    /// A link participant.
    Member(MemberKey),
}

/// Something that happened, for the metrics.
#[derive(Clone, Debug, PartialEq)]
pub enum Fact {
    /// A request ended: its tenant's name, language and outcome.
    RequestEnded {
        /// The tenant's name.
        tenant: String,
        /// The language.
        language: String,
        /// answered, abandoned, expired or unserved.
        outcome: &'static str,
    },
    /// An interpreter answered after this wait.
    Answered {
        /// The language.
        language: String,
        /// The wait.
        waited: Duration,
    },
    /// An offer ended: accepted, declined, missed or rescinded.
    Offer(&'static str),
    /// A call's talk time.
    Talk(Duration),
    /// A participant's media reconnected.
    MediaReconnect(p::Party),
    /// The bandwidth policy paused video towards a participant.
    VideoPaused(p::Party),
    /// A leg's statistics moved from `before` to `now`.
    LegStats {
        /// Whose leg.
        party: p::Party,
        /// The previous statistics.
        before: Box<kakehashi_relay::LegStats>,
        /// The new ones.
        now: Box<kakehashi_relay::LegStats>,
    },
}

/// What the shell must do.
#[derive(Debug)]
pub enum Output {
    /// Send an event.
    Deliver(Delivery),
    /// Write this record under `key` (a record already written under it is found, not
    /// written again); once it is committed, hand [`Input::Recorded`] back and deliver
    /// `then`: nobody hears a request ended before its record exists.
    Record {
        /// The record.
        record: CallRecord,
        /// Its write key, the same however often it is ordered (a new writer orders
        /// again what the last one had not seen written).
        key: String,
        /// Its call.
        call: CallId,
        /// What to deliver once it is written.
        then: Vec<Delivery>,
    },
    /// Set what the desk recorded of a written record, then deliver `then`.
    Outcome {
        /// The record.
        record: i64,
        /// Its tenant (the store checks it).
        tenant: i64,
        /// What the desk recorded.
        outcome: crate::store::DeskOutcome,
        /// What to deliver once it is stored.
        then: Delivery,
    },
    /// An order for the media relay of node `node` (cluster mode; a single node's is 0).
    Relay {
        /// The node whose relay it is for.
        node: u64,
        /// The order.
        order: crate::media::Order,
    },
    /// Let go of a connection once what was delivered to it is written (a link
    /// participant who left or whose call ended; a desk or interpreter whose session
    /// ended).
    Release(Endpoint),
    /// A desk's or interpreter's session ended: nothing more is kept for it.
    SessionEnded(Client),
    /// Count this.
    Fact(Fact),
}

/// The call core. Its state (all but its settings, its token source and its outputs)
/// is what `saved.rs` writes and reads.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Core {
    engine: d::Engine,
    #[serde(skip)]
    settings: Settings,
    #[serde(skip, default = "saved::no_tokens")]
    tokens: Box<dyn Tokens>,
    /// Tenants' and desks' names.
    names: directory::Names,
    /// Interpreters' tiers (for records).
    tiers: HashMap<i64, d::Tier>,
    /// Requests and their calls, by number.
    calls: BTreeMap<CallId, Call>,
    sessions: sessions::Sessions,
    links: links::Links,
    lines: line::Lines,
    online: online::Online,
    by_phone: by_phone::ByPhone,
    booked: bookings::Booked,
    /// Municipalities' centre calendars, where set.
    calendars: HashMap<i64, crate::calendar::Calendar>,
    /// What the desks' language grids were last told.
    grid: availability::Grid,
    legs: Legs,
    recorded: records::Kept,
    draining: bool,
    now: d::Timestamp,
    #[serde(skip)]
    outputs: VecDeque<Output>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("calls", &self.calls.len()).field("draining", &self.draining).finish()
    }
}

impl Core {
    /// A core over the stored directory.
    pub fn new(
        directory: &crate::directory::Directory,
        settings: Settings,
        tokens: Box<dyn Tokens>,
        now: d::Timestamp,
    ) -> Core {
        let (engine, names, tiers) = directory::engine_from(directory, now);
        let numbers = directory.interpreters.iter().filter_map(|i| Some((i.id, i.reach_by_phone.clone()?))).collect();
        let legs = Legs::on(settings.media_node);
        let mut core = Core {
            engine,
            settings,
            tokens,
            names,
            tiers,
            calls: BTreeMap::new(),
            sessions: sessions::Sessions::default(),
            links: links::Links::default(),
            lines: line::Lines::default(),
            online: online::Online::default(),
            by_phone: by_phone::ByPhone::default(),
            booked: bookings::Booked::default(),
            calendars: HashMap::new(),
            grid: availability::Grid::default(),
            legs,
            recorded: records::Kept::default(),
            draining: false,
            now,
            outputs: VecDeque::new(),
        };
        core.phone_numbers(numbers);
        core
    }

    /// Apply one input. A refused input changes nothing and says why.
    pub fn handle(&mut self, now: d::Timestamp, input: Input) -> Result<Reply, p::ProtocolError> {
        self.now = now.max(self.now);
        let now = self.now;
        let result = match input {
            Input::Attached { client, resumed, resume_hash } => {
                self.attached(now, client, resumed, resume_hash);
                Ok(Reply::Done)
            }
            Input::Detached { client } => {
                self.detached(now, client);
                Ok(Reply::Done)
            }
            Input::Ended { client } => {
                self.end_session(now, client);
                Ok(Reply::Done)
            }
            Input::Desk { desk, tenant, cmd } => self.desk_command(now, desk, tenant, cmd).map(|()| Reply::Done),
            Input::Interpreter { id, cmd } => self.interpreter_command(now, id, cmd).map(|()| Reply::Done),
            Input::Join { token_hash, resume_hash, new_resume_hash } => {
                self.join(now, &token_hash, resume_hash, new_resume_hash).map(Reply::Joined)
            }
            Input::Member { member, cmd } => self.member_command(now, member, cmd).map(|()| Reply::Done),
            Input::MemberDropped { member } => {
                self.member_dropped(now, member);
                Ok(Reply::Done)
            }
            Input::DialFailed { dial, reason } => {
                self.dial_failed(dial, reason);
                Ok(Reply::Done)
            }
            Input::LineCall { key, desk, language } => {
                self.line_call(now, key, desk, &language);
                Ok(Reply::Done)
            }
            Input::LineHangup { key } => {
                self.line_hangup(now, key);
                Ok(Reply::Done)
            }
            Input::Gateways { up } => {
                self.gateways(now, up);
                Ok(Reply::Done)
            }
            Input::OfferAnswer { offer, accept } => self.offer_answer(now, offer, accept).map(Reply::Taken),
            Input::GatewayGone { conn } => {
                self.gateway_gone(now, conn);
                Ok(Reply::Done)
            }
            Input::Relay(report) => {
                self.relay_report(report);
                Ok(Reply::Done)
            }
            Input::Recorded { call, id } => {
                self.recorded.keep(call, id, now);
                Ok(Reply::Done)
            }
            Input::Directory(change) => self.directory(now, change).map(|()| Reply::Done),
            Input::Booking(change) => self.booking(now, change),
            Input::Assign { scope, request, interpreter } => {
                self.assign(now, scope, request, interpreter).map(|()| Reply::Done)
            }
            Input::Drain => {
                self.draining = true;
                Ok(Reply::Done)
            }
            Input::OnlineCall { desk, language, token_hash } => self.online_call(now, desk, &language, token_hash),
            Input::OnlineWithdraw { token_hash } => self.online_withdraw(now, &token_hash),
            Input::Notice { to, notice } => {
                for i in to {
                    self.deliver(Delivery::Interpreter(i, notice.clone()));
                }
                Ok(Reply::Done)
            }
            Input::RedeemPin { pin } => Ok(Reply::Redeemed(self.redeem_pin(&pin, now))),
            Input::MediaNodes { up, draining } => {
                self.media_nodes(up, draining);
                Ok(Reply::Done)
            }
            Input::Takeover => {
                self.takeover(now);
                Ok(Reply::Done)
            }
            Input::Tick => {
                self.tick(now);
                Ok(Reply::Done)
            }
        };
        self.flush_engine();
        result
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the engine next needs time to pass ([`Input::Tick`]).
    pub fn poll_timeout(&self) -> Option<d::Timestamp> {
        self.engine.poll_timeout()
    }

    /// Whether the server has a phone line (the gateway's presence is the shell's to know).
    pub fn phone_line(&self) -> bool {
        self.settings.phone_number.is_some()
    }

    /// Calls answered and not ended (for draining).
    pub fn live_calls(&self) -> usize {
        self.calls.values().filter(|c| c.answered()).count()
    }

    /// A request or call by number.
    pub fn call(&self, id: CallId) -> Option<&Call> {
        self.calls.get(&id)
    }

    /// Whether a desk's or interpreter's session lives (connected, or dropped within the
    /// grace).
    pub fn session_live(&self, client: Client) -> bool {
        self.sessions.live(client)
    }

    /// Whether a connection bringing the token whose hash is `resume_hash` may resume the
    /// client's session: it lives (connected, or dropped within the grace) and the token
    /// is the one its last welcome gave.
    pub fn may_resume(&self, client: Client, resume_hash: &str) -> bool {
        self.sessions.resume_matches(client, resume_hash)
    }

    /// Time passes: the engine's timers, then once-a-second work.
    fn tick(&mut self, now: d::Timestamp) {
        self.engine.handle_timeout(now);
        self.flush_engine();
        self.push_positions();
        self.push_availability(None);
        self.expire_sessions(now);
        self.expire_links(now);
        self.recorded.expire(now);
        self.wake_rested(now);
        self.remind_bookings(now);
    }

    fn out(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    fn deliver(&mut self, delivery: Delivery) {
        // An interpreter reached by phone has no console to tell.
        if let Delivery::Interpreter(i, _) = &delivery
            && self.by_phone.has(*i)
        {
            return;
        }
        self.outputs.push_back(Output::Deliver(delivery));
    }

    fn fact(&mut self, fact: Fact) {
        self.outputs.push_back(Output::Fact(fact));
    }

    /// How to reach a participant of `call` with an event of each kind.
    fn endpoint(call: CallId, participant: &Participant) -> Endpoint {
        match &participant.who {
            Who::Desk(desk) => Endpoint::Desk(*desk),
            Who::Interpreter(id) => Endpoint::Interpreter(*id),
            Who::Link(_) => Endpoint::Member(MemberKey { call: call.0, participant: participant.id }),
        }
    }

    /// Tell everyone in `call` but participant `about` that it joined or came back
    /// (`left` `None`), or left or dropped.
    fn tell_call(&mut self, call: CallId, about: u32, left: Option<p::LeftReason>) {
        let Some(c) = self.calls.get(&call) else { return };
        let Some(subject) = c.participant(about) else { return };
        let party = subject.party;
        let others: Vec<Endpoint> =
            c.participants.iter().filter(|x| x.id != about).map(|x| Self::endpoint(call, x)).collect();
        for to in others {
            let (n, participant) = (call.0, about);
            let delivery = match (to, left) {
                (Endpoint::Desk(d), None) => {
                    Delivery::Desk(d, p::DeskEvent::ParticipantJoined { call: n, party, participant })
                }
                (Endpoint::Desk(d), Some(reason)) => {
                    Delivery::Desk(d, p::DeskEvent::ParticipantLeft { call: n, party, participant, reason })
                }
                (Endpoint::Interpreter(i), None) => {
                    Delivery::Interpreter(i, p::InterpreterEvent::ParticipantJoined { call: n, party, participant })
                }
                (Endpoint::Interpreter(i), Some(reason)) => Delivery::Interpreter(
                    i,
                    p::InterpreterEvent::ParticipantLeft { call: n, party, participant, reason },
                ),
                (Endpoint::Member(m), None) => {
                    Delivery::Member(m, p::ResidentEvent::ParticipantJoined { party, participant })
                }
                (Endpoint::Member(m), Some(reason)) => {
                    Delivery::Member(m, p::ResidentEvent::ParticipantLeft { party, participant, reason })
                }
            };
            self.deliver(delivery);
        }
    }

    /// An error event for a participant (an asynchronous refusal, e.g. the relay refused
    /// its offer).
    fn error_to(&mut self, to: Endpoint, e: p::ProtocolError) {
        let delivery = match to {
            Endpoint::Desk(d) => Delivery::Desk(d, p::DeskEvent::Error(e)),
            Endpoint::Interpreter(i) => Delivery::Interpreter(i, p::InterpreterEvent::Error(e)),
            Endpoint::Member(m) => Delivery::Member(m, p::ResidentEvent::Error(e)),
        };
        self.deliver(delivery);
    }
}
