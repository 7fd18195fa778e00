//! What a phone leg costs the bridge's media work: N three-party calls, each with one
//! phone and two browsers, every 20 ms tick: the phone's G.711 decoded, both browsers'
//! Opus decoded (once per call), the N−1 mix, the mix encoded to G.711 for the phone, and
//! the phone's voice encoded to Opus for the call. No sockets: this is the transcoding
//! and mixing alone, the part that decides how many phone legs a core carries.
//!
//! ```sh
//! cargo run --release -p kakehashi-phone --example mix_bench -- 150 500
//! ```
//! Arguments: calls (150), ticks (500, i.e. 10 s of audio). Prints one JSON line.

#![allow(clippy::print_stdout)]

use std::time::Instant;

use kakehashi_phone::callmix::CallMix;
use kakehashi_phone::g711::Law;
use kakehashi_phone::opus::Voice;
use kakehashi_phone::tone::tone;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let calls = args.first().copied().unwrap_or(150) as usize;
    let ticks = args.get(1).copied().unwrap_or(500);
    // What arrives, prepared beforehand: 50 frames of each browser's Opus (as a
    // browser's encoder would send them) and of the phone's G.711, replayed in a loop.
    let (mut a, mut b) = (Voice::new()?, Voice::new()?);
    let browser_a: Vec<Vec<u8>> = (0..50).map(|n| a.encode(&tone(440.0, n))).collect::<Result<_, _>>()?;
    let browser_b: Vec<Vec<u8>> = (0..50).map(|n| b.encode(&tone(660.0, n))).collect::<Result<_, _>>()?;
    let phone: Vec<Vec<u8>> = (0..50)
        .map(|n| {
            let mut bytes = Vec::new();
            Law::Mu.encode(&tone(1000.0, n), &mut bytes);
            bytes
        })
        .collect();
    let mut mixes: Vec<CallMix> = (0..calls)
        .map(|_| {
            let mut m = CallMix::default();
            m.phone_joined(3).map(|()| m)
        })
        .collect::<Result<_, _>>()?;
    let (mut pcm, mut out) = (Vec::new(), Vec::new());
    let mut busiest = std::time::Duration::ZERO;
    let mut published = 0u64;
    let started = Instant::now();
    for t in 0..ticks {
        let tick = Instant::now();
        let k = (t % 50) as usize;
        for m in &mut mixes {
            m.remote_packet(1, t as u16, browser_a[k].clone())?;
            m.remote_packet(2, t as u16, browser_b[k].clone())?;
            Law::Mu.decode(&phone[k], &mut pcm);
            m.phone_said(3, pcm.clone());
            let produced = m.tick();
            for (_, frame) in &produced.to_phones {
                Law::Mu.encode(frame, &mut out);
            }
            published += produced.published.len() as u64;
        }
        busiest = busiest.max(tick.elapsed());
    }
    let elapsed = started.elapsed();
    let per_leg_tick_us = elapsed.as_secs_f64() * 1e6 / (f64::from(ticks) * calls as f64);
    println!(
        "{}",
        serde_like(&[
            ("calls", calls.to_string()),
            ("phone_legs", calls.to_string()),
            ("ticks", ticks.to_string()),
            ("us_per_phone_leg_per_20ms", format!("{per_leg_tick_us:.1}")),
            ("phone_legs_per_core", format!("{:.0}", 20_000.0 / per_leg_tick_us)),
            ("busiest_tick_ms", format!("{:.2}", busiest.as_secs_f64() * 1e3)),
            ("tick_budget_ms", "20".into()),
            ("opus_packets_published", published.to_string()),
        ])
    );
    Ok(())
}

/// One line of JSON from plain pairs (the example needs no serde).
fn serde_like(pairs: &[(&str, String)]) -> String {
    let body: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", body.join(","))
}
