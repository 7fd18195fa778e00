//! Call records, on one path: every request that ends (answered, abandoned, expired,
//! unserved) leaves one record, built from the engine's facts (offers, wait) and the
//! call's own (who, when, quality), written before anyone hears it ended. A desk may then
//! give the outcome of an answered call for a day.

use std::collections::HashMap;
use std::time::Duration;

use kakehashi_dispatch as d;
use kakehashi_protocol as p;

use super::convert::{err, rfc3339};
use super::{Call, CallId, Core, Delivery, Fact, Output};
use crate::store::{CallRecord, DeskOutcome, RecordOutcome};

/// How long a desk may give an answered call's outcome.
pub(crate) const OUTCOME_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// A written record of an answered call whose outcome the desk may still give.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    /// The record's id.
    pub id: i64,
    /// Its tenant.
    pub tenant: i64,
    /// Its desk.
    pub desk: i64,
    /// Until when.
    pub until: d::Timestamp,
}

/// A record ordered and not yet seen written.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Unwritten {
    record: CallRecord,
    key: String,
    then: Vec<Delivery>,
}

/// Records ordered and not yet written, and answered calls whose records are written, for
/// their outcomes.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Kept {
    /// Ordered, not yet seen written: a new writer orders them again.
    unwritten: std::collections::BTreeMap<CallId, Unwritten>,
    /// Calls that ended and await their record's id: (tenant, desk).
    pending: HashMap<CallId, (i64, i64)>,
    written: HashMap<CallId, Recorded>,
}

impl Kept {
    pub(super) fn keep(&mut self, call: CallId, id: i64, now: d::Timestamp) {
        self.unwritten.remove(&call);
        if let Some((tenant, desk)) = self.pending.remove(&call) {
            self.written.insert(call, Recorded { id, tenant, desk, until: now + OUTCOME_WINDOW });
        }
    }

    pub(super) fn expire(&mut self, now: d::Timestamp) {
        self.written.retain(|_, r| r.until > now);
    }
}

/// What a desk said of an ended call (`record_outcome`, less the call).
#[derive(Debug)]
pub(super) struct Said {
    /// The handling status.
    pub outcome: p::OutcomeCategory,
    /// What it was about.
    pub topics: Vec<p::Topic>,
    /// The resident's municipality.
    pub residence: Option<i64>,
    /// The partner the resident was referred to (checked before it gets here).
    pub referral: Option<i64>,
    /// The handling note, sealed by the edge (never its text).
    pub note: Option<String>,
}

impl Core {
    /// Order a request's record, kept until it is seen written. Its write key comes from
    /// the request (its municipality, desk, time and number), so ordering it again finds
    /// the row a lost answer hid instead of writing a second.
    fn order_record(&mut self, call: CallId, record: CallRecord, then: Vec<Delivery>) {
        let key = format!("{}-{}-{}-{}", record.tenant_id, record.desk_id, record.requested_at, call.0);
        let unwritten = Unwritten { record: record.clone(), key: key.clone(), then: then.clone() };
        self.recorded.unwritten.insert(call, unwritten);
        self.out(Output::Record { record, key, call, then });
    }

    /// Order again every record not yet seen written (a new writer took over).
    pub(super) fn order_unwritten(&mut self) {
        let again: Vec<Output> = self
            .recorded
            .unwritten
            .iter()
            .map(|(call, u)| Output::Record {
                record: u.record.clone(),
                key: u.key.clone(),
                call: *call,
                then: u.then.clone(),
            })
            .collect();
        for output in again {
            self.out(output);
        }
    }

    fn record(&self, call: &Call, outcome: RecordOutcome, now: d::Timestamp) -> CallRecord {
        let interpreter = call.interpreter();
        let (loss, rtt_ms, reconnects) = call.quality.summary();
        CallRecord {
            id: 0,
            tenant_id: call.tenant,
            desk_id: call.desk,
            language: call.language.clone(),
            speciality: call.speciality.map(|s| s.as_str().to_string()),
            modality: call.modality.as_str().to_string(),
            tier: interpreter.and_then(|i| self.tiers.get(&i)).map(|t| t.as_str().to_string()),
            interpreter_id: interpreter,
            requested_at: call.requested_at.as_millis(),
            offered_at: call.offered_at.map(d::Timestamp::as_millis),
            answered_at: call.answer.map(|a| a.at.as_millis()),
            ended_at: now.as_millis(),
            offers: i64::from(call.offers),
            outcome,
            desk_outcome: None,
            topics: Vec::new(),
            residence_id: None,
            referral_id: None,
            loss,
            rtt_ms,
            reconnects,
            remote_residents: call.remote.residents,
            guests: call.remote.guests,
            phones: call.remote.phones,
        }
    }

    fn count_end(&mut self, call: &Call, outcome: &'static str) {
        let tenant = self.names.tenants.get(&call.tenant).cloned().unwrap_or_else(|| "unknown".into());
        self.fact(Fact::RequestEnded { tenant, language: call.language.clone(), outcome });
    }

    /// An answered call ended: its record, then `then`.
    pub(super) fn record_answered(&mut self, now: d::Timestamp, call: &Call, then: Vec<Delivery>) {
        self.count_end(call, "answered");
        let record = self.record(call, RecordOutcome::Answered, now);
        self.recorded.pending.insert(call.id, (call.tenant, call.desk));
        self.order_record(call.id, record, then);
    }

    /// A request ended without an interpreter: its record, then the desk hears.
    pub(super) fn record_unanswered(&mut self, now: d::Timestamp, call: &Call, outcome: d::Outcome) {
        let request = call.id.0;
        let (label, stored, event) = match outcome {
            d::Outcome::Abandoned => ("abandoned", RecordOutcome::Abandoned, p::DeskEvent::Cancelled { request }),
            d::Outcome::Expired => ("expired", RecordOutcome::Expired, p::DeskEvent::Expired { request }),
            d::Outcome::Unserved(s) => {
                let s = match self.calendars.get(&call.tenant) {
                    Some(c) => crate::calendar::answer::within_opening(c, s, now),
                    None => s,
                };
                (
                    "unserved",
                    RecordOutcome::Unserved,
                    p::DeskEvent::Unserved {
                        request,
                        suggestion: match s {
                            d::Suggestion::LaterToday(t) => p::Suggestion::LaterToday { from: rfc3339(t) },
                            d::Suggestion::Booking(t) => p::Suggestion::Booking { from: rfc3339(t) },
                            d::Suggestion::Phone => p::Suggestion::Phone,
                        },
                    },
                )
            }
        };
        self.count_end(call, label);
        let record = self.record(call, stored, now);
        let mut then = vec![Delivery::Desk(call.desk, event)];
        then.extend(self.line_ended(call.id, &outcome));
        self.order_record(call.id, record, then);
    }

    /// The desk's category for an answered call of its own, within the window.
    pub(super) fn record_outcome(
        &mut self,
        desk: i64,
        tenant: i64,
        call: u64,
        said: Said,
    ) -> Result<(), p::ProtocolError> {
        let Said { outcome, topics, residence, referral, note } = said;
        let key = d::RequestId(call);
        let record = match self.recorded.written.get(&key) {
            Some(r) if r.tenant == tenant && r.desk == desk && r.until > self.now => r.id,
            _ => return Err(err(p::ErrorCode::NotFound, format!("no ended call {call} of this desk"))),
        };
        if let Some(town) = residence
            && !self.names.tenants.contains_key(&town)
        {
            return Err(err(p::ErrorCode::InvalidField, format!("residence: no municipality {town}")));
        }
        self.recorded.written.remove(&key);
        let status = outcome.code();
        let mut topics: Vec<&'static str> = topics.into_iter().map(p::Topic::code).collect();
        topics.sort_unstable();
        topics.dedup();
        // The referral is checked against the municipality's partners before it gets here.
        let outcome = DeskOutcome { status, topics, residence, referral, note };
        let then = Delivery::Desk(desk, p::DeskEvent::OutcomeRecorded { call });
        self.out(Output::Outcome { record, tenant, outcome, then });
        Ok(())
    }
}
