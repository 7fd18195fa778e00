//! The SDP path: whatever a client sends as its offer, the relay answers it or refuses it
//! with a reason, and never panics. A real Chromium offer (`fixtures/chromium-offer.sdp`,
//! audio and video, with mDNS candidates) is accepted; mutations of it (lines dropped,
//! repeated or garbled, the text cut short) and arbitrary text are either accepted or
//! refused. The long run of the same is the `sdp` fuzz target (`fuzz/`).

use std::net::SocketAddr;
use std::time::Instant;

use kakehashi_relay::{OsRandom, Relay, SessionId, Start};
use proptest::prelude::*;

const CHROMIUM: &str = include_str!("../fixtures/chromium-offer.sdp");

fn relay() -> Relay {
    let local = SocketAddr::from(([127, 0, 0, 1], 3478));
    Relay::new(local, local, Start::system(), Box::new(OsRandom))
}

/// Offer `sdp`; an answer must be SDP, a refusal must say why.
fn offer(sdp: String) -> Result<(), TestCaseError> {
    match relay().accept_offer(Instant::now(), SessionId(1), 1, sdp) {
        Ok((_, answer)) => prop_assert!(answer.starts_with("v=0"), "{answer}"),
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

#[test]
fn a_real_chromium_offer_is_answered() {
    let (_, answer) = relay().accept_offer(Instant::now(), SessionId(1), 1, CHROMIUM.to_string()).unwrap();
    assert!(answer.contains("a=ice-lite") && answer.contains("m=audio") && answer.contains("m=video"), "{answer}");
}

#[test]
fn an_offer_without_a_common_video_codec_gets_audio_and_the_refusal_is_named() {
    // Only codecs the relay does not forward: VP9, AV1 and two made-up names.
    let offer = CHROMIUM.replace("VP8/90000", "VP7/90000").replace("H264/90000", "H265/90000");
    let (_, answer) = relay().accept_offer(Instant::now(), SessionId(1), 1, offer.clone()).unwrap();
    assert_eq!(kakehashi_relay::codec::refused_kinds(&offer, &answer), vec!["video"], "{answer}");
    assert!(kakehashi_relay::codec::refused_kinds(CHROMIUM, &answer).contains(&"video"));
    let (_, answer) = relay().accept_offer(Instant::now(), SessionId(1), 1, CHROMIUM.to_string()).unwrap();
    assert!(kakehashi_relay::codec::refused_kinds(CHROMIUM, &answer).is_empty());
}

/// One way to spoil an offer.
#[derive(Debug, Clone)]
enum Mutation {
    Drop(usize),
    Repeat(usize),
    Garble(usize, String),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Drop),
        any::<usize>().prop_map(Mutation::Repeat),
        (any::<usize>(), "\\PC{0,40}").prop_map(|(i, s)| Mutation::Garble(i, s)),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn spoil(mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = CHROMIUM.split("\r\n").map(str::to_string).collect();
    for m in mutations {
        let n = lines.len().max(1);
        match m {
            Mutation::Drop(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::Repeat(i) if !lines.is_empty() => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::Garble(i, s) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                let keep = line.char_indices().nth(line.chars().count() / 2).map_or(0, |(b, _)| b);
                line.truncate(keep);
                line.push_str(s);
            }
            Mutation::Cut(i) => {
                let text = lines.join("\r\n");
                let at = text.char_indices().nth(i % text.chars().count().max(1)).map_or(0, |(b, _)| b);
                lines = text[..at].split("\r\n").map(str::to_string).collect();
            }
            _ => {}
        }
    }
    lines.join("\r\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_text_is_answered_or_refused(s in "\\PC{0,400}") {
        offer(s)?;
    }

    #[test]
    fn a_spoiled_chromium_offer_is_answered_or_refused(mutations in proptest::collection::vec(mutation(), 1..6)) {
        offer(spoil(&mutations))?;
    }
}
