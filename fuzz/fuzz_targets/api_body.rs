//! Any bytes as an admin API body: the directory's routing policy and roster documents
//! parse and validate, or are refused with a message naming the field; never a panic.
#![no_main]

use kakehashi::directory::{PolicyDoc, RosterDoc};
use kakehashi::http::body::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = parse::<PolicyDoc>(data)
        && let Err(e) = doc.to_policy()
    {
        assert!(e.field.starts_with("policy"));
    }
    if let Ok(doc) = parse::<RosterDoc>(data)
        && let Err(e) = doc.to_roster()
    {
        assert!(e.field.starts_with("roster"));
    }
});
