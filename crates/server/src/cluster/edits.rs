//! Changes to the directory and the bookings as the router carries them: the documents
//! the admin API checked and stored, which the writer turns into the engine's terms
//! ([`DirectoryChange`], [`BookingChange`]). In one process that is a function call; in a
//! cluster they cross Redis as JSON (`wire`), and the engine's own types stay free of any
//! wire format.

use kakehashi_dispatch as d;
use kakehashi_protocol as p;
use serde::{Deserialize, Serialize};

use crate::bookings::{Booking, BookingLinks};
use crate::calendar::CalendarDoc;
use crate::calls::{BookingChange, DirectoryChange};
use crate::directory::{InterpreterRow, PolicyDoc, RosterDoc};

/// A change to the directory, already stored (or, for an interpreter's update and a
/// roster, about to be: the engine refuses it while an offer rings or a call runs).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum DirectoryEdit {
    /// A new tenant.
    Tenant { id: i64, name: String, foreign_residents: u32, time_zone: String, policy: PolicyDoc },
    /// A tenant's new routing policy.
    Policy { id: i64, policy: PolicyDoc },
    /// A new desk.
    Desk { id: i64, tenant: i64, name: String },
    /// A new interpreter (`new`), or an interpreter's new profile.
    Interpreter { row: InterpreterRow, new: bool },
    /// An interpreter's roster alone.
    Roster { id: i64, roster: RosterDoc },
    /// A municipality's centre calendar; `None`: none set.
    Calendar { tenant: i64, calendar: Option<CalendarDoc> },
}

fn invalid(what: impl std::fmt::Display) -> p::ProtocolError {
    p::ProtocolError { code: p::ErrorCode::InvalidField, message: what.to_string() }
}

fn tenant_id(id: i64) -> Result<d::TenantId, p::ProtocolError> {
    u32::try_from(id).map(d::TenantId).map_err(|_| invalid(format_args!("tenant {id}: out of range")))
}

impl DirectoryEdit {
    /// The engine's terms; a document the admin API would have refused is refused here.
    pub fn into_change(self) -> Result<DirectoryChange, p::ProtocolError> {
        Ok(match self {
            DirectoryEdit::Tenant { id, name, foreign_residents, time_zone, policy } => {
                let spec = d::TenantSpec {
                    id: tenant_id(id)?,
                    foreign_residents,
                    time_zone: crate::directory::time_zone(&time_zone, "time_zone").map_err(invalid)?,
                    policy: policy.to_policy().map_err(invalid)?,
                };
                DirectoryChange::Tenant(id, name, Box::new(spec))
            }
            DirectoryEdit::Policy { id, policy } => {
                DirectoryChange::Policy(id, Box::new(policy.to_policy().map_err(invalid)?))
            }
            DirectoryEdit::Desk { id, tenant, name } => DirectoryChange::Desk(id, tenant, name),
            DirectoryEdit::Interpreter { row, new } => {
                let spec = Box::new(row.to_spec().map_err(invalid)?);
                if new {
                    DirectoryChange::Interpreter(spec, row.reach_by_phone)
                } else {
                    DirectoryChange::UpdateInterpreter(spec, row.reach_by_phone)
                }
            }
            DirectoryEdit::Roster { id, roster } => {
                DirectoryChange::Roster(id, Box::new(roster.to_roster().map_err(invalid)?))
            }
            DirectoryEdit::Calendar { tenant, calendar } => {
                let calendar = match calendar {
                    Some(doc) => Some(Box::new(doc.to_calendar().map_err(invalid)?)),
                    None => None,
                };
                DirectoryChange::Calendar(tenant, calendar)
            }
        })
    }
}

/// A change to the bookings the engine holds, already stored: the booking with its
/// links' hashes (which its public form leaves out).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum BookingEdit {
    /// Hold an interpreter for a booking just made.
    Book { booking: Booking, links: BookingLinks },
    /// Move a booking to this slot (and interpreter).
    Move { booking: Booking, links: BookingLinks },
    /// New links for a booking.
    Relink { id: i64, links: BookingLinks },
    /// Let a booking go.
    Cancel { id: i64 },
}

impl BookingEdit {
    /// A booking just made.
    pub fn book(booking: Booking) -> BookingEdit {
        let links = booking.links.clone();
        BookingEdit::Book { booking, links }
    }

    /// A booking moved.
    pub fn moved(booking: Booking) -> BookingEdit {
        let links = booking.links.clone();
        BookingEdit::Move { booking, links }
    }

    /// The engine's terms.
    pub fn into_change(self) -> BookingChange {
        match self {
            BookingEdit::Book { booking, links } => BookingChange::Book(Box::new(Booking { links, ..booking })),
            BookingEdit::Move { booking, links } => BookingChange::Move(Box::new(Booking { links, ..booking })),
            BookingEdit::Relink { id, links } => BookingChange::Relink(id, links),
            BookingEdit::Cancel { id } => BookingChange::Cancel(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_crosses_as_json_and_becomes_the_engines_change() {
        let edit = DirectoryEdit::Policy { id: 3, policy: PolicyDoc::default() };
        let back: DirectoryEdit = serde_json::from_str(&serde_json::to_string(&edit).unwrap()).unwrap();
        assert!(matches!(back.into_change(), Ok(DirectoryChange::Policy(3, _))));
        let desk = DirectoryEdit::Desk { id: 4, tenant: 3, name: "窓口".into() };
        assert!(matches!(desk.into_change(), Ok(DirectoryChange::Desk(4, 3, _))));
    }

    #[test]
    fn a_document_the_api_would_refuse_is_refused() {
        let edit = DirectoryEdit::Tenant {
            id: 1,
            name: "x".into(),
            foreign_residents: 0,
            time_zone: "Mars/Olympus".into(),
            policy: PolicyDoc::default(),
        };
        let e = edit.into_change().unwrap_err();
        assert_eq!(e.code, p::ErrorCode::InvalidField);
        assert!(e.message.starts_with("time_zone"), "{}", e.message);
    }

    #[test]
    fn a_booking_keeps_its_links_across() {
        let links = BookingLinks { resident: Some("r".into()), specialist: None };
        let edit = BookingEdit::Relink { id: 9, links: links.clone() };
        let back: BookingEdit = serde_json::from_str(&serde_json::to_string(&edit).unwrap()).unwrap();
        assert!(matches!(back.into_change(), BookingChange::Relink(9, l) if l == links));
    }
}
