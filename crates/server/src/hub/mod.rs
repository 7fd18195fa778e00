//! The hub: the single writer. One task that drives the call core (which owns the
//! dispatch engine) and does its I/O: connections' outboxes and numbered events
//! (`clients.rs`), the relay's orders and reports, record writes (`writes.rs`), metrics
//! (`facts.rs`), and time.
//!
//! The edge reaches it only through the router (`cluster`), whose local implementation
//! sends [`Cmd`]s here. The relay reports through its own channel; the hub never makes the
//! relay wait, and the relay never makes the hub wait. Records are written by tracked
//! tasks: when the hub stops (every sender gone) it waits for those still writing before
//! it returns, so a record acknowledged by the core is not lost at shutdown.

mod busy;
mod clients;
mod cmd;
mod facts;
mod journal;
mod recent;
mod writes;

use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use clients::{CLIENT_QUEUE, Clients, Out, Outbox};
pub use cmd::{Attached, Cmd, MemberIn};
pub use journal::{JournalSink, MemorySink, Storing};

use crate::calls::{Core, Delivery, Input, LineKey, Output, Reply, Tape};
use crate::metrics::Metrics;
use crate::store::Store;

/// The core's time: wall-clock milliseconds, advanced by tokio's clock (so tests can
/// pause and advance time).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    base_ms: i64,
    base: Instant,
}

impl Clock {
    /// A clock reading the system time now.
    pub fn new() -> Clock {
        Clock { base_ms: crate::store::now_ms(), base: Instant::now() }
    }

    /// The current instant.
    pub fn now(&self) -> d::Timestamp {
        d::Timestamp::from_millis(self.base_ms + self.base.elapsed().as_millis() as i64)
    }

    /// The tokio instant of a timestamp.
    pub fn instant(&self, t: d::Timestamp) -> Instant {
        let ms = (t.as_millis() - self.base_ms).max(0) as u64;
        self.base + Duration::from_millis(ms)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// The hub's settings.
#[derive(Clone, Debug)]
pub struct HubSettings {
    /// The connections' heartbeat.
    pub heartbeat: Duration,
    /// Commands queued for the hub.
    pub inbox: usize,
}

/// The hub's state; run it with [`Hub::run`].
#[derive(Debug)]
pub struct Hub {
    core: Core,
    clients: Clients,
    clock: Clock,
    metrics: Metrics,
    media: Option<crate::media::Orders>,
    writes: writes::Writes,
    facts: facts::Facts,
    /// A journaling writer's journal (cluster mode).
    journal: Option<journal::Journal>,
    /// Answers to the router, sent once the round's outputs are acted on.
    replies: journal::Replies,
    /// A command taken from the channel that starts the next round.
    held: Option<Cmd>,
    busy: busy::Busy,
}

/// What woke the hub.
enum Woke {
    Command(Cmd),
    /// Every sender is gone.
    Closed,
    Report(crate::media::Report),
    ReportsClosed,
    Written(writes::Done),
    /// A journaling writer's round is stored.
    Stored(Result<(), String>),
    /// The core's next timeout.
    Due,
    /// The once-a-second tick (the gauges too).
    Second,
}

impl Hub {
    /// A hub around `core`, and the sender the router uses to reach it.
    pub fn new(
        core: Core,
        store: Store,
        metrics: Metrics,
        clock: Clock,
        media: Option<crate::media::Orders>,
        settings: HubSettings,
    ) -> (Hub, mpsc::Sender<Cmd>, mpsc::Receiver<Cmd>) {
        let (tx, rx) = mpsc::channel(settings.inbox);
        let busy = busy::Busy::new(&metrics);
        let hub = Hub {
            core,
            clients: Clients::new(settings.heartbeat),
            clock,
            facts: facts::Facts::new(metrics.clone()),
            writes: writes::Writes::new(store, metrics.clone()),
            metrics,
            media,
            journal: None,
            replies: journal::Replies::default(),
            held: None,
            busy,
        };
        (hub, tx, rx)
    }

    /// Journal every input to `sink` (ADR 0021); the core's token source must be `tape`.
    pub fn journaled(mut self, tape: Tape, sink: Box<dyn JournalSink>) -> Hub {
        self.journal = Some(journal::Journal { tape, sink, entry: Vec::new(), pending: false });
        self
    }

    /// Run until every sender of `rx` is dropped and every record write is done; the
    /// relay's reports come in on `reports`.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Cmd>, mut reports: mpsc::Receiver<crate::media::Report>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut reports_open = true;
        // A journaling writer's round being stored (see `journal.rs`).
        let mut flight = None;
        // A journaling writer starts from a saved core: a new writer replays from here.
        let mut saved_at = Instant::now();
        if !self.save(&mut flight).await {
            return;
        }
        loop {
            let woke = match self.held.take() {
                Some(cmd) => Woke::Command(cmd),
                None => {
                    let wake = self.core.poll_timeout().map(|t| self.clock.instant(t));
                    tokio::select! {
                        cmd = rx.recv() => cmd.map_or(Woke::Closed, Woke::Command),
                        report = reports.recv(), if reports_open => report.map_or(Woke::ReportsClosed, Woke::Report),
                        Some(done) = self.writes.next(), if !self.writes.is_empty() => Woke::Written(done),
                        stored = journal::Flight::landed(&mut flight) => Woke::Stored(stored),
                        () = async { match wake { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => Woke::Due,
                        _ = tick.tick() => Woke::Second,
                    }
                }
            };
            // A command that changes the connections follows every round before it.
            if let Woke::Command(cmd) = &woke
                && cmd.changes_connections()
                && !self.settle(&mut flight).await
            {
                break;
            }
            let began = std::time::Instant::now();
            match woke {
                Woke::Command(cmd) => self.command(cmd),
                Woke::Closed => break,
                Woke::Report(report) => {
                    let _ = self.apply(Input::Relay(report));
                }
                Woke::ReportsClosed => reports_open = false,
                Woke::Written(done) => self.written(done),
                Woke::Stored(result) => {
                    if !self.landed(&mut flight, result) {
                        break;
                    }
                }
                Woke::Due => {
                    let _ = self.apply(Input::Tick);
                }
                Woke::Second => {
                    let _ = self.apply(Input::Tick);
                    self.gauges();
                }
            }
            self.more(&mut rx);
            self.busy.since(busy::Phase::Inputs, began);
            self.commit(&mut flight);
            if self.journal.is_some() && saved_at.elapsed() >= journal::SAVE_EVERY {
                saved_at = Instant::now();
                let began = std::time::Instant::now();
                let saved = self.save(&mut flight).await;
                self.busy.since(busy::Phase::Save, began);
                if !saved {
                    break;
                }
            }
        }
        // Every sender is gone: act on what is stored, finish the writes in flight (each
        // is bounded by the store's timeout), then stop. Dropping the relay's order
        // sender ends its task.
        let _ = self.settle(&mut flight).await;
        while let Some(done) = self.writes.next().await {
            self.written(done);
        }
    }

    /// Apply an input to the core (journaled, when the hub journals); the core's answer.
    /// What it causes is acted on when the round is committed.
    fn apply(&mut self, input: Input) -> Result<Reply, p::ProtocolError> {
        let now = self.clock.now();
        let Some(journal) = self.journal.as_mut() else {
            return self.core.handle(now, input);
        };
        match self.core.handle_journaled(now, input, &journal.tape, &mut journal.entry) {
            Ok(result) => {
                journal.sink.append(std::mem::take(&mut journal.entry));
                journal.pending = true;
                result
            }
            Err(e) => {
                tracing::error!(error = %e, "an input could not be journaled and was not applied");
                Err(p::ProtocolError { code: p::ErrorCode::Internal, message: "not applied".into() })
            }
        }
    }

    /// A journaling hub takes the record writes already finished and the commands
    /// already waiting into the round, up to [`journal::ROUND`] commands, and ends it
    /// before one that changes the connections (which must follow what the round's
    /// outputs do to them).
    fn more(&mut self, rx: &mut mpsc::Receiver<Cmd>) {
        if self.journal.is_none() {
            return;
        }
        while let Some(done) = self.writes.ready() {
            self.written(done);
        }
        for _ in 1..journal::ROUND {
            let Ok(cmd) = rx.try_recv() else { return };
            if cmd.changes_connections() {
                self.held = Some(cmd);
                return;
            }
            self.command(cmd);
        }
    }

    /// Answer the router once the round is committed.
    fn reply<T: Send + 'static>(&mut self, tx: tokio::sync::oneshot::Sender<T>, value: T) {
        self.replies.push(tx, value);
    }

    /// Act on a round's outputs, then send its answers. Without a journal, what acting
    /// causes (a connection that could not keep up, counted as lost) is acted on too.
    fn act_on(&mut self, outputs: Vec<Output>, mut replies: journal::Replies) {
        let began = std::time::Instant::now();
        for output in outputs {
            self.act(output);
        }
        if self.journal.is_none() {
            while let Some(output) = self.core.poll_output() {
                self.act(output);
            }
        }
        replies.send();
        self.busy.since(busy::Phase::Act, began);
    }

    fn act(&mut self, output: Output) {
        match output {
            Output::Deliver(delivery) => self.deliver(delivery),
            Output::Record { record, key, call, then } => self.writes.record(record, key, call, then),
            Output::Outcome { record, tenant, outcome, then } => {
                self.writes.outcome(record, tenant, outcome, then);
            }
            Output::Relay { node, order } => {
                if let Some(media) = &self.media
                    && !media.send(node, order)
                {
                    // Full: the relay is swamped; the participant's next offer (or its
                    // reconnect) tries again. Closed: the relay is gone.
                    tracing::warn!("the relay did not take an order");
                }
            }
            Output::Release(endpoint) => self.clients.release(endpoint, p::CloseReason::Done),
            Output::SessionEnded(client) => self.clients.forget(client),
            Output::Fact(fact) => self.facts.count(fact),
        }
    }

    fn deliver(&mut self, delivery: Delivery) {
        match self.clients.deliver(delivery) {
            clients::Delivered::Done => {}
            // Its connection could not take it: it counts as dropped (it may resume).
            clients::Delivered::Dropped(client) => {
                let _ = self.apply(Input::Detached { client });
            }
            clients::Delivered::MemberDropped(member) => {
                let _ = self.apply(Input::MemberDropped { member });
            }
        }
    }

    fn written(&mut self, done: writes::Done) {
        if let Some((call, id)) = done.recorded {
            let _ = self.apply(Input::Recorded { call, id });
        }
        for delivery in done.then {
            self.deliver(delivery);
        }
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Attach { client, conn, outbox, resume, last_seq, reply } => {
                let hash = resume.as_deref().map(crate::auth::hash_token);
                let resumed = hash.is_some_and(|h| self.core.may_resume(client, &h));
                self.clients.attach(client, conn, outbox, resumed, last_seq);
                // The token for its next resume: the core keeps its hash (and a new
                // writer, taking the core over, with it).
                let resume_token = crate::auth::new_token();
                let resume_hash = crate::auth::hash_token(&resume_token);
                self.reply(reply, Attached { resumed, resume_token });
                let _ = self.apply(Input::Attached { client, resumed, resume_hash });
            }
            Cmd::Detach { client, conn, written, ended } => {
                let current = self.clients.detach(client, conn, written);
                if ended {
                    let _ = self.apply(Input::Ended { client });
                } else if current {
                    let _ = self.apply(Input::Detached { client });
                }
            }
            Cmd::Desk { desk, tenant, cmd, reply } => {
                let result = match cmd {
                    p::DeskCommand::Document { call, document } => self.document(self.core.document_route(
                        d::RequestId(call),
                        &crate::calls::Who::Desk(desk),
                        document,
                    )),
                    p::DeskCommand::Sdp { .. } if self.relay_busy() => Err(busy()),
                    p::DeskCommand::DialOut { .. } | p::DeskCommand::Invite { party: p::Party::Phone, .. }
                        if self.core.phone_line() && !self.clients.has_gateway() =>
                    {
                        Err(p::ProtocolError {
                            code: p::ErrorCode::NotAllowed,
                            message: "the phone line is not available now (its gateway is not connected)".into(),
                        })
                    }
                    cmd => self.apply(Input::Desk { desk, tenant, cmd }).map(|_| ()),
                };
                self.reply(reply, result);
            }
            Cmd::Interpreter { id, cmd, reply } => {
                let result = match cmd {
                    p::InterpreterCommand::Document { call, document } => self.document(self.core.document_route(
                        d::RequestId(call),
                        &crate::calls::Who::Interpreter(id),
                        document,
                    )),
                    p::InterpreterCommand::Sdp { .. } if self.relay_busy() => Err(busy()),
                    cmd => self.apply(Input::Interpreter { id, cmd }).map(|_| ()),
                };
                self.reply(reply, result);
            }
            Cmd::Join { token, resume, conn, outbox, reply } => {
                let resume_token = crate::auth::new_token();
                let input = Input::Join {
                    token_hash: crate::auth::hash_token(&token),
                    resume_hash: resume.as_deref().map(crate::auth::hash_token),
                    new_resume_hash: crate::auth::hash_token(&resume_token),
                };
                // The outbox is in place before the core's first words to the newcomer.
                let result = match self.apply(input) {
                    Ok(Reply::Joined(joined)) => {
                        self.clients.attach_member(joined.member, conn, outbox);
                        Ok(MemberIn { member: joined.member, resumed: joined.resumed, resume_token })
                    }
                    Ok(Reply::Done | Reply::Taken(_) | Reply::Booked { .. } | Reply::Redeemed(_)) => {
                        Err(p::ProtocolError { code: p::ErrorCode::Internal, message: "no place".into() })
                    }
                    Err(e) => Err(e),
                };
                self.reply(reply, result);
            }
            Cmd::Member { member, cmd, reply } => {
                let result = match cmd {
                    p::ResidentCommand::Document { document } => self.document(self.core.document_route_of(
                        d::RequestId(member.call),
                        member.participant,
                        document,
                    )),
                    p::ResidentCommand::Sdp { .. } if self.relay_busy() => Err(busy()),
                    cmd => self.apply(Input::Member { member, cmd }).map(|_| ()),
                };
                self.reply(reply, result);
            }
            Cmd::MemberLeft { member, conn } => {
                if self.clients.detach_member(member, conn) {
                    let _ = self.apply(Input::MemberDropped { member });
                }
            }
            Cmd::PeekInvite { token, reply } => {
                let answer = self.core.peek_invite(&crate::auth::hash_token(&token), self.clock.now());
                self.reply(reply, answer);
            }
            Cmd::Gateway { conn, outbox: Some(tx) } => {
                let first = !self.clients.has_gateway();
                self.clients.attach_gateway(conn, tx);
                if first {
                    let _ = self.apply(Input::Gateways { up: true });
                }
            }
            Cmd::Gateway { conn, outbox: None } => {
                self.clients.detach_gateway(conn);
                let _ = self.apply(Input::GatewayGone { conn });
                if !self.clients.has_gateway() {
                    let _ = self.apply(Input::Gateways { up: false });
                }
            }
            Cmd::OfferAnswer { offer, accept, reply } => {
                let taken = matches!(self.apply(Input::OfferAnswer { offer, accept }), Ok(Reply::Taken(true)));
                self.reply(reply, taken);
            }
            Cmd::LineCall { conn, line, desk, language } => {
                let _ = self.apply(Input::LineCall { key: LineKey { conn, line }, desk, language });
            }
            Cmd::LineHangup { conn, line } => {
                let _ = self.apply(Input::LineHangup { key: LineKey { conn, line } });
            }
            Cmd::DialFailed { dial, reason } => {
                let _ = self.apply(Input::DialFailed { dial, reason });
            }
            Cmd::RedeemPin { pin, reply } => {
                let seat = match self.apply(Input::RedeemPin { pin }) {
                    Ok(Reply::Redeemed(seat)) => seat,
                    _ => None,
                };
                self.reply(reply, seat);
            }
            Cmd::Snapshot { tenant, reply } => {
                let answer = self.core.snapshot(tenant);
                self.reply(reply, answer);
            }
            Cmd::OnlineCall { desk, language, token_hash, reply } => {
                let answer = self.apply(Input::OnlineCall { desk, language, token_hash }).map(|_| ());
                self.reply(reply, answer);
            }
            Cmd::OnlineWithdraw { token_hash, reply } => {
                let answer = self.apply(Input::OnlineWithdraw { token_hash }).map(|_| ());
                self.reply(reply, answer);
            }
            Cmd::Notice { to, notice } => {
                let _ = self.apply(Input::Notice { to, notice });
            }
            Cmd::Centre { tenant, desk, language, reply } => {
                let answer = self.core.centre(tenant, desk, language, self.clock.now());
                self.reply(reply, answer);
            }
            Cmd::Assign { scope, request, interpreter, reply } => {
                let answer = self.apply(Input::Assign { scope, request, interpreter }).map(|_| ());
                self.reply(reply, answer);
            }
            Cmd::Booking { change, reply } => {
                let held = self.apply(Input::Booking(change));
                self.reply(
                    reply,
                    held.map(|r| if let Reply::Booked { interpreter } = r { Some(interpreter) } else { None }),
                );
            }
            Cmd::Directory { change, reply } => {
                let answer = self.apply(Input::Directory(change)).map(|_| ());
                self.reply(reply, answer);
            }
            Cmd::Kick { client } => {
                let _ = self.apply(Input::Ended { client });
                // Its connection goes even if its session had ended already.
                self.clients.forget(client);
            }
            Cmd::Drain => {
                let _ = self.apply(Input::Drain);
            }
            Cmd::Nodes { up, draining } => self.nodes(up, draining),
            Cmd::LiveCalls { reply } => {
                let answer = self.core.live_calls();
                self.reply(reply, answer);
            }
        }
    }

    /// Pass a document part on, unless a receiver's queue is more than a quarter full:
    /// then it is refused (`rate_limited`, to be sent again), so documents never crowd out
    /// a client's other events. Nothing of it is kept.
    fn document(
        &mut self,
        route: Result<crate::calls::DocumentRoute, p::ProtocolError>,
    ) -> Result<(), p::ProtocolError> {
        let route = route?;
        if !route.to.iter().all(|d| self.clients.has_room(d)) {
            return Err(p::ProtocolError {
                code: p::ErrorCode::RateLimited,
                message: "the others are still receiving earlier parts; send this part again shortly".into(),
            });
        }
        for delivery in route.to {
            self.clients.pass_document(delivery);
        }
        self.deliver(route.ack);
        Ok(())
    }

    /// The cluster's nodes up now (each present with its relay), and the relays draining:
    /// the connections made through a node gone count as dropped (their clients resume
    /// through another), and the core moves the calls of a relay gone.
    fn nodes(&mut self, up: Vec<u64>, draining: Vec<u64>) {
        let gone = self.clients.gone_with_nodes(&up.iter().copied().collect());
        if !gone.clients.is_empty() || !gone.members.is_empty() || !gone.gateways.is_empty() {
            tracing::warn!(
                clients = gone.clients.len(),
                members = gone.members.len(),
                gateways = gone.gateways.len(),
                "a node is gone; its connections count as dropped"
            );
        }
        for client in gone.clients {
            let _ = self.apply(Input::Detached { client });
        }
        for member in gone.members {
            let _ = self.apply(Input::MemberDropped { member });
        }
        for conn in gone.gateways.iter().copied() {
            let _ = self.apply(Input::GatewayGone { conn });
        }
        if !gone.gateways.is_empty() && !self.clients.has_gateway() {
            let _ = self.apply(Input::Gateways { up: false });
        }
        let _ = self.apply(Input::MediaNodes { up, draining });
    }

    /// Whether the relay's order queue is full (an offer now would be lost).
    fn relay_busy(&self) -> bool {
        self.media.as_ref().is_some_and(crate::media::Orders::busy)
    }

    /// Once a second: the gauges.
    fn gauges(&self) {
        self.metrics.queue_depth.reset();
        for (language, waiting) in self.core.queue_depths() {
            self.metrics.queue_depth.with_label_values(&[language]).set(waiting as i64);
        }
        for (state, n) in self.core.presence_gauge() {
            self.metrics.interpreters.with_label_values(&[state]).set(n as i64);
        }
        for (party, n) in self.core.legs_by_party() {
            self.metrics.media_legs.with_label_values(&[party.as_str()]).set(n as i64);
        }
    }
}

fn busy() -> p::ProtocolError {
    p::ProtocolError {
        code: p::ErrorCode::RateLimited,
        message: "the media relay is busy; send the offer again".into(),
    }
}

#[cfg(test)]
mod tests;
