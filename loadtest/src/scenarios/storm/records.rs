//! The soak's final check: the call records match what the desks saw end.

use serde_json::{Value, json};
use std::time::Duration;

use super::Shared;
use crate::LoadError;
use crate::server::Server;

/// Every completed call has exactly one call record, and so has every other ending:
/// the records of the tenant, counted by desk and outcome, match what the desks saw.
pub(super) async fn check_records(
    server: &Server,
    tenant: i64,
    since_ms: i64,
    shared: &Shared,
) -> Result<Value, LoadError> {
    // Records are written just after the engine decides; give the last ones a moment.
    let want: std::collections::BTreeMap<i64, [u64; 4]> = shared.endings.lock().await.clone();
    let total: u64 = want.values().map(|e| e.iter().sum::<u64>()).sum();
    let mut last = Value::Null;
    for _ in 0..50 {
        let records = server.http.get(&format!("/api/call-records?since={since_ms}"), Some(&server.admin)).await?;
        let mut got: std::collections::BTreeMap<i64, [u64; 4]> = Default::default();
        for r in records.as_array().into_iter().flatten().filter(|r| r["tenant"] == tenant) {
            let slot = match r["outcome"].as_str() {
                Some("answered") => 0,
                Some("abandoned") => 1,
                Some("unserved") => 2,
                _ => 3,
            };
            got.entry(r["desk"].as_i64().unwrap_or_default()).or_default()[slot] += 1;
        }
        let got_total: u64 = got.values().map(|e| e.iter().sum::<u64>()).sum();
        let same = want.iter().all(|(d, e)| got.get(d).copied().unwrap_or_default() == *e) && got_total == total;
        if same {
            return Ok(json!({"records": got_total, "desks": want.len(), "matched": true}));
        }
        let diff: Vec<Value> = want
            .iter()
            .filter(|(d, e)| got.get(d).copied().unwrap_or_default() != **e)
            .take(5)
            .map(|(d, e)| json!({"desk": d, "seen": e, "recorded": got.get(d).copied().unwrap_or_default()}))
            .collect();
        last = json!({"seen": total, "recorded": got_total, "differ": diff});
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(LoadError::Check(format!(
        "call records do not match what the desks saw (answered, abandoned, unserved, expired): {last}"
    )))
}
