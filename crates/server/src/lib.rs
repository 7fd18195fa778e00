//! The kakehashi server: HTTP and WebSocket signalling, the dispatch engine, records and
//! metrics in one process. `kakehashi serve` runs it (see `main.rs`).

pub mod auth;
pub mod config;
pub mod directory;
pub mod store;
