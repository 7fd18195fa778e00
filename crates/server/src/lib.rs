//! The kakehashi server: HTTP and WebSocket signalling, the dispatch engine, records and
//! metrics in one process. `kakehashi serve` runs it (see `main.rs`).

pub mod api;
pub mod app;
pub mod auth;
pub mod clients;
pub mod config;
pub mod demo;
pub mod directory;
pub mod hub;
pub mod listener;
pub mod media;
pub mod metrics;
pub mod policy;
pub mod serve;
pub mod store;
pub mod turn;
pub mod web;
