//! Desks' and interpreters' sessions: connected, or dropped and held for the grace so
//! that a connection can resume them with the token of their last welcome (its hash is
//! kept here, so a new writer that took this state over knows it too). When a session ends, what it held ends with it: a
//! desk's waiting requests are abandoned and its calls end; an interpreter's call ends
//! and they are signed out.

use std::collections::HashMap;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::convert::{engine_error, id32, presence_out};
use super::{Core, Delivery, Output, Who};

/// A desk or an interpreter, whose connection spans their calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Client {
    /// A desk.
    Desk(i64),
    /// An interpreter.
    Interpreter(i64),
}

impl Client {
    /// How the client is named in its calls.
    pub fn who(self) -> Who {
        match self {
            Client::Desk(d) => Who::Desk(d),
            Client::Interpreter(i) => Who::Interpreter(i),
        }
    }
}

/// A session that lives.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Session {
    /// Dropped, held until then; `None` while connected.
    away_until: Option<d::Timestamp>,
    /// The hash of the token it resumes with.
    resume_hash: String,
}

/// Sessions that live.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Sessions {
    live: HashMap<Client, Session>,
}

impl Sessions {
    pub(super) fn live(&self, client: Client) -> bool {
        self.live.contains_key(&client)
    }

    /// Whether `hash` is the hash of the token `client` resumes with.
    pub(super) fn resume_matches(&self, client: Client, hash: &str) -> bool {
        self.live.get(&client).is_some_and(|s| s.resume_hash == hash)
    }

    pub(super) fn connected(&self, client: Client) -> bool {
        self.live.get(&client).is_some_and(|s| s.away_until.is_none())
    }

    /// The desks and interpreters connected now.
    pub(super) fn connected_clients(&self) -> impl Iterator<Item = Client> + '_ {
        self.live.iter().filter(|(_, s)| s.away_until.is_none()).map(|(c, _)| *c)
    }

    /// The desks connected now.
    pub(super) fn connected_desks(&self) -> impl Iterator<Item = i64> + '_ {
        self.live.iter().filter_map(|(c, s)| match (c, s.away_until) {
            (Client::Desk(d), None) => Some(*d),
            _ => None,
        })
    }
}

impl Core {
    pub(super) fn attached(&mut self, now: d::Timestamp, client: Client, resumed: bool, resume_hash: String) {
        let was_dropped = self.sessions.live.get(&client).is_some_and(|s| s.away_until.is_some());
        if was_dropped && !resumed {
            // A fresh start: what the dropped session held ends now (the new connection
            // stays).
            self.end_what_it_held(now, client);
        }
        self.sessions.live.insert(client, Session { away_until: None, resume_hash });
        if resumed {
            self.tell_calls_of(client, None);
        }
        match client {
            Client::Desk(desk) => {
                // A desk that comes back is told where its requests stand at the next tick.
                for c in self.calls.values_mut().filter(|c| c.desk == desk) {
                    c.last_position = None;
                }
                self.tell_booking_calls(desk);
                self.grid.forget(desk);
                self.push_availability(Some(desk));
            }
            Client::Interpreter(id) => {
                if let Ok(presence) = self.engine.presence(d::InterpreterId(id32(id))) {
                    let presence = presence_out(presence);
                    self.deliver(Delivery::Interpreter(id, p::InterpreterEvent::Presence { presence }));
                }
            }
        }
    }

    pub(super) fn detached(&mut self, now: d::Timestamp, client: Client) {
        if !self.sessions.connected(client) {
            return;
        }
        if let Some(session) = self.sessions.live.get_mut(&client) {
            session.away_until = Some(now + self.settings.grace);
        }
        self.tell_calls_of(client, Some(p::LeftReason::Dropped));
    }

    /// Tell the others in a client's answered calls that it came back or dropped.
    fn tell_calls_of(&mut self, client: Client, left: Option<p::LeftReason>) {
        let who = client.who();
        let mine: Vec<(super::CallId, u32)> =
            self.calls.values().filter(|c| c.answered()).filter_map(|c| c.number_of(&who).map(|n| (c.id, n))).collect();
        for (call, n) in mine {
            if let Some(p) = self.calls.get_mut(&call).and_then(|c| c.participant_mut(n)) {
                p.away = left.is_some();
            }
            self.tell_call(call, n, left);
        }
    }

    /// Sessions dropped longer than the grace end.
    pub(super) fn expire_sessions(&mut self, now: d::Timestamp) {
        let mut gone: Vec<Client> = self
            .sessions
            .live
            .iter()
            .filter(|(_, s)| s.away_until.is_some_and(|u| u <= now))
            .map(|(c, _)| *c)
            .collect();
        gone.sort_unstable();
        for client in gone {
            self.end_session(now, client);
        }
    }

    /// End a client's session: what it held ends, and the shell lets go of its
    /// connection and of what it kept for a resume.
    pub(super) fn end_session(&mut self, now: d::Timestamp, client: Client) {
        let live = self.sessions.live.contains_key(&client);
        self.end_what_it_held(now, client);
        if live {
            self.out(Output::SessionEnded(client));
        }
    }

    /// End what a client's session held: a desk's waiting requests are abandoned and its
    /// calls ended; an interpreter's calls are ended and they are signed out.
    fn end_what_it_held(&mut self, now: d::Timestamp, client: Client) {
        self.sessions.live.remove(&client);
        match client {
            Client::Desk(desk) => {
                let mine: Vec<(super::CallId, bool)> =
                    self.calls.values().filter(|c| c.desk == desk).map(|c| (c.id, c.answered())).collect();
                for (id, in_call) in mine {
                    let _ = if in_call {
                        self.end_call(now, id, p::Party::Desk)
                    } else {
                        self.engine.cancel(now, id).map_err(engine_error)
                    };
                }
            }
            Client::Interpreter(id) => {
                let mine: Vec<super::CallId> =
                    self.calls.values().filter(|c| c.interpreter() == Some(id)).map(|c| c.id).collect();
                for call in mine {
                    let _ = self.end_call(now, call, p::Party::Interpreter);
                }
                let _ = self.engine.set_availability(now, d::InterpreterId(id32(id)), d::Availability::Offline);
            }
        }
    }
}
