//! What the calls in progress ask of the server over the control connection: language
//! line callers waiting (ADR 0016), each with a number of its own, hearing over a watch
//! where it stands and how it ends; offers rung on interpreters' phones; PINs being
//! redeemed. The control connection passes the server's events here. While it is down
//! nobody can be put through or redeem a PIN, and whoever was waiting is told it is lost.
//!
//! Everything goes over the one connection on purpose: the server sends its orders round
//! every gateway connection, so a short-lived connection of ours would be given orders
//! (and would make a gateway look present) and lose them when it closes.

use std::collections::HashMap;
use std::sync::Mutex;

use kakehashi_protocol as p;
use tokio::sync::{mpsc, oneshot, watch};

/// What the server said of a PIN: the seat's token and the call's language, or `None`
/// when it opens nothing.
pub(super) type Redeemed = Option<(String, String)>;

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
    /// PINs sent to the server, by PIN (two callers may key the same one at once).
    pins: HashMap<String, Vec<oneshot::Sender<Redeemed>>>,
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

    /// Send `pin` to be redeemed: the server's answer arrives on the receiver, which is
    /// dropped unanswered if the connection is lost; `None` while the connection is down.
    pub fn redeem(&self, pin: &str) -> Option<oneshot::Receiver<Redeemed>> {
        let mut inner = self.lock();
        let to_server = inner.to_server.clone()?;
        to_server.try_send(p::GatewayCommand::RedeemPin { pin: pin.into() }).ok()?;
        let (tx, rx) = oneshot::channel();
        inner.pins.entry(pin.into()).or_default().push(tx);
        Some(rx)
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
        let pin = match event {
            p::GatewayEvent::Redeemed { pin, token, language } => Some((pin, Some((token.clone(), language.clone())))),
            p::GatewayEvent::PinRefused { pin } => Some((pin, None)),
            _ => None,
        };
        if let Some((pin, answer)) = pin {
            // The server answers in order: the oldest asker of this PIN gets this answer.
            let mut inner = self.lock();
            if let Some(askers) = inner.pins.get_mut(pin) {
                if !askers.is_empty() {
                    let _ = askers.remove(0).send(answer);
                }
                if askers.is_empty() {
                    inner.pins.remove(pin);
                }
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

    /// Whether the control connection is up (the bridge holds it only while every trunk
    /// it registers with has it).
    pub fn is_connected(&self) -> bool {
        self.lock().to_server.is_some()
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
        inner.pins.clear();
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

    #[test]
    fn pins_are_answered_in_order_and_lost_with_the_connection() {
        let waiting = Waiting::default();
        assert!(waiting.redeem("123456").is_none(), "no PIN is redeemed without the server");
        let (tx, mut server) = mpsc::channel(8);
        waiting.connected(tx);
        let mut first = waiting.redeem("123456").unwrap();
        let mut second = waiting.redeem("123456").unwrap();
        assert_eq!(server.try_recv().unwrap(), p::GatewayCommand::RedeemPin { pin: "123456".into() });
        waiting.heard(&p::GatewayEvent::Redeemed { pin: "123456".into(), token: "t".into(), language: "vi".into() });
        assert_eq!(first.try_recv().unwrap(), Some(("t".into(), "vi".into())));
        assert!(second.try_recv().is_err(), "one answer is one asker's");
        waiting.heard(&p::GatewayEvent::PinRefused { pin: "123456".into() });
        assert_eq!(second.try_recv().unwrap(), None);
        let lost = waiting.redeem("654321").unwrap();
        waiting.disconnected();
        assert!(lost.blocking_recv().is_err(), "a lost connection drops the asker");
    }
}
