//! Session timers (RFC 4028): carriers drop calls that are not refreshed (often after
//! 30 minutes), and interpretation calls run long. When a call carries `Session-Expires`,
//! one side refreshes it with a re-INVITE every half interval; the other hangs up if no
//! refresh comes before it expires. As the answering side the bridge lets the caller
//! refresh when it can (`refresher=uac`); as the calling side it offers 30 minutes.

use std::future::Future;
use std::time::Duration;

use rsipstack::dialog::DialogId;
use rsipstack::sip::{Header, Response};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::gateway::Calls;
use crate::sdp;

/// What the bridge asks for on calls it places.
pub const OFFERED: Duration = Duration::from_secs(1800);
/// The shortest interval taken (RFC 4028 asks 90 s of Min-SE; shorter ones a peer sends
/// are stretched to this).
pub const SHORTEST: Duration = Duration::from_secs(10);

/// A call's timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    /// The session interval.
    pub interval: Duration,
    /// Whether the bridge refreshes (else the phone's side does).
    pub we_refresh: bool,
}

/// `Session-Expires`' seconds and `refresher` parameter.
fn parse(value: &str) -> Option<(u64, Option<String>)> {
    let mut parts = value.split(';');
    let secs: u64 = parts.next()?.trim().parse().ok()?;
    let refresher = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("refresher").then(|| v.trim().to_ascii_lowercase())
    });
    Some((secs, refresher))
}

fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers.iter().find_map(|h| match h {
        Header::SessionExpires(v) if name == "Session-Expires" => Some(v.value()),
        Header::Supported(v) if name == "Supported" => Some(v.value()),
        Header::Require(v) if name == "Require" => Some(v.value()),
        _ => None,
    })
}

fn has_timer(list: Option<&str>) -> bool {
    list.is_some_and(|l| l.split(',').any(|t| t.trim().eq_ignore_ascii_case("timer")))
}

/// The terms of a call taken, from its INVITE's headers: `None` without `Session-Expires`.
/// A caller that supports timers refreshes unless it asked us to; one that does not
/// leaves it to us.
pub fn as_answerer(headers: &[Header]) -> Option<Terms> {
    let (secs, refresher) = parse(header(headers, "Session-Expires")?)?;
    let interval = Duration::from_secs(secs).max(SHORTEST);
    let caller_can = has_timer(header(headers, "Supported"));
    let we_refresh = match refresher.as_deref() {
        Some("uas") => true,
        Some("uac") => !caller_can,
        _ => !caller_can,
    };
    Some(Terms { interval, we_refresh })
}

/// The headers of our 2xx for `terms`.
pub fn answer_headers(terms: Terms) -> Vec<Header> {
    let who = if terms.we_refresh { "uas" } else { "uac" };
    let mut h = vec![Header::SessionExpires(format!("{};refresher={who}", terms.interval.as_secs()).into())];
    if !terms.we_refresh {
        h.push(Header::Require("timer".into()));
    }
    h
}

/// The headers of an INVITE the bridge sends.
pub fn offer_headers() -> Vec<Header> {
    vec![Header::Supported("timer".into()), Header::SessionExpires(format!("{}", OFFERED.as_secs()).into())]
}

/// The terms of a call placed, from the 2xx's headers: `None` when the far end took no
/// timer. Without a `refresher` the caller (we) refreshes.
pub fn as_caller(headers: &[Header]) -> Option<Terms> {
    let (secs, refresher) = parse(header(headers, "Session-Expires")?)?;
    Some(Terms { interval: Duration::from_secs(secs).max(SHORTEST), we_refresh: refresher.as_deref() != Some("uas") })
}

/// When, after the last refresh, the side that waits gives up: the interval less a third
/// of it or 32 s, whichever is less (RFC 4028 §10).
pub fn deadline(interval: Duration) -> Duration {
    interval.saturating_sub((interval / 3).min(Duration::from_secs(32)))
}

/// Keep a call's timer until it ends: refresh every half interval (`refresh` says
/// whether it was taken), or watch `refreshed` (the last refresh the phone's side sent).
/// Returns when the call should be hung up: a refresh refused, or none received in time.
pub async fn keep<F, R>(terms: Terms, mut refreshed: watch::Receiver<Instant>, mut refresh: F)
where
    F: FnMut() -> R,
    R: Future<Output = bool>,
{
    if terms.we_refresh {
        loop {
            tokio::time::sleep(terms.interval / 2).await;
            if !refresh().await {
                tracing::debug!("a session refresh was not taken (or the call is over)");
                return;
            }
        }
    }
    loop {
        let last = *refreshed.borrow_and_update();
        let until = last + deadline(terms.interval);
        tokio::select! {
            () = tokio::time::sleep_until(until) => {
                if *refreshed.borrow() == last {
                    tracing::info!("no session refresh came in time: the call is hung up");
                    return;
                }
            }
            changed = refreshed.changed() => if changed.is_err() { return },
        }
    }
}

/// Keep call `id`'s timer in a task of its own: `reinvite` sends a refresh (the dialog's
/// re-INVITE), `hang_up` ends the call when the timer runs out (unless it ended first).
pub(crate) fn guard<S, F, H, G>(
    terms: Terms,
    refreshed: watch::Receiver<Instant>,
    calls: Calls,
    id: DialogId,
    reinvite: S,
    hang_up: H,
) where
    S: Fn(Vec<Header>, Vec<u8>) -> F + Send + Sync + 'static,
    F: Future<Output = rsipstack::Result<Option<Response>>> + Send,
    H: FnOnce() -> G + Send + 'static,
    G: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let reinvite = std::sync::Arc::new(reinvite);
        keep(terms, refreshed, || {
            let (calls, id, reinvite) = (std::sync::Arc::clone(&calls), id.clone(), std::sync::Arc::clone(&reinvite));
            async move { refresh(&calls, &id, terms, |h, b| reinvite(h, b)).await }
        })
        .await;
        if calls.lock().unwrap_or_else(|e| e.into_inner()).remove(&id).is_some() {
            hang_up().await;
        }
    });
}

/// Refresh call `id`: a re-INVITE (sent by `send`) with our description again, its
/// version up, and the timer's headers; the answer's terms apply. Whether it was taken.
pub(crate) async fn refresh<S, F>(calls: &Calls, id: &DialogId, terms: Terms, send: S) -> bool
where
    S: FnOnce(Vec<Header>, Vec<u8>) -> F,
    F: Future<Output = rsipstack::Result<Option<Response>>>,
{
    let offer = {
        let mut calls = calls.lock().unwrap_or_else(|e| e.into_inner());
        let Some(live) = calls.get_mut(id) else { return false };
        live.local.version += 1;
        sdp::offer(&live.local, live.agreed.borrow().direction)
    };
    let headers = vec![
        Header::ContentType("application/sdp".into()),
        Header::Supported("timer".into()),
        // The sender of a refresh is its refresher.
        Header::SessionExpires(format!("{};refresher=uac", terms.interval.as_secs()).into()),
    ];
    match send(headers, offer.into_bytes()).await {
        Ok(Some(r)) if (200..300).contains(&r.status_code.code()) => {
            if let Ok(agreed) = sdp::answered(&String::from_utf8_lossy(&r.body))
                && let Some(live) = calls.lock().unwrap_or_else(|e| e.into_inner()).get(id)
            {
                live.agreed.send_replace(agreed);
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Vec<Header> {
        list.iter()
            .map(|(k, v)| match *k {
                "Session-Expires" => Header::SessionExpires((*v).into()),
                "Supported" => Header::Supported((*v).into()),
                _ => Header::Require((*v).into()),
            })
            .collect()
    }

    #[test]
    fn the_caller_refreshes_when_it_can() {
        let t = as_answerer(&headers(&[("Session-Expires", "1800"), ("Supported", "100rel, timer")])).unwrap();
        assert_eq!(t, Terms { interval: Duration::from_secs(1800), we_refresh: false });
        let h = answer_headers(t);
        assert!(matches!(&h[0], Header::SessionExpires(v) if v.value() == "1800;refresher=uac"));
        assert!(matches!(&h[1], Header::Require(v) if v.value() == "timer"));
        // Asked to refresh, or a caller without timers (a proxy added the header): we do.
        let t = as_answerer(&headers(&[("Session-Expires", "90;refresher=uas"), ("Supported", "timer")])).unwrap();
        assert!(t.we_refresh);
        assert_eq!(answer_headers(t).len(), 1, "no Require when we refresh");
        assert!(as_answerer(&headers(&[("Session-Expires", "600")])).unwrap().we_refresh);
        assert_eq!(as_answerer(&headers(&[("Supported", "timer")])), None);
        assert_eq!(as_answerer(&headers(&[("Session-Expires", "soon")])), None, "garbage is no timer");
        assert_eq!(as_answerer(&headers(&[("Session-Expires", "1")])).unwrap().interval, SHORTEST);
    }

    #[test]
    fn as_caller_we_refresh_unless_told_otherwise() {
        assert!(as_caller(&headers(&[("Session-Expires", "1800;refresher=uac")])).unwrap().we_refresh);
        assert!(as_caller(&headers(&[("Session-Expires", "1800")])).unwrap().we_refresh);
        assert!(!as_caller(&headers(&[("Session-Expires", "1800; Refresher=UAS")])).unwrap().we_refresh);
        assert_eq!(deadline(Duration::from_secs(1800)), Duration::from_secs(1768));
        assert_eq!(deadline(Duration::from_secs(90)), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_not_refreshed_in_time_ends_and_one_refreshed_goes_on() {
        let terms = Terms { interval: Duration::from_secs(90), we_refresh: false };
        let (tx, rx) = watch::channel(Instant::now());
        let started = Instant::now();
        let watching = tokio::spawn(keep(terms, rx, || async { true }));
        tokio::time::sleep(Duration::from_secs(50)).await;
        tx.send_replace(Instant::now());
        watching.await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_secs(110), "60 s after the refresh at 50 s");
        // Refreshing: every 45 s until one is refused.
        let terms = Terms { interval: Duration::from_secs(90), we_refresh: true };
        let (_tx, rx) = watch::channel(Instant::now());
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let count = std::sync::Arc::clone(&sent);
        let started = Instant::now();
        keep(terms, rx, move || {
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { n < 2 }
        })
        .await;
        assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(started.elapsed(), Duration::from_secs(135));
    }
}
