//! Integration tests of the dispatch engine: one test binary for the crate.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;
mod properties;
mod scenarios;
mod schedules;
mod simulation;
mod snapshots;
mod views;
