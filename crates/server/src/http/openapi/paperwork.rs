//! The centre's paperwork in the OpenAPI document: call records, the partner directory,
//! the reports and the handling status.

use super::doc::{Common, Doc, ID, Op, Who};
use crate::calendar::CalendarDoc;
use crate::http::admin::IdOut;
use crate::http::calendar::CalendarOut;
use crate::http::cost_split::RuleBody;
use crate::http::notes::NoteOut;
use crate::http::partners::PartnerBody;
use crate::http::records::RecordOut;
use crate::http::reports::StatusBody;
use crate::reports::cost_split::CostSplit;
use crate::reports::staffing::StaffingPlan;
use crate::reports::{DailyReport, MonthlyReport};
use crate::store::{AuditEntry, Partner, Retention};

/// The paperwork's operations.
pub(super) fn add(d: &mut Doc, c: &Common) {
    let Common { bad_body, invalid, forbidden, not_found, conflict, bad_id, .. } = c.clone();
    let e = c.error.clone();
    let answers = vec![
        (200, "records, oldest first; no names, numbers or content", Some(d.list::<RecordOut>())),
        (400, "`since` is not a number", e.clone()),
        forbidden.clone(),
    ];
    d.add(
        "/api/call-records",
        "get",
        Op {
            summary: "Call records of the caller's tenant (every tenant for an admin)",
            who: Who::Bearer,
            params: &[("since", "query", "since")],
            body: None,
            answers,
        },
    );

    let who = "(its supervisor, or an admin)";
    let list =
        vec![(200, "every partner, retired ones too", Some(d.of::<Vec<Partner>>())), bad_id.clone(), forbidden.clone()];
    d.add(
        "/api/tenants/{id}/partners",
        "get",
        Op {
            summary: &format!("A municipality's partner directory {who}"),
            who: Who::Bearer,
            params: ID,
            body: None,
            answers: list,
        },
    );
    let body = Some(d.of::<PartnerBody>());
    let mut answers = vec![bad_id.clone(), bad_body.clone(), forbidden.clone(), not_found.clone()];
    answers.extend([conflict.clone(), invalid.clone()]);
    let mut added = answers.clone();
    added.insert(0, (201, "added", Some(d.of::<IdOut>())));
    let summary = format!("Add a partner a municipality's desks may refer residents to {who}");
    d.add(
        "/api/tenants/{id}/partners",
        "post",
        Op { summary: &summary, who: Who::Bearer, params: ID, body: body.clone(), answers: added },
    );
    answers.insert(0, (204, "changed", None));
    let summary = format!("Rename, re-kind, retire or bring back a partner {who}");
    d.add("/api/partners/{id}", "put", Op { summary: &summary, who: Who::Bearer, params: ID, body, answers });

    let answers = vec![
        (200, "the report (as JSON, or the file `format` asks for)", Some(d.of::<DailyReport>())),
        (400, "a parameter is missing or wrong (the message names it)", e.clone()),
        forbidden.clone(),
        not_found.clone(),
    ];
    d.add(
        "/api/reports/daily",
        "get",
        Op {
            summary: "A municipality's daily report (日報): its consultations of a local day and their totals \
                      (its supervisor, or an admin)",
            who: Who::Bearer,
            params: &[
                ("municipality", "query", "integer!"),
                ("date", "query", "date!"),
                ("format", "query", "format"),
                ("lang", "query", "lang"),
                ("notes", "query", "boolean"),
            ],
            body: None,
            answers,
        },
    );
    d.files("/api/reports/daily", "get");
    let answers = vec![
        (200, "the note (the read is audited)", Some(d.of::<NoteOut>())),
        bad_id.clone(),
        forbidden.clone(),
        not_found.clone(),
    ];
    d.add(
        "/api/call-records/{id}/note",
        "get",
        Op {
            summary: "A consultation's handling note (the supervisors of the municipality whose desk wrote it \
                      only; every read audited)",
            who: Who::Bearer,
            params: ID,
            body: None,
            answers,
        },
    );
    let month = &[
        ("municipality", "query", "integer"),
        ("month", "query", "month!"),
        ("format", "query", "format"),
        ("lang", "query", "lang"),
    ];
    let answers = vec![
        (200, "the statistics (as JSON, or the file `format` asks for)", Some(d.of::<MonthlyReport>())),
        (400, "a parameter is missing or wrong (the message names it)", e.clone()),
        forbidden.clone(),
        not_found.clone(),
    ];
    d.add(
        "/api/reports/monthly",
        "get",
        Op {
            summary: "A municipality's monthly statistics with its interpreters' activity (its supervisor, or an \
                      admin); without `municipality`, the whole centre's with the interpreters' logins (admin)",
            who: Who::Bearer,
            params: month,
            body: None,
            answers: answers.clone(),
        },
    );
    d.files("/api/reports/monthly", "get");
    d.add(
        "/api/reports/shared",
        "get",
        Op {
            summary: "The shared centre's monthly report across its members, without personal data or the \
                      interpreters (every member's supervisor, and admins)",
            who: Who::Bearer,
            params: &month[1..],
            body: None,
            answers,
        },
    );
    d.files("/api/reports/shared", "get");
    let answers =
        vec![(200, "the rule and each member's foreign residents", Some(d.of::<RuleBody>())), forbidden.clone()];
    d.add(
        "/api/cost-split",
        "get",
        Op {
            summary: "The shared centre's cost split rule (any supervisor, or an admin)",
            who: Who::Bearer,
            params: &[],
            body: None,
            answers,
        },
    );
    let body = Some(d.of::<RuleBody>());
    let answers = vec![(204, "set", None), bad_body.clone(), forbidden.clone(), invalid.clone()];
    d.add(
        "/api/cost-split",
        "put",
        Op {
            summary: "Set the cost split rule and members' foreign residents together (admin; audited)",
            who: Who::Bearer,
            params: &[],
            body,
            answers,
        },
    );
    let answers = vec![
        (200, "the split (as JSON, or the file `format` asks for)", Some(d.of::<CostSplit>())),
        (400, "a parameter is missing or wrong (the message names it)", e.clone()),
        forbidden.clone(),
        not_found.clone(),
    ];
    d.add(
        "/api/reports/cost-split",
        "get",
        Op {
            summary: "A month's cost split among the shared centre's members, or one member's statement (any \
                      supervisor, or an admin)",
            who: Who::Bearer,
            params: month,
            body: None,
            answers,
        },
    );
    d.files("/api/reports/cost-split", "get");
    let answers = vec![
        (200, "the plan (as JSON, or the file `format` asks for)", Some(d.of::<StaffingPlan>())),
        (400, "a parameter is missing or wrong (the message names it)", e.clone()),
        forbidden.clone(),
        not_found.clone(),
    ];
    d.add(
        "/api/reports/staffing",
        "get",
        Op {
            summary: "The staffing plan: interpreters needed by language, weekday and hour for a target service \
                      level (Erlang C on the last weeks' arrivals and handle times) against those rostered in the \
                      coming week, with the gaps (a municipality's supervisor, or an admin; the whole centre: admin)",
            who: Who::Bearer,
            params: &[
                ("municipality", "query", "integer"),
                ("weeks", "query", "weeks"),
                ("target", "query", "target"),
                ("secs", "query", "secs"),
                ("as_of", "query", "date"),
                ("format", "query", "format"),
                ("lang", "query", "lang"),
            ],
            body: None,
            answers,
        },
    );
    d.files("/api/reports/staffing", "get");
    let answers =
        vec![(200, "days kept", Some(d.of::<Retention>())), bad_id.clone(), forbidden.clone(), not_found.clone()];
    d.add(
        "/api/tenants/{id}/retention",
        "get",
        Op {
            summary: "How long a municipality keeps its call records, handling notes and audit entries, and whether it keeps notes (its supervisor, or an admin)",
            who: Who::Bearer,
            params: ID,
            body: None,
            answers,
        },
    );
    let body = Some(d.of::<Retention>());
    let answers = vec![
        (204, "set", None),
        bad_id.clone(),
        bad_body.clone(),
        forbidden.clone(),
        not_found.clone(),
        invalid.clone(),
    ];
    d.add(
        "/api/tenants/{id}/retention",
        "put",
        Op {
            summary: "Set how long a municipality keeps its records, notes and audit entries, and whether it keeps notes; the hourly purge applies \
                      it (admin; audited)",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
    let answers = vec![
        (200, "the calendar and the next two weeks", Some(d.of::<CalendarOut>())),
        bad_id.clone(),
        forbidden.clone(),
        not_found.clone(),
    ];
    d.add(
        "/api/tenants/{id}/calendar",
        "get",
        Op {
            summary: "A municipality's centre calendar: opening hours, holidays, closures and extra openings, \
                      the next two weeks' plans and when it next opens (its supervisor, or an admin)",
            who: Who::Bearer,
            params: ID,
            body: None,
            answers,
        },
    );
    let body = Some(d.of::<CalendarDoc>());
    let answers = vec![
        (204, "set", None),
        bad_id.clone(),
        bad_body.clone(),
        forbidden.clone(),
        not_found.clone(),
        invalid.clone(),
    ];
    d.add(
        "/api/tenants/{id}/calendar",
        "put",
        Op {
            summary: "Set a municipality's centre calendar (its supervisor, or an admin; audited)",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
    let answers = vec![
        (200, "entries, newest first", Some(d.of::<Vec<AuditEntry>>())),
        (400, "a parameter is wrong (the message names it)", e.clone()),
        forbidden.clone(),
    ];
    d.add(
        "/api/audit-log",
        "get",
        Op {
            summary: "The audit log: who did what, by role and id, never a name (admin)",
            who: Who::Bearer,
            params: &[("since", "query", "since"), ("tenant", "query", "integer"), ("limit", "query", "limit")],
            body: None,
            answers,
        },
    );
    let body = Some(d.of::<StatusBody>());
    let answers = vec![(204, "set", None), bad_id, bad_body, forbidden, not_found];
    d.add(
        "/api/call-records/{id}/status",
        "put",
        Op {
            summary: "Update an interpreted consultation's handling status later (a supervisor of the desk's \
                      municipality, or an admin; audited)",
            who: Who::Bearer,
            params: ID,
            body,
            answers,
        },
    );
}
