//! The protocol crate's tests, one binary: the committed schema, parsing and refusals,
//! and every event's round trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod round_trip;
mod schema;
