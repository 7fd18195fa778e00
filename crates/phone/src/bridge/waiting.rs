//! Line callers waiting on the control connection (ADR 0016): each caller put through
//! gets a number of its own and hears, over a watch, where it stands and how it ends;
//! the control connection passes the server's events to it. While the connection is down
//! nobody can be put through, and callers who were waiting are told the line is lost.

use std::collections::HashMap;
use std::sync::Mutex;

use kakehashi_protocol as p;
use tokio::sync::{mpsc, watch};

/// Where a line caller stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Put through; nothing heard yet.
    Asked,
    /// In the queue.
    Waiting {
        /// An interpreter is being rung.
        ringing: bool,
        /// Requests ahead of it.
        ahead: u32,
    },
    /// Answered: join with this token.
    Answered(String),
    /// Ended unanswered.
    Ended(p::LineEnd),
    /// The control connection was lost.
    Lost,
}

impl Standing {
    /// Whether nothing more will follow.
    pub fn settled(&self) -> bool {
        matches!(self, Standing::Answered(_) | Standing::Ended(_) | Standing::Lost)
    }
}

/// Where an offer rung on an interpreter's phone stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// Ringing, or being answered.
    Open,
    /// The interpreter's: join with the order's token.
    Taken,
    /// Gone (missed, taken elsewhere, cancelled, declined), or the connection was lost.
    Closed,
}

#[derive(Debug, Default)]
struct Inner {
    /// The control connection's commands, while it is up.
    to_server: Option<mpsc::Sender<p::GatewayCommand>>,
    last: u64,
    callers: HashMap<u64, watch::Sender<Standing>>,
    offers: HashMap<u64, watch::Sender<Offer>>,
}

/// The callers waiting, shared by the line calls and the control connection.
#[derive(Debug, Default)]
pub struct Waiting {
    inner: Mutex<Inner>,
}

impl Waiting {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Put a caller through to `desk`'s queue for `language`: its number and standing,
    /// or `None` while the control connection is down (or cannot take it).
    pub fn call(&self, desk: i64, language: &str) -> Option<(u64, watch::Receiver<Standing>)> {
        let mut inner = self.lock();
        let to_server = inner.to_server.clone()?;
        inner.last += 1;
        let line = inner.last;
        let command = p::GatewayCommand::LineCall { line, desk, language: language.into() };
        to_server.try_send(command).ok()?;
        let (tx, rx) = watch::channel(Standing::Asked);
        inner.callers.insert(line, tx);
        Some((line, rx))
    }

    /// The caller hung up (or joined): forgotten, and the server told if it still waits.
    pub fn hang_up(&self, line: u64) {
        let mut inner = self.lock();
        let Some(standing) = inner.callers.remove(&line) else { return };
        if !standing.borrow().settled()
            && let Some(to_server) = &inner.to_server
        {
            let _ = to_server.try_send(p::GatewayCommand::LineHangup { line });
        }
    }

    /// An offer is being rung: where it stands, until [`Waiting::offer_done`].
    pub fn offer_rung(&self, offer: u64) -> watch::Receiver<Offer> {
        let (tx, rx) = watch::channel(Offer::Open);
        self.lock().offers.insert(offer, tx);
        rx
    }

    /// The interpreter's key: false if the server cannot be told now.
    pub fn offer_answer(&self, offer: u64, accept: bool) -> bool {
        let inner = self.lock();
        inner.to_server.as_ref().is_some_and(|t| t.try_send(p::GatewayCommand::OfferAnswer { offer, accept }).is_ok())
    }

    /// The offer's call is over: forgotten.
    pub fn offer_done(&self, offer: u64) {
        self.lock().offers.remove(&offer);
    }

    /// The server's word about a caller or an offer.
    pub fn heard(&self, event: &p::GatewayEvent) {
        let offer = match event {
            p::GatewayEvent::OfferTaken { offer } => Some((*offer, Offer::Taken)),
            p::GatewayEvent::OfferClosed { offer } => Some((*offer, Offer::Closed)),
            _ => None,
        };
        if let Some((offer, state)) = offer {
            if let Some(tx) = self.lock().offers.get(&offer) {
                let _ = tx.send(state);
            }
            return;
        }
        let (line, standing) = match event {
            p::GatewayEvent::LineQueued { line, ringing, ahead, .. } => {
                (*line, Standing::Waiting { ringing: *ringing, ahead: *ahead })
            }
            p::GatewayEvent::LineAnswered { line, token } => (*line, Standing::Answered(token.clone())),
            p::GatewayEvent::LineEnded { line, reason } => (*line, Standing::Ended(*reason)),
            _ => return,
        };
        let mut inner = self.lock();
        let settled = standing.settled();
        if let Some(tx) = inner.callers.get(&line) {
            let _ = tx.send(standing);
        }
        if settled {
            inner.callers.remove(&line);
        }
    }

    /// The control connection is up, taking commands on `to_server`.
    pub fn connected(&self, to_server: mpsc::Sender<p::GatewayCommand>) {
        self.lock().to_server = Some(to_server);
    }

    /// The control connection is down: the server has let go of every caller.
    pub fn disconnected(&self) {
        let mut inner = self.lock();
        inner.to_server = None;
        for (_, tx) in inner.callers.drain() {
            let _ = tx.send(Standing::Lost);
        }
        for tx in inner.offers.values() {
            let _ = tx.send(Offer::Closed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_hear_their_own_events_and_a_lost_connection() {
        let waiting = Waiting::default();
        assert!(waiting.call(1, "vi").is_none(), "nobody is put through without the server");
        let (tx, mut server) = mpsc::channel(8);
        waiting.connected(tx);
        let (a, mut a_rx) = waiting.call(1, "vi").unwrap();
        let (b, b_rx) = waiting.call(1, "ne").unwrap();
        assert_ne!(a, b);
        assert_eq!(server.try_recv().unwrap(), p::GatewayCommand::LineCall { line: a, desk: 1, language: "vi".into() });
        server.try_recv().unwrap();
        waiting.heard(&p::GatewayEvent::LineQueued {
            line: a,
            ringing: false,
            ahead: 2,
            estimate: p::WaitEstimate::Unknown,
        });
        assert_eq!(*a_rx.borrow_and_update(), Standing::Waiting { ringing: false, ahead: 2 });
        assert_eq!(*b_rx.borrow(), Standing::Asked);
        waiting.heard(&p::GatewayEvent::LineAnswered { line: a, token: "t".into() });
        assert_eq!(*a_rx.borrow(), Standing::Answered("t".into()));
        waiting.hang_up(a);
        assert!(server.try_recv().is_err(), "an answered caller is not hung up at the server");
        waiting.hang_up(b);
        assert_eq!(server.try_recv().unwrap(), p::GatewayCommand::LineHangup { line: b });
        let (_, c_rx) = waiting.call(1, "vi").unwrap();
        waiting.disconnected();
        assert_eq!(*c_rx.borrow(), Standing::Lost);
        assert!(waiting.call(1, "vi").is_none());
    }
}
