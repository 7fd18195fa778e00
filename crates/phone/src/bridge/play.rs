//! Sound played to a phone, paced by its leg's clock, and keys waited for: a key cuts a
//! prompt short (callers who know the PIN need not wait for the words).

use std::time::Duration;

use crate::gateway::Answered;
use crate::leg::Heard;
use crate::prompts::frames;

/// How playing (or waiting) ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Played {
    /// To its end (or the wait ran out).
    Done,
    /// A key was pressed.
    Key(char),
    /// The phone hung up or the line died.
    Gone,
}

/// Play `sound`; a key stops it.
pub(super) async fn play(call: &mut Answered, sound: &[i16]) -> Played {
    frames_to(call, sound, true).await
}

/// Play `sound` whole: keys pressed meanwhile are ignored.
pub(super) async fn play_through(call: &mut Answered, sound: &[i16]) -> Played {
    frames_to(call, sound, false).await
}

async fn frames_to(call: &mut Answered, sound: &[i16], keys_stop: bool) -> Played {
    for frame in frames(sound) {
        // The leg takes one frame per 20 ms: a full queue waits for it (reserved first,
        // so a frame is never lost to what the phone says meanwhile).
        loop {
            tokio::select! {
                permit = call.say.reserve() => {
                    let Ok(permit) = permit else { return Played::Gone };
                    permit.send(frame);
                    break;
                }
                heard = call.heard.recv() => match heard {
                    Some(Heard::Key(k)) if keys_stop => return Played::Key(k),
                    Some(Heard::Key(_) | Heard::Frame(_)) => {}
                    Some(Heard::NoMedia) | None => return Played::Gone,
                },
            }
        }
    }
    Played::Done
}

/// Wait up to `wait` for a key.
pub(super) async fn key(call: &mut Answered, wait: Duration) -> Played {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, call.heard.recv()).await {
            Err(_) => return Played::Done,
            Ok(Some(Heard::Key(k))) => return Played::Key(k),
            Ok(Some(Heard::Frame(_))) => {}
            Ok(Some(Heard::NoMedia) | None) => return Played::Gone,
        }
    }
}
