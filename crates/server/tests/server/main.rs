//! The server end to end, one test binary: typed clients (the client crate) and plain HTTP
//! against `kakehashi` on 127.0.0.1, port 0, with its store in a temporary directory; the
//! binary as a child process where a crash or a signal is the point; `webrtc` participants
//! for media. Topics: a request's life, people who join from links, resumes, the admin
//! API and pages, the operator's routes, media, the relay's task alone, shutdown, and what an
//! attack found.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

mod admin;
mod bookings;
mod calendar;
mod centres;
mod cluster_edges;
mod cluster_failover;
mod cluster_lease;
mod cluster_media;
mod cluster_nodes;
mod cluster_orders;
mod dashboard;
mod deploy_files;
mod hardening;
mod lifecycle;
mod links;
mod media;
mod media_support;
mod notes;
mod notices;
mod operator;
mod phone_baresip;
mod phone_bridge;
mod phone_interpreters;
mod phone_lines;
mod phone_seats;
mod postgres_support;
mod prometheus_support;
mod records;
mod redis_support;
mod relay_task;
mod reports;
mod reports_monthly;
mod reports_plan;
mod resume;
mod retention;
mod rosters;
mod second_factor;
mod shutdown;
mod store_restart;
mod support;
