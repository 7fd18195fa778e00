//! The in-process router: a bounded channel to the hub's task in this process.

use kakehashi_protocol as p;
use tokio::sync::{mpsc, oneshot};

use super::{BookingEdit, DirectoryEdit, Router, Unavailable};
use crate::calls::{Client, InviteInfo, MemberKey};
use crate::hub::{Attached, Cmd, MemberIn, Out, Outbox};

/// The hub in this process.
#[derive(Clone, Debug)]
pub struct Local {
    hub: mpsc::Sender<Cmd>,
}

impl Local {
    /// A router to the hub behind `hub`.
    pub fn new(hub: mpsc::Sender<Cmd>) -> Local {
        Local { hub }
    }

    /// Send a command that answers, and wait for the answer.
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Cmd) -> Result<T, Unavailable> {
        let (reply, answer) = oneshot::channel();
        self.hub.send(make(reply)).await.map_err(|_| Unavailable)?;
        answer.await.map_err(|_| Unavailable)
    }

    /// Send a command that does not answer.
    async fn tell(&self, cmd: Cmd) {
        let _ = self.hub.send(cmd).await;
    }

    /// Pass a command on to the hub; `false` when the hub is gone.
    pub(crate) async fn pass(&self, cmd: Cmd) -> bool {
        self.hub.send(cmd).await.is_ok()
    }

    /// The cluster's nodes up now (each present with its relay), and the relays
    /// draining (ADR 0022).
    pub async fn nodes(&self, up: Vec<u64>, draining: Vec<u64>) {
        self.tell(Cmd::Nodes { up, draining }).await;
    }
}

#[async_trait::async_trait]
impl Router for Local {
    async fn attach(
        &self,
        client: Client,
        conn: u64,
        outbox: Outbox,
        resume: Option<String>,
        last_seq: Option<u64>,
    ) -> Result<Attached, Unavailable> {
        self.ask(|reply| Cmd::Attach { client, conn, outbox, resume, last_seq, reply }).await
    }

    async fn detach(&self, client: Client, conn: u64, written: u64, ended: bool) {
        self.tell(Cmd::Detach { client, conn, written, ended }).await;
    }

    async fn desk(&self, desk: i64, tenant: i64, cmd: p::DeskCommand) -> Result<(), p::ProtocolError> {
        self.ask(|reply| Cmd::Desk { desk, tenant, cmd, reply }).await?
    }

    async fn interpreter(&self, id: i64, cmd: p::InterpreterCommand) -> Result<(), p::ProtocolError> {
        self.ask(|reply| Cmd::Interpreter { id, cmd, reply }).await?
    }

    async fn join(
        &self,
        token: String,
        resume: Option<String>,
        conn: u64,
        outbox: mpsc::Sender<Out<p::ResidentEvent>>,
    ) -> Result<MemberIn, p::ProtocolError> {
        self.ask(|reply| Cmd::Join { token, resume, conn, outbox, reply }).await?
    }

    async fn member(&self, member: MemberKey, cmd: p::ResidentCommand) -> Result<(), p::ProtocolError> {
        self.ask(|reply| Cmd::Member { member, cmd, reply }).await?
    }

    async fn member_left(&self, member: MemberKey, conn: u64) {
        self.tell(Cmd::MemberLeft { member, conn }).await;
    }

    async fn peek_invite(&self, token: String) -> Result<Option<InviteInfo>, Unavailable> {
        self.ask(|reply| Cmd::PeekInvite { token, reply }).await
    }

    async fn redeem_pin(&self, pin: String) -> Result<Option<(String, String)>, Unavailable> {
        self.ask(|reply| Cmd::RedeemPin { pin, reply }).await
    }

    async fn gateway(&self, conn: u64, outbox: Option<mpsc::Sender<Out<p::GatewayEvent>>>) {
        self.tell(Cmd::Gateway { conn, outbox }).await;
    }

    async fn line_call(&self, conn: u64, line: u64, desk: i64, language: String) {
        self.tell(Cmd::LineCall { conn, line, desk, language }).await;
    }

    async fn offer_answer(&self, offer: u64, accept: bool) -> Result<bool, Unavailable> {
        self.ask(|reply| Cmd::OfferAnswer { offer, accept, reply }).await
    }

    async fn line_hangup(&self, conn: u64, line: u64) {
        self.tell(Cmd::LineHangup { conn, line }).await;
    }

    async fn dial_failed(&self, dial: u64, reason: p::DialFailure) {
        self.tell(Cmd::DialFailed { dial, reason }).await;
    }

    async fn snapshot(&self, tenant: Option<i64>) -> Result<p::SupervisorEvent, Unavailable> {
        self.ask(|reply| Cmd::Snapshot { tenant, reply }).await
    }

    async fn directory(&self, edit: DirectoryEdit) -> Result<(), p::ProtocolError> {
        let change = edit.into_change()?;
        self.ask(|reply| Cmd::Directory { change, reply }).await?
    }

    async fn booking(&self, edit: BookingEdit) -> Result<Option<i64>, p::ProtocolError> {
        let change = edit.into_change();
        self.ask(|reply| Cmd::Booking { change, reply }).await?
    }

    async fn online_call(&self, desk: i64, language: String, token_hash: String) -> Result<(), p::ProtocolError> {
        self.ask(|reply| Cmd::OnlineCall { desk, language, token_hash, reply }).await?
    }

    async fn online_withdraw(&self, token_hash: String) -> Result<(), p::ProtocolError> {
        self.ask(|reply| Cmd::OnlineWithdraw { token_hash, reply }).await?
    }

    async fn notice(&self, to: Vec<i64>, notice: p::InterpreterEvent) {
        self.tell(Cmd::Notice { to, notice }).await;
    }

    async fn centre(
        &self,
        tenant: i64,
        desk: i64,
        language: Option<kakehashi_dispatch::LanguageId>,
    ) -> Result<crate::calls::CentreView, Unavailable> {
        self.ask(|reply| Cmd::Centre { tenant, desk, language, reply }).await
    }

    async fn assign(&self, scope: Option<i64>, request: u64, interpreter: i64) -> Result<(), p::ProtocolError> {
        self.ask(|reply| Cmd::Assign { scope, request, interpreter, reply }).await?
    }

    async fn kick(&self, client: Client) {
        self.tell(Cmd::Kick { client }).await;
    }

    async fn drain(&self) {
        self.tell(Cmd::Drain).await;
    }

    async fn live_calls(&self) -> Result<usize, Unavailable> {
        self.ask(|reply| Cmd::LiveCalls { reply }).await
    }
}
