//! The commands and events every scenario's desks and interpreters share, in the
//! protocol's own types, and the connection's moves they share (the next event, a
//! reconnect that must resume).

use std::time::Duration;

use kakehashi_client::{ClientError, Desk, Interpreter, Role, Signal};
use kakehashi_protocol as p;

use crate::LoadError;

/// A desk's request for an interpreter of `language`, video, nothing special.
pub fn request(language: &str) -> p::DeskCommand {
    p::DeskCommand::RequestInterpreter {
        language: language.to_string(),
        modality: None,
        speciality: None,
        urgent: false,
        preferred_interpreter: None,
    }
}

/// The offer an interpreter is rung with.
pub fn offer_of(event: &p::InterpreterEvent) -> Option<u64> {
    match event {
        p::InterpreterEvent::Offer { offer, .. } => Some(*offer),
        _ => None,
    }
}

/// The call a desk's request became.
pub fn assigned_call(event: &p::DeskEvent) -> Option<u64> {
    match event {
        p::DeskEvent::Assigned { call, .. } => Some(*call),
        _ => None,
    }
}

/// The token of an invite link (`…/join/<token>`).
pub fn invite_token(event: &p::DeskEvent) -> Option<String> {
    match event {
        p::DeskEvent::Invite { url, .. } => url.rsplit('/').next().map(str::to_string),
        _ => None,
    }
}

/// The next event within `wait`: `None` if none came; an error if the connection is gone.
pub async fn next_event<R: Role>(s: &mut Signal<R>, wait: Duration) -> Result<Option<R::Event>, LoadError> {
    match s.recv(wait).await {
        Ok(e) => Ok(Some(e.event)),
        Err(ClientError::Timeout) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Drop the connection and come back with its resume token after `pause`; the session
/// must resume.
pub async fn reconnect<R: Role>(
    s: Signal<R>,
    url: &str,
    credential: p::Credential,
    pause: Duration,
) -> Result<Signal<R>, LoadError> {
    let resume = s.resume_point();
    s.close().await;
    tokio::time::sleep(pause).await;
    let s = Signal::<R>::connect(url, credential, Some(resume)).await?;
    if !s.welcome.resumed {
        return Err(LoadError::Check(format!("a session did not resume: {:?}", s.welcome)));
    }
    Ok(s)
}

/// An interpreter (signed in with `interpreter`'s session) made available, a desk (its
/// `desk` token) asking for Vietnamese, the offer accepted: both connections, the call,
/// and when the offer was accepted.
pub async fn answered(
    ws: &str,
    desk: String,
    interpreter: String,
    wait: Duration,
) -> Result<(Signal<Desk>, Signal<Interpreter>, u64, std::time::Instant), LoadError> {
    let mut i = Signal::<Interpreter>::connect(ws, p::Credential::Session(interpreter), None).await?;
    i.send(&p::InterpreterCommand::SetAvailability { availability: p::Availability::Available }).await?;
    i.expect(wait, |e| matches!(e, p::InterpreterEvent::Presence { .. }).then_some(()), |_| {}).await?;
    let mut d = Signal::<Desk>::connect(ws, p::Credential::DeskToken(desk), None).await?;
    d.send(&request("vi")).await?;
    let offer = i.expect(wait, offer_of, |_| {}).await?;
    let accepted = std::time::Instant::now();
    i.send(&p::InterpreterCommand::Accept { offer }).await?;
    let call = d.expect(wait, assigned_call, |_| {}).await?;
    i.expect(wait, |e| matches!(e, p::InterpreterEvent::Assigned { .. }).then_some(()), |_| {}).await?;
    Ok((d, i, call, accepted))
}

/// Wait for every simulated person's task: what each one that failed said.
pub async fn failures(tasks: Vec<tokio::task::JoinHandle<Result<(), LoadError>>>) -> Vec<String> {
    let mut failures = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e.to_string()),
            Err(e) => failures.push(e.to_string()),
        }
    }
    failures
}

/// An error when any simulated person failed: how many, and what the first said.
pub fn none_failed(failures: &[String]) -> Result<(), LoadError> {
    match failures.first() {
        Some(first) => {
            let last = failures.last().unwrap_or(first);
            Err(LoadError::Check(format!("{} simulated people failed; first: {first}; last: {last}", failures.len())))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_links_token_is_its_last_segment() {
        let event = p::DeskEvent::Invite {
            call: 1,
            party: p::Party::Resident,
            url: "https://kakehashi.example/join/abc123".into(),
            qr_svg: String::new(),
            expires_at: String::new(),
        };
        assert_eq!(invite_token(&event).as_deref(), Some("abc123"));
        assert_eq!(assigned_call(&event), None);
    }
}
