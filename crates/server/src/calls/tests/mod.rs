//! The call core on simulated time, no sockets: every lifecycle of a request and its call.
//!
//! The promises:
//! - every request ends exactly once, with a record written before anyone hears it
//!   ended (answered, abandoned, expired, unserved);
//! - a participant's number is its own for the whole call and never given to another;
//!   several residents and guests take part at once, each reached as themselves;
//! - a dropped desk, interpreter or link participant is held for the grace and comes
//!   back to its place; past the grace, what it held ends;
//! - a refused command changes nothing.

use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::*;
use crate::directory::{DeskRow, Directory, InterpreterRow, RosterDoc, TenantRow};
use crate::store::RecordOutcome;

mod bookings;
mod by_phone;
mod dial;
mod grid;
mod lifecycle;
mod line;
mod media_nodes;
mod online;
mod participants;
mod saved;

/// Tokens `t1`, `t2`, … in order.
struct Counter(u32);

impl Tokens for Counter {
    fn token(&mut self) -> String {
        self.0 += 1;
        format!("t{}", self.0)
    }
}

const DESK: i64 = 11;
const OTHER_DESK: i64 = 12;
const TENANT: i64 = 1;

fn interpreter(id: i64, language: &str) -> InterpreterRow {
    InterpreterRow {
        id,
        login: format!("i{id}"),
        tier: "staff".into(),
        languages: vec![language.into()],
        modalities: vec!["video".into(), "audio".into(), "phone".into()],
        specialities: vec![],
        tenants: vec![TENANT],
        shared_pool: false,
        roster: RosterDoc { always: true, ..RosterDoc::default() },
        reach_by_phone: None,
    }
}

struct World {
    core: Core,
    now: d::Timestamp,
    out: Vec<Output>,
    /// When set, every input is journaled with this tape, its entries kept here.
    journal: Option<(Tape, Vec<Vec<u8>>)>,
}

impl World {
    /// One tenant, two desks, interpreters 21 and 22 for Vietnamese and 23 for Nepali.
    fn new() -> World {
        let directory = Directory {
            tenants: vec![TenantRow {
                id: TENANT,
                name: "Asahi City".into(),
                foreign_residents: 1000,
                time_zone: "Asia/Tokyo".into(),
                policy: None,
            }],
            desks: vec![
                DeskRow { id: DESK, tenant_id: TENANT, name: "counter 1".into() },
                DeskRow { id: OTHER_DESK, tenant_id: TENANT, name: "counter 2".into() },
            ],
            interpreters: vec![interpreter(21, "vi"), interpreter(22, "vi"), interpreter(23, "ne")],
        };
        let settings = Settings {
            grace: Duration::from_secs(60),
            invite_ttl: Duration::from_secs(900),
            public_base: "https://k.example".into(),
            media: true,
            max_waiting_per_desk: 3,
            media_node: 0,
            phone_number: Some("03-0000-0000".into()),
            dial_out: true,
        };
        let now = d::Timestamp::from_millis(1_800_000_000_000);
        let core = Core::new(&directory, settings, Box::new(Counter(0)), now);
        let mut w = World { core, now, out: Vec::new(), journal: None };
        for client in [Client::Desk(DESK), Client::Desk(OTHER_DESK)] {
            w.ok(Input::Attached { client, resumed: false, resume_hash: "r".into() });
        }
        w
    }

    fn handle(&mut self, input: Input) -> Result<Reply, p::ProtocolError> {
        let r = match &mut self.journal {
            Some((tape, entries)) => {
                let mut entry = Vec::new();
                let r = self.core.handle_journaled(self.now, input, tape, &mut entry).expect("journaled");
                entries.push(entry);
                r
            }
            None => self.core.handle(self.now, input),
        };
        while let Some(o) = self.core.poll_output() {
            self.out.push(o);
        }
        r
    }

    fn ok(&mut self, input: Input) -> Reply {
        self.handle(input).unwrap()
    }

    fn advance(&mut self, secs: u64) {
        self.now = self.now + Duration::from_secs(secs);
        self.ok(Input::Tick);
    }

    /// Everything output since the last look.
    fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    fn desk(&mut self, cmd: p::DeskCommand) -> Result<Reply, p::ProtocolError> {
        self.handle(Input::Desk { desk: DESK, tenant: TENANT, cmd })
    }

    fn interpreter(&mut self, id: i64, cmd: p::InterpreterCommand) -> Result<Reply, p::ProtocolError> {
        self.handle(Input::Interpreter { id, cmd })
    }

    fn sign_in(&mut self, id: i64) {
        self.ok(Input::Attached { client: Client::Interpreter(id), resumed: false, resume_hash: "r".into() });
        self.interpreter(id, p::InterpreterCommand::SetAvailability { availability: p::Availability::Available })
            .unwrap();
        self.take();
    }

    fn request(&mut self, language: &str) -> Result<Reply, p::ProtocolError> {
        self.desk(p::DeskCommand::RequestInterpreter {
            language: language.into(),
            modality: None,
            speciality: None,
            urgent: false,
            preferred_interpreter: None,
        })
    }

    /// The offer rung at `id` among the outputs.
    fn offer_for(&mut self, id: i64) -> u64 {
        self.take()
            .into_iter()
            .find_map(|o| match o {
                Output::Deliver(Delivery::Interpreter(i, p::InterpreterEvent::Offer { offer, .. })) if i == id => {
                    Some(offer)
                }
                _ => None,
            })
            .expect("an offer")
    }

    /// A Vietnamese call answered by interpreter 21: its number.
    fn answered(&mut self) -> u64 {
        self.sign_in(21);
        self.request("vi").unwrap();
        let offer = self.offer_for(21);
        self.interpreter(21, p::InterpreterCommand::Accept { offer }).unwrap();
        let call = self.core.calls.keys().next().expect("a call").0;
        self.take();
        call
    }

    /// Redeem a PIN as the phone gateway does.
    fn redeem(&mut self, pin: &str) -> Option<(String, String)> {
        match self.ok(Input::RedeemPin { pin: pin.into() }) {
            Reply::Redeemed(seat) => seat,
            other => panic!("{other:?}"),
        }
    }

    /// Invite someone and let them in: their place.
    fn join(&mut self, call: u64, party: p::Party, resume_hash: &str) -> Joined {
        self.desk(p::DeskCommand::Invite { call, party }).unwrap();
        let token = self
            .out
            .iter()
            .rev()
            .find_map(|o| match o {
                Output::Deliver(Delivery::Desk(_, p::DeskEvent::Invite { url, .. })) => {
                    url.rsplit('/').next().map(str::to_string)
                }
                _ => None,
            })
            .expect("an invite");
        let input = Input::Join {
            token_hash: crate::auth::hash_token(&token),
            resume_hash: None,
            new_resume_hash: resume_hash.into(),
        };
        match self.handle(input).unwrap() {
            Reply::Joined(j) => j,
            other => panic!("{other:?}"),
        }
    }
}

fn deliveries(out: &[Output]) -> Vec<&Delivery> {
    out.iter()
        .filter_map(|o| match o {
            Output::Deliver(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn records(out: &[Output]) -> Vec<(&crate::store::CallRecord, &Vec<Delivery>)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Record { record, then, .. } => Some((record, then)),
            _ => None,
        })
        .collect()
}
