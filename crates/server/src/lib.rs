//! The kakehashi server: HTTP and WebSocket signalling, the call core and the dispatch
//! engine, the media relay's task, records and metrics in one process. `kakehashi serve`
//! runs it (see `main.rs` and [`serve`]).
//!
//! Layers, imports running one way: the edge ([`http`], [`ws`]) reaches the writer only
//! through the router ([`cluster`]); the writer ([`hub`]) drives the sans-I/O call core
//! ([`calls`], which owns the dispatch engine) and tells the relay's task ([`media`]) what
//! to do; [`store`] holds every SQL statement and is called, never calls up.

pub mod app;
pub mod auth;
pub mod bookings;
pub mod calendar;
pub mod calls;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod directory;
pub mod fields;
pub mod http;
pub mod hub;
pub mod listener;
pub mod media;
pub mod metrics;
pub mod notes;
pub mod phone;
pub mod pii;
pub mod problem;
pub mod relay_start;
pub mod reports;
pub mod retention;
pub mod serve;
pub mod store;
pub mod turn;
pub mod ws;
