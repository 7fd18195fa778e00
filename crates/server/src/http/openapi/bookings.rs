//! Bookings and a coordinator's hand in the OpenAPI document (issue 17).

use super::doc::{Common, Doc, ID, Op, Who};
use crate::bookings::{BookingIn, BookingMove};
use crate::http::bookings::{BookedOut, BookingOut, IntakeOut, LinksOut};
use crate::http::requests::AssignBody;

/// The bookings' operations.
pub(super) fn add(d: &mut Doc, c: &Common) {
    let Common { bad_body, invalid, forbidden, not_found, conflict, bad_id, busy, .. } = c.clone();
    let e = c.error.clone();
    let answers = vec![
        (200, "bookings whose slot overlaps the span, by start", Some(d.list::<BookingOut>())),
        (400, "a parameter is wrong (the message names it)", e.clone()),
        forbidden.clone(),
    ];
    d.add(
        "/api/bookings",
        "get",
        Op {
            summary: "Bookings: a supervisor's municipality's (an admin's: every one, or `tenant`'s), a desk's own, \
                      an interpreter's held slots",
            who: Who::Bearer,
            params: &[
                ("tenant", "query", "integer"),
                ("from", "query", "since"),
                ("to", "query", "since"),
                ("cancelled", "query", "boolean"),
            ],
            body: None,
            answers,
        },
    );
    let refused =
        (409, "refused: nobody eligible is free, a clash, outside the centre's calendar (the reason)", e.clone());
    let body = Some(d.of::<BookingIn>());
    let answers = vec![
        (201, "booked; the interpreter held", Some(d.of::<BookedOut>())),
        bad_body.clone(),
        invalid.clone(),
        forbidden.clone(),
        refused.clone(),
        busy.clone(),
    ];
    d.add(
        "/api/bookings",
        "post",
        Op {
            summary: "Book a slot (a supervisor for a desk of the municipality, an admin, or a desk for itself): \
                      an interpreter is held for it",
            who: Who::Bearer,
            params: &[],
            body,
            answers,
        },
    );
    let answers = vec![(200, "the booking", Some(d.of::<BookingOut>())), bad_id.clone(), not_found.clone()];
    d.add(
        "/api/bookings/{id}",
        "get",
        Op { summary: "A booking its caller may see", who: Who::Bearer, params: ID, body: None, answers },
    );
    let body = Some(d.of::<BookingMove>());
    let answers = vec![
        (200, "moved; the interpreter held", Some(d.of::<BookedOut>())),
        bad_id.clone(),
        bad_body,
        invalid,
        forbidden.clone(),
        not_found.clone(),
        refused,
        conflict,
    ];
    d.add(
        "/api/bookings/{id}",
        "put",
        Op {
            summary: "Move a booking not yet begun to another slot (and interpreter); the old slot stays held when \
                      the new one is refused",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
    let answers = vec![
        (204, "cancelled (kept, marked); its interpreter is free again", None),
        bad_id.clone(),
        forbidden.clone(),
        not_found.clone(),
        (409, "its consultation is in progress", e),
    ];
    d.add(
        "/api/bookings/{id}",
        "delete",
        Op { summary: "Cancel a booking", who: Who::Bearer, params: ID, body: None, answers },
    );
    let answers = vec![
        (200, "the new links (the old ones stop working)", Some(d.of::<LinksOut>())),
        bad_id.clone(),
        forbidden.clone(),
        not_found.clone(),
        (409, "the booking is cancelled or over", c.error.clone()),
    ];
    d.add(
        "/api/bookings/{id}/links",
        "post",
        Op {
            summary: "New links for the people of a booking who join by link (a supervisor, an admin or its desk)",
            who: Who::Bearer,
            params: ID,
            body: None,
            answers,
        },
    );
    let ics = Some(serde_json::json!({ "type": "string", "description": "an iCalendar file (text/calendar)" }));
    let answers = vec![
        (200, "the slot as an iCalendar event", ics),
        (404, "no booking waits on this link", c.error.clone()),
        (429, "too many links that do not work from this address", c.error.clone()),
    ];
    d.add(
        "/api/invites/{token}/calendar.ics",
        "get",
        Op {
            summary: "A booking's link before its slot: the slot for the resident's phone calendar",
            who: Who::Anyone,
            params: &[("token", "path", "string")],
            body: None,
            answers,
        },
    );
    if let Some(content) =
        d.paths.get_mut("/api/invites/{token}/calendar.ics").and_then(|p| p.pointer_mut("/get/responses/200/content"))
    {
        *content = serde_json::json!({ "text/calendar": { "schema": { "type": "string" } } });
    }
    let answers = vec![(200, "the note", Some(d.of::<IntakeOut>())), bad_id, forbidden, not_found];
    d.add(
        "/api/bookings/{id}/intake",
        "get",
        Op {
            summary: "A booking's intake note, for the municipality's own supervisors (each read audited)",
            who: Who::Bearer,
            params: ID,
            body: None,
            answers,
        },
    );

    let body = Some(d.of::<AssignBody>());
    let answers = vec![
        (202, "the interpreter is rung now (they accept or decline)", None),
        c.bad_id.clone(),
        c.bad_body.clone(),
        c.forbidden.clone(),
        (404, "no such request waiting (of the caller's municipality)", c.error.clone()),
        (
            409,
            "the interpreter is not free, cannot take it, was excluded or offered it already, or it rings as many as it may",
            c.error.clone(),
        ),
        (503, "the server is busy or restarting", c.error.clone()),
    ];
    d.add(
        "/api/requests/{id}/assign",
        "post",
        Op {
            summary: "Offer a waiting request to an interpreter the coordinator chooses (a supervisor of its \
                      municipality, or an admin; audited)",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
}
