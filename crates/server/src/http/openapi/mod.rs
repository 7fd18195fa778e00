//! The OpenAPI document of the HTTP API, served at `/api/openapi.json`: every operation
//! with its request body, parameters, and each status it can answer with that status's
//! body. Schemas come from the handlers' own types (schemars), registered once under
//! `components/schemas`; every error has the one `ErrorBody`. `schemathesis` runs against
//! it in the test suite (`scripts/api-fuzz.sh`). The builder is `doc.rs`; the centre's
//! paperwork (records, partners, reports) is `paperwork.rs`.

mod bookings;
mod centres;
mod doc;
mod paperwork;
mod rosters;

use axum::Json;
use serde_json::{Value, json};

use super::accounts::{EnrolBody, Enrolled, SignInBody, SignedIn};
use super::admin::{DeskBody, DeskOut, IdOut, InterpreterBody, PinnedBody, TenantBody, TenantOut};
use super::clients::{DeskListed, DeskOut as DeskHome, InviteOut, MeOut};
use doc::{Common, Doc, ID, Op, Who};

use super::second_factor::{CodeBody, FactorStatus, RecoveryCodes, RuleBody, Setup};
use crate::directory::{InterpreterRow, PolicyDoc};

/// The OpenAPI document of the HTTP API.
pub fn openapi_document() -> Value {
    let mut d = Doc::new();
    let c = Common::new(&mut d);
    let e = c.error.clone();
    let text = |t: &str| Some(json!({ "type": "string", "description": t }));
    let Common { bad_body, invalid, forbidden, not_found, conflict, busy, draining, bad_id, .. } = c.clone();

    let body = Some(d.of::<EnrolBody>());
    let answers = vec![
        (200, "the device token", Some(d.of::<Enrolled>())),
        bad_body.clone(),
        (401, "the code is unknown or used", e.clone()),
        busy.clone(),
    ];
    d.add(
        "/api/enrol",
        "post",
        Op {
            summary: "Exchange a desk's one-time enrolment code for its device token",
            who: Who::Anyone,
            params: &[],
            body,
            answers,
        },
    );

    let body = Some(d.of::<SignInBody>());
    let answers = vec![
        (200, "a session token (maybe one that may only set up two-factor sign-in)", Some(d.of::<SignedIn>())),
        bad_body.clone(),
        (401, "not accepted (`unauthorized`), or `second_factor_required`: send it again with the code", e.clone()),
        busy.clone(),
    ];
    d.add(
        "/api/sign-in",
        "post",
        Op {
            summary: "Sign in an interpreter, a supervisor or an admin",
            who: Who::Anyone,
            params: &[],
            body,
            answers,
        },
    );
    d.add(
        "/api/sign-out",
        "post",
        Op {
            summary: "End the caller's session and close its connections",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers: vec![(204, "signed out", None)],
        },
    );

    let answers = vec![(200, "the tenants", Some(d.list::<TenantOut>())), forbidden.clone()];
    d.add(
        "/api/tenants",
        "get",
        Op { summary: "Tenants (a supervisor sees their own)", who: Who::Bearer, params: &[], body: None, answers },
    );
    let body = Some(d.of::<TenantBody>());
    let answers = vec![
        (201, "added", Some(d.of::<IdOut>())),
        bad_body.clone(),
        forbidden.clone(),
        conflict.clone(),
        invalid.clone(),
        draining.clone(),
    ];
    d.add("/api/tenants", "post", Op { summary: "Add a tenant (admin)", who: Who::Bearer, params: &[], body, answers });
    let body = Some(d.of::<PolicyDoc>());
    let answers = vec![
        (204, "applied", None),
        bad_id.clone(),
        forbidden.clone(),
        not_found.clone(),
        conflict.clone(),
        invalid.clone(),
        draining.clone(),
    ];
    d.add(
        "/api/tenants/{id}/policy",
        "put",
        Op { summary: "Replace a tenant's routing policy (admin)", who: Who::Bearer, params: ID, body, answers },
    );
    let body = Some(d.of::<PinnedBody>());
    let answers = vec![
        (204, "set", None),
        bad_id.clone(),
        bad_body.clone(),
        forbidden.clone(),
        not_found.clone(),
        invalid.clone(),
    ];
    d.add(
        "/api/tenants/{id}/languages",
        "put",
        Op {
            summary: "Pin languages to the front of a tenant's desks' grid (its supervisor, or an admin)",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
    paperwork::add(&mut d, &c);
    bookings::add(&mut d, &c);
    rosters::add(&mut d, &c);
    centres::add(&mut d, &c);
    let body = Some(d.of::<RuleBody>());
    let answers = vec![(204, "set", None), bad_id.clone(), forbidden.clone(), not_found.clone()];
    d.add(
        "/api/tenants/{id}/two-factor",
        "put",
        Op {
            summary: "Set who in a tenant must sign in with a second factor (admin)",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
    let body = Some(d.of::<DeskBody>());
    let answers = vec![
        (201, "the desk and its single-use enrolment code", Some(d.of::<DeskOut>())),
        bad_id.clone(),
        forbidden.clone(),
        not_found.clone(),
        conflict.clone(),
        invalid.clone(),
        draining.clone(),
    ];
    d.add(
        "/api/tenants/{id}/desks",
        "post",
        Op { summary: "Add a desk (admin)", who: Who::Bearer, params: ID, body, answers },
    );
    let answers = vec![(204, "revoked", None), bad_id.clone(), forbidden.clone(), not_found.clone()];
    d.add(
        "/api/desks/{id}",
        "delete",
        Op {
            summary: "Revoke a desk's device (admin): its token stops working",
            who: Who::Bearer,
            params: ID,
            body: None,
            answers,
        },
    );
    let answers = vec![(200, "the desks", Some(d.list::<DeskListed>())), forbidden.clone()];
    d.add(
        "/api/desks",
        "get",
        Op { summary: "Desks (a supervisor sees their tenant's)", who: Who::Bearer, params: &[], body: None, answers },
    );

    let answers = vec![(200, "the interpreters", Some(d.list::<InterpreterRow>())), forbidden.clone()];
    d.add(
        "/api/interpreters",
        "get",
        Op {
            summary: "Interpreters (a supervisor sees those serving their tenant)",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers,
        },
    );
    let body = Some(d.of::<InterpreterBody>());
    let answers = vec![
        (201, "added", Some(d.of::<IdOut>())),
        bad_body.clone(),
        forbidden.clone(),
        not_found.clone(),
        conflict.clone(),
        invalid.clone(),
        draining.clone(),
    ];
    d.add(
        "/api/interpreters",
        "post",
        Op { summary: "Add an interpreter (admin)", who: Who::Bearer, params: &[], body, answers },
    );
    let body = Some(d.of::<InterpreterBody>());
    let answers = vec![
        (204, "applied", None),
        bad_body.clone(),
        forbidden.clone(),
        not_found.clone(),
        conflict.clone(),
        invalid.clone(),
        draining.clone(),
    ];
    d.add(
        "/api/interpreters/{id}",
        "put",
        Op {
            summary: "Replace an interpreter's profile (admin); refused while they are rung or in a call",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );

    for (path, whose) in [
        ("/api/staff/{id}/second-factor", "a supervisor's or an admin's"),
        ("/api/interpreters/{id}/second-factor", "an interpreter's"),
    ] {
        let summary = format!("Remove {whose} lost second factor (admin): they set up a new one at their next sign-in");
        let answers = vec![(204, "removed", None), bad_id.clone(), forbidden.clone(), not_found.clone()];
        d.add(path, "delete", Op { summary: &summary, who: Who::Bearer, params: ID, body: None, answers });
    }
    let answers = vec![(200, "where the caller stands", Some(d.of::<FactorStatus>()))];
    d.add(
        "/api/me/second-factor",
        "get",
        Op {
            summary: "The caller's two-factor sign-in (any session, restricted ones too)",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers,
        },
    );
    let answers = vec![
        (201, "a new secret for the authenticator app", Some(d.of::<Setup>())),
        (409, "it is on already: remove it first", e.clone()),
    ];
    d.add(
        "/api/me/second-factor",
        "post",
        Op { summary: "Begin setting up two-factor sign-in", who: Who::Bearer, params: &[], body: None, answers },
    );
    let body = Some(d.of::<CodeBody>());
    let answers = vec![
        (204, "removed", None),
        bad_body.clone(),
        forbidden.clone(),
        (409, "a rule requires it for this account", e.clone()),
    ];
    d.add(
        "/api/me/second-factor",
        "delete",
        Op {
            summary: "Turn the caller's two-factor sign-in off, with a current code",
            who: Who::Bearer,
            params: &[],
            body,
            answers,
        },
    );
    let body = Some(d.of::<CodeBody>());
    let answers = vec![
        (200, "on; the recovery codes, shown this once", Some(d.of::<RecoveryCodes>())),
        bad_body.clone(),
        invalid.clone(),
    ];
    d.add(
        "/api/me/second-factor/confirm",
        "post",
        Op { summary: "Finish setting up with the app's first code", who: Who::Bearer, params: &[], body, answers },
    );

    let answers =
        vec![(200, "every language but Japanese", Some(d.list::<super::clients::LanguageOut>())), forbidden.clone()];
    d.add(
        "/api/languages",
        "get",
        Op {
            summary: "The language catalogue (supervisors and admins)",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers,
        },
    );
    let answers = vec![(200, "the desk's home screen", Some(d.of::<DeskHome>()))];
    d.add(
        "/api/desk",
        "get",
        Op {
            summary: "A desk's tenant and languages, most used first (desk token)",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers,
        },
    );
    let answers = vec![(200, "the interpreter's day", Some(d.of::<MeOut>())), forbidden.clone(), not_found.clone()];
    d.add(
        "/api/me",
        "get",
        Op {
            summary: "An interpreter's profile and day (interpreter session)",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers,
        },
    );
    let answers = vec![
        (200, "the link's language and party", Some(d.of::<InviteOut>())),
        (404, "the link was used, has expired, or its consultation ended", e.clone()),
        busy.clone(),
    ];
    d.add(
        "/api/invites/{token}",
        "get",
        Op {
            summary: "What an invite link is for, before joining",
            who: Who::Anyone,
            params: &[("token", "path", "string")],
            body: None,
            answers,
        },
    );

    d.add(
        "/api/openapi.json",
        "get",
        Op {
            summary: "This document",
            who: Who::Anyone,
            params: &[],
            body: None,
            answers: vec![(200, "OpenAPI 3.1", Some(json!({ "type": "object" })))],
        },
    );
    d.add(
        "/healthz",
        "get",
        Op { summary: "Alive", who: Who::Anyone, params: &[], body: None, answers: vec![(200, "alive", text("ok"))] },
    );
    d.add(
        "/readyz",
        "get",
        Op {
            summary: "Ready to take new work; a second line `phone: unavailable: …` when a phone line is configured and no phone gateway is connected (the node stays ready)",
            who: Who::Anyone,
            params: &[],
            body: None,
            answers: vec![(200, "ready", text("ready")), (503, "draining, or the store does not answer (`store: unavailable: …`)", text("draining"))],
        },
    );
    d.add(
        "/metrics",
        "get",
        Op {
            summary: "Prometheus metrics; on private_listen only when it is set, behind metrics_token when set",
            who: Who::Anyone,
            params: &[],
            body: None,
            answers: vec![
                (200, "Prometheus text format", None),
                (401, "the metrics token is missing or wrong", None),
                (404, "served on the private listener", None),
            ],
        },
    );
    d.add(
        "/ws",
        "get",
        Op {
            summary: "WebSocket signalling (see proto/README.md)",
            who: Who::Anyone,
            params: &[],
            body: None,
            answers: vec![
                (101, "switching protocols", None),
                (400, "not a WebSocket upgrade", None),
                (503, "every connection place is taken", None),
            ],
        },
    );

    let schemas = d.generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kakehashi",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Directory, credentials and records of a kakehashi server. Signalling is WebSocket at /ws (see proto/). Every error answers {\"error\": {\"code\", \"message\"}}."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas,
        },
        "paths": d.paths,
    })
}

/// `GET /api/openapi.json`.
pub(super) async fn openapi() -> Json<Value> {
    Json(openapi_document())
}
