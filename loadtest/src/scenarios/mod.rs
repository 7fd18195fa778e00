//! The scenarios.

pub mod calls;
pub mod endure;
pub mod failover;
pub mod idle;
pub mod media;
pub mod phone_mix;
pub mod phone_rate;
pub mod rate;
pub mod storm;
