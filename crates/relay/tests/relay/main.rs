//! The relay's integration tests, in one binary: on simulated time with `rtc` clients
//! (`simulated`), and over loopback UDP with `webrtc` clients (`loopback`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod flood;
mod loopback;
mod offers;
mod simulated;
