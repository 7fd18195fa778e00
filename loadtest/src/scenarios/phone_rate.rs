//! Phone call setups per second: SIPp (`sip-tester`) calls the server's phone line (the
//! bridge inside `kakehashi serve`, `[phone]`) at a fixed rate; each call is answered,
//! hears its prompt for a moment and hangs up. Every call must succeed; the time to the
//! answer and the server's CPU per call are reported.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::LoadError;
use crate::report::round;
use crate::server::free_port;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Calls per second.
    pub rate: u32,
    /// Calls in all.
    pub calls: u32,
    /// How long each caller stays, ms.
    pub hold_ms: u32,
}

/// The server's configuration for the run: a phone line on `sip`, taking calls from
/// loopback.
pub fn config(sip: u16) -> String {
    format!("phone_number = \"0120-000-000\"\n[phone]\nsip_listen = \"127.0.0.1:{sip}\"\ntrunks = [\"127.0.0.1\"]\n")
}

/// One column of SIPp's statistics file (the last line, cumulative).
fn column(csv: &str, name: &str) -> Option<String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next()?.split(';').collect();
    let last: Vec<&str> = lines.next_back()?.split(';').collect();
    let at = header.iter().position(|h| *h == name)?;
    last.get(at).map(|v| v.trim().to_string())
}

/// `hh:mm:ss:uuuuuu` or `hh:mm:ss:mmm` as milliseconds.
fn millis(v: &str) -> Option<f64> {
    let parts: Vec<&str> = v.split(':').collect();
    let [h, m, s, frac] = parts[..] else { return None };
    let frac_ms = if frac.len() > 3 { frac.parse::<f64>().ok()? / 1000.0 } else { frac.parse::<f64>().ok()? };
    Some((h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?) * 1000.0 + frac_ms)
}

/// Run SIPp against the line on `sip`, the server being `pid`.
pub async fn run(repo: &Path, sip: u16, pid: u32, o: &Options) -> Result<(Vec<String>, Value), LoadError> {
    if !Path::new("/usr/bin/sipp").exists() {
        return Err(LoadError::Server("SIPp is missing: apt-get install sip-tester".into()));
    }
    let work = std::env::temp_dir().join(format!("kakehashi-load-sipp-{}-{sip}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let scenario = std::fs::read_to_string(repo.join("loadtest/sipp/uac_rate.xml"))?;
    std::fs::write(work.join("uac_rate.xml"), scenario.replace("HOLD", &o.hold_ms.to_string()))?;
    let before = crate::proc::usage(pid).unwrap_or_default();
    let started = Instant::now();
    let out = tokio::process::Command::new("sipp")
        .current_dir(&work)
        .arg(format!("127.0.0.1:{sip}"))
        .args(["-sf", "uac_rate.xml", "-s", "0120000000", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &free_port()?.to_string(), "-mp", &free_port()?.to_string()])
        .args(["-r", &o.rate.to_string(), "-m", &o.calls.to_string(), "-l", "10000"])
        .args(["-nostdin", "-trace_stat", "-stf", "stats.csv", "-fd", "1", "-timeout", "600s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await?;
    let elapsed = started.elapsed();
    // The last calls' prompts and legs wind down.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = crate::proc::usage(pid).unwrap_or_default();
    let csv = std::fs::read_to_string(work.join("stats.csv")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&work);
    let num = |name: &str| column(&csv, name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let (ok, failed) = (num("SuccessfulCall(C)"), num("FailedCall(C)"));
    let answer_ms = column(&csv, "ResponseTime1(C)").as_deref().and_then(millis).unwrap_or(0.0);
    let cpu = (after.cpu.saturating_sub(before.cpu)).as_secs_f64();
    let per_call_ms = if ok > 0 { cpu * 1000.0 / ok as f64 } else { 0.0 };
    let achieved = ok as f64 / (elapsed.as_secs_f64() - f64::from(o.hold_ms) / 1000.0).max(0.001);
    let lines = vec![
        format!(
            "{ok} of {} calls set up at {} per second ({achieved:.1}/s achieved), {failed} failed",
            o.calls, o.rate
        ),
        if answer_ms < 1.0 {
            "time to the answer (INVITE to 200 OK): under 1 ms on average (SIPp counts whole milliseconds)".into()
        } else {
            format!("time to the answer (INVITE to 200 OK): {answer_ms:.1} ms on average")
        },
        format!(
            "server CPU: {cpu:.2} s in all, {per_call_ms:.2} ms per call (answer, prompt for {} ms, hang-up)",
            o.hold_ms
        ),
    ];
    let value = json!({
        "scenario": "phone-rate",
        "rate": o.rate,
        "calls": o.calls,
        "hold_ms": o.hold_ms,
        "successful": ok,
        "failed": failed,
        "achieved_per_sec": round(achieved),
        "answer_ms_mean": round(answer_ms),
        "server_cpu_secs": round(cpu),
        "server_cpu_ms_per_call": round(per_call_ms),
    });
    if ok < u64::from(o.calls) || failed > 0 || !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(LoadError::Check(format!("{}\n{}\nSIPp: {}", lines.join("\n"), value, stderr.trim())));
    }
    Ok((lines, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sipps_statistics_are_read() {
        let csv = "StartTime;SuccessfulCall(C);FailedCall(C);ResponseTime1(C);\n\
                   x;10;0;00:00:00:000000;\nx;500;2;00:00:00:012500;\n";
        assert_eq!(column(csv, "SuccessfulCall(C)").as_deref(), Some("500"));
        assert_eq!(column(csv, "FailedCall(C)").as_deref(), Some("2"));
        assert_eq!(millis("00:00:00:012500"), Some(12.5));
        assert_eq!(millis("00:00:01:250"), Some(1250.0));
        assert_eq!(column("", "x"), None);
    }
}
