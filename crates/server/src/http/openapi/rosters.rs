//! Rosters apart from profiles in the OpenAPI document (issue 17): an interpreter's own
//! days off and extra hours, a coordinator's roster calendar; coordinators' notices.

use super::doc::{Common, Doc, ID, Op, Who};
use crate::http::admin::IdOut;
use crate::http::notices::{NoticeIn, NoticeOut};
use crate::http::rosters::{MyRoster, OwnDays, RosterBody};

/// The rosters' operations.
pub(super) fn add(d: &mut Doc, c: &Common) {
    let Common { bad_body, invalid, forbidden, not_found, conflict, bad_id, draining, .. } = c.clone();
    let answers = vec![(200, "the roster", Some(d.of::<MyRoster>())), forbidden.clone()];
    d.add(
        "/api/me/roster",
        "get",
        Op { summary: "The signed-in interpreter's roster", who: Who::Bearer, params: &[], body: None, answers },
    );
    let body = Some(d.of::<OwnDays>());
    let answers = vec![
        (200, "set; the whole roster", Some(d.of::<MyRoster>())),
        bad_body.clone(),
        invalid.clone(),
        forbidden.clone(),
        conflict.clone(),
        draining.clone(),
    ];
    d.add(
        "/api/me/roster",
        "put",
        Op {
            summary: "The signed-in interpreter's own days off and extra hours: they replace those marked `own` \
                      (a coordinator's stay); refused for an always-on roster",
            who: Who::Bearer,
            params: &[],
            body,
            answers,
        },
    );
    let body = Some(d.of::<RosterBody>());
    let answers = vec![(204, "applied", None), bad_body, bad_id, invalid, forbidden, not_found, conflict, draining];
    d.add(
        "/api/interpreters/{id}/roster",
        "put",
        Op {
            summary: "Replace an interpreter's roster (a supervisor: one who serves their municipality; an admin: \
                      anyone) but for the entries marked `own`, which stay the interpreter's as stored; applied at \
                      once, a call in progress goes on; 409 when the roster kept changing meanwhile",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
    let answers =
        vec![(200, "the last 30 days' notices, newest first", Some(d.list::<NoticeOut>())), c.forbidden.clone()];
    d.add(
        "/api/notices",
        "get",
        Op {
            summary: "Notices to interpreters: an interpreter's (the whole centre's and their municipalities'), a \
                      supervisor's municipality's, every one for an admin",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers,
        },
    );
    let body = Some(d.of::<NoticeIn>());
    let answers =
        vec![(201, "sent", Some(d.of::<IdOut>())), c.bad_body.clone(), c.invalid.clone(), c.forbidden.clone()];
    d.add(
        "/api/notices",
        "post",
        Op {
            summary: "Send a notice to the interpreters of a municipality (its supervisor) or of the whole centre (an \
                      admin): pushed to their consoles, listed 30 days, audited",
            who: Who::Bearer,
            params: &[],
            body,
            answers,
        },
    );
}
