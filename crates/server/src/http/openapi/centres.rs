//! A centre's standing link in the OpenAPI document (issue 17, ADR 0019).

use super::doc::{Common, Doc, ID, Op, Who};
use crate::http::centres::{
    CentreOut, OnlineDeskBody, QueueIn, QueuedOut, ResidentBookedOut, ResidentBookingIn, SlotOut,
};

const TENANT: &[(&str, &str, &str)] = &[("tenant", "path", "integer")];

/// The standing link's operations.
pub(super) fn add(d: &mut Doc, c: &Common) {
    let Common { bad_body, invalid, forbidden, not_found, conflict, bad_id, busy, .. } = c.clone();
    let e = c.error.clone();
    let bad_tenant = (400, "the centre's number is not an integer", e.clone());
    let answers = vec![
        (200, "the centre: languages, whether it is open, its hours", Some(d.of::<CentreOut>())),
        bad_tenant.clone(),
        (404, "no such centre", e.clone()),
        busy.clone(),
    ];
    d.add(
        "/api/centres/{tenant}",
        "get",
        Op {
            summary: "A centre's standing link (anyone): each language now, later today or by booking, its hours",
            who: Who::Anyone,
            params: TENANT,
            body: None,
            answers,
        },
    );
    let answers = vec![
        (200, "the free half hours, soonest first", Some(d.list::<SlotOut>())),
        (400, "the centre's number or the query is wrong (the message names it)", e.clone()),
        (404, "no such centre", e.clone()),
        (409, "the centre takes no bookings online", e.clone()),
        invalid.clone(),
        busy.clone(),
    ];
    d.add(
        "/api/centres/{tenant}/slots",
        "get",
        Op {
            summary: "The half hours a resident may book in a language (anyone)",
            who: Who::Anyone,
            params: &[("tenant", "path", "integer"), ("language", "query", "string!")],
            body: None,
            answers,
        },
    );
    let body = Some(d.of::<ResidentBookingIn>());
    let answers = vec![
        (201, "booked: the resident's link", Some(d.of::<ResidentBookedOut>())),
        bad_body.clone(),
        (404, "no such centre", e.clone()),
        (409, "refused: no online bookings, the slot taken or outside the hours (the reason)", e.clone()),
        invalid.clone(),
        (429, "too many from this address, or the centre's online bookings for today are full", e.clone()),
    ];
    d.add(
        "/api/centres/{tenant}/bookings",
        "post",
        Op {
            summary: "A resident books a half hour at the centre's online desk (anyone; no account)",
            who: Who::Anyone,
            params: TENANT,
            body,
            answers,
        },
    );
    let body = Some(d.of::<QueueIn>());
    let answers = vec![
        (201, "waiting: the resident's link", Some(d.of::<QueuedOut>())),
        bad_body.clone(),
        (404, "no such centre", e.clone()),
        (409, "refused: no online desk, closed now, or nobody can take the language now (the reason)", e.clone()),
        invalid.clone(),
        (429, "too many from this address, or too many already wait", e.clone()),
        (503, "the server is stopping", e.clone()),
    ];
    d.add(
        "/api/centres/{tenant}/queue",
        "post",
        Op {
            summary: "A resident waits for an interpreter now at the centre's online desk (anyone; no account)",
            who: Who::Anyone,
            params: TENANT,
            body,
            answers,
        },
    );
    let answers = vec![
        (204, "no longer waiting: the request is withdrawn and the link ended", None),
        (404, "no such link, or it expired or ended", e.clone()),
        (409, "an interpreter has answered: join the call instead", e.clone()),
        (429, "too many from this address", e.clone()),
        (503, "the server is stopping", e.clone()),
    ];
    d.add(
        "/api/invites/{token}/wait",
        "delete",
        Op {
            summary: "A resident waiting from the standing link stops waiting (anyone with the link)",
            who: Who::Anyone,
            params: &[("token", "path", "string")],
            body: None,
            answers,
        },
    );
    let svg = Some(serde_json::json!({ "type": "string", "description": "an SVG image (image/svg+xml)" }));
    let answers = vec![(200, "the QR code", svg), bad_tenant, (404, "no such centre", e.clone()), busy];
    d.add(
        "/api/centres/{tenant}/qr.svg",
        "get",
        Op {
            summary: "The standing link as a QR code, for posters",
            who: Who::Anyone,
            params: TENANT,
            body: None,
            answers,
        },
    );
    if let Some(content) =
        d.paths.get_mut("/api/centres/{tenant}/qr.svg").and_then(|p| p.pointer_mut("/get/responses/200/content"))
    {
        *content = serde_json::json!({ "image/svg+xml": { "schema": { "type": "string" } } });
    }
    let body = Some(d.of::<OnlineDeskBody>());
    let answers = vec![(204, "set", None), bad_id, bad_body, invalid, forbidden, not_found, conflict];
    d.add(
        "/api/tenants/{id}/online-desk",
        "put",
        Op {
            summary: "The desk that takes the bookings residents make from the standing link (its supervisor, or \
                      an admin); null: none",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
}
