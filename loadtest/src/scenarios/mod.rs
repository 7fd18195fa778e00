//! The scenarios.

pub mod idle;
pub mod media;
pub mod storm;
